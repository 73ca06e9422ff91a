//! Outbound HTTP for plugins, the core's half: the host has already checked that the URL is
//! `https`, names a granted host, and that method, headers and body are within bounds. Here the
//! host name is resolved, every address it resolves to must be public (no loopback, private,
//! link-local, CGNAT, multicast or documentation range: a granted name pointing inside the
//! collectivité's network is refused), and the request goes to the checked address (pinned, so
//! a second resolution cannot swap it) over HTTP/1.1 (hyper) in TLS (rustls, verified against
//! the Mozilla roots, SNI = the granted name): no proxy, no redirect followed, no cookie, the
//! answer read up to its cap, all within the request's timeout.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, OnceLock};

use preau_host::{CallContext, OutboundRequest, OutboundResponse, ServiceError, ServiceResult};

/// Whether `ip` is an address of the public Internet. IPv6: global unicast (`2000::/3`) only,
/// minus documentation, Teredo and ORCHID blocks; IPv4 embedded in IPv6 (mapped, NAT64
/// `64:ff9b::/96`, 6to4 `2002::/16`) is judged as the IPv4 address it carries.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public_v4(v4);
            }
            let s = v6.segments();
            let embedded = |hi: u16, lo: u16| {
                let (hi, lo) = (hi.to_be_bytes(), lo.to_be_bytes());
                Ipv4Addr::new(hi[0], hi[1], lo[0], lo[1])
            };
            if s[0] == 0x0064 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] {
                return is_public_v4(embedded(s[6], s[7])); // NAT64 well-known prefix
            }
            if s[0] == 0x2002 {
                return is_public_v4(embedded(s[1], s[2])); // 6to4
            }
            (s[0] & 0xe000) == 0x2000 // global unicast 2000::/3
                && !(s[0] == 0x2001 && s[1] == 0x0db8) // documentation
                && !(s[0] == 0x2001 && s[1] == 0x0000) // Teredo
                && !(s[0] == 0x2001 && (s[1] & 0xfff0) == 0x0010) // ORCHID
                && !(s[0] == 0x3fff && s[1] < 0x1000) // documentation 3fff::/20
        }
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    !(ip.is_private()
        || ip.is_loopback()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // CGNAT 100.64.0.0/10
        || (a == 192 && b == 0 && ip.octets()[2] == 0) // IETF 192.0.0.0/24
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || a >= 240) // reserved
}

/// The TLS configuration: rustls with the ring provider and the Mozilla roots (built once).
fn tls() -> ServiceResult<rustls::ClientConfig> {
    static TLS: OnceLock<Option<rustls::ClientConfig>> = OnceLock::new();
    TLS.get_or_init(|| {
        let roots =
            rustls::RootCertStore::from_iter(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map(|b| b.with_root_certificates(roots).with_no_client_auth())
        .map_err(|e| tracing::error!(error = %e, "TLS configuration for outbound HTTP"))
        .ok()
    })
    .clone()
    .ok_or(ServiceError::Unavailable)
}

/// Sends `request` (checked by the host) for the plugin of `ctx`.
pub async fn fetch(ctx: &CallContext, request: OutboundRequest) -> ServiceResult<OutboundResponse> {
    let timeout = request.timeout;
    tokio::time::timeout(timeout, send(ctx, request))
        .await
        .map_err(|_| ServiceError::Timeout)?
}

fn unavailable(e: impl std::fmt::Display) -> ServiceError {
    tracing::debug!(error = %e, "outbound request failed");
    ServiceError::Unavailable
}

async fn send(ctx: &CallContext, request: OutboundRequest) -> ServiceResult<OutboundResponse> {
    use http_body_util::{BodyExt, Full, Limited};

    let host = request
        .url
        .host_str()
        .ok_or_else(|| ServiceError::Denied("URL sans hôte / URL without a host".into()))?
        .to_owned();
    let port = request.url.port_or_known_default().unwrap_or(443);
    let resolved: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), port))
        .await
        .map_err(|_| ServiceError::NotFound(format!("hôte inconnu / unknown host {host}")))?
        .collect();
    let Some(address) = resolved.first().copied() else {
        return Err(ServiceError::NotFound(format!(
            "hôte inconnu / unknown host {host}"
        )));
    };
    if let Some(private) = resolved.iter().find(|a| !is_public(a.ip())) {
        tracing::warn!(
            plugin = ctx.plugin(),
            request_id = ctx.request_id(),
            host,
            address = %private.ip(),
            "outbound request to a non-public address refused"
        );
        return Err(ServiceError::Denied(format!(
            "{host} désigne une adresse non publique / {host} points to a non-public address"
        )));
    }

    let mut tcp = None;
    for candidate in std::iter::once(address).chain(resolved.iter().copied().skip(1)) {
        if let Ok(stream) = tokio::net::TcpStream::connect(candidate).await {
            tcp = Some(stream);
            break;
        }
    }
    let tcp = tcp.ok_or_else(|| unavailable(format!("no address of {host} answered")))?;
    let name = rustls::pki_types::ServerName::try_from(host.clone()).map_err(|_| {
        ServiceError::Denied(format!("nom d'hôte invalide / invalid host name {host}"))
    })?;
    let tls = tokio_rustls::TlsConnector::from(Arc::new(tls()?))
        .connect(name, tcp)
        .await
        .map_err(unavailable)?;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(tls))
            .await
            .map_err(unavailable)?;
    // The connection task ends with this call, whichever way it ends (timeout included).
    let driver = AbortOnDrop(tokio::spawn(connection));

    let path = match request.url.query() {
        Some(q) => format!("{}?{q}", request.url.path()),
        None => request.url.path().to_owned(),
    };
    let mut builder = hyper::Request::builder()
        .method(request.method.as_str())
        .uri(path)
        .header(hyper::header::HOST, &host)
        .header(
            hyper::header::USER_AGENT,
            concat!("Preau/", env!("CARGO_PKG_VERSION")),
        );
    for (name, value) in &request.headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    let outgoing = builder
        .body(Full::new(bytes::Bytes::from(request.body)))
        .map_err(|e| ServiceError::Invalid {
            field: "request.headers".into(),
            message: format!("en-tête refusé / header refused: {e}"),
        })?;
    let response = sender.send_request(outgoing).await.map_err(unavailable)?;
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .filter_map(|(n, v)| Some((n.as_str().to_owned(), v.to_str().ok()?.to_owned())))
        .collect();
    let body = Limited::new(response.into_body(), request.max_response_bytes)
        .collect()
        .await
        .map_err(|e| {
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some()
            {
                ServiceError::TooLarge {
                    field: "response".into(),
                    message: format!(
                        "réponse de plus de {} octets / response over {} bytes",
                        request.max_response_bytes, request.max_response_bytes
                    ),
                }
            } else {
                unavailable(e)
            }
        })?
        .to_bytes()
        .to_vec();
    drop(driver);
    Ok(OutboundResponse {
        status,
        headers,
        body,
    })
}

/// Aborts the spawned connection task when dropped.
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_addresses_are_reachable() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "192.0.2.1",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:10.0.0.1",
            "2001:db8::1",
            "::",
            "::7f00:1",
            "fec0::1",
            "64:ff9b:1::1",
            "64:ff9b::a00:1",
            "2002:c0a8:101::1",
            "2001:0:4136:e378::1",
            "100::1",
            "ff02::1",
        ] {
            let ip: IpAddr = private.parse().expect("ip");
            assert!(!is_public(ip), "{private} must be refused");
        }
        for public in [
            "193.51.24.1",
            "8.8.8.8",
            "2a01:e0a::1",
            "::ffff:193.51.24.1",
            "64:ff9b::c133:1801",
            "2002:c133:1801::1",
        ] {
            let ip: IpAddr = public.parse().expect("ip");
            assert!(is_public(ip), "{public} is public");
        }
    }
}
