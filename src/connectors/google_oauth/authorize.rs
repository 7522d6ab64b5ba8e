//! The way out and back: the authorization URL (RFC 6749 §4.1.1 with PKCE, RFC 7636
//! §4, and OpenID Connect's `nonce`) and the checks on the callback's query.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chacha20poly1305::aead::OsRng;
use chacha20poly1305::aead::rand_core::RngCore;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use url::Url;

use super::{GoogleOAuth, OAuthError};

/// What one trip to the provider must remember until it comes back. Store it
/// server-side, bound to the browser that started it (a cookie), and use it once.
#[derive(Clone)]
pub struct Pending {
    /// Sent to the provider and echoed back: ties the callback to this browser (CSRF).
    pub state: String,
    /// Sent to the provider and signed into the ID token: ties the token to this trip.
    pub nonce: String,
    /// The PKCE secret; only its S256 hash leaves the service before the exchange.
    pub pkce_verifier: SecretString,
}

impl std::fmt::Debug for Pending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pending { .. }")
    }
}

impl Pending {
    /// Fresh random values: 256 bits each from the OS generator, base64url
    /// (a 43-character verifier, as RFC 7636 §4.1 recommends).
    pub fn new() -> Self {
        Pending {
            state: random(),
            nonce: random(),
            pkce_verifier: SecretString::from(random()),
        }
    }

    /// The authorization code from a callback, when its `state` is ours and the
    /// provider did not answer with an error.
    pub fn check_callback(&self, params: &CallbackParams) -> Result<String, OAuthError> {
        let state_ok = params
            .state
            .as_deref()
            .is_some_and(|s| bool::from(s.as_bytes().ct_eq(self.state.as_bytes())));
        // An error redirect carries our state too; an unknown state is a forgery
        // whatever else it says, so it is checked first.
        if !state_ok {
            return Err(OAuthError::StateMismatch);
        }
        match (params.error.as_deref(), params.code.as_deref()) {
            (Some("access_denied"), _) => Err(OAuthError::Denied),
            (Some(other), _) => Err(OAuthError::Provider(other.to_string())),
            (None, Some(code)) if !code.is_empty() => Ok(code.to_string()),
            (None, _) => Err(OAuthError::Provider("no code in the response".into())),
        }
    }
}

impl Default for Pending {
    fn default() -> Self {
        Self::new()
    }
}

/// The callback's query (RFC 6749 §4.1.2 and §4.1.2.1).
#[derive(Debug, Default, Deserialize)]
pub struct CallbackParams {
    pub code: Option<String>,
    pub state: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
}

/// What to ask the provider for.
#[derive(Debug, Clone, Copy)]
pub struct AuthRequest<'a> {
    /// Must be registered for the client at the provider, exactly.
    pub redirect_uri: &'a str,
    pub scopes: &'a [&'a str],
    /// `access_type=offline`: a refresh token comes back (on consent).
    pub offline: bool,
    /// `consent` forces the consent page (and so a new refresh token);
    /// `select_account` the account chooser.
    pub prompt: Option<&'a str>,
    /// Pre-selects an account (a rep's mailbox).
    pub login_hint: Option<&'a str>,
    /// Asks the chooser to offer accounts of this Workspace domain only. A hint to
    /// the page, not a check: the ID token's `hd` is what is checked.
    pub hd: Option<&'a str>,
}

impl<'a> AuthRequest<'a> {
    /// Sign-in: `openid email profile`, online, the account chooser.
    pub fn sign_in(redirect_uri: &'a str) -> Self {
        AuthRequest {
            redirect_uri,
            scopes: super::SIGN_IN_SCOPES,
            offline: false,
            prompt: Some("select_account"),
            login_hint: None,
            hd: None,
        }
    }
}

/// `BASE64URL(SHA256(verifier))`, the S256 challenge of RFC 7636 §4.2.
pub fn pkce_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

impl GoogleOAuth {
    /// Where to send the browser. The URL carries no secret: the verifier is
    /// only hashed, and state and nonce are single-use.
    pub fn authorization_url(&self, request: &AuthRequest<'_>, pending: &Pending) -> Url {
        let mut url = self.auth_url.clone();
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("client_id", &self.client_id)
                .append_pair("redirect_uri", request.redirect_uri)
                .append_pair("response_type", "code")
                .append_pair("scope", &request.scopes.join(" "))
                .append_pair("state", &pending.state)
                .append_pair("nonce", &pending.nonce)
                .append_pair(
                    "code_challenge",
                    &pkce_challenge(pending.pkce_verifier.expose_secret()),
                )
                .append_pair("code_challenge_method", "S256")
                .append_pair(
                    "access_type",
                    if request.offline { "offline" } else { "online" },
                );
            if let Some(prompt) = request.prompt {
                q.append_pair("prompt", prompt);
            }
            if let Some(hint) = request.login_hint {
                q.append_pair("login_hint", hint);
            }
            if let Some(hd) = request.hd {
                q.append_pair("hd", hd);
            }
        }
        url
    }
}

fn random() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}
