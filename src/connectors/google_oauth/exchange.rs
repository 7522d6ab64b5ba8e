//! The authorization-code exchange (RFC 6749 §4.1.3, with the PKCE verifier of
//! RFC 7636 §4.5): one form POST to the token endpoint, its errors classified once
//! (§5.2) into what the caller can do about them.

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::{GoogleOAuth, OAuthError};
use crate::connectors::error::{Provider, classify};

/// What the token endpoint granted. `Debug` shows no token.
pub struct TokenGrant {
    pub access_token: SecretString,
    /// Present with `access_type=offline` on consent.
    pub refresh_token: Option<SecretString>,
    pub expires_in: Option<u64>,
    /// The scopes actually granted (a person may untick some).
    pub scopes: Vec<String>,
    /// Present when `openid` was asked for; verify before trusting anything in it.
    pub id_token: Option<SecretString>,
}

impl std::fmt::Debug for TokenGrant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenGrant")
            .field("refresh_token", &self.refresh_token.is_some())
            .field("expires_in", &self.expires_in)
            .field("scopes", &self.scopes)
            .field("id_token", &self.id_token.is_some())
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    refresh_token: Option<String>,
    expires_in: Option<u64>,
    scope: Option<String>,
    id_token: Option<String>,
}

#[derive(Default, Deserialize)]
struct TokenError {
    error: Option<String>,
    error_description: Option<String>,
}

impl GoogleOAuth {
    /// Trades a callback's code for tokens.
    pub async fn exchange_code(
        &self,
        code: &str,
        redirect_uri: &str,
        pkce_verifier: &SecretString,
    ) -> Result<TokenGrant, OAuthError> {
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri),
            ("client_id", self.client_id.as_str()),
            ("client_secret", self.client_secret.expose_secret()),
            ("code_verifier", pkce_verifier.expose_secret()),
        ];
        let response = self
            .http
            .post(self.token_url.clone())
            .form(&form)
            .send()
            .await
            .map_err(|e| OAuthError::Unavailable(e.into()))?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = response
            .bytes()
            .await
            .map_err(|e| OAuthError::Unavailable(e.into()))?;
        if status.is_success() {
            let token: TokenResponse = serde_json::from_slice(&body).map_err(|e| {
                OAuthError::Misconfigured(format!("unexpected token response: {e}"))
            })?;
            return Ok(TokenGrant {
                access_token: SecretString::from(token.access_token),
                refresh_token: token.refresh_token.map(SecretString::from),
                expires_in: token.expires_in,
                scopes: token
                    .scope
                    .unwrap_or_default()
                    .split_whitespace()
                    .map(str::to_string)
                    .collect(),
                id_token: token.id_token.map(SecretString::from),
            });
        }
        if status.is_server_error() || status.as_u16() == 429 {
            return Err(OAuthError::Unavailable(classify(
                Provider::Google,
                status,
                &headers,
                &String::from_utf8_lossy(&body),
            )));
        }
        let error: TokenError = serde_json::from_slice(&body).unwrap_or_default();
        let code = error.error.unwrap_or_else(|| status.to_string());
        let described = match error.error_description {
            Some(d) => format!("{code}: {d}"),
            None => code.clone(),
        };
        Err(match code.as_str() {
            // Expired, already used, or the verifier / redirect URI do not match.
            "invalid_grant" => OAuthError::InvalidGrant(described),
            // invalid_client, unauthorized_client, unsupported_grant_type,
            // invalid_request, invalid_scope: nothing a retry or the person can fix.
            _ => OAuthError::Misconfigured(described),
        })
    }
}
