//! Tokens at rest, on both backends: with `SALES_AGENT_SECRET_KEY` the reps'
//! refresh tokens are sealed into the database and the service works from the
//! sealed copies; no token appears in plaintext anywhere in the database (the raw
//! SQLite files, every PostgreSQL row); a restart without the key refuses to
//! start naming the setting; `sales-agent rotate-key` (the real binary) reseals
//! everything under a new key, after which the old key alone opens nothing.

use std::process::Command;

use diesel::{Connection, PgConnection, QueryableByName, RunQueryDsl, sql_types::Text};
use sales_agent::app::Application;
use sales_agent::config::Config;
use sales_agent::sandbox::SandboxHandle;
use sales_agent::sandbox::fixture::Fixture;
use secrecy::SecretString;

use crate::helpers::{Stack, TestDb, spawn_stack_with, test_config};
use crate::on_both_backends;

on_both_backends!(tokens_are_sealed_at_rest_and_rotate_key_reseals_them);

const KEY_A: &str = "5b1f0c4e9a7d2b8e3f6a1c0d9e8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b";
const KEY_B: &str = "a0b1c2d3e4f5061728394a5b6c7d8e9fa0b1c2d3e4f5061728394a5b6c7d8e9f";

fn with_key(mut config: Config, key: Option<&str>, previous: Option<&str>) -> Config {
    config.secret_keys.key = key.map(SecretString::from);
    config.secret_keys.previous = previous.map(SecretString::from);
    config
}

/// The service's configuration for this sandbox, with the given keys.
fn stack_config(
    db: &TestDb,
    sandbox: &SandboxHandle,
    fixture: &Fixture,
    key: Option<&str>,
    previous: Option<&str>,
) -> Config {
    let config = sales_agent::demo::sandbox_config(test_config(db), &sandbox.base_url(), fixture);
    with_key(config, key, previous)
}

async fn tokens_are_sealed_at_rest_and_rotate_key_reseals_them(db: TestDb) {
    let stack = spawn_stack_with(&db, |c| with_key(c, Some(KEY_A), None), Default::default()).await;
    let tokens: Vec<String> = stack
        .fixture
        .google
        .refresh_tokens
        .iter()
        .filter(|t| !t.revoked)
        .map(|t| t.token.clone())
        .collect();
    assert!(tokens.len() >= 3);
    // The sealed grants are what the service works from: a lead is answered.
    stack.answered("laura.martinez@brightpath-health.com").await;
    let Stack {
        app,
        sandbox,
        fixture,
    } = stack;
    app.stop().await;

    let stored = database_text(&db);
    for token in &tokens {
        assert!(!stored.contains(token.as_str()), "{token} in plaintext");
    }
    let grants = grant_rows(&db).await;
    assert_eq!(grants.len(), tokens.len(), "one sealed grant per mailbox");

    // Without the key the service refuses to start, and says which setting.
    let error = Application::build(stack_config(&db, &sandbox, &fixture, None, None))
        .await
        .err()
        .expect("refuses to start without the key")
        .to_string();
    assert!(error.contains("SALES_AGENT_SECRET_KEY"), "{error}");

    // rotate-key, as an operator runs it: the new key, the old one still opening.
    let output = Command::new(env!("CARGO_BIN_EXE_sales-agent"))
        .arg("rotate-key")
        .env_clear()
        .env("DATABASE_URL", db.url())
        .env("SALES_AGENT_SECRET_KEY", KEY_B)
        .env("SALES_AGENT_SECRET_KEY_PREVIOUS", KEY_A)
        .env("RUST_LOG", "error")
        .output()
        .expect("rotate-key runs");
    let said = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        said.contains(&format!("resealed {0} of {0}", tokens.len())),
        "{said}"
    );
    let rotated = grant_rows(&db).await;
    for (before, after) in grants.iter().zip(&rotated) {
        assert_eq!(before.account, after.account);
        assert_ne!(before.key_id, after.key_id, "under the new key");
        assert_ne!(before.sealed, after.sealed);
    }
    let stored = database_text(&db);
    for token in &tokens {
        assert!(!stored.contains(token.as_str()), "{token} after rotation");
    }

    // The old key alone no longer opens them; the new one alone does, and the
    // service works from them again.
    let error = Application::build(stack_config(&db, &sandbox, &fixture, Some(KEY_A), None))
        .await
        .err()
        .expect("the old key alone opens nothing")
        .to_string();
    assert!(error.contains("SALES_AGENT_SECRET_KEY_PREVIOUS"), "{error}");
    let app = crate::helpers::spawn_app_with({
        let mut config = stack_config(&db, &sandbox, &fixture, Some(KEY_B), None);
        config.engine.run_workflows = true;
        config.engine.quiet_hours = (0, 0);
        config.engine.quiet_weekends = false;
        config
    })
    .await;
    let restarted = Stack {
        app,
        sandbox,
        fixture,
    };
    restarted
        .answered("anna.schmid@rheinwerk-maschinenbau.de")
        .await;
    restarted.stop().await;
}

#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
struct GrantText {
    #[diesel(sql_type = Text)]
    account: String,
    #[diesel(sql_type = Text)]
    key_id: String,
    #[diesel(sql_type = Text)]
    sealed: String,
}

async fn grant_rows(db: &TestDb) -> Vec<GrantText> {
    db.store()
        .run(|c| {
            Ok(diesel::sql_query(
                "SELECT account, key_id, sealed FROM account_grants ORDER BY account",
            )
            .load::<GrantText>(c)?)
        })
        .await
        .unwrap()
}

/// Everything the database holds, as text: the SQLite files byte for byte, or
/// every PostgreSQL table's rows.
pub fn database_text(db: &TestDb) -> String {
    match db {
        TestDb::Sqlite { dir } => std::fs::read_dir(dir)
            .unwrap()
            .map(|f| {
                String::from_utf8_lossy(&std::fs::read(f.unwrap().path()).unwrap()).into_owned()
            })
            .collect(),
        TestDb::Postgres { .. } => {
            #[derive(QueryableByName)]
            struct Row {
                #[diesel(sql_type = Text)]
                text: String,
            }
            let mut pg = PgConnection::establish(&db.url()).unwrap();
            let tables: Vec<Row> = diesel::sql_query(
                "SELECT tablename AS text FROM pg_tables WHERE schemaname = 'public'",
            )
            .load(&mut pg)
            .unwrap();
            tables
                .iter()
                .flat_map(|t| {
                    diesel::sql_query(format!(
                        "SELECT CAST(t AS TEXT) AS text FROM \"{}\" t",
                        t.text
                    ))
                    .load::<Row>(&mut pg)
                    .unwrap()
                })
                .map(|r| r.text)
                .collect::<Vec<_>>()
                .join("\n")
        }
    }
}

#[test]
fn the_database_text_reader_sees_what_is_stored() {
    // The plaintext check above is only as good as this reader: a value written
    // in the clear must be found by it, on both backends.
    actix_web::rt::System::new().block_on(async {
        for db in [TestDb::sqlite(), TestDb::postgres()] {
            let store = db.migrated_store().await;
            let key = sales_agent::secrets::Sealed {
                key_id: "plain".into(),
                data: "visible-token-text".into(),
            };
            store
                .run(move |c| sales_agent::store::grants::put(c, "google", "a@b.example", &key))
                .await
                .unwrap();
            assert!(database_text(&db).contains("visible-token-text"));
        }
    });
}
