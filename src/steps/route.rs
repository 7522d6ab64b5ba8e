//! Step 8, route: choose the rep — the contact's HubSpot owner when they are a rep,
//! else the rep whose mailbox holds the latest conversation with the prospect, else
//! a rep whose territory covers the prospect, else one picked by a stable hash of
//! the workflow id (an even spread that a re-run repeats exactly).

use sha2::{Digest, Sha256};

use crate::domain::Rep;
pub use crate::domain::RouteReason;

/// The rep for this lead and why; `None` only when there is no active rep.
pub fn route<'a>(
    reps: &'a [Rep],
    owner_id: Option<&str>,
    thread_mailbox: Option<&str>,
    country_code: Option<&str>,
    prospect_zone: &str,
    workflow_id: &str,
) -> Option<(&'a Rep, RouteReason)> {
    let active: Vec<&Rep> = reps.iter().filter(|r| r.active).collect();
    if let Some(owner) = owner_id
        && let Some(rep) = active
            .iter()
            .find(|r| r.hubspot_owner_id.as_deref() == Some(owner))
    {
        return Some((rep, RouteReason::ContactOwner));
    }
    if let Some(mailbox) = thread_mailbox
        && let Some(rep) = active
            .iter()
            .find(|r| r.email.eq_ignore_ascii_case(mailbox))
    {
        return Some((rep, RouteReason::Conversation));
    }
    let covers = |rep: &&&Rep| {
        rep.territories.iter().any(|t| {
            let t = t.trim();
            country_code.is_some_and(|c| t.eq_ignore_ascii_case(c))
                || (t.ends_with('/') && prospect_zone.starts_with(t))
        })
    };
    let territory: Vec<&Rep> = active.iter().filter(covers).copied().collect();
    if !territory.is_empty() {
        return Some((pick(&territory, workflow_id), RouteReason::Territory));
    }
    (!active.is_empty()).then(|| (pick(&active, workflow_id), RouteReason::Spread))
}

fn pick<'a>(reps: &[&'a Rep], workflow_id: &str) -> &'a Rep {
    let digest = Sha256::digest(workflow_id.as_bytes());
    let n = u64::from_be_bytes(digest[..8].try_into().expect("8 bytes"));
    reps[(n % reps.len() as u64) as usize]
}

/// Runs the step: the rep, from the stored reps, the contact's owner, the
/// conversation's mailbox and the prospect's country or zone.
pub async fn run(
    cx: &crate::steps::StepCx<'_>,
) -> Result<crate::steps::StepDone, crate::steps::StepError> {
    use crate::compose::timezone;
    use crate::steps::state::RouteInfo;
    use crate::steps::{StepDone, StepError};
    let lead = cx.lead()?;
    let reps = cx
        .services
        .store
        .run(crate::store::reps::list_active)
        .await?;
    let owner = cx
        .state
        .contact
        .as_ref()
        .and_then(|c| c.owner_id.as_deref());
    let mailbox = cx
        .state
        .conversation
        .as_ref()
        .and_then(|c| c.mailbox.as_deref());
    let country = lead.country.as_deref().and_then(timezone::country_code);
    let zone = timezone::infer(lead, "UTC");
    let (rep, reason) = route(&reps, owner, mailbox, country, &zone.zone, &cx.workflow.id)
        .ok_or_else(|| StepError::Permanent("no active rep to route to".into()))?;
    Ok(StepDone::ok(RouteInfo {
        rep_id: rep.id.clone(),
        reason,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rep(id: &str, owner: Option<&str>, territories: &[&str]) -> Rep {
        let mut rep: Rep = serde_json::from_value(serde_json::json!({
            "id": id, "name": id, "email": format!("{id}@example.com"), "calendar_id": format!("{id}@example.com"),
            "time_zone": "Europe/Berlin", "territories": territories,
        }))
        .unwrap();
        rep.hubspot_owner_id = owner.map(String::from);
        rep
    }

    #[test]
    fn the_owner_wins_then_territory_then_an_even_spread() {
        let reps = vec![
            rep("ana", Some("101"), &["de", "at"]),
            rep("bo", Some("102"), &["America/"]),
            rep("cy", None, &[]),
        ];
        let chosen = |owner, country, zone, wf| {
            route(&reps, owner, None, country, zone, wf).map(|(r, why)| (r.id.as_str(), why))
        };
        assert_eq!(
            chosen(Some("102"), Some("de"), "Europe/Berlin", "w1"),
            Some(("bo", RouteReason::ContactOwner))
        );
        assert_eq!(
            chosen(Some("999"), Some("DE"), "Europe/Berlin", "w1"),
            Some(("ana", RouteReason::Territory))
        );
        assert_eq!(
            chosen(None, Some("us"), "America/Chicago", "w1"),
            Some(("bo", RouteReason::Territory))
        );
        let spread: std::collections::BTreeSet<String> = (0..60)
            .filter_map(|n| {
                route(
                    &reps,
                    None,
                    None,
                    Some("jp"),
                    "Asia/Tokyo",
                    &format!("wf-{n}"),
                )
            })
            .map(|(rep, _)| rep.id.clone())
            .collect();
        assert_eq!(spread.len(), 3, "every rep gets leads");
        assert_eq!(
            chosen(None, None, "Asia/Tokyo", "wf-7"),
            chosen(None, None, "Asia/Tokyo", "wf-7"),
            "stable on re-run"
        );
    }

    #[test]
    fn inactive_reps_get_nothing() {
        let mut reps = vec![rep("ana", Some("101"), &[])];
        reps[0].active = false;
        assert!(route(&reps, Some("101"), None, None, "UTC", "w").is_none());
    }

    #[test]
    fn an_existing_conversation_beats_territory_but_not_the_owner() {
        let reps = vec![rep("ana", Some("101"), &["de"]), rep("cy", None, &[])];
        let pick = |owner| {
            route(
                &reps,
                owner,
                Some("CY@example.com"),
                Some("de"),
                "Europe/Berlin",
                "w",
            )
            .map(|(r, why)| (r.id.clone(), why))
        };
        assert_eq!(
            pick(None),
            Some(("cy".to_string(), RouteReason::Conversation))
        );
        assert_eq!(
            pick(Some("101")),
            Some(("ana".to_string(), RouteReason::ContactOwner))
        );
    }
}
