//! A hostile plugin: each path misbehaves in one way (an infinite loop, a memory bomb, a panic,
//! an oversized or malformed view), and `/ok` answers normally, so the suite can check that the
//! host stops each one and keeps serving.

wit_bindgen::generate!({
    path: "../../../plugin-sdk/wit",
    world: "plugin",
});

use exports::preau::plugin::handler::{Failure, Guest, Request, Response};
use preau::plugin::log::{Level, log};

struct Hostile;

impl Guest for Hostile {
    fn handle(req: Request) -> Result<Response, Failure> {
        match req.path.as_str() {
            "/ok" => {
                log(Level::Info, &format!("ok for {}", req.request_id));
                Ok(Response::View(
                    r#"{"schema":"view/1.0","title":"Bonjour","body":[]}"#.to_owned(),
                ))
            }
            "/loop" => {
                let mut n: u64 = 0;
                loop {
                    n = std::hint::black_box(n.wrapping_add(1));
                }
            }
            "/bomb" => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(std::hint::black_box(vec![7u8; 1 << 20]));
                }
            }
            "/panic" => panic!("plugin secret 7c1e-do-not-leak"),
            "/huge" => Ok(Response::View(format!(
                r#"{{"schema":"view/1.0","title":"{}"}}"#,
                "x".repeat(2 << 20)
            ))),
            "/malformed" => Ok(Response::View("{\"schema\": \"view/1.0\", oops".to_owned())),
            "/unknown-schema" => Ok(Response::View(r#"{"schema":"view/9.0"}"#.to_owned())),
            _ => Err(Failure {
                status: 404,
                message: "introuvable / not found".to_owned(),
            }),
        }
    }
}

export!(Hostile);
