//! Step 4, resolve contact: upsert the prospect into HubSpot by email (idempotent
//! on the address) and, at the same time, read the contact by email for its
//! owner and opt-out flag.
//! A contact who opted out of email in HubSpot is not answered.

use std::collections::BTreeMap;

use crate::connectors::hubspot::{CONTACTS_GET, CONTACTS_UPSERT, ContactUpsert};
use crate::steps::state::ContactInfo;
use crate::steps::{StepCx, StepDone, StepError};
use crate::store::workflows::WorkflowStatus;

pub async fn run(cx: &StepCx<'_>) -> Result<StepDone, StepError> {
    let lead = cx.lead()?;
    let mut properties = BTreeMap::new();
    for (property, value) in [
        ("firstname", &lead.first_name),
        ("lastname", &lead.last_name),
        ("company", &lead.company),
        ("jobtitle", &lead.job_title),
        ("phone", &lead.phone),
        ("website", &lead.website),
        ("country", &lead.country),
        ("state", &lead.state),
        ("city", &lead.city),
    ] {
        if let Some(value) = value {
            properties.insert(property.to_string(), value.clone());
        }
    }
    let upsert = ContactUpsert {
        email: lead.email.clone(),
        properties,
        trace_id: cx.workflow.id.clone(),
    };
    // The write and the read of the owner and opt-out flag go out together: the
    // upsert sets neither, so the read answers the same before or after it, and
    // the contact costs one round trip instead of two.
    let email = lead.email.clone();
    let (upserted, existing) = futures_util::future::join(
        cx.services.hubspot(&CONTACTS_UPSERT, move |h| {
            let upsert = upsert.clone();
            async move {
                h.upsert_contacts_by_email(std::slice::from_ref(&upsert))
                    .await
            }
        }),
        cx.services.hubspot(&CONTACTS_GET, move |h| {
            let email = email.clone();
            async move { h.find_contact_by_email(&email).await }
        }),
    )
    .await;
    let first = upserted?
        .into_iter()
        .next()
        .ok_or_else(|| StepError::transient("HubSpot upsert returned no contact"))?;
    let existing = existing?;
    let detail = serde_json::json!({ "contact_id": first.id, "created": first.new });
    let reason = "the submission, written to the CRM";
    cx.services
        .audit(&cx.workflow.id, "hubspot.contact_upserted", reason, detail)
        .await?;
    let property = |name| existing.as_ref().and_then(|c| c.property(name));
    if property("hs_email_optout") == Some("true") {
        return Ok(StepDone::finish(
            WorkflowStatus::Skipped,
            "contact opted out of email in HubSpot",
        ));
    }
    let owner_id = property("hubspot_owner_id")
        .filter(|o| !o.is_empty())
        .map(str::to_string);
    Ok(StepDone::ok(ContactInfo {
        id: first.id,
        owner_id,
        created: first.new,
    }))
}
