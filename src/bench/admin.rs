//! Admin at scale: 1,000,000 workflows (with their events) in a PostgreSQL
//! database; p95 of the workflow list and its filters through the admin API
//! (HTTP, bearer auth, JSON) beside the same query — the same function over the
//! same pool — run bare in the same run. Target: ≤ 2 × bare.

use std::time::Instant;

use chrono::NaiveDateTime;
use diesel::RunQueryDsl;

use super::BenchArgs;
use super::rig::{self, PgDatabase};
use super::stats::{Summary, millis, percentile, verdict};
use crate::sandbox::QuotaConfig;
use crate::store::admin_queries::{WorkflowFilter, list_workflows};
use crate::store::workflows::WorkflowStatus;
use crate::store::{DbConn, Store, StoreError};

const TOKEN: &str = "bench-admin-token";
const REQUESTS_PER_RUN: usize = 100;

pub async fn run(args: &BenchArgs) -> anyhow::Result<()> {
    let rows = args.size.unwrap_or(1_000_000);
    let pg = PgDatabase::create(&args.pg_url, "admin")?;
    let (sandbox, fixture) = rig::sandbox(
        Default::default(),
        QuotaConfig {
            enabled: false,
            ..QuotaConfig::default()
        },
    )?;
    let secret = rig::secret();
    let env = rig::service_env(
        &pg.url,
        &sandbox,
        &fixture,
        &secret,
        &[
            ("SALES_AGENT_RUN_WORKFLOWS", "false"),
            ("SALES_AGENT_ADMIN_TOKEN", TOKEN),
        ],
    )?;
    let app = rig::start_service(&env).await?;
    let store = app.state.store.clone();
    let started = Instant::now();
    store.run(move |c| fill(c, rows)).await?;
    println!(
        "{rows} workflows and events stored in {:.0} s (PostgreSQL); {REQUESTS_PER_RUN} requests per case per run\n",
        started.elapsed().as_secs_f64()
    );
    let at = |s: &str| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").ok();
    let cases: Vec<(&str, String, WorkflowFilter)> = vec![
        ("newest 50", "limit=50".into(), filter(|_| {})),
        (
            "status=dead_lettered",
            "status=dead_lettered&limit=50".into(),
            filter(|f| f.status = Some(WorkflowStatus::DeadLettered)),
        ),
        (
            "email=…",
            "email=lead4242@prospect71.example&limit=50".into(),
            filter(|f| f.email = Some("lead4242@prospect71.example".into())),
        ),
        (
            "from/to one day",
            "from=2026-11-01T00:00:00Z&to=2026-11-02T00:00:00Z&limit=50".into(),
            filter(|f| {
                f.created_from = at("2026-11-01 00:00:00");
                f.created_to = at("2026-11-02 00:00:00");
            }),
        ),
        (
            "status=pending, oldest page",
            "status=pending&to=2026-10-01T00:00:00Z&limit=50".into(),
            filter(|f| {
                f.status = Some(WorkflowStatus::Pending);
                f.created_to = at("2026-10-01 00:00:00");
            }),
        ),
    ];
    let client = reqwest::Client::new();
    for (name, query, filter) in cases {
        let (mut api, mut bare, mut ratios) = (vec![], vec![], vec![]);
        for _ in 0..args.runs {
            let mut api_ms = Vec::with_capacity(REQUESTS_PER_RUN);
            let mut bare_ms = Vec::with_capacity(REQUESTS_PER_RUN);
            for _ in 0..REQUESTS_PER_RUN {
                let t = Instant::now();
                let response = client
                    .get(format!(
                        "http://127.0.0.1:{}/api/workflows?{query}",
                        app.port
                    ))
                    .bearer_auth(TOKEN)
                    .send()
                    .await?;
                anyhow::ensure!(
                    response.status().is_success(),
                    "{name}: {}",
                    response.status()
                );
                let body: serde_json::Value = response.json().await?;
                api_ms.push(millis(t.elapsed()));
                let t = Instant::now();
                let f = filter.clone();
                let loaded = bare_query(&store, f).await?;
                bare_ms.push(millis(t.elapsed()));
                anyhow::ensure!(
                    body["workflows"].as_array().map(Vec::len) == Some(loaded),
                    "{name}: the API and the bare query disagree"
                );
            }
            let (a, b) = (percentile(&api_ms, 95.0), percentile(&bare_ms, 95.0));
            api.push(a);
            bare.push(b);
            ratios.push(a / b);
        }
        let ratio = Summary::of(&ratios);
        println!(
            "{name:<28} API p95 {} ms | bare p95 {} ms | {}",
            Summary::of(&api).show(2),
            Summary::of(&bare).show(2),
            verdict(ratio.median, "≤ 2", ratio.median <= 2.0)
        );
    }
    app.stop().await;
    sandbox.stop().await;
    drop(pg);
    Ok(())
}

fn filter(change: impl FnOnce(&mut WorkflowFilter)) -> WorkflowFilter {
    let mut f = WorkflowFilter {
        limit: 50,
        ..WorkflowFilter::default()
    };
    change(&mut f);
    f
}

async fn bare_query(store: &Store, filter: WorkflowFilter) -> anyhow::Result<usize> {
    Ok(store
        .run(move |c| list_workflows(c, &filter).map(|rows| rows.len()))
        .await?)
}

/// `rows` events and workflows over the last ~80 days, one every 7 s: 90%
/// completed, 4% dead-lettered, 3% skipped, 2% pending, 1% cancelled; 200,000
/// addresses; a submission of a realistic size.
fn fill(conn: &mut DbConn, rows: usize) -> Result<(), StoreError> {
    let DbConn::Postgres(pg) = conn else {
        return Err(StoreError::Unavailable(
            "the admin benchmark needs PostgreSQL".into(),
        ));
    };
    let submission = rig::submission("fill", 0).replace('\'', "''");
    let start = "TIMESTAMP '2026-11-24 00:00:00'";
    diesel::sql_query(format!(
        "INSERT INTO inbound_events (id, idempotency_key, source, signature_version, raw_body, received_at) \
         SELECT 'ev' || i, 'key' || i, 'hubspot', 'v3', '{submission}', {start} - i * INTERVAL '7 seconds' \
         FROM generate_series(1, {rows}) AS i"
    ))
    .execute(pg)?;
    diesel::sql_query(format!(
        "INSERT INTO workflows (id, event_id, idempotency_key, email, submission, status, attempts, \
                                next_run_at, last_error, created_at, updated_at, finished_at) \
         SELECT 'wf' || lpad(i::text, 8, '0'), 'ev' || i, 'key' || i, \
                'lead' || (i % 200000) || '@prospect' || (i % 97) || '.example', '{submission}', \
                CASE WHEN i % 100 < 90 THEN 'completed' WHEN i % 100 < 94 THEN 'dead_lettered' \
                     WHEN i % 100 < 97 THEN 'skipped' WHEN i % 100 < 99 THEN 'pending' ELSE 'cancelled' END, \
                1, {start}, CASE WHEN i % 100 BETWEEN 90 AND 93 THEN 'hubspot: 400 invalid email' END, \
                {start} - i * INTERVAL '7 seconds', {start} - i * INTERVAL '7 seconds', \
                {start} - i * INTERVAL '7 seconds' + INTERVAL '3 seconds' \
         FROM generate_series(1, {rows}) AS i"
    ))
    .execute(pg)?;
    diesel::sql_query("ANALYZE").execute(pg)?;
    Ok(())
}
