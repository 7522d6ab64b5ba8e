//! The fence before an external write, on both backends: a process whose lease
//! lapsed while it was mid-step — so another process may have claimed the
//! workflow — makes no HubSpot write; one that still holds its lease makes it,
//! and its lease is stretched to cover the write.

use std::time::Duration;

use sales_agent::steps::{Step, StepCx, StepError};
use sales_agent::store::{leases, now, workflows};

use crate::helpers::{Stack, TestDb, seed_workflows, spawn_stack_with};
use crate::on_both_backends;

on_both_backends!(a_process_whose_lease_lapsed_writes_nothing_to_hubspot);

const LAURA: &str = "laura.martinez@brightpath-health.com";

/// Claims the oldest runnable workflow, `id`, for `owner`; the row as that owner saw it.
async fn claimed(stack: &Stack, owner: &str, id: &str, lease: Duration) -> workflows::WorkflowRow {
    let store = &stack.app.app.state.store;
    let owner = owner.to_string();
    let taken = store
        .run(move |c| leases::claim_runnable(c, &owner, lease, 1))
        .await
        .unwrap();
    assert_eq!(taken, [id], "the oldest runnable workflow is claimed");
    let id = id.to_string();
    store
        .run(move |c| workflows::find_by_id(c, &id))
        .await
        .unwrap()
        .unwrap()
}

async fn a_process_whose_lease_lapsed_writes_nothing_to_hubspot(db: TestDb) {
    // The service's own supervisor only wakes for intake and finished workflows
    // here, so the workflows seeded below are this test's to claim.
    let stack = spawn_stack_with(
        &db,
        |mut config| {
            config.supervisor_poll = Duration::from_secs(3600);
            config
        },
        Default::default(),
    )
    .await;
    let done = stack.answered(LAURA).await;
    // Its actor's last word (which makes the supervisor look for work) comes
    // after the workflow's final commit: wait for it before seeding.
    let in_flight = &stack.app.app.state.metrics.workflows_in_flight;
    for _ in 0..100 {
        if in_flight.get() == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        in_flight.get(),
        0,
        "the first workflow's actor has finished"
    );
    let state = stack.state_of(&done).await;
    let services = stack.app.app.state.engine.clone();
    let store = stack.app.app.state.store.clone();
    let done_row = {
        let id = done.clone();
        store
            .run(move |c| workflows::find_by_id(c, &id))
            .await
            .unwrap()
            .unwrap()
    };
    let submission = serde_json::from_str(&done_row.submission).unwrap();
    let notes = || stack.sandbox.crm_objects("notes").len();
    let before = notes();
    let seeded = seed_workflows(&store, 2).await;

    // Process A claims the first, stalls past its lease; process B takes it over.
    let stale = claimed(&stack, "process-a", &seeded[0], Duration::from_millis(200)).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let _ = claimed(&stack, "process-b", &seeded[0], Duration::from_secs(60)).await;
    let cx = StepCx {
        services: &services,
        workflow: &stale,
        submission: &submission,
        state: &state,
    };
    let lapsed = sales_agent::steps::run(Step::Record, &cx).await;
    assert!(matches!(lapsed, Err(StepError::LeaseLost)), "{lapsed:?}");
    assert_eq!(notes(), before, "no note written under a lapsed lease");

    // The same step under a lease still held writes, and keeps the lease for the write.
    let held = claimed(&stack, "process-a", &seeded[1], Duration::from_secs(5)).await;
    let cx = StepCx {
        workflow: &held,
        ..cx
    };
    let written = sales_agent::steps::run(Step::Record, &cx).await;
    assert!(written.is_ok(), "{written:?}");
    assert_eq!(notes(), before + 1, "one note for the held workflow");
    let id = seeded[1].clone();
    let row = store
        .run(move |c| workflows::find_by_id(c, &id))
        .await
        .unwrap()
        .unwrap();
    let expires = row.lease_expires_at.expect("still leased");
    let lease = stack.app.app.state.config.engine.lease;
    assert!(
        expires > now() + chrono::TimeDelta::from_std(lease / 2).unwrap(),
        "the fence stretched the lease to a full one ({lease:?}): {expires}"
    );
    stack.stop().await;
}
