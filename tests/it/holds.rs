//! Slot holds on both backends: a held slot is another workflow's to lose only
//! when the hold expires; two workflows for one rep running at once are offered
//! disjoint slots; a re-run of the step gets the workflow's own slots back; and a
//! lead that ends for good without an answer (cancelled, skipped) frees its
//! slots at once, while a dead letter, which a retry resumes, keeps them.

use std::time::Duration;

use chrono::{NaiveDateTime, TimeDelta};
use futures_util::future::join_all;
use sales_agent::domain::WorkflowStatus;
use sales_agent::steps::Step;
use sales_agent::steps::{StepCx, WorkflowState};
use sales_agent::store::{admin_queries, leases, now, slot_holds};

use crate::helpers::{Stack, TestDb, json, seed_workflows, spawn_stack};
use crate::on_both_backends;

on_both_backends!(
    a_held_slot_is_exclusive_until_its_hold_expires,
    concurrent_workflows_for_one_rep_get_disjoint_slots_and_a_rerun_keeps_its_own,
    a_cancelled_or_skipped_lead_frees_its_slots_and_a_dead_letter_keeps_them,
);

fn at(hour: u32) -> NaiveDateTime {
    chrono::NaiveDate::from_ymd_opt(2031, 3, 4)
        .unwrap()
        .and_hms_opt(hour, 0, 0)
        .unwrap()
}

async fn a_held_slot_is_exclusive_until_its_hold_expires(db: TestDb) {
    let store = db.migrated_store().await;
    let ten = (at(10), at(10) + TimeDelta::minutes(30));
    let two = (at(14), at(14) + TimeDelta::minutes(30));
    let later = now() + TimeDelta::hours(1);
    let result = store
        .run(move |c| {
            let a = slot_holds::hold(c, "maya", "wf-a", &[ten, two], later)?;
            let again = slot_holds::hold(c, "maya", "wf-a", &[ten, two], later)?;
            let b_takes_ten = slot_holds::hold(c, "maya", "wf-b", &[ten], later)?;
            let b_other_rep = slot_holds::hold(c, "jonas", "wf-b", &[ten], later)?;
            let seen_by_b = slot_holds::held_by_others(c, "maya", "wf-b")?;
            let own_a = slot_holds::own(c, "maya", "wf-a")?;
            Ok((a, again, b_takes_ten, b_other_rep, seen_by_b, own_a))
        })
        .await
        .unwrap();
    assert_eq!(
        result,
        (true, true, false, true, vec![ten, two], vec![ten, two])
    );

    // Once A's holds expire, B may take the slot.
    let past = now() - TimeDelta::seconds(1);
    let (b_takes, own_a) = store
        .run(move |c| {
            slot_holds::hold(c, "maya", "wf-a", &[ten], past)?;
            Ok((
                slot_holds::hold(c, "maya", "wf-b", &[ten], later)?,
                slot_holds::own(c, "maya", "wf-a")?,
            ))
        })
        .await
        .unwrap();
    assert!(b_takes);
    assert!(own_a.is_empty());
}

async fn a_cancelled_or_skipped_lead_frees_its_slots_and_a_dead_letter_keeps_them(db: TestDb) {
    let store = db.migrated_store().await;
    let ids = seed_workflows(&store, 3).await;
    let spans: Vec<_> = (0..3)
        .map(|n| (at(9 + n), at(9 + n) + TimeDelta::minutes(30)))
        .collect();
    let later = now() + TimeDelta::hours(1);
    let (ids_held, spans_held) = (ids.clone(), spans.clone());
    store
        .run(move |c| {
            for (id, span) in ids_held.iter().zip(&spans_held) {
                assert!(slot_holds::hold(c, "maya", id, &[*span], later)?);
            }
            Ok(())
        })
        .await
        .unwrap();

    let (cancelled, skipped, dead) = (ids[0].clone(), ids[1].clone(), ids[2].clone());
    let owned = store
        .run(move |c| {
            let request = admin_queries::Request {
                workflow_id: &cancelled,
                actor: "admin:test",
                reason: "the prospect asked us to stop",
            };
            admin_queries::cancel(c, &request)
                .map_err(|e| sales_agent::store::StoreError::Corrupt(format!("cancel: {e:?}")))?;
            let claimed = leases::claim_runnable(c, "runner", Duration::from_secs(60), 10)?;
            assert_eq!(claimed.len(), 2, "the other two run: {claimed:?}");
            let skip = WorkflowStatus::Skipped;
            assert!(leases::release(
                c,
                "runner",
                &skipped,
                skip,
                None,
                Some("not a lead")
            )?);
            let dead_letter = WorkflowStatus::DeadLettered;
            assert!(leases::release(
                c,
                "runner",
                &dead,
                dead_letter,
                None,
                Some("gave up")
            )?);
            [&cancelled, &skipped, &dead]
                .map(|id| slot_holds::own(c, "maya", id))
                .into_iter()
                .collect::<Result<Vec<_>, _>>()
        })
        .await
        .unwrap();
    assert_eq!(owned, [vec![], vec![], vec![spans[2]]]);
    let free_for_others = store
        .run(|c| slot_holds::held_by_others(c, "maya", "another-lead"))
        .await
        .unwrap();
    assert_eq!(
        free_for_others,
        [spans[2]],
        "only the dead letter's slot is still held"
    );
}

const LAURA: &str = "laura.martinez@brightpath-health.com";
const DANIEL: &str = "daniel.brooks@summitcare-clinics.com";

async fn slots_of(stack: &Stack, workflow_id: &str) -> (WorkflowState, Vec<(String, String)>) {
    let state = stack.state_of(workflow_id).await;
    let slots = spans(
        state
            .slots
            .as_ref()
            .map(|s| &s.slots[..])
            .unwrap_or_default(),
    );
    (state, slots)
}

fn spans(slots: &[sales_agent::compose::slots::Interval]) -> Vec<(String, String)> {
    slots
        .iter()
        .map(|s| (s.start.to_rfc3339(), s.end.to_rfc3339()))
        .collect()
}

async fn concurrent_workflows_for_one_rep_get_disjoint_slots_and_a_rerun_keeps_its_own(db: TestDb) {
    let stack = spawn_stack(&db).await;
    let posts = [LAURA, DANIEL].map(|email| {
        let body = stack.sample(email);
        let app = &stack.app;
        async move {
            json(app.post_signed(&body).await).await["workflow_id"]
                .as_str()
                .unwrap()
                .to_string()
        }
    });
    let ids = join_all(posts).await;
    let statuses = stack.wait_finished(&ids, Duration::from_secs(30)).await;
    assert_eq!(statuses, ["completed", "completed"]);

    let (state_a, a) = slots_of(&stack, &ids[0]).await;
    let (state_b, b) = slots_of(&stack, &ids[1]).await;
    let rep = |s: &WorkflowState| s.route.as_ref().unwrap().rep_id.clone();
    assert_eq!(rep(&state_a), rep(&state_b), "both go to the same rep");
    assert!(!a.is_empty() && !b.is_empty(), "{a:?} {b:?}");
    for x in &a {
        for y in &b {
            assert!(x.1 <= y.0 || y.1 <= x.0, "overlap: {x:?} {y:?}");
        }
    }

    // The step run again for A (as after a crash) offers A's own held slots.
    let services = stack.app.app.state.engine.clone();
    let id = ids[0].clone();
    let workflow = stack
        .app
        .app
        .state
        .store
        .run(move |c| sales_agent::store::workflows::find_by_id(c, &id))
        .await
        .unwrap()
        .unwrap();
    let submission = serde_json::from_str(&workflow.submission).unwrap();
    let cx = StepCx {
        services: &services,
        workflow: &workflow,
        submission: &submission,
        state: &state_a,
    };
    let again = sales_agent::steps::run(Step::ProposeSlots, &cx)
        .await
        .unwrap();
    let again: Vec<(String, String)> = spans(
        &serde_json::from_value::<sales_agent::steps::state::SlotsInfo>(again.output)
            .unwrap()
            .slots,
    );
    assert_eq!(again, a);
    stack.stop().await;
}
