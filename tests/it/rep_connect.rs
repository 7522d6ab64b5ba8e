//! *Connect Google* from a rep's page, over HTTP on both backends, through the
//! sandbox's real consent page: the admin's POST redirects to Google's
//! authorization endpoint with PKCE, offline access, forced consent and the
//! rep's mailbox as the hint; the sandbox's consent driver clicks Allow as the
//! rep; the callback stores the grant (sealed) and that rep's next lead gets
//! exactly one draft. Consent given by another account stores nothing, and a
//! callback from another console session or replayed is refused. Consents in
//! progress live in the database: one begun on one instance of the service is
//! finished by another sharing the database, once.

use reqwest::StatusCode;
use sales_agent::config::Config;
use sales_agent::sandbox::consent;
use sales_agent::store::grants;
use secrecy::SecretString;

use crate::helpers::{PUBLIC_URL, Stack, TestDb, console_session, spawn_stack_with};
use crate::on_both_backends;

on_both_backends!(
    an_admin_connects_a_reps_mailbox_through_googles_consent,
    a_consent_begun_on_one_instance_is_finished_by_another_sharing_the_database,
);

const KEY: &str = "5b1f0c4e9a7d2b8e3f6a1c0d9e8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b";
const MAYA: &str = "maya.chen@northwind-analytics.com";
const JONAS: &str = "jonas.weber@northwind-analytics.com";

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

impl Console<'_> {
    /// Presses *Connect Google* on the rep's page; returns where it redirects.
    async fn connect(&self, rep_id: &str) -> String {
        let response = self
            .client
            .post(format!("{}/reps/{rep_id}/connect", self.stack.app.address))
            .header("cookie", &self.cookie)
            .form(&[("csrf", self.csrf.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        response.headers()["location"].to_str().unwrap().to_string()
    }

    /// Follows the provider's redirect to our callback (the public URL is
    /// this service, reached at its test address).
    async fn callback(&self, url: &str) -> reqwest::Response {
        let path = url
            .strip_prefix(PUBLIC_URL)
            .expect("the callback is on the public URL");
        self.client
            .get(format!("{}{path}", self.stack.app.address))
            .header("cookie", &self.cookie)
            .send()
            .await
            .unwrap()
    }
}

async fn an_admin_connects_a_reps_mailbox_through_googles_consent(db: TestDb) {
    let stack = spawn_stack_with(&db, with_key, Default::default()).await;
    stack
        .sandbox
        .register_redirect_uri(None, &format!("{PUBLIC_URL}/reps/connect/callback"));
    let fixture_token = stack
        .fixture
        .google
        .refresh_tokens
        .iter()
        .find(|t| t.email == MAYA && !t.revoked)
        .unwrap()
        .token
        .clone();
    assert!(
        stack.sandbox.revoke_refresh_token(&fixture_token),
        "Maya starts without a live grant"
    );
    let store = stack.app.app.state.store.clone();
    let (cookie, csrf) = console_session(&store, "admin", "alex").await;
    let console = Console {
        stack: &stack,
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        cookie,
        csrf,
    };

    // Consent given by another account: refused, nothing stored.
    let before = store.run(grants::list).await.unwrap();
    let authorize = console.connect("maya-chen").await;
    let url = url::Url::parse(&authorize).unwrap();
    let query: std::collections::HashMap<String, String> = url.query_pairs().into_owned().collect();
    assert_eq!(query["login_hint"], MAYA);
    assert_eq!(query["access_type"], "offline");
    assert_eq!(query["prompt"], "consent");
    assert_eq!(query["code_challenge_method"], "S256");
    assert!(
        query["scope"].contains("gmail.compose") && query["scope"].contains("openid"),
        "{}",
        query["scope"]
    );
    let wrong = consent::click_through(&authorize, JONAS).await.unwrap();
    let refused = console.callback(&wrong).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert!(refused.text().await.unwrap().contains("nothing was stored"));
    assert_eq!(
        store.run(grants::list).await.unwrap(),
        before,
        "no grant was stored"
    );

    // A callback from another console session is refused.
    let authorize = console.connect("maya-chen").await;
    let back = consent::click_through(&authorize, MAYA).await.unwrap();
    let (other_cookie, _) = console_session(&store, "admin", "alex").await;
    let foreign = console
        .client
        .get(format!(
            "{}{}",
            stack.app.address,
            back.strip_prefix(PUBLIC_URL).unwrap()
        ))
        .header("cookie", &other_cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        console.callback(&back).await.status(),
        StatusCode::BAD_REQUEST,
        "a consent is used once"
    );

    // The rep's own consent: stored sealed, connected, and her next lead is drafted.
    let authorize = console.connect("maya-chen").await;
    let back = consent::click_through(&authorize, MAYA).await.unwrap();
    let done = console.callback(&back).await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    assert_eq!(done.headers()["location"], "/reps/maya-chen");
    let status = store
        .run(|c| grants::find_status(c, "google", MAYA))
        .await
        .unwrap()
        .unwrap();
    assert!(status.connected);
    let issued = stack.sandbox.issued_tokens();
    let sealed = store.run(grants::list).await.unwrap();
    for token in &issued {
        assert!(
            sealed.iter().all(|g| !g.sealed.contains(token.as_str())),
            "no issued token in plaintext"
        );
    }
    let page = console
        .client
        .get(format!("{}/reps/maya-chen", stack.app.address))
        .header("cookie", &console.cookie)
        .send()
        .await
        .unwrap();
    assert!(page.text().await.unwrap().contains(">Connected<"));
    let id = stack.answered("laura.martinez@brightpath-health.com").await;
    let route = stack.step_output(&id, "route").await;
    assert_eq!(route["rep_id"], "maya-chen");
    let drafts = {
        let world = stack.sandbox.sandbox().lock_world();
        let mailbox = &world.mailboxes[MAYA];
        mailbox
            .drafts
            .values()
            .filter(|m| {
                mailbox.messages[*m]
                    .to
                    .iter()
                    .any(|t| t.contains("laura.martinez"))
            })
            .count()
    };
    assert_eq!(drafts, 1);
    stack.stop().await;
}

async fn a_consent_begun_on_one_instance_is_finished_by_another_sharing_the_database(db: TestDb) {
    let stack = spawn_stack_with(&db, with_key, Default::default()).await;
    stack
        .sandbox
        .register_redirect_uri(None, &format!("{PUBLIC_URL}/reps/connect/callback"));
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
    let store = stack.app.app.state.store.clone();
    let (cookie, csrf) = console_session(&store, "admin", "alex").await;
    let console = Console {
        stack: &stack,
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        cookie,
        csrf,
    };
    // A second instance of the service on the same database (another process
    // behind the load balancer, or this one after a restart).
    let mut config = (*stack.app.app.state.config).clone();
    config.bind = "127.0.0.1:0".parse().unwrap();
    let other = crate::helpers::spawn_app_with(config).await;

    let authorize = console.connect("maya-chen").await;
    let back = consent::click_through(&authorize, MAYA).await.unwrap();
    let path = back.strip_prefix(PUBLIC_URL).unwrap().to_string();
    let on = |address: &str| {
        console
            .client
            .get(format!("{address}{path}"))
            .header("cookie", &console.cookie)
            .send()
    };
    let done = on(&other.address).await.unwrap();
    assert_eq!(
        done.status(),
        StatusCode::SEE_OTHER,
        "finished on the other instance"
    );
    assert_eq!(done.headers()["location"], "/reps/maya-chen");
    let status = store
        .run(|c| grants::find_status(c, "google", MAYA))
        .await
        .unwrap()
        .unwrap();
    assert!(status.connected);
    assert_eq!(
        on(&stack.app.address).await.unwrap().status(),
        StatusCode::BAD_REQUEST,
        "used once, across instances"
    );
    other.stop().await;
    stack.stop().await;
}
