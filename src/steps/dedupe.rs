//! Step 3, dedupe and suppress: decide whether this lead should be answered at all.
//! The inputs come from the store (suppression list, recent workflows for the same
//! address); the decision is a pure function so every rule is tested on its own.
//! Earlier pilot runs count for the cool-down only while the mode is pilot: they
//! answered nobody.

use serde::{Deserialize, Serialize};

use super::validate::Lead;

/// Who never gets an automated reply.
#[derive(Debug, Clone, Default)]
pub struct DedupeRules {
    /// Our own domains: colleagues testing the form are not leads.
    pub internal_domains: Vec<String>,
}

/// What the store knows about this address.
#[derive(Debug, Clone, Default)]
pub struct History {
    pub suppressed: bool,
    /// Other workflows for the address inside the cool-down window.
    pub recent_workflows: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "skip", rename_all = "snake_case")]
pub enum SkipReason {
    Suppressed,
    InternalDomain { domain: String },
    CoolDown { earlier_workflow: String },
}

impl std::fmt::Display for SkipReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SkipReason::Suppressed => write!(f, "address is on the suppression list"),
            SkipReason::InternalDomain { domain } => write!(f, "internal domain {domain}"),
            SkipReason::CoolDown { earlier_workflow } => {
                write!(f, "answered recently by workflow {earlier_workflow}")
            }
        }
    }
}

/// `Ok(())` to go on, or the reason to skip the workflow.
pub fn decide(lead: &Lead, history: &History, rules: &DedupeRules) -> Result<(), SkipReason> {
    if history.suppressed {
        return Err(SkipReason::Suppressed);
    }
    let domain = lead.email_domain.as_str();
    if rules.internal_domains.iter().any(|d| {
        d.eq_ignore_ascii_case(domain) || domain.ends_with(&format!(".{}", d.to_lowercase()))
    }) {
        return Err(SkipReason::InternalDomain {
            domain: domain.to_string(),
        });
    }
    if let Some(earlier) = history.recent_workflows.first() {
        return Err(SkipReason::CoolDown {
            earlier_workflow: earlier.clone(),
        });
    }
    Ok(())
}

/// Runs the step against the suppression list and the address's recent workflows.
pub async fn run(
    cx: &crate::steps::StepCx<'_>,
) -> Result<crate::steps::StepDone, crate::steps::StepError> {
    use crate::domain::Mode;
    use crate::steps::StepDone;
    use crate::store::workflows::WorkflowStatus;
    use crate::store::{pilot_writes, settings, suppressions, workflows};
    let lead = cx.lead()?.clone();
    let window = chrono::TimeDelta::from_std(cx.services.config.engine.cool_down)
        .unwrap_or(chrono::TimeDelta::MAX);
    let (email, own_id) = (lead.email.clone(), cx.workflow.id.clone());
    let (since, until) = (cx.workflow.created_at - window, cx.workflow.created_at);
    let history = cx
        .services
        .store
        .run(move |c| {
            Ok(History {
                suppressed: suppressions::is_suppressed(c, &email)?,
                recent_workflows: if window.is_zero() {
                    Vec::new()
                } else {
                    let mut recent = workflows::recent_for_email(c, &email, since, until, &own_id)?;
                    // A pilot run answered nobody: outside pilot mode it does not
                    // hold back the real reply (inside it, it does, as it would).
                    if settings::mode(c)? != Mode::Pilot {
                        let mut answered = Vec::with_capacity(recent.len());
                        for id in recent {
                            if !pilot_writes::any_for_workflow(c, &id)? {
                                answered.push(id);
                            }
                        }
                        recent = answered;
                    }
                    recent
                },
            })
        })
        .await?;
    let rules = DedupeRules {
        internal_domains: cx.services.config.engine.internal_domains.clone(),
    };
    Ok(match decide(&lead, &history, &rules) {
        Ok(()) => StepDone::ok(
            serde_json::json!({ "checked": ["suppression", "internal_domains", "cool_down"] }),
        ),
        Err(reason) => StepDone::finish(WorkflowStatus::Skipped, reason.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::intake::parse;
    use crate::steps::validate::{ValidationRules, validate};

    fn lead(email: &str) -> Lead {
        let body = serde_json::json!({"values": [{"name": "email", "value": email}]}).to_string();
        validate(
            &parse(body.as_bytes()).unwrap(),
            &ValidationRules::default(),
        )
        .unwrap()
    }

    #[test]
    fn suppression_internal_domains_and_cool_down_each_skip() {
        let rules = DedupeRules {
            internal_domains: vec!["ourco.com".into()],
        };
        let clean = History::default();
        assert_eq!(decide(&lead("ana@acme.com"), &clean, &rules), Ok(()));
        let suppressed = History {
            suppressed: true,
            ..History::default()
        };
        assert_eq!(
            decide(&lead("ana@acme.com"), &suppressed, &rules),
            Err(SkipReason::Suppressed)
        );
        assert_eq!(
            decide(&lead("me@eu.ourco.com"), &clean, &rules),
            Err(SkipReason::InternalDomain {
                domain: "eu.ourco.com".into()
            })
        );
        assert_eq!(
            decide(&lead("me@notourco.com"), &clean, &rules),
            Ok(()),
            "a suffix is not a subdomain"
        );
        let recent = History {
            recent_workflows: vec!["wf-9".into()],
            ..History::default()
        };
        assert_eq!(
            decide(&lead("ana@acme.com"), &recent, &rules),
            Err(SkipReason::CoolDown {
                earlier_workflow: "wf-9".into()
            })
        );
    }
}
