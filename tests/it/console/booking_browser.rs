//! Issue 16's booking in a real Chromium, on both backends: a demo lead runs to
//! its draft; the first slot link is read from the draft as the sandbox's Gmail
//! holds it and opened in a Chromium that runs in the prospect's zone. The
//! page names the rep and the time in that zone (and switches zone on request);
//! one click on Confirm books. `GET /_sandbox/state` then holds exactly one
//! calendar event (Meet, the prospect invited), one brief doc in the briefs
//! folder linked from it, and one HubSpot meeting; going back and confirming
//! again, a click from another tab and opening the link again change none of
//! it. axe-core and a screenshot on each page. (A SIGKILL mid-booking is
//! `booking::crash`.)

use base64::Engine;
use chrono_tz::Tz;
use sales_agent::compose::slots;
use serde_json::{Value, json};
use thirtyfour::components::SelectElement;
use thirtyfour::prelude::*;

use super::browser::Browser;
use crate::booking::{LAURA, booking_links};
use crate::helpers::{PUBLIC_URL, Stack, TestDb, spawn_stack};
use crate::on_both_backends;

on_both_backends!(a_prospect_books_a_slot_from_the_drafts_link_in_the_browser);

/// A zone far from the fixture's prospects, for the switch.
const ELSEWHERE: &str = "Asia/Tokyo";

/// Everything the sandbox holds, over HTTP as a person trying the demo reads it.
async fn sandbox_state(stack: &Stack) -> Value {
    let response = reqwest::get(format!("{}/_sandbox/state", stack.sandbox.base_url()))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

/// The text of the one Gmail draft addressed to `prospect` (`full` format).
fn draft_body(state: &Value, prospect: &str) -> String {
    let to_prospect = |draft: &&Value| {
        draft["message"]["payload"]["headers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| {
                h["name"].as_str().unwrap().eq_ignore_ascii_case("to")
                    && h["value"].as_str().unwrap().contains(prospect)
            })
    };
    let drafts: Vec<&Value> = state["gmail"]["mailboxes"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|m| m["drafts"].as_array().unwrap())
        .filter(to_prospect)
        .collect();
    assert_eq!(drafts.len(), 1, "one draft to {prospect}: {drafts:#?}");
    let data = drafts[0]["message"]["payload"]["body"]["data"]
        .as_str()
        .expect("a text/plain body");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(data.trim_end_matches('='))
        .expect("base64url");
    String::from_utf8(bytes).unwrap()
}

/// Every calendar event the sandbox holds, in every calendar.
fn events(state: &Value) -> Vec<Value> {
    state["calendar"]["calendars"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["items"].as_array().unwrap().clone())
        .collect()
}

/// The Drive files whose parents include `folder`.
fn files_in(state: &Value, folder: &str) -> Vec<Value> {
    state["drive"]["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| {
            f["parents"]
                .as_array()
                .is_some_and(|p| p.contains(&json!(folder)))
        })
        .cloned()
        .collect()
}

fn meetings(state: &Value) -> Vec<Value> {
    state["hubspot"]["meetings"]["results"]
        .as_array()
        .unwrap()
        .clone()
}

/// The events, briefs and meetings as they are, as ids (what must not change).
fn holdings(state: &Value, folder: &str) -> (Vec<Value>, Vec<Value>, Vec<Value>) {
    let ids = |items: Vec<Value>| items.into_iter().map(|i| i["id"].clone()).collect();
    (
        ids(events(state)),
        ids(files_in(state, folder)),
        ids(meetings(state)),
    )
}

async fn a_prospect_books_a_slot_from_the_drafts_link_in_the_browser(db: TestDb) {
    let stack = spawn_stack(&db).await;
    let id = stack.answered(LAURA).await;
    let workflow = stack.state_of(&id).await;
    let offered = workflow.slots.as_ref().expect("slots were proposed");
    let zone = offered.prospect_zone.tz();
    let slot = offered.slots[0];
    let rep_id = workflow.route.as_ref().unwrap().rep_id.clone();
    let rep = sales_agent::demo::reps_from_fixture(&stack.fixture)
        .into_iter()
        .find(|r| r.id == rep_id)
        .expect("the rep is in the fixture");
    let folder = stack
        .app
        .app
        .state
        .config
        .engine
        .brief_folder
        .clone()
        .expect("the demo configures a briefs folder");

    // The draft as Gmail holds it: its first link is the first slot's.
    let before = sandbox_state(&stack).await;
    let body = draft_body(&before, LAURA);
    let links = booking_links(&body);
    assert_eq!(links.len(), offered.slots.len() + 1, "{body}");
    let events_before = events(&before);
    assert!(
        !events_before.iter().any(|e| e.to_string().contains(LAURA)),
        "nothing booked yet"
    );
    assert!(files_in(&before, &folder).is_empty());
    assert!(meetings(&before).is_empty());

    let browser = Browser::start_in(&stack.app.address, &db, Some(zone.name())).await;
    let link = links[0].replace(PUBLIC_URL, &browser.base);
    browser.open_url(&link).await;
    assert_eq!(browser.text("h1").await, format!("Meet {}", rep.name));
    let when = slots::render(&slot, zone);
    assert_eq!(browser.text(".when time").await, when);
    let shown_zone = browser
        .driver
        .find(By::Css("#tz"))
        .await
        .unwrap()
        .value()
        .await
        .unwrap();
    assert_eq!(
        shown_zone.as_deref(),
        Some(zone.name()),
        "the browser's zone"
    );
    browser.check_page("booking-slot").await;

    // Another zone on request, then back to the prospect's own.
    let select = SelectElement::new(&browser.driver.find(By::Css("#tz")).await.unwrap())
        .await
        .unwrap();
    select.select_by_value(ELSEWHERE).await.unwrap();
    browser.submit("form.zone button").await;
    let tokyo: Tz = ELSEWHERE.parse().unwrap();
    assert_eq!(
        browser.text(".when time").await,
        slots::render(&slot, tokyo)
    );
    browser.open_url(&link).await;
    assert_eq!(browser.text(".when time").await, when);

    // The same page in a second tab, for the second click later.
    let first_tab = browser.driver.window().await.unwrap();
    let second_tab = browser.driver.new_tab().await.unwrap();
    browser
        .driver
        .switch_to_window(second_tab.clone())
        .await
        .unwrap();
    browser.open_url(&link).await;
    assert_eq!(browser.count("button.primary").await, 1);
    browser.driver.switch_to_window(first_tab).await.unwrap();
    let looked = sandbox_state(&stack).await;
    assert_eq!(
        events(&looked).len(),
        events_before.len(),
        "a GET never books"
    );

    // One click books.
    browser.submit("button.primary").await;
    assert_eq!(browser.text("h1").await, "Your meeting is booked");
    let status = browser.text("p[role=status]").await;
    assert!(
        status.contains(&rep.name) && status.contains(&when),
        "{status}"
    );
    assert_eq!(browser.count("a[href*='/cancel']").await, 1);
    browser.check_page("booking-confirmed").await;

    let after = sandbox_state(&stack).await;
    let mut added: Vec<Value> = events(&after);
    added.retain(|e| !events_before.iter().any(|b| b["id"] == e["id"]));
    assert_eq!(added.len(), 1, "exactly one new event: {added:#?}");
    let event = &added[0];
    assert_eq!(event["kind"], "calendar#event");
    assert!(
        event["hangoutLink"]
            .as_str()
            .is_some_and(|l| l.starts_with("https://meet.google.com/")),
        "{event}"
    );
    assert_eq!(
        event["conferenceData"]["conferenceSolution"]["key"]["type"], "hangoutsMeet",
        "{event}"
    );
    let attendees: Vec<&str> = event["attendees"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["email"].as_str().unwrap())
        .collect();
    assert!(attendees.contains(&LAURA), "{attendees:?}");
    let start =
        chrono::DateTime::parse_from_rfc3339(event["start"]["dateTime"].as_str().unwrap()).unwrap();
    assert_eq!(start.timestamp(), slot.start.timestamp());
    let briefs = files_in(&after, &folder);
    assert_eq!(briefs.len(), 1, "one brief in the folder: {briefs:#?}");
    assert_eq!(
        briefs[0]["mimeType"],
        "application/vnd.google-apps.document"
    );
    let brief_id = briefs[0]["id"].as_str().unwrap();
    let description = event["description"].as_str().unwrap();
    assert!(description.contains(brief_id), "{description}");
    let booked = meetings(&after);
    assert_eq!(booked.len(), 1, "one HubSpot meeting: {booked:#?}");
    let settled = holdings(&after, &folder);

    // Back: Chromium restores the page with its button; Confirm once more.
    browser.driver.back().await.unwrap();
    assert_eq!(browser.text("h1").await, format!("Meet {}", rep.name));
    browser.submit("button.primary").await;
    assert_eq!(browser.text("h1").await, "Your meeting is booked");
    // The page still open in the other tab: another click on Confirm.
    browser.driver.switch_to_window(second_tab).await.unwrap();
    browser.submit("button.primary").await;
    assert_eq!(browser.text("h1").await, "Your meeting is booked");
    // The link opened once more.
    browser.open_url(&link).await;
    assert_eq!(browser.text("h1").await, "Your meeting is booked");
    browser.check_page("booking-reopened").await;

    let last = sandbox_state(&stack).await;
    assert_eq!(holdings(&last, &folder), settled, "nothing new");
    assert_eq!(
        events(&last)
            .iter()
            .filter(|e| e.to_string().contains(LAURA))
            .count(),
        1
    );
    browser.quit().await;
    stack.stop().await;
}
