//! Reps and the side-effect ledger in the store, on both backends.

use sales_agent::domain::Rep;
use sales_agent::store::side_effects::{self, EffectKind, EffectState};
use sales_agent::store::{now, reps};

use crate::helpers::{TestDb, seed_workflows};
use crate::on_both_backends;

on_both_backends!(
    reps_are_upserted_and_listed_when_active,
    a_planned_side_effect_is_found_again_not_repeated,
    the_cool_down_sees_recent_live_workflows_for_the_address,
);

fn rep(id: &str, zone: &str) -> Rep {
    serde_json::from_value(serde_json::json!({
        "id": id, "name": id.to_uppercase(), "email": format!("{id}@example.com"), "calendar_id": format!("{id}@example.com"),
        "time_zone": zone, "territories": ["de"], "voice": {"sign_off": "Cheers,"},
    }))
    .unwrap()
}

async fn reps_are_upserted_and_listed_when_active(db: TestDb) {
    let store = db.migrated_store().await;
    let listed = store
        .run(|c| {
            reps::upsert(c, &rep("ana", "Europe/Berlin"))?;
            reps::upsert(c, &rep("bo", "America/New_York"))?;
            let mut moved = rep("ana", "Asia/Singapore");
            moved.name = "Ana Moved".into();
            reps::upsert(c, &moved)?;
            let mut away = rep("bo", "America/New_York");
            away.active = false;
            reps::upsert(c, &away)?;
            Ok((reps::list_active(c)?, reps::find_by_id(c, "bo")?))
        })
        .await
        .unwrap();
    let (active, bo) = listed;
    assert_eq!(active.len(), 1);
    assert_eq!(
        (active[0].name.as_str(), active[0].time_zone.as_str()),
        ("Ana Moved", "Asia/Singapore")
    );
    assert_eq!(active[0].voice.sign_off, "Cheers,");
    assert_eq!(active[0].territories, ["de"]);
    assert!(!bo.expect("inactive reps stay stored").active);
}

async fn a_planned_side_effect_is_found_again_not_repeated(db: TestDb) {
    let store = db.migrated_store().await;
    let ids = seed_workflows(&store, 2).await;
    let (first, second) = (ids[0].clone(), ids[1].clone());
    let result = store
        .run(move |c| {
            let key = format!("<sa.{first}.deliver@example.com>");
            let planned = side_effects::plan(
                c,
                &first,
                EffectKind::GmailDraft,
                &key,
                Some("sam@example.com"),
            )?;
            let again = side_effects::plan(c, &first, EffectKind::GmailDraft, "another-key", None)?;
            side_effects::update(
                c,
                &first,
                EffectKind::GmailDraft,
                EffectState::Done,
                Some("draft-1"),
                Some(&serde_json::json!({"thread": "t1"})),
            )?;
            let done = side_effects::find(c, &first, EffectKind::GmailDraft)?.unwrap();
            side_effects::plan(
                c,
                &first,
                EffectKind::GmailSend,
                "send-1",
                Some("sam@example.com"),
            )?;
            side_effects::plan(
                c,
                &second,
                EffectKind::GmailSend,
                "send-2",
                Some("sam@example.com"),
            )?;
            let before_any_send = side_effects::count_sent_since(
                c,
                "sam@example.com",
                now() - chrono::TimeDelta::hours(24),
            )?;
            side_effects::update(
                c,
                &first,
                EffectKind::GmailSend,
                EffectState::Done,
                Some("msg-1"),
                None,
            )?;
            side_effects::update(
                c,
                &second,
                EffectKind::GmailSend,
                EffectState::Unknown,
                None,
                None,
            )?;
            let sent = side_effects::count_sent_since(
                c,
                "sam@example.com",
                now() - chrono::TimeDelta::hours(24),
            )?;
            let other_mailbox = side_effects::count_sent_since(
                c,
                "ana@example.com",
                now() - chrono::TimeDelta::hours(24),
            )?;
            Ok((planned, again, done, before_any_send, sent, other_mailbox))
        })
        .await
        .unwrap();
    let (planned, again, done, before_any_send, sent, other_mailbox) = result;
    assert_eq!(planned.state, EffectState::Planned);
    assert_eq!(
        again, planned,
        "a second plan returns the first row unchanged"
    );
    assert_eq!(done.state, EffectState::Done);
    assert_eq!(done.external_id.as_deref(), Some("draft-1"));
    assert_eq!(done.detail["thread"], "t1");
    assert_eq!(before_any_send, 0, "planned sends are not sends");
    assert_eq!(sent, 2, "done and unknown sends count against the limit");
    assert_eq!(other_mailbox, 0);
}

async fn the_cool_down_sees_recent_live_workflows_for_the_address(db: TestDb) {
    use sales_agent::store::admin_queries::{Request, cancel};
    use sales_agent::store::events::{NewIntake, accept};
    use sales_agent::store::workflows::recent_for_email;

    let store = db.migrated_store().await;
    let found = store
        .run(|c| {
            let mut ids = Vec::new();
            for n in 0..3 {
                let intake = NewIntake {
                    idempotency_key: format!("k{n}"),
                    source: "forms_api".into(),
                    signature_version: "v3".into(),
                    portal_id: None,
                    form_id: None,
                    conversion_id: None,
                    raw_body: "{}".into(),
                    email: "ana@acme.com".into(),
                    submission: "{}".into(),
                };
                ids.push(accept(c, &intake)?.workflow_id);
            }
            cancel(
                c,
                &Request {
                    workflow_id: &ids[1],
                    actor: "admin",
                    reason: "test",
                },
            )
            .map_err(|e| match e {
                sales_agent::store::admin_queries::TransitionError::Store(s) => s,
                other => panic!("{other}"),
            })?;
            let day_ago = now() - chrono::TimeDelta::hours(24);
            let soon = now() + chrono::TimeDelta::hours(1);
            let recent = recent_for_email(c, "ana@acme.com", day_ago, soon, &ids[2])?;
            let later = soon + chrono::TimeDelta::hours(1);
            let future = recent_for_email(c, "ana@acme.com", soon, later, &ids[2])?;
            let before_any = recent_for_email(c, "ana@acme.com", day_ago, day_ago, &ids[2])?;
            assert!(
                before_any.is_empty(),
                "only workflows created before `until` count"
            );
            Ok((ids, recent, future))
        })
        .await
        .unwrap();
    let (ids, recent, future) = found;
    assert_eq!(
        recent,
        vec![ids[0].clone()],
        "itself and the cancelled one do not count"
    );
    assert!(future.is_empty(), "outside the window");
}
