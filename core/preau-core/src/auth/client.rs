//! Who is at the other end of a request: the client's address and user agent, and whether the
//! connection is https. `X-Forwarded-*` headers are believed only from `trusted_proxies`.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use ipnet::IpNet;

use crate::api::{ApiError, AppState};

/// Longest user agent kept in traces.
const MAX_USER_AGENT: usize = 256;

/// The value of cookie `name` in a request's `Cookie` headers.
pub fn cookie_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The name the session and CSRF cookies take: `__Host-{base}` behind https, which browsers
/// accept only when set by this very host over https with `Path=/` and no `Domain`, so that a
/// sibling sub-domain of the collectivité cannot plant a session or a CSRF token; `base` over
/// plain http (development and tests), where the prefix would be refused.
pub fn host_cookie_name(base: &str, https: bool) -> std::borrow::Cow<'_, str> {
    if https {
        std::borrow::Cow::Owned(format!("__Host-{base}"))
    } else {
        std::borrow::Cow::Borrowed(base)
    }
}

/// The value of the session or CSRF cookie `base`, under the name the connection gives it
/// ([`host_cookie_name`]): behind https, an unprefixed cookie of that name is ignored.
pub fn host_cookie_value<'a>(headers: &'a HeaderMap, base: &str, https: bool) -> Option<&'a str> {
    cookie_value(headers, &host_cookie_name(base, https))
}

/// The client of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientInfo {
    /// The client's address, or `unknown` when the server has no peer address (in-process tests).
    pub ip: String,
    pub user_agent: String,
    /// Whether the client reached us over https (directly or through a trusted proxy).
    pub https: bool,
}

impl ClientInfo {
    /// Works out the client from the peer address and the headers.
    pub fn from_parts(
        peer: Option<IpAddr>,
        headers: &HeaderMap,
        trusted: &[IpNet],
        public_https: bool,
    ) -> ClientInfo {
        let trusted_peer = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
        let mut ip = peer;
        let mut https = public_https;
        if let Some(p) = peer
            && trusted_peer(&p)
        {
            // Every X-Forwarded-For line, in order; walking from the right, the first entry that
            // is not a trusted proxy is the client. An entry that does not parse stops the walk
            // (it cannot be vouched for) instead of being skipped in favour of one further left.
            let chain: Vec<&str> = headers
                .get_all("x-forwarded-for")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .collect();
            for entry in chain.iter().rev() {
                match entry.parse::<IpAddr>() {
                    Ok(a) if trusted_peer(&a) => continue,
                    Ok(a) => ip = Some(a),
                    Err(_) => {}
                }
                break;
            }
            if let Some(proto) = headers
                .get("x-forwarded-proto")
                .and_then(|v| v.to_str().ok())
            {
                https = proto.trim().eq_ignore_ascii_case("https");
            }
        }
        let mut user_agent: String = headers
            .get(axum::http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .chars()
            .filter(|c| !c.is_control())
            .collect();
        if user_agent.len() > MAX_USER_AGENT {
            let mut cut = MAX_USER_AGENT;
            while !user_agent.is_char_boundary(cut) {
                cut -= 1;
            }
            user_agent.truncate(cut);
        }
        ClientInfo {
            ip: ip.map_or_else(|| "unknown".to_string(), |a| a.to_string()),
            user_agent,
            https,
        }
    }
}

impl FromRequestParts<AppState> for ClientInfo {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        let public_https = state
            .config
            .public_url
            .as_ref()
            .is_some_and(|u| u.scheme() == "https");
        Ok(ClientInfo::from_parts(
            peer,
            &parts.headers,
            &state.config.trusted_proxies,
            public_https,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().expect("header"));
        }
        h
    }

    #[test]
    fn forwarded_headers_are_believed_only_from_trusted_proxies() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().expect("net")];
        let h = headers(&[
            ("x-forwarded-for", "203.0.113.7, 10.0.0.2"),
            ("x-forwarded-proto", "https"),
        ]);
        let via_proxy =
            ClientInfo::from_parts(Some("10.0.0.1".parse().expect("ip")), &h, &trusted, false);
        assert_eq!(via_proxy.ip, "203.0.113.7");
        assert!(via_proxy.https);
        let direct = ClientInfo::from_parts(
            Some("198.51.100.9".parse().expect("ip")),
            &h,
            &trusted,
            false,
        );
        assert_eq!(
            direct.ip, "198.51.100.9",
            "a client cannot spoof its address"
        );
        assert!(!direct.https);
    }

    #[test]
    fn every_forwarded_line_counts_and_garbage_is_not_skipped() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().expect("net")];
        let mut h = HeaderMap::new();
        h.append("x-forwarded-for", "198.51.100.66".parse().expect("header"));
        h.append("x-forwarded-for", "203.0.113.7".parse().expect("header"));
        let c = ClientInfo::from_parts(Some("10.0.0.1".parse().expect("ip")), &h, &trusted, false);
        assert_eq!(
            c.ip, "203.0.113.7",
            "the proxy's own line, appended last, names the client"
        );
        let h = headers(&[("x-forwarded-for", "198.51.100.66, 203.0.113.7:4431")]);
        let c = ClientInfo::from_parts(Some("10.0.0.1".parse().expect("ip")), &h, &trusted, false);
        assert_eq!(
            c.ip, "10.0.0.1",
            "an unparsable entry is not skipped in favour of a forged one"
        );
    }

    #[test]
    fn user_agent_is_bounded_and_cleaned() {
        let long = "Mozilla/5.0 ".repeat(50);
        let h = headers(&[("user-agent", &long)]);
        let c = ClientInfo::from_parts(None, &h, &[], true);
        assert_eq!(c.ip, "unknown");
        assert!(c.user_agent.len() <= MAX_USER_AGENT);
        assert!(c.https);
    }
}
