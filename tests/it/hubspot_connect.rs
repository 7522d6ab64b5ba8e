//! HubSpot connected as an OAuth app or with a private-app token, on both
//! backends, over real HTTP to the sandbox: the install page clicked through,
//! the code exchanged, the refresh token sealed at rest (never in plaintext),
//! loaded again after a restart, the connector calling the CRM with access
//! tokens renewed before expiry, an uninstall surfacing as re-authorisation,
//! and a private-app token replacing the environment's without a restart. The
//! current access token is kept sealed too, so a restart uses it instead of
//! renewing at once, and renews it when due.

use std::sync::Arc;
use std::time::Duration;

use sales_agent::accounts::hubspot::{Connection, HubSpotAccount};
use sales_agent::connectors::error::ConnectorError;
use sales_agent::connectors::hubspot::{HubSpot, HubSpotClient};
use sales_agent::connectors::hubspot_auth::{HubSpotApp, HubSpotCredential, HubSpotTokens};
use sales_agent::sandbox::{self, SandboxHandle, SandboxOptions, consent};
use sales_agent::secrets::{KeySettings, Keyring};
use secrecy::SecretString;

use crate::helpers::{TestDb, console_session};
use crate::on_both_backends;
use crate::secrets_at_rest::database_text;

on_both_backends!(
    an_installed_app_is_sealed_at_rest_and_its_renewed_tokens_reach_the_crm,
    the_access_token_is_kept_sealed_and_used_after_a_restart_until_its_renewal_is_due,
    a_private_app_token_entered_later_replaces_the_environments_without_a_restart,
    the_apps_client_secret_still_verifies_webhooks_with_the_oauth_app_configured,
    an_admin_installs_the_app_from_settings_and_leads_then_use_it,
);

const CLIENT_ID: &str = "5f0c8e2a-1b7d-4c3e-9a6f-2d8b4e1c7a90";
const CLIENT_SECRET: &str = "7a3e9c1d-4b6f-4e2a-8d5c-0f1e2d3c4b5a";
const CALLBACK: &str = "http://127.0.0.1:8080/settings/hubspot/callback";
const PAT: &str = "pat-na1-5a1e5d3c-7b2f-4c9e-8d10-0a1b2c3d4e5f";
const KEY: &str = "5b1f0c4e9a7d2b8e3f6a1c0d9e8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b";

fn keyring() -> Arc<Keyring> {
    let settings = KeySettings {
        key: Some(SecretString::from(KEY)),
        key_file: None,
        previous: None,
    };
    Arc::new(
        Keyring::from_settings(&settings)
            .expect("key")
            .expect("keyring"),
    )
}

/// The service's side: a token source for the sandbox's app and its account.
fn account(
    sb: &SandboxHandle,
    env_token: &str,
    margin: Duration,
) -> (HubSpotAccount, HubSpotClient) {
    let http = reqwest::Client::new();
    let app = HubSpotApp {
        client_id: CLIENT_ID.into(),
        client_secret: SecretString::from(CLIENT_SECRET),
        token_url: format!("{}/oauth/v1/token", sb.base_url()),
    };
    let env = HubSpotCredential::PrivateApp(SecretString::from(env_token));
    let tokens =
        Arc::new(HubSpotTokens::new(http.clone(), Some(app), Some(env)).with_margin(margin));
    let auth_url = format!("{}/oauth/authorize", sb.base_url())
        .parse()
        .expect("url");
    let client = HubSpotClient::with_tokens(http, sb.base_url(), tokens.clone());
    (
        HubSpotAccount::new(tokens, Some(keyring()), auth_url),
        client,
    )
}

fn token_calls(sb: &SandboxHandle) -> u64 {
    sb.stats()
        .get("hubspot.oauth.token")
        .map_or(0, |s| s.requests)
}

async fn an_installed_app_is_sealed_at_rest_and_its_renewed_tokens_reach_the_crm(db: TestDb) {
    let store = db.migrated_store().await;
    let sb = sandbox::spawn(SandboxOptions::default()).expect("sandbox");
    let (hubspot, _) = account(&sb, "pat-unused", Duration::ZERO);
    assert!(hubspot.can_install());
    let url = hubspot
        .install_url(CALLBACK, "state-1")
        .expect("install url");
    let callback = consent::click_through(&url, "24681357")
        .await
        .expect("install");
    let q: std::collections::HashMap<String, String> = url::Url::parse(&callback)
        .expect("callback")
        .query_pairs()
        .into_owned()
        .collect();
    assert_eq!(q.get("state").map(String::as_str), Some("state-1"));
    let installed = hubspot
        .tokens
        .exchange_code(&q["code"], CALLBACK)
        .await
        .expect("exchange");
    assert_eq!(installed.portal_id, 24681357);
    let credential = HubSpotCredential::OAuth {
        refresh_token: installed.refresh_token,
        portal_id: installed.portal_id,
    };
    assert_eq!(
        hubspot.save(&store, credential).await.expect("save"),
        Connection::Portal(24681357)
    );

    let stored = database_text(&db);
    for token in sb.issued_tokens() {
        assert!(
            !stored.contains(&token),
            "a HubSpot token in plaintext at rest"
        );
    }

    // After a restart: a fresh token source loads the sealed connection. With
    // a margin as long as the token's life, every call renews first.
    let (restarted, client) = account(&sb, "pat-unused", Duration::from_secs(1800));
    assert_eq!(
        restarted.load(&store).await.expect("load"),
        Connection::Portal(24681357)
    );
    let before = token_calls(&sb);
    client
        .list_owners()
        .await
        .expect("owners with the app's token");
    client.list_owners().await.expect("owners again");
    assert_eq!(token_calls(&sb) - before, 2, "renewed before each call");

    // With the default margin one access token serves both calls.
    let (cached, client) = account(
        &sb,
        "pat-unused",
        sales_agent::connectors::hubspot_auth::DEFAULT_MARGIN,
    );
    cached.load(&store).await.expect("load");
    let before = token_calls(&sb);
    client.list_owners().await.expect("owners");
    client.list_owners().await.expect("owners");
    assert_eq!(token_calls(&sb) - before, 1);

    // Uninstalled at HubSpot: the next renewal says an admin must reconnect.
    let (uninstalled, client) = account(&sb, "pat-unused", Duration::from_secs(1800));
    uninstalled.load(&store).await.expect("load");
    for token in sb.issued_tokens() {
        sb.revoke_refresh_token(&token);
    }
    let error = client.list_owners().await.expect_err("refused");
    assert!(
        matches!(error, ConnectorError::NeedsReauth { .. }),
        "{error:?}"
    );
    sb.stop().await;
}

/// The service's side with renewed access tokens kept in `store`.
fn persisted(
    sb: &SandboxHandle,
    store: &sales_agent::store::Store,
    margin: Duration,
) -> (HubSpotAccount, HubSpotClient) {
    let (account, client) = account(sb, "pat-unused", margin);
    account.tokens.persist_in(store.clone(), keyring());
    (account, client)
}

async fn the_access_token_is_kept_sealed_and_used_after_a_restart_until_its_renewal_is_due(
    db: TestDb,
) {
    use sales_agent::connectors::hubspot_auth::DEFAULT_MARGIN;
    let store = db.migrated_store().await;
    let sb = sandbox::spawn(SandboxOptions::default()).expect("sandbox");
    let (hubspot, client) = persisted(&sb, &store, DEFAULT_MARGIN);
    let url = hubspot.install_url(CALLBACK, "s").expect("install url");
    let callback = consent::click_through(&url, "24681357")
        .await
        .expect("install");
    let code = url::Url::parse(&callback)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    let installed = hubspot
        .tokens
        .exchange_code(&code, CALLBACK)
        .await
        .expect("exchange");
    let credential = HubSpotCredential::OAuth {
        refresh_token: installed.refresh_token,
        portal_id: installed.portal_id,
    };
    hubspot.save(&store, credential).await.expect("save");
    let before = token_calls(&sb);
    client.list_owners().await.expect("owners");
    assert_eq!(token_calls(&sb) - before, 1, "one renewal");
    let kept = store.run(sales_agent::store::grants::list).await.unwrap();
    assert!(
        kept.iter()
            .any(|g| g.provider == "hubspot_access" && g.account == "portal:24681357"),
        "{kept:?}"
    );
    let stored = database_text(&db);
    let issued = sb.issued_tokens();
    assert!(issued.len() >= 2, "refresh and access tokens: {issued:?}");
    for token in &issued {
        assert!(
            !stored.contains(token.as_str()),
            "a HubSpot token in plaintext at rest"
        );
    }

    // After a restart: the kept access token is used, no renewal.
    let (restarted, client) = persisted(&sb, &store, DEFAULT_MARGIN);
    restarted.load(&store).await.expect("load");
    let before = token_calls(&sb);
    client
        .list_owners()
        .await
        .expect("owners with the kept token");
    assert_eq!(token_calls(&sb), before, "no renewal after the restart");

    // Renewal when due still works: with a margin as long as the token's
    // life, the kept token is already due and is renewed before the call.
    let (due, client) = persisted(&sb, &store, Duration::from_secs(1800));
    due.load(&store).await.expect("load");
    let before = token_calls(&sb);
    client.list_owners().await.expect("owners after renewal");
    assert_eq!(token_calls(&sb) - before, 1, "renewed before expiry");
    sb.stop().await;
}

async fn a_private_app_token_entered_later_replaces_the_environments_without_a_restart(db: TestDb) {
    let store = db.migrated_store().await;
    let sb = sandbox::spawn(SandboxOptions::default()).expect("sandbox");
    let (hubspot, client) = account(&sb, "pat-na1-revoked-long-ago", Duration::ZERO);
    assert_eq!(
        hubspot.load(&store).await.expect("load"),
        Connection::Environment
    );
    let error = client
        .list_owners()
        .await
        .expect_err("the environment's token is refused");
    assert!(
        matches!(error, ConnectorError::Unauthorized(_)),
        "{error:?}"
    );
    let entered =
        sales_agent::accounts::hubspot::private_app_token(&format!("  {PAT}\n")).expect("token");
    assert_eq!(
        hubspot
            .save(&store, HubSpotCredential::PrivateApp(entered))
            .await
            .expect("save"),
        Connection::PrivateApp
    );
    client
        .list_owners()
        .await
        .expect("the same client now works");
    assert!(
        !database_text(&db).contains(PAT),
        "the private-app token in plaintext at rest"
    );
    let (restarted, client) = account(&sb, "pat-na1-revoked-long-ago", Duration::ZERO);
    assert_eq!(
        restarted.load(&store).await.expect("load"),
        Connection::PrivateApp
    );
    client.list_owners().await.expect("loaded after a restart");
    sb.stop().await;
}

async fn the_apps_client_secret_still_verifies_webhooks_with_the_oauth_app_configured(db: TestDb) {
    let mut config = crate::helpers::test_config(&db);
    config.connectors.hubspot_client_id = Some(SecretString::from(CLIENT_ID));
    config.connectors.hubspot_client_secret = config.webhook.client_secrets.first().cloned();
    config.secret_keys.key = Some(SecretString::from(KEY));
    let app = crate::helpers::spawn_app_with(config).await;
    let body = crate::helpers::submission("conv-oauth-1", "laura.martinez@brightpath-health.com");
    assert_eq!(app.post_signed(&body).await.status(), 202);
    let forged = crate::helpers::signed_headers(&body, std::time::SystemTime::now(), CLIENT_SECRET);
    assert_eq!(
        app.post_with(&body, &forged).await.status(),
        401,
        "another secret is refused"
    );
    app.stop().await;
}

async fn an_admin_installs_the_app_from_settings_and_leads_then_use_it(db: TestDb) {
    let stack = crate::helpers::spawn_stack_with(
        &db,
        |mut c| {
            let base = c
                .connectors
                .hubspot_base_url
                .as_str()
                .trim_end_matches('/')
                .to_string();
            c.connectors.hubspot_client_id = Some(SecretString::from(CLIENT_ID));
            c.connectors.hubspot_client_secret = Some(SecretString::from(CLIENT_SECRET));
            c.connectors.hubspot_auth_url = format!("{base}/oauth/authorize").parse().expect("url");
            c.connectors.hubspot_token_url = format!("{base}/oauth/v1/token").parse().expect("url");
            c.secret_keys.key = Some(SecretString::from(KEY));
            c
        },
        Default::default(),
    )
    .await;
    let callback_path = "/settings/hubspot/callback";
    let registered = format!("{}{callback_path}", crate::helpers::PUBLIC_URL);
    assert!(
        stack
            .sandbox
            .register_redirect_uri(Some(CLIENT_ID), &registered)
    );
    let store = db.store();
    let (cookie, csrf) = console_session(&store, "admin", "admin:alex").await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let address = &stack.app.address;
    // The settings page lets its *Install* form's redirect reach HubSpot: a
    // browser applies the page's `form-action` to where the POST redirects.
    let page = http
        .get(format!("{address}/settings"))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("settings");
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .expect("csp")
        .to_string();
    let hubspot_origin = url::Url::parse(&stack.sandbox.base_url())
        .expect("sandbox url")
        .origin()
        .ascii_serialization();
    assert!(
        csp.contains(&format!("form-action 'self' {hubspot_origin}")),
        "{csp}"
    );

    let started = http
        .post(format!("{address}/settings/hubspot/connect"))
        .header("cookie", &cookie)
        .header("origin", address.as_str())
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .expect("connect");
    assert_eq!(started.status(), 303);
    let install = started.headers()["location"]
        .to_str()
        .expect("location")
        .to_string();
    let callback = consent::click_through(&install, "24681357")
        .await
        .expect("install page");
    let query = url::Url::parse(&callback)
        .expect("callback")
        .query()
        .unwrap_or_default()
        .to_string();

    // Another admin's session cannot finish this install.
    let (other, _) = console_session(&store, "admin", "admin:alex").await;
    let forged = http
        .get(format!("{address}{callback_path}?{query}"))
        .header("cookie", &other)
        .send()
        .await
        .expect("forged");
    assert_eq!(forged.status(), 403);

    let done = http
        .get(format!("{address}{callback_path}?{query}"))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("callback");
    assert_eq!(
        done.status(),
        303,
        "{}",
        done.text().await.unwrap_or_default()
    );
    let page = http
        .get(format!("{address}/settings"))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("settings");
    let html = page.text().await.expect("html");
    assert!(
        html.contains("app installed in portal 24681357"),
        "settings does not show the portal"
    );

    let before = token_calls(&stack.sandbox);
    stack.answered("laura.martinez@brightpath-health.com").await;
    assert!(
        token_calls(&stack.sandbox) > before,
        "the lead's CRM calls used the app's renewed token"
    );
    let stored = database_text(&db);
    for token in stack.sandbox.issued_tokens() {
        assert!(
            !stored.contains(&token),
            "an issued token in plaintext at rest"
        );
    }
    stack.app.stop().await;
    stack.sandbox.stop().await;
}
