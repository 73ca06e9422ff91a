//! The smallest plugin: every route answers one fixed view, and nothing of the plugin API is
//! imported. What `core/preau-host/benches/calls.rs` measures as the "trivial handler".

wit_bindgen::generate!({
    path: "../../../plugin-sdk/wit",
    world: "plugin",
});

use exports::preau::plugin::events::{self, Event};
use exports::preau::plugin::handler::{self, Failure, Request, Response};
use exports::preau::plugin::user_data::{self, SubjectRequest};
use exports::preau::plugin::widgets::{self, WidgetRequest};

struct Trivial;

const VIEW: &str = r#"{"schema":"view/1.0","title":"Bonjour","body":[{"kind":"text","text":"Bonjour !"}]}"#;

impl handler::Guest for Trivial {
    fn handle(_: Request) -> Result<Response, Failure> {
        Ok(Response::View(VIEW.to_owned()))
    }
}

impl widgets::Guest for Trivial {
    fn render(_: WidgetRequest) -> Result<String, Failure> {
        Ok(VIEW.to_owned())
    }
}

impl events::Guest for Trivial {
    fn handle(_: Event) -> Result<(), Failure> {
        Ok(())
    }
}

impl user_data::Guest for Trivial {
    fn export(_: SubjectRequest) -> Result<String, Failure> {
        Ok("{}".to_owned())
    }

    fn delete(_: SubjectRequest) -> Result<(), Failure> {
        Ok(())
    }
}

export!(Trivial);
