//! `POST /api/voice-profiles/{rep_id}/train`: reads the rep's sent mail through
//! the Gmail connector (`in:sent`, newest threads first), keeps the messages the
//! rep wrote, and derives their profile by counting (`compose::training`). With
//! `refine` and an LLM configured, the model labels tone, formality and
//! call-to-action style from the counts (never the mail); if it cannot, the
//! counted profile stands and the reason is returned. With `dry_run` the result
//! is shown, not stored. Bodies are never logged or kept.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, post, web};
use diesel::Connection;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use super::voice_profiles::{not_found, store};
use super::{checked_reason, store_error};
use crate::compose::voice::VoiceProfile;
use crate::compose::{model, training};
use crate::connectors::gmail::{
    Format, ListRequest, Message, MessagePart, THREADS_GET, THREADS_LIST,
};
use crate::connectors::llm::CHAT_COMPLETIONS;
use crate::connectors::query::{Folder, GmailQuery};
use crate::services::Services;
use crate::store::{StoreError, reps, voice_profiles};
use crate::web::auth::Caller;
use crate::web::error::ErrorBody;
use crate::web::{ApiError, AppState};

#[derive(Debug, Deserialize, ToSchema)]
pub struct Train {
    reason: String,
    /// How many sent threads to read (default 50, at most 200).
    max_threads: Option<u32>,
    /// Show the result without storing it.
    #[serde(default)]
    dry_run: bool,
    /// Let the LLM label tone, formality and call-to-action style from the counts.
    #[serde(default)]
    refine: bool,
}

/// The derived profile, what the counting found, and whether it was stored.
#[derive(Serialize, ToSchema)]
pub struct TrainAnswer {
    profile: VoiceProfile,
    stats: training::TrainingStats,
    /// `{"applied": true}`, or `{"applied": false, "reason"}`.
    refinement: serde_json::Value,
    stored: bool,
}

/// Derives the rep's profile from their sent mail (read through Gmail).
#[utoipa::path(
    security(("bearer" = ["admin"])),
    responses(
        (status = OK, body = TrainAnswer),
        (status = UNPROCESSABLE_ENTITY, description = "The sent mail did not yield a valid profile", body = ErrorBody),
        (status = BAD_GATEWAY, description = "The rep's sent mail could not be read", body = ErrorBody),
    ),
)]
#[post("/voice-profiles/{rep_id}/train")]
pub async fn train(
    caller: Caller,
    rep_id: web::Path<String>,
    body: web::Json<Train>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require_admin()?;
    let reason = checked_reason(&body.reason)?;
    let max_threads = body.max_threads.unwrap_or(50);
    let id = rep_id.into_inner();
    let trained = trained(&state, &caller, &id, max_threads, body.refine).await?;
    if !body.dry_run {
        let stored = trained.profile.clone();
        state
            .store
            .run(move |conn| {
                conn.transaction(|c| {
                    store(c, &id, &stored, "trained", &caller.actor, &reason)?;
                    Ok::<_, StoreError>(())
                })
            })
            .await
            .map_err(store_error)?;
    }
    Ok(HttpResponse::Ok().json(TrainAnswer {
        profile: trained.profile,
        stats: trained.stats,
        refinement: trained.refinement,
        stored: !body.dry_run,
    }))
}

/// What training would make of a rep's profile; nothing is stored.
pub(crate) struct Trained {
    /// The profile the rep has now (stored, else from the seed file).
    pub current: VoiceProfile,
    pub profile: VoiceProfile,
    pub stats: training::TrainingStats,
    pub refinement: serde_json::Value,
}

/// Reads the rep's sent mail and derives their profile (admins only: it reads
/// a mailbox). The one rule for the admin API and the console's preview.
pub(crate) async fn trained(
    state: &AppState,
    caller: &Caller,
    id: &str,
    max_threads: u32,
    refine_labels: bool,
) -> Result<Trained, ApiError> {
    caller.require_admin()?;
    if !(1..=200).contains(&max_threads) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_max_threads",
            "max_threads must be 1–200",
        )
        .with_field("max_threads"));
    }
    let lookup = id.to_string();
    let (rep, current) = state
        .store
        .run(move |c| {
            Ok((
                reps::find_by_id(c, &lookup)?,
                voice_profiles::find_by_rep(c, &lookup)?,
            ))
        })
        .await
        .map_err(store_error)?;
    let rep = rep.ok_or_else(not_found)?;
    let base = current.map(|p| p.profile).unwrap_or(rep.voice);
    let bodies = sent_bodies(&state.engine, &rep.email, max_threads)
        .await
        .map_err(|e| {
            tracing::warn!(error = %e, "reading sent mail for training failed");
            ApiError::new(
                StatusCode::BAD_GATEWAY,
                "gmail_unavailable",
                "the rep's sent mail could not be read",
            )
        })?;
    let (mut profile, stats) = training::train(&base, &bodies);
    let refinement = if refine_labels {
        match refine(state, &stats).await {
            Ok(r) => {
                profile.tone = r.tone;
                profile.formality = r.formality;
                profile.cta_style = r.cta_style;
                json!({"applied": true})
            }
            Err(reason) => json!({"applied": false, "reason": reason}),
        }
    } else {
        json!({"applied": false, "reason": "not asked"})
    };
    if profile.validate().is_err() {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "untrainable",
            "the sent mail did not yield a valid profile",
        ));
    }
    Ok(Trained {
        current: base,
        profile,
        stats,
        refinement,
    })
}

/// The model's labels for the counted style, or why there are none.
async fn refine(
    state: &AppState,
    stats: &training::TrainingStats,
) -> Result<model::Refinement, String> {
    if state.config.connectors.llm_api_key.is_none() {
        return Err("no LLM API key configured".into());
    }
    let request = model::refinement_request(stats);
    let content = state
        .engine
        .llm(&CHAT_COMPLETIONS, move |llm| {
            let request = request.clone();
            async move {
                llm.complete_schema(&request, "voice_labels", &model::refinement_schema())
                    .await
            }
        })
        .await
        .map_err(|e| format!("llm call failed: {e}"))?;
    model::parse_refinement(&content).map_err(|e| format!("llm output invalid: {e}"))
}

/// Plain-text bodies of the messages `mailbox` sent, newest threads first.
async fn sent_bodies(
    services: &Services,
    mailbox: &str,
    max_threads: u32,
) -> Result<Vec<String>, crate::connectors::ConnectorError> {
    let list_box = mailbox.to_string();
    let request = ListRequest {
        q: Some(GmailQuery::new().in_folder(Folder::Sent)),
        max_results: Some(max_threads),
        page_token: None,
    };
    let threads = services
        .gmail(mailbox, &THREADS_LIST, move |g| {
            let (mailbox, request) = (list_box.clone(), request.clone());
            async move { g.threads_list(&mailbox, &request).await }
        })
        .await?
        .threads;
    let mut bodies = Vec::new();
    for thread in threads {
        let (get_box, thread_id) = (mailbox.to_string(), thread.id.clone());
        let full = services
            .gmail(mailbox, &THREADS_GET, move |g| {
                let (mailbox, id) = (get_box.clone(), thread_id.clone());
                async move { g.threads_get(&mailbox, &id, Format::Full).await }
            })
            .await?;
        bodies.extend(
            full.messages
                .iter()
                .filter(|m| sent_by(m, mailbox))
                .filter_map(|m| m.payload.as_ref().and_then(plain_text)),
        );
    }
    Ok(bodies)
}

fn sent_by(message: &Message, mailbox: &str) -> bool {
    message.label_ids.iter().any(|l| l == "SENT")
        && message
            .payload
            .as_ref()
            .and_then(|p| p.header("From"))
            .is_some_and(|from| from.to_lowercase().contains(&mailbox.to_lowercase()))
}

/// The first `text/plain` part, decoded (base64url, padded or not).
fn plain_text(part: &MessagePart) -> Option<String> {
    let is_text = part
        .mime_type
        .as_deref()
        .is_some_and(|m| m.eq_ignore_ascii_case("text/plain"));
    if is_text && let Some(data) = part.body.as_ref().and_then(|b| b.data.as_deref()) {
        let bytes = data_encoding::BASE64URL_NOPAD
            .decode(data.trim_end_matches('=').as_bytes())
            .ok()?;
        return Some(String::from_utf8_lossy(&bytes).replace("\r\n", "\n"));
    }
    part.parts.iter().find_map(plain_text)
}
