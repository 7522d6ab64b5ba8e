//! The asset catalogue over real HTTP on both backends: folders allowlisted in the
//! database (seeded from the configuration, edited through the admin API), files
//! synced from the sandbox's Drive with their tags, admin tags kept across syncs,
//! the reply linking intent-relevant files by their real Drive links only, and the
//! optional share with the prospect made without Drive's notification email.

use std::collections::BTreeMap;

use reqwest::Method;
use sales_agent::assets::is_drive_link;
use sales_agent::sandbox::fixture::DriveFileFixture;
use serde_json::json;

use crate::helpers::{
    ADMIN_TOKEN, Stack, TestDb, VIEWER_TOKEN, json, spawn_stack, spawn_stack_with,
};
use crate::on_both_backends;

on_both_backends!(
    the_catalogue_keeps_admin_tags_and_retires_files_that_left_a_folder,
    the_catalogue_syncs_tagged_files_and_the_reply_links_intent_relevant_ones,
    sharing_grants_the_prospect_read_access_once_without_drive_email,
    a_reader_during_a_sync_sees_the_whole_catalogue_or_none_of_it,
);

const COLLATERAL: &str = "1SalesCollateralFolder000000001";
const DANIEL: &str = "daniel.brooks@summitcare-clinics.com";
const PRICING_FILE: &str = "1PricingGuide2026Current0000001";

/// A current pricing guide tagged on Drive (appProperties), in the collateral folder.
fn add_pricing_guide(stack: &Stack) {
    stack
        .sandbox
        .sandbox()
        .lock_world()
        .drive
        .files
        .push(DriveFileFixture {
            id: PRICING_FILE.into(),
            name: "Pricing guide 2026.pdf".into(),
            mime_type: "application/pdf".into(),
            description: "Plans for teams of every size.".into(),
            parents: vec![COLLATERAL.into()],
            trashed: false,
            text: String::new(),
            properties: BTreeMap::new(),
            app_properties: BTreeMap::from([
                ("intent".to_string(), "pricing".to_string()),
                ("stage".to_string(), "evaluation".to_string()),
            ]),
        });
}

async fn the_catalogue_keeps_admin_tags_and_retires_files_that_left_a_folder(db: TestDb) {
    use sales_agent::assets::Tags;
    use sales_agent::store::assets::{self as catalogue, SyncedFile};
    let store = db.migrated_store().await;
    let file = |id: &str, intent: &str| SyncedFile {
        file_id: id.into(),
        folder_id: "1FolderForCatalogueTest".into(),
        name: format!("{id}.pdf"),
        mime_type: "application/pdf".into(),
        web_view_link: format!("https://drive.google.com/file/d/{id}/view"),
        description: String::new(),
        tags: Tags {
            intent: vec![intent.into()],
            ..Tags::default()
        },
        modified_time: None,
    };
    let (linkable, after) = store
        .run(move |c| {
            let configured = vec!["1FolderForCatalogueTest".to_string()];
            assert_eq!(
                catalogue::folders(c, &configured)?.len(),
                1,
                "seeded from config"
            );
            catalogue::upsert_synced(c, &file("a", "demo"))?;
            catalogue::upsert_synced(c, &file("b", "demo"))?;
            let admin_tags = Tags {
                intent: vec!["pricing".into()],
                ..Tags::default()
            };
            assert!(catalogue::set_tags(c, "a", &admin_tags)?);
            // The next sync sees only "a", with Drive tags of its own.
            catalogue::upsert_synced(c, &file("a", "question"))?;
            let retired =
                catalogue::deactivate_missing(c, "1FolderForCatalogueTest", &["a".into()])?;
            assert_eq!(retired, 1);
            // Removing the seeded folder is not undone by reading the allowlist again.
            catalogue::remove_folder(c, "1FolderForCatalogueTest")?;
            let after = catalogue::folders(c, &configured)?.len();
            // One claim per due sync; a failed sync puts the old time back.
            use catalogue::SyncDue;
            let hour = chrono::TimeDelta::hours(1);
            assert_eq!(catalogue::claim_sync(c, hour)?, SyncDue::First);
            // Only one caller does the first sync; the others wait for it, and a
            // failed first sync frees the claim for the next caller.
            assert_eq!(catalogue::claim_sync(c, hour)?, SyncDue::FirstInProgress);
            catalogue::release_first_sync(c)?;
            assert_eq!(catalogue::claim_sync(c, hour)?, SyncDue::First);
            catalogue::mark_synced(c)?;
            assert_eq!(catalogue::claim_sync(c, hour)?, SyncDue::Fresh);
            let SyncDue::Claimed { previous } = catalogue::claim_sync(c, chrono::TimeDelta::zero())? else {
                panic!("a due sync is claimed");
            };
            assert_eq!(catalogue::claim_sync(c, hour)?, SyncDue::Fresh, "claimed, so fresh for others");
            catalogue::unclaim_sync(c, &previous)?;
            assert!(matches!(catalogue::claim_sync(c, chrono::TimeDelta::zero())?, SyncDue::Claimed { previous: p } if p == previous));
            Ok((catalogue::list(c)?, after))
        })
        .await
        .unwrap();
    let a = linkable.iter().find(|x| x.file_id == "a").unwrap();
    assert_eq!(a.tags.intent, ["pricing"], "the admin's tags survive");
    assert!(a.active && a.tags_edited);
    assert!(!linkable.iter().find(|x| x.file_id == "b").unwrap().active);
    assert_eq!(after, 0);
}

async fn the_catalogue_syncs_tagged_files_and_the_reply_links_intent_relevant_ones(db: TestDb) {
    let stack = spawn_stack(&db).await;
    add_pricing_guide(&stack);
    let admin = |method, path: &str| stack.app.api(method, path, Some(ADMIN_TOKEN));

    let bad_id = admin(Method::POST, "/api/asset-folders")
        .json(&json!({"folder_id": "../etc", "reason": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad_id.status(), 400);
    let as_viewer = stack
        .app
        .api(Method::POST, "/api/assets/sync", Some(VIEWER_TOKEN))
        .send()
        .await
        .unwrap();
    assert_eq!(as_viewer.status(), 403);

    // The configured folder is the allowlist until an admin changes it.
    let folders = json(
        admin(Method::GET, "/api/asset-folders")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(folders["folders"][0]["folder_id"], COLLATERAL);
    let report = json(
        admin(Method::POST, "/api/assets/sync")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(report["folders"], 1, "{report}");

    let listed = json(
        stack
            .app
            .api(Method::GET, "/api/assets", Some(VIEWER_TOKEN))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let assets = listed["assets"].as_array().unwrap();
    let ids: Vec<&str> = assets
        .iter()
        .map(|a| a["file_id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&PRICING_FILE) && ids.contains(&"1CaseStudyHealthcareMercyValley1"));
    assert!(
        !ids.contains(&"1OldPricingSheet2024Trashed0001"),
        "trashed files are not synced"
    );
    assert!(
        !ids.contains(&"1InternalBattlecard000000000001"),
        "other folders are not synced"
    );
    assert!(
        assets
            .iter()
            .all(|a| is_drive_link(a["web_view_link"].as_str().unwrap()))
    );
    let guide = assets
        .iter()
        .find(|a| a["file_id"] == PRICING_FILE)
        .unwrap();
    assert_eq!(guide["tags"]["intent"], json!(["pricing"]));
    assert_eq!(guide["tags"]["stage"], json!(["evaluation"]));

    // An admin's tags survive the next sync.
    let tagged = admin(Method::PUT, "/api/assets/1CaseStudyHealthcareMercyValley1/tags")
        .json(&json!({"tags": {"industry": ["Healthcare", "hospital & health care"], "persona": ["COO"]}, "reason": "tagging"}))
        .send()
        .await
        .unwrap();
    assert_eq!(tagged.status(), 200);
    admin(Method::POST, "/api/assets/sync")
        .send()
        .await
        .unwrap();
    let listed = json(admin(Method::GET, "/api/assets").send().await.unwrap()).await;
    let case = listed["assets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["file_id"] == "1CaseStudyHealthcareMercyValley1")
        .unwrap()
        .clone();
    assert_eq!(
        case["tags"]["industry"],
        json!(["healthcare", "hospital & health care"])
    );
    assert_eq!(case["tags_edited"], true);

    // A pricing question from a clinic group gets the pricing guide, by its Drive link.
    let id = stack.answered(DANIEL).await;
    assert_eq!(stack.step_output(&id, "qualify").await["intent"], "pricing");
    let links = stack.step_output(&id, "select_assets").await;
    let urls: Vec<&str> = links
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["url"].as_str().unwrap())
        .collect();
    let catalogue: Vec<&str> = listed["assets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["web_view_link"].as_str().unwrap())
        .collect();
    assert!(!urls.is_empty());
    assert!(
        urls.iter()
            .all(|u| is_drive_link(u) && catalogue.contains(u)),
        "{urls:?}"
    );
    assert!(
        urls.contains(&format!("https://drive.google.com/file/d/{PRICING_FILE}/view").as_str()),
        "{urls:?}"
    );
    assert!(
        !urls.iter().any(|u| u.contains("PartnerProgram")),
        "{urls:?}"
    );

    // Removing the folder stops its files being linked at once.
    let removed = admin(
        Method::DELETE,
        &format!("/api/asset-folders/{COLLATERAL}?reason=retired"),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(removed.status(), 204);
    let id = stack
        .answered("anna.schmid@rheinwerk-maschinenbau.de")
        .await;
    assert_eq!(stack.step_output(&id, "select_assets").await, json!([]));
    stack.stop().await;
}

async fn sharing_grants_the_prospect_read_access_once_without_drive_email(db: TestDb) {
    let stack = spawn_stack_with(
        &db,
        |mut config| {
            config.engine.asset_share = true;
            config
        },
        Default::default(),
    )
    .await;
    let id = stack.answered(DANIEL).await;
    let links = stack.step_output(&id, "select_assets").await;
    let files: Vec<String> = links
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            let url = l["url"].as_str().unwrap();
            url.trim_start_matches("https://drive.google.com/file/d/")
                .trim_end_matches("/view")
                .to_string()
        })
        .collect();
    assert!(!files.is_empty());
    let engine = stack.app.app.state.engine.clone();
    let daniel_on = |file: &str| -> Vec<sales_agent::sandbox::state::Permission> {
        stack
            .sandbox
            .permissions(file)
            .into_iter()
            .filter(|p| p.email_address.as_deref() == Some(DANIEL))
            .collect()
    };
    for file in &files {
        assert_eq!(
            daniel_on(file).len(),
            1,
            "the step granted access to {file}"
        );
        // One more grant, as a retried step would make it.
        const MAYA: &str = "maya.chen@northwind-analytics.com";
        let (f, mailbox) = (file.clone(), MAYA.to_string());
        engine
            .drive(
                MAYA,
                &sales_agent::connectors::drive::PERMISSIONS_CREATE,
                move |d| {
                    let (f, mailbox) = (f.clone(), mailbox.clone());
                    async move { d.share_with_reader(&mailbox, &f, DANIEL).await }
                },
            )
            .await
            .unwrap();
        let daniel = daniel_on(file);
        assert_eq!(daniel.len(), 1, "{daniel:?}");
        assert_eq!(daniel[0].role, "reader");
        assert!(!daniel[0].notified, "Drive sent no email of its own");
    }
    stack.stop().await;
}

/// A workflow that reads the catalogue while the first sync writes it must not
/// rank a half-written folder: the golden run once linked nothing because the
/// relevant file was not yet stored when another workflow read the rest.
async fn a_reader_during_a_sync_sees_the_whole_catalogue_or_none_of_it(db: TestDb) {
    let stack = spawn_stack(&db).await;
    {
        let mut world = stack.sandbox.sandbox().lock_world();
        for n in 0..300 {
            world.drive.files.push(DriveFileFixture {
                id: format!("1BulkCollateralFile{n:012}"),
                name: format!("Brief {n}.pdf"),
                mime_type: "application/pdf".into(),
                description: String::new(),
                parents: vec![COLLATERAL.into()],
                trashed: false,
                text: String::new(),
                properties: BTreeMap::new(),
                app_properties: BTreeMap::new(),
            });
        }
    }
    let reader = db.migrated_store().await;
    let sync = stack
        .app
        .api(Method::POST, "/api/assets/sync", Some(ADMIN_TOKEN))
        .send();
    let read = async {
        let mut seen = Vec::new();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
        while std::time::Instant::now() < deadline {
            let n = reader
                .run(|c| Ok(sales_agent::store::assets::list_linkable(c)?.len()))
                .await
                .unwrap();
            seen.push(n);
            if n > 300 {
                break;
            }
        }
        seen
    };
    let (synced, seen) = tokio::join!(sync, read);
    let report = json(synced.unwrap()).await;
    let total = report["files"].as_u64().unwrap() as usize;
    assert!(total > 300, "{report}");
    let reads_before = seen.iter().filter(|n| **n == 0).count();
    assert!(reads_before > 0, "the reader started before the sync wrote");
    let partial: Vec<&usize> = seen.iter().filter(|n| **n != 0 && **n != total).collect();
    assert!(
        partial.is_empty(),
        "{} reads saw part of the catalogue: {:?}",
        partial.len(),
        &partial[..partial.len().min(10)]
    );
    stack.stop().await;
}
