//! HubSpot request signatures (API_FACTS §1.2), checked on the raw body before
//! anything parses it.
//!
//! - v3: base64(HMAC-SHA256(secret, method + uri + body + timestamp)), timestamp in
//!   Unix milliseconds, at most `max_age` old and `max_skew` in the future.
//! - v2: hex(SHA-256(secret + method + uri + body)); v1: hex(SHA-256(secret + body)).
//!   Both carry no timestamp and are replayable, so they are accepted only when
//!   explicitly enabled; the idempotency key then absorbs replays.
//!
//! Every candidate secret is tried (rotation), each compare in constant time.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac};
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::config::WebhookConfig;

pub const HEADER_V3: &str = "x-hubspot-signature-v3";
pub const HEADER_TIMESTAMP: &str = "x-hubspot-request-timestamp";
pub const HEADER_LEGACY: &str = "x-hubspot-signature";
pub const HEADER_VERSION: &str = "x-hubspot-signature-version";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureVersion {
    V1,
    V2,
    V3,
}

impl SignatureVersion {
    pub fn as_str(self) -> &'static str {
        match self {
            SignatureVersion::V1 => "v1",
            SignatureVersion::V2 => "v2",
            SignatureVersion::V3 => "v3",
        }
    }
}

/// Why a delivery was not accepted as coming from HubSpot. All answer 401.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("webhook signing secret is not configured")]
    NotConfigured,
    #[error("missing X-HubSpot-Signature-v3 or X-HubSpot-Request-Timestamp header")]
    Missing,
    #[error("X-HubSpot-Request-Timestamp is not a Unix time in milliseconds")]
    BadTimestamp,
    #[error("signature timestamp is older than allowed")]
    Stale,
    #[error("signature timestamp is too far in the future")]
    FromFuture,
    #[error("signature does not match")]
    Mismatch,
    #[error("v1/v2 signatures are not accepted; sign with v3")]
    LegacyDisabled,
}

/// The parts of a delivery a signature covers. `uri` is the full public URI
/// (scheme, host, path, query) as HubSpot called it.
pub struct SignedRequest<'a> {
    pub method: &'a str,
    pub uri: &'a str,
    pub body: &'a [u8],
    pub v3_signature: Option<&'a str>,
    pub timestamp: Option<&'a str>,
    pub legacy_signature: Option<&'a str>,
    pub legacy_version: Option<&'a str>,
}

/// What can be checked before the body is read: a secret is configured, the
/// headers of one scheme are present, a v3 timestamp is fresh, a legacy scheme is
/// enabled. A delivery that fails here is refused without reading (or holding) a
/// byte of its body; `request.body` is ignored.
pub fn precheck(
    config: &WebhookConfig,
    request: &SignedRequest<'_>,
    now: SystemTime,
) -> Result<(), SignatureError> {
    if config.client_secrets.is_empty() {
        return Err(SignatureError::NotConfigured);
    }
    if let (Some(_), Some(timestamp)) = (request.v3_signature, request.timestamp) {
        return check_timestamp(timestamp, now, config.max_age, config.max_skew);
    }
    if request.legacy_signature.is_none() {
        return Err(SignatureError::Missing);
    }
    if !config.allow_legacy_signatures {
        return Err(SignatureError::LegacyDisabled);
    }
    match request.legacy_version.map(str::trim) {
        None | Some("") => Ok(()),
        Some(v) if v.eq_ignore_ascii_case("v1") || v.eq_ignore_ascii_case("v2") => Ok(()),
        Some(_) => Err(SignatureError::Missing),
    }
}

/// Checks the delivery's signature and returns the version that verified.
pub fn verify(
    config: &WebhookConfig,
    request: &SignedRequest<'_>,
    now: SystemTime,
) -> Result<SignatureVersion, SignatureError> {
    if config.client_secrets.is_empty() {
        return Err(SignatureError::NotConfigured);
    }
    let secrets = || {
        config
            .client_secrets
            .iter()
            .map(|s| s.expose_secret().as_bytes())
    };
    if let (Some(signature), Some(timestamp)) = (request.v3_signature, request.timestamp) {
        check_timestamp(timestamp, now, config.max_age, config.max_skew)?;
        let uri = decode_uri(request.uri);
        let Ok(given) = BASE64.decode(signature.trim()) else {
            return Err(SignatureError::Mismatch);
        };
        let matches = secrets().any(|secret| {
            v3_mac(secret, request.method, &uri, request.body, timestamp.trim())
                .verify_slice(&given)
                .is_ok()
        });
        return if matches {
            Ok(SignatureVersion::V3)
        } else {
            Err(SignatureError::Mismatch)
        };
    }
    let Some(signature) = request.legacy_signature else {
        return Err(SignatureError::Missing);
    };
    if !config.allow_legacy_signatures {
        return Err(SignatureError::LegacyDisabled);
    }
    let version = match request.legacy_version.map(str::trim) {
        Some(v) if v.eq_ignore_ascii_case("v2") => SignatureVersion::V2,
        None | Some("") => SignatureVersion::V1,
        Some(v) if v.eq_ignore_ascii_case("v1") => SignatureVersion::V1,
        Some(_) => return Err(SignatureError::Missing),
    };
    let given = signature.trim().to_ascii_lowercase();
    let matches = secrets().any(|secret| {
        let expected = match version {
            SignatureVersion::V2 => legacy_digest(&[
                secret,
                request.method.as_bytes(),
                request.uri.as_bytes(),
                request.body,
            ]),
            _ => legacy_digest(&[secret, request.body]),
        };
        bool::from(expected.as_bytes().ct_eq(given.as_bytes()))
    });
    if matches {
        Ok(version)
    } else {
        Err(SignatureError::Mismatch)
    }
}

/// The v3 signature HubSpot would send; used by the demo, tests and benchmarks.
pub fn sign_v3(secret: &str, method: &str, uri: &str, body: &[u8], timestamp_ms: u64) -> String {
    let mac = v3_mac(
        secret.as_bytes(),
        method,
        &decode_uri(uri),
        body,
        &timestamp_ms.to_string(),
    );
    BASE64.encode(mac.finalize().into_bytes())
}

/// Milliseconds since the Unix epoch, as HubSpot writes the timestamp header.
pub fn unix_millis(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

fn v3_mac(secret: &[u8], method: &str, uri: &str, body: &[u8], timestamp: &str) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes a key of any length");
    mac.update(method.as_bytes());
    mac.update(uri.as_bytes());
    mac.update(body);
    mac.update(timestamp.as_bytes());
    mac
}

fn legacy_digest(parts: &[&[u8]]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part);
    }
    hex::encode(hasher.finalize())
}

fn check_timestamp(
    raw: &str,
    now: SystemTime,
    max_age: Duration,
    max_skew: Duration,
) -> Result<(), SignatureError> {
    let sent_ms: u64 = raw
        .trim()
        .parse()
        .map_err(|_| SignatureError::BadTimestamp)?;
    let now_ms = unix_millis(now);
    if sent_ms > now_ms {
        if sent_ms - now_ms > max_skew.as_millis() as u64 {
            return Err(SignatureError::FromFuture);
        }
    } else if now_ms - sent_ms > max_age.as_millis() as u64 {
        return Err(SignatureError::Stale);
    }
    Ok(())
}

/// HubSpot decodes these percent-escapes in the URI before signing.
const DECODED_ESCAPES: &[(&str, char)] = &[
    ("3A", ':'),
    ("2F", '/'),
    ("3F", '?'),
    ("40", '@'),
    ("21", '!'),
    ("24", '$'),
    ("27", '\''),
    ("28", '('),
    ("29", ')'),
    ("2A", '*'),
    ("2C", ','),
    ("3B", ';'),
];

fn decode_uri(uri: &str) -> String {
    let mut out = String::with_capacity(uri.len());
    let mut rest = uri;
    while let Some(pos) = rest.find('%') {
        out.push_str(&rest[..pos]);
        let escape = rest.get(pos + 1..pos + 3);
        match escape.and_then(|e| {
            DECODED_ESCAPES
                .iter()
                .find(|(code, _)| code.eq_ignore_ascii_case(e))
        }) {
            Some((_, ch)) => {
                out.push(*ch);
                rest = &rest[pos + 3..];
            }
            None => {
                out.push('%');
                rest = &rest[pos + 1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::SecretString;

    fn config(secret: &str, legacy: bool) -> WebhookConfig {
        WebhookConfig {
            client_secrets: vec![SecretString::from(secret)],
            allow_legacy_signatures: legacy,
            max_age: Duration::from_secs(300),
            max_skew: Duration::from_secs(60),
            max_body_bytes: 1 << 20,
            body_timeout: Duration::from_secs(10),
            unverified_bytes: 16 << 20,
        }
    }

    fn legacy<'a>(
        method: &'a str,
        uri: &'a str,
        body: &'a [u8],
        sig: &'a str,
        version: Option<&'a str>,
    ) -> SignedRequest<'a> {
        SignedRequest {
            method,
            uri,
            body,
            v3_signature: None,
            timestamp: None,
            legacy_signature: Some(sig),
            legacy_version: version,
        }
    }

    #[test]
    fn hubspot_v1_example_verifies() {
        // API_FACTS §1.2, HubSpot's published v1 example.
        let body = br#"[{"eventId":1,"subscriptionId":12345,"portalId":62515,"occurredAt":1564113600000,"subscriptionType":"contact.creation","attemptNumber":0,"objectId":123,"changeSource":"CRM","changeFlag":"NEW","appId":54321}]"#;
        let sig = "232db2615f3d666fe21a8ec971ac7b5402d33b9a925784df3ca654d05f4817de";
        let cfg = config("yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy", true);
        assert_eq!(
            verify(
                &cfg,
                &legacy("POST", "https://x", body, sig, Some("v1")),
                SystemTime::now()
            ),
            Ok(SignatureVersion::V1)
        );
        let mut tampered = body.to_vec();
        tampered[5] ^= 1;
        assert_eq!(
            verify(
                &cfg,
                &legacy("POST", "https://x", &tampered, sig, Some("v1")),
                SystemTime::now()
            ),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn hubspot_v2_example_verifies() {
        let sig = "eee2dddcc73c94d699f5e395f4b9d454a069a6855fbfa152e91e88823087200e";
        let cfg = config("yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy", true);
        let request = legacy(
            "GET",
            "https://www.example.com/webhook_uri",
            b"",
            sig,
            Some("v2"),
        );
        assert_eq!(
            verify(&cfg, &request, SystemTime::now()),
            Ok(SignatureVersion::V2)
        );
        let other_uri = legacy(
            "GET",
            "http://www.example.com/webhook_uri",
            b"",
            sig,
            Some("v2"),
        );
        assert_eq!(
            verify(&cfg, &other_uri, SystemTime::now()),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn legacy_signatures_need_to_be_enabled() {
        let sig = "eee2dddcc73c94d699f5e395f4b9d454a069a6855fbfa152e91e88823087200e";
        let cfg = config("yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy", false);
        let request = legacy(
            "GET",
            "https://www.example.com/webhook_uri",
            b"",
            sig,
            Some("v2"),
        );
        assert_eq!(
            verify(&cfg, &request, SystemTime::now()),
            Err(SignatureError::LegacyDisabled)
        );
    }

    #[test]
    fn v3_matches_an_independent_computation_of_the_spec() {
        // HMAC-SHA256 of "POST" + uri + body + timestamp with the client secret, base64.
        let (secret, uri, body, ts) = (
            "s3cr3t",
            "https://agent.example.com/webhooks/hubspot",
            br#"{"a":1}"#,
            1_700_000_000_000u64,
        );
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(format!("POST{uri}{{\"a\":1}}{ts}").as_bytes());
        let expected = BASE64.encode(mac.finalize().into_bytes());
        assert_eq!(sign_v3(secret, "POST", uri, body, ts), expected);
    }

    fn v3<'a>(uri: &'a str, body: &'a [u8], sig: &'a str, ts: &'a str) -> SignedRequest<'a> {
        SignedRequest {
            method: "POST",
            uri,
            body,
            v3_signature: Some(sig),
            timestamp: Some(ts),
            legacy_signature: None,
            legacy_version: None,
        }
    }

    #[test]
    fn v3_checks_age_skew_and_every_signed_part() {
        let cfg = config("s3cr3t", false);
        let now = SystemTime::now();
        let uri = "https://agent.example.com/webhooks/hubspot?x=1";
        let body = br#"{"email":"a@b.com"}"#;
        let sig = sign_v3("s3cr3t", "POST", uri, body, unix_millis(now));
        let ts = unix_millis(now).to_string();
        assert_eq!(
            verify(&cfg, &v3(uri, body, &sig, &ts), now),
            Ok(SignatureVersion::V3)
        );
        let other_uri = "https://agent.example.com/webhooks/hubspot?x=2";
        assert_eq!(
            verify(&cfg, &v3(other_uri, body, &sig, &ts), now),
            Err(SignatureError::Mismatch)
        );
        let other_body = br#"{"email":"a@b.org"}"#;
        assert_eq!(
            verify(&cfg, &v3(uri, other_body, &sig, &ts), now),
            Err(SignatureError::Mismatch)
        );
        let late = now + Duration::from_secs(301);
        assert_eq!(
            verify(&cfg, &v3(uri, body, &sig, &ts), late),
            Err(SignatureError::Stale)
        );
        let early = now - Duration::from_secs(61);
        assert_eq!(
            verify(&cfg, &v3(uri, body, &sig, &ts), early),
            Err(SignatureError::FromFuture)
        );
        let within_skew = now - Duration::from_secs(30);
        assert_eq!(
            verify(&cfg, &v3(uri, body, &sig, &ts), within_skew),
            Ok(SignatureVersion::V3)
        );
        assert_eq!(
            verify(&cfg, &v3(uri, body, &sig, "yesterday"), now),
            Err(SignatureError::BadTimestamp)
        );
        assert_eq!(
            verify(&cfg, &v3(uri, body, "not base64!", &ts), now),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn rotation_accepts_the_previous_secret() {
        let mut cfg = config("new-secret", false);
        cfg.client_secrets.push(SecretString::from("old-secret"));
        let now = SystemTime::now();
        let ts = unix_millis(now);
        let sig = sign_v3("old-secret", "POST", "https://a/b", b"{}", ts);
        let ts = ts.to_string();
        assert_eq!(
            verify(&cfg, &v3("https://a/b", b"{}", &sig, &ts), now),
            Ok(SignatureVersion::V3)
        );
    }

    #[test]
    fn precheck_refuses_what_verify_would_refuse_without_the_body() {
        let now = SystemTime::now();
        let ts = unix_millis(now).to_string();
        let stale = (unix_millis(now) - 301_000).to_string();
        let cfg = config("s", false);
        let unsigned = v3("https://x.test/h", b"", "", "");
        let unsigned = SignedRequest {
            v3_signature: None,
            timestamp: None,
            ..unsigned
        };
        assert_eq!(precheck(&cfg, &unsigned, now), Err(SignatureError::Missing));
        let fresh = v3("https://x.test/h", b"", "AAAA", &ts);
        assert_eq!(precheck(&cfg, &fresh, now), Ok(()));
        let old = v3("https://x.test/h", b"", "AAAA", &stale);
        assert_eq!(precheck(&cfg, &old, now), Err(SignatureError::Stale));
        let garbage = v3("https://x.test/h", b"", "AAAA", "soon");
        assert_eq!(
            precheck(&cfg, &garbage, now),
            Err(SignatureError::BadTimestamp)
        );
        let legacy_sig = legacy("POST", "https://x.test/h", b"", "ab", None);
        assert_eq!(
            precheck(&cfg, &legacy_sig, now),
            Err(SignatureError::LegacyDisabled)
        );
        assert_eq!(precheck(&config("s", true), &legacy_sig, now), Ok(()));
        let mut none = config("s", false);
        none.client_secrets.clear();
        assert_eq!(
            precheck(&none, &fresh, now),
            Err(SignatureError::NotConfigured)
        );
    }

    #[test]
    fn listed_escapes_are_decoded_before_signing() {
        assert_eq!(
            decode_uri("https://a/b?x=%3A%2f%40%zz%20"),
            "https://a/b?x=:/@%zz%20"
        );
        assert_eq!(
            sign_v3("k", "POST", "https://a/b?e=a%40b.com", b"", 1),
            sign_v3("k", "POST", "https://a/b?e=a@b.com", b"", 1)
        );
    }
}
