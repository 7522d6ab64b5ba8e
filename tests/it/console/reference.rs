//! The console's API reference in a real Chromium: reached from the navigation,
//! it shows each route with its role, parameters and bodies — the same
//! operations `/api/openapi.json` holds — and passes axe-core.

use super::browser::Browser;
use crate::helpers::{TestDb, VIEWER_TOKEN, spawn_app};
use crate::on_both_backends;

on_both_backends!(a_viewer_reads_the_api_reference_in_the_console);

async fn a_viewer_reads_the_api_reference_in_the_console(db: TestDb) {
    let app = spawn_app(&db).await;
    let operations = app.spec().await.operations();
    let browser = Browser::start(&app.address, &db).await;
    browser.sign_in(VIEWER_TOKEN, "vic").await;

    browser.open("/").await;
    browser
        .click("nav[aria-label=Console] a[href='/reference']")
        .await;
    browser.wait_for_path("/reference").await;
    assert_eq!(
        browser.count("article.operation").await,
        operations.len(),
        "one entry per documented operation"
    );
    let page = browser.text("main").await;
    for (method, path) in &operations {
        assert!(
            page.contains(&format!("{method} {path}")),
            "{method} {path}"
        );
    }
    // A changing route names the admin role, its parameters and its bodies.
    let remove = browser.text("#delete-api-suppressions--email").await;
    assert!(
        remove.contains("DELETE /api/suppressions/{email}"),
        "{remove}"
    );
    let entry = browser
        .text("article[aria-labelledby='delete-api-suppressions--email']")
        .await;
    for expected in [
        "Role: admin",
        "email",
        "reason",
        "204",
        "Unauthorized",
        "Forbidden",
    ] {
        assert!(entry.contains(expected), "{expected} in {entry}");
    }
    let mode = browser
        .text("article[aria-labelledby='put-api-mode']")
        .await;
    assert!(mode.contains("Request body (JSON): ModeChange"), "{mode}");
    assert!(
        browser
            .text("#schema-ModeChange")
            .await
            .contains("ModeChange")
    );
    assert!(page.contains("draft_only"));
    browser.check_page("reference").await;
    browser.quit().await;
    app.stop().await;
}
