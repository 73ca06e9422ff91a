//! A plugin that answers whatever the test asks, so that `tests/e2e/attacks_apps.rs` can send
//! every plugin-controlled string through the core: `/vue?vue=JSON` (a view as given),
//! `/redirection?vers=P`, `/brut?corps=B&nom=N&type=ics|atom|csv`, `/fichier?chemin=P&type=T&
//! contenu=C&pour=U` (a stored file), `/telecharger?chemin=P`, `/notifier?pour=U&titre=T&
//! corps=B&lien=L`, `/echec?statut=S&message=M`; any other path shows what reached the plugin
//! (method, path, query, form, uploads, user). Its widget renders `user-text` with a script.

wit_bindgen::generate!({
    path: "../../../plugin-sdk/wit",
    world: "plugin",
});

use exports::preau::plugin::events::{self, Event};
use exports::preau::plugin::handler::{self, Failure, Request, Response};
use exports::preau::plugin::user_data::{self, SubjectRequest};
use exports::preau::plugin::widgets::{self, WidgetRequest};
use preau::plugin::{files, notifications};

struct Echo;

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

fn param<'a>(req: &'a Request, name: &str) -> &'a str {
    req.query
        .iter()
        .chain(req.form.iter())
        .find(|(k, _)| k == name)
        .map_or("", |(_, v)| v.as_str())
}

impl handler::Guest for Echo {
    fn handle(req: Request) -> Result<Response, Failure> {
        let answer = match req.path.as_str() {
            "/vue" => Response::View(param(&req, "vue").to_owned()),
            "/redirection" => Response::Redirect(param(&req, "vers").to_owned()),
            "/brut" => Response::Raw(handler::RawAnswer {
                kind: match param(&req, "type") {
                    "atom" => handler::RawKind::Atom,
                    "csv" => handler::RawKind::Csv,
                    _ => handler::RawKind::Calendar,
                },
                body: param(&req, "corps").to_owned(),
                filename: Some(param(&req, "nom"))
                    .filter(|n| !n.is_empty())
                    .map(str::to_owned),
            }),
            "/fichier" => {
                let subjects: Vec<String> = Some(param(&req, "pour"))
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .into_iter()
                    .collect();
                let written = files::create(param(&req, "chemin"), param(&req, "type"), &subjects)
                    .and_then(|up| {
                        up.write(param(&req, "contenu").as_bytes())?;
                        files::Upload::finish(up)
                    });
                Response::View(view(
                    "Fichier",
                    &[format!("écrit : {:?}", written.map(|m| m.path))],
                ))
            }
            "/telecharger" => Response::Download(param(&req, "chemin").to_owned()),
            "/notifier" => {
                let link = Some(param(&req, "lien"))
                    .filter(|l| !l.is_empty())
                    .map(str::to_owned);
                let sent = notifications::notify(&notifications::Notification {
                    recipients: vec![param(&req, "pour").to_owned()],
                    title: param(&req, "titre").to_owned(),
                    body: param(&req, "corps").to_owned(),
                    link,
                });
                Response::View(view("Notifier", &[format!("notifié : {sent:?}")]))
            }
            "/echec" => {
                return Err(Failure {
                    status: param(&req, "statut").parse().unwrap_or(400),
                    message: param(&req, "message").to_owned(),
                });
            }
            _ => {
                let mut lines = vec![
                    format!("method={}", req.method),
                    format!("path={}", req.path),
                    format!("user={}", req.user.clone().unwrap_or_default()),
                    format!("establishment={}", req.establishment),
                ];
                for (k, v) in &req.query {
                    lines.push(format!("query {k}={v}"));
                }
                for (k, v) in &req.form {
                    lines.push(format!("form {k}={v}"));
                }
                for u in &req.uploads {
                    lines.push(format!("upload {} {} {}", u.field, u.path, u.content_type));
                }
                Response::View(view("Écho", &lines))
            }
        };
        Ok(answer)
    }
}

impl widgets::Guest for Echo {
    fn render(_: WidgetRequest) -> Result<String, Failure> {
        Ok(r#"{"schema":"view/1.0","title":"W","body":[{"kind":"user-text","html":"<img src=x onerror=alert(1)><script>alert(2)</script>propre"},{"kind":"link","label":"sortie","href":"/sortie"}]}"#.to_owned())
    }
}

impl events::Guest for Echo {
    fn handle(_: Event) -> Result<(), Failure> {
        Ok(())
    }
}

impl user_data::Guest for Echo {
    fn export(_: SubjectRequest) -> Result<String, Failure> {
        Ok("{}".into())
    }

    fn delete(_: SubjectRequest) -> Result<(), Failure> {
        Ok(())
    }
}

export!(Echo);
