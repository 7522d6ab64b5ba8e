//! Slot holds on both backends: a held slot is another workflow's to lose only
//! when the hold expires; two workflows for one rep running at once are offered
//! disjoint slots; and a re-run of the step gets the workflow's own slots back.

use std::time::Duration;

use chrono::{NaiveDateTime, TimeDelta};
use futures_util::future::join_all;
use sales_agent::steps::Step;
use sales_agent::steps::{StepCx, WorkflowState};
use sales_agent::store::{now, slot_holds};

use crate::helpers::{Stack, TestDb, json, spawn_stack};
use crate::on_both_backends;

on_both_backends!(
    a_held_slot_is_exclusive_until_its_hold_expires,
    concurrent_workflows_for_one_rep_get_disjoint_slots_and_a_rerun_keeps_its_own,
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
