//! A service account with domain-wide delegation, over real HTTP against the
//! sandbox's token endpoint, on both backends: with only the key file set (no
//! OAuth client, no refresh token, no grant stored) a rep's lead gets its
//! draft, the sandbox saw one JWT-bearer assertion per mailbox with the right
//! iss, sub, scope, aud and kid (cached, not one per call); a mailbox the admin
//! has not delegated for every scope leaves its lead waiting and the rep
//! *Reconnect needed*, until *Connect Google* checks the delegation again and
//! the lead is answered. An assertion signed with another key is refused by the
//! sandbox (it verifies against the account's public key), and a key file that
//! is not one stops start-up naming the setting.

use std::path::{Path, PathBuf};
use std::time::Duration;

use reqwest::StatusCode;
use sales_agent::app::Application;
use sales_agent::config::Config;
use sales_agent::connectors::service_account::DELEGATED_SCOPES;
use sales_agent::sandbox::fixture::DEMO_SERVICE_ACCOUNT_KEY;
use sales_agent::store::{Store, grants, sessions};
use serde_json::Value;

use crate::helpers::{Stack, TestDb, spawn_stack_with, test_config};
use crate::on_both_backends;

on_both_backends!(
    reps_mailboxes_are_reached_through_the_service_accounts_delegation,
    an_assertion_signed_with_another_key_is_refused_and_a_bad_key_file_stops_start_up,
);

const MAYA: &str = "maya.chen@northwind-analytics.com";
const DRIVE: &str = "https://www.googleapis.com/auth/drive";

fn demo_key() -> Value {
    serde_json::from_str(DEMO_SERVICE_ACCOUNT_KEY).unwrap()
}

/// Writes Google's key file for the demo's service account, its `token_uri`
/// the sandbox's token endpoint, optionally with another private key.
fn write_key_file(dir: &Path, token_uri: &str, private_key: Option<&str>) -> PathBuf {
    let mut file = demo_key();
    file["token_uri"] = token_uri.into();
    if let Some(pem) = private_key {
        file["private_key"] = pem.into();
    }
    let path = dir.join(format!("sa-{}.json", uuid::Uuid::new_v4().simple()));
    std::fs::write(&path, file.to_string()).unwrap();
    path
}

/// The sandbox's configuration with the key file as the only Google credential.
fn delegated(mut config: Config, private_key: Option<&str>) -> Config {
    let token_uri = config.connectors.google_token_url.to_string();
    let path = write_key_file(&std::env::temp_dir(), &token_uri, private_key);
    config.connectors.google_service_account_file = Some(path);
    config.connectors.google_refresh_tokens.clear();
    config.connectors.google_client_id = None;
    config.connectors.google_client_secret = None;
    config
}

async fn admin_session(store: &Store) -> (String, String) {
    let random = || uuid::Uuid::new_v4().simple().to_string().repeat(2);
    let (token, csrf) = (random(), random());
    let (t, c) = (token.clone(), csrf.clone());
    store
        .run(move |conn| {
            let expires = sales_agent::store::now() + chrono::TimeDelta::hours(1);
            sessions::insert(conn, &t, "admin", "alex", &c, expires)
        })
        .await
        .unwrap();
    (format!("sa_console={token}"), csrf)
}

fn jwt_grants(stack: &Stack) -> Vec<sales_agent::sandbox::state::JwtGrant> {
    stack
        .sandbox
        .sandbox()
        .lock_world()
        .google
        .jwt_grants
        .clone()
}

fn drafts_to(stack: &Stack, mailbox: &str, prospect: &str) -> usize {
    let world = stack.sandbox.sandbox().lock_world();
    let mailbox = &world.mailboxes[mailbox];
    mailbox
        .drafts
        .values()
        .filter(|m| mailbox.messages[*m].to.iter().any(|t| t.contains(prospect)))
        .count()
}

async fn submit(stack: &Stack, email: &str) -> String {
    let response = stack.app.post_signed(&stack.sample(email)).await;
    assert_eq!(response.status(), 202);
    crate::helpers::json(response).await["workflow_id"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn wait_status(stack: &Stack, id: &str, wanted: &str) {
    let store = stack.app.app.state.store.clone();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let probe = id.to_string();
        let status = store
            .run(move |c| sales_agent::store::workflows::find_by_id(c, &probe))
            .await
            .unwrap()
            .map(|w| w.status)
            .unwrap_or_default();
        if status == wanted {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{id} is {status}, not {wanted}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn reps_mailboxes_are_reached_through_the_service_accounts_delegation(db: TestDb) {
    let stack = spawn_stack_with(&db, |c| delegated(c, None), Default::default()).await;
    let store = stack.app.app.state.store.clone();
    let token_uri = format!("{}/token", stack.sandbox.base_url());
    let key = demo_key();
    let client_email = key["client_email"].as_str().unwrap().to_string();
    let full = stack.sandbox.sandbox().lock_world().google.service_accounts[&client_email]
        .scopes
        .clone();
    let set_delegation = |scopes: Vec<String>| {
        let mut world = stack.sandbox.sandbox().lock_world();
        world
            .google
            .service_accounts
            .get_mut(&client_email)
            .unwrap()
            .scopes = scopes;
    };

    // The admin left Drive out of the delegation: Maya's lead waits, her
    // mailbox shows *Reconnect needed*.
    set_delegation(full.iter().filter(|s| *s != DRIVE).cloned().collect());
    let waiting = submit(&stack, "laura.martinez@brightpath-health.com").await;
    wait_status(&stack, &waiting, "waiting").await;
    let status = store
        .run(|c| grants::find_status(c, "google", MAYA))
        .await
        .unwrap()
        .expect("Maya's status is stored");
    assert!(!status.connected);
    assert_eq!(status.reason.as_deref(), Some("not_delegated"));
    assert!(
        jwt_grants(&stack)
            .iter()
            .any(|g| g.sub.as_deref() == Some(MAYA) && g.outcome.starts_with("unauthorized_client")),
        "the sandbox refused the assertion for Maya"
    );
    let (cookie, csrf) = admin_session(&store).await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = || async {
        let url = format!("{}/reps/maya-chen", stack.app.address);
        let response = client
            .get(url)
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap();
        response.text().await.unwrap()
    };
    assert!(page().await.contains("Reconnect needed"));

    // Checking again before the admin fixed the delegation changes nothing.
    let connect = || {
        client
            .post(format!("{}/reps/maya-chen/connect", stack.app.address))
            .header("cookie", &cookie)
            .form(&[("csrf", csrf.as_str())])
            .send()
    };
    let refused = connect().await.unwrap();
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    assert!(refused.text().await.unwrap().contains("Admin console"));
    assert!(page().await.contains("Reconnect needed"));

    // Delegated in full: *Connect Google* checks, and the lead is answered.
    set_delegation(full);
    let checked = connect().await.unwrap();
    assert_eq!(checked.status(), StatusCode::SEE_OTHER);
    assert_eq!(checked.headers()["location"], "/reps/maya-chen");
    let status = store
        .run(|c| grants::find_status(c, "google", MAYA))
        .await
        .unwrap()
        .unwrap();
    assert!(status.connected);
    assert!(page().await.contains(">Connected<"));
    let statuses = stack
        .wait_finished(std::slice::from_ref(&waiting), Duration::from_secs(30))
        .await;
    assert_eq!(statuses, ["completed"]);
    assert_eq!(
        stack.step_output(&waiting, "route").await["rep_id"],
        "maya-chen"
    );
    assert_eq!(drafts_to(&stack, MAYA, "laura.martinez"), 1);
    let stored = store.run(grants::list).await.unwrap();
    assert!(
        stored.iter().all(|g| g.provider != "google"),
        "no per-rep grant is stored: {stored:?}"
    );

    // What the sandbox's token endpoint received: after the refusal, one
    // assertion for Maya, its token cached across every Gmail, Calendar and
    // Drive call of the workflow.
    let seen = jwt_grants(&stack);
    let accepted: Vec<_> = seen
        .iter()
        .filter(|g| g.sub.as_deref() == Some(MAYA) && g.outcome == "ok")
        .collect();
    assert_eq!(accepted.len(), 1, "{seen:?}");
    let grant = accepted[0];
    assert_eq!(grant.iss, client_email);
    assert_eq!(grant.kid.as_deref(), key["private_key_id"].as_str());
    assert_eq!(grant.aud, token_uri);
    assert_eq!(grant.scope, DELEGATED_SCOPES.join(" "));
    assert!(grant.exp > grant.iat && grant.exp - grant.iat <= 3600);
    stack.stop().await;
}

async fn an_assertion_signed_with_another_key_is_refused_and_a_bad_key_file_stops_start_up(
    db: TestDb,
) {
    let other = include_str!("../../src/sandbox/fixtures/keys/signing-1.pem");
    let stack = spawn_stack_with(&db, |c| delegated(c, Some(other)), Default::default()).await;
    let store = stack.app.app.state.store.clone();
    let id = submit(&stack, "laura.martinez@brightpath-health.com").await;
    wait_status(&stack, &id, "waiting").await;
    let seen = jwt_grants(&stack);
    assert!(!seen.is_empty());
    assert!(
        seen.iter()
            .all(|g| g.outcome == "invalid_grant: Invalid JWT Signature."),
        "{seen:?}"
    );
    let status = store
        .run(|c| grants::find_status(c, "google", MAYA))
        .await
        .unwrap()
        .unwrap();
    assert!(!status.connected);
    assert_eq!(status.reason.as_deref(), Some("invalid_grant"));
    assert_eq!(drafts_to(&stack, MAYA, "laura.martinez"), 0);
    stack.stop().await;

    // A key file that is not one: start-up stops and names the setting.
    let dir = std::env::temp_dir();
    let broken = dir.join(format!("sa-{}.json", uuid::Uuid::new_v4().simple()));
    std::fs::write(
        &broken,
        r#"{"type":"service_account","client_email":"x@y"}"#,
    )
    .unwrap();
    for path in [broken, dir.join("no-such-key-file.json")] {
        let mut config = test_config(&db);
        config.connectors.google_service_account_file = Some(path);
        let error = Application::build(config)
            .await
            .err()
            .expect("refuses to start")
            .to_string();
        assert!(
            error.starts_with("SALES_AGENT_GOOGLE_SERVICE_ACCOUNT_FILE: "),
            "{error}"
        );
    }
}
