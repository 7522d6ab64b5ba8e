//! A workflow in flight when the mode changes. The mode is read at each write
//! step; a workflow that has recorded a write stays a pilot run to its end. Here
//! a lead records its contact upsert in pilot mode, the admin switches to send
//! mode while the lead waits on the calendar, and the lead still writes and
//! sends nothing: its draft, note and task are recorded like the upsert.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use sales_agent::sandbox::faults::FaultSpec;
use sales_agent::store::{pilot_writes, step_runs};

use super::{LAURA, detail, switch, writes_seen};
use crate::helpers::{TestDb, json, spawn_stack_with};
use crate::on_both_backends;

on_both_backends!(a_lead_that_recorded_a_write_stays_pilot_when_the_mode_switches_to_send,);

async fn a_lead_that_recorded_a_write_stays_pilot_when_the_mode_switches_to_send(db: TestDb) {
    // The calendar answers slowly, so the lead waits at step 10 for a while
    // after step 4 has recorded its upsert.
    let slow_calendar = BTreeMap::from([(
        "calendar.freebusy".to_string(),
        FaultSpec {
            latency_ms: 6000,
            ..FaultSpec::default()
        },
    )]);
    let stack = spawn_stack_with(&db, |config| config, slow_calendar).await;
    let store = stack.app.app.state.store.clone();
    switch(&stack.app, "pilot").await;
    let response = stack.app.post_signed(&stack.sample(LAURA)).await;
    assert_eq!(response.status(), 202);
    let id = json(response).await["workflow_id"]
        .as_str()
        .unwrap()
        .to_string();

    let started = Instant::now();
    loop {
        let wanted = id.clone();
        let recorded = store
            .run(move |c| pilot_writes::any_for_workflow(c, &wanted))
            .await
            .unwrap();
        if recorded {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no upsert recorded"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    switch(&stack.app, "send").await;
    let wanted = id.clone();
    let runs = store
        .run(move |c| step_runs::list_for_workflow(c, &wanted))
        .await
        .unwrap();
    assert!(
        !runs
            .iter()
            .any(|r| r.step == "deliver" || r.step == "propose_slots"),
        "the switch came while the lead waited on the calendar"
    );

    let statuses = stack
        .wait_finished(std::slice::from_ref(&id), Duration::from_secs(60))
        .await;
    assert_eq!(statuses, ["completed"]);
    assert_eq!(
        writes_seen(&stack),
        Vec::<(String, u64)>::new(),
        "no write, no send"
    );
    let shown = detail(&stack.app, &id).await;
    let endpoints: Vec<&str> = shown["pilot_writes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["endpoint"].as_str().unwrap())
        .collect();
    assert_eq!(
        endpoints,
        [
            "hubspot.contacts.upsert",
            "hubspot.associations.default",
            "gmail.users.drafts.create",
            "hubspot.notes.create",
            "hubspot.tasks.create"
        ]
    );
    assert!(stack.step_output(&id, "deliver").await["sent_message_id"].is_null());
    stack.stop().await;
}
