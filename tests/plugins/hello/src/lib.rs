//! A well-behaved plugin: answers every path with a small view naming the path.

wit_bindgen::generate!({
    path: "../../../plugin-sdk/wit",
    world: "plugin",
});

use exports::preau::plugin::handler::{Failure, Guest, Request, Response};

struct Hello;

impl Guest for Hello {
    fn handle(req: Request) -> Result<Response, Failure> {
        let title = format!("Bonjour {}", req.path.replace('"', ""));
        Ok(Response::View(format!(
            r#"{{"schema":"view/1.0","title":"{title}","body":[]}}"#
        )))
    }
}

export!(Hello);
