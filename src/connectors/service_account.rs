//! A Google service account with domain-wide delegation: the JSON key file
//! Google issues (`client_email`, `private_key` PEM, `private_key_id`,
//! `token_uri`), and the RS256 assertion of the JWT-bearer grant (RFC 7523)
//! that trades it for an access token acting as one rep's mailbox — no
//! per-rep consent, one setting for the Workspace.
//!
//! The key is checked when the file is read (it must sign), so a bad file stops
//! start-up instead of failing every rep's first call. Nothing here logs the key
//! or an assertion.

use std::path::Path;
use std::sync::Arc;

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

/// What the Workspace admin delegates to the service account (Admin console,
/// *Security → API controls → Domain-wide delegation*): exactly the API
/// scopes the steps call for a rep (the consent's `REP_SCOPES` without
/// `openid email`, which only say who consented). README, "Scopes".
pub const DELEGATED_SCOPES: &[&str] = &[
    "https://www.googleapis.com/auth/gmail.readonly",
    "https://www.googleapis.com/auth/gmail.compose",
    "https://www.googleapis.com/auth/calendar.freebusy",
    "https://www.googleapis.com/auth/calendar.events",
    "https://www.googleapis.com/auth/drive",
];

/// Google's limit on an assertion's life (`exp - iat`).
const ASSERTION_LIFETIME_S: i64 = 3600;

/// Why a key file cannot be used; the message says what to fix, never the key.
#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    #[error("cannot read {path}: {message}")]
    Read { path: String, message: String },
    #[error("not a Google service-account key file (JSON): {0}")]
    Format(String),
    #[error("the key file is of type {0:?}, not \"service_account\"")]
    Type(String),
    #[error("{0} is empty")]
    Missing(&'static str),
    #[error("token_uri is not an http(s) URL: {0}")]
    TokenUri(String),
    #[error("private_key is not an RSA private key in PEM that can sign RS256: {0}")]
    Key(String),
}

#[derive(Deserialize)]
struct KeyFile {
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default)]
    client_email: String,
    #[serde(default)]
    client_id: String,
    #[serde(default)]
    private_key: String,
    #[serde(default)]
    private_key_id: String,
    #[serde(default)]
    token_uri: String,
}

/// A service account's key, ready to sign. `Debug` shows the account only.
#[derive(Clone)]
pub struct ServiceAccountKey {
    pub client_email: String,
    /// What the Admin console's delegation entry names (the *Client ID*).
    pub client_id: String,
    pub private_key_id: String,
    /// Where the assertion is sent, and its audience.
    pub token_uri: String,
    key: Arc<EncodingKey>,
}

impl std::fmt::Debug for ServiceAccountKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceAccountKey")
            .field("client_email", &self.client_email)
            .field("private_key_id", &self.private_key_id)
            .field("token_uri", &self.token_uri)
            .finish_non_exhaustive()
    }
}

/// The claims Google's token endpoint reads from the assertion.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    pub iss: String,
    pub sub: String,
    pub scope: String,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
}

impl ServiceAccountKey {
    pub fn from_file(path: &Path) -> Result<Self, KeyFileError> {
        let text = std::fs::read_to_string(path).map_err(|e| KeyFileError::Read {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        Self::from_json(&SecretString::from(text))
    }

    /// Reads Google's JSON key format and checks the key signs.
    pub fn from_json(json: &SecretString) -> Result<Self, KeyFileError> {
        // serde_json's message names a line and column, never the content.
        let file: KeyFile = serde_json::from_str(json.expose_secret())
            .map_err(|e| KeyFileError::Format(e.to_string()))?;
        if file.kind != "service_account" {
            return Err(KeyFileError::Type(file.kind));
        }
        for (name, value) in [
            ("client_email", &file.client_email),
            ("private_key", &file.private_key),
            ("private_key_id", &file.private_key_id),
            ("token_uri", &file.token_uri),
        ] {
            if value.trim().is_empty() {
                return Err(KeyFileError::Missing(name));
            }
        }
        match url::Url::parse(&file.token_uri) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {}
            _ => return Err(KeyFileError::TokenUri(file.token_uri)),
        }
        let key = EncodingKey::from_rsa_pem(file.private_key.as_bytes())
            .map_err(|e| KeyFileError::Key(e.to_string()))?;
        let account = ServiceAccountKey {
            client_email: file.client_email,
            client_id: file.client_id,
            private_key_id: file.private_key_id,
            token_uri: file.token_uri,
            key: Arc::new(key),
        };
        // PEM that decodes is not yet a key that signs: try once now.
        account
            .assertion("check@example.com", DELEGATED_SCOPES, 0)
            .map_err(|e| KeyFileError::Key(e.to_string()))?;
        Ok(account)
    }

    /// The claims of an assertion acting as `sub`, issued at `now` (Unix s).
    pub fn claims(&self, sub: &str, scopes: &[&str], now: i64) -> Claims {
        Claims {
            iss: self.client_email.clone(),
            sub: sub.to_string(),
            scope: scopes.join(" "),
            aud: self.token_uri.clone(),
            iat: now,
            exp: now + ASSERTION_LIFETIME_S,
        }
    }

    /// The signed assertion (RS256, `kid` = the key's id) for `sub`.
    pub fn assertion(
        &self,
        sub: &str,
        scopes: &[&str],
        now: i64,
    ) -> Result<SecretString, jsonwebtoken::errors::Error> {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(self.private_key_id.clone());
        let jwt = jsonwebtoken::encode(&header, &self.claims(sub, scopes, now), &self.key)?;
        Ok(SecretString::from(jwt))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The demo's key file (the sandbox's fixture), read as a file like any other.
    const DEMO_SERVICE_ACCOUNT_KEY: &str = include_str!("../sandbox/fixtures/service-account.json");

    fn with(field: &str, value: serde_json::Value) -> SecretString {
        let mut file: serde_json::Value = serde_json::from_str(DEMO_SERVICE_ACCOUNT_KEY).unwrap();
        file[field] = value;
        SecretString::from(file.to_string())
    }

    #[test]
    fn googles_key_file_signs_an_rs256_assertion_with_its_key_id() {
        let key = ServiceAccountKey::from_json(&SecretString::from(DEMO_SERVICE_ACCOUNT_KEY))
            .expect("the demo key file");
        let jwt = key
            .assertion("maya@example.com", &["a", "b"], 1_800_000_000)
            .unwrap();
        let header = jsonwebtoken::decode_header(jwt.expose_secret()).unwrap();
        assert_eq!(header.alg, Algorithm::RS256);
        assert_eq!(header.kid.as_deref(), Some(key.private_key_id.as_str()));
        let claims = key.claims("maya@example.com", &["a", "b"], 1_800_000_000);
        assert_eq!(claims.scope, "a b");
        assert_eq!(claims.aud, "https://oauth2.googleapis.com/token");
        assert_eq!(claims.exp - claims.iat, 3600);
        assert!(
            !format!("{key:?}").contains("PRIVATE"),
            "Debug hides the key"
        );
    }

    #[test]
    fn a_bad_key_file_says_what_is_wrong_without_showing_the_key() {
        let cases = [
            (
                SecretString::from("{not json"),
                "not a Google service-account",
            ),
            (with("type", "authorized_user".into()), "authorized_user"),
            (with("client_email", "".into()), "client_email is empty"),
            (with("token_uri", "oauth2".into()), "token_uri"),
            (
                with(
                    "private_key",
                    "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n".into(),
                ),
                "private_key is not an RSA private key",
            ),
        ];
        for (json, expected) in cases {
            let error = ServiceAccountKey::from_json(&json).unwrap_err().to_string();
            assert!(error.contains(expected), "{error}");
            assert!(!error.contains("BEGIN"), "{error}");
        }
    }
}
