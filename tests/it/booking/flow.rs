//! One prospect's booking: links in the reply, a page that only shows, one
//! POST that books one event (Meet, the prospect invited by Google), second
//! clicks and other slots that change nothing, bad links that get clear
//! pages, and cancel and reschedule from the confirmation.

use chrono::{Duration, Utc};
use sales_agent::compose::booking_link;
use sales_agent::compose::slots::Interval;
use sales_agent::steps::booking::brief::BRIEF_PROPERTY;
use sales_agent::store::{bookings, settings, slot_holds};
use serde_json::Value;

use super::{LAURA, answered_with_links, client, local, rep_events};
use crate::helpers::{Stack, TestDb, spawn_stack};
use crate::on_both_backends;

on_both_backends!(
    a_slot_link_books_one_meet_event_and_clicking_again_changes_nothing,
    reschedule_moves_the_event_and_cancel_deletes_it,
);

/// The prospect's events in the rep's calendar.
fn laura_events(stack: &Stack, state: &sales_agent::steps::WorkflowState) -> Vec<Value> {
    rep_events(stack, state)
        .into_iter()
        .map(|e| e.resource)
        .filter(|e| e.to_string().contains(LAURA))
        .collect()
}

fn notifications(stack: &Stack) -> Vec<Value> {
    stack.sandbox.inspect(|w| {
        w.calendars
            .values()
            .flat_map(|c| c.notifications.iter())
            .map(|n| serde_json::to_value(n).unwrap())
            .collect()
    })
}

async fn page(method: reqwest::Method, url: &str) -> (u16, String) {
    let response = client().request(method, url).send().await.unwrap();
    let status = response.status().as_u16();
    let csp = response
        .headers()
        .get("content-security-policy")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    assert!(csp.contains("script-src 'self'"), "{url}: {csp}");
    (status, response.text().await.unwrap())
}

async fn a_slot_link_books_one_meet_event_and_clicking_again_changes_nothing(db: TestDb) {
    let stack = spawn_stack(&db).await;
    let (id, state, links) = answered_with_links(&stack, LAURA).await;
    let slots = state.slots.as_ref().unwrap().slots.len();
    assert!(slots > 0);
    assert_eq!(
        links.len(),
        slots + 1,
        "a link per slot and one for more times"
    );
    let draft = state.draft.as_ref().unwrap();
    assert!(draft.violations.is_empty(), "{:?}", draft.violations);
    let first = local(&stack, &links[0]);

    // Looking (a person, a mail scanner) books nothing.
    for _ in 0..2 {
        let (status, body) = page(reqwest::Method::GET, &first).await;
        assert_eq!(status, 200);
        assert!(body.contains("Confirm this time"), "{body}");
        assert!(body.contains("<select id=\"tz\""));
    }
    assert!(laura_events(&stack, &state).is_empty());

    let (status, body) = page(reqwest::Method::POST, &first).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("Your meeting is booked"), "{body}");
    assert!(body.contains("Reschedule") && body.contains("Cancel the meeting"));

    let events = laura_events(&stack, &state);
    assert_eq!(events.len(), 1, "{events:#?}");
    let event = &events[0];
    assert!(
        event["hangoutLink"]
            .as_str()
            .unwrap()
            .starts_with("https://meet.google.com/")
    );
    assert_eq!(
        event["conferenceData"]["entryPoints"][0]["entryPointType"],
        "video"
    );
    assert_eq!(event["attendees"][0]["email"], LAURA);
    let booked = state.slots.as_ref().unwrap().slots[0];
    let start =
        chrono::DateTime::parse_from_rfc3339(event["start"]["dateTime"].as_str().unwrap()).unwrap();
    assert_eq!(start.timestamp(), booked.start.timestamp());
    // One brief in the briefs folder, linked from the event; one HubSpot meeting.
    let briefs: Vec<(String, Vec<String>)> = stack.sandbox.inspect(|w| {
        w.drive
            .files
            .iter()
            .filter(|f| f.app_properties.get(BRIEF_PROPERTY) == Some(&id))
            .map(|f| (f.id.clone(), f.parents.clone()))
            .collect()
    });
    assert_eq!(briefs.len(), 1, "{briefs:?}");
    let folder = stack
        .app
        .app
        .state
        .config
        .engine
        .brief_folder
        .clone()
        .unwrap();
    assert_eq!(briefs[0].1, [folder]);
    let description = event["description"].as_str().unwrap();
    assert!(description.contains(&briefs[0].0), "{description}");
    assert_eq!(stack.sandbox.crm_objects("meetings").len(), 1);
    let invitations = notifications(&stack);
    assert_eq!(invitations.len(), 1, "{invitations:?}");
    assert_eq!(invitations[0]["sendUpdates"], "all");
    assert_eq!(invitations[0]["kind"], "invitation");

    // A second click, another offered slot, and a GET: nothing new.
    let (status, body) = page(reqwest::Method::POST, &first).await;
    assert_eq!(status, 200);
    assert!(body.contains("Your meeting is booked"));
    if slots > 1 {
        let (status, body) = page(reqwest::Method::POST, &local(&stack, &links[1])).await;
        assert_eq!(status, 200);
        assert!(body.contains("Your meeting is booked"));
    }
    let (status, body) = page(reqwest::Method::GET, &first).await;
    assert_eq!(status, 200);
    assert!(body.contains("Your meeting is booked"));
    assert_eq!(laura_events(&stack, &state).len(), 1);
    assert_eq!(notifications(&stack).len(), 1);
    assert_eq!(stack.sandbox.crm_objects("meetings").len(), 1);
    assert_eq!(stack.sandbox.stats()["drive.files.create"].requests, 1);

    let store = stack.app.app.state.store.clone();
    let wf = id.clone();
    let (rows, audit) = store
        .run(move |c| {
            Ok((
                bookings::list_for_workflow(c, &wf)?,
                sales_agent::store::audit::list_for_workflow(c, &wf)?,
            ))
        })
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].status, bookings::BOOKED);
    assert_eq!(rows[0].stage, "released");
    assert_eq!(event["id"], rows[0].event_id.as_str());
    let posts = audit
        .iter()
        .filter(|a| a.action == "booking.confirm_requested")
        .count();
    assert_eq!(posts, if slots > 1 { 3 } else { 2 }, "every POST audited");
    let rep_id = state.route.as_ref().unwrap().rep_id.clone();
    let wf = id.clone();
    let held = store
        .run(move |c| slot_holds::own(c, &rep_id, &wf))
        .await
        .unwrap();
    assert!(held.is_empty(), "holds released: {held:?}");
    let metrics = reqwest::get(format!("{}/metrics", stack.app.address))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("sales_agent_meetings_booked_total 1"),
        "{metrics}"
    );
    assert!(metrics.contains("sales_agent_speed_to_meeting_seconds_count 1"));

    // Altered, mangled and expired links: clear pages, nothing booked.
    let token = links[0].rsplit('/').next().unwrap().to_string();
    let mut altered = token.clone();
    let last = altered.pop().unwrap();
    altered.push(if last == 'A' { 'B' } else { 'A' });
    for bad in [altered.as_str(), "garbage", "a.b", "..."] {
        let url = format!("{}/book/{bad}", stack.app.address);
        assert_eq!(page(reqwest::Method::GET, &url).await.0, 404, "{bad}");
        assert_eq!(page(reqwest::Method::POST, &url).await.0, 404, "{bad}");
    }
    let secret = store.run(settings::booking_secret).await.unwrap();
    let past = Utc::now() - Duration::days(1);
    let expired = booking_link::slot_token(
        &secret,
        &id,
        &Interval {
            start: past,
            end: past + Duration::minutes(30),
        },
        past - Duration::days(1),
    );
    let url = format!("{}/book/{expired}", stack.app.address);
    let (status, body) = page(reqwest::Method::POST, &url).await;
    assert_eq!(status, 410);
    assert!(body.contains("This time has passed"));
    assert_eq!(laura_events(&stack, &state).len(), 1);
    stack.stop().await;
}

/// The form actions on a page of times.
fn time_forms(body: &str) -> Vec<String> {
    let re = regex::Regex::new(r#"<form method="post" action="([^"]+)""#).unwrap();
    re.captures_iter(body)
        .map(|c| c[1].replace("&amp;", "&"))
        .collect()
}

/// The HubSpot meetings as (outcome, start), and the lead's briefs in Drive.
fn meetings(stack: &Stack) -> Vec<(String, i64)> {
    let mut meetings: Vec<(String, i64)> = stack
        .sandbox
        .crm_objects("meetings")
        .iter()
        .map(|m| {
            let p = &m.properties;
            (
                p["hs_meeting_outcome"].clone(),
                at(&p["hs_meeting_start_time"]),
            )
        })
        .collect();
    meetings.sort();
    meetings
}

fn briefs(stack: &Stack, workflow_id: &str) -> Vec<String> {
    stack.sandbox.inspect(|w| {
        w.drive
            .files
            .iter()
            .filter(|f| {
                f.app_properties.get(BRIEF_PROPERTY).map(String::as_str) == Some(workflow_id)
            })
            .map(|f| f.id.clone())
            .collect()
    })
}

/// An RFC 3339 time as Unix seconds.
fn at(rfc3339: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .unwrap_or_else(|e| panic!("{rfc3339}: {e}"))
        .timestamp()
}

async fn reschedule_moves_the_event_and_cancel_deletes_it(db: TestDb) {
    let stack = spawn_stack(&db).await;
    let (id, state, links) = answered_with_links(&stack, LAURA).await;
    let first = local(&stack, &links[0]);
    assert_eq!(page(reqwest::Method::POST, &first).await.0, 200);
    let before = laura_events(&stack, &state)[0].clone();

    // Reschedule: the confirmation's link lists other times; picking one moves the event.
    let more = local(&stack, links.last().unwrap());
    let (status, body) = page(reqwest::Method::GET, &format!("{more}?reschedule=1")).await;
    assert_eq!(status, 200);
    assert!(body.contains("Pick a new time"), "{body}");
    let forms = time_forms(&body);
    assert!(!forms.is_empty(), "{body}");
    let (status, body) = page(
        reqwest::Method::POST,
        &format!("{}{}", stack.app.address, forms[0]),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("Your meeting is booked"));
    let events = laura_events(&stack, &state);
    assert_eq!(events.len(), 1, "moved, not copied");
    assert_eq!(events[0]["id"], before["id"]);
    assert_ne!(events[0]["start"], before["start"]);
    assert_eq!(
        events[0]["sequence"].as_i64(),
        before["sequence"].as_i64().map(|s| s + 1)
    );
    // The HubSpot meeting moves with it.
    let moved_to = at(events[0]["start"]["dateTime"].as_str().unwrap());
    assert_eq!(meetings(&stack), [("SCHEDULED".to_string(), moved_to)]);

    // Cancel: asked by GET, done by POST; Google tells the prospect.
    let cancel = format!("{first}/cancel");
    let (status, body) = page(reqwest::Method::GET, &cancel).await;
    assert_eq!(status, 200);
    assert!(body.contains("Cancel the meeting?"));
    assert_eq!(laura_events(&stack, &state)[0]["status"], "confirmed");
    let (status, body) = page(reqwest::Method::POST, &cancel).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("Your meeting is cancelled"), "{body}");
    let events = laura_events(&stack, &state);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["status"], "cancelled");
    let kinds: Vec<String> = notifications(&stack)
        .iter()
        .map(|n| n["kind"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(kinds, ["invitation", "update", "cancellation"]);
    assert_eq!(
        meetings(&stack),
        [("CANCELED".to_string(), moved_to)],
        "the rep sees the meeting cancelled in HubSpot"
    );

    // After a cancellation the prospect may book again: a new event, with a
    // HubSpot meeting and a brief of its own at the new time.
    assert_eq!(page(reqwest::Method::POST, &first).await.0, 200);
    let events = laura_events(&stack, &state);
    assert_eq!(events.len(), 2);
    let confirmed: Vec<&Value> = events
        .iter()
        .filter(|e| e["status"] == "confirmed")
        .collect();
    assert_eq!(confirmed.len(), 1);
    let rebooked_at = at(confirmed[0]["start"]["dateTime"].as_str().unwrap());
    assert_ne!(rebooked_at, moved_to);
    let mut expected = vec![
        ("CANCELED".to_string(), moved_to),
        ("SCHEDULED".to_string(), rebooked_at),
    ];
    expected.sort();
    assert_eq!(meetings(&stack), expected);
    let briefs = briefs(&stack, &id);
    assert_eq!(briefs.len(), 2, "one brief per booking: {briefs:?}");
    // The new event links the new brief, not the cancelled booking's.
    let linked = |event: &Value| -> Vec<String> {
        let description = event["description"].as_str().unwrap_or_default();
        briefs
            .iter()
            .filter(|b| description.contains(b.as_str()))
            .cloned()
            .collect()
    };
    let cancelled = events.iter().find(|e| e["status"] == "cancelled").unwrap();
    let (new_link, old_link) = (linked(confirmed[0]), linked(cancelled));
    assert_eq!((new_link.len(), old_link.len()), (1, 1), "{events:?}");
    assert_ne!(new_link, old_link);
    stack.stop().await;
}
