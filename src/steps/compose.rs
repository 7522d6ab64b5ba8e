//! Step 11, compose: the reply from the template for the lead's intent, in the
//! rep's voice, built only from facts in the workflow state; then the guardrails.
//! A draft with violations is still written (the rep may fix it) but never sent.

use crate::compose::guardrails::{self, Allowed};
use crate::compose::template::{self, ReplyContext};
use crate::engine::state::ComposedDraft;
use crate::engine::{StepCx, StepDone, StepError};
use crate::steps::qualify::Intent;

pub async fn run(cx: &StepCx<'_>) -> Result<StepDone, StepError> {
    let rep = cx.rep().await?;
    let lead = cx.lead()?.clone();
    let assets = cx.state.assets.clone().unwrap_or_default();
    let (rendered, rendered_rep) = cx
        .state
        .slots
        .as_ref()
        .map(|s| (s.rendered.clone(), s.rendered_in_rep_zone.clone()))
        .unwrap_or_default();
    let thread_subject = cx
        .state
        .conversation
        .as_ref()
        .filter(|c| {
            c.mailbox
                .as_deref()
                .is_some_and(|m| m.eq_ignore_ascii_case(&rep.email))
        })
        .and_then(|c| c.subject.clone());
    let company = cx
        .state
        .company
        .as_ref()
        .and_then(|c| c.name.clone())
        .or_else(|| lead.company.clone());
    let reply = ReplyContext {
        intent: cx
            .state
            .qualification
            .as_ref()
            .map(|q| q.intent)
            .unwrap_or(Intent::Question),
        rep_name: rep.name.clone(),
        company,
        assets: assets.clone(),
        slots: rendered,
        slots_in_rep_zone: rendered_rep,
        booking_link: rep.booking_link.clone(),
        thread_subject,
        lead,
    };
    let mut draft = template::compose(&reply, &rep.voice);
    // A/B experiments: the contact's variants, applied before the guardrails.
    let experiments =
        crate::experiments::apply_to_draft(cx, &mut draft.subject, &mut draft.body).await?;
    let allowed = Allowed {
        links: assets
            .iter()
            .map(|a| a.url.clone())
            .chain(rep.booking_link.clone())
            .collect(),
        greeting: rep.voice.greet(reply.lead.first_name.as_deref()),
        facts: Vec::new(),
        min_chars: 80,
        max_chars: 3000,
    };
    let violations = guardrails::check(&draft, &rep.voice, &allowed)
        .iter()
        .map(|v| serde_json::to_string(v).unwrap_or_default())
        .collect();
    Ok(StepDone::ok(ComposedDraft {
        subject: draft.subject,
        body: draft.body,
        composer: "template".into(),
        violations,
        experiments,
    }))
}
