//! Issue 15's journey in a real Chromium, on both backends, with the sandbox as
//! Google and every consent page clicked in the browser: an admin signs in with
//! Google, opens a rep whose mailbox is not connected, connects it through
//! Google's consent as the rep, and the rep's next lead gets one draft. Google
//! then revokes the grant (the rep removed the app on the account page): the
//! rep's page says *reconnect needed*, the account's gauge reads 0 on
//! `/metrics`, and the rep's next lead waits visibly with the reason on its
//! page; the admin reconnects through the consent page and the lead completes
//! with one draft within a minute. Last, the admin disconnects the mailbox:
//! revoked at Google, shown as not connected. axe-core on each of our pages.

use std::net::TcpListener;
use std::time::{Duration, Instant, SystemTime};

use reqwest::Method;
use sales_agent::config::{ConsoleAccessConfig, OthersPolicy};
use secrecy::SecretString;
use serde_json::json;

use super::browser::Browser;
use super::google::{ADMIN, DOMAIN};
use crate::helpers::{
    Stack, TestDb, VIEWER_TOKEN, account_gauge, json, signed_headers_for, spawn_stack_on,
};
use crate::on_both_backends;

on_both_backends!(
    an_admin_connects_a_mailbox_in_the_browser_and_reconnects_it_after_google_revokes_it
);

const KEY: &str = "5b1f0c4e9a7d2b8e3f6a1c0d9e8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b";
const MAYA: &str = "maya.chen@northwind-analytics.com";
/// Owned by Maya in the fixture's HubSpot.
const LAURA: &str = "laura.martinez@brightpath-health.com";
/// In the United States: Maya's territory, where she is the only rep.
const DANIEL: &str = "daniel.brooks@summitcare-clinics.com";

/// The service with Google sign-in at `public` (the browser's origin), a key
/// to seal grants, and no grant for Maya: her token is neither configured
/// nor live at Google.
async fn start(db: &TestDb) -> (Stack, String) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let public = format!("http://localhost:{}", listener.local_addr().unwrap().port());
    let url = public.clone();
    let stack = spawn_stack_on(
        db,
        Some(listener),
        move |mut config| {
            config.public_url = url.parse().unwrap();
            config.secret_keys.key = Some(SecretString::from(KEY));
            config.console_access = ConsoleAccessConfig {
                admins: vec![ADMIN.to_string()],
                domains: vec![DOMAIN.to_string()],
                others: OthersPolicy::Viewer,
                token_signin: true,
            };
            config
                .connectors
                .google_refresh_tokens
                .retain(|(account, _)| account != MAYA);
            config
        },
        Default::default(),
    )
    .await;
    let fixture_token = stack
        .fixture
        .google
        .refresh_tokens
        .iter()
        .find(|t| t.email == MAYA && !t.revoked)
        .unwrap()
        .token
        .clone();
    assert!(stack.sandbox.revoke_refresh_token(&fixture_token));
    for path in ["/signin/google/callback", "/reps/connect/callback"] {
        assert!(
            stack
                .sandbox
                .register_redirect_uri(None, &format!("{public}{path}"))
        );
    }
    (stack, public)
}

/// At Google's consent page: chooses `account` and allows, as a person clicks.
async fn consent_as(browser: &Browser, account: &str, screenshot: &str) {
    assert_eq!(browser.path().await, "/o/oauth2/v2/auth", "at the provider");
    browser
        .click(&format!("input[name=account][value='{account}']"))
        .await;
    browser.screenshot(screenshot).await;
    browser.submit("button[name=decision][value=allow]").await;
}

/// Posts the fixture's submission for `prospect`, signed for `public`.
async fn post_lead(stack: &Stack, public: &str, prospect: &str) -> String {
    let body = stack.sample(prospect);
    let headers = signed_headers_for(public, &body, SystemTime::now());
    let response = stack.app.post_with(&body, &headers).await;
    assert_eq!(response.status(), 202);
    json(response).await["workflow_id"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn wait_status(stack: &Stack, id: &str, wanted: &str, within: Duration) -> serde_json::Value {
    let began = Instant::now();
    loop {
        let detail = json(
            stack
                .app
                .api(
                    Method::GET,
                    &format!("/api/workflows/{id}"),
                    Some(VIEWER_TOKEN),
                )
                .send()
                .await
                .unwrap(),
        )
        .await;
        if detail["workflow"]["status"] == wanted {
            return detail;
        }
        assert!(
            began.elapsed() < within,
            "{id} is not {wanted} after {within:?}: {}",
            detail["workflow"]
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn drafts_to(stack: &Stack, prospect: &str) -> usize {
    let world = stack.sandbox.sandbox().lock_world();
    let mailbox = &world.mailboxes[MAYA];
    mailbox
        .drafts
        .values()
        .filter(|m| mailbox.messages[*m].to.iter().any(|t| t.contains(prospect)))
        .count()
}

async fn an_admin_connects_a_mailbox_in_the_browser_and_reconnects_it_after_google_revokes_it(
    db: TestDb,
) {
    let (stack, public) = start(&db).await;
    let browser = Browser::start(&stack.app.address, &db).await;
    assert_eq!(browser.base, public);

    // Signed in with Google, as the admin the settings name.
    browser.open("/signin").await;
    browser.submit("#signin-google").await;
    consent_as(&browser, ADMIN, "journey-consent-signin").await;
    assert_eq!(browser.path().await, "/");
    let who = browser.text("header .who").await;
    assert!(who.contains(&format!("{ADMIN} (admin)")), "{who}");

    // Maya's mailbox is not connected.
    browser.open("/reps/maya-chen").await;
    let google = browser.text("#rep-google").await;
    assert!(google.starts_with("Not connected"), "{google}");
    assert_eq!(browser.count("#google-disconnect-form").await, 0);
    browser.check_page("journey-rep-not-connected").await;

    // Connect Google: the consent page offers Maya (the hint), she allows.
    browser.submit("#google-connect-button").await;
    assert_eq!(
        browser
            .count(&format!("input[name=account][value='{MAYA}']:checked"))
            .await,
        1,
        "the rep's mailbox is the one proposed"
    );
    consent_as(&browser, MAYA, "journey-consent-connect").await;
    assert_eq!(browser.path().await, "/reps/maya-chen");
    assert_eq!(browser.text("#rep-google").await, "Connected");
    browser.check_page("journey-rep-connected").await;
    assert_eq!(account_gauge(&stack.app, MAYA).await, Some(1));

    // Her next lead gets exactly one draft.
    let first = post_lead(&stack, &public, LAURA).await;
    wait_status(&stack, &first, "completed", Duration::from_secs(60)).await;
    assert_eq!(
        stack.step_output(&first, "route").await["rep_id"],
        "maya-chen"
    );
    assert_eq!(drafts_to(&stack, LAURA), 1, "exactly one draft");

    // Maya removes the app from her Google account: the grant is dead.
    let revoked = reqwest::Client::new()
        .post(format!(
            "{}/_sandbox/oauth/revoke",
            stack.sandbox.base_url()
        ))
        .json(&json!({"email": MAYA}))
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 200);
    let second = post_lead(&stack, &public, DANIEL).await;
    wait_status(&stack, &second, "waiting", Duration::from_secs(30)).await;
    assert_eq!(
        account_gauge(&stack.app, MAYA).await,
        Some(0),
        "the gauge reads 0"
    );

    browser.open("/reps/maya-chen").await;
    let google = browser.text("#rep-google").await;
    assert!(google.starts_with("Reconnect needed"), "{google}");
    browser.check_page("journey-rep-reconnect-needed").await;

    browser.open(&format!("/leads/{second}")).await;
    assert_eq!(browser.text("#lead-status").await, "Waiting for an account");
    let page = browser.text("main").await;
    assert!(
        page.contains("waiting for Maya Chen's Google account to be reconnected"),
        "the lead's page says why: {page}"
    );
    assert_eq!(drafts_to(&stack, DANIEL), 0);
    browser.check_page("journey-lead-waiting").await;

    // Reconnected through the consent page; the lead goes on by itself.
    browser.open("/reps/maya-chen").await;
    browser.submit("#google-connect-button").await;
    let reconnected = Instant::now();
    consent_as(&browser, MAYA, "journey-consent-reconnect").await;
    assert_eq!(browser.path().await, "/reps/maya-chen");
    assert_eq!(browser.text("#rep-google").await, "Connected");
    wait_status(&stack, &second, "completed", Duration::from_secs(60)).await;
    let took = reconnected.elapsed();
    eprintln!("reconnect to completed: {took:?}");
    assert!(took < Duration::from_secs(60), "{took:?}");
    assert_eq!(
        stack.step_output(&second, "route").await["rep_id"],
        "maya-chen"
    );
    assert_eq!(drafts_to(&stack, DANIEL), 1, "exactly one draft");
    assert_eq!(account_gauge(&stack.app, MAYA).await, Some(1));
    browser.open(&format!("/leads/{second}")).await;
    assert_eq!(browser.text("#lead-status").await, "Completed");

    // Disconnect: revoked at Google, and not connected here.
    browser.open("/reps/maya-chen").await;
    browser.check_page("journey-rep-reconnected").await;
    browser
        .fill("#disconnect-reason", "Maya moved to partnerships")
        .await;
    browser.submit("#google-disconnect-button").await;
    assert_eq!(browser.path().await, "/reps/maya-chen");
    let notice = browser.text("#rep-notice").await;
    assert!(notice.contains("Google revoked the grant"), "{notice}");
    let google = browser.text("#rep-google").await;
    assert!(google.starts_with("Not connected"), "{google}");
    browser.check_page("journey-rep-disconnected").await;
    assert!(
        !stack
            .sandbox
            .inspect(|world| world.google.has_live_grant(MAYA)),
        "no live grant at Google"
    );
    assert_eq!(account_gauge(&stack.app, MAYA).await, None);
    browser.quit().await;
    stack.stop().await;
}
