//! Backups on both backends, through the binary as an operator runs it: a backup
//! taken while the service runs restores into a new database with every workflow;
//! a restore never writes over a database that holds data, and a backup never
//! overwrites a file.

use std::collections::BTreeSet;
use std::process::{Command, Output};

use diesel::prelude::*;
use sales_agent::store::Store;
use sales_agent::store::schema::workflows;

use crate::helpers::{TestDb, seed_workflows, spawn_app};
use crate::on_both_backends;

on_both_backends!(a_backup_taken_while_the_service_runs_restores_every_workflow);

fn sales_agent(url: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sales-agent"))
        .args(args)
        .env("DATABASE_URL", url)
        .output()
        .expect("the binary runs")
}

fn said(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

async fn workflow_ids(store: &Store) -> BTreeSet<String> {
    store
        .run(|c| Ok(workflows::table.select(workflows::id).load::<String>(c)?))
        .await
        .unwrap()
        .into_iter()
        .collect()
}

/// A fresh database of `db`'s backend.
fn another(db: &TestDb) -> TestDb {
    match db {
        TestDb::Sqlite { .. } => TestDb::sqlite(),
        TestDb::Postgres { .. } => TestDb::postgres(),
    }
}

async fn a_backup_taken_while_the_service_runs_restores_every_workflow(db: TestDb) {
    let app = spawn_app(&db).await;
    let store = app.app.state.store.clone();
    seed_workflows(&store, 40).await;
    let before = workflow_ids(&store).await;
    assert_eq!(before.len(), 40);
    let dir = std::env::temp_dir().join(format!("sa-backup-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("backup.db");
    let file_arg = file.to_str().unwrap();

    let taken = sales_agent(&db.url(), &["backup", file_arg]);
    assert!(taken.status.success(), "{}", said(&taken));
    assert!(std::fs::metadata(&file).unwrap().len() > 0);
    let again = sales_agent(&db.url(), &["backup", file_arg]);
    assert!(!again.status.success());
    assert!(said(&again).contains("exists already"), "{}", said(&again));

    let target = another(&db);
    let restored = sales_agent(&target.url(), &["restore", file_arg]);
    assert!(restored.status.success(), "{}", said(&restored));
    assert!(
        said(&restored).contains("40 workflows"),
        "{}",
        said(&restored)
    );
    let restored_store = target.store();
    assert_eq!(workflow_ids(&restored_store).await, before);
    assert!(
        restored_store.is_ready().await.unwrap(),
        "migrated after restore"
    );

    // The database now holds data: a second restore into it is refused.
    let over = sales_agent(&target.url(), &["restore", file_arg]);
    assert!(!over.status.success());
    assert!(said(&over).contains("not empty"), "{}", said(&over));
    assert_eq!(workflow_ids(&restored_store).await, before);
    app.stop().await;
    let _ = std::fs::remove_dir_all(dir);
}
