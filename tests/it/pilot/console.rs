//! Pilot mode in the console, in a real Chromium: an admin switches to pilot on
//! the settings page (with a reason, audited), every page carries the pilot
//! banner, and a lead's page lists what it would have written — bodies and the
//! MIME message as inert text, prospect text shown and never run — and offers
//! nothing to approve.

use std::time::Duration;

use super::{DANIEL, writes_seen};
use crate::console::browser::Browser;
use crate::helpers::{ADMIN_TOKEN, TestDb, json, spawn_stack};
use crate::on_both_backends;

on_both_backends!(an_admin_switches_to_pilot_and_reads_what_a_lead_would_have_written);

const PAYLOAD: &str = "<script>window.__xss=1</script><img src=x onerror=\"window.__xss=2\">";
/// Survives the lead's normalisation (markup does not) and must be escaped to show.
const COMPANY: &str = "Summit & \"Care\" Co";

async fn an_admin_switches_to_pilot_and_reads_what_a_lead_would_have_written(db: TestDb) {
    let stack = spawn_stack(&db).await;
    let browser = Browser::start(&stack.app.address, &db).await;
    browser.sign_in(ADMIN_TOKEN, "maria").await;
    browser.open("/settings").await;
    assert!(browser.text("#mode-banner").await.contains("DRAFT-ONLY"));
    browser.click("#mode-pilot").await;
    browser.fill("#mode-reason", "first week: watch only").await;
    browser.click("#mode-confirm").await;
    browser.submit("#mode-button").await;
    assert!(browser.text("#mode-banner").await.contains("PILOT"));
    assert!(browser.text("#mode-now").await.starts_with("pilot"));
    assert!(
        browser
            .text("#audit-log")
            .await
            .contains("first week: watch only"),
        "the switch is audited"
    );
    browser.check_page("settings-pilot").await;

    let mut body: serde_json::Value = serde_json::from_str(&stack.sample(DANIEL)).unwrap();
    for field in body["values"].as_array_mut().unwrap() {
        if field["name"] == "jobtitle" {
            field["value"] = PAYLOAD.into();
        }
        if field["name"] == "company" {
            field["value"] = COMPANY.into();
        }
    }
    let accepted = stack.app.post_signed(&body.to_string()).await;
    assert_eq!(accepted.status(), 202);
    let id = json(accepted).await["workflow_id"]
        .as_str()
        .unwrap()
        .to_string();
    let statuses = stack
        .wait_finished(std::slice::from_ref(&id), Duration::from_secs(30))
        .await;
    assert_eq!(statuses, ["completed"]);
    assert!(writes_seen(&stack).is_empty());

    browser.open(&format!("/leads/{id}")).await;
    assert!(browser.text("#mode-banner").await.contains("PILOT"));
    let section = browser.text("#pilot-writes").await;
    for line in [
        "POST /crm/v3/objects/contacts/batch/upsert",
        "POST /gmail/v1/users/me/drafts",
        "POST /crm/v3/objects/notes",
        "POST /crm/v3/objects/tasks",
    ] {
        assert!(section.contains(line), "{line} in {section}");
    }
    // The bodies and the message, folded in <details>, as the page holds them.
    let texts: Vec<String> = browser
        .driver
        .execute(
            "return [...document.querySelectorAll('#pilot-writes pre')].map(p => p.textContent);",
            Vec::new(),
        )
        .await
        .unwrap()
        .convert()
        .unwrap();
    let all = texts.join("\n");
    assert!(all.contains("\"idProperty\": \"email\""), "{all}");
    assert!(
        all.contains(&format!("To: \"Daniel Brooks\" <{DANIEL}>")),
        "{all}"
    );
    assert!(
        all.contains(r#""company": "Summit & \"Care\" Co""#),
        "the prospect's company, as text: {all}"
    );
    let probe: serde_json::Value = browser
        .driver
        .execute(
            "return { flag: window.__xss === undefined ? null : window.__xss,
                      injected: document.querySelectorAll('#pilot-writes script, #pilot-writes img').length,
                      approve: document.querySelectorAll('#approve-form').length };",
            Vec::new(),
        )
        .await
        .unwrap()
        .json()
        .clone();
    assert_eq!(
        probe,
        serde_json::json!({"flag": null, "injected": 0, "approve": 0})
    );
    browser.check_page("lead-pilot").await;
    browser.quit().await;
    stack.stop().await;
}
