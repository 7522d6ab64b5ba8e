//! Prospect text is data: a submission whose every field holds `<script>`,
//! `<img onerror=…>` and `javascript:` payloads is shown as text on every page and
//! executes nothing (no dialog, no flag set, no injected element).

use std::time::Duration;

use super::browser::Browser;
use crate::helpers::{ADMIN_TOKEN, TestDb, json, spawn_stack};
use crate::on_both_backends;

on_both_backends!(payloads_in_every_field_execute_nothing);

const PAYLOAD: &str = "<script>window.__xss=1;alert(1)</script>\
<img src=x onerror=\"window.__xss=2;alert(2)\">javascript:window.__xss=3";

async fn payloads_in_every_field_execute_nothing(db: TestDb) {
    let stack = spawn_stack(&db).await;
    let mut body: serde_json::Value =
        serde_json::from_str(&stack.sample("daniel.brooks@summitcare-clinics.com")).unwrap();
    for field in body["values"].as_array_mut().unwrap() {
        if field["name"] != "email" {
            field["value"] = PAYLOAD.into();
        }
    }
    body["values"].as_array_mut().unwrap().extend([
        serde_json::json!({"name": "website", "value": "javascript:alert(4)"}),
        serde_json::json!({"name": "notes", "value": PAYLOAD}),
    ]);
    body["pageUrl"] = "javascript:alert(5)".into();
    let accepted = stack.app.post_signed(&body.to_string()).await;
    assert_eq!(accepted.status(), 202);
    let id = json(accepted).await["workflow_id"]
        .as_str()
        .unwrap()
        .to_string();
    stack
        .wait_finished(std::slice::from_ref(&id), Duration::from_secs(30))
        .await;

    let browser = Browser::start(&stack.app.address, &db).await;
    browser.sign_in(ADMIN_TOKEN, "maria").await;
    for page in [
        "/",
        "/leads",
        &format!("/leads/{id}"),
        "/drafts",
        "/settings",
    ] {
        browser.open(page).await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(
            browser.driver.get_alert_text().await.is_err(),
            "{page}: a dialog opened"
        );
        let probe: serde_json::Value = browser
            .driver
            .execute(
                "return { flag: window.__xss === undefined ? null : window.__xss,
                          injected: document.querySelectorAll('main script, main img, main iframe, main svg:not(.chart), main svg.chart *:not(line):not(polyline):not(circle):not(text):not(title)').length,
                          js_links: document.querySelectorAll('a[href^=\"javascript\"], [onerror], [onclick]').length };",
                Vec::new(),
            )
            .await
            .unwrap()
            .json()
            .clone();
        assert_eq!(
            probe["flag"],
            serde_json::Value::Null,
            "{page}: a payload ran"
        );
        assert_eq!(probe["injected"], 0, "{page}: an element was injected");
        assert_eq!(
            probe["js_links"], 0,
            "{page}: a script link or handler appeared"
        );
    }
    browser.open(&format!("/leads/{id}")).await;
    let shown = browser.text("#submission").await;
    assert!(
        shown.contains("<script>window.__xss=1"),
        "shown as text: {shown}"
    );
    browser.screenshot("lead-xss").await;
    browser.quit().await;
    stack.stop().await;
}
