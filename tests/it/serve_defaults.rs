//! `sales-agent serve` as a first-time user runs it: only what connects it — the
//! sandbox's URLs and credentials, the webhook secret and the reps file — is set;
//! everything else (SQLite under `./data/`, the plain-http public URL, quiet
//! hours, cool-down, limits) keeps its default. A signed webhook becomes a draft,
//! left without the one-click unsubscribe header, and nothing is sent.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::crash::{Service, free_port, start_sandbox};
use crate::helpers::{SECRET, signed_post};

#[actix_web::test]
async fn serve_with_defaults_turns_a_signed_webhook_into_a_draft() {
    let (sandbox, fixture, dir) = start_sandbox(BTreeMap::new());
    let mut env = sales_agent::demo::sandbox_env(&sandbox.base_url(), &fixture);
    env.insert("SALES_AGENT_HUBSPOT_CLIENT_SECRET".into(), SECRET.into());
    env.insert(
        "SALES_AGENT_REPS_FILE".into(),
        dir.join("reps.json").display().to_string(),
    );
    env.insert("RUST_LOG".into(), "error".into());
    let service = Service::start_in(env, free_port(), Some(dir.clone()));

    let email = "laura.martinez@brightpath-health.com";
    let body = fixture
        .hubspot
        .form_submissions
        .iter()
        .find(|s| s.to_string().contains(email))
        .expect("the fixture's sample")
        .to_string();
    let response = signed_post(
        &reqwest::Client::new(),
        // The default public URL is the address the service listens on.
        &format!("http://127.0.0.1:{}", service.port()),
        body,
    )
    .send()
    .await
    .unwrap();
    assert_eq!(response.status(), 202, "{}", response.text().await.unwrap());

    let mailboxes: Vec<String> = fixture
        .google
        .refresh_tokens
        .iter()
        .map(|t| t.email.to_lowercase())
        .collect();
    let started = Instant::now();
    let draft = loop {
        let found = mailboxes
            .iter()
            .flat_map(|m| sandbox.drafts(m))
            .find(|(_, m)| m.to.iter().any(|to| to.to_lowercase().contains(email)));
        if let Some((_, message)) = found {
            break message;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no draft for {email} within 60 s"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let raw = String::from_utf8_lossy(&draft.raw).to_lowercase();
    assert!(!raw.contains("list-unsubscribe-post"), "{raw}");
    // The fixture holds earlier mail the reps sent; none of it is the service's.
    let ours = |m: &sales_agent::sandbox::mime::Message| {
        m.message_id
            .as_deref()
            .is_some_and(|id| id.starts_with("<sa."))
    };
    assert!(ours(&draft), "{:?}", draft.message_id);
    assert!(
        !mailboxes
            .iter()
            .flat_map(|m| sandbox.sent(m))
            .any(|m| ours(&m)),
        "nothing is sent"
    );
    assert!(
        dir.join("data/sales-agent.db").exists(),
        "the default SQLite file under ./data/"
    );
    drop(service);
    sandbox.stop().await;
    std::fs::remove_dir_all(dir).unwrap();
}
