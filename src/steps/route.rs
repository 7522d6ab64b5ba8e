//! Step 8, route: choose the rep — the contact's HubSpot owner when they are a rep,
//! else the rep whose mailbox holds the latest conversation with the prospect, else
//! among the reps whose territory covers the prospect (or, failing that, all reps)
//! the one whose working hours meet the prospect's business hours the most over the
//! coming days. Reps that meet them equally are spread by a stable hash of the
//! normalised contact email, so a duplicate submission or a re-run routes the same way.
//!
//! Within the territory (or spread) tier, reps who speak the prospect's
//! language (qualify's guess) are preferred: a German prospect goes to the
//! territory's German speaker when there is one, and to the tier as before
//! when there is none. The owner and the conversation's rep are kept whatever
//! they speak.
//!
//! A rep whose Google account needs reconnecting is passed over within the
//! territory (or spread) tier when another rep of the tier can take the lead.
//! The contact's owner and the rep of an existing conversation are the person
//! the prospect knows: they are kept, and so is the tier's choice when every
//! rep of it is disconnected — the lead then waits, visibly, for that rep's
//! account and resumes when it is reconnected.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use sha2::{Digest, Sha256};

use crate::compose::overlap;
use crate::connectors::google_auth::PROVIDER as GOOGLE;
pub use crate::domain::RouteReason;
use crate::domain::language::speaks;
use crate::domain::{Lang, Rep, WorkingHours};

/// How far ahead working hours are compared: two weeks, as slots are proposed.
pub const OVERLAP_DAYS: i64 = 14;

/// Where the prospect is and when they do business; no zones when unknown.
pub struct Prospect<'a> {
    /// Normalised contact email: the key of the stable spread.
    pub email: &'a str,
    pub country_code: Option<&'a str>,
    /// The inferred zone, for `Europe/`-style territories.
    pub zone: &'a str,
    /// Every zone the prospect may be in; empty when nothing is known.
    pub zones: Vec<Tz>,
    pub business: &'a WorkingHours,
    pub now: DateTime<Utc>,
    /// The prospect's language (ISO 639-1), when qualify read one.
    pub language: Option<&'a str>,
    /// The language of reps who list none.
    pub team_language: Lang,
}

/// The choice: the rep, why, and how much their hours meet the prospect's.
#[derive(Debug, PartialEq, Eq)]
pub struct Routed<'a> {
    pub rep: &'a Rep,
    pub reason: RouteReason,
    pub overlap_minutes: Option<i64>,
}

/// The rep for this lead and why; `None` only when there is no active rep.
/// `connected` says whether the service can act for a rep's mailbox now.
pub fn route<'a>(
    reps: &'a [Rep],
    owner_id: Option<&str>,
    thread_mailbox: Option<&str>,
    prospect: &Prospect<'_>,
    connected: impl Fn(&Rep) -> bool,
) -> Option<Routed<'a>> {
    let active: Vec<&Rep> = reps.iter().filter(|r| r.active).collect();
    let routed = |rep: &'a Rep, reason| Routed {
        rep,
        reason,
        overlap_minutes: overlap_of(rep, prospect),
    };
    if let Some(owner) = owner_id
        && let Some(rep) = active
            .iter()
            .find(|r| r.hubspot_owner_id.as_deref() == Some(owner))
    {
        return Some(routed(rep, RouteReason::ContactOwner));
    }
    if let Some(mailbox) = thread_mailbox
        && let Some(rep) = active
            .iter()
            .find(|r| r.email.eq_ignore_ascii_case(mailbox))
    {
        return Some(routed(rep, RouteReason::Conversation));
    }
    let covers = |rep: &&&Rep| {
        rep.territories.iter().any(|t| {
            let t = t.trim();
            prospect
                .country_code
                .is_some_and(|c| t.eq_ignore_ascii_case(c))
                || (t.ends_with('/') && prospect.zone.starts_with(t))
        })
    };
    let territory: Vec<&Rep> = active.iter().filter(covers).copied().collect();
    let (tier, reason) = if territory.is_empty() {
        (active, RouteReason::Spread)
    } else {
        (territory, RouteReason::Territory)
    };
    let live: Vec<&Rep> = tier.iter().filter(|r| connected(r)).copied().collect();
    let tier = if live.is_empty() { tier } else { live };
    let speakers: Vec<&Rep> = tier
        .iter()
        .filter(|r| {
            prospect
                .language
                .is_some_and(|code| speaks(&r.languages, prospect.team_language, code))
        })
        .copied()
        .collect();
    let tier = if speakers.is_empty() { tier } else { speakers };
    let (rep, overlap_minutes) = pick(&tier, prospect)?;
    Some(Routed {
        rep,
        reason,
        overlap_minutes,
    })
}

/// Minutes the rep's hours meet the prospect's; `None` when their zone is unknown.
fn overlap_of(rep: &Rep, prospect: &Prospect<'_>) -> Option<i64> {
    (!prospect.zones.is_empty()).then(|| {
        overlap::overlap_minutes(
            &rep.working_hours,
            rep.tz(),
            prospect.business,
            &prospect.zones,
            prospect.now,
            OVERLAP_DAYS,
        )
    })
}

/// The reps whose hours meet the prospect's the most, then one of them by the
/// hash of the contact's email (an even spread that every run repeats).
fn pick<'a>(reps: &[&'a Rep], prospect: &Prospect<'_>) -> Option<(&'a Rep, Option<i64>)> {
    let scored: Vec<(&Rep, Option<i64>)> =
        reps.iter().map(|r| (*r, overlap_of(r, prospect))).collect();
    let best = scored.iter().map(|(_, m)| *m).max()?;
    let top: Vec<&(&Rep, Option<i64>)> = scored.iter().filter(|(_, m)| *m == best).collect();
    let digest = Sha256::digest(prospect.email.trim().to_lowercase().as_bytes());
    let n = u64::from_be_bytes(digest[..8].try_into().expect("8 bytes"));
    Some(*top[(n % top.len() as u64) as usize])
}

/// Runs the step: the rep, from the stored reps, the contact's owner, the
/// conversation's mailbox and where and when the prospect does business.
pub async fn run(
    cx: &crate::steps::StepCx<'_>,
) -> Result<crate::steps::StepDone, crate::steps::StepError> {
    use crate::compose::timezone::{self, Confidence};
    use crate::steps::state::RouteInfo;
    use crate::steps::{StepDone, StepError};
    let lead = cx.lead()?;
    let (reps, disconnected) = cx
        .services
        .store
        .run(|c| {
            Ok((
                crate::store::reps::list_active(c)?,
                crate::store::grants::disconnected(c, GOOGLE)?,
            ))
        })
        .await?;
    let connected = |rep: &Rep| {
        !disconnected
            .iter()
            .any(|d| d.account.eq_ignore_ascii_case(&rep.email))
    };
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
    let guess = timezone::infer(lead, "UTC");
    let zones = if guess.confidence == Confidence::None {
        Vec::new()
    } else {
        guess.candidate_tzs()
    };
    let business = &cx.services.config.engine.prospect_hours;
    let language = cx.prospect_language().map(str::to_string);
    let team_language = cx.services.config.engine.default_language;
    let prospect = Prospect {
        language: language.as_deref(),
        team_language,
        email: &lead.email,
        country_code: lead.country.as_deref().and_then(timezone::country_code),
        zone: &guess.zone,
        zones,
        business,
        now: Utc::now(),
    };
    let routed = route(&reps, owner, mailbox, &prospect, connected)
        .ok_or_else(|| StepError::Permanent("no active rep to route to".into()))?;
    if !connected(routed.rep) {
        return Err(StepError::WaitForAccount {
            account: routed.rep.email.to_lowercase(),
            rep_id: Some(routed.rep.id.clone()),
        });
    }
    let note = (routed.overlap_minutes == Some(0)).then(|| {
        format!(
            "{}'s working hours never meet the prospect's business hours ({}) in the next {OVERLAP_DAYS} days: no slot can be offered",
            routed.rep.id,
            prospect
                .zones
                .iter()
                .map(|z| z.name())
                .collect::<Vec<_>>()
                .join(", ")
        )
    });
    let speaks_language = language
        .as_deref()
        .map(|code| speaks(&routed.rep.languages, team_language, code));
    Ok(StepDone::ok(RouteInfo {
        speaks_language,
        rep_id: routed.rep.id.clone(),
        reason: routed.reason,
        overlap_minutes: routed.overlap_minutes,
        prospect_zones: prospect
            .zones
            .iter()
            .map(|z| z.name().to_string())
            .collect(),
        note,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rep(id: &str, owner: Option<&str>, territories: &[&str], zone: &str) -> Rep {
        let mut rep: Rep = serde_json::from_value(serde_json::json!({
            "id": id, "name": id, "email": format!("{id}@example.com"), "calendar_id": format!("{id}@example.com"),
            "time_zone": zone, "territories": territories,
        }))
        .unwrap();
        rep.hubspot_owner_id = owner.map(String::from);
        rep
    }

    fn business() -> WorkingHours {
        WorkingHours::parse("08:00-18:00", "mon-fri").unwrap()
    }

    /// A prospect in `zone` (unknown when empty), on a Monday in December.
    fn prospect<'a>(
        email: &'a str,
        country: Option<&'a str>,
        zone: &'a str,
        business: &'a WorkingHours,
    ) -> Prospect<'a> {
        Prospect {
            email,
            country_code: country,
            zone,
            zones: zone.parse().into_iter().collect(),
            business,
            now: "2026-12-07T00:00:00Z".parse().unwrap(),
            language: None,
            team_language: Lang::En,
        }
    }

    fn chosen(
        reps: &[Rep],
        owner: Option<&str>,
        p: &Prospect<'_>,
    ) -> Option<(String, RouteReason)> {
        route(reps, owner, None, p, |_| true).map(|r| (r.rep.id.clone(), r.reason))
    }

    #[test]
    fn the_owner_wins_then_territory_then_the_rep_whose_hours_meet_the_prospects() {
        let reps = vec![
            rep("ana", Some("101"), &["de", "at"], "Europe/Berlin"),
            rep("bo", Some("102"), &["America/"], "America/New_York"),
            rep("cy", None, &[], "Asia/Singapore"),
        ];
        let b = business();
        let berlin = prospect("p@x.de", Some("de"), "Europe/Berlin", &b);
        assert_eq!(
            chosen(&reps, Some("102"), &berlin),
            Some(("bo".into(), RouteReason::ContactOwner))
        );
        let berlin = prospect("p@x.de", Some("DE"), "Europe/Berlin", &b);
        assert_eq!(
            chosen(&reps, Some("999"), &berlin),
            Some(("ana".into(), RouteReason::Territory))
        );
        let chicago = prospect("p@x.com", Some("us"), "America/Chicago", &b);
        assert_eq!(
            chosen(&reps, None, &chicago),
            Some(("bo".into(), RouteReason::Territory))
        );
        // No territory covers these: the rep whose day meets theirs the most.
        for (zone, expected) in [
            ("Pacific/Honolulu", "bo"),
            ("Asia/Tokyo", "cy"),
            ("Africa/Lagos", "ana"),
        ] {
            let p = prospect("p@x.com", None, zone, &b);
            let routed = route(&reps, None, None, &p, |_| true).unwrap();
            assert_eq!(
                (routed.rep.id.as_str(), routed.reason),
                (expected, RouteReason::Spread),
                "{zone}"
            );
            assert!(routed.overlap_minutes.unwrap() > 0, "{zone}");
        }
    }

    #[test]
    fn reps_meeting_the_prospect_equally_share_leads_stably_per_contact() {
        let reps = vec![
            rep("ana", None, &[], "Europe/Berlin"),
            rep("bea", None, &[], "Europe/Berlin"),
            rep("cem", None, &[], "Europe/Berlin"),
            rep("far", None, &[], "Pacific/Auckland"),
        ];
        let b = business();
        let emails: Vec<String> = (0..60).map(|n| format!("p{n}@x.fr")).collect();
        let spread: std::collections::BTreeSet<String> = emails
            .iter()
            .map(|e| {
                chosen(&reps, None, &prospect(e, None, "Europe/Paris", &b))
                    .unwrap()
                    .0
            })
            .collect();
        assert_eq!(
            spread.into_iter().collect::<Vec<_>>(),
            ["ana", "bea", "cem"],
            "every Berlin rep gets leads; Auckland, whose day never meets Paris's, none"
        );
        let once = chosen(&reps, None, &prospect("p7@x.fr", None, "Europe/Paris", &b));
        let again = chosen(
            &reps,
            None,
            &prospect(" P7@X.fr ", None, "Europe/Paris", &b),
        );
        assert_eq!(
            once, again,
            "the same contact, however typed, routes the same way"
        );
    }

    #[test]
    fn an_unknown_zone_spreads_over_all_reps_without_scoring() {
        let reps = vec![
            rep("ana", None, &[], "Europe/Berlin"),
            rep("far", None, &[], "Pacific/Auckland"),
        ];
        let b = business();
        let picked: std::collections::BTreeSet<String> = (0..40)
            .map(|n| format!("q{n}@x.com"))
            .map(|e| {
                let routed =
                    route(&reps, None, None, &prospect(&e, None, "", &b), |_| true).unwrap();
                assert_eq!(routed.overlap_minutes, None);
                routed.rep.id.clone()
            })
            .collect();
        assert_eq!(picked.len(), 2);
    }

    #[test]
    fn a_territory_binds_even_when_its_reps_hours_miss_the_prospects() {
        let reps = vec![
            rep("ana", None, &["us"], "Europe/Berlin"),
            rep("bo", None, &[], "America/Los_Angeles"),
        ];
        let b = business();
        let routed = route(
            &reps,
            None,
            None,
            &prospect("p@x.com", Some("us"), "America/Los_Angeles", &b),
            |_| true,
        )
        .unwrap();
        assert_eq!(
            (
                routed.rep.id.as_str(),
                routed.reason,
                routed.overlap_minutes
            ),
            ("ana", RouteReason::Territory, Some(0))
        );
    }

    #[test]
    fn a_speaker_of_the_prospects_language_is_preferred_within_the_tier_only() {
        let mut reps = vec![
            rep("ana", Some("101"), &["de"], "Europe/Berlin"),
            rep("bea", None, &["de"], "Europe/Berlin"),
            rep("cy", None, &[], "Europe/Berlin"),
        ];
        reps[1].languages = vec!["de".into(), "en".into()];
        reps[2].languages = vec!["fr".into()];
        let b = business();
        for n in 0..30 {
            let email = format!("p{n}@x.de");
            let mut p = prospect(&email, Some("de"), "Europe/Berlin", &b);
            p.language = Some("de");
            let routed = route(&reps, None, None, &p, |_| true).unwrap();
            assert_eq!(
                (routed.rep.id.as_str(), routed.reason),
                ("bea", RouteReason::Territory),
                "{email}: the territory's German speaker"
            );
            // Nobody in the territory speaks Japanese: the tier as before.
            p.language = Some("ja");
            let routed = route(&reps, None, None, &p, |_| true).unwrap();
            assert_eq!(routed.reason, RouteReason::Territory);
            assert_ne!(routed.rep.id, "cy", "{email}: outside the territory");
            // A rep without languages speaks the team's.
            p.language = Some("en");
            let routed = route(&reps, None, None, &p, |_| true).unwrap();
            assert!(["ana", "bea"].contains(&routed.rep.id.as_str()));
        }
        let mut p = prospect("p@x.fr", Some("fr"), "Europe/Paris", &b);
        p.language = Some("fr");
        assert_eq!(
            chosen(&reps, None, &p),
            Some(("cy".into(), RouteReason::Spread)),
            "no territory: the French speaker among all reps"
        );
        assert_eq!(
            chosen(&reps, Some("101"), &p),
            Some(("ana".into(), RouteReason::ContactOwner)),
            "the owner is kept whatever they speak"
        );
    }

    #[test]
    fn inactive_reps_get_nothing() {
        let mut reps = vec![rep("ana", Some("101"), &[], "UTC")];
        reps[0].active = false;
        let b = business();
        assert!(
            route(
                &reps,
                Some("101"),
                None,
                &prospect("p@x", None, "UTC", &b),
                |_| true
            )
            .is_none()
        );
    }

    #[test]
    fn an_existing_conversation_beats_territory_but_not_the_owner() {
        let reps = vec![
            rep("ana", Some("101"), &["de"], "Europe/Berlin"),
            rep("cy", None, &[], "Europe/Berlin"),
        ];
        let b = business();
        let p = prospect("p@x.de", Some("de"), "Europe/Berlin", &b);
        let pick = |owner| {
            route(&reps, owner, Some("CY@example.com"), &p, |_| true)
                .map(|r| (r.rep.id.clone(), r.reason))
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

    #[test]
    fn a_disconnected_rep_is_passed_over_in_its_tier_but_kept_as_owner_or_when_alone() {
        let reps = vec![
            rep("ana", Some("101"), &["de"], "Europe/Berlin"),
            rep("bea", None, &["de"], "Europe/Berlin"),
            rep("cy", None, &[], "Europe/Berlin"),
        ];
        let b = business();
        let ana_down = |r: &Rep| r.id != "ana";
        let emails: Vec<String> = (0..40).map(|n| format!("p{n}@x.de")).collect();
        for e in &emails {
            let p = prospect(e, Some("de"), "Europe/Berlin", &b);
            let routed = route(&reps, None, None, &p, ana_down).unwrap();
            assert_eq!(
                (routed.rep.id.as_str(), routed.reason),
                ("bea", RouteReason::Territory),
                "{e}: the territory's other rep takes every lead"
            );
        }
        let p = prospect("p@x.de", Some("de"), "Europe/Berlin", &b);
        let owned = route(&reps, Some("101"), None, &p, ana_down).unwrap();
        assert_eq!(
            owned.rep.id, "ana",
            "the contact's owner is kept: the lead waits"
        );
        let de_down = |r: &Rep| r.id == "cy";
        let alone = route(&reps, None, None, &p, de_down).unwrap();
        assert_eq!(alone.reason, RouteReason::Territory);
        assert!(
            !de_down(alone.rep),
            "every rep of the territory is down: one of them is kept (the lead waits), not a rep outside it"
        );
    }
}
