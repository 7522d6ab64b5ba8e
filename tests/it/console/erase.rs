//! The contact page's erase button over plain HTTP with real session rows, on
//! both backends: admins see the form and erase with a reason, the confirmation
//! ticked and the session's CSRF token; a viewer sees no form and is refused, as
//! are a missing confirmation, a wrong token and another origin — each changing
//! nothing.

use reqwest::StatusCode;
use sales_agent::store::{Store, audit, suppressions, workflows};

use crate::helpers::{TestDb, console_session, spawn_app, submission};
use crate::on_both_backends;

on_both_backends!(an_admin_erases_a_contact_from_its_page_and_no_one_else_can);

const EMAIL: &str = "ana.ruiz@acme.example";
const PAGE: &str = "/contacts/ana.ruiz%40acme.example";

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn page(address: &str, path: &str, cookie: &str) -> String {
    let response = client()
        .get(format!("{address}{path}"))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    response.text().await.unwrap()
}

async fn erase(
    address: &str,
    cookie: &str,
    fields: &[(&str, &str)],
    origin: Option<&str>,
) -> reqwest::Response {
    let mut request = client()
        .post(format!("{address}{PAGE}/erase"))
        .header("cookie", cookie)
        .form(fields);
    if let Some(origin) = origin {
        request = request.header("origin", origin);
    }
    request.send().await.unwrap()
}

async fn workflows_held(store: &Store) -> i64 {
    store.run(workflows::count).await.unwrap()
}

async fn an_admin_erases_a_contact_from_its_page_and_no_one_else_can(db: TestDb) {
    let app = spawn_app(&db).await;
    let store = app.app.state.store.clone();
    let accepted = app.post_signed(&submission("conv-console", EMAIL)).await;
    assert_eq!(accepted.status(), 202);
    let (admin, admin_csrf) = console_session(&store, "admin", "admin:ada").await;
    let (viewer, viewer_csrf) = console_session(&store, "viewer", "viewer:vic").await;

    let shown = page(&app.address, PAGE, &admin).await;
    assert!(shown.contains(r#"id="erase-form""#), "{shown}");
    assert!(shown.contains(&format!(r#"action="{PAGE}/erase""#)));
    assert!(shown.contains(r#"name="confirm""#) && shown.contains(r#"name="csrf""#));
    assert!(
        !page(&app.address, PAGE, &viewer)
            .await
            .contains("erase-form")
    );

    let reason = ("reason", "asked to be forgotten");
    let refused = [
        (
            "a viewer",
            erase(
                &app.address,
                &viewer,
                &[reason, ("confirm", "yes"), ("csrf", &viewer_csrf)],
                None,
            )
            .await,
        ),
        (
            "no confirmation",
            erase(&app.address, &admin, &[reason, ("csrf", &admin_csrf)], None).await,
        ),
        (
            "a wrong token",
            erase(
                &app.address,
                &admin,
                &[reason, ("confirm", "yes"), ("csrf", "forged")],
                None,
            )
            .await,
        ),
        (
            "another origin",
            erase(
                &app.address,
                &admin,
                &[reason, ("confirm", "yes"), ("csrf", &admin_csrf)],
                Some("https://evil.example"),
            )
            .await,
        ),
    ];
    for (who, response) in refused {
        assert!(
            response.status().is_client_error(),
            "{who}: {}",
            response.status()
        );
    }
    assert_eq!(workflows_held(&store).await, 1, "nothing changed");

    let done = erase(
        &app.address,
        &admin,
        &[reason, ("confirm", "yes"), ("csrf", &admin_csrf)],
        None,
    )
    .await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    assert_eq!(done.headers()["location"], "/contacts?erased=1");
    assert_eq!(workflows_held(&store).await, 0);
    assert!(
        store
            .run(|c| suppressions::is_suppressed(c, EMAIL))
            .await
            .unwrap()
    );
    let entries = store
        .run(|c| audit::list_recent(c, None, None, 50))
        .await
        .unwrap();
    let erased = entries
        .iter()
        .find(|e| e.action == "contact.erased")
        .expect("the erasure is audited");
    assert_eq!(erased.actor, "admin:ada");
    assert!(!erased.detail.contains(EMAIL));
    let listed = page(&app.address, "/contacts?erased=1", &admin).await;
    assert!(listed.contains("erased-notice") && !listed.contains(EMAIL));
    app.stop().await;
}
