//! An OpenAI-compatible chat-completions API (`POST /v1/chat/completions`,
//! `GET /v1/models`) with a bearer key from the fixture. Output is a pure
//! function of the request: the same messages give the same reply. When
//! `response_format` asks for JSON the content is a JSON object — the schema's
//! properties when a `json_schema` is given (an `enum` property gets one of its
//! values), else `{"subject","body"}`. Like a
//! real model it follows the one instruction the composer relies on: asked for
//! "only the opening paragraph", the body is that paragraph alone. The fault
//! `malformedRate` makes it answer 200 with the JSON content cut short.

use actix_web::{HttpMessage, HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::Sandbox;
use super::gate::{self, Cost, Endpoint, Malformed, endpoint};
use super::respond::{Provider, json_body, openai_invalid};

const L: Provider = Provider::Llm;
const CHAT: Endpoint = endpoint("llm.chat.completions", L, Cost::Free);
const MODELS: Endpoint = endpoint("llm.models.list", L, Cost::Free);

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/chat/completions", web::post().to(chat))
        .route("/v1/models", web::get().to(models));
}

#[derive(Deserialize)]
struct ChatRequest {
    model: Option<String>,
    messages: Option<Vec<ChatMessage>>,
    response_format: Option<Value>,
    max_tokens: Option<u64>,
    max_completion_tokens: Option<u64>,
    temperature: Option<f64>,
    #[serde(default)]
    stream: bool,
}

#[derive(Deserialize)]
struct ChatMessage {
    role: String,
    content: Value,
}

fn text_of(content: &Value) -> String {
    match content {
        Value::String(s) => s.clone(),
        // Content parts: [{"type":"text","text":"…"}].
        Value::Array(parts) => parts
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    }
}

/// A rough token count (~4 characters a token), as usage is reported.
fn tokens(s: &str) -> u64 {
    (s.chars().count() as u64).div_ceil(4).max(1)
}

const OPENERS: &[&str] = &[
    "Thanks for reaching out",
    "Great to hear from you",
    "Thank you for your note",
    "Appreciate you getting in touch",
];
const OFFERS: &[&str] = &[
    "I have put together a couple of resources that match what you described",
    "a short call would be the quickest way to see whether we are a fit",
    "I can walk you through how similar teams approached this",
];

/// The greeting name: the first `Name:`/`first name:` value in the prompt, if any.
fn name_in(prompt: &str) -> Option<String> {
    prompt.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        let k = k.trim().to_ascii_lowercase();
        (k == "name" || k == "first name" || k == "firstname")
            .then(|| v.split_whitespace().next().unwrap_or("").to_string())
            .filter(|n| !n.is_empty())
    })
}

/// Asked for the opening only: a subject from the `Topic:` line and one
/// paragraph, no greeting, call to action or sign-off.
fn opening(prompt: &str, digest: &[u8]) -> (String, String) {
    let pick = |list: &[&'static str], i: usize| list[usize::from(digest[i]) % list.len()];
    let topic = prompt
        .lines()
        .find_map(|l| l.strip_prefix("Topic:"))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .unwrap_or("request");
    let offer = pick(OFFERS, 1);
    let mut chars = offer.chars();
    let offer = chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect::<String>())
        .unwrap_or_default();
    (
        format!("Your {topic}"),
        format!("{}. {offer}.", pick(OPENERS, 0)),
    )
}

fn compose(prompt: &str, digest: &[u8]) -> (String, String) {
    let pick = |list: &[&'static str], i: usize| list[usize::from(digest[i]) % list.len()];
    let greeting = name_in(prompt).map_or_else(|| "Hi there,".to_string(), |n| format!("Hi {n},"));
    let topic: String = prompt
        .split_whitespace()
        .filter(|w| w.len() > 6 && w.chars().all(char::is_alphabetic))
        .take(3)
        .collect::<Vec<_>>()
        .join(" ");
    let subject = if topic.is_empty() {
        "Following up on your request".to_string()
    } else {
        format!("Re: {topic}")
    };
    let body = format!(
        "{greeting}\n\n{}. {}.\n\nWould one of the times below work for a 30-minute call?\n\nBest regards",
        pick(OPENERS, 0),
        pick(OFFERS, 1)
    );
    (subject, body)
}

async fn chat(sb: web::Data<Sandbox>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let (sb, req) = (sb.get_ref(), &req);
    gate::serve(sb, req, CHAT, |_| async move {
        let input: ChatRequest = match json_body(L, req, &body) { Ok(v) => v, Err(e) => return e };
        let Some(model) = input.model.filter(|m| !m.is_empty()) else { return openai_invalid("you must provide a model parameter") };
        let messages = input.messages.unwrap_or_default();
        if messages.is_empty() {
            return openai_invalid("[] is too short - 'messages'");
        }
        if let Some(m) = messages.iter().find(|m| !matches!(m.role.as_str(), "system" | "developer" | "user" | "assistant" | "tool")) {
            return openai_invalid(&format!("Invalid value: '{}'. Supported values are: 'system', 'assistant', 'user', 'tool', and 'developer'.", m.role));
        }
        // Streaming (server-sent events) is not implemented; refusing is better
        // than answering a streaming client with a body it cannot read.
        if input.stream {
            return openai_invalid("stream=true is not supported by the sandbox; send stream=false");
        }
        if input.temperature.is_some_and(|t| !(0.0..=2.0).contains(&t)) {
            return openai_invalid("temperature must be between 0 and 2");
        }
        let prompt: String = messages.iter().map(|m| format!("{}: {}", m.role, text_of(&m.content))).collect::<Vec<_>>().join("\n");
        let digest = Sha256::digest(format!("{model}\n{prompt}").as_bytes());
        let user_text: String = messages.iter().filter(|m| m.role == "user").map(|m| text_of(&m.content)).collect::<Vec<_>>().join("\n");
        let system_text: String = messages.iter().filter(|m| m.role == "system" || m.role == "developer").map(|m| text_of(&m.content)).collect::<Vec<_>>().join("\n");
        let (subject, body_text) = if system_text.contains("only the opening paragraph") { opening(&user_text, &digest) } else { compose(&user_text, &digest) };
        let format_type = input.response_format.as_ref().and_then(|f| f.get("type")).and_then(Value::as_str).unwrap_or("text");
        let content = match format_type {
            "json_object" => json!({"subject": subject, "body": body_text}).to_string(),
            "json_schema" => {
                let props = input.response_format.as_ref().and_then(|f| f.pointer("/json_schema/schema/properties")).and_then(Value::as_object);
                let mut out = Map::new();
                for (i, key) in props.map(|p| p.keys().cloned().collect::<Vec<_>>()).unwrap_or_else(|| vec!["subject".into(), "body".into()]).into_iter().enumerate() {
                    // Structured outputs keep to an enum: one of its values, by the digest.
                    let choices = props.and_then(|p| p.get(&key)).and_then(|p| p.get("enum")).and_then(Value::as_array).filter(|c| !c.is_empty());
                    let value = match (key.as_str(), choices) {
                        (_, Some(choices)) => choices[usize::from(digest[(i + 2) % digest.len()]) % choices.len()].clone(),
                        ("subject", None) => json!(subject),
                        ("body", None) => json!(body_text),
                        (other, None) => json!(format!("{other}-{}", hex::encode(&digest[..4]))),
                    };
                    out.insert(key, value);
                }
                Value::Object(out).to_string()
            }
            "text" => format!("Subject: {subject}\n\n{body_text}"),
            other => return openai_invalid(&format!("Invalid value: '{other}'. Supported values are: 'text', 'json_object' and 'json_schema'.")),
        };
        // A model that stopped mid-object: valid HTTP, unreadable content.
        let content = if req.extensions().contains::<Malformed>() && format_type != "text" { content.chars().take(content.chars().count() / 2).collect() } else { content };
        let limit = input.max_completion_tokens.or(input.max_tokens);
        let (content, finish) = match limit {
            Some(n) if tokens(&content) > n => (content.chars().take(usize::try_from(n * 4).unwrap_or(usize::MAX)).collect(), "length"),
            _ => (content, "stop"),
        };
        let (prompt_tokens, completion_tokens) = (tokens(&prompt), tokens(&content));
        HttpResponse::Ok().json(json!({
            "id": format!("chatcmpl-{}", hex::encode(&digest[..12])), "object": "chat.completion",
            "created": sb.clock.now_utc().timestamp(), "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content, "refusal": null}, "logprobs": null, "finish_reason": finish}],
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens, "total_tokens": prompt_tokens + completion_tokens},
            "system_fingerprint": "fp_sandbox"}))
    })
    .await
}

async fn models(sb: web::Data<Sandbox>, req: HttpRequest) -> HttpResponse {
    let (sb, req) = (sb.get_ref(), &req);
    gate::serve(sb, req, MODELS, |_| async move {
        HttpResponse::Ok().json(json!({"object": "list", "data": [{"id": "sandbox-writer-1", "object": "model", "created": 1_767_225_600, "owned_by": "sandbox"}]}))
    })
    .await
}
