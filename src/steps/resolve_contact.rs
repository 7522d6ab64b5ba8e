//! Step 4, resolve contact: upsert the prospect into HubSpot by email (idempotent
//! on the address) and, at the same time, read the contact by email for its
//! owner and opt-out flag.
//! A contact who opted out of email in HubSpot is not answered.
//! In pilot mode the upsert is recorded, not made; the read still happens, and a
//! prospect HubSpot does not know yet is named by [`UNCREATED_CONTACT`].

use std::collections::BTreeMap;

use crate::connectors::hubspot::{CONTACTS_GET, CONTACTS_UPSERT, ContactUpsert, CrmObject};
use crate::connectors::planned;
use crate::domain::Step;
use crate::steps::pilot::{self, UNCREATED_CONTACT};
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
    let email = lead.email.clone();
    let read = cx.services.hubspot(&CONTACTS_GET, move |h| {
        let email = email.clone();
        async move { h.find_contact_by_email(&email).await }
    });
    let (id, created, existing) = if pilot::is_pilot(cx).await? {
        let existing: Option<CrmObject> = read.await?;
        let write = planned::contact_upsert(std::slice::from_ref(&upsert));
        pilot::record(cx, Step::ResolveContact, vec![write]).await?;
        let id = existing
            .as_ref()
            .map_or_else(|| UNCREATED_CONTACT.to_string(), |c| c.id.clone());
        (id, existing.is_none(), existing)
    } else {
        // The write and the read of the owner and opt-out flag go out together: the
        // upsert sets neither, so the read answers the same before or after it, and
        // the contact costs one round trip instead of two.
        let (upserted, existing) = futures_util::future::join(
            cx.services.hubspot(&CONTACTS_UPSERT, move |h| {
                let upsert = upsert.clone();
                async move {
                    h.upsert_contacts_by_email(std::slice::from_ref(&upsert))
                        .await
                }
            }),
            read,
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
        (first.id, first.new, existing)
    };
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
        id,
        owner_id,
        created,
    }))
}
