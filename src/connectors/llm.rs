//! An OpenAI-compatible chat-completions client: `POST {base}/chat/completions`
//! with a bearer key, asking for a JSON object, returning the first choice's text.
//! The model gets no tools: it returns text, and code decides what to do with it.

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use super::error::{ConnectorError, Provider};
use super::http::{self, Endpoint};

pub const CHAT_COMPLETIONS: Endpoint = Endpoint {
    id: "llm.chat.completions",
    method: "POST",
    path: "chat/completions",
    query: &[],
    body: &[
        "model",
        "messages",
        "response_format",
        "temperature",
        "max_tokens",
    ],
    idempotent: true,
};

pub const ENDPOINTS: &[Endpoint] = &[CHAT_COMPLETIONS];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    /// `system`, `user` or `assistant`.
    pub role: String,
    pub content: String,
}

impl ChatMessage {
    pub fn system(content: impl Into<String>) -> Self {
        ChatMessage {
            role: "system".into(),
            content: content.into(),
        }
    }

    pub fn user(content: impl Into<String>) -> Self {
        ChatMessage {
            role: "user".into(),
            content: content.into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ChatRequest {
    pub messages: Vec<ChatMessage>,
    pub temperature: f32,
    pub max_tokens: u32,
}

#[async_trait]
pub trait Llm: Send + Sync {
    /// The reply's content, which the model was asked to make a JSON object.
    async fn complete_json(&self, request: &ChatRequest) -> Result<String, ConnectorError>;

    /// The reply's content, constrained to the JSON `schema` (structured
    /// outputs); a client without them falls back to a plain JSON object.
    async fn complete_schema(
        &self,
        request: &ChatRequest,
        name: &str,
        schema: &serde_json::Value,
    ) -> Result<String, ConnectorError> {
        let _ = (name, schema);
        self.complete_json(request).await
    }
}

pub struct LlmClient {
    http: reqwest::Client,
    /// e.g. `https://api.openai.com/v1`; the path is appended.
    base: String,
    key: SecretString,
    model: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ChatResponse {
    choices: Vec<Choice>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Choice {
    message: Option<ChoiceMessage>,
    finish_reason: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ChoiceMessage {
    content: Option<String>,
}

impl LlmClient {
    pub fn new(
        http: reqwest::Client,
        base: impl Into<String>,
        key: SecretString,
        model: impl Into<String>,
    ) -> Self {
        LlmClient {
            http,
            base: base.into(),
            key,
            model: model.into(),
        }
    }
}

#[async_trait]
impl Llm for LlmClient {
    async fn complete_json(&self, request: &ChatRequest) -> Result<String, ConnectorError> {
        self.complete(request, serde_json::json!({"type": "json_object"}))
            .await
    }

    async fn complete_schema(
        &self,
        request: &ChatRequest,
        name: &str,
        schema: &serde_json::Value,
    ) -> Result<String, ConnectorError> {
        let format = serde_json::json!({
            "type": "json_schema",
            "json_schema": {"name": name, "strict": true, "schema": schema},
        });
        self.complete(request, format).await
    }
}

impl LlmClient {
    /// One chat completion with `response_format`; the first choice's content.
    async fn complete(
        &self,
        request: &ChatRequest,
        response_format: serde_json::Value,
    ) -> Result<String, ConnectorError> {
        let body = serde_json::json!({
            "model": self.model,
            "messages": request.messages,
            "response_format": response_format,
            "temperature": request.temperature,
            "max_tokens": request.max_tokens,
        });
        let http_request = self
            .http
            .post(CHAT_COMPLETIONS.url(&self.base, &[]))
            .bearer_auth(self.key.expose_secret())
            .json(CHAT_COMPLETIONS.body(&body));
        let response: ChatResponse = http::send_json(http_request, Provider::Llm).await?;
        let choice = response.choices.into_iter().next().unwrap_or_default();
        if choice.finish_reason.as_deref() == Some("length") {
            // A JSON object cut off at the token limit will not parse; say so plainly.
            return Err(ConnectorError::Permanent {
                status: 0,
                message: "completion stopped at max_tokens".into(),
            });
        }
        choice
            .message
            .and_then(|m| m.content)
            .filter(|c| !c.trim().is_empty())
            .ok_or_else(|| ConnectorError::Permanent {
                status: 0,
                message: "completion had no content".into(),
            })
    }
}
