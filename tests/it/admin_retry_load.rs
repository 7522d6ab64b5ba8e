//! Admin retry under load, on both backends: retries that land while other
//! transactions write are never refused as "database unavailable" (SQLite's
//! "database is locked" on a read-then-write transaction is waited out, not
//! returned), and a retried workflow starts a fresh set of attempts.

use diesel::prelude::*;
use reqwest::Method;
use sales_agent::store::events;
use sales_agent::store::schema::workflows;
use serde_json::json;

use crate::helpers::{ADMIN_TOKEN, TestDb, new_intake, seed_workflows, spawn_app};
use crate::on_both_backends;

on_both_backends!(retries_under_concurrent_writes_all_succeed_with_fresh_attempts);

const WORKFLOWS: usize = 40;

async fn retries_under_concurrent_writes_all_succeed_with_fresh_attempts(db: TestDb) {
    let app = spawn_app(&db).await;
    let store = db.store();
    let ids = seed_workflows(&store, WORKFLOWS).await;
    // Dead-lettered after using up every attempt, as the engine leaves them.
    store
        .run(|c| {
            diesel::update(workflows::table)
                .set((
                    workflows::status.eq("dead_lettered"),
                    workflows::attempts.eq(5),
                    workflows::last_error.eq(Some("hubspot: 500")),
                ))
                .execute(c)?;
            Ok(())
        })
        .await
        .unwrap();

    // Other writers keep the database busy meanwhile: intake transactions.
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let store = store.clone();
            tokio::spawn(async move {
                for i in 0..25 {
                    let intake = new_intake(&format!("load:{w}:{i}"), "{}");
                    store
                        .run(move |c| events::accept(c, &intake))
                        .await
                        .expect("intake under load");
                }
            })
        })
        .collect();
    let retries = ids.iter().map(|id| {
        app.api(
            Method::POST,
            &format!("/api/workflows/{id}/retry"),
            Some(ADMIN_TOKEN),
        )
        .json(&json!({"reason": "provider fixed"}))
        .send()
    });
    let answers = futures_util::future::join_all(retries).await;
    for writer in writers {
        writer.await.unwrap();
    }
    let statuses: Vec<u16> = answers
        .into_iter()
        .map(|r| r.unwrap().status().as_u16())
        .collect();
    assert!(
        statuses.iter().all(|s| *s == 200),
        "every retry is accepted: {statuses:?}"
    );

    let rows: Vec<(String, i32)> = store
        .run(|c| {
            Ok(workflows::table
                .select((workflows::status, workflows::attempts))
                .load(c)?)
        })
        .await
        .unwrap();
    let retried: Vec<_> = rows.iter().filter(|(s, _)| s == "pending").collect();
    assert_eq!(retried.len(), WORKFLOWS + 100, "{rows:?}");
    assert!(
        rows.iter().all(|(_, attempts)| *attempts == 0),
        "a retry starts a fresh set of attempts: {rows:?}"
    );
    app.stop().await;
}
