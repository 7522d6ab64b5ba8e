//! *Disconnect Google* over HTTP on both backends, against the sandbox as
//! Google: an admin's form (CSRF, reason) revokes the rep's refresh token at
//! Google's revocation endpoint and deletes the stored grant, audited; the
//! account then reads as not connected (not *reconnect needed*, no gauge
//! series, nothing in `/readyz`), and the rep's next lead waits as for any rep
//! without a grant until the mailbox is connected again. A viewer sees no
//! button and is refused. When Google does not confirm (injected 503s, before
//! or after the revocation took effect) nothing changes here and the page says
//! so; the JSON API's `DELETE /api/accounts/google/{email}` follows the same rule.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use sales_agent::config::Config;
use sales_agent::sandbox::faults::{FaultSpec, Phase};
use sales_agent::sandbox::state::Grant;
use sales_agent::store::{audit, grants};
use secrecy::SecretString;
use serde_json::json;

use crate::helpers::{
    ADMIN_TOKEN, Stack, TestDb, VIEWER_TOKEN, account_gauge, console_session, json, spawn_app_with,
    spawn_stack_with,
};
use crate::on_both_backends;

on_both_backends!(
    an_admin_disconnects_a_mailbox_revoked_at_google_and_its_leads_wait_as_without_a_grant,
    a_revocation_google_does_not_confirm_keeps_the_grant_and_says_so,
    another_process_stops_using_a_grant_disconnected_elsewhere
);

const KEY: &str = "5b1f0c4e9a7d2b8e3f6a1c0d9e8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b";
const MAYA: &str = "maya.chen@northwind-analytics.com";
const JONAS: &str = "jonas.weber@northwind-analytics.com";
/// Laura's contact is owned by Maya in the fixture's HubSpot: her leads go to Maya.
const LAURA: &str = "laura.martinez@brightpath-health.com";

fn with_key(mut config: Config) -> Config {
    config.secret_keys.key = Some(SecretString::from(KEY));
    config
}

struct Console<'a> {
    stack: &'a Stack,
    client: reqwest::Client,
    cookie: String,
    csrf: String,
}

impl<'a> Console<'a> {
    async fn new(stack: &'a Stack, role: &str, name: &str) -> Console<'a> {
        let (cookie, csrf) = console_session(&stack.app.app.state.store, role, name).await;
        Console {
            stack,
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cookie,
            csrf,
        }
    }

    async fn page(&self, path: &str) -> String {
        let response = self
            .client
            .get(format!("{}{path}", self.stack.app.address))
            .header("cookie", &self.cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        response.text().await.unwrap()
    }

    /// Presses *Disconnect Google* on the rep's page with `reason`.
    async fn disconnect(&self, rep_id: &str, reason: &str) -> reqwest::Response {
        self.client
            .post(format!(
                "{}/reps/{rep_id}/disconnect",
                self.stack.app.address
            ))
            .header("cookie", &self.cookie)
            .form(&[("csrf", self.csrf.as_str()), ("reason", reason)])
            .send()
            .await
            .unwrap()
    }
}

fn fixture_token(stack: &Stack, email: &str) -> String {
    stack
        .fixture
        .google
        .refresh_tokens
        .iter()
        .find(|t| t.email == email && !t.revoked)
        .expect("the fixture grants the mailbox")
        .token
        .clone()
}

fn revoked_at_google(stack: &Stack, token: &str) -> bool {
    stack.sandbox.sandbox().lock_world().google.grants[token].revoked
}

async fn stored_grant(stack: &Stack, email: &'static str) -> Option<grants::GrantRow> {
    stack
        .app
        .app
        .state
        .store
        .run(move |c| grants::find(c, "google", email))
        .await
        .unwrap()
}

async fn status(stack: &Stack, email: &'static str) -> Option<grants::StatusRow> {
    stack
        .app
        .app
        .state
        .store
        .run(move |c| grants::find_status(c, "google", email))
        .await
        .unwrap()
}

async fn disconnections(stack: &Stack) -> Vec<audit::AuditRow> {
    stack
        .app
        .app
        .state
        .store
        .run(|c| audit::list_recent(c, None, None, 50))
        .await
        .unwrap()
        .into_iter()
        .filter(|a| a.action == "account.disconnected")
        .collect()
}

async fn readyz_reconnect(stack: &Stack) -> serde_json::Value {
    let response = stack
        .app
        .client
        .get(format!("{}/readyz", stack.app.address))
        .send()
        .await
        .unwrap();
    json(response).await["accounts"]["reconnect_needed"].clone()
}

async fn workflow_status(stack: &Stack, id: &str) -> serde_json::Value {
    let path = format!("/api/workflows/{id}");
    json(
        stack
            .app
            .api(Method::GET, &path, Some(VIEWER_TOKEN))
            .send()
            .await
            .unwrap(),
    )
    .await["workflow"]
        .clone()
}

async fn wait_status(stack: &Stack, id: &str, wanted: &str, within: Duration) -> serde_json::Value {
    let began = Instant::now();
    loop {
        let workflow = workflow_status(stack, id).await;
        if workflow["status"] == wanted {
            return workflow;
        }
        assert!(
            began.elapsed() < within,
            "{id} is not {wanted} after {within:?}: {workflow}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
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

async fn an_admin_disconnects_a_mailbox_revoked_at_google_and_its_leads_wait_as_without_a_grant(
    db: TestDb,
) {
    let stack = spawn_stack_with(&db, with_key, Default::default()).await;
    let token = fixture_token(&stack, MAYA);
    assert_eq!(
        account_gauge(&stack.app, MAYA).await,
        Some(1),
        "connected at start"
    );
    let sealed = stored_grant(&stack, MAYA)
        .await
        .expect("the grant is stored");

    // A viewer sees no button and is refused anyway.
    let viewer = Console::new(&stack, "viewer", "sam").await;
    let page = viewer.page("/reps/maya-chen").await;
    assert!(
        !page.contains("google-disconnect-form"),
        "no button for a viewer"
    );
    let refused = viewer.disconnect("maya-chen", "leaving").await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);

    // An admin must give a reason.
    let admin = Console::new(&stack, "admin", "alex").await;
    let page = admin.page("/reps/maya-chen").await;
    assert!(page.contains("id=\"google-disconnect-form\""), "{page}");
    let no_reason = admin.disconnect("maya-chen", " ").await;
    assert_eq!(no_reason.status(), StatusCode::BAD_REQUEST);
    assert!(!revoked_at_google(&stack, &token));
    assert_eq!(stored_grant(&stack, MAYA).await, Some(sealed));

    let done = admin
        .disconnect("maya-chen", "Maya moved to partnerships")
        .await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        done.headers()["location"],
        "/reps/maya-chen?disconnected=revoked"
    );
    assert!(revoked_at_google(&stack, &token), "revoked at Google");
    assert_eq!(stored_grant(&stack, MAYA).await, None, "deleted here");
    assert_eq!(
        status(&stack, MAYA).await,
        None,
        "no status: never connected"
    );
    let audited = disconnections(&stack).await;
    assert_eq!(audited.len(), 1, "{audited:?}");
    assert!(audited[0].actor.contains("alex"), "{:?}", audited[0]);
    assert_eq!(
        audited[0].reason.as_deref(),
        Some("Maya moved to partnerships")
    );
    assert!(
        audited[0].detail.contains("\"at_google\":\"revoked\""),
        "{:?}",
        audited[0]
    );

    let page = admin.page("/reps/maya-chen?disconnected=revoked").await;
    assert!(page.contains("Google revoked the grant"), "the notice");
    assert!(page.contains("Not connected"), "{page}");
    assert!(!page.contains("Reconnect needed"), "nothing went wrong");
    assert!(
        !page.contains("google-disconnect-form"),
        "nothing left to disconnect"
    );
    assert_eq!(
        account_gauge(&stack.app, MAYA).await,
        None,
        "no series: no alert"
    );
    assert_eq!(readyz_reconnect(&stack).await, json!([]));

    // Her next lead waits as for any rep without a grant, and the account
    // still reads as not connected.
    let response = stack.app.post_signed(&stack.sample(LAURA)).await;
    assert_eq!(response.status(), 202);
    let id = json(response).await["workflow_id"]
        .as_str()
        .unwrap()
        .to_string();
    let waiting = wait_status(&stack, &id, "waiting", Duration::from_secs(30)).await;
    assert!(
        waiting.to_string().contains("Maya Chen's Google account"),
        "{waiting}"
    );
    let page = admin.page("/reps/maya-chen").await;
    assert!(page.contains("Not connected") && !page.contains("Reconnect needed"));
    assert_eq!(account_gauge(&stack.app, MAYA).await, None);
    assert_eq!(drafts_to(&stack, MAYA, LAURA), 0);

    // Connected again (a new consent's grant), the lead goes on by itself.
    let fresh = format!("1//0sandbox-again-{}", uuid::Uuid::new_v4().simple());
    stack.sandbox.sandbox().lock_world().google.grants.insert(
        fresh.clone(),
        Grant {
            email: MAYA.into(),
            scope: String::new(),
            revoked: false,
        },
    );
    let answer = stack
        .app
        .api(
            Method::PUT,
            &format!("/api/accounts/google/{MAYA}"),
            Some(ADMIN_TOKEN),
        )
        .json(&json!({"refresh_token": fresh, "reason": "Maya is back"}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    assert_eq!(json(answer).await["woken"], 1);
    wait_status(&stack, &id, "completed", Duration::from_secs(60)).await;
    assert_eq!(drafts_to(&stack, MAYA, LAURA), 1);
    assert_eq!(account_gauge(&stack.app, MAYA).await, Some(1));
    stack.stop().await;
}

fn failing_revocation(phase: Phase) -> BTreeMap<String, FaultSpec> {
    BTreeMap::from([(
        "oauth.revoke".to_string(),
        FaultSpec {
            error_rate: 1.0,
            error_status: Some(503),
            phase,
            ..FaultSpec::default()
        },
    )])
}

async fn delete_account(stack: &Stack, email: &str, query: &str, token: &str) -> reqwest::Response {
    stack
        .app
        .api(
            Method::DELETE,
            &format!("/api/accounts/google/{email}{query}"),
            Some(token),
        )
        .send()
        .await
        .unwrap()
}

async fn a_revocation_google_does_not_confirm_keeps_the_grant_and_says_so(db: TestDb) {
    let stack = spawn_stack_with(&db, with_key, Default::default()).await;
    let token = fixture_token(&stack, MAYA);
    let sealed = stored_grant(&stack, MAYA)
        .await
        .expect("the grant is stored");
    let admin = Console::new(&stack, "admin", "alex").await;

    // Google answers 503 before revoking: nothing changes, and the page says so.
    stack
        .sandbox
        .set_faults(None, failing_revocation(Phase::Before));
    let failed = admin.disconnect("maya-chen", "Maya left").await;
    assert_eq!(failed.status(), StatusCode::BAD_GATEWAY);
    let text = failed.text().await.unwrap();
    assert!(
        text.contains("the grant is kept") && text.contains("still valid at Google"),
        "{text}"
    );
    assert!(text.contains("nothing was changed"), "{text}");
    assert!(!revoked_at_google(&stack, &token));
    assert_eq!(stored_grant(&stack, MAYA).await, Some(sealed.clone()));
    assert!(status(&stack, MAYA).await.is_none_or(|s| s.connected));
    assert_eq!(account_gauge(&stack.app, MAYA).await, Some(1));
    assert!(disconnections(&stack).await.is_empty(), "nothing audited");
    let page = admin.page("/reps/maya-chen").await;
    assert!(page.contains(">Connected<") && page.contains("google-disconnect-form"));

    // The JSON API: admins only, with a reason, and the same refusal.
    let viewer = delete_account(&stack, MAYA, "?reason=left", VIEWER_TOKEN).await;
    assert_eq!(viewer.status(), StatusCode::FORBIDDEN);
    let no_reason = delete_account(&stack, MAYA, "", ADMIN_TOKEN).await;
    assert_eq!(no_reason.status(), StatusCode::BAD_REQUEST);
    let failed = delete_account(&stack, MAYA, "?reason=left", ADMIN_TOKEN).await;
    assert_eq!(failed.status(), StatusCode::BAD_GATEWAY);
    assert_eq!(json(failed).await["error"]["code"], "revocation_failed");
    assert_eq!(stored_grant(&stack, MAYA).await, Some(sealed));

    // Google back: revoked and deleted; a second time there is nothing to do.
    stack.sandbox.set_faults(None, BTreeMap::new());
    let done = delete_account(&stack, MAYA, "?reason=Maya%20left", ADMIN_TOKEN).await;
    assert_eq!(done.status(), StatusCode::OK);
    assert_eq!(
        json(done).await,
        json!({"provider": "google", "account": MAYA, "connected": false, "at_google": "revoked"})
    );
    assert!(revoked_at_google(&stack, &token));
    assert_eq!(stored_grant(&stack, MAYA).await, None);
    let again = delete_account(&stack, MAYA, "?reason=again", ADMIN_TOKEN).await;
    assert_eq!(again.status(), StatusCode::NOT_FOUND);

    // Google revoked but its answer was lost: still kept here (nobody knows),
    // and disconnecting again completes, Google reporting it already dead.
    let jonas = fixture_token(&stack, JONAS);
    stack
        .sandbox
        .set_faults(None, failing_revocation(Phase::After));
    let failed = admin.disconnect("jonas-weber", "Jonas left").await;
    assert_eq!(failed.status(), StatusCode::BAD_GATEWAY);
    assert!(revoked_at_google(&stack, &jonas), "the effect happened");
    assert!(
        stored_grant(&stack, JONAS).await.is_some(),
        "kept: unconfirmed"
    );
    stack.sandbox.set_faults(None, BTreeMap::new());
    let done = admin.disconnect("jonas-weber", "Jonas left").await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        done.headers()["location"],
        "/reps/jonas-weber?disconnected=already_invalid"
    );
    assert_eq!(stored_grant(&stack, JONAS).await, None);
    let page = admin
        .page("/reps/jonas-weber?disconnected=already_invalid")
        .await;
    assert!(
        page.contains("Google no longer held the grant as valid"),
        "{page}"
    );
    assert_eq!(disconnections(&stack).await.len(), 2);
    stack.stop().await;
}

async fn another_process_stops_using_a_grant_disconnected_elsewhere(db: TestDb) {
    let stack = spawn_stack_with(&db, with_key, Default::default()).await;
    // A second process on the same database, with the same settings.
    let mut config = (*stack.app.app.state.config).clone();
    config.bind = "127.0.0.1:0".parse().unwrap();
    config.engine.run_workflows = false;
    let other = spawn_app_with(config).await;
    let accounts = other.app.state.accounts.clone();
    assert!(accounts.is_usable(MAYA), "it opened the stored grant");
    assert_eq!(account_gauge(&other, MAYA).await, Some(1));

    let done = delete_account(&stack, MAYA, "?reason=Maya%20left", ADMIN_TOKEN).await;
    assert_eq!(done.status(), StatusCode::OK);
    assert!(
        !stack.app.app.state.accounts.is_usable(MAYA),
        "at once here"
    );

    accounts.sync().await.unwrap();
    assert!(
        !accounts.is_usable(MAYA),
        "forgotten at the next sync there"
    );
    assert_eq!(account_gauge(&other, MAYA).await, None, "and no series");
    assert!(
        accounts.is_usable(JONAS),
        "the grants still stored stay in use"
    );
    other.stop().await;
    stack.stop().await;
}
