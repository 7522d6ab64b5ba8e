//! Retention, on both backends, with the clock moved: after 90 days the
//! reply's text and the mail summary go, after 180 every step's output, after
//! 365 the finished workflows whole (dead letters are blanked by neither, only
//! deleted); workflows in flight are never touched; after 730 days audit
//! entries keep who, what and when but lose their detail. Each purge is
//! idempotent. The janitor runs them on its timer in a running service.

use std::time::Duration;

use diesel::prelude::*;
use sales_agent::store::erasure::REDACTED;
use sales_agent::store::retention::{Cutoffs, Purged, purge_expired};
use sales_agent::store::schema::{audit_log, step_runs, workflows};
use sales_agent::store::{Store, now};

use crate::helpers::{TestDb, spawn_app_with, spawn_stack, test_config};
use crate::on_both_backends;

on_both_backends!(
    expired_data_goes_by_kind_and_workflows_in_flight_stay,
    the_janitor_purges_on_its_timer,
);

const LAURA: &str = "laura.martinez@brightpath-health.com";
const ANNA: &str = "anna.schmid@rheinwerk-maschinenbau.de";

/// The purge as the janitor runs it, with the clock moved `days` ahead.
async fn purge_at(store: &Store, days: i64) -> Purged {
    let config = sales_agent::config::Config::defaults().retention;
    let cutoffs = Cutoffs::of(&config, now() + chrono::TimeDelta::days(days));
    purge_expired(store, &cutoffs, 1).await.expect("purge")
}

/// Each step's output (None when blanked), by step, for one workflow.
async fn outputs(store: &Store, id: &str) -> Vec<(String, Option<String>)> {
    let id = id.to_string();
    store
        .run(move |c| {
            Ok(step_runs::table
                .filter(step_runs::workflow_id.eq(&id))
                .order(step_runs::step.asc())
                .select((step_runs::step, step_runs::output))
                .load(c)?)
        })
        .await
        .unwrap()
}

fn kept(outputs: &[(String, Option<String>)], step: &str) -> bool {
    outputs.iter().any(|(s, o)| s == step && o.is_some())
}

async fn expired_data_goes_by_kind_and_workflows_in_flight_stay(db: TestDb) {
    let stack = spawn_stack(&db).await;
    let done = stack.answered(LAURA).await;
    let dead = stack.answered(ANNA).await;
    let store = stack.app.app.state.store.clone();
    // One workflow becomes a dead letter; one waits for a rep's mailbox (in
    // flight, and never claimed meanwhile: made and parked in one transaction).
    let d = dead.clone();
    let in_flight = store
        .run(move |c| {
            diesel::update(workflows::table.find(&d))
                .set(workflows::status.eq("dead_lettered"))
                .execute(c)?;
            c.transaction(|c| {
                let intake = crate::helpers::new_intake("retention:waiting", "{}");
                let id = sales_agent::store::events::accept(c, &intake)?.workflow_id;
                diesel::update(workflows::table.find(&id))
                    .set(workflows::status.eq("waiting"))
                    .execute(c)?;
                Ok(id)
            })
        })
        .await
        .unwrap();
    for step in ["compose", "conversation_context", "qualify"] {
        assert!(kept(&outputs(&store, &done).await, step), "{step} before");
    }

    // Day 30: nothing is due yet.
    assert_eq!(purge_at(&store, 30).await, Purged::default());

    // Day 100: the reply's text and the mail summary of the finished workflow.
    let purged = purge_at(&store, 100).await;
    assert_eq!(purged.messages_blanked, 1, "{purged:?}");
    assert_eq!(purged.outputs_blanked + purged.workflows_deleted, 0);
    let now_done = outputs(&store, &done).await;
    assert!(!kept(&now_done, "compose") && !kept(&now_done, "conversation_context"));
    assert!(kept(&now_done, "qualify"), "other steps stay until theirs");
    assert!(
        kept(&outputs(&store, &dead).await, "compose"),
        "a dead letter may still be retried"
    );
    assert_eq!(purge_at(&store, 100).await, Purged::default(), "idempotent");
    // Its draft can no longer be approved here: the guardrails' verdict went too.
    let approve = stack
        .app
        .api(
            reqwest::Method::POST,
            &format!("/api/workflows/{done}/approve"),
            Some(crate::helpers::ADMIN_TOKEN),
        )
        .json(&serde_json::json!({ "reason": "late" }))
        .send()
        .await
        .unwrap();
    assert_eq!(approve.status(), 409);
    let refusal = crate::helpers::json(approve).await;
    assert!(
        refusal
            .to_string()
            .contains("SALES_AGENT_RETAIN_MESSAGES_DAYS"),
        "{refusal}"
    );

    // Day 200: every step's output.
    let purged = purge_at(&store, 200).await;
    assert_eq!(purged.outputs_blanked, 1, "{purged:?}");
    assert!(
        outputs(&store, &done)
            .await
            .iter()
            .all(|(_, o)| o.is_none())
    );
    assert!(kept(&outputs(&store, &dead).await, "qualify"));

    // Day 400: finished workflows go whole, dead letters too; in flight stays.
    let audit_before: i64 = store
        .run(|c| Ok(audit_log::table.count().get_result(c)?))
        .await
        .unwrap();
    let purged = purge_at(&store, 400).await;
    assert_eq!(purged.workflows_deleted, 2, "{purged:?}");
    let left: Vec<String> = store
        .run(|c| Ok(workflows::table.select(workflows::id).load(c)?))
        .await
        .unwrap();
    assert_eq!(left, std::slice::from_ref(&in_flight));
    let (events, runs) = store
        .run(|c| {
            Ok((
                sales_agent::store::events::count(c)?,
                step_runs::table.count().get_result::<i64>(c)?,
            ))
        })
        .await
        .unwrap();
    assert_eq!((events, runs), (1, 0));
    let audit_after: i64 = store
        .run(|c| Ok(audit_log::table.count().get_result(c)?))
        .await
        .unwrap();
    assert_eq!(
        audit_after, audit_before,
        "the audit log is never shortened"
    );

    // Day 731: audit entries keep who, what and when; the detail goes.
    let purged = purge_at(&store, 731).await;
    assert_eq!(
        purged.audit_details_blanked as i64, audit_before,
        "{purged:?}"
    );
    let entries: Vec<(String, String, String)> = store
        .run(|c| {
            Ok(audit_log::table
                .select((audit_log::actor, audit_log::action, audit_log::detail))
                .load(c)?)
        })
        .await
        .unwrap();
    assert!(entries.iter().all(|(actor, action, detail)| {
        !actor.is_empty() && !action.is_empty() && detail == REDACTED
    }));
    assert!(
        entries
            .iter()
            .any(|(_, action, _)| action == "webhook.accepted")
    );
    assert_eq!(purge_at(&store, 731).await, Purged::default(), "idempotent");
    stack.stop().await;
}

async fn the_janitor_purges_on_its_timer(db: TestDb) {
    let mut config = test_config(&db);
    config.retention.every = Duration::from_millis(300);
    let app = spawn_app_with(config).await;
    let store = app.app.state.store.clone();
    let ids = crate::helpers::seed_workflows(&store, 3).await;
    // Two finished a year and more ago, one in flight as old.
    let old = now() - chrono::TimeDelta::days(400);
    let (finished, in_flight) = (ids[..2].to_vec(), ids[2].clone());
    let f = in_flight.clone();
    store
        .run(move |c| {
            diesel::update(workflows::table.filter(workflows::id.eq_any(&finished)))
                .set((
                    workflows::status.eq("completed"),
                    workflows::created_at.eq(old),
                ))
                .execute(c)?;
            diesel::update(workflows::table.find(&f))
                .set((
                    workflows::status.eq("retry_wait"),
                    workflows::created_at.eq(old),
                ))
                .execute(c)?;
            Ok(())
        })
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let left = loop {
        let left: Vec<String> = store
            .run(|c| Ok(workflows::table.select(workflows::id).load(c)?))
            .await
            .unwrap();
        if left.len() == 1 || started.elapsed() > Duration::from_secs(20) {
            break left;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(left, [in_flight]);
    app.stop().await;
}
