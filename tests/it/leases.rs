//! Claiming workflows under a lease, on both backends: no workflow is held by two
//! owners at once, an expired lease is taken over, and a lost lease fences writes.

use std::collections::BTreeSet;
use std::time::Duration;

use futures_util::future::join_all;
use sales_agent::store::leases;
use sales_agent::store::step_runs::{self, NewStepRun, Outcome, RecordError};
use sales_agent::store::workflows::{self, WorkflowStatus};
use sales_agent::store::{Store, now};

use crate::helpers::{TestDb, seed_workflows};
use crate::on_both_backends;

on_both_backends!(
    a_claimed_workflow_is_not_claimed_again_until_its_lease_expires,
    concurrent_claimers_never_share_a_workflow,
    a_released_workflow_is_retried_or_finished,
);

async fn claim(store: &Store, owner: &str, lease: Duration, limit: i64) -> Vec<String> {
    let owner = owner.to_string();
    store
        .run(move |c| leases::claim_runnable(c, &owner, lease, limit))
        .await
        .unwrap()
}

async fn a_claimed_workflow_is_not_claimed_again_until_its_lease_expires(db: TestDb) {
    let store = db.migrated_store().await;
    let mut seeded = seed_workflows(&store, 3).await;
    seeded.sort();
    let lease = Duration::from_millis(300);

    let mut first = claim(&store, "process-a", lease, 10).await;
    let during = claim(&store, "process-b", lease, 10).await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    let mut after = claim(&store, "process-b", lease, 10).await;

    first.sort();
    after.sort();
    assert_eq!(first, seeded);
    assert!(
        during.is_empty(),
        "a held lease keeps others out: {during:?}"
    );
    assert_eq!(after, seeded, "an expired lease is taken over");
    // The first owner is fenced off: it can neither record a step nor release.
    let id = seeded[0].clone();
    let result = store
        .run(move |c| {
            let run = NewStepRun {
                workflow_id: &id,
                step: "validate",
                outcome: Outcome::Ok,
                attempts: 1,
                output: None,
                error: None,
                started_at: now(),
            };
            Ok(step_runs::record(c, "process-a", &run))
        })
        .await
        .unwrap();
    assert!(matches!(result, Err(RecordError::LeaseLost)), "{result:?}");
    let id = seeded[0].clone();
    let released = store
        .run(move |c| leases::release(c, "process-a", &id, WorkflowStatus::Completed, None, None))
        .await
        .unwrap();
    assert!(!released);
}

async fn concurrent_claimers_never_share_a_workflow(db: TestDb) {
    let store = db.migrated_store().await;
    let seeded = seed_workflows(&store, 60).await;
    let lease = Duration::from_secs(60);

    let owners = (0..4).map(|n| {
        let store = store.clone();
        async move {
            let mut mine = Vec::new();
            loop {
                let got = claim(&store, &format!("process-{n}"), lease, 3).await;
                if got.is_empty() {
                    return mine;
                }
                mine.extend(got);
            }
        }
    });
    let claimed: Vec<Vec<String>> = join_all(owners).await;

    let all: Vec<&String> = claimed.iter().flatten().collect();
    let distinct: BTreeSet<&String> = all.iter().copied().collect();
    assert_eq!(
        all.len(),
        seeded.len(),
        "every workflow claimed exactly once"
    );
    assert_eq!(distinct.len(), seeded.len());
}

async fn a_released_workflow_is_retried_or_finished(db: TestDb) {
    let store = db.migrated_store().await;
    let id = seed_workflows(&store, 1).await.remove(0);
    let lease = Duration::from_secs(60);
    assert_eq!(claim(&store, "p", lease, 1).await, vec![id.clone()]);

    let retry_id = id.clone();
    store
        .run(move |c| {
            leases::release(
                c,
                "p",
                &retry_id,
                WorkflowStatus::RetryWait,
                None,
                Some("hubspot: 503"),
            )
        })
        .await
        .unwrap();
    assert_eq!(
        claim(&store, "p", lease, 1).await,
        vec![id.clone()],
        "a due retry is runnable again"
    );
    let run_id = id.clone();
    store
        .run(move |c| {
            let run = NewStepRun {
                workflow_id: &run_id,
                step: "validate",
                outcome: Outcome::Ok,
                attempts: 2,
                output: Some(serde_json::json!({"email": "lead0@example.org"})),
                error: None,
                started_at: now(),
            };
            step_runs::record(c, "p", &run).map_err(|e| match e {
                RecordError::Store(s) => s,
                RecordError::LeaseLost => panic!("lease held"),
            })
        })
        .await
        .unwrap();
    let done_id = id.clone();
    assert!(
        store
            .run(move |c| leases::release(c, "p", &done_id, WorkflowStatus::Completed, None, None))
            .await
            .unwrap()
    );

    assert!(
        claim(&store, "p", lease, 1).await.is_empty(),
        "a finished workflow is never claimed"
    );
    let read_id = id.clone();
    let (row, steps) = store
        .run(move |c| {
            Ok((
                workflows::find_by_id(c, &read_id)?.unwrap(),
                step_runs::list_for_workflow(c, &read_id)?,
            ))
        })
        .await
        .unwrap();
    assert_eq!(row.status, "completed");
    assert_eq!(row.attempts, 1);
    assert!(row.finished_at.is_some() && row.lease_owner.is_none());
    assert_eq!(row.current_step.as_deref(), Some("validate"));
    assert_eq!(steps.len(), 1);
    assert_eq!(steps[0].outcome, "ok");
    assert_eq!(steps[0].attempts, 2);
}
