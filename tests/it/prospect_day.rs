//! The prospect's day, on both backends through the sandbox: the zone comes from
//! the phone's area code with the country; every slot lies in the prospect's
//! business hours; routing prefers the rep whose hours meet the prospect's and is
//! the same for the same contact; unsure zones show the slots in both zones; and
//! when no slot fits, none is offered and the reply asks for times.

use std::time::Duration;

use chrono::{DateTime, Datelike, NaiveTime, Utc, Weekday};
use chrono_tz::Tz;
use serde_json::{Value, json};

use crate::helpers::{Stack, TestDb, spawn_stack, spawn_stack_with};
use crate::on_both_backends;

on_both_backends!(
    a_hawaii_phone_gets_honolulu_and_every_slot_lies_in_its_business_day,
    american_prospects_route_to_american_hours_and_a_contact_always_to_the_same_rep,
    an_unsure_zone_shows_the_slots_in_both_zones,
    when_no_slot_fits_the_prospects_days_none_is_offered_and_the_reply_asks,
);

/// A demo request with these extra form fields.
fn submission(conversion_id: &str, email: &str, fields: &[(&str, &str)]) -> String {
    let mut values = vec![
        json!({"name": "email", "value": email}),
        json!({"name": "firstname", "value": "Kai"}),
        json!({"name": "company", "value": "Island Clinics"}),
        json!({"name": "message", "value": "Could you show us a demo of the forecasts?"}),
    ];
    values.extend(
        fields
            .iter()
            .map(|(name, value)| json!({"name": name, "value": value})),
    );
    json!({
        "portalId": 62515,
        "formGuid": "demo-request",
        "conversionId": conversion_id,
        "submittedAt": 1_790_000_000_000u64,
        "pageUrl": "https://www.example.com/demo",
        "values": values,
    })
    .to_string()
}

/// Posts a submission, waits for its workflow to complete; its step outputs.
async fn answered(stack: &Stack, body: &str) -> std::collections::BTreeMap<String, Value> {
    let id = stack.completed(body).await;
    stack.step_outputs(&id).await
}

/// The proposed slots, as instants.
fn slots(
    outputs: &std::collections::BTreeMap<String, Value>,
) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    outputs["propose_slots"]["slots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["start"].as_str().unwrap().parse().unwrap(),
                s["end"].as_str().unwrap().parse().unwrap(),
            )
        })
        .collect()
}

/// Whether a slot lies in 08:00–18:00, Monday to Friday, in `tz`.
fn in_business_day((start, end): &(DateTime<Utc>, DateTime<Utc>), tz: Tz) -> bool {
    let (start, end) = (start.with_timezone(&tz), end.with_timezone(&tz));
    !matches!(start.weekday(), Weekday::Sat | Weekday::Sun)
        && start.date_naive() == end.date_naive()
        && start.time() >= NaiveTime::from_hms_opt(8, 0, 0).unwrap()
        && end.time() <= NaiveTime::from_hms_opt(18, 0, 0).unwrap()
}

fn body_of(outputs: &std::collections::BTreeMap<String, Value>) -> String {
    outputs["compose"]["body"].as_str().unwrap().to_string()
}

async fn a_hawaii_phone_gets_honolulu_and_every_slot_lies_in_its_business_day(db: TestDb) {
    let stack = spawn_stack(&db).await;
    let outputs = answered(
        &stack,
        &submission(
            "hawaii-1",
            "kai.akana@island-clinics.com",
            &[("country", "United States"), ("phone", "(808) 555-0142")],
        ),
    )
    .await;
    let zone = &outputs["propose_slots"]["prospect_zone"];
    assert_eq!(zone["zone"], "Pacific/Honolulu", "{zone}");
    assert_eq!(zone["confidence"], "high", "{zone}");
    assert!(
        zone["evidence"]
            .as_array()
            .unwrap()
            .contains(&json!("phone +1 808 → Pacific/Honolulu")),
        "{zone}"
    );
    let honolulu: Tz = "Pacific/Honolulu".parse().unwrap();
    let offered = slots(&outputs);
    assert!(!offered.is_empty(), "{}", outputs["propose_slots"]);
    for slot in &offered {
        assert!(
            in_business_day(slot, honolulu),
            "{slot:?} outside 08–18 Honolulu"
        );
    }
    // The New York rep, whose afternoon is Honolulu's morning.
    assert_eq!(
        outputs["route"]["rep_id"], "maya-chen",
        "{}",
        outputs["route"]
    );
    assert!(outputs["route"]["overlap_minutes"].as_i64().unwrap() > 0);
    let body = body_of(&outputs);
    for rendered in outputs["propose_slots"]["rendered"].as_array().unwrap() {
        let rendered = rendered.as_str().unwrap();
        assert!(rendered.contains("HST (Pacific/Honolulu)"), "{rendered}");
        assert!(body.contains(rendered), "{rendered} in:\n{body}");
    }
    stack.stop().await;
}

/// Seeds the demo's reps without territories, so working hours alone decide;
/// Priya becomes a second New York rep so that two reps meet American days equally.
async fn reps_without_territories(stack: &Stack) {
    let mut reps = sales_agent::demo::reps_from_fixture(&stack.fixture);
    for rep in &mut reps {
        rep.territories.clear();
        if rep.id == "priya-raman" {
            rep.time_zone = "America/New_York".into();
        }
    }
    stack
        .app
        .app
        .state
        .store
        .run(move |c| {
            for rep in &reps {
                sales_agent::store::reps::upsert(c, rep)?;
            }
            Ok(())
        })
        .await
        .unwrap();
}

async fn american_prospects_route_to_american_hours_and_a_contact_always_to_the_same_rep(
    db: TestDb,
) {
    // No cool-down: the same person's second submission runs a workflow too.
    let stack = spawn_stack_with(
        &db,
        |mut config| {
            config.engine.cool_down = Duration::ZERO;
            config
        },
        Default::default(),
    )
    .await;
    reps_without_territories(&stack).await;
    let american = ["maya-chen", "priya-raman"];

    let berlin = answered(
        &stack,
        &submission(
            "de-1",
            "jana.roth@elbe-kliniken.de",
            &[("country", "Germany"), ("phone", "030 1234567")],
        ),
    )
    .await;
    assert_eq!(
        berlin["route"]["rep_id"], "jonas-weber",
        "{}",
        berlin["route"]
    );

    let mut chosen = Vec::new();
    for (n, (email, phone)) in [
        ("lee.park@coastal-care.com", "+1 415 555 0100"),
        ("ana.ruiz@desert-health.com", "+1 602 555 0101"),
        ("tom.hale@lakeside-med.com", "+1 312 555 0102"),
        ("ivy.chan@harbor-dental.com", "+1 206 555 0103"),
    ]
    .into_iter()
    .enumerate()
    {
        let mut reps = Vec::new();
        // The same contact twice, the second time typed differently.
        for (attempt, typed) in [email.to_string(), email.to_uppercase()].iter().enumerate() {
            let outputs = answered(
                &stack,
                &submission(
                    &format!("us-{n}-{attempt}"),
                    typed,
                    &[("country", "US"), ("phone", phone)],
                ),
            )
            .await;
            let rep = outputs["route"]["rep_id"].as_str().unwrap().to_string();
            assert!(
                american.contains(&rep.as_str()),
                "{email}: {}",
                outputs["route"]
            );
            assert_eq!(outputs["route"]["reason"], "spread", "{}", outputs["route"]);
            reps.push(rep);
            // The rep discards the draft, so the duplicate finds no conversation
            // to follow and is routed afresh.
            discard_drafts_to(&stack, email);
        }
        assert_eq!(reps[0], reps[1], "{email} routed two ways");
        chosen.push(reps[0].clone());
    }
    // Eight workflows; a per-workflow choice would agree on all four pairs 1 time in 16.
    assert_eq!(chosen.len(), 4);
    stack.stop().await;
}

/// Removes every message addressed to `email` from the sandbox's mailboxes.
fn discard_drafts_to(stack: &Stack, email: &str) {
    let mut world = stack.sandbox.sandbox().lock_world();
    for mailbox in world.mailboxes.values_mut() {
        let gone: Vec<String> = mailbox
            .messages
            .iter()
            .filter(|(_, m)| m.to.iter().any(|to| to.to_lowercase().contains(email)))
            .map(|(id, _)| id.clone())
            .collect();
        mailbox.messages.retain(|id, _| !gone.contains(id));
        mailbox.drafts.retain(|_, message| !gone.contains(message));
    }
}

async fn an_unsure_zone_shows_the_slots_in_both_zones(db: TestDb) {
    let stack = spawn_stack(&db).await;
    // A Hawaii phone but a German company domain, no country: Honolulu, unsure.
    let outputs = answered(
        &stack,
        &submission(
            "unsure-1",
            "kai@aloha-handel.de",
            &[("phone", "+1 808 555 0142")],
        ),
    )
    .await;
    let slots_out = &outputs["propose_slots"];
    assert_eq!(slots_out["prospect_zone"]["zone"], "Pacific/Honolulu");
    assert_eq!(slots_out["prospect_zone"]["confidence"], "low");
    let in_rep_zone = slots_out["rendered_in_rep_zone"].as_array().unwrap();
    assert!(!in_rep_zone.is_empty(), "{slots_out}");
    let body = body_of(&outputs);
    assert!(body.contains("(Pacific/Honolulu)"), "{body}");
    assert!(body.contains("(America/New_York)"), "{body}");

    // A German country but a London phone: Berlin, with London still possible —
    // each slot shows both, and lies in business hours in both.
    let outputs = answered(
        &stack,
        &submission(
            "unsure-2",
            "mia@themse-logistik.de",
            &[("country", "Germany"), ("phone", "+44 20 7946 0000")],
        ),
    )
    .await;
    let slots_out = &outputs["propose_slots"];
    assert_eq!(slots_out["prospect_zone"]["zone"], "Europe/Berlin");
    assert_eq!(slots_out["prospect_zone"]["confidence"], "low");
    let offered = slots(&outputs);
    assert!(!offered.is_empty(), "{slots_out}");
    for slot in &offered {
        for zone in ["Europe/Berlin", "Europe/London"] {
            assert!(
                in_business_day(slot, zone.parse().unwrap()),
                "{slot:?} in {zone}"
            );
        }
    }
    let body = body_of(&outputs);
    for rendered in slots_out["rendered"].as_array().unwrap() {
        let rendered = rendered.as_str().unwrap();
        assert!(
            rendered.contains("(Europe/Berlin)") && rendered.contains("(Europe/London)"),
            "{rendered}"
        );
        assert!(body.contains(rendered), "{rendered} in:\n{body}");
    }
    stack.stop().await;
}

async fn when_no_slot_fits_the_prospects_days_none_is_offered_and_the_reply_asks(db: TestDb) {
    // Prospects who do business only on Saturdays; every rep works Monday to Friday
    // (Singapore's Monday morning is still Sunday in Honolulu, so Sunday would meet it).
    let stack = spawn_stack_with(
        &db,
        |mut config| {
            config.engine.prospect_hours =
                sales_agent::domain::WorkingHours::parse("08:00-18:00", "sat").unwrap();
            config
        },
        Default::default(),
    )
    .await;
    let outputs = answered(
        &stack,
        &submission(
            "weekend-1",
            "kai.akana@island-clinics.com",
            &[("country", "United States"), ("phone", "+1 808 555 0142")],
        ),
    )
    .await;
    assert!(slots(&outputs).is_empty(), "{}", outputs["propose_slots"]);
    let note = outputs["propose_slots"]["note"]
        .as_str()
        .unwrap_or_default();
    assert!(
        note.contains("no free slot") && note.contains("Sat") && note.contains("Pacific/Honolulu"),
        "{note}"
    );
    assert_eq!(outputs["route"]["overlap_minutes"], 0);
    assert!(
        outputs["route"]["note"]
            .as_str()
            .is_some_and(|n| n.contains("never meet")),
        "{}",
        outputs["route"]
    );
    let body = body_of(&outputs);
    assert!(!body.contains("HST"), "no time offered:\n{body}");
    assert!(
        body.contains("Would you have 30 minutes") || body.contains("pick a time"),
        "the reply asks for a time:\n{body}"
    );
    stack.stop().await;
}
