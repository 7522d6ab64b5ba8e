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
    // The backup opens with every table of the running database, row for row.
    assert_eq!(
        rows_by_table(&restored_store).await,
        rows_by_table(&store).await
    );
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

#[derive(QueryableByName)]
struct TableRows {
    #[diesel(sql_type = diesel::sql_types::Text)]
    name: String,
}

/// Rows of every table of ours, by table.
async fn rows_by_table(store: &Store) -> std::collections::BTreeMap<String, i64> {
    store
        .run(|c| {
            let sql = match c {
                sales_agent::store::DbConn::Sqlite(_) => {
                    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> '__diesel_schema_migrations'"
                }
                sales_agent::store::DbConn::Postgres(_) => {
                    "SELECT table_name::text AS name FROM information_schema.tables WHERE table_schema = 'public' AND table_name <> '__diesel_schema_migrations'"
                }
            };
            let tables: Vec<TableRows> = diesel::sql_query(sql).load(c)?;
            let mut counts = std::collections::BTreeMap::new();
            for t in tables {
                #[derive(QueryableByName)]
                struct N {
                    #[diesel(sql_type = diesel::sql_types::BigInt)]
                    n: i64,
                }
                let n: N = diesel::sql_query(format!("SELECT count(*) AS n FROM \"{}\"", t.name))
                    .get_result(c)?;
                counts.insert(t.name, n.n);
            }
            Ok(counts)
        })
        .await
        .unwrap()
}

/// Moving from SQLite to PostgreSQL through the binary, as the runbook says:
/// every table's rows arrive, a lead reads the same through the API, new rows
/// take ids after the copied ones, and a second copy into the now full database
/// (or a copy from PostgreSQL) is refused.
#[actix_web::test]
async fn copy_moves_a_sqlite_database_into_an_empty_postgresql_one() {
    use crate::helpers::{ADMIN_TOKEN, json, spawn_stack};
    let sqlite = TestDb::sqlite();
    let stack = spawn_stack(&sqlite).await;
    let leads = [
        stack.answered("daniel.brooks@summitcare-clinics.com").await,
        stack
            .answered("anna.schmid@rheinwerk-maschinenbau.de")
            .await,
    ];
    let detail = async |app: &crate::helpers::TestApp, id: &str| {
        app.api(
            reqwest::Method::GET,
            &format!("/api/workflows/{id}"),
            Some(ADMIN_TOKEN),
        )
        .send()
        .await
    };
    let mut before = Vec::new();
    for id in &leads {
        before.push(json(detail(&stack.app, id).await.unwrap()).await);
    }
    stack.stop().await;
    let source_rows = rows_by_table(&sqlite.store()).await;
    assert!(
        source_rows.values().filter(|n| **n > 0).count() >= 10,
        "the leads filled many tables: {source_rows:?}"
    );

    let postgres = TestDb::postgres();
    let copied = sales_agent(&sqlite.url(), &["copy", "--to", &postgres.url()]);
    assert!(copied.status.success(), "{}", said(&copied));
    let target_rows = rows_by_table(&postgres.store()).await;
    assert_eq!(target_rows, source_rows);

    let app = crate::helpers::spawn_app(&postgres).await;
    for (id, was) in leads.iter().zip(&before) {
        assert_eq!(&json(detail(&app, id).await.unwrap()).await, was);
    }
    // The audit log's ids go on after the copied ones.
    let switched = app
        .api(reqwest::Method::PUT, "/api/mode", Some(ADMIN_TOKEN))
        .json(&serde_json::json!({"draft_only": true, "reason": "after the move"}))
        .send()
        .await
        .unwrap();
    assert_eq!(switched.status(), 200);
    app.stop().await;

    let again = sales_agent(&sqlite.url(), &["copy", "--to", &postgres.url()]);
    assert!(!again.status.success());
    assert!(said(&again).contains("not empty"), "{}", said(&again));
    let backwards = sales_agent(
        &postgres.url(),
        &["copy", "--to", &TestDb::postgres().url()],
    );
    assert!(!backwards.status.success());
    assert!(
        said(&backwards).contains("must be a SQLite"),
        "{}",
        said(&backwards)
    );
}
