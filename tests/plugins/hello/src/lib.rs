//! A well-behaved plugin: answers every path with a small view naming the path, and a few
//! routes that show what the core's services answered (`/api/clock`, `/api/calendar`,
//! `/api/directory`, `/api/rights`); it renders a widget, greets new accounts (an event) and
//! exports and deletes a person's data.

wit_bindgen::generate!({
    path: "../../../plugin-sdk/wit",
    world: "plugin",
});

use exports::preau::plugin::events::{self, Event};
use exports::preau::plugin::handler::{self, Failure, Request, Response};
use exports::preau::plugin::user_data::{self, SubjectRequest};
use exports::preau::plugin::widgets::{self, WidgetRequest};
use preau::plugin::{calendar, clock, directory, notifications, rights};

struct Hello;

/// `s` as a JSON string.
fn json(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A view: a title and one text node per line.
fn view(title: &str, lines: &[String]) -> String {
    let body: Vec<String> = lines
        .iter()
        .map(|l| format!(r#"{{"kind":"text","text":{}}}"#, json(l)))
        .collect();
    format!(
        r#"{{"schema":"view/1.0","title":{},"body":[{}]}}"#,
        json(title),
        body.join(",")
    )
}

fn shown<T: std::fmt::Debug, E: std::fmt::Debug>(r: &Result<T, E>) -> String {
    format!("{r:?}")
}

fn calendar_lines() -> Vec<String> {
    let mut lines = Vec::new();
    match calendar::school_year_of(None) {
        Ok(y) => lines.push(format!("année {} du {} au {}", y.label, y.start, y.end)),
        Err(e) => lines.push(format!("année : {e:?}")),
    }
    if let Ok(periods) = calendar::periods(None) {
        for p in periods {
            lines.push(format!(
                "période {} / {} : {} → {}",
                p.name, p.name_en, p.start, p.end
            ));
        }
    }
    if let Ok(holidays) = calendar::holidays(Some("2026-11-30")) {
        for h in holidays {
            lines.push(format!("vacances {} : {} → {}", h.name, h.start, h.end));
        }
    }
    lines.push(format!(
        "après le 2026-11-27 : {}",
        shown(&calendar::next_school_day("2026-11-27"))
    ));
    lines.push(format!(
        "le 2026-11-28 : {}",
        shown(&calendar::is_school_day("2026-11-28"))
    ));
    lines.push(format!(
        "date invalide : {}",
        shown(&calendar::school_year_of(Some("2026-02-30")))
    ));
    lines
}

fn directory_lines() -> Vec<String> {
    let mut lines = Vec::new();
    match directory::current_user() {
        Ok(me) => lines.push(format!(
            "moi : {} {} {:?}",
            me.id, me.display_name, me.profiles
        )),
        Err(e) => lines.push(format!("moi : {e:?}")),
    }
    let classes = directory::classes().unwrap_or_default();
    for c in &classes {
        lines.push(format!("classe {} ({})", c.name, c.code));
    }
    for g in directory::groups().unwrap_or_default() {
        lines.push(format!("groupe {}", g.name));
    }
    for child in directory::children().unwrap_or_default() {
        lines.push(format!("enfant {}", child.display_name));
    }
    for t in directory::teachings().unwrap_or_default() {
        lines.push(format!(
            "enseigne {} en {}",
            t.subject.name, t.class_group.name
        ));
    }
    if let Some(first) = classes.first() {
        for m in directory::members(&first.id).unwrap_or_default() {
            lines.push(format!("membre {}", m.display_name));
        }
    }
    lines.push(format!(
        "inconnu : {}",
        shown(&directory::members("nulle-part"))
    ));
    lines
}

impl handler::Guest for Hello {
    fn handle(req: Request) -> Result<Response, Failure> {
        let answer = match req.path.as_str() {
            "/api/clock" => view(
                "Horloge",
                &[
                    format!("maintenant {}", clock::now()),
                    format!("aujourd'hui {}", clock::today()),
                ],
            ),
            "/api/calendar" => view("Calendrier", &calendar_lines()),
            "/api/directory" => view("Annuaire", &directory_lines()),
            "/api/rights" => view(
                "Droits",
                &[
                    format!("saisir {}", rights::holds("devoirs.saisir")),
                    format!("supprimer {}", rights::holds("devoirs.supprimer")),
                    format!("écrire {}", rights::may_write_to("u-parent")),
                ],
            ),
            path => view(&format!("Bonjour {path}"), &[]),
        };
        Ok(Response::View(answer))
    }
}

impl widgets::Guest for Hello {
    fn render(req: WidgetRequest) -> Result<String, Failure> {
        match req.widget.as_str() {
            "aujourd-hui" => Ok(view(
                "Aujourd'hui",
                &[format!(
                    "{} pour {}",
                    clock::today(),
                    req.user.unwrap_or_default()
                )],
            )),
            _ => Err(Failure {
                status: 404,
                message: "widget inconnu / unknown widget".into(),
            }),
        }
    }
}

impl events::Guest for Hello {
    fn handle(ev: Event) -> Result<(), Failure> {
        match (ev.kind.as_str(), ev.subject) {
            ("account.created", Some(subject)) => {
                notifications::notify(&notifications::Notification {
                    recipients: vec![subject],
                    title: "Bienvenue".into(),
                    body: ev.payload,
                    link: Some("/".into()),
                })
                .map_err(|e| Failure {
                    status: 500,
                    message: format!("{e:?}"),
                })
            }
            // Kinds this plugin does not use.
            _ => Ok(()),
        }
    }
}

impl user_data::Guest for Hello {
    fn export(req: SubjectRequest) -> Result<String, Failure> {
        Ok(format!(
            r#"{{"subject":{},"establishment":{},"préférences":{{"couleur":"bleu"}}}}"#,
            json(&req.subject),
            json(&req.establishment)
        ))
    }

    fn delete(req: SubjectRequest) -> Result<(), Failure> {
        if req.subject == "refuse" {
            return Err(Failure {
                status: 409,
                message: "pas maintenant / not now".into(),
            });
        }
        Ok(())
    }
}

export!(Hello);
