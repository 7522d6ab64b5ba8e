//! Step 5, resolve company: the HubSpot company of the email's domain, associated
//! with the contact (a PUT, so repeating it is harmless). Free-mail domains name
//! no company. In pilot mode the association is recorded, not made.

use crate::connectors::hubspot::{ASSOCIATE_DEFAULT, COMPANIES_SEARCH};
use crate::connectors::planned;
use crate::domain::Step;
use crate::steps::pilot;
use crate::steps::qualify::FREE_MAIL;
use crate::steps::state::CompanyInfo;
use crate::steps::{StepCx, StepDone, StepError};

pub async fn run(cx: &StepCx<'_>) -> Result<StepDone, StepError> {
    let lead = cx.lead()?;
    if FREE_MAIL.contains(&lead.email_domain.as_str()) {
        return Ok(StepDone::skipped(serde_json::Value::Null));
    }
    let domain = lead.email_domain.clone();
    let companies = cx
        .services
        .hubspot(&COMPANIES_SEARCH, move |h| {
            let domain = domain.clone();
            async move { h.search_companies_by_domain(&domain).await }
        })
        .await?;
    let Some(company) = companies.into_iter().next() else {
        return Ok(StepDone::skipped(serde_json::Value::Null));
    };
    if let Some(contact) = &cx.state.contact
        && pilot::is_pilot(cx).await?
    {
        let write =
            planned::associate_default(("contacts", &contact.id), ("companies", &company.id));
        pilot::record(cx, Step::ResolveCompany, vec![write]).await?;
    } else if let Some(contact) = &cx.state.contact {
        let (contact_id, company_id) = (contact.id.clone(), company.id.clone());
        cx.services
            .hubspot(&ASSOCIATE_DEFAULT, move |h| {
                let (contact_id, company_id) = (contact_id.clone(), company_id.clone());
                async move {
                    h.associate_default(("contacts", &contact_id), ("companies", &company_id))
                        .await
                }
            })
            .await?;
        let detail = serde_json::json!({ "contact_id": contact.id, "company_id": company.id });
        let reason = "the contact's email domain is the company's";
        cx.services
            .audit(
                &cx.workflow.id,
                "hubspot.company_associated",
                reason,
                detail,
            )
            .await?;
    }
    Ok(StepDone::ok(CompanyInfo {
        name: company.property("name").map(str::to_string),
        industry: company.property("industry").map(str::to_string),
        id: company.id,
    }))
}
