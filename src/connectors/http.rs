//! What every client shares: building a reqwest client with a timeout, turning a
//! response into a typed value or a classified error, and the endpoint tables the
//! contract test checks against Google's discovery documents.

use std::time::Duration;

use reqwest::{Method, RequestBuilder, Response};
use serde::de::DeserializeOwned;

use super::error::{ConnectorError, Provider, classify};

/// One endpoint a client calls, as the contract test sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Endpoint {
    /// The discovery method id, e.g. `gmail.users.drafts.create` (HubSpot: our own name).
    pub id: &'static str,
    pub method: &'static str,
    /// Path template relative to the service root, e.g. `gmail/v1/users/{userId}/drafts`.
    pub path: &'static str,
    /// Query parameters the client may send.
    pub query: &'static [&'static str],
    /// Top-level fields of the JSON body the client sends (empty: no body).
    pub body: &'static [&'static str],
    /// Whether sending it twice has the effect of sending it once. A create
    /// without a client-chosen id (a note, a draft, a send) is not: after a
    /// timeout or 5xx its outcome is unknown and must be reconciled, not resent.
    pub idempotent: bool,
}

impl Endpoint {
    /// The path with each `{name}` replaced, in order, by a percent-encoded value.
    pub fn url(&self, base: &str, values: &[&str]) -> String {
        let mut out = String::with_capacity(base.len() + self.path.len());
        out.push_str(base.trim_end_matches('/'));
        out.push('/');
        let mut values = values.iter();
        let mut rest = self.path;
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let close = rest[open..]
                .find('}')
                .map(|c| open + c)
                .unwrap_or(rest.len() - 1);
            let value = values.next().expect("a value for every path parameter");
            out.extend(
                url::form_urlencoded::byte_serialize(value.as_bytes()).map(|s| {
                    // form encoding writes spaces as '+', which a path would keep literally.
                    if s == "+" { "%20" } else { s }
                }),
            );
            rest = &rest[close + 1..];
        }
        out.push_str(rest);
        out
    }

    /// Passes `pairs` through, checking in debug builds (every test) that each name
    /// is in the table, so the table the contract test checks is what is sent.
    pub fn query<'a, V>(&self, pairs: &'a [(&'static str, V)]) -> &'a [(&'static str, V)] {
        for (name, _) in pairs {
            debug_assert!(
                self.query.contains(name),
                "{} sends query parameter {name} missing from its endpoint table",
                self.id
            );
        }
        pairs
    }

    /// Passes a JSON body through, checking in debug builds that each top-level
    /// field is in the table (which the contract test checks against Google's).
    pub fn body<'a>(&self, body: &'a serde_json::Value) -> &'a serde_json::Value {
        for name in body.as_object().into_iter().flat_map(|o| o.keys()) {
            debug_assert!(
                self.body.contains(&name.as_str()),
                "{} sends body field {name} missing from its endpoint table",
                self.id
            );
        }
        body
    }

    pub fn http_method(&self) -> Method {
        Method::from_bytes(self.method.as_bytes()).expect("endpoint tables use valid methods")
    }
}

/// A reqwest client whose every request gives up after `timeout`.
pub fn client(timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(10)))
        .user_agent(concat!("sales-agent/", env!("CARGO_PKG_VERSION")))
        .build()
        .expect("a client with static settings builds")
}

/// Sends the request; a non-success status becomes a classified error.
pub async fn send(request: RequestBuilder, provider: Provider) -> Result<Response, ConnectorError> {
    let response = request.send().await?;
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let headers = response.headers().clone();
    // The body only explains the error; if it cannot be read the status still speaks.
    let body = response.text().await.unwrap_or_default();
    Err(classify(provider, status, &headers, &body))
}

/// Sends the request and decodes a JSON success body.
pub async fn send_json<T: DeserializeOwned>(
    request: RequestBuilder,
    provider: Provider,
) -> Result<T, ConnectorError> {
    decode(send(request, provider).await?).await
}

/// Decodes a JSON success body.
pub async fn decode<T: DeserializeOwned>(response: Response) -> Result<T, ConnectorError> {
    let bytes = response.bytes().await?;
    serde_json::from_slice(&bytes).map_err(|e| ConnectorError::Permanent {
        status: 0,
        message: format!("unexpected response shape: {e}"),
    })
}

/// Sends the request and ignores the success body (204s and the like).
pub async fn send_empty(request: RequestBuilder, provider: Provider) -> Result<(), ConnectorError> {
    send(request, provider).await.map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DRAFT_GET: Endpoint = Endpoint {
        id: "gmail.users.drafts.get",
        method: "GET",
        path: "gmail/v1/users/{userId}/drafts/{id}",
        query: &["format"],
        body: &[],
        idempotent: true,
    };

    #[test]
    #[should_panic(expected = "missing from its endpoint table")]
    fn a_query_parameter_outside_the_table_is_caught() {
        DRAFT_GET.query(&[("fields", "id")]);
    }

    #[test]
    fn path_values_are_encoded_so_they_cannot_change_the_path() {
        let url = DRAFT_GET.url("https://gmail.googleapis.com/", &["me", "../../x?y=1 z"]);
        assert_eq!(
            url,
            "https://gmail.googleapis.com/gmail/v1/users/me/drafts/..%2F..%2Fx%3Fy%3D1%20z"
        );
    }
}
