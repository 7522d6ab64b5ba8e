//! Admin at scale: 1,000,000 workflows (`fill.rs`) in a PostgreSQL database or
//! a SQLite file (`--backend`); p95 of the workflow list and its filters through
//! the admin API (HTTP, bearer auth, JSON) beside the same query — the same
//! function over the same pool — run bare in the same run (target: ≤ 2 × bare);
//! then the web console's list and detail pages (`console.rs`, target p95 ≤ 50 ms).

use std::time::Instant;

use chrono::NaiveTime;

use super::rig::{self, PgDatabase, SqliteFile};
use super::stats::{Summary, millis, percentile, verdict};
use super::{Backend, BenchArgs, console, fill};
use crate::sandbox::QuotaConfig;
use crate::store::Store;
use crate::store::admin_queries::{WorkflowFilter, list_workflows};
use crate::store::workflows::WorkflowStatus;

const TOKEN: &str = "bench-admin-token";
const REQUESTS_PER_RUN: usize = 100;
const ISO: &str = "%Y-%m-%dT%H:%M:%SZ";

pub async fn run(args: &BenchArgs) -> anyhow::Result<()> {
    let rows = args.size.unwrap_or(1_000_000);
    let (pg, sqlite);
    let database_url = match args.backend {
        Backend::Postgres => {
            pg = PgDatabase::create(&args.pg_url, "admin")?;
            &pg.url
        }
        Backend::Sqlite => {
            sqlite = SqliteFile::create();
            &sqlite.url
        }
    };
    let (sandbox, fixture) = rig::sandbox(
        Default::default(),
        QuotaConfig {
            enabled: false,
            ..QuotaConfig::default()
        },
    )?;
    let secret = rig::secret();
    let env = rig::service_env(
        database_url,
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
    let newest = fill::newest();
    store.run(move |c| fill::fill(c, rows, newest)).await?;
    println!(
        "{rows} workflows with their events, step runs, ledger and audit rows stored in {:.0} s ({:?}); {REQUESTS_PER_RUN} requests per case per run\n",
        started.elapsed().as_secs_f64(),
        args.backend,
    );
    let day = |days: i64| {
        (newest - chrono::TimeDelta::days(days))
            .date()
            .and_time(NaiveTime::MIN)
    };
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
            format!(
                "from={}&to={}&limit=50",
                day(30).format(ISO),
                day(29).format(ISO)
            ),
            filter(|f| {
                f.created_from = Some(day(30));
                f.created_to = Some(day(29));
            }),
        ),
        (
            "status=pending, oldest page",
            format!("status=pending&to={}&limit=50", day(60).format(ISO)),
            filter(|f| {
                f.status = Some(WorkflowStatus::Pending);
                f.created_to = Some(day(60));
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
    console::run(args, &app, newest, rows).await?;
    app.stop().await;
    sandbox.stop().await;
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
