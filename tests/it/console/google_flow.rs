//! Sign in with Google over plain HTTP, the consent page clicked by the
//! sandbox's consent driver: the attempt is bound to the browser that started it
//! and used once; the pasted-token sign-in is refused when switched off; an
//! admin names people (which signs them out) and revokes sessions, audited.

use reqwest::header::{COOKIE, LOCATION};
use sales_agent::sandbox::consent;

use super::google::{ADMIN, COLLEAGUE, GoogleStack, spawn_google};
use crate::helpers::{ADMIN_TOKEN, TestDb, cookie};
use crate::on_both_backends;

on_both_backends!(
    a_callback_opens_a_session_only_in_the_browser_that_started_it_and_once,
    the_token_sign_in_is_refused_when_switched_off,
    an_admin_names_people_and_revokes_sessions
);

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn location(response: &reqwest::Response) -> String {
    response.headers()[LOCATION].to_str().unwrap().to_string()
}

/// Starts a sign-in and clicks through consent as `account`: the attempt
/// cookie and the callback URL (on the address the test reaches the service at).
async fn consent_as(stack: &GoogleStack, account: &str) -> (String, String) {
    let page = client()
        .get(format!("{}/signin", stack.app.address))
        .send()
        .await
        .unwrap();
    let csrf = cookie(&page, "sa_signin").expect("the sign-in form's cookie");
    let started = client()
        .post(format!("{}/signin/google", stack.app.address))
        .header(COOKIE, format!("sa_signin={csrf}"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(started.status(), 303);
    let attempt = cookie(&started, "sa_google").expect("the attempt cookie");
    let callback = consent::click_through(&location(&started), account)
        .await
        .expect("consent");
    let callback = callback.replace(&stack.public, &stack.app.address);
    (attempt, callback)
}

/// Fetches the callback with `attempt`; the console cookie when a session opened.
async fn finish(callback: &str, attempt: Option<&str>) -> (String, Option<String>) {
    let mut request = client().get(callback);
    if let Some(attempt) = attempt {
        request = request.header(COOKIE, format!("sa_google={attempt}"));
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), 303);
    (location(&response), cookie(&response, "sa_console"))
}

async fn signed_in(stack: &GoogleStack, account: &str) -> String {
    let (attempt, callback) = consent_as(stack, account).await;
    let (to, session) = finish(&callback, Some(&attempt)).await;
    assert_eq!(to, "/");
    session.expect("a session")
}

/// The status of `/` for a session cookie (200 signed in, 303 to /signin if not).
async fn overview_status(stack: &GoogleStack, session: &str) -> u16 {
    client()
        .get(format!("{}/", stack.app.address))
        .header(COOKIE, format!("sa_console={session}"))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn a_callback_opens_a_session_only_in_the_browser_that_started_it_and_once(db: TestDb) {
    let stack = spawn_google(&db, |_| {}).await;
    let (attempt, callback) = consent_as(&stack, ADMIN).await;
    // Another browser (say, a victim lured to the attacker's callback URL).
    let (to, session) = finish(&callback, None).await;
    assert_eq!(to, "/signin?problem=expired");
    assert!(session.is_none());
    let (to, session) = finish(&callback, Some("f".repeat(64).as_str())).await;
    assert_eq!(to, "/signin?problem=expired");
    assert!(session.is_none());
    // The browser that started it.
    let (to, session) = finish(&callback, Some(&attempt)).await;
    assert_eq!(to, "/");
    assert_eq!(overview_status(&stack, &session.unwrap()).await, 200);
    // Once only.
    let (to, session) = finish(&callback, Some(&attempt)).await;
    assert_eq!(to, "/signin?problem=expired");
    assert!(session.is_none());
    stack.stop().await;
}

async fn the_token_sign_in_is_refused_when_switched_off(db: TestDb) {
    let stack = spawn_google(&db, |access| access.token_signin = false).await;
    let page = client()
        .get(format!("{}/signin", stack.app.address))
        .send()
        .await
        .unwrap();
    let csrf = cookie(&page, "sa_signin").unwrap();
    let html = page.text().await.unwrap();
    assert!(html.contains("signin-google") && !html.contains("token-form"));
    let refused = client()
        .post(format!("{}/signin", stack.app.address))
        .header(COOKIE, format!("sa_signin={csrf}"))
        .form(&[("csrf", csrf.as_str()), ("token", ADMIN_TOKEN)])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    assert!(cookie(&refused, "sa_console").is_none());
    stack.stop().await;
}

async fn an_admin_names_people_and_revokes_sessions(db: TestDb) {
    let stack = spawn_google(&db, |_| {}).await;
    let store = stack.app.app.state.store.clone();
    let colleague = signed_in(&stack, COLLEAGUE).await;
    let admin = signed_in(&stack, ADMIN).await;
    let csrf = store
        .run({
            let admin = admin.clone();
            move |c| sales_agent::store::sessions::find_live(c, &admin)
        })
        .await
        .unwrap()
        .unwrap()
        .csrf_token;
    let post = |path: &str, form: Vec<(&str, String)>| {
        client()
            .post(format!("{}{path}", stack.app.address))
            .header(COOKIE, format!("sa_console={admin}"))
            .form(&form)
            .send()
    };
    // The viewer is made an admin: their viewer session ends.
    let named = post(
        "/people",
        vec![
            ("csrf", csrf.clone()),
            ("email", COLLEAGUE.to_uppercase()),
            ("role", "admin".into()),
        ],
    )
    .await
    .unwrap();
    assert_eq!(named.status(), 303);
    assert_eq!(overview_status(&stack, &colleague).await, 303);
    let again = signed_in(&stack, COLLEAGUE).await;
    let row = store
        .run({
            let again = again.clone();
            move |c| sales_agent::store::sessions::find_live(c, &again)
        })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (row.role.as_str(), row.actor.as_str()),
        ("admin", COLLEAGUE)
    );
    // Revoked from the People page by its stored id.
    let hash = sales_agent::store::sessions::hash_token(&again);
    let revoked = post(
        "/people/sessions/revoke",
        vec![("csrf", csrf.clone()), ("session", hash)],
    )
    .await
    .unwrap();
    assert_eq!(revoked.status(), 303);
    assert_eq!(overview_status(&stack, &again).await, 303);
    assert_eq!(overview_status(&stack, &admin).await, 200);
    // Without the CSRF token nothing changes.
    let forged = post(
        "/people",
        vec![
            ("email", "eve@example.com".into()),
            ("role", "admin".into()),
        ],
    )
    .await
    .unwrap();
    assert_eq!(forged.status(), 403);
    let audit = store
        .run(|c| sales_agent::store::audit::list_recent(c, None, None, 20))
        .await
        .unwrap();
    let actions: Vec<_> = audit
        .iter()
        .filter(|a| a.actor == ADMIN)
        .map(|a| a.action.as_str())
        .collect();
    assert!(
        actions.contains(&"console.user_named") && actions.contains(&"console.session_revoked"),
        "{actions:?}"
    );
    let named = store
        .run(sales_agent::store::console_users::list)
        .await
        .unwrap();
    assert_eq!(named.len(), 1, "eve was not named");
    assert_eq!(
        (named[0].email.as_str(), named[0].added_by.as_str()),
        (COLLEAGUE, ADMIN)
    );
    stack.stop().await;
}
