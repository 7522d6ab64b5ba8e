//! Step 8, route: choose the rep — the contact's HubSpot owner when they are a rep,
//! else a rep whose territory covers the prospect, else one picked by a stable hash
//! of the workflow id (an even spread that a re-run repeats exactly).

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::reps::Rep;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RouteReason {
    ContactOwner,
    Territory,
    Spread,
}

/// The rep for this lead and why; `None` only when there is no active rep.
pub fn route<'a>(
    reps: &'a [Rep],
    owner_id: Option<&str>,
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
            route(&reps, owner, country, zone, wf).map(|(r, why)| (r.id.as_str(), why))
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
            .filter_map(|n| route(&reps, None, Some("jp"), "Asia/Tokyo", &format!("wf-{n}")))
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
        assert!(route(&reps, Some("101"), None, "UTC", "w").is_none());
    }
}
