//! One-click unsubscribe (RFC 8058) over real HTTP, on both backends.

use reqwest::Method;
use sales_agent::store::{settings, suppressions};

use crate::helpers::{TestDb, VIEWER_TOKEN, json, spawn_app};
use crate::on_both_backends;

on_both_backends!(the_unsubscribe_post_suppresses_and_the_get_does_not);

async fn the_unsubscribe_post_suppresses_and_the_get_does_not(db: TestDb) {
    let app = spawn_app(&db).await;
    let store = db.store();
    let secret = store.run(settings::unsubscribe_secret).await.unwrap();
    let token = sales_agent::unsubscribe::token_for(&secret, "Ana@Acme.example");
    let url = format!("{}/unsubscribe/{token}", app.address);
    let suppressed = || {
        let store = store.clone();
        async move {
            store
                .run(|c| suppressions::is_suppressed(c, "ana@acme.example"))
                .await
                .unwrap()
        }
    };

    let page = app.client.get(&url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(
        page.text()
            .await
            .unwrap()
            .contains("<form method=\"post\">")
    );
    assert!(!suppressed().await, "GET changes nothing");

    let one_click = || {
        app.client
            .post(&url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body("List-Unsubscribe=One-Click")
            .send()
    };
    let first = one_click().await.unwrap();
    assert_eq!(first.status(), 200, "2xx, no redirect");
    assert!(suppressed().await);
    assert_eq!(
        one_click().await.unwrap().status(),
        200,
        "a repeat is harmless"
    );
    let list = json(
        app.api(Method::GET, "/api/suppressions", Some(VIEWER_TOKEN))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(list["suppressions"].as_array().unwrap().len(), 1);
    assert_eq!(list["suppressions"][0]["source"], "one_click");

    let forged = sales_agent::unsubscribe::token_for("guessed-secret", "boss@acme.example");
    let response = app
        .client
        .post(format!("{}/unsubscribe/{forged}", app.address))
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    let list = json(
        app.api(Method::GET, "/api/suppressions", Some(VIEWER_TOKEN))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        list["suppressions"].as_array().unwrap().len(),
        1,
        "a forged token suppresses nobody"
    );
    app.stop().await;
}
