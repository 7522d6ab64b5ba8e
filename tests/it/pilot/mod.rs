//! Pilot mode on both backends: the mode switch over the API (new and old form),
//! a lead that runs through all 13 steps while the sandbox sees reads only and
//! the workflow shows each write it would have made, a workflow in flight when
//! the mode changes, and the console's lead page and switch.

mod console;
mod inflight;
mod mode;
mod run;

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{ADMIN_TOKEN, Stack, TestApp, json};

pub const LAURA: &str = "laura.martinez@brightpath-health.com";
pub const DANIEL: &str = "daniel.brooks@summitcare-clinics.com";

/// Switches the mode through the admin API, as an admin would.
pub async fn switch(app: &TestApp, mode: &str) {
    let switched = app
        .api(Method::PUT, "/api/mode", Some(ADMIN_TOKEN))
        .json(&json!({"mode": mode, "reason": "pilot test"}))
        .send()
        .await
        .unwrap();
    assert_eq!(switched.status(), 200, "switch to {mode}");
}

/// The admin API's detail of a workflow.
pub async fn detail(app: &TestApp, id: &str) -> Value {
    json(
        app.api(
            Method::GET,
            &format!("/api/workflows/{id}"),
            Some(ADMIN_TOKEN),
        )
        .send()
        .await
        .unwrap(),
    )
    .await
}

/// The sandbox endpoints that change something, and how often each was called.
pub fn writes_seen(stack: &Stack) -> Vec<(String, u64)> {
    const WRITES: [&str; 8] = [
        ".create",
        ".upsert",
        ".update",
        ".delete",
        ".put",
        ".send",
        ".insert",
        ".batch_create",
    ];
    stack
        .sandbox
        .stats()
        .into_iter()
        .filter(|(name, stats)| {
            WRITES.iter().any(|w| name.ends_with(w))
                && !name.starts_with("oauth")
                && stats.requests > 0
        })
        .map(|(name, stats)| (name, stats.requests))
        .collect()
}

/// How many requests the sandbox answered on `endpoint`.
pub fn requests(stack: &Stack, endpoint: &str) -> u64 {
    stack
        .sandbox
        .stats()
        .get(endpoint)
        .map_or(0, |s| s.requests)
}
