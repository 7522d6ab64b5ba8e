//! One-click unsubscribe links (RFC 8058): an opaque token that names the
//! recipient and cannot be forged, so `POST /unsubscribe/{token}` can suppress the
//! address without cookies or a login.
//!
//! Token: `base64url(email) "." base64url(HMAC-SHA256(secret, "unsubscribe:" email))`.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The token for `email` (lowercased first, so case never matters).
pub fn token_for(secret: &str, email: &str) -> String {
    let email = email.trim().to_lowercase();
    let tag = mac(secret, &email).finalize().into_bytes();
    format!("{}.{}", B64.encode(email.as_bytes()), B64.encode(tag))
}

/// The address a genuine token names, or `None` for anything forged or mangled.
pub fn verify(secret: &str, token: &str) -> Option<String> {
    let (encoded, tag) = token.split_once('.')?;
    let email = String::from_utf8(B64.decode(encoded).ok()?).ok()?;
    let tag = B64.decode(tag).ok()?;
    mac(secret, &email).verify_slice(&tag).ok()?;
    Some(email)
}

/// The link to put in `List-Unsubscribe`.
pub fn link(public_url: &url::Url, secret: &str, email: &str) -> String {
    format!(
        "{}/unsubscribe/{}",
        public_url.as_str().trim_end_matches('/'),
        token_for(secret, email)
    )
}

fn mac(secret: &str, email: &str) -> Hmac<Sha256> {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any length");
    mac.update(b"unsubscribe:");
    mac.update(email.as_bytes());
    mac
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_names_its_address_and_resists_forgery() {
        let token = token_for("k1", "Ana@Example.com");
        assert_eq!(verify("k1", &token).as_deref(), Some("ana@example.com"));
        assert_eq!(verify("k2", &token), None, "another secret");
        let (_, tag) = token.split_once('.').unwrap();
        let forged = format!("{}.{tag}", B64.encode("boss@example.com"));
        assert_eq!(verify("k1", &forged), None, "someone else's address");
        assert_eq!(verify("k1", "garbage"), None);
        assert_eq!(verify("k1", "a.b.c"), None);
    }

    #[test]
    fn links_sit_under_the_public_url() {
        let url: url::Url = "https://agent.example.com/".parse().unwrap();
        assert!(link(&url, "k", "a@b.co").starts_with("https://agent.example.com/unsubscribe/"));
    }
}
