//! The compose step's one call into experiments: for every running experiment,
//! the contact's variant (recorded on first sight, read back on re-runs) is applied
//! to the composed reply before the guardrails check it.

use crate::experiments::{AppliedExperiment, Facts, apply_variant, assign};
use crate::steps::{StepCx, StepError};
use crate::store::experiments as store;

/// Assigns, records and applies the variants of every running experiment.
pub async fn apply_to_draft(
    cx: &StepCx<'_>,
    subject: &mut String,
    body: &mut String,
) -> Result<Vec<AppliedExperiment>, StepError> {
    let running = cx.services.store.run(store::list_running).await?;
    if running.is_empty() {
        return Ok(Vec::new());
    }
    let lead = cx.lead()?;
    let rep = cx.rep().await?;
    let facts = Facts {
        first_name: lead.first_name.clone(),
        company: super::compose::company_name(cx, lead),
        rep_name: rep.name.clone(),
    };
    let mut out = Vec::new();
    for experiment in running {
        let Some(variant) = assign(&experiment.id, &lead.email, &experiment.variants).cloned()
        else {
            continue;
        };
        let (experiment_id, email, name, workflow_id) = (
            experiment.id.clone(),
            lead.email.clone(),
            variant.name.clone(),
            cx.workflow.id.clone(),
        );
        let assignment = cx
            .services
            .store
            .run(move |c| store::assign(c, &experiment_id, &email, &name, &workflow_id))
            .await?;
        // A contact keeps the arm first recorded, even if the variant list's
        // weights were read differently since.
        let variant = experiment
            .variants
            .iter()
            .find(|v| v.name == assignment.variant)
            .unwrap_or(&variant);
        let applied = apply_variant(subject, body, variant, &facts);
        out.push(AppliedExperiment {
            assignment_id: assignment.id,
            experiment_id: experiment.id,
            variant: assignment.variant,
            applied,
        });
    }
    Ok(out)
}
