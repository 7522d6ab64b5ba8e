//! One form submission, whichever shape it arrived in, and the key that makes it
//! unique. Parsing the shapes is `intake`'s; this is what every layer shares.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PayloadShape {
    WorkflowContact,
    FormsApi,
    /// `fieldValues` / `formSubmissionId`: the layout earlier versions posted.
    FieldValues,
}

impl PayloadShape {
    pub fn as_str(self) -> &'static str {
        match self {
            PayloadShape::WorkflowContact => "workflow_contact",
            PayloadShape::FormsApi => "forms_api",
            PayloadShape::FieldValues => "field_values",
        }
    }
}

/// One form submission, whichever shape it arrived in. Values are untrusted text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormSubmission {
    pub shape: PayloadShape,
    pub portal_id: Option<String>,
    pub form_id: Option<String>,
    pub conversion_id: Option<String>,
    pub submitted_at_ms: Option<i64>,
    pub contact_id: Option<String>,
    pub page_url: Option<String>,
    /// As submitted (trimmed); syntax and case are dealt with by the validate step.
    pub email: String,
    /// Fields under their canonical names (see `fields::FIELD_MAP`).
    pub fields: BTreeMap<String, String>,
    /// Fields we do not map, kept as context.
    pub other_fields: BTreeMap<String, String>,
}

/// The key that makes a submission unique, from business identity rather than the
/// delivery: `hubspot:{portal}:{form}:{conversion}` when HubSpot gave a conversion
/// id, else a hash of the submission's stable fields. Retries and re-deliveries of
/// the same submission, in either shape, get the same key.
pub fn idempotency_key(submission: &FormSubmission) -> String {
    let part = |p: &Option<String>| p.clone().unwrap_or_else(|| "-".into());
    if let Some(conversion) = &submission.conversion_id {
        return format!(
            "hubspot:{}:{}:{}",
            part(&submission.portal_id),
            part(&submission.form_id),
            conversion
        );
    }
    let mut fields = submission.fields.clone();
    fields.remove("email");
    let stable = serde_json::json!({
        "portal": submission.portal_id,
        "form": submission.form_id,
        "contact": submission.contact_id,
        "submitted_at": submission.submitted_at_ms,
        "email": submission.email.to_lowercase(),
        "fields": fields,
        "other": submission.other_fields,
    });
    format!(
        "sha256:{}",
        hex::encode(Sha256::digest(stable.to_string().as_bytes()))
    )
}
