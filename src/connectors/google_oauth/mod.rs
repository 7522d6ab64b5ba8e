//! Google's OAuth 2.0 / OpenID Connect client, for any caller that sends a person
//! to Google and back: console sign-in, and a rep connecting their mailbox.
//!
//! ```text
//! authorize.rs   the authorization URL: state, nonce, PKCE S256 (RFC 7636), scopes,
//!                access_type, prompt, login_hint, hd; the callback's checks
//! exchange.rs    the code exchange (RFC 6749 §4.1.3), errors classified once
//! id_token.rs    ID-token verification (OpenID Connect Core §3.1.3.7): RS256 only,
//!                iss, aud/azp, exp/iat, nonce, hd, email_verified
//! jwks.rs        the provider's signing keys, cached, refetched on an unknown kid
//! ```
//!
//! A flow: [`Pending::new`] → store it server-side, bound to the browser →
//! redirect to [`GoogleOAuth::authorization_url`] → on the callback
//! [`Pending::check_callback`] → [`GoogleOAuth::exchange_code`] →
//! [`GoogleOAuth::verify_id_token`] (or [`GoogleOAuth::finish`] for the last two).
//! Nothing here logs a code, a token or an address.

mod authorize;
mod exchange;
mod id_token;
mod jwks;

#[cfg(test)]
mod flow_tests;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use secrecy::SecretString;
use url::Url;

pub use authorize::{AuthRequest, CallbackParams, Pending, pkce_challenge};
pub use exchange::TokenGrant;
pub use id_token::{Expectations, IdClaims, IdTokenError, LEEWAY_SECS};
pub use jwks::{JwksCache, JwksSource};

use super::ConnectorError;
use crate::config::Config;

/// The scopes signing in needs: who the person is, and their verified address.
pub const SIGN_IN_SCOPES: &[&str] = &["openid", "email", "profile"];

/// Google's issuer, which its ID tokens spell with or without the scheme.
pub const GOOGLE_ISSUER: &str = "https://accounts.google.com";

/// Why a round trip through the provider did not give a verified person.
#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    /// The person said no at the consent page (`error=access_denied`).
    #[error("the Google account did not grant access")]
    Denied,
    /// The callback's `state` is missing or not the one this browser was sent with.
    #[error("the sign-in response does not belong to this browser")]
    StateMismatch,
    /// The provider answered the callback with another error (RFC 6749 §4.1.2.1).
    #[error("the provider refused the request: {0}")]
    Provider(String),
    /// The code is expired, used, or its PKCE verifier or redirect URI do not match
    /// (`invalid_grant`): starting again fixes it.
    #[error("the authorization code was refused: {0}")]
    InvalidGrant(String),
    /// Our client is not set up right at the provider (`invalid_client`,
    /// `unauthorized_client`, a redirect URI not registered, …): an operator must act.
    #[error("the OAuth client is misconfigured: {0}")]
    Misconfigured(String),
    /// The provider could not be reached or failed (5xx, 429, timeout): try later.
    #[error("the provider is unavailable: {0}")]
    Unavailable(ConnectorError),
    /// The token endpoint answered without an ID token where one was needed.
    #[error("the provider returned no ID token")]
    NoIdToken,
    #[error(transparent)]
    IdToken(#[from] IdTokenError),
}

/// The client: our registration at the provider and where the provider is.
pub struct GoogleOAuth {
    http: reqwest::Client,
    client_id: String,
    client_secret: SecretString,
    auth_url: Url,
    token_url: Url,
    issuers: Vec<String>,
    keys: Arc<JwksCache>,
}

impl GoogleOAuth {
    /// A client for `issuer` (Google's, or the sandbox's). Google's tokens carry
    /// `iss` as `accounts.google.com` or `https://accounts.google.com`; both are its.
    pub fn new(
        http: reqwest::Client,
        client_id: impl Into<String>,
        client_secret: SecretString,
        auth_url: Url,
        token_url: Url,
        issuer: &str,
        keys: JwksSource,
    ) -> Self {
        let issuer = issuer.trim_end_matches('/').to_string();
        let issuers = if issuer == GOOGLE_ISSUER {
            vec![issuer, "accounts.google.com".to_string()]
        } else {
            vec![issuer]
        };
        let keys = Arc::new(JwksCache::new(http.clone(), keys));
        GoogleOAuth {
            http,
            client_id: client_id.into(),
            client_secret,
            auth_url,
            token_url,
            issuers,
            keys,
        }
    }

    /// The client from the settings, or `None` when no client id and secret are set.
    pub fn from_config(config: &Config, http: reqwest::Client) -> Option<Self> {
        use secrecy::ExposeSecret;
        let c = &config.connectors;
        let (id, secret) = (
            c.google_client_id.as_ref()?,
            c.google_client_secret.clone()?,
        );
        let g = &config.google_oauth;
        let keys = match &g.jwks_url {
            Some(url) => JwksSource::Url(url.clone()),
            None => JwksSource::Discovery(g.issuer.clone()),
        };
        Some(Self::new(
            http,
            id.expose_secret(),
            secret,
            g.auth_url.clone(),
            c.google_token_url.clone(),
            &g.issuer,
            keys,
        ))
    }

    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The signing-key cache (shared, so tests and callers can see its fetch count).
    pub fn keys(&self) -> &JwksCache {
        &self.keys
    }

    /// Exchanges the code and verifies the ID token that comes with it: the usual
    /// end of a flow that asked for `openid`.
    pub async fn finish(
        &self,
        code: &str,
        redirect_uri: &str,
        pending: &Pending,
        allowed_domains: &[String],
    ) -> Result<(TokenGrant, IdClaims), OAuthError> {
        let grant = self
            .exchange_code(code, redirect_uri, &pending.pkce_verifier)
            .await?;
        let id_token = grant.id_token.as_ref().ok_or(OAuthError::NoIdToken)?;
        let claims = self
            .verify_id_token(
                secrecy::ExposeSecret::expose_secret(id_token),
                &Expectations {
                    nonce: &pending.nonce,
                    allowed_domains,
                },
            )
            .await?;
        Ok((grant, claims))
    }
}
