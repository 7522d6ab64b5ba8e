//! `POST /api/workflows/{id}/approve`: an admin sends a draft the workflow left in
//! draft-only mode, through the same checks as send mode (quiet hours, the
//! suppression list, the daily limit) and the same send-once ledger — so a second
//! click, even a concurrent one, never sends a second email. Refused in pilot
//! mode, and for a stale draft (the prospect replied or booked first).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, post, web};
use serde::Serialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use super::{Reason, checked_reason, store_error};
use crate::domain::Mode;
use crate::domain::StaleReason;
use crate::steps::StepError;
use crate::steps::send::{
    HELD_WITHOUT_UNSUBSCRIBE, SendOutcome, SendRequest, send_once, stale_refusal,
};
use crate::store::{audit, draft_watches, settings, step_runs, workflows};
use crate::web::auth::Caller;
use crate::web::error::ErrorBody;
use crate::web::{ApiError, AppState};

/// What an approval answers: the Gmail id of the sent message, and whether an
/// earlier approval had sent it already (then nothing more was sent).
#[derive(Serialize, ToSchema)]
pub struct ApproveAnswer {
    workflow_id: String,
    sent_message_id: String,
    already_sent: bool,
}

/// Sends the draft a workflow left in draft-only mode, through send mode's checks.
#[utoipa::path(
    security(("bearer" = ["admin"])),
    responses(
        (status = OK, body = ApproveAnswer),
        (status = CONFLICT, description = "Cannot send now: the workflow is unfinished, left no draft, the draft failed its guardrails, the recipient is suppressed, or quiet hours or the daily limit defer it; or never: the draft is stale (code `stale_draft`: the prospect replied or booked a meeting before it was sent)", body = ErrorBody),
        (status = SERVICE_UNAVAILABLE, description = "Gmail could not be reached; try again", body = ErrorBody),
    ),
)]
#[post("/workflows/{id}/approve")]
pub async fn approve(
    caller: Caller,
    id: web::Path<String>,
    body: web::Json<Reason>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let approved = approve_and_send(&state, caller, id.clone(), &body.reason).await?;
    Ok(HttpResponse::Ok().json(ApproveAnswer {
        workflow_id: id,
        sent_message_id: approved.sent_message_id,
        already_sent: approved.already_sent,
    }))
}

/// What an approval did: the Gmail id of the sent message, and whether it had
/// been sent before this call.
#[derive(Debug, Clone)]
pub struct Approved {
    pub sent_message_id: String,
    pub already_sent: bool,
}

/// Approves and sends a workflow's draft, audited as `caller`: the one rule for
/// the admin API and the console.
pub(crate) async fn approve_and_send(
    state: &AppState,
    caller: Caller,
    id: String,
    reason: &str,
) -> Result<Approved, ApiError> {
    caller.require_admin()?;
    let reason = checked_reason(reason)?;
    let lookup = id.clone();
    let (mode, workflow, runs, watch) = state
        .store
        .run(move |c| {
            Ok((
                settings::mode(c)?,
                workflows::find_by_id(c, &lookup)?,
                step_runs::list_for_workflow(c, &lookup)?,
                draft_watches::find(c, &lookup)?,
            ))
        })
        .await
        .map_err(store_error)?;
    // Pilot mode writes nothing outside, an approved send included.
    if mode == Mode::Pilot {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "pilot_mode",
            "pilot mode writes nothing outside: switch to draft-only or send mode to send",
        ));
    }
    let workflow = workflow
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such workflow"))?;
    let output = |step: &str| -> Value {
        runs.iter()
            .find(|r| r.step == step)
            .and_then(|r| r.output.as_deref())
            .and_then(|o| serde_json::from_str(o).ok())
            .unwrap_or_default()
    };
    let conflict = |message: String| ApiError::new(StatusCode::CONFLICT, "cannot_send", message);
    if workflow.status != "completed" {
        return Err(conflict(format!("workflow is {}", workflow.status)));
    }
    let (delivery, draft) = (output("deliver"), output("compose"));
    if let Some(sent) = delivery["sent_message_id"].as_str() {
        return Ok(Approved {
            sent_message_id: sent.to_string(),
            already_sent: true,
        });
    }
    // Checked again inside the send's claim; asked here first so the answer
    // is "never", not "not now" (quiet hours) for a draft that will never go.
    if let Some(reason) = watch.as_ref().and_then(|w| w.stale()) {
        return Err(stale(reason));
    }
    if delivery["held"].as_str() == Some(HELD_WITHOUT_UNSUBSCRIBE) {
        return Err(conflict(
            "the draft has no one-click unsubscribe link (SALES_AGENT_PUBLIC_URL was not https); \
             set an https public URL and retry the workflow, or send it from Gmail"
                .into(),
        ));
    }
    // The janitor blanks the reply's text after SALES_AGENT_RETAIN_MESSAGES_DAYS:
    // with it went the guardrails' verdict, so nothing vouches for the draft.
    if draft.is_null() && delivery["draft_id"].is_string() {
        return Err(conflict(
            "the reply's text is past its retention (SALES_AGENT_RETAIN_MESSAGES_DAYS); \
             send or discard the draft in Gmail"
                .into(),
        ));
    }
    if draft["violations"]
        .as_array()
        .is_some_and(|v| !v.is_empty())
    {
        return Err(conflict(
            "the draft failed its guardrails; edit it in Gmail and send it from there".into(),
        ));
    }
    let (Some(mailbox), Some(draft_id), Some(message_id)) = (
        delivery["mailbox"].as_str(),
        delivery["draft_id"].as_str(),
        delivery["message_id"].as_str(),
    ) else {
        return Err(conflict("the workflow left no draft".into()));
    };
    let zone = output("propose_slots")["prospect_zone"]["zone"]
        .as_str()
        .and_then(|z| z.parse().ok())
        .unwrap_or(chrono_tz::Tz::UTC);
    let request = SendRequest {
        workflow_id: &id,
        mailbox,
        draft_id,
        message_id,
        recipient: &workflow.email,
        prospect_zone: zone,
        actor: &caller.actor,
    };
    match send_once(&state.engine, &request).await {
        Ok(SendOutcome::Sent { message_id: sent }) => {
            let (wf, actor, sent_id) = (id.clone(), caller.actor.clone(), sent.clone());
            state
                .store
                .run(move |c| {
                    audit::append(
                        c,
                        &audit::Entry {
                            actor: &actor,
                            action: "workflow.approved",
                            workflow_id: Some(&wf),
                            reason: Some(&reason),
                            detail: json!({ "gmail_message_id": sent_id }),
                        },
                    )
                })
                .await
                .map_err(store_error)?;
            Ok(Approved {
                sent_message_id: sent,
                already_sent: false,
            })
        }
        Ok(SendOutcome::Suppressed) => {
            Err(conflict("the recipient is on the suppression list".into()))
        }
        Ok(SendOutcome::Stale(reason)) => Err(stale(reason)),
        Err(StepError::Defer { reason, .. }) => Err(conflict(format!("not now: {reason}"))),
        Err(StepError::WaitForAccount { .. }) => Err(conflict(
            "not now: the rep's Google account needs reconnecting".into(),
        )),
        Err(StepError::Transient { message, .. }) => Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "try_again",
            message,
        )),
        Err(StepError::Permanent(message)) => Err(conflict(message)),
        Err(StepError::LeaseLost) => Err(conflict("the workflow is being worked on".into())),
    }
}

/// The refusal for a stale draft: 409 `stale_draft`, whatever the mode.
fn stale(reason: StaleReason) -> ApiError {
    ApiError::new(StatusCode::CONFLICT, "stale_draft", stale_refusal(reason))
}
