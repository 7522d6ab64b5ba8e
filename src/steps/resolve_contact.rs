//! Step 4, resolve contact: upsert the prospect into HubSpot by email (idempotent
//! on the address), then read the contact back for its owner and opt-out flag.
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
    let upserted = cx
        .services
        .hubspot(&CONTACTS_UPSERT, move |h| {
            let upsert = upsert.clone();
            async move {
                h.upsert_contacts_by_email(std::slice::from_ref(&upsert))
                    .await
            }
        })
        .await?;
    let first = upserted
        .into_iter()
        .next()
        .ok_or_else(|| StepError::transient("HubSpot upsert returned no contact"))?;
    let detail = serde_json::json!({ "contact_id": first.id, "created": first.new });
    let reason = "the submission, written to the CRM";
    cx.services
        .audit(&cx.workflow.id, "hubspot.contact_upserted", reason, detail)
        .await?;
    let id = first.id.clone();
    let (contact, owner) = cx
        .services
        .hubspot(&CONTACTS_GET, move |h| {
            let id = id.clone();
            async move { h.get_contact(&id).await }
        })
        .await?;
    if contact.property("hs_email_optout") == Some("true") {
        return Ok(StepDone::finish(
            WorkflowStatus::Skipped,
            "contact opted out of email in HubSpot",
        ));
    }
    let owner_id = owner
        .map(|o| o.id)
        .or_else(|| contact.property("hubspot_owner_id").map(str::to_string));
    Ok(StepDone::ok(ContactInfo {
        id: contact.id,
        owner_id,
        created: first.new,
    }))
}
