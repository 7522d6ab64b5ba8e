//! Where a request comes from: the scheme and host it was sent to and the
//! client's address, taken from `X-Forwarded-Proto`, `-Host` and `-For` only when
//! the connection itself comes from a proxy named in `SALES_AGENT_TRUSTED_PROXIES`.
//!
//! actix-web's `connection_info()` believes those headers (and `Forwarded`) from
//! anyone, so anyone could claim to be any host or address; nothing here uses it.

use std::net::IpAddr;

use actix_web::HttpRequest;
use actix_web::http::header::{HOST, HeaderName};
use ipnet::IpNet;

const FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
const FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");
const FORWARDED_HOST: HeaderName = HeaderName::from_static("x-forwarded-host");

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// `http` or `https`.
    pub scheme: String,
    /// The host (and port, when one was given) the client asked for.
    pub host: String,
    /// The client's address: the peer's, or behind trusted proxies the nearest
    /// one in `X-Forwarded-For` that is not itself a trusted proxy.
    pub client_ip: Option<IpAddr>,
}

/// What `req` was sent to and from where, believing forwarding headers only
/// from the service's trusted proxies.
pub fn origin_of(req: &HttpRequest) -> Origin {
    let state = req.app_data::<actix_web::web::Data<crate::web::AppState>>();
    origin(req, state.map_or(&[], |s| &s.config.trusted_proxies))
}

/// What `req` was sent to and from where, believing forwarding headers only
/// from `trusted` peers.
pub fn origin(req: &HttpRequest, trusted: &[IpNet]) -> Origin {
    let peer = req.peer_addr().map(|a| a.ip());
    let direct = Origin {
        scheme: if req.app_config().secure() {
            "https"
        } else {
            "http"
        }
        .to_string(),
        host: header(req, &HOST)
            .or_else(|| req.uri().authority().map(|a| a.to_string()))
            .unwrap_or_else(|| req.app_config().host().to_string()),
        client_ip: peer,
    };
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !peer.is_some_and(|p| is_trusted(&p)) {
        return direct;
    }
    // Each proxy appends the address it was reached from: read from the right,
    // past our own proxies, to the first address none of them vouches for.
    let forwarded_for: Vec<IpAddr> = req
        .headers()
        .get_all(&FORWARDED_FOR)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|item| item.trim().parse().ok())
        .collect();
    let client_ip = forwarded_for
        .iter()
        .rev()
        .find(|ip| !is_trusted(ip))
        .or(forwarded_for.first())
        .copied()
        .or(peer);
    Origin {
        scheme: header(req, &FORWARDED_PROTO)
            .map(|p| p.to_ascii_lowercase())
            .filter(|p| p == "http" || p == "https")
            .unwrap_or(direct.scheme),
        host: header(req, &FORWARDED_HOST).unwrap_or(direct.host),
        client_ip,
    }
}

/// The first value of a header, when it is text; of a list, its first item.
fn header(req: &HttpRequest, name: &HeaderName) -> Option<String> {
    let value = req.headers().get(name)?.to_str().ok()?;
    let first = value.split(',').next()?.trim();
    (!first.is_empty()).then(|| first.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn nets(items: &[&str]) -> Vec<IpNet> {
        items.iter().map(|i| i.parse().unwrap()).collect()
    }

    fn request(peer: &str, headers: &[(&str, &str)]) -> HttpRequest {
        let mut req = TestRequest::default()
            .peer_addr(format!("{peer}:40000").parse().unwrap())
            .insert_header((HOST, "10.0.0.5:8080"));
        for (name, value) in headers {
            req = req.append_header((*name, *value));
        }
        req.to_http_request()
    }

    const FORGED: &[(&str, &str)] = &[
        ("x-forwarded-for", "203.0.113.7"),
        ("x-forwarded-proto", "https"),
        ("x-forwarded-host", "agent.example.com"),
    ];

    #[test]
    fn forwarding_headers_from_an_untrusted_peer_are_ignored() {
        for trusted in [vec![], nets(&["172.28.0.10/32", "10.9.0.0/16"])] {
            let seen = origin(&request("198.51.100.4", FORGED), &trusted);
            assert_eq!(
                seen,
                Origin {
                    scheme: "http".into(),
                    host: "10.0.0.5:8080".into(),
                    client_ip: Some("198.51.100.4".parse().unwrap()),
                }
            );
        }
    }

    #[test]
    fn a_trusted_proxy_tells_the_scheme_host_and_client() {
        let seen = origin(&request("172.28.0.10", FORGED), &nets(&["172.28.0.10/32"]));
        assert_eq!(
            seen,
            Origin {
                scheme: "https".into(),
                host: "agent.example.com".into(),
                client_ip: Some("203.0.113.7".parse().unwrap()),
            }
        );
    }

    #[test]
    fn the_client_is_the_nearest_address_no_trusted_proxy_vouches_for() {
        // The client wrote a fake first entry itself; a CDN (trusted) and our
        // proxy appended the real hops.
        let chain = [("x-forwarded-for", "1.2.3.4, 203.0.113.7, 10.9.1.1")];
        let seen = origin(
            &request("172.28.0.10", &chain),
            &nets(&["172.28.0.10/32", "10.9.0.0/16"]),
        );
        assert_eq!(seen.client_ip, Some("203.0.113.7".parse().unwrap()));
        assert_eq!(seen.scheme, "http", "no proto header: the connection's");
        assert_eq!(seen.host, "10.0.0.5:8080");
        let garbage = [
            ("x-forwarded-proto", "javascript"),
            ("x-forwarded-for", "not-an-ip"),
        ];
        let seen = origin(
            &request("172.28.0.10", &garbage),
            &nets(&["172.28.0.10/32"]),
        );
        assert_eq!(seen.scheme, "http");
        assert_eq!(seen.client_ip, Some("172.28.0.10".parse().unwrap()));
    }
}
