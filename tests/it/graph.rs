//! The workflow as a graph of steps, read back from the recorded step timings on
//! both backends: steps that do not need each other overlap in time, and no step
//! starts before every step it needs has committed its result.

use std::collections::BTreeMap;
use std::time::Duration;

use sales_agent::domain::Step;
use sales_agent::sandbox::faults::FaultSpec;
use sales_agent::store::step_runs::{self, StepRunRow};

use crate::helpers::{TestDb, json, spawn_stack_with};
use crate::on_both_backends;

on_both_backends!(independent_steps_overlap_and_none_starts_before_what_it_needs,);

const LAURA: &str = "laura.martinez@brightpath-health.com";
const KENJI: &str = "kenji.watanabe@pacificroute.co.jp";

async fn independent_steps_overlap_and_none_starts_before_what_it_needs(db: TestDb) {
    // Every API call takes 150 ms, so steps that run side by side visibly overlap.
    let slow = BTreeMap::from([(
        "*".to_string(),
        FaultSpec {
            latency_ms: 150,
            ..FaultSpec::default()
        },
    )]);
    let stack = spawn_stack_with(&db, |config| config, slow).await;
    let mut ids = Vec::new();
    for email in [LAURA, KENJI] {
        let response = stack.app.post_signed(&stack.sample(email)).await;
        assert_eq!(response.status(), 202);
        ids.push(
            json(response).await["workflow_id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    let statuses = stack.wait_finished(&ids, Duration::from_secs(60)).await;
    assert_eq!(statuses, ["completed", "completed"]);

    let store = stack.app.app.state.store.clone();
    for id in ids {
        let wanted = id.clone();
        let runs = store
            .run(move |c| step_runs::list_for_workflow(c, &wanted))
            .await
            .unwrap();
        assert_eq!(runs.len(), 13, "{id}");
        let by_step: BTreeMap<Step, &StepRunRow> = runs
            .iter()
            .map(|r| (Step::parse(&r.step).unwrap(), r))
            .collect();

        for (step, run) in &by_step {
            for need in step.needs() {
                let needed = by_step[need];
                assert!(
                    run.started_at >= needed.finished_at,
                    "{id}: {step:?} started at {} before {need:?} committed at {}",
                    run.started_at,
                    needed.finished_at
                );
            }
        }

        // The CRM contact and the mailbox search both take a round trip and
        // need neither each other nor anything but the unsuppressed lead.
        let overlap = |a: Step, b: Step| {
            let (a, b) = (by_step[&a], by_step[&b]);
            a.started_at < b.finished_at && b.started_at < a.finished_at
        };
        assert!(
            overlap(Step::ResolveContact, Step::ConversationContext),
            "{id}: {:#?}",
            timings(&runs)
        );
        assert!(
            overlap(Step::ResolveContact, Step::Qualify),
            "{id}: {:#?}",
            timings(&runs)
        );
        // The company lookup runs beside the mailbox search or the routing and
        // calendar steps after it, and the assets beside the calendar.
        assert!(
            [
                (Step::ResolveCompany, Step::ConversationContext),
                (Step::ResolveCompany, Step::Route),
                (Step::ResolveCompany, Step::ProposeSlots),
                (Step::SelectAssets, Step::ProposeSlots),
            ]
            .into_iter()
            .any(|(a, b)| overlap(a, b)),
            "{id}: {:#?}",
            timings(&runs)
        );
    }
    stack.stop().await;
}

fn timings(runs: &[StepRunRow]) -> Vec<String> {
    runs.iter()
        .map(|r| {
            format!(
                "{:<22} {} → {}",
                r.step,
                r.started_at.format("%H:%M:%S%.3f"),
                r.finished_at.format("%H:%M:%S%.3f")
            )
        })
        .collect()
}
