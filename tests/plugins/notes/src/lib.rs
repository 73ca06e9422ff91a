//! A plugin that keeps notes and files, to test the core's side of the plugin API
//! (`tests/e2e/services.rs`): `/notes/ecrire` and `/notes` (documents, a French-ordered index),
//! `/fichiers/ecrire` and `/fichiers` (files), `/api/members?id=` (the directory's visibility
//! rule), `/notifier?pour=&titre=` (a notification as the current user). Every other export
//! answers trivially.

wit_bindgen::generate!({
    path: "../../../plugin-sdk/wit",
    world: "plugin",
});

use exports::preau::plugin::events::{self, Event};
use exports::preau::plugin::handler::{self, Failure, Request, Response};
use exports::preau::plugin::user_data::{self, SubjectRequest};
use exports::preau::plugin::widgets::{self, WidgetRequest};
use preau::plugin::{directory, documents, files, notifications};

struct Notes;

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

/// The value of query parameter `name` (empty when absent).
fn param<'a>(req: &'a Request, name: &str) -> &'a str {
    req.query
        .iter()
        .chain(req.form.iter())
        .find(|(k, _)| k == name)
        .map_or("", |(_, v)| v.as_str())
}

/// `/notes/ecrire?cle=K&titre=T&pour=U`: creates a note (refused if it exists);
/// `/notes`: the notes by title (French order), then a missing one.
fn notes(req: &Request) -> Vec<String> {
    if req.path == "/notes/ecrire" {
        let body = format!(r#"{{"titre":{}}}"#, json(param(req, "titre")));
        let subjects: Vec<String> = Some(param(req, "pour"))
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .into_iter()
            .collect();
        let put = documents::WriteOp::Put(documents::PutOp {
            collection: "notes".into(),
            key: param(req, "cle").into(),
            body,
            subjects,
            precondition: Some(documents::Precondition::Absent),
        });
        return vec![format!("écrit : {}", shown(&documents::commit(&[put])))];
    }
    let selection = documents::Selection {
        collection: "notes".into(),
        index: Some("par-titre".into()),
        equals: vec![],
        lower: documents::Bound::Unbounded,
        upper: documents::Bound::Unbounded,
        descending: false,
        limit: Some(50),
        cursor: None,
    };
    let mut lines = Vec::new();
    match documents::query(&selection) {
        Ok(page) => {
            for d in page.documents {
                lines.push(format!("note {} {}", d.key, d.body));
            }
        }
        Err(e) => lines.push(format!("requête : {e:?}")),
    }
    lines.push(format!(
        "absente : {}",
        shown(&documents::get("notes", "absente"))
    ));
    lines.push(format!(
        "non déclarée : {}",
        shown(&documents::get("secrets", "x"))
    ));
    lines
}

/// `/fichiers/ecrire?chemin=P&contenu=C`, `/fichiers`: list, read back, usage.
fn files_lines(req: &Request) -> Vec<String> {
    if req.path == "/fichiers/ecrire" {
        let written = files::create(param(req, "chemin"), "text/plain", &[]).and_then(|up| {
            up.write(param(req, "contenu").as_bytes())?;
            files::Upload::finish(up)
        });
        return vec![format!(
            "écrit : {}",
            shown(&written.map(|m| (m.path, m.size)))
        )];
    }
    let mut lines = Vec::new();
    for m in files::list("", None, 50).unwrap_or_default() {
        let content = files::open(&m.path)
            .and_then(|(_, download)| download.read(1024))
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned());
        lines.push(format!("fichier {} {} {}", m.path, m.size, shown(&content)));
    }
    lines.push(format!(
        "usage : {}",
        shown(&files::usage().map(|u| (u.bytes, u.files)))
    ));
    lines.push(format!("évasion : {}", shown(&files::stat("../../etc/passwd"))));
    lines
}

impl handler::Guest for Notes {
    fn handle(req: Request) -> Result<Response, Failure> {
        let answer = match req.path.as_str() {
            "/api/members" => view(
                "Membres",
                &[shown(
                    &directory::members(param(&req, "id"))
                        .map(|m| m.into_iter().map(|p| p.display_name).collect::<Vec<_>>()),
                )],
            ),
            "/notes" | "/notes/ecrire" => view("Notes", &notes(&req)),
            "/fichiers" | "/fichiers/ecrire" => view("Fichiers", &files_lines(&req)),
            // Raw answers: an iCal feed of the notes, a CSV export; a stored file.
            "/flux.ics" => {
                let mut ics = String::from("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//essai//notes//FR\r\n");
                ics.push_str(&format!("X-WR-CALNAME:notes de {}\r\n", req.user.clone().unwrap_or_default()));
                ics.push_str("END:VCALENDAR\r\n");
                return Ok(Response::Raw(handler::RawAnswer {
                    kind: handler::RawKind::Calendar,
                    body: ics,
                    filename: None,
                }));
            }
            "/export.csv" => {
                return Ok(Response::Raw(handler::RawAnswer {
                    kind: handler::RawKind::Csv,
                    body: "cle;titre\r\na;b\r\n".into(),
                    filename: Some("notes.csv".into()),
                }));
            }
            "/telecharger" => return Ok(Response::Download(param(&req, "chemin").to_owned())),
            // `/notifier?pour=U&titre=T`: notifies U as the current user.
            "/notifier" => view(
                "Notifier",
                &[format!(
                    "notifié : {}",
                    shown(&notifications::notify(&notifications::Notification {
                        recipients: vec![param(&req, "pour").to_owned()],
                        title: param(&req, "titre").to_owned(),
                        body: "Un mot du service de notes.".into(),
                        link: Some("/notes".into()),
                    }))
                )],
            ),
            _ => {
                return Err(Failure {
                    status: 404,
                    message: "page inconnue / unknown page".into(),
                });
            }
        };
        Ok(Response::View(answer))
    }
}

impl widgets::Guest for Notes {
    fn render(_: WidgetRequest) -> Result<String, Failure> {
        Err(Failure {
            status: 404,
            message: "pas de widget / no widget".into(),
        })
    }
}

impl events::Guest for Notes {
    fn handle(_: Event) -> Result<(), Failure> {
        Ok(())
    }
}

impl user_data::Guest for Notes {
    fn export(_: SubjectRequest) -> Result<String, Failure> {
        // Everything it keeps is in documents and files, which the core exports itself.
        Ok("{}".into())
    }

    fn delete(_: SubjectRequest) -> Result<(), Failure> {
        Ok(())
    }
}

export!(Notes);
