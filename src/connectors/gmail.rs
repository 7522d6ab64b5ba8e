//! Gmail v1: threads, drafts and messages of a rep's mailbox. Each call names the
//! mailbox; its OAuth token comes from [`GoogleTokens`] and the path uses `me`.
//! Messages travel as base64url `raw` RFC 5322 (see `mime.rs`).

use std::sync::Arc;

use async_trait::async_trait;
use serde::Serialize;

use super::error::ConnectorError;
pub use super::gmail_types::*;
use super::google_auth::GoogleTokens;
use super::http::Endpoint;
use super::limiter::RateCost;
use super::query::{Folder, GmailQuery};

pub const THREADS_LIST: Endpoint = Endpoint {
    id: "gmail.users.threads.list",
    method: "GET",
    path: "gmail/v1/users/{userId}/threads",
    query: &["q", "maxResults", "pageToken"],
    body: &[],
    idempotent: true,
};
pub const THREADS_GET: Endpoint = Endpoint {
    id: "gmail.users.threads.get",
    method: "GET",
    path: "gmail/v1/users/{userId}/threads/{id}",
    query: &["format"],
    body: &[],
    idempotent: true,
};
pub const DRAFTS_CREATE: Endpoint = Endpoint {
    id: "gmail.users.drafts.create",
    method: "POST",
    path: "gmail/v1/users/{userId}/drafts",
    query: &[],
    body: &["message"],
    idempotent: false,
};
pub const DRAFTS_GET: Endpoint = Endpoint {
    id: "gmail.users.drafts.get",
    method: "GET",
    path: "gmail/v1/users/{userId}/drafts/{id}",
    query: &["format"],
    body: &[],
    idempotent: true,
};
pub const DRAFTS_LIST: Endpoint = Endpoint {
    id: "gmail.users.drafts.list",
    method: "GET",
    path: "gmail/v1/users/{userId}/drafts",
    query: &["q", "maxResults", "pageToken"],
    body: &[],
    idempotent: true,
};
pub const DRAFTS_SEND: Endpoint = Endpoint {
    id: "gmail.users.drafts.send",
    method: "POST",
    path: "gmail/v1/users/{userId}/drafts/send",
    query: &[],
    body: &["id"],
    idempotent: false,
};
pub const MESSAGES_SEND: Endpoint = Endpoint {
    id: "gmail.users.messages.send",
    method: "POST",
    path: "gmail/v1/users/{userId}/messages/send",
    query: &[],
    body: &["raw", "threadId"],
    idempotent: false,
};
pub const MESSAGES_GET: Endpoint = Endpoint {
    id: "gmail.users.messages.get",
    method: "GET",
    path: "gmail/v1/users/{userId}/messages/{id}",
    query: &["format"],
    body: &[],
    idempotent: true,
};

/// Every endpoint this client calls, for the contract test.
pub const ENDPOINTS: &[Endpoint] = &[
    THREADS_LIST,
    THREADS_GET,
    DRAFTS_CREATE,
    DRAFTS_GET,
    DRAFTS_LIST,
    DRAFTS_SEND,
    MESSAGES_SEND,
    MESSAGES_GET,
];

/// Gmail's per-user quota units of an operation (the May-2026 table where known).
pub fn cost(mailbox: &str, endpoint: &Endpoint) -> RateCost {
    let units = match endpoint.id {
        "gmail.users.drafts.send" | "gmail.users.messages.send" => 100,
        "gmail.users.drafts.get" | "gmail.users.messages.get" => 20,
        "gmail.users.drafts.list" => 5,
        _ => 10,
    };
    RateCost::units(mailbox.to_ascii_lowercase(), units)
}

#[async_trait]
pub trait Gmail: Send + Sync {
    async fn threads_list(
        &self,
        mailbox: &str,
        req: &ListRequest,
    ) -> Result<ThreadList, ConnectorError>;
    async fn threads_get(
        &self,
        mailbox: &str,
        id: &str,
        format: Format,
    ) -> Result<Thread, ConnectorError>;
    /// `raw` is the RFC 5322 message; `thread_id` threads it into an existing conversation.
    async fn drafts_create(
        &self,
        mailbox: &str,
        raw: &[u8],
        thread_id: Option<&str>,
    ) -> Result<Draft, ConnectorError>;
    /// A sent (or deleted) draft answers NotFound.
    async fn drafts_get(
        &self,
        mailbox: &str,
        id: &str,
        format: Format,
    ) -> Result<Draft, ConnectorError>;
    async fn drafts_list(
        &self,
        mailbox: &str,
        req: &ListRequest,
    ) -> Result<DraftList, ConnectorError>;
    async fn drafts_send(&self, mailbox: &str, draft_id: &str) -> Result<Message, ConnectorError>;
    async fn messages_send(
        &self,
        mailbox: &str,
        raw: &[u8],
        thread_id: Option<&str>,
    ) -> Result<Message, ConnectorError>;
    async fn messages_get(
        &self,
        mailbox: &str,
        id: &str,
        format: Format,
    ) -> Result<Message, ConnectorError>;

    /// The thread holding a message we sent with this `Message-ID`, if Gmail kept
    /// the id (API_FACTS §6.6 step 4: how a send with an unknown outcome is found).
    async fn find_sent_thread(
        &self,
        mailbox: &str,
        message_id: &str,
    ) -> Result<Option<String>, ConnectorError> {
        let q = GmailQuery::new()
            .in_folder(Folder::Sent)
            .rfc822msgid(message_id)?;
        let req = ListRequest {
            q: Some(q),
            max_results: Some(1),
            page_token: None,
        };
        let page = self.threads_list(mailbox, &req).await?;
        Ok(page.threads.into_iter().next().map(|t| t.id))
    }

    /// The draft carrying this `Message-ID`, if one exists (re-entry after a crash
    /// between drafts.create and recording its id).
    async fn find_draft(
        &self,
        mailbox: &str,
        message_id: &str,
    ) -> Result<Option<String>, ConnectorError> {
        let req = ListRequest {
            q: Some(GmailQuery::new().rfc822msgid(message_id)?),
            max_results: Some(1),
            page_token: None,
        };
        let page = self.drafts_list(mailbox, &req).await?;
        Ok(page.drafts.into_iter().next().map(|d| d.id))
    }
}

pub struct GmailClient {
    http: reqwest::Client,
    base: String,
    tokens: Arc<GoogleTokens>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RawMessage<'a> {
    raw: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    thread_id: Option<&'a str>,
}

impl GmailClient {
    /// `base` is the API root, `https://gmail.googleapis.com` in production.
    pub fn new(http: reqwest::Client, base: impl Into<String>, tokens: Arc<GoogleTokens>) -> Self {
        GmailClient {
            http,
            base: base.into(),
            tokens,
        }
    }

    fn url(&self, endpoint: &Endpoint, ids: &[&str]) -> String {
        let mut values = vec!["me"];
        values.extend_from_slice(ids);
        endpoint.url(&self.base, &values)
    }

    async fn get<T: serde::de::DeserializeOwned>(
        &self,
        mailbox: &str,
        endpoint: &Endpoint,
        ids: &[&str],
        params: &[(&'static str, String)],
    ) -> Result<T, ConnectorError> {
        let url = self.url(endpoint, ids);
        let params = endpoint.query(params);
        self.tokens
            .send_json(mailbox, || self.http.get(&url).query(params))
            .await
    }

    async fn post<T: serde::de::DeserializeOwned>(
        &self,
        mailbox: &str,
        endpoint: &Endpoint,
        body: &serde_json::Value,
    ) -> Result<T, ConnectorError> {
        let url = self.url(endpoint, &[]);
        let body = endpoint.body(body);
        self.tokens
            .send_json(mailbox, || self.http.post(&url).json(body))
            .await
    }
}

/// A message as `drafts.create` and `messages.send` take it: the raw RFC 5322
/// bytes in base64url, and the thread it joins.
pub fn raw_message(raw: &[u8], thread_id: Option<&str>) -> serde_json::Value {
    serde_json::to_value(RawMessage {
        raw: super::mime::to_raw(raw),
        thread_id,
    })
    .expect("plain struct serialises")
}

#[async_trait]
impl Gmail for GmailClient {
    async fn threads_list(
        &self,
        mailbox: &str,
        req: &ListRequest,
    ) -> Result<ThreadList, ConnectorError> {
        self.get(mailbox, &THREADS_LIST, &[], &req.params()).await
    }

    async fn threads_get(
        &self,
        mailbox: &str,
        id: &str,
        format: Format,
    ) -> Result<Thread, ConnectorError> {
        let params = [("format", format.as_str().to_string())];
        self.get(mailbox, &THREADS_GET, &[id], &params).await
    }

    async fn drafts_create(
        &self,
        mailbox: &str,
        raw: &[u8],
        thread_id: Option<&str>,
    ) -> Result<Draft, ConnectorError> {
        let body = serde_json::json!({ "message": raw_message(raw, thread_id) });
        self.post(mailbox, &DRAFTS_CREATE, &body).await
    }

    async fn drafts_get(
        &self,
        mailbox: &str,
        id: &str,
        format: Format,
    ) -> Result<Draft, ConnectorError> {
        let params = [("format", format.as_str().to_string())];
        self.get(mailbox, &DRAFTS_GET, &[id], &params).await
    }

    async fn drafts_list(
        &self,
        mailbox: &str,
        req: &ListRequest,
    ) -> Result<DraftList, ConnectorError> {
        self.get(mailbox, &DRAFTS_LIST, &[], &req.params()).await
    }

    async fn drafts_send(&self, mailbox: &str, draft_id: &str) -> Result<Message, ConnectorError> {
        let body = serde_json::json!({ "id": draft_id });
        self.post(mailbox, &DRAFTS_SEND, &body).await
    }

    async fn messages_send(
        &self,
        mailbox: &str,
        raw: &[u8],
        thread_id: Option<&str>,
    ) -> Result<Message, ConnectorError> {
        self.post(mailbox, &MESSAGES_SEND, &raw_message(raw, thread_id))
            .await
    }

    async fn messages_get(
        &self,
        mailbox: &str,
        id: &str,
        format: Format,
    ) -> Result<Message, ConnectorError> {
        let params = [("format", format.as_str().to_string())];
        self.get(mailbox, &MESSAGES_GET, &[id], &params).await
    }
}
