//! Secrets at rest: the keyring that seals every stored token with
//! XChaCha20-Poly1305 (RustCrypto's `chacha20poly1305`).
//!
//! The key comes from `SALES_AGENT_SECRET_KEY` (or a file named by
//! `SALES_AGENT_SECRET_KEY_FILE`): 32 bytes as 64 hex digits or base64. It is never
//! generated or stored by the service, so a copy of the database alone opens
//! nothing. Every sealed value names its key id (a digest of the key, not the
//! key), so `SALES_AGENT_SECRET_KEY_PREVIOUS` can keep opening values sealed under
//! the old key while `sales-agent rotate-key` reseals them under the new one. The
//! value's owner (e.g. `google:ana@example.com`) is bound in as associated data: a
//! sealed token copied onto another account's row does not open.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

/// XChaCha20's nonce: 24 random bytes, safe to draw at random for every value.
const NONCE_LEN: usize = 24;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SecretsError {
    #[error("{setting} must be 32 bytes, as 64 hex digits or base64 (e.g. `openssl rand -hex 32`)")]
    BadKey { setting: &'static str },
    #[error("SALES_AGENT_SECRET_KEY_FILE {path}: {reason}")]
    KeyFile { path: String, reason: String },
    #[error(
        "a value is sealed under key {key_id}, which neither SALES_AGENT_SECRET_KEY nor SALES_AGENT_SECRET_KEY_PREVIOUS is"
    )]
    UnknownKey { key_id: String },
    #[error(
        "a value sealed under key {key_id} does not open: it was altered or belongs to another row"
    )]
    Corrupt { key_id: String },
}

/// One key and the id stored beside what it sealed.
struct SecretKey {
    id: String,
    cipher: XChaCha20Poly1305,
}

impl SecretKey {
    fn parse(text: &str, setting: &'static str) -> Result<Self, SecretsError> {
        let text = text.trim();
        let bytes = hex::decode(text)
            .ok()
            .or_else(|| STANDARD.decode(text).ok())
            .filter(|b| b.len() == 32)
            .ok_or(SecretsError::BadKey { setting })?;
        let digest = Sha256::digest([b"sales-agent key id\0".as_slice(), &bytes].concat());
        Ok(SecretKey {
            id: hex::encode(&digest[..8]),
            cipher: XChaCha20Poly1305::new_from_slice(&bytes).expect("a 32-byte key"),
        })
    }
}

/// A fresh random key, as 64 hex digits — for a throwaway database only (the
/// demo's): a key for real data is the operator's, never the service's.
pub fn generate_key() -> SecretString {
    SecretString::from(hex::encode(XChaCha20Poly1305::generate_key(&mut OsRng)))
}

/// A value as stored: which key sealed it, and base64 of nonce then ciphertext.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed {
    pub key_id: String,
    pub data: String,
}

/// The current key (seals) and the previous ones (still open).
pub struct Keyring {
    current: SecretKey,
    previous: Vec<SecretKey>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyring")
            .field("current", &self.current.id)
            .field(
                "previous",
                &self.previous.iter().map(|k| &k.id).collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// Where the keys come from: the settings as configured.
#[derive(Debug, Clone, Default)]
pub struct KeySettings {
    pub key: Option<SecretString>,
    pub key_file: Option<std::path::PathBuf>,
    /// Comma-separated keys that still open (while rotating).
    pub previous: Option<SecretString>,
}

impl Keyring {
    /// The keyring the settings describe; `None` when no key is configured.
    pub fn from_settings(settings: &KeySettings) -> Result<Option<Keyring>, SecretsError> {
        let from_file = match &settings.key_file {
            Some(path) => {
                Some(
                    std::fs::read_to_string(path).map_err(|e| SecretsError::KeyFile {
                        path: path.display().to_string(),
                        reason: e.to_string(),
                    })?,
                )
            }
            None => None,
        };
        let current = match (&settings.key, from_file) {
            (Some(key), _) => key.expose_secret().to_string(),
            (None, Some(text)) => text,
            (None, None) => return Ok(None),
        };
        let current = SecretKey::parse(&current, "SALES_AGENT_SECRET_KEY")?;
        let previous = settings
            .previous
            .as_ref()
            .map(|p| {
                p.expose_secret()
                    .split(',')
                    .filter(|k| !k.trim().is_empty())
                    .map(|k| SecretKey::parse(k, "SALES_AGENT_SECRET_KEY_PREVIOUS"))
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()?
            .unwrap_or_default();
        Ok(Some(Keyring { current, previous }))
    }

    /// The id of the key new values are sealed under.
    pub fn current_id(&self) -> &str {
        &self.current.id
    }

    /// Seals `secret` for `owner` (bound in; the same owner must open it).
    pub fn seal(&self, secret: &SecretString, owner: &str) -> Sealed {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let ciphertext = self
            .current
            .cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: secret.expose_secret().as_bytes(),
                    aad: owner.as_bytes(),
                },
            )
            .expect("sealing in memory cannot fail");
        Sealed {
            key_id: self.current.id.clone(),
            data: STANDARD.encode([nonce.as_slice(), &ciphertext].concat()),
        }
    }

    /// Opens a value sealed for `owner` under the current or a previous key.
    pub fn open(&self, sealed: &Sealed, owner: &str) -> Result<SecretString, SecretsError> {
        let key = std::iter::once(&self.current)
            .chain(&self.previous)
            .find(|k| k.id == sealed.key_id)
            .ok_or_else(|| SecretsError::UnknownKey {
                key_id: sealed.key_id.clone(),
            })?;
        let corrupt = || SecretsError::Corrupt {
            key_id: sealed.key_id.clone(),
        };
        let bytes = STANDARD.decode(&sealed.data).map_err(|_| corrupt())?;
        if bytes.len() < NONCE_LEN {
            return Err(corrupt());
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        let plain = key
            .cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: owner.as_bytes(),
                },
            )
            .map_err(|_| corrupt())?;
        String::from_utf8(plain)
            .map(SecretString::from)
            .map_err(|_| corrupt())
    }

    /// Whether `sealed` should be resealed under the current key.
    pub fn is_stale(&self, sealed: &Sealed) -> bool {
        sealed.key_id != self.current.id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY_A: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
    const KEY_B: &str = "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100";

    fn ring(key: &str, previous: Option<&str>) -> Keyring {
        Keyring::from_settings(&KeySettings {
            key: Some(key.into()),
            key_file: None,
            previous: previous.map(SecretString::from),
        })
        .unwrap()
        .unwrap()
    }

    #[test]
    fn a_sealed_token_opens_only_for_its_owner_and_never_shows_the_plaintext() {
        let keys = ring(KEY_A, None);
        let token = SecretString::from("1//refresh-token-value");
        let sealed = keys.seal(&token, "google:ana@acme.com");
        assert!(!sealed.data.contains("refresh-token-value"));
        assert_eq!(
            keys.open(&sealed, "google:ana@acme.com")
                .unwrap()
                .expose_secret(),
            "1//refresh-token-value"
        );
        assert!(matches!(
            keys.open(&sealed, "google:eve@acme.com"),
            Err(SecretsError::Corrupt { .. })
        ));
        // Two seals of one value differ (a fresh nonce each time).
        assert_ne!(keys.seal(&token, "google:ana@acme.com").data, sealed.data);
    }

    #[test]
    fn an_altered_value_or_an_unknown_key_is_refused() {
        let keys = ring(KEY_A, None);
        let mut sealed = keys.seal(&SecretString::from("t"), "o");
        let mut bytes = STANDARD.decode(&sealed.data).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        sealed.data = STANDARD.encode(bytes);
        assert!(matches!(
            keys.open(&sealed, "o"),
            Err(SecretsError::Corrupt { .. })
        ));
        let other = ring(KEY_B, None).seal(&SecretString::from("t"), "o");
        assert_eq!(
            keys.open(&other, "o").unwrap_err(),
            SecretsError::UnknownKey {
                key_id: other.key_id.clone()
            }
        );
    }

    #[test]
    fn while_rotating_the_previous_key_still_opens_and_new_values_use_the_new_one() {
        let old = ring(KEY_A, None);
        let sealed = old.seal(&SecretString::from("t"), "o");
        let rotating = ring(KEY_B, Some(KEY_A));
        assert!(rotating.is_stale(&sealed));
        assert_eq!(rotating.open(&sealed, "o").unwrap().expose_secret(), "t");
        let resealed = rotating.seal(&SecretString::from("t"), "o");
        assert!(!rotating.is_stale(&resealed));
        assert_ne!(resealed.key_id, sealed.key_id);
    }

    #[test]
    fn keys_are_32_bytes_in_hex_or_base64_and_the_error_names_the_setting() {
        let base64 = STANDARD.encode([7u8; 32]);
        assert!(
            Keyring::from_settings(&KeySettings {
                key: Some(base64.into()),
                ..KeySettings::default()
            })
            .unwrap()
            .is_some()
        );
        for bad in ["", "short", &KEY_A[..62], &STANDARD.encode([7u8; 16])] {
            let error = Keyring::from_settings(&KeySettings {
                key: Some(bad.into()),
                ..KeySettings::default()
            })
            .unwrap_err();
            assert!(
                error.to_string().contains("SALES_AGENT_SECRET_KEY"),
                "{bad}"
            );
        }
        assert!(
            Keyring::from_settings(&KeySettings::default())
                .unwrap()
                .is_none()
        );
        let dir = std::env::temp_dir().join(format!("sa-key-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("key"), format!("{KEY_A}\n")).unwrap();
        let from_file = Keyring::from_settings(&KeySettings {
            key_file: Some(dir.join("key")),
            ..KeySettings::default()
        })
        .unwrap()
        .unwrap();
        assert_eq!(from_file.current_id(), ring(KEY_A, None).current_id());
        let fresh = generate_key();
        assert_ne!(
            ring(fresh.expose_secret(), None).current_id(),
            from_file.current_id()
        );
        std::fs::remove_dir_all(dir).unwrap();
    }
}
