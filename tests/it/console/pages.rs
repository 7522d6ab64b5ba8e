//! The management pages in a real Chromium: an admin previews voice training
//! and applies it, exports a profile and imports it back (a bad file gets a
//! clear error), syncs the asset catalogue and edits a file's tags, creates and
//! stops an experiment, searches suppressions and filters leads by rep and
//! intent — each new page and state checked by axe-core and screenshotted.

use super::browser::Browser;
use crate::helpers::{ADMIN_TOKEN, TestDb, spawn_stack};
use crate::on_both_backends;

on_both_backends!(an_admin_trains_imports_tags_syncs_and_runs_an_experiment);

async fn an_admin_trains_imports_tags_syncs_and_runs_an_experiment(db: TestDb) {
    let stack = spawn_stack(&db).await;
    let store = stack.app.app.state.store.clone();
    let daniel = stack.answered("daniel.brooks@summitcare-clinics.com").await;
    let browser = Browser::start(&stack.app.address, &db).await;
    browser.sign_in(ADMIN_TOKEN, "maria").await;
    let stored = |rep: &'static str| {
        let store = store.clone();
        async move {
            store
                .run(move |c| sales_agent::store::voice_profiles::find_by_rep(c, rep))
                .await
                .unwrap()
        }
    };

    // Training: a preview first, nothing stored until applied.
    let before = stored("maya-chen").await.map(|p| (p.source, p.updated_at));
    browser.open("/reps/maya-chen").await;
    browser.submit("#train-button").await;
    assert_eq!(browser.path().await, "/reps/maya-chen/train");
    let summary = browser.text("#train-summary").await;
    assert!(summary.contains("would change"), "{summary}");
    assert!(browser.text("#train-changes").await.contains("Sign off"));
    assert_eq!(
        stored("maya-chen").await.map(|p| (p.source, p.updated_at)),
        before,
        "a preview stores nothing"
    );
    browser.check_page("voice-train").await;
    browser.fill("#apply-reason", "learn Maya's voice").await;
    browser.click("#apply-confirm").await;
    browser.submit("#apply-button").await;
    assert_eq!(browser.path().await, "/reps/maya-chen");
    let trained = stored("maya-chen").await.expect("applied");
    assert_eq!(
        (trained.source.as_str(), trained.updated_by.as_str()),
        ("trained", "admin:maria")
    );
    assert_eq!(
        trained.profile.sign_off, "Best,",
        "Maya's sent mail signs off so"
    );

    // Export downloads the profile in use, in the portable format.
    let (cookie, _) = browser.credentials().await;
    let export = reqwest::Client::new()
        .get(format!("{}/reps/maya-chen/voice.json", stack.app.address))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(export.status(), 200);
    assert!(
        export.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment"),
    );
    let mut file: serde_json::Value = export.json().await.unwrap();
    assert_eq!(file["format"], 1);
    assert_eq!(file["profiles"][0]["rep_id"], "maya-chen");
    assert_eq!(file["profiles"][0]["profile"]["sign_off"], "Best,");

    // Import: an uploaded file is stored; a broken one says what is wrong.
    file["profiles"][0]["profile"]["sign_off"] = "Cheers from the file,".into();
    let path = std::env::temp_dir().join(format!("voice-{}.json", uuid::Uuid::new_v4().simple()));
    std::fs::write(&path, file.to_string()).unwrap();
    browser
        .driver
        .find(thirtyfour::By::Css("#import-file"))
        .await
        .unwrap()
        .send_keys(path.display().to_string())
        .await
        .unwrap();
    browser
        .fill("#import-reason", "restore the approved voice")
        .await;
    browser.submit("#import-button").await;
    assert_eq!(browser.path().await, "/reps/maya-chen");
    let imported = stored("maya-chen").await.expect("imported");
    assert_eq!(imported.profile.sign_off, "Cheers from the file,");
    assert_eq!(imported.source, "import");
    let _ = std::fs::remove_file(&path);
    browser
        .fill("#import-text", "{\"format\": 1, \"profiles\": [")
        .await;
    browser.fill("#import-reason", "try a broken file").await;
    browser.submit("#import-button").await;
    assert!(browser.text("#problem").await.contains("is not JSON"));
    browser.check_page("voice-import-error").await;
    assert_eq!(
        stored("maya-chen").await.unwrap().profile.sign_off,
        "Cheers from the file,",
        "a broken import changes nothing"
    );

    // Assets: sync now, then edit a file's tags (an unknown intent is refused).
    browser.open("/assets").await;
    browser.submit("#sync-button").await;
    assert!(browser.text("#sync-result").await.contains("Synced"));
    assert_ne!(browser.text("#last-sync").await, "never");
    browser
        .click("#assets tbody tr:first-child details summary")
        .await;
    browser.check_page("assets-admin").await;
    browser.fill("#tag-1-intent", "pricing, demo").await;
    browser
        .fill("#tag-1-reason", "used in pricing replies")
        .await;
    browser.submit("#tags-button-1").await;
    assert_eq!(browser.path().await, "/assets");
    let first = browser.text("#assets tbody tr:first-child .tags").await;
    assert!(first.contains("intent: demo, pricing"), "{first}");
    browser
        .click("#assets tbody tr:first-child details summary")
        .await;
    browser.fill("#tag-1-intent", "everything").await;
    browser.fill("#tag-1-reason", "typo").await;
    browser.submit("#tags-button-1").await;
    assert!(browser.text("#problem").await.contains("is not one of"));

    // Experiments: create with two variants, read the results, stop it.
    browser.open("/experiments").await;
    browser.fill("#exp-name", "Shorter subject").await;
    browser.fill("#v1-name", "plain").await;
    browser.fill("#v2-name", "short").await;
    browser.fill("#v2-subject", "Demo?").await;
    browser.fill("#exp-reason", "test a shorter subject").await;
    browser.submit("#experiment-button").await;
    assert_ne!(
        browser.path().await,
        "/experiments",
        "on the new experiment's page"
    );
    assert_eq!(browser.text("#experiment-status").await, "Running");
    let chart = browser.text("#rates-chart").await;
    assert!(
        chart.contains("plain") && chart.contains("short"),
        "a row per variant: {chart}"
    );
    assert_eq!(
        browser.count("#rates-chart line.bar").await,
        0,
        "no rate (nor interval) before anyone is assigned"
    );
    assert_eq!(
        browser
            .text("#rates-table tbody tr:first-child td:nth-child(4)")
            .await,
        "–"
    );
    browser.check_page("experiment-running").await;
    browser.fill("#stop-reason", "enough data").await;
    browser.click("#stop-confirm").await;
    browser.submit("#stop-button").await;
    assert_eq!(browser.text("#experiment-status").await, "Stopped");
    assert_eq!(browser.count("#stop-form").await, 0);

    // Suppressions: search narrows the list.
    for email in ["alice@acme.example", "carol@other.example"] {
        let added = stack
            .app
            .api(
                reqwest::Method::POST,
                "/api/suppressions",
                Some(ADMIN_TOKEN),
            )
            .json(&serde_json::json!({"email": email, "reason": "asked"}))
            .send()
            .await
            .unwrap();
        assert!(added.status().is_success());
    }
    browser.open("/settings").await;
    browser.fill("#supp-search", "acme").await;
    browser.submit("form[role=search] button").await;
    let list = browser.text("#suppressions").await;
    assert!(
        list.contains("alice@acme.example") && !list.contains("carol@other.example"),
        "{list}"
    );
    browser.check_page("settings-search").await;

    // Leads by rep and intent, statuses in words.
    browser.open("/leads?intent=pricing").await;
    let leads = browser.text("#leads-table").await;
    assert!(
        leads.contains("Completed") && !leads.contains("completed "),
        "{leads}"
    );
    browser.check_page("leads-filtered").await;
    browser.open("/leads?intent=support").await;
    assert_eq!(
        browser
            .count(&format!("#leads-table a[href='/leads/{daniel}']"))
            .await,
        0,
        "Daniel asks about pricing, not support"
    );

    browser.open("/settings").await;
    let log = browser.text("#audit-log").await;
    for action in [
        "voice_profile.set",
        "assets.synced",
        "asset.tagged",
        "experiment.created",
        "experiment.stopped",
    ] {
        assert!(log.contains(action), "{action} audited: {log}");
    }
    browser.quit().await;
    stack.stop().await;
}
