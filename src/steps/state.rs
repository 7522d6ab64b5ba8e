//! What a workflow has learned so far: one field per step's output, rebuilt from the
//! committed step runs when a workflow resumes after a crash or a retry.

use serde::{Deserialize, Serialize};

use crate::compose::slots::Interval;
use crate::compose::template::AssetLink;
use crate::compose::timezone::ZoneGuess;
pub use crate::domain::{Delivery, RouteInfo};
use crate::domain::{Lead, Step};
use crate::steps::qualify::Qualification;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct WorkflowState {
    pub lead: Option<Box<Lead>>,
    pub contact: Option<ContactInfo>,
    pub company: Option<CompanyInfo>,
    pub conversation: Option<Box<Conversation>>,
    pub qualification: Option<Box<Qualification>>,
    pub route: Option<RouteInfo>,
    pub assets: Option<Vec<AssetLink>>,
    pub slots: Option<Box<SlotsInfo>>,
    pub draft: Option<Box<ComposedDraft>>,
    pub delivery: Option<Box<Delivery>>,
    pub record: Option<RecordInfo>,
}

/// The HubSpot contact (step 4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactInfo {
    pub id: String,
    pub owner_id: Option<String>,
    pub created: bool,
}

/// The HubSpot company of the email domain (step 5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompanyInfo {
    pub id: String,
    pub name: Option<String>,
    pub industry: Option<String>,
}

/// The thread to reply in and what was said (step 6).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conversation {
    /// The team mailbox holding the thread.
    pub mailbox: Option<String>,
    pub thread_id: Option<String>,
    pub subject: Option<String>,
    pub parent_message_id: Option<String>,
    pub references: Vec<String>,
    pub threads_found: usize,
    /// Short lines about earlier messages, newest first.
    pub summary: Vec<String>,
    /// Drive files already linked in the reply's thread: the reply mentions them
    /// instead of linking them again.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shared_files: Vec<String>,
}

/// Proposed meeting times (step 10).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlotsInfo {
    pub prospect_zone: ZoneGuess,
    pub slots: Vec<Interval>,
    pub rendered: Vec<String>,
    pub rendered_in_rep_zone: Vec<String>,
    /// Why no slot is offered, when none is (the reply then asks for times).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The reply as written and checked (step 11).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComposedDraft {
    /// The language the reply is written in (absent in drafts recorded
    /// before replies had one: English).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<crate::domain::Lang>,
    pub subject: String,
    pub body: String,
    pub composer: String,
    /// Guardrail violations: non-empty means held for review, never sent.
    pub violations: Vec<String>,
    /// Why the model's draft was not used and the template wrote the reply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback: Option<String>,
    /// The A/B variants applied (assignment ids recorded in the database).
    #[serde(default)]
    pub experiments: Vec<crate::experiments::AppliedExperiment>,
}

/// What was written back to HubSpot (step 13).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordInfo {
    pub note_id: String,
    pub task_id: String,
}

impl WorkflowState {
    /// Takes a committed step output into the state. A degraded step's `null`
    /// output leaves its field empty.
    pub fn apply(
        &mut self,
        step: Step,
        output: &serde_json::Value,
    ) -> Result<(), serde_json::Error> {
        fn take<T: serde::de::DeserializeOwned>(
            v: &serde_json::Value,
        ) -> Result<Option<T>, serde_json::Error> {
            if v.is_null() {
                Ok(None)
            } else {
                serde_json::from_value(v.clone()).map(Some)
            }
        }
        match step {
            Step::Intake | Step::Dedupe => {}
            Step::Validate => self.lead = take(output)?,
            Step::ResolveContact => self.contact = take(output)?,
            Step::ResolveCompany => self.company = take(output)?,
            Step::ConversationContext => self.conversation = take(output)?,
            Step::Qualify => self.qualification = take(output)?,
            Step::Route => self.route = take(output)?,
            Step::SelectAssets => self.assets = take(output)?,
            Step::ProposeSlots => self.slots = take(output)?,
            Step::Compose => self.draft = take(output)?,
            Step::Deliver => self.delivery = take(output)?,
            Step::Record => self.record = take(output)?,
        }
        Ok(())
    }
}

impl WorkflowState {
    /// The state the committed step runs leave: what a chain after the
    /// workflow (a booking) reads. Outputs that do not apply are left out.
    pub fn from_runs(runs: &[crate::store::step_runs::StepRunRow]) -> WorkflowState {
        let mut state = WorkflowState::default();
        for run in runs {
            let Some(step) = Step::parse(&run.step) else {
                continue;
            };
            let output = run
                .output
                .as_deref()
                .and_then(|o| serde_json::from_str(o).ok())
                .unwrap_or_default();
            let _ = state.apply(step, &output);
        }
        state
    }
}
