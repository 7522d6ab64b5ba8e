//! What booking writes besides the event, on both backends, against the sandbox
//! over real HTTP: the meeting brief (one Google Doc in the brief folder, in the
//! rep's Drive, shared with the rep only, the prospect's text escaped; found
//! again after a lost answer, never made twice), the HubSpot meeting (one, on
//! the contact and the company), the follow-up task completed, and pilot mode
//! writing none of them.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{Duration, TimeZone, Utc};
use sales_agent::domain::Mode;
use sales_agent::sandbox::{FaultSpec, Phase};
use sales_agent::services::Services;
use sales_agent::steps::StepError;
use sales_agent::steps::booking::brief::{BRIEF_PROPERTY, BriefFacts, ensure_brief};
use sales_agent::steps::booking::meeting::{MeetingFacts, complete_follow_up_task, ensure_meeting};
use sales_agent::steps::once::Fence;
use sales_agent::steps::pilot::NOT_CREATED;
use sales_agent::store::{pilot_writes, settings, side_effects};

use crate::helpers::{Stack, TestDb, seed_workflows, spawn_stack, spawn_stack_with};
use crate::on_both_backends;

on_both_backends!(
    a_brief_is_made_once_in_the_folder_shared_with_the_rep_only,
    a_brief_whose_answer_was_lost_is_found_not_made_again,
    a_brief_folder_open_to_anyone_is_refused,
    without_a_brief_folder_there_is_no_brief,
    a_meeting_is_made_once_on_the_contact_and_the_company,
    booking_completes_the_leads_follow_up_task,
    pilot_mode_records_the_brief_meeting_and_task_and_writes_none,
);

const MAYA: &str = "maya.chen@northwind-analytics.com";
const LAURA: &str = "laura.martinez@brightpath-health.com";
const BRIEFS: &str = "1MeetingBriefsFolder0000000001";
const EVIL: &str = "Hi <script>alert('x')</script>\nSee <a href=\"https://evil.example\">this</a> and https://evil.example/y";

fn facts(workflow_id: &str) -> BriefFacts {
    let start = Utc.with_ymd_and_hms(2026, 12, 8, 15, 0, 0).unwrap();
    BriefFacts {
        workflow_id: workflow_id.into(),
        booking_id: format!("booking-{workflow_id}"),
        rep_email: MAYA.into(),
        rep_name: "Maya Chen".into(),
        contact_name: "Laura Martinez".into(),
        contact_email: LAURA.into(),
        company: Some("BrightPath <Health>".into()),
        message: EVIL.into(),
        conversation_summary: Some("Asked about staffing forecasts in October.".into()),
        intent: "demo".into(),
        assets: vec![(
            "Case study - Mercy Valley Health".into(),
            "https://drive.google.com/file/d/1CaseStudyHealthcareMercyValley1/view".into(),
        )],
        start,
        end: start + Duration::minutes(30),
        time_zone: "America/New_York".into(),
    }
}

fn meeting(workflow_id: &str, brief_link: Option<String>) -> MeetingFacts {
    let start = Utc.with_ymd_and_hms(2026, 12, 8, 15, 0, 0).unwrap();
    MeetingFacts {
        workflow_id: workflow_id.into(),
        booking_id: format!("booking-{workflow_id}"),
        rep_email: MAYA.into(),
        contact_id: "5101".into(),
        company_id: Some("6101".into()),
        owner_id: Some("71001".into()),
        title: "Northwind x BrightPath: demo".into(),
        body: "Booked from the reply.\n<b>not bold</b>".into(),
        start,
        end: start + Duration::minutes(30),
        brief_link,
        event_link: Some("https://www.google.com/calendar/event?eid=abc".into()),
    }
}

fn services(stack: &Stack) -> Arc<Services> {
    stack.app.app.state.engine.clone()
}

async fn booking_workflow(stack: &Stack) -> String {
    seed_workflows(&stack.app.app.state.store, 1)
        .await
        .remove(0)
}

/// The sandbox's Drive files that carry `lead`'s brief property.
fn briefs_of(stack: &Stack, lead: &str) -> Vec<String> {
    stack.sandbox.inspect(|w| {
        w.drive
            .files
            .iter()
            .filter(|f| f.app_properties.get(BRIEF_PROPERTY).map(String::as_str) == Some(lead))
            .map(|f| f.id.clone())
            .collect()
    })
}

fn fault_after(endpoint: &str) -> BTreeMap<String, FaultSpec> {
    BTreeMap::from([(
        endpoint.to_string(),
        FaultSpec {
            error_rate: 1.0,
            error_status: Some(500),
            phase: Phase::After,
            ..FaultSpec::default()
        },
    )])
}

async fn a_brief_is_made_once_in_the_folder_shared_with_the_rep_only(db: TestDb) {
    let stack = spawn_stack(&db).await;
    let services = services(&stack);
    let wf = booking_workflow(&stack).await;
    let fence = Fence::new(&services, &wf, None);
    let first = ensure_brief(fence, &facts("lead-1"))
        .await
        .unwrap()
        .expect("a brief");
    let again = ensure_brief(fence, &facts("lead-1"))
        .await
        .unwrap()
        .expect("a brief");
    assert_eq!(first, again, "a re-run finds the brief");
    assert_eq!(
        briefs_of(&stack, "lead-1"),
        std::slice::from_ref(&first.file_id)
    );
    assert_eq!(
        first.link,
        format!("https://docs.google.com/document/d/{}/edit", first.file_id)
    );
    let (file, upload) = stack.sandbox.inspect(|w| {
        let file = w
            .drive
            .files
            .iter()
            .find(|f| f.id == first.file_id)
            .cloned()
            .unwrap();
        (file, w.drive.uploads[&first.file_id].clone())
    });
    assert_eq!(file.mime_type, "application/vnd.google-apps.document");
    assert_eq!(file.parents, [BRIEFS]);
    assert_eq!(
        upload.owner, MAYA,
        "in the rep's Drive, made with the rep's grant"
    );
    // The prospect's text is text: no script, no link of theirs.
    let html = &upload.content;
    assert!(!html.contains("<script"), "{html}");
    assert!(html.contains("&lt;script&gt;"), "{html}");
    assert!(!html.contains("href=\"https://evil"), "{html}");
    assert!(html.contains("BrightPath &lt;Health&gt;"), "{html}");
    assert!(
        html.contains("A demo of their use case"),
        "the agenda: {html}"
    );
    assert!(html.contains("staffing forecasts in October"), "{html}");
    let text = html_escape::decode_html_entities(html);
    assert!(text.contains("10:00–10:30 (America/New_York"), "{html}");
    // Shared with the rep only.
    let permissions = stack.sandbox.permissions(&first.file_id);
    assert_eq!(permissions.len(), 1, "{permissions:?}");
    assert_eq!(permissions[0].role, "owner");
    assert_eq!(permissions[0].email_address.as_deref(), Some(MAYA));
    assert_eq!(stack.sandbox.stats()["drive.files.create"].requests, 1);
    stack.stop().await;
}

async fn a_brief_whose_answer_was_lost_is_found_not_made_again(db: TestDb) {
    // The upload takes effect, then the answer is a 500: the outcome is unknown.
    let stack = spawn_stack_with(&db, |c| c, fault_after("drive.files.create")).await;
    let services = services(&stack);
    let wf = booking_workflow(&stack).await;
    let fence = Fence::new(&services, &wf, None);
    let brief = ensure_brief(fence, &facts("lead-2"))
        .await
        .unwrap()
        .expect("a brief");
    assert_eq!(
        briefs_of(&stack, "lead-2"),
        std::slice::from_ref(&brief.file_id)
    );
    let creates = &stack.sandbox.stats()["drive.files.create"];
    assert_eq!(
        creates.requests, 1,
        "found by its appProperties, not uploaded again"
    );
    assert_eq!(creates.injected_5xx, 1);
    // A later run reads the ledger.
    stack.sandbox.set_faults(None, BTreeMap::new());
    assert_eq!(
        ensure_brief(fence, &facts("lead-2")).await.unwrap(),
        Some(brief)
    );
    assert_eq!(stack.sandbox.stats()["drive.files.create"].requests, 1);
    stack.stop().await;
}

async fn a_brief_folder_open_to_anyone_is_refused(db: TestDb) {
    let stack = spawn_stack(&db).await;
    stack
        .sandbox
        .sandbox()
        .lock_world()
        .drive
        .permissions
        .insert(
            BRIEFS.into(),
            vec![sales_agent::sandbox::state::Permission {
                id: "anyoneWithLink".into(),
                role: "reader".into(),
                kind: "anyone".into(),
                email_address: None,
                domain: None,
                notified: false,
            }],
        );
    let services = services(&stack);
    let wf = booking_workflow(&stack).await;
    let refused = ensure_brief(Fence::new(&services, &wf, None), &facts("lead-3")).await;
    match refused {
        Err(StepError::Permanent(reason)) => assert!(reason.contains("anyone"), "{reason}"),
        other => panic!("an exposed brief must not be linked: {other:?}"),
    }
    stack.stop().await;
}

async fn without_a_brief_folder_there_is_no_brief(db: TestDb) {
    let stack = spawn_stack_with(
        &db,
        |mut config| {
            config.engine.brief_folder = None;
            config
        },
        BTreeMap::new(),
    )
    .await;
    let services = services(&stack);
    let wf = booking_workflow(&stack).await;
    let brief = ensure_brief(Fence::new(&services, &wf, None), &facts("lead-5")).await;
    assert_eq!(brief.unwrap(), None);
    let stats = stack.sandbox.stats();
    assert!(!stats.contains_key("drive.files.create") && !stats.contains_key("drive.files.list"));
    stack.stop().await;
}

async fn a_meeting_is_made_once_on_the_contact_and_the_company(db: TestDb) {
    let stack = spawn_stack_with(&db, |c| c, fault_after("hubspot.meetings.create")).await;
    let services = services(&stack);
    let wf = booking_workflow(&stack).await;
    let fence = Fence::new(&services, &wf, None);
    let link = Some("https://docs.google.com/document/d/1brief/edit".to_string());
    let id = ensure_meeting(fence, &meeting("lead-4", link.clone()))
        .await
        .unwrap();
    stack.sandbox.set_faults(None, BTreeMap::new());
    let again = ensure_meeting(fence, &meeting("lead-4", link))
        .await
        .unwrap();
    assert_eq!(id, again);
    let meetings = stack.sandbox.crm_objects("meetings");
    assert_eq!(meetings.len(), 1, "a lost answer is reconciled by marker");
    assert_eq!(stack.sandbox.stats()["hubspot.meetings.create"].requests, 1);
    let m = &meetings[0];
    assert_eq!(m.id.to_string(), id);
    let id: u64 = id.parse().unwrap();
    assert_eq!(stack.sandbox.associated("meetings", id, "contacts"), [5101]);
    assert_eq!(
        stack.sandbox.associated("meetings", id, "companies"),
        [6101]
    );
    assert!(
        stack
            .sandbox
            .associated("contacts", 5101, "meetings")
            .contains(&id)
    );
    let p = &m.properties;
    assert_eq!(p["hs_meeting_outcome"], "SCHEDULED");
    assert_eq!(p["hs_meeting_title"], "Northwind x BrightPath: demo");
    assert_eq!(p["hs_meeting_start_time"], "2026-12-08T15:00:00.000Z");
    assert_eq!(p["hs_meeting_end_time"], "2026-12-08T15:30:00.000Z");
    assert_eq!(p["hs_timestamp"], p["hs_meeting_start_time"]);
    assert_eq!(p["hubspot_owner_id"], "71001");
    assert_eq!(
        p["hs_meeting_external_url"],
        "https://www.google.com/calendar/event?eid=abc"
    );
    let body = &p["hs_meeting_body"];
    assert!(body.contains("[sa:op=booking-lead-4:meeting]"), "{body}");
    assert!(
        body.contains("href=\"https://docs.google.com/document/d/1brief/edit\""),
        "{body}"
    );
    assert!(body.contains("&lt;b&gt;not bold&lt;/b&gt;"), "{body}");
    stack.stop().await;
}

async fn booking_completes_the_leads_follow_up_task(db: TestDb) {
    let stack = spawn_stack(&db).await;
    let lead = stack.answered(LAURA).await;
    let services = services(&stack);
    let wf = booking_workflow(&stack).await;
    let tasks = || stack.sandbox.crm_objects("tasks");
    assert_eq!(tasks().len(), 1);
    assert_eq!(tasks()[0].properties["hs_task_status"], "NOT_STARTED");
    let fence = Fence::new(&services, &wf, None);
    complete_follow_up_task(fence, &lead).await.unwrap();
    complete_follow_up_task(fence, &lead).await.unwrap();
    assert_eq!(tasks().len(), 1);
    assert_eq!(tasks()[0].properties["hs_task_status"], "COMPLETED");
    assert_eq!(stack.sandbox.stats()["hubspot.tasks.update"].requests, 2);
    // A workflow that made no task has none to complete.
    complete_follow_up_task(fence, &wf).await.unwrap();
    assert_eq!(stack.sandbox.stats()["hubspot.tasks.update"].requests, 2);
    stack.stop().await;
}

async fn pilot_mode_records_the_brief_meeting_and_task_and_writes_none(db: TestDb) {
    let stack = spawn_stack(&db).await;
    let store = stack.app.app.state.store.clone();
    let services = services(&stack);
    let wf = booking_workflow(&stack).await;
    let lead = booking_workflow(&stack).await;
    let l = lead.clone();
    store
        .run(move |c| {
            settings::set_mode(c, Mode::Pilot, "test")?;
            // The lead's follow-up task, as its record step left it.
            side_effects::plan(
                c,
                &l,
                side_effects::EffectKind::HubspotTask,
                "[sa:op=t:task]",
                None,
            )?;
            side_effects::update(
                c,
                &l,
                side_effects::EffectKind::HubspotTask,
                side_effects::EffectState::Done,
                Some("9999"),
                None,
            )?;
            Ok(())
        })
        .await
        .unwrap();
    let fence = Fence::new(&services, &wf, None);
    assert_eq!(ensure_brief(fence, &facts(&lead)).await.unwrap(), None);
    assert_eq!(
        ensure_meeting(fence, &meeting(&lead, None)).await.unwrap(),
        NOT_CREATED
    );
    complete_follow_up_task(fence, &lead).await.unwrap();
    assert!(briefs_of(&stack, &lead).is_empty());
    assert!(stack.sandbox.crm_objects("meetings").is_empty());
    let stats = stack.sandbox.stats();
    for endpoint in [
        "drive.files.create",
        "hubspot.meetings.create",
        "hubspot.tasks.update",
    ] {
        assert!(
            !stats.contains_key(endpoint),
            "{endpoint} was called in pilot mode"
        );
    }
    let recorded = store
        .run(move |c| pilot_writes::list_for_workflow(c, &wf))
        .await
        .unwrap();
    let mut recorded = recorded;
    recorded.sort_by(|a, b| a.step.cmp(&b.step));
    let endpoints: Vec<&str> = recorded.iter().map(|r| r.endpoint.as_str()).collect();
    assert_eq!(
        endpoints,
        [
            "drive.files.create",
            "hubspot.meetings.create",
            "hubspot.tasks.update"
        ]
    );
    let upload = &recorded[0];
    assert!(
        upload
            .path
            .starts_with("/upload/drive/v3/files?uploadType=multipart"),
        "{}",
        upload.path
    );
    assert!(
        upload
            .message
            .as_deref()
            .unwrap()
            .contains("&lt;script&gt;")
    );
    assert!(recorded[2].path.ends_with("/crm/v3/objects/tasks/9999"));
    stack.stop().await;
}
