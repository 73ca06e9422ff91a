//! The host side of `http`: outbound requests are decided here, before the core is asked. The
//! URL is parsed with the `url` crate and must be `https`, on port 443, without user
//! information, and its host exactly one of the plugin's granted `outbound_hosts` (ASCII case
//! aside); a refused host is logged (`tracing::warn!`, naming the plugin and the host, never the
//! path or query). Method, headers and body are capped; then the core's `Services::fetch` sends
//! it within the plugin's outbound timeout, and the response is capped in turn.

use crate::bindings::preau::plugin::http::{self, HttpError};
use crate::limits::{
    MAX_HEADER_BYTES, MAX_HEADERS, MAX_OUTBOUND_URL_BYTES, MAX_REQUEST_BODY, MAX_RESPONSE_BODY,
};
use crate::state::{State, cut};
use crate::{Grants, Method, OutboundRequest, ServiceError};

/// Headers the core sets itself (and hop-by-hop ones): a plugin may not.
const FORBIDDEN_HEADERS: &[&str] = &[
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "upgrade",
    "te",
    "trailer",
    "proxy-authorization",
    "proxy-connection",
    "expect",
];

/// Why a request does not leave the host.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Refused {
    /// The host is not granted: the error for the plugin, and the host for the log.
    NotGranted(String),
    Other(HttpError),
}

fn is_token(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Checks `req` against the caps and the grants; what the core would send.
pub(crate) fn check(
    req: http::Request,
    grants: &Grants,
    limits: &crate::CallLimits,
) -> Result<OutboundRequest, Refused> {
    let other = |e| Err(Refused::Other(e));
    let Some(method) = Method::parse(&req.method) else {
        return other(HttpError::MethodNotAllowed(cut(&req.method, 16).to_owned()));
    };
    if req.url.len() > MAX_OUTBOUND_URL_BYTES {
        return other(HttpError::InvalidUrl(format!(
            "URL de plus de {MAX_OUTBOUND_URL_BYTES} octets / URL over {MAX_OUTBOUND_URL_BYTES} bytes"
        )));
    }
    let url = match url::Url::parse(&req.url) {
        Ok(url) => url,
        Err(e) => {
            return other(HttpError::InvalidUrl(format!(
                "URL illisible / unreadable URL: {e}"
            )));
        }
    };
    if url.scheme() != "https" {
        return other(HttpError::InvalidUrl("https seulement / https only".into()));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return other(HttpError::InvalidUrl(
            "pas d'identifiants dans l'URL / no user information in the URL".into(),
        ));
    }
    let host = match url.host() {
        Some(url::Host::Domain(d)) => d.to_owned(),
        // An address is never granted: the manifest names hosts only.
        Some(ip) => return Err(Refused::NotGranted(ip.to_string())),
        None => {
            return other(HttpError::InvalidUrl(
                "URL sans hôte / URL without a host".into(),
            ));
        }
    };
    if !grants
        .outbound_hosts
        .iter()
        .any(|g| g.eq_ignore_ascii_case(&host))
    {
        return Err(Refused::NotGranted(host));
    }
    // `url` leaves the port out when it is the scheme's default.
    if url.port().is_some() {
        return other(HttpError::InvalidUrl(
            "port 443 seulement / port 443 only".into(),
        ));
    }
    if req.headers.len() > MAX_HEADERS {
        return other(HttpError::TooManyHeaders(MAX_HEADERS as u32));
    }
    for (name, value) in &req.headers {
        let lower = name.to_ascii_lowercase();
        let bad = !is_token(name)
            || name.len() + value.len() > MAX_HEADER_BYTES
            || value.chars().any(|c| c.is_control() && c != '\t')
            || FORBIDDEN_HEADERS.contains(&lower.as_str())
            || lower.starts_with("proxy-");
        if bad {
            return other(HttpError::InvalidHeader(cut(name, 64).to_owned()));
        }
    }
    if req.body.len() > MAX_REQUEST_BODY {
        return other(HttpError::RequestTooLarge(MAX_REQUEST_BODY as u64));
    }
    Ok(OutboundRequest {
        method,
        url,
        headers: req.headers,
        body: req.body,
        timeout: limits.outbound_timeout,
        max_response_bytes: MAX_RESPONSE_BODY,
    })
}

impl http::Host for State {
    async fn fetch(&mut self, req: http::Request) -> Result<http::Response, HttpError> {
        let request = match check(req, &self.env.grants, &self.env.limits) {
            Ok(request) => request,
            Err(Refused::NotGranted(host)) => {
                tracing::warn!(
                    plugin = self.env.ctx.plugin(),
                    request_id = self.env.ctx.request_id(),
                    host = %host,
                    "hôte sortant non accordé / outbound host not granted"
                );
                return Err(HttpError::HostNotGranted(host));
            }
            Err(Refused::Other(e)) => return Err(e),
        };
        tracing::debug!(
            plugin = self.env.ctx.plugin(),
            request_id = self.env.ctx.request_id(),
            host = request.url.host_str().unwrap_or_default(),
            method = request.method.as_str(),
            "requête sortante / outbound request"
        );
        let timeout = request.timeout;
        let answer =
            tokio::time::timeout(timeout, self.env.services.fetch(&self.env.ctx, request)).await;
        let response = match answer {
            Err(_) | Ok(Err(ServiceError::Timeout)) => return Err(HttpError::Timeout),
            Ok(Err(ServiceError::TooLarge { .. })) => {
                return Err(HttpError::ResponseTooLarge(MAX_RESPONSE_BODY as u64));
            }
            Ok(Err(ServiceError::Denied(why))) => return Err(HttpError::Unavailable(why)),
            Ok(Err(other)) => return Err(HttpError::Unavailable(self.unavailable("http", &other))),
            Ok(Ok(response)) => response,
        };
        if response.body.len() > MAX_RESPONSE_BODY {
            return Err(HttpError::ResponseTooLarge(MAX_RESPONSE_BODY as u64));
        }
        if response.headers.len() > MAX_HEADERS {
            return Err(HttpError::TooManyHeaders(MAX_HEADERS as u32));
        }
        Ok(http::Response {
            status: response.status,
            headers: response
                .headers
                .into_iter()
                .map(|(name, value)| (name.to_ascii_lowercase(), value))
                .collect(),
            body: response.body,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grants() -> Grants {
        Grants {
            outbound_hosts: vec!["api.example.org".into()],
            sso: false,
        }
    }

    fn request(method: &str, url: &str) -> http::Request {
        http::Request {
            method: method.into(),
            url: url.into(),
            headers: vec![("accept".into(), "application/json".into())],
            body: vec![],
        }
    }

    fn refused(req: http::Request) -> Refused {
        check(req, &grants(), &crate::CallLimits::default()).expect_err("refused")
    }

    #[test]
    fn only_granted_hosts_over_https_pass() {
        let ok = check(
            request("GET", "https://API.Example.org/v1/manuels?uai=0750652C"),
            &grants(),
            &crate::CallLimits::default(),
        )
        .expect("granted, case aside");
        assert_eq!(ok.url.host_str(), Some("api.example.org"));
        assert_eq!(ok.method, Method::Get);
        let not_granted = |url: &str, host: &str| {
            assert_eq!(
                refused(request("GET", url)),
                Refused::NotGranted(host.into()),
                "{url}"
            );
        };
        not_granted(
            "https://evil.example.net/steal?token=secret",
            "evil.example.net",
        );
        not_granted(
            "https://api.example.org.evil.net/",
            "api.example.org.evil.net",
        );
        not_granted("https://example.org/", "example.org");
        not_granted("https://sub.api.example.org/", "sub.api.example.org");
        not_granted("https://api.example.org./", "api.example.org.");
        not_granted("https://127.0.0.1/", "127.0.0.1");
        not_granted("https://[::1]/", "[::1]");
        for url in [
            "http://api.example.org/",
            "https://user:pw@api.example.org/",
            "https://user@api.example.org/",
            "https://api.example.org:8443/",
            "api.example.org/x",
            "file:///etc/passwd",
        ] {
            assert!(
                matches!(
                    refused(request("GET", url)),
                    Refused::Other(HttpError::InvalidUrl(_))
                ),
                "{url}"
            );
        }
        check(
            request("GET", "https://api.example.org:443/"),
            &grants(),
            &crate::CallLimits::default(),
        )
        .expect("the default port may be written");
    }

    #[test]
    fn methods_headers_and_bodies_are_capped() {
        for m in ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"] {
            check(
                request(m, "https://api.example.org/"),
                &grants(),
                &crate::CallLimits::default(),
            )
            .expect(m);
        }
        for m in ["CONNECT", "TRACE", "get", "OPTIONS"] {
            assert_eq!(
                refused(request(m, "https://api.example.org/")),
                Refused::Other(HttpError::MethodNotAllowed(m.into()))
            );
        }
        let mut many = request("GET", "https://api.example.org/");
        many.headers = (0..=MAX_HEADERS)
            .map(|n| (format!("x-{n}"), "v".into()))
            .collect();
        assert_eq!(
            refused(many),
            Refused::Other(HttpError::TooManyHeaders(MAX_HEADERS as u32))
        );
        for (name, value) in [
            ("Host", "evil.example.net"),
            ("Content-Length", "3"),
            ("Transfer-Encoding", "chunked"),
            ("proxy-foo", "x"),
            ("x-evil", "a\r\nhost: evil"),
            ("bad name", "x"),
            ("", "x"),
        ] {
            let mut req = request("GET", "https://api.example.org/");
            req.headers.push((name.into(), value.into()));
            assert!(
                matches!(refused(req), Refused::Other(HttpError::InvalidHeader(_))),
                "{name}"
            );
        }
        let mut long = request("GET", "https://api.example.org/");
        long.headers = vec![("x-long".into(), "v".repeat(MAX_HEADER_BYTES))];
        assert!(matches!(
            refused(long),
            Refused::Other(HttpError::InvalidHeader(_))
        ));
        let url = format!(
            "https://api.example.org/{}",
            "a".repeat(MAX_OUTBOUND_URL_BYTES)
        );
        assert!(matches!(
            refused(request("GET", &url)),
            Refused::Other(HttpError::InvalidUrl(_))
        ));
        let mut big = request("POST", "https://api.example.org/");
        big.body = vec![0; MAX_REQUEST_BODY + 1];
        assert_eq!(
            refused(big),
            Refused::Other(HttpError::RequestTooLarge(MAX_REQUEST_BODY as u64))
        );
        let mut at_cap = request("POST", "https://api.example.org/");
        at_cap.body = vec![0; MAX_REQUEST_BODY];
        check(at_cap, &grants(), &crate::CallLimits::default()).expect("at the cap");
    }

    /// A log line sink shared with the test.
    #[derive(Clone, Default)]
    struct Logs(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl std::io::Write for Logs {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().expect("logs").extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[tokio::test]
    async fn a_refused_host_is_logged_with_the_plugin_and_the_host_only() {
        use http::Host as _;

        let logs = Logs::default();
        let subscriber = tracing_subscriber::fmt()
            .with_writer({
                let logs = logs.clone();
                move || logs.clone()
            })
            .with_ansi(false)
            .finish();
        let _guard = tracing::subscriber::set_default(subscriber);
        let env = crate::state::CallEnv {
            ctx: crate::CallContext::new("essai:espion", "0750652C", None, "req-log"),
            services: std::sync::Arc::new(crate::Unavailable),
            grants: std::sync::Arc::new(grants()),
            limits: crate::CallLimits::default(),
        };
        let mut state = State::new(env, "sha".into());
        let answer = state
            .fetch(request(
                "GET",
                "https://evil.example.net/steal/path-7c1e?token=secret-7c1e",
            ))
            .await;
        assert_eq!(
            answer,
            Err(HttpError::HostNotGranted("evil.example.net".into()))
        );
        let text = String::from_utf8(logs.0.lock().expect("logs").clone()).expect("utf-8");
        assert!(
            text.contains("WARN")
                && text.contains("essai:espion")
                && text.contains("evil.example.net")
                && text.contains("req-log"),
            "{text}"
        );
        assert!(
            !text.contains("7c1e"),
            "neither path nor query is logged: {text}"
        );
    }
}
