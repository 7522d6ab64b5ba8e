//! The service across outages and restarts: a database that goes away, a process
//! that restarts, several processes migrating at once, readiness.

use std::process::Command;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::{Connection, SqliteConnection};

use crate::helpers::{
    TestDb, json, row_counts, spawn_app, spawn_app_with, submission, test_config,
};
use crate::on_both_backends;

on_both_backends!(
    an_unreachable_database_answers_503_and_stores_nothing,
    several_processes_can_migrate_one_database_at_once,
    readiness_reports_the_database,
);

async fn an_unreachable_database_answers_503_and_stores_nothing(db: TestDb) {
    let mut config = test_config(&db);
    config.db_busy_timeout = Duration::from_millis(300);
    let app = spawn_app_with(config).await;

    // Take the database away: PostgreSQL refuses connections and drops the open
    // ones; SQLite is held locked by another writer.
    let blocker = match &db {
        TestDb::Postgres { name } => {
            db.pg_admin(&format!(
                "ALTER DATABASE {name} ALLOW_CONNECTIONS false; \
                 SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}';"
            ));
            None
        }
        TestDb::Sqlite { .. } => {
            let path = db.url().trim_start_matches("sqlite://").to_string();
            let mut conn = SqliteConnection::establish(&path).unwrap();
            conn.batch_execute(
                "BEGIN EXCLUSIVE; INSERT INTO settings VALUES ('lock', 'x', '2026-01-01', 't');",
            )
            .unwrap();
            Some(conn)
        }
    };

    let response = app
        .post_signed(&submission("conv-down", "ana@acme.example"))
        .await;
    assert_eq!(response.status(), 503);
    assert_eq!(
        json(response).await["error"]["code"],
        "database_unavailable"
    );
    if blocker.is_none() {
        // PostgreSQL is gone, so the service is not ready. (A write-locked SQLite
        // file still serves reads, so readiness holds there.)
        let ready = app
            .client
            .get(format!("{}/readyz", app.address))
            .send()
            .await
            .unwrap();
        assert_eq!(ready.status(), 503);
    }

    // Bring it back: nothing was half-written, and the retry is accepted.
    match blocker {
        Some(mut conn) => conn.batch_execute("ROLLBACK").unwrap(),
        None => {
            if let TestDb::Postgres { name } = &db {
                db.pg_admin(&format!("ALTER DATABASE {name} ALLOW_CONNECTIONS true"));
            }
        }
    }
    assert_eq!(row_counts(&db.store()).await, (0, 0));
    let retry = app
        .post_signed(&submission("conv-down", "ana@acme.example"))
        .await;
    assert_eq!(retry.status(), 202);
    assert_eq!(row_counts(&db.store()).await, (1, 1));
    app.stop().await;
}

async fn several_processes_can_migrate_one_database_at_once(db: TestDb) {
    // Four processes on a fresh database, started together from threads.
    let url = db.url();
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let url = url.clone();
            std::thread::spawn(move || {
                Command::new(env!("CARGO_BIN_EXE_sales-agent"))
                    .arg("migrate")
                    .env("DATABASE_URL", url)
                    .env("RUST_LOG", "warn")
                    .output()
                    .expect("migrate runs")
            })
        })
        .collect();
    for handle in handles {
        let output = handle.join().unwrap();
        assert!(
            output.status.success(),
            "migrate failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    assert!(db.store().is_ready().await.unwrap());
}

async fn readiness_reports_the_database(db: TestDb) {
    let app = spawn_app(&db).await;
    let healthz = app
        .client
        .get(format!("{}/healthz", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(healthz.status(), 200);
    let readyz = app
        .client
        .get(format!("{}/readyz", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(readyz.status(), 200);
    assert_eq!(json(readyz).await["status"], "ready");
    app.stop().await;
}

/// The web actor's shutdown order: a request already in flight is answered, the
/// port stops answering, and the supervisor is stopped after it.
#[actix_web::test]
async fn shutdown_finishes_requests_in_flight_then_stops_the_supervisor() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let db = TestDb::sqlite();
    let app = spawn_app(&db).await;
    let supervisor = app.app.supervisor().clone();
    let port = app.app.port;
    let body = submission("shutdown-1", "inflight@example.com");
    let mut head = format!(
        "POST /webhooks/hubspot HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: {}\r\n",
        body.len()
    );
    for (name, value) in
        crate::helpers::signed_headers(&body, std::time::SystemTime::now(), crate::helpers::SECRET)
    {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let (first, rest) = body.split_at(body.len() / 2);
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(first.as_bytes()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;

    // Shutdown begins while the request's body is still arriving.
    let stopping = actix_web::rt::spawn(app.app.stop());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        supervisor.connected(),
        "the supervisor waits for the requests"
    );
    stream.write_all(rest.as_bytes()).await.unwrap();
    let mut answer = vec![0; 4096];
    let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut answer))
        .await
        .expect("the request in flight is answered")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer[..n]);
    assert!(answer.starts_with("HTTP/1.1 202"), "{answer}");
    drop(stream);

    tokio::time::timeout(Duration::from_secs(30), stopping)
        .await
        .expect("shutdown completes")
        .unwrap();
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "the port no longer answers"
    );
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(!supervisor.connected(), "the supervisor is stopped last");
    let counts = row_counts(&db.store()).await;
    assert_eq!(counts, (1, 1), "the request in flight was committed");
}
