//! Sign in with Google in a real Chromium, through the sandbox's consent page as
//! a person clicks it: the admin named in the settings lands on the overview as
//! admin and sees who is signed in; a user of another Workspace domain is refused
//! with a page that says why; a colleague of the allowed domain is a viewer and
//! sees no action. Both backends; axe-core on each page of ours.

use super::browser::Browser;
use super::google::{ADMIN, COLLEAGUE, GoogleStack, STRANGER, spawn_google};
use crate::helpers::TestDb;
use crate::on_both_backends;

on_both_backends!(
    an_admin_signs_in_with_google_through_the_consent_page,
    a_user_of_another_domain_is_refused,
    a_colleague_of_the_domain_is_a_viewer_and_sees_no_action
);

/// From the sign-in page, through Google's chooser and consent, as `account`.
async fn sign_in_with_google(browser: &Browser, account: &str, screenshot: Option<&str>) {
    browser.open("/signin").await;
    browser.mark_page().await;
    browser.click("#signin-google").await;
    browser.wait_for_new_page().await;
    assert_eq!(browser.path().await, "/o/oauth2/v2/auth", "at the provider");
    browser
        .click(&format!("input[name=account][value='{account}']"))
        .await;
    if let Some(name) = screenshot {
        browser.screenshot(name).await;
    }
    browser.mark_page().await;
    browser.click("button[name=decision][value=allow]").await;
    browser.wait_for_new_page().await;
}

async fn start(db: &TestDb) -> (GoogleStack, Browser) {
    let stack = spawn_google(db, |_| {}).await;
    let browser = Browser::start(&stack.app.address, db).await;
    assert_eq!(browser.base, stack.public);
    (stack, browser)
}

async fn an_admin_signs_in_with_google_through_the_consent_page(db: TestDb) {
    let (stack, browser) = start(&db).await;
    browser.open("/signin").await;
    assert_eq!(browser.count("#signin-google").await, 1);
    browser.check_page("signin-google").await;

    sign_in_with_google(&browser, ADMIN, Some("google-consent")).await;
    assert_eq!(browser.path().await, "/");
    let who = browser.text("header .who").await;
    assert!(who.contains(&format!("{ADMIN} (admin)")), "{who}");
    browser.check_page("overview-google-admin").await;

    browser.open("/people").await;
    let sessions = browser.text("#sessions").await;
    assert!(
        sessions.contains(ADMIN) && sessions.contains("(you)"),
        "{sessions}"
    );
    assert!(
        browser.count("#name-form").await == 1,
        "an admin may name people"
    );
    browser.check_page("people-admin").await;

    // The sign-in is in the audit log under the person's address.
    let audit = stack
        .app
        .app
        .state
        .store
        .run(|c| sales_agent::store::audit::list_recent(c, None, None, 10))
        .await
        .unwrap();
    assert!(
        audit
            .iter()
            .any(|a| a.action == "console.signed_in" && a.actor == ADMIN),
        "{audit:?}"
    );
    browser.quit().await;
    stack.stop().await;
}

async fn a_user_of_another_domain_is_refused(db: TestDb) {
    let (stack, browser) = start(&db).await;
    sign_in_with_google(&browser, STRANGER, None).await;
    // Sent back to the sign-in page: the code and state leave the address bar.
    assert_eq!(browser.path().await, "/signin");
    let url = browser.driver.current_url().await.unwrap();
    assert!(!url.as_str().contains("code="), "{url}");
    let problem = browser.text("#problem").await;
    assert!(
        problem.contains("not in a domain allowed"),
        "a clear reason: {problem}"
    );
    let cookies = browser.driver.get_all_cookies().await.unwrap();
    assert!(cookies.iter().all(|c| c.name != "sa_console"), "no session");
    browser.check_page("signin-refused-domain").await;
    // Nothing behind the sign-in opens.
    browser.open("/").await;
    assert_eq!(browser.path().await, "/signin");
    browser.quit().await;
    stack.stop().await;
}

async fn a_colleague_of_the_domain_is_a_viewer_and_sees_no_action(db: TestDb) {
    let (stack, browser) = start(&db).await;
    sign_in_with_google(&browser, COLLEAGUE, None).await;
    assert_eq!(browser.path().await, "/");
    let who = browser.text("header .who").await;
    assert!(who.contains(&format!("{COLLEAGUE} (viewer)")), "{who}");
    for page in ["/", "/people", "/settings"] {
        browser.open(page).await;
        assert_eq!(
            browser.count("main form[method=post]").await,
            0,
            "a viewer sees no action on {page}"
        );
    }
    browser.open("/people").await;
    browser.check_page("people-viewer").await;
    browser.quit().await;
    stack.stop().await;
}
