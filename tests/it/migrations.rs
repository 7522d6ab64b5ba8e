//! Rollbacks, on both backends: every migration applies, reverts and applies
//! again leaving the same schema; `migrate --to` moves a live database back; and a
//! database migrated by a newer build is refused with what to do.

use std::process::Command;

use diesel::prelude::*;
use diesel::sql_types::Text;
use sales_agent::store::{DbConn, Store, StoreError};

use crate::helpers::TestDb;
use crate::on_both_backends;

on_both_backends!(
    every_migration_reverts_to_the_schema_before_it_and_applies_again,
    a_database_migrated_by_a_newer_build_is_refused_with_what_to_do,
);

#[derive(QueryableByName)]
struct Entry {
    #[diesel(sql_type = Text)]
    entry: String,
}

/// Every table's columns (name, type, nullability) and every index, sorted: what
/// a migration and its revert must agree on.
fn schema(conn: &mut DbConn) -> QueryResult<Vec<String>> {
    let sql = match conn {
        DbConn::Postgres(_) => {
            "SELECT table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable AS entry
               FROM information_schema.columns
              WHERE table_schema = 'public' AND table_name <> '__diesel_schema_migrations'
             UNION ALL
             SELECT 'index ' || indexdef FROM pg_indexes
              WHERE schemaname = 'public' AND tablename <> '__diesel_schema_migrations'
             ORDER BY 1"
        }
        DbConn::Sqlite(_) => {
            "SELECT m.name || '.' || p.name || ' ' || p.type || ' ' || p.\"notnull\" || ' ' || p.pk AS entry
               FROM sqlite_master m JOIN pragma_table_info(m.name) p
              WHERE m.type = 'table' AND m.name NOT LIKE '\\_\\_diesel%' ESCAPE '\\'
                AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\'
             UNION ALL
             SELECT 'index ' || name || ' ON ' || tbl_name || ' ' || sql FROM sqlite_master
              WHERE type = 'index' AND sql IS NOT NULL
             ORDER BY 1"
        }
    };
    let rows: Vec<Entry> = diesel::sql_query(sql).load(conn)?;
    Ok(rows.into_iter().map(|r| r.entry).collect())
}

async fn schema_of(store: &Store) -> Vec<String> {
    store.run(|c| Ok(schema(c)?)).await.expect("schema read")
}

/// The migrations this repository ships for `db`'s backend, as versions, oldest first.
fn versions(db: &TestDb) -> Vec<String> {
    let backend = match db {
        TestDb::Sqlite { .. } => "sqlite",
        TestDb::Postgres { .. } => "postgres",
    };
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(backend);
    let mut versions: Vec<String> = std::fs::read_dir(dir)
        .expect("migrations dir")
        .map(|e| {
            let name = e.expect("entry").file_name().to_string_lossy().into_owned();
            name.split('_')
                .next()
                .unwrap()
                .chars()
                .filter(char::is_ascii_digit)
                .collect()
        })
        .collect();
    versions.sort();
    versions
}

async fn every_migration_reverts_to_the_schema_before_it_and_applies_again(db: TestDb) {
    let store = db.store();
    let versions = versions(&db);
    assert!(versions.len() >= 9, "{versions:?}");
    // Up one at a time, remembering the schema after each.
    let mut after = vec![schema_of(&store).await];
    for version in &versions {
        let moved = store.migrate_to(version).await.expect("up");
        assert_eq!(moved.applied, std::slice::from_ref(version));
        assert!(moved.reverted.is_empty());
        after.push(schema_of(&store).await);
        assert_ne!(
            after[after.len() - 1],
            after[after.len() - 2],
            "{version} changes the schema"
        );
    }
    // Down one at a time: each revert restores the schema before its migration.
    for (i, version) in versions.iter().enumerate().rev() {
        let target = if i == 0 {
            "0".to_string()
        } else {
            versions[i - 1].clone()
        };
        let moved = store.migrate_to(&target).await.expect("down");
        assert_eq!(moved.reverted, std::slice::from_ref(version));
        assert_eq!(schema_of(&store).await, after[i], "reverting {version}");
    }
    assert!(
        schema_of(&store).await.is_empty(),
        "nothing left after reverting all"
    );
    // And up again in one go, to the same schema.
    assert_eq!(store.migrate().await.expect("up again"), versions.len());
    assert_eq!(schema_of(&store).await, after[versions.len()]);
}

async fn a_database_migrated_by_a_newer_build_is_refused_with_what_to_do(db: TestDb) {
    let store = db.migrated_store().await;
    let versions = versions(&db);
    let latest = versions.last().unwrap().clone();
    // The CLI moves the schema back one migration, then forward again.
    let previous = versions[versions.len() - 2].clone();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_sales-agent"))
            .args(args)
            .env("DATABASE_URL", db.url())
            .output()
            .expect("the binary runs")
    };
    let back = run(&["migrate", "--to", &previous]);
    let printed = String::from_utf8_lossy(&back.stdout);
    assert!(
        back.status.success(),
        "{printed} {}",
        String::from_utf8_lossy(&back.stderr)
    );
    assert!(printed.contains(&format!("reverted {latest}")), "{printed}");
    let unknown = run(&["migrate", "--to", "20000101000000"]);
    assert!(!unknown.status.success());
    assert!(
        String::from_utf8_lossy(&unknown.stderr).contains("no migration \"20000101000000\""),
        "{}",
        String::from_utf8_lossy(&unknown.stderr)
    );
    assert_eq!(store.migrate().await.expect("forward again"), 1);

    // A migration this build does not know: a newer one ran here.
    store
        .run(|c| {
            diesel::sql_query(
                "INSERT INTO __diesel_schema_migrations (version) VALUES ('29991231235959')",
            )
            .execute(c)?;
            Ok(())
        })
        .await
        .unwrap();
    let refused = store.migrate().await.expect_err("refused");
    assert!(
        matches!(refused, StoreError::SchemaNewer { .. }),
        "{refused:?}"
    );
    let message = refused.to_string();
    assert!(message.contains("29991231235959"), "{message}");
    assert!(
        message.contains(&format!("migrate --to {latest}")),
        "{message}"
    );
    // The service itself refuses to start on it, saying the same.
    let mut serve = Command::new(env!("CARGO_BIN_EXE_sales-agent"))
        .arg("serve")
        .env("DATABASE_URL", db.url())
        .env("SALES_AGENT_BIND", "127.0.0.1:0")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let status = loop {
        if let Some(status) = serve.try_wait().expect("wait") {
            break status;
        }
        if std::time::Instant::now() > deadline {
            serve.kill().expect("kill");
            panic!("the service started on a schema newer than it knows");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut serve.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(!status.success());
    assert!(
        stderr.contains("a newer sales-agent migrated it"),
        "{stderr}"
    );
}
