//! An admin's morning in the console: sign in, see the demo's leads, open one
//! and read its 13 steps and draft, approve it (twice, fast: one email), switch
//! draft-only off with a reason and find it in the audit log, see a stale draft's
//! badge, retry a dead
//! letter, edit a voice profile, sign out — with an accessibility check and a screenshot of every page.

use std::time::Duration;

use sales_agent::domain::StaleReason;

use super::browser::Browser;
use super::{audit_of, draft_only};
use crate::helpers::{ADMIN_TOKEN, Stack, TestDb, spawn_stack};
use crate::on_both_backends;

on_both_backends!(an_admin_approves_a_draft_switches_the_mode_and_retries_a_dead_letter);

const DANIEL: &str = "daniel.brooks@summitcare-clinics.com";
const LAURA: &str = "laura.martinez@brightpath-health.com";

/// Messages in any demo rep's Sent folder addressed to `email`.
fn sent_to(stack: &Stack, email: &str) -> usize {
    let world = stack.sandbox.sandbox().lock_world();
    let mailboxes: Vec<String> = world.mailboxes.keys().cloned().collect();
    drop(world);
    mailboxes
        .iter()
        .flat_map(|m| stack.sandbox.sent(m))
        .filter(|m| m.to.iter().any(|t| t.contains(email)))
        .count()
}

async fn an_admin_approves_a_draft_switches_the_mode_and_retries_a_dead_letter(db: TestDb) {
    let stack = spawn_stack(&db).await;
    let store = stack.app.app.state.store.clone();
    let daniel = stack.answered(DANIEL).await;
    // A lead the engine itself dead-letters: its stored submission is unreadable.
    let dead = crate::helpers::seed_workflows(&store, 1).await.remove(0);
    let statuses = stack
        .wait_finished(std::slice::from_ref(&dead), Duration::from_secs(30))
        .await;
    assert_eq!(statuses, ["dead_lettered"]);
    let browser = Browser::start(&stack.app.address, &db).await;

    browser.open("/leads").await;
    assert_eq!(browser.path().await, "/signin", "pages need a session");
    browser.check_page("signin").await;
    browser.sign_in(ADMIN_TOKEN, "maria").await;
    assert!(browser.text("#mode-banner").await.contains("DRAFT-ONLY"));
    assert_eq!(
        browser.count("svg.chart polyline.p50").await,
        1,
        "speed to lead drawn"
    );
    assert!(
        browser.text("#speed-table").await.contains(" 1 "),
        "one lead answered today"
    );
    browser.check_page("overview").await;

    browser.open("/leads").await;
    let list = browser.text("main").await;
    assert!(
        list.contains(DANIEL) && list.contains("Dead-lettered"),
        "{list}"
    );
    browser.check_page("leads").await;

    browser.open(&format!("/leads/{daniel}")).await;
    assert_eq!(browser.count("#steps > li").await, 13, "the 13 steps");
    assert_eq!(
        browser.count("#steps > li.ok").await
            + browser.count("#steps > li.degraded").await
            + browser.count("#steps > li.skipped").await,
        13
    );
    let draft = browser.text(".draft-view").await;
    assert!(
        draft.contains(DANIEL) && draft.contains("Subject"),
        "{draft}"
    );
    browser.check_page("lead").await;

    browser.open("/drafts").await;
    assert!(browser.text("main").await.contains(DANIEL));
    browser.check_page("drafts").await;

    browser.open("/contacts?q=SummitCare").await;
    let found = browser.text("main").await;
    assert!(
        found.contains(DANIEL) && !found.contains("lead-seed-0"),
        "search by company: {found}"
    );
    assert!(found.contains("Daniel"), "the contact's name: {found}");
    browser.check_page("contacts").await;
    browser
        .click(&format!(
            "a[href='/contacts/{}']",
            DANIEL.replace('@', "%40")
        ))
        .await;
    assert!(browser.text("main").await.contains("Completed"));
    assert_eq!(
        browser
            .count(&format!("main a[href='/leads/{daniel}']"))
            .await,
        1
    );
    browser.check_page("contact").await;

    // Approve with a double click: both submissions may reach the server.
    browser.open(&format!("/leads/{daniel}")).await;
    assert_eq!(sent_to(&stack, DANIEL), 0, "draft-only until approved");
    browser.fill("#approve-reason", "checked the slots").await;
    browser.click("#approve-confirm").await;
    browser.mark_page().await;
    browser
        .driver
        .execute(
            "const b = document.getElementById('approve-button'); b.click(); b.click();",
            Vec::new(),
        )
        .await
        .unwrap();
    browser.wait_for_new_page().await;
    let started = std::time::Instant::now();
    loop {
        browser.open(&format!("/leads/{daniel}")).await;
        if browser.text(".verdict").await.contains("· sent") {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "the approval never sent"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(
        browser.count("#approve-form").await,
        0,
        "nothing left to approve"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(sent_to(&stack, DANIEL), 1, "exactly one email");
    assert!(
        browser.text("main").await.contains("admin:maria"),
        "approval audited with the person"
    );

    // A draft the prospect answered first: the badge, and no approval offered.
    let laura = stack.answered(LAURA).await;
    let engine = &stack.app.app.state.engine;
    assert!(
        sales_agent::steps::stale::mark_stale(engine, &laura, StaleReason::ProspectReplied)
            .await
            .unwrap()
    );
    browser.open(&format!("/leads/{laura}")).await;
    assert_eq!(
        browser.text(".badge.stale").await,
        "Stale — the prospect replied"
    );
    assert_eq!(browser.count("#approve-form").await, 0, "never sent");
    browser.check_page("lead-stale").await;
    browser.open("/drafts").await;
    assert!(
        browser
            .text("main")
            .await
            .contains("Stale — the prospect replied")
    );

    browser.open("/settings").await;
    browser.check_page("settings").await;
    browser.click("#mode-send").await;
    browser
        .fill("#mode-reason", "launch day: send directly")
        .await;
    browser.click("#mode-confirm").await;
    browser.submit("#mode-button").await;
    assert_eq!(browser.path().await, "/settings");
    assert!(browser.text("#mode-banner").await.contains("SENDING"));
    let log = browser.text("#audit-log").await;
    assert!(
        log.contains("launch day: send directly")
            && log.contains("mode.set")
            && log.contains("admin:maria"),
        "{log}"
    );
    assert!(!draft_only(&store).await);

    browser.open(&format!("/leads/{dead}")).await;
    browser.fill("#retry-reason", "token renewed").await;
    browser.click("#retry-confirm").await;
    browser.submit("#retry-button").await;
    assert_eq!(browser.path().await, format!("/leads/{dead}"));
    // The retry ran the lead again (its empty submission dead-letters it once more).
    let trail = audit_of(&store, &dead).await;
    assert!(
        trail.iter().any(|a| a.action == "workflow.retry"
            && a.actor == "admin:maria"
            && a.reason.as_deref() == Some("token renewed")),
        "{trail:?}"
    );
    assert!(browser.text("main").await.contains("token renewed"));

    browser.open("/reps").await;
    assert!(
        browser
            .text("main")
            .await
            .contains("maya.chen@northwind-analytics.com")
    );
    browser.check_page("reps").await;
    browser.open("/reps/maya-chen").await;
    browser.check_page("rep").await;
    browser
        .driver
        .execute(
            "const t = document.getElementById('voice-profile'); const p = JSON.parse(t.value);
             p.sign_off = 'Cheers from the console,'; t.value = JSON.stringify(p, null, 2);",
            Vec::new(),
        )
        .await
        .unwrap();
    browser.fill("#voice-reason", "warmer sign-off").await;
    browser.submit("#voice-button").await;
    assert_eq!(browser.path().await, "/reps/maya-chen");
    let stored = store
        .run(|c| sales_agent::store::voice_profiles::find_by_rep(c, "maya-chen"))
        .await
        .unwrap()
        .expect("a stored profile");
    assert_eq!(stored.profile.sign_off, "Cheers from the console,");
    assert_eq!(stored.updated_by, "admin:maria");

    browser.open("/assets").await;
    assert!(
        browser.text("#assets").await.contains("One-pager"),
        "the synced catalogue"
    );
    browser.check_page("assets").await;
    let created = stack
        .app
        .api(reqwest::Method::POST, "/api/experiments", Some(ADMIN_TOKEN))
        .json(&serde_json::json!({"name": "Subject test", "reason": "try a shorter subject",
            "variants": [{"name": "plain", "subject": "Your demo"}, {"name": "short", "subject": "Demo?"}]}))
        .send()
        .await
        .unwrap();
    assert!(created.status().is_success(), "{}", created.status());
    browser.open("/experiments").await;
    browser.check_page("experiments").await;
    browser.click("main a[href^='/experiments/']").await;
    let results = browser.text("main").await;
    assert!(
        results.contains("plain") && results.contains("short") && results.contains("p-value"),
        "{results}"
    );
    browser.check_page("experiment").await;

    let (cookie, _) = browser.credentials().await;
    browser.click("form.who button").await;
    browser.wait_for_path("/signin").await;
    browser.open("/").await;
    assert_eq!(browser.path().await, "/signin", "signed out");
    let old = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(format!("{}/", stack.app.address))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(
        old.status(),
        303,
        "the old cookie no longer works: the session is revoked"
    );

    browser.quit().await;
    stack.stop().await;
}
