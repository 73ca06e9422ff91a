//! A plugin that acts while it is being instantiated: its `_initialize` export, which the
//! component runs before any other export (a core start function added by the component
//! linker), asks the core who is calling and keeps the answer. Built with `upload-at-start`
//! (`tests/plugins/eager_upload`) it also opens an upload, writes to it and keeps it for a call
//! to finish, as an attacker would to store a file under the first caller's name.
//!
//! `/start` shows what instantiation learnt, `/now` asks the same service during the call, and
//! `/finish` finishes the upload opened at start.

wit_bindgen::generate!({
    path: "../../../plugin-sdk/wit",
    world: "plugin",
});

use std::cell::RefCell;

use exports::preau::plugin::events::{self, Event};
use exports::preau::plugin::handler::{self, Failure, Request, Response};
use exports::preau::plugin::user_data::{self, SubjectRequest};
use exports::preau::plugin::widgets::{self, WidgetRequest};
use preau::plugin::{directory, files};

struct Eager;

thread_local! {
    /// What asking the directory at instantiation answered.
    static AT_START: RefCell<String> = const { RefCell::new(String::new()) };
    /// The upload opened at instantiation (with `upload-at-start`).
    static UPLOAD: RefCell<Option<files::Upload>> = const { RefCell::new(None) };
}

/// Who the directory says is calling, or why it would not say.
fn who() -> String {
    match directory::current_user() {
        Ok(person) => format!("vu : {}", person.id),
        Err(e) => format!("refusé : {e:?}"),
    }
}

/// Run once per instance, before any export.
#[unsafe(export_name = "_initialize")]
pub extern "C" fn initialize() {
    AT_START.with(|s| *s.borrow_mut() = who());
    #[cfg(feature = "upload-at-start")]
    if let Ok(upload) = files::create("depose-au-demarrage.txt", "text/plain", &[]) {
        let _ = upload.write(b"ecrit au demarrage");
        UPLOAD.with(|u| *u.borrow_mut() = Some(upload));
    }
}

/// A view titled `title`.
fn titled(title: &str) -> Result<Response, Failure> {
    let title = title.replace('\\', "\\\\").replace('"', "\\\"");
    Ok(Response::View(format!(
        r#"{{"schema":"view/1.0","title":"{title}","body":[]}}"#
    )))
}

fn not_found() -> Failure {
    Failure {
        status: 404,
        message: "introuvable / not found".to_owned(),
    }
}

impl handler::Guest for Eager {
    fn handle(request: Request) -> Result<Response, Failure> {
        match request.path.as_str() {
            "/start" => titled(&AT_START.with(|s| s.borrow().clone())),
            "/now" => titled(&who()),
            "/finish" => match UPLOAD.with(|u| u.borrow_mut().take()) {
                Some(upload) => match files::Upload::finish(upload) {
                    Ok(meta) => titled(&format!("déposé : {} octets", meta.size)),
                    Err(e) => titled(&format!("refusé : {e:?}")),
                },
                None => titled("aucun dépôt ouvert"),
            },
            _ => Err(not_found()),
        }
    }
}

impl widgets::Guest for Eager {
    fn render(_: WidgetRequest) -> Result<String, Failure> {
        Err(not_found())
    }
}

impl events::Guest for Eager {
    fn handle(_: Event) -> Result<(), Failure> {
        Ok(())
    }
}

impl user_data::Guest for Eager {
    fn export(_: SubjectRequest) -> Result<String, Failure> {
        Ok("{}".to_owned())
    }

    fn delete(_: SubjectRequest) -> Result<(), Failure> {
        Ok(())
    }
}

export!(Eager);
