//! Revoking a rep's grant at Google (RFC 7009): `POST
//! https://oauth2.googleapis.com/revoke`, form-encoded `token`. Revoking the
//! refresh token ends the whole grant, its access tokens with it. No client
//! authentication is sent: Google's endpoint takes the token alone.
//!
//! Google answers 200 when it revoked the token, and 400 `invalid_token` when
//! the token was already revoked or expired — for a disconnection both mean the
//! grant is dead at Google. Anything else (unreachable, 5xx, 429, another
//! refusal) means nobody knows that it is: the caller must keep the grant.

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use url::Url;

use super::error::{ConnectorError, Provider, classify};
use crate::config::ConnectorsConfig;

/// What Google said about the token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Revoked {
    /// Google revoked it now.
    Now,
    /// Google no longer knew it as live (revoked or expired before).
    AlreadyInvalid,
}

impl Revoked {
    /// As the audit log and the JSON API say it.
    pub fn as_str(self) -> &'static str {
        match self {
            Revoked::Now => "revoked",
            Revoked::AlreadyInvalid => "already_invalid",
        }
    }
}

/// Why Google did not confirm the grant is dead: it may still be live.
#[derive(Debug, thiserror::Error)]
pub enum RevokeError {
    /// The endpoint could not be reached, timed out, or failed (5xx, 429).
    #[error("Google's revocation endpoint is unavailable ({0})")]
    Unavailable(ConnectorError),
    /// Google answered with another error.
    #[error("Google refused the revocation ({0})")]
    Refused(String),
}

/// The client of Google's revocation endpoint.
pub struct GoogleRevocation {
    http: reqwest::Client,
    url: Url,
}

#[derive(Default, Deserialize)]
struct RevokeErrorBody {
    error: Option<String>,
    error_description: Option<String>,
}

impl GoogleRevocation {
    pub fn new(http: reqwest::Client, url: Url) -> Self {
        GoogleRevocation { http, url }
    }

    /// Google serves the revocation endpoint beside its token endpoint
    /// (`oauth2.googleapis.com/token` → `/revoke`), and so does the sandbox:
    /// it follows `SALES_AGENT_GOOGLE_TOKEN_URL` rather than being a setting
    /// of its own that could point elsewhere.
    pub fn from_config(config: &ConnectorsConfig) -> Self {
        let url = config
            .google_token_url
            .join("revoke")
            .expect("a path beside an http(s) URL parses");
        Self::new(super::http::client(config.timeout), url)
    }

    pub fn url(&self) -> &Url {
        &self.url
    }

    /// Revokes `token` (a refresh token) at Google, once: the admin waiting
    /// for the answer decides whether to try again.
    pub async fn revoke(&self, token: &SecretString) -> Result<Revoked, RevokeError> {
        let response = self
            .http
            .post(self.url.clone())
            .form(&[("token", token.expose_secret())])
            .send()
            .await
            .map_err(|e| RevokeError::Unavailable(e.into()))?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = response
            .bytes()
            .await
            .map_err(|e| RevokeError::Unavailable(e.into()))?;
        if status.is_success() {
            return Ok(Revoked::Now);
        }
        if status.is_server_error() || status.as_u16() == 429 {
            return Err(RevokeError::Unavailable(classify(
                Provider::Google,
                status,
                &headers,
                &String::from_utf8_lossy(&body),
            )));
        }
        let error: RevokeErrorBody = serde_json::from_slice(&body).unwrap_or_default();
        if status.as_u16() == 400 && error.error.as_deref() == Some("invalid_token") {
            return Ok(Revoked::AlreadyInvalid);
        }
        let code = error.error.unwrap_or_else(|| status.to_string());
        Err(RevokeError::Refused(match error.error_description {
            Some(d) => format!("{code}: {d}"),
            None => code,
        }))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use wiremock::matchers::{body_string, header, method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    use super::*;

    async fn answering(response: ResponseTemplate) -> (MockServer, GoogleRevocation) {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/revoke"))
            .and(header("content-type", "application/x-www-form-urlencoded"))
            .and(body_string("token=1%2F%2F0refresh"))
            .respond_with(response)
            .expect(1)
            .mount(&server)
            .await;
        let url = Url::parse(&format!("{}/revoke", server.uri())).unwrap();
        (server, GoogleRevocation::new(reqwest::Client::new(), url))
    }

    fn token() -> SecretString {
        SecretString::from("1//0refresh")
    }

    #[test]
    fn the_endpoint_sits_beside_the_token_endpoint() {
        let config = crate::config::Config::defaults().connectors;
        assert_eq!(
            GoogleRevocation::from_config(&config).url().as_str(),
            "https://oauth2.googleapis.com/revoke"
        );
        let mut sandbox = config.clone();
        sandbox.google_token_url = "http://127.0.0.1:4010/token".parse().unwrap();
        assert_eq!(
            GoogleRevocation::from_config(&sandbox).url().as_str(),
            "http://127.0.0.1:4010/revoke"
        );
    }

    #[tokio::test]
    async fn a_200_is_revoked_now() {
        let (_server, client) = answering(ResponseTemplate::new(200)).await;
        assert_eq!(client.revoke(&token()).await.unwrap(), Revoked::Now);
    }

    #[tokio::test]
    async fn invalid_token_means_it_was_already_dead() {
        let body =
            json!({"error": "invalid_token", "error_description": "Token expired or revoked"});
        let (_server, client) = answering(ResponseTemplate::new(400).set_body_json(body)).await;
        assert_eq!(
            client.revoke(&token()).await.unwrap(),
            Revoked::AlreadyInvalid
        );
    }

    #[tokio::test]
    async fn a_5xx_or_429_leaves_it_unknown() {
        for status in [500, 503, 429] {
            let (_server, client) = answering(ResponseTemplate::new(status)).await;
            let error = client.revoke(&token()).await.unwrap_err();
            assert!(
                matches!(error, RevokeError::Unavailable(_)),
                "{status}: {error}"
            );
        }
    }

    #[tokio::test]
    async fn another_refusal_is_not_taken_for_a_revocation() {
        let body = json!({"error": "invalid_request", "error_description": "Bad Request"});
        let (_server, client) = answering(ResponseTemplate::new(400).set_body_json(body)).await;
        let error = client.revoke(&token()).await.unwrap_err();
        assert!(
            matches!(&error, RevokeError::Refused(m) if m.contains("invalid_request")),
            "{error}"
        );
    }

    #[tokio::test]
    async fn an_unreachable_endpoint_leaves_it_unknown() {
        let client = GoogleRevocation::new(
            reqwest::Client::new(),
            "http://127.0.0.1:9/revoke".parse().unwrap(),
        );
        let error = client.revoke(&token()).await.unwrap_err();
        assert!(matches!(error, RevokeError::Unavailable(_)), "{error}");
    }
}
