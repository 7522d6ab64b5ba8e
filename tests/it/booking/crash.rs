//! A real child process killed (SIGKILL) between the calendar event's insert
//! and the booking recording it: the sandbox holds the insert's answer back
//! (a timeout fault after the effect), the test sees the event in the
//! calendar and kills the service. Restarted, the supervisor resumes the
//! booking: its insert meets 409 on the booking's own id, the chain finishes,
//! and the calendar still holds exactly one event.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use sales_agent::sandbox::faults::{FaultSpec, Phase};
use sales_agent::store::bookings;

use super::{LAURA, booking_links};
use crate::crash::{Service, free_port, service_env, start_sandbox};
use crate::helpers::{PUBLIC_URL, TestDb, signed_headers};
use crate::on_both_backends;

on_both_backends!(a_sigkill_between_the_event_and_its_record_books_once);

/// Polls `check` every 100 ms until it answers `Some`, or panics after `limit`.
async fn wait_for<T, F, Fut>(what: &str, limit: Duration, check: F) -> T
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let started = Instant::now();
    loop {
        if let Some(found) = check().await {
            return found;
        }
        assert!(started.elapsed() < limit, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn a_sigkill_between_the_event_and_its_record_books_once(db: TestDb) {
    let (sandbox, fixture, dir) = start_sandbox(BTreeMap::new());
    let env = service_env(&db.url(), &sandbox, &fixture, &dir.join("reps.json"));
    let mut service = Service::start(env, free_port());
    let base = format!("http://127.0.0.1:{}", service.port());
    let store = db.store();

    // A lead answered by the child: its reply carries the slot links.
    let sample = fixture
        .hubspot
        .form_submissions
        .iter()
        .find(|s| s.to_string().contains(LAURA))
        .unwrap()
        .clone();
    let mut body = sample;
    body.as_object_mut().unwrap().remove("ageMinutes");
    let body = body.to_string();
    let mut request = reqwest::Client::new()
        .post(service.url())
        .header("content-type", "application/json")
        .body(body.clone());
    for (name, value) in signed_headers(&body, std::time::SystemTime::now(), crate::helpers::SECRET)
    {
        request = request.header(name, value);
    }
    assert_eq!(request.send().await.unwrap().status(), 202);
    let workflow_id = wait_for("the reply", Duration::from_secs(60), || {
        let store = store.clone();
        async move {
            store
                .run(|c| {
                    use diesel::prelude::*;
                    use sales_agent::store::schema::workflows;
                    Ok(workflows::table
                        .select(workflows::id)
                        .first::<String>(c)
                        .optional()?)
                })
                .await
                .ok()
                .flatten()
        }
    })
    .await;
    let body = wait_for("the composed reply", Duration::from_secs(60), || {
        let (store, id) = (store.clone(), workflow_id.clone());
        async move {
            let runs = store
                .run(move |c| sales_agent::store::step_runs::list_for_workflow(c, &id))
                .await
                .ok()?;
            let state = sales_agent::steps::WorkflowState::from_runs(&runs);
            state.record.as_ref()?;
            state.draft.map(|d| d.body)
        }
    })
    .await;
    let link = booking_links(&body).remove(0).replace(PUBLIC_URL, &base);

    // The insert takes effect, its answer never comes: the chain is stuck
    // between the event and its record when the process dies.
    let stuck = FaultSpec {
        timeout_rate: 1.0,
        timeout_ms: Some(60_000),
        phase: Phase::After,
        ..FaultSpec::default()
    };
    sandbox.set_faults(
        None,
        BTreeMap::from([("calendar.events.insert".to_string(), stuck)]),
    );
    let confirm = tokio::spawn(async move { reqwest::Client::new().post(&link).send().await });
    let laura_events = || {
        sandbox.inspect(|w| {
            w.calendars
                .values()
                .flat_map(|c| c.events.values())
                .filter(|e| e.resource.to_string().contains(LAURA))
                .count()
        })
    };
    wait_for("the event", Duration::from_secs(30), || {
        let n = laura_events();
        async move { (n > 0).then_some(()) }
    })
    .await;
    service.kill();
    let _ = confirm.await;
    let id = workflow_id.clone();
    let row = store
        .run(move |c| bookings::list_for_workflow(c, &id))
        .await
        .unwrap()
        .remove(0);
    assert_eq!(row.status, bookings::PENDING, "killed before the record");
    assert_eq!(row.stage, "checked");

    // Restarted: the supervisor finishes the booking, the insert finds its event.
    sandbox.set_faults(None, BTreeMap::new());
    service.spawn();
    let booked = wait_for("the booking to finish", Duration::from_secs(60), || {
        let (store, id) = (store.clone(), workflow_id.clone());
        async move {
            let rows = store
                .run(move |c| bookings::list_for_workflow(c, &id))
                .await
                .ok()?;
            rows.into_iter().find(|b| b.status != bookings::PENDING)
        }
    })
    .await;
    assert_eq!(booked.status, bookings::BOOKED, "{booked:?}");
    assert_eq!(booked.stage, "released");
    assert_eq!(laura_events(), 1, "exactly one event after the crash");
    let ids: Vec<String> = sandbox.inspect(|w| {
        w.calendars
            .values()
            .flat_map(|c| c.events.values())
            .filter(|e| e.resource.to_string().contains(LAURA))
            .map(|e| e.id.clone())
            .collect()
    });
    assert_eq!(
        ids,
        std::slice::from_ref(&booked.event_id),
        "the retried insert found its own event"
    );
    assert!(booked.meet_link.is_some(), "read back with its Meet link");
    assert_eq!(sandbox.crm_objects("meetings").len(), 1);
    drop(service);
    sandbox.stop().await;
    std::fs::remove_dir_all(dir).unwrap();
}
