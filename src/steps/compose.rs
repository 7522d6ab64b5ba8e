//! Step 11, compose: the reply in the rep's voice, built only from facts in the
//! workflow state — by the template for the lead's intent, or (composer `llm`) by
//! the model inside the template's frame. A model error, timeout, unreadable
//! answer or guardrail failure falls back to the template, and the reason is
//! recorded in the step's output. Then the guardrails, whoever wrote it: a draft
//! with violations is still written (the rep may fix it) but never sent.

use crate::compose::booking_link;
use crate::compose::guardrails::{self, Allowed};
use crate::compose::language;
use crate::compose::links;
use crate::compose::model;
use crate::compose::template::{self, Draft, ReplyContext};
use crate::compose::voice::VoiceProfile;
use crate::config::ComposerMode;
use crate::connectors::llm::CHAT_COMPLETIONS;
use crate::domain::language::reply_language;
use crate::domain::{Lang, Lead, Rep, normalise};
use crate::steps::qualify::Intent;
use crate::steps::state::ComposedDraft;
use crate::steps::{StepCx, StepDone, StepError};
use crate::store::settings;

pub async fn run(cx: &StepCx<'_>) -> Result<StepDone, StepError> {
    let rep = cx.rep().await?;
    let voice = &rep.voice;
    let mut reply = reply_context(cx, &rep)?;
    add_booking_links(cx, &mut reply).await?;
    let allowed = Allowed::for_reply(&reply, voice);
    let (mut draft, composer, fallback) = match cx.services.config.engine.composer {
        ComposerMode::Template => (template::compose(&reply, voice), "template", None),
        ComposerMode::Llm => match by_model(cx, &reply, voice, &allowed).await {
            Ok(draft) => (draft, "llm", None),
            Err(fallback) => {
                // The reason's detail may quote the draft; only its kind is logged.
                tracing::warn!(
                    reason = fallback.kind,
                    "model draft not used; template composer"
                );
                cx.services
                    .metrics
                    .composer_fallbacks
                    .with_label_values(&[fallback.kind])
                    .inc();
                (
                    template::compose(&reply, voice),
                    "template",
                    Some(fallback.reason),
                )
            }
        },
    };
    // A/B experiments: the contact's variants, applied before the guardrails.
    let experiments =
        super::variants::apply_to_draft(cx, &mut draft.subject, &mut draft.body).await?;
    let violations = guardrails::check(&draft, voice, &allowed)
        .iter()
        .map(|v| serde_json::to_string(v).unwrap_or_default())
        .collect();
    Ok(StepDone::ok(ComposedDraft {
        language: Some(reply.language),
        subject: draft.subject,
        body: draft.body,
        composer: composer.into(),
        violations,
        fallback,
        experiments,
    }))
}

/// The facts the reply may use: the lead, intent, rep, company, assets (those
/// already linked in the thread only by name), slots, the rep's booking link, the subject
/// of the rep's thread with the prospect and whether they have written before.
fn reply_context(cx: &StepCx<'_>, rep: &Rep) -> Result<ReplyContext, StepError> {
    let lead = cx.lead()?.clone();
    let (slots, slots_in_rep_zone) = cx
        .state
        .slots
        .as_ref()
        .map(|s| (s.rendered.clone(), s.rendered_in_rep_zone.clone()))
        .unwrap_or_default();
    let company = company_name(cx, &lead);
    let qualification = cx.state.qualification.as_ref();
    let assets = cx.state.assets.clone().unwrap_or_default();
    Ok(ReplyContext {
        intent: qualification.map(|q| q.intent).unwrap_or(Intent::Question),
        problem_reported: qualification.is_some_and(|q| q.problem_reported),
        rep_name: rep.name.clone(),
        company,
        assets: assets
            .iter()
            .filter(|a| !a.already_shared)
            .cloned()
            .collect(),
        shared_before: assets
            .iter()
            .filter(|a| a.already_shared)
            .map(|a| a.title.clone())
            .collect(),
        earlier_conversation: cx
            .state
            .conversation
            .as_ref()
            .is_some_and(|c| c.threads_found > 0),
        slots,
        slots_in_rep_zone,
        booking_link: rep.booking_link.clone(),
        slot_links: Vec::new(),
        more_times_link: None,
        thread_subject: own_thread(cx, rep).and_then(|c| c.subject.clone()),
        language: language_of_reply(cx, rep),
        lead,
    })
}

/// The reply's language: the prospect's (qualify's guess) when the rep
/// speaks it and the composer writes it, else the rep's default.
pub(crate) fn language_of_reply(cx: &StepCx<'_>, rep: &Rep) -> Lang {
    reply_language(
        cx.prospect_language(),
        &rep.languages,
        cx.services.config.engine.default_language,
    )
}

/// Every proposed slot as a link to our booking page, plus one to more times:
/// the links are signed for this workflow (`compose::booking_link`), so the
/// slots the reply offers are the ones the page books.
async fn add_booking_links(cx: &StepCx<'_>, reply: &mut ReplyContext) -> Result<(), StepError> {
    let Some(slots) = cx.state.slots.as_ref().filter(|s| !s.slots.is_empty()) else {
        return Ok(());
    };
    let secret = cx.services.store.run(settings::booking_secret).await?;
    let (public, now) = (&cx.services.config.public_url, chrono::Utc::now());
    reply.slot_links = slots
        .slots
        .iter()
        .map(|slot| {
            booking_link::link(
                public,
                &booking_link::slot_token(&secret, &cx.workflow.id, slot, now),
            )
        })
        .collect();
    reply.more_times_link = Some(booking_link::link(
        public,
        &booking_link::times_token(&secret, &cx.workflow.id, now),
    ));
    Ok(())
}

/// The company as the CRM knows it, else as the form gave it. The CRM's name
/// may be what an earlier form wrote there, so it gets the lead's rules: plain
/// text (`normalise`), and no URL-like text.
pub(super) fn company_name(cx: &StepCx<'_>, lead: &Lead) -> Option<String> {
    cx.state
        .company
        .as_ref()
        .and_then(|c| c.name.as_deref())
        .map(|name| normalise::plain_text(name, 200, false).0)
        .filter(|name| {
            !name.is_empty() && !links::has_url_like(name, &[lead.email_domain.as_str()])
        })
        .or_else(|| lead.company.clone())
}

/// The conversation, when it lives in the rep's own mailbox (the only one the
/// reply can be threaded into).
fn own_thread<'a>(cx: &'a StepCx<'_>, rep: &Rep) -> Option<&'a crate::steps::state::Conversation> {
    cx.state.conversation.as_deref().filter(|c| {
        c.mailbox
            .as_deref()
            .is_some_and(|m| m.eq_ignore_ascii_case(&rep.email))
    })
}

/// Why the model's draft was not used: its kind (a `COMPOSER_FALLBACKS` label)
/// and the reason recorded in the step's output.
struct Fallback {
    kind: &'static str,
    reason: String,
}

impl Fallback {
    fn new(kind: &'static str, reason: String) -> Self {
        Fallback { kind, reason }
    }
}

/// The model's draft, or why it cannot be used.
async fn by_model(
    cx: &StepCx<'_>,
    reply: &ReplyContext,
    voice: &VoiceProfile,
    allowed: &Allowed,
) -> Result<Draft, Fallback> {
    if cx.services.config.connectors.llm_api_key.is_none() {
        return Err(Fallback::new("no_key", "no LLM API key configured".into()));
    }
    let thread = cx
        .state
        .conversation
        .as_ref()
        .map(|c| c.summary.clone())
        .unwrap_or_default();
    let request = model::request(reply, voice, &thread);
    let content = cx
        .services
        .llm(&CHAT_COMPLETIONS, move |llm| {
            let request = request.clone();
            async move {
                llm.complete_schema(&request, "reply", &model::draft_schema())
                    .await
            }
        })
        .await
        .map_err(|e| Fallback::new("call_failed", format!("llm call failed: {e}")))?;
    let written = model::parse(&content)
        .map_err(|e| Fallback::new("invalid_output", format!("llm output invalid: {e}")))?;
    language::written_in(
        &format!("{}\n{}", written.subject, written.opening),
        reply.language,
    )
    .map_err(|e| Fallback::new("wrong_language", format!("llm draft {e}")))?;
    let draft = template::compose_with(reply, voice, Some(&written));
    let violations = guardrails::check(&draft, voice, allowed);
    if !violations.is_empty() {
        let rules: Vec<String> = violations
            .iter()
            .map(|v| serde_json::to_string(v).unwrap_or_default())
            .collect();
        return Err(Fallback::new(
            "guardrails",
            format!("llm draft broke guardrails: {}", rules.join("; ")),
        ));
    }
    Ok(draft)
}
