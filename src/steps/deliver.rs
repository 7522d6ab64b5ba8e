//! Step 12, deliver: the reply as a Gmail draft in the rep's mailbox — threaded
//! into the prospect's conversation when one exists there — with a Message-ID
//! derived from the workflow, so a re-run finds the draft instead of making a
//! second one. In send mode a draft that passed the guardrails is then sent
//! exactly once (`engine::send`); otherwise it is held, with the reason. In pilot
//! mode the draft is recorded as the request that would make it (the MIME message
//! with it), and nothing reaches Gmail.

use chrono::Utc;

use crate::compose::voice::proper_case;
use crate::connectors::gmail::{DRAFTS_CREATE, DRAFTS_LIST};
use crate::connectors::mime::{self, Mailbox, OutgoingEmail, Parent, Unsubscribe};
use crate::connectors::planned;
use crate::domain::{Mode, Step};
use crate::steps::once::{Earlier, Fence, find_or_create};
use crate::steps::pilot::{self, HELD_IN_PILOT};
use crate::steps::send::HELD_WITHOUT_UNSUBSCRIBE;
use crate::steps::send::{SendOutcome, SendRequest, send_once, stale_refusal};
use crate::steps::state::Delivery;
use crate::steps::{StepCx, StepDone, StepError};
use crate::store::settings;
use crate::store::side_effects::{self, EffectKind, EffectState};

pub async fn run(cx: &StepCx<'_>) -> Result<StepDone, StepError> {
    let rep = cx.rep().await?;
    let lead = cx.lead()?;
    let draft = cx
        .state
        .draft
        .as_ref()
        .ok_or_else(|| StepError::Permanent("no composed draft".into()))?;
    let config = &cx.services.config;
    let message_id = mime::message_id(&cx.workflow.id, "deliver", &config.sender_domain());
    let conversation = cx.state.conversation.as_ref().filter(|c| {
        c.mailbox
            .as_deref()
            .is_some_and(|m| m.eq_ignore_ascii_case(&rep.email))
    });
    // Only a thread that can be replied into safely (checked again here for
    // outputs recorded before step 6 sanitised them); else a new thread.
    let parent = conversation.and_then(|c| {
        Some(Parent {
            message_id: mime::valid_message_id(c.parent_message_id.as_deref()?)?,
            references: c
                .references
                .iter()
                .filter_map(|r| mime::valid_message_id(r))
                .collect(),
            subject: Some(mime::header_safe_text(
                c.subject.as_deref().unwrap_or_default(),
                200,
            ))
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| draft.subject.clone()),
        })
    });
    let thread_id = conversation
        .filter(|_| parent.is_some())
        .and_then(|c| c.thread_id.clone());
    let secret = cx.services.store.run(settings::unsubscribe_secret).await?;
    let mode = pilot::mode(cx).await?;
    let name = [lead.first_name.as_deref(), lead.last_name.as_deref()]
        .into_iter()
        .flatten()
        .map(proper_case)
        .collect::<Vec<_>>()
        .join(" ");
    let email = OutgoingEmail {
        from: Mailbox {
            name: Some(rep.name.clone()),
            email: rep.email.clone(),
        },
        to: vec![Mailbox {
            name: (!name.is_empty()).then_some(name),
            email: lead.email.clone(),
        }],
        subject: draft.subject.clone(),
        date: Utc::now(),
        message_id: message_id.clone(),
        reply_to_parent: parent,
        // One-click unsubscribe needs an https link; without one the draft is
        // still made for the rep, and sending is held (below).
        unsubscribe: (config.public_url.scheme() == "https").then(|| Unsubscribe {
            https: crate::unsubscribe::link(&config.public_url, &secret, &lead.email),
            mailto: None,
        }),
        text: draft.body.clone(),
        html: None,
    };
    let raw = mime::build(&email)
        .map_err(|e| StepError::Permanent(format!("the reply cannot be built as email: {e}")))?;
    if mode == Mode::Pilot {
        let write = planned::draft(&raw, thread_id.as_deref());
        pilot::record(cx, Step::Deliver, vec![write]).await?;
        return Ok(StepDone::ok(Delivery {
            mailbox: rep.email.clone(),
            message_id,
            draft_id: None,
            thread_id,
            sent_message_id: None,
            held: Some(HELD_IN_PILOT.into()),
        }));
    }
    let draft_id = ensure_draft(
        Fence::of(cx),
        &rep.email,
        &message_id,
        raw,
        thread_id.clone(),
    )
    .await?;

    let mut delivery = Delivery {
        mailbox: rep.email.clone(),
        message_id: message_id.clone(),
        draft_id: Some(draft_id.clone()),
        thread_id,
        sent_message_id: None,
        held: None,
    };
    // The missing unsubscribe link first: an approval must not send it either.
    delivery.held = if email.unsubscribe.is_none() {
        Some(HELD_WITHOUT_UNSUBSCRIBE.into())
    } else if mode == Mode::DraftOnly {
        Some("draft-only mode".into())
    } else if !draft.violations.is_empty() {
        Some(format!("held for review: {}", draft.violations.join("; ")))
    } else {
        None
    };
    if delivery.held.is_none() {
        let zone = cx
            .state
            .slots
            .as_ref()
            .map(|s| s.prospect_zone.tz())
            .unwrap_or_else(|| rep.tz());
        let request = SendRequest {
            workflow_id: &cx.workflow.id,
            mailbox: &rep.email,
            draft_id: &draft_id,
            message_id: &message_id,
            recipient: &lead.email,
            prospect_zone: zone,
            actor: "engine",
        };
        match send_once(cx.services, &request).await? {
            SendOutcome::Sent { message_id } => delivery.sent_message_id = Some(message_id),
            SendOutcome::Suppressed => delivery.held = Some("recipient is suppressed".into()),
            SendOutcome::Stale(reason) => delivery.held = Some(stale_refusal(reason)),
        }
    }
    Ok(StepDone::ok(delivery))
}

/// The workflow's draft: from the ledger, else found in Gmail by its Message-ID
/// (a crash after creating it), else created now.
async fn ensure_draft(
    fence: Fence<'_>,
    mailbox: &str,
    message_id: &str,
    raw: Vec<u8>,
    thread_id: Option<String>,
) -> Result<String, StepError> {
    let (services, workflow_id) = (fence.services(), fence.workflow_id());
    let (wf, key, owner) = (
        workflow_id.to_string(),
        message_id.to_string(),
        mailbox.to_string(),
    );
    let (effect, fresh) = services
        .store
        .run(move |c| side_effects::plan_fresh(c, &wf, EffectKind::GmailDraft, &key, Some(&owner)))
        .await?;
    if effect.state == EffectState::Done
        && let Some(id) = effect.external_id
    {
        return Ok(id);
    }
    let earlier = Earlier::after_plan(fresh);
    let draft_id = find_or_create(
        earlier,
        fence,
        || {
            let (lookup_box, lookup_id) = (mailbox.to_string(), message_id.to_string());
            services.gmail(mailbox, &DRAFTS_LIST, move |g| {
                let (mailbox, id) = (lookup_box.clone(), lookup_id.clone());
                async move { g.find_draft(&mailbox, &id).await }
            })
        },
        || {
            let (create_box, thread, raw) = (mailbox.to_string(), thread_id.clone(), raw.clone());
            async move {
                let created = services
                    .gmail(&create_box.clone(), &DRAFTS_CREATE, move |g| {
                        let (mailbox, raw, thread) =
                            (create_box.clone(), raw.clone(), thread.clone());
                        async move { g.drafts_create(&mailbox, &raw, thread.as_deref()).await }
                    })
                    .await?;
                Ok(created.id)
            }
        },
    )
    .await?;
    let (wf, id) = (workflow_id.to_string(), draft_id.clone());
    let detail = serde_json::json!({ "thread_id": thread_id });
    services
        .store
        .run(move |c| {
            side_effects::update(
                c,
                &wf,
                EffectKind::GmailDraft,
                EffectState::Done,
                Some(&id),
                Some(&detail),
            )?;
            crate::store::audit::append(
                c,
                &crate::store::audit::Entry {
                    actor: "engine",
                    action: "gmail.draft_created",
                    workflow_id: Some(&wf),
                    reason: Some("reply to the form submission"),
                    detail: serde_json::json!({ "draft_id": id }),
                },
            )
        })
        .await?;
    Ok(draft_id)
}
