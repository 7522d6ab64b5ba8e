//! Intake: signed webhooks per second and p50/p99 latency at concurrency 1, 8 and
//! 64, on SQLite and on PostgreSQL, beside the database's ceiling measured in the
//! same run: bare single-row insert transactions (a body of the same size) through
//! the same pool at the same concurrency. Workflows are not run (an intake-only
//! node), so only intake is measured. Target: intake ≥ 0.8 × ceiling.
//!
//! Also printed, to show what bounds intake: the HTTP floor, `GET /healthz`
//! (no database) through the same client and server at the same concurrency,
//! and the intake's store call alone (a parsed delivery committed by
//! `events::accept` through the same pool, one transaction each, no HTTP and no
//! group commit).

use std::time::{Duration, Instant};

use diesel::RunQueryDsl;
use diesel::connection::Connection;
use futures_util::StreamExt;

use super::BenchArgs;
use super::rig::{self, PgDatabase, SqliteFile};
use super::stats::{Summary, millis, percentile, verdict};
use crate::sandbox::QuotaConfig;
use crate::store::events::{self, NewIntake};
use crate::store::{DbConn, StoreError};

const CONCURRENCY: [usize; 3] = [1, 8, 64];

pub async fn run(args: &BenchArgs) -> anyhow::Result<()> {
    let per_run = args.size.unwrap_or(600);
    println!("{per_run} deliveries (and {per_run} bare inserts) per run; pool of 8 connections\n");
    let sqlite = SqliteFile::create();
    backend("sqlite", &sqlite.url, args, per_run).await?;
    let pg = PgDatabase::create(&args.pg_url, "intake")?;
    backend("postgres", &pg.url, args, per_run).await?;
    Ok(())
}

async fn backend(name: &str, url: &str, args: &BenchArgs, per_run: usize) -> anyhow::Result<()> {
    let (sandbox, fixture) = rig::sandbox(
        Default::default(),
        QuotaConfig {
            enabled: false,
            ..QuotaConfig::default()
        },
    )?;
    let secret = rig::secret();
    let env = rig::service_env(
        url,
        &sandbox,
        &fixture,
        &secret,
        &[("SALES_AGENT_RUN_WORKFLOWS", "false")],
    )?;
    let app = rig::start_service(&env).await?;
    let store = app.state.store.clone();
    store.run(create_ceiling_table).await?;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(128)
        .build()?;
    let body_len = rig::submission("x", 0).len();
    let mut serial = 0usize;
    for concurrency in CONCURRENCY {
        let (mut intake, mut ceiling, mut p50, mut p99, mut c50, mut c99, mut http) =
            (vec![], vec![], vec![], vec![], vec![], vec![], vec![]);
        let (mut alone, mut a50) = (vec![], vec![]);
        for _ in 0..args.runs {
            let tag = format!("i{serial}x");
            serial += 1;
            let port = app.port;
            let (rate, ms) = timed(per_run, concurrency, |n| {
                let (client, secret, body) = (&client, &secret, rig::submission(&tag, n));
                async move { Ok(rig::deliver(client, port, secret, body).await?.1) }
            })
            .await?;
            intake.push(rate);
            p50.push(percentile(&ms, 50.0));
            p99.push(percentile(&ms, 99.0));

            let (rate, ms) = timed(per_run, concurrency, |n| {
                let (store, id) = (&store, format!("{tag}{n}"));
                async move {
                    let started = Instant::now();
                    store.run(move |c| insert_one(c, &id, body_len)).await?;
                    Ok(started.elapsed())
                }
            })
            .await?;
            ceiling.push(rate);
            c50.push(percentile(&ms, 50.0));
            c99.push(percentile(&ms, 99.0));

            let (rate, ms) = timed(per_run, concurrency, |n| {
                let (store, body) = (&store, rig::submission(&format!("{tag}s"), n));
                async move {
                    let submission = crate::intake::parse(body.as_bytes())?;
                    let intake = NewIntake::from_delivery(&submission, body.as_bytes(), "v3");
                    let started = Instant::now();
                    store.run(move |c| events::accept(c, &intake)).await?;
                    Ok(started.elapsed())
                }
            })
            .await?;
            alone.push(rate);
            a50.push(percentile(&ms, 50.0));

            let health = format!("http://127.0.0.1:{port}/healthz");
            let (rate, _) = timed(per_run, concurrency, |_| {
                let (client, health) = (&client, &health);
                async move {
                    let started = Instant::now();
                    client.get(health).send().await?.error_for_status()?;
                    Ok(started.elapsed())
                }
            })
            .await?;
            http.push(rate);
        }
        let (intake, ceiling) = (Summary::of(&intake), Summary::of(&ceiling));
        let ratio = intake.median / ceiling.median;
        println!(
            "{name:<8} c={concurrency:<3} intake {}/s p50 {} ms p99 {} ms | ceiling {}/s p50 {} ms p99 {} ms | HTTP floor {}/s | store call alone {}/s p50 {} ms | {}",
            intake.show(0),
            Summary::of(&p50).show(2),
            Summary::of(&p99).show(2),
            ceiling.show(0),
            Summary::of(&c50).show(2),
            Summary::of(&c99).show(2),
            Summary::of(&http).show(0),
            Summary::of(&alone).show(0),
            Summary::of(&a50).show(2),
            verdict(ratio, "≥ 0.8", ratio >= 0.8)
        );
    }
    app.stop().await;
    sandbox.stop().await;
    Ok(())
}

/// Makes `per_run` calls of `one`, `concurrency` at a time; answers the calls per
/// second and each call's latency (as `one` measured it) in milliseconds.
async fn timed<F, Fut>(
    per_run: usize,
    concurrency: usize,
    one: F,
) -> anyhow::Result<(f64, Vec<f64>)>
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<Duration>>,
{
    let started = Instant::now();
    let latencies: Vec<Duration> = futures_util::stream::iter(0..per_run)
        .map(one)
        .buffer_unordered(concurrency)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<_, _>>()?;
    let rate = per_run as f64 / started.elapsed().as_secs_f64();
    Ok((rate, latencies.into_iter().map(millis).collect()))
}

/// The reference table: an id, a body the size of a delivery, a time.
fn create_ceiling_table(conn: &mut DbConn) -> Result<(), StoreError> {
    let sql = "CREATE TABLE IF NOT EXISTS bench_ceiling \
               (id TEXT PRIMARY KEY, body TEXT NOT NULL, at TIMESTAMP NOT NULL)";
    match conn {
        DbConn::Sqlite(c) => diesel::sql_query(sql).execute(c)?,
        DbConn::Postgres(c) => diesel::sql_query(sql).execute(c)?,
    };
    Ok(())
}

/// One row in its own transaction: what a database does per commit at best.
fn insert_one(conn: &mut DbConn, id: &str, body_len: usize) -> Result<(), StoreError> {
    use diesel::sql_types::{Text, Timestamp};
    let body = "x".repeat(body_len);
    let at = crate::store::now();
    macro_rules! insert {
        ($c:expr) => {
            $c.transaction(|c| {
                diesel::sql_query("INSERT INTO bench_ceiling (id, body, at) VALUES ($1, $2, $3)")
                    .bind::<Text, _>(id)
                    .bind::<Text, _>(&body)
                    .bind::<Timestamp, _>(at)
                    .execute(c)
            })
        };
    }
    match conn {
        DbConn::Sqlite(c) => insert!(c)?,
        DbConn::Postgres(c) => insert!(c)?,
    };
    Ok(())
}
