//! What every benchmark stands on: the sandbox, the service wired to it (in this
//! process, or as a `sales-agent serve` child when its memory is measured), signed
//! webhook deliveries, and a private PostgreSQL database dropped afterwards.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

use diesel::{Connection, PgConnection, RunQueryDsl};

use crate::app::{Application, RunningApp};
use crate::config::Config;
use crate::intake::signature::{sign_v3, unix_millis};
use crate::sandbox::faults::FaultSpec;
use crate::sandbox::fixture::Fixture;
use crate::sandbox::{QuotaConfig, SandboxHandle, SandboxOptions, spawn};

pub const PUBLIC_URL: &str = "https://bench.sales-agent.local";
const COUNTRIES: [&str; 3] = ["United States", "Germany", "Singapore"];

/// A database `bench_<what>_<pid>` on the given server, dropped on drop.
pub struct PgDatabase {
    admin_url: String,
    name: String,
    pub url: String,
}

impl PgDatabase {
    pub fn create(admin_url: &str, what: &str) -> anyhow::Result<Self> {
        let name = format!("bench_{what}_{}", std::process::id());
        let mut admin = PgConnection::establish(admin_url)?;
        diesel::sql_query(format!("DROP DATABASE IF EXISTS {name}")).execute(&mut admin)?;
        diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut admin)?;
        let mut url = url::Url::parse(admin_url)?;
        url.set_path(&name);
        Ok(PgDatabase {
            admin_url: admin_url.to_string(),
            name,
            url: url.to_string(),
        })
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let dropped = PgConnection::establish(&self.admin_url)
            .map_err(|e| e.to_string())
            .and_then(|mut admin| {
                diesel::sql_query(format!(
                    "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                    self.name
                ))
                .execute(&mut admin)
                .map_err(|e| e.to_string())
            });
        if let Err(e) = dropped {
            eprintln!("could not drop database {}: {e}", self.name);
        }
    }
}

/// A fresh SQLite file in its own temporary folder (removed on drop).
pub struct SqliteFile {
    dir: PathBuf,
    pub url: String,
}

impl SqliteFile {
    pub fn create() -> Self {
        let dir = scratch_dir("sqlite");
        let url = format!("sqlite://{}", dir.join("bench.db").display());
        SqliteFile { dir, url }
    }
}

impl Drop for SqliteFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

pub fn scratch_dir(what: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("sa-bench-{what}-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("a temporary folder");
    dir
}

/// The sandbox on the demo fixture, with faults and quotas as the benchmark says.
pub fn sandbox(
    faults: BTreeMap<String, FaultSpec>,
    quotas: QuotaConfig,
) -> anyhow::Result<(SandboxHandle, Fixture)> {
    let fixture = Fixture::demo();
    let sandbox = spawn(SandboxOptions {
        fixture: Some(fixture.clone()),
        faults,
        quotas: Some(quotas),
        ..SandboxOptions::default()
    })?;
    Ok((sandbox, fixture))
}

/// Every endpoint answering after `latency`.
pub fn latency(latency: Duration) -> BTreeMap<String, FaultSpec> {
    BTreeMap::from([(
        "*".to_string(),
        FaultSpec {
            latency_ms: latency.as_millis() as u64,
            ..FaultSpec::default()
        },
    )])
}

/// The service's settings as variables: the database, the sandbox and its
/// credentials, the fixture's reps, a signing secret, and `extra` on top.
pub fn service_env(
    database_url: &str,
    sandbox: &SandboxHandle,
    fixture: &Fixture,
    secret: &str,
    extra: &[(&str, &str)],
) -> anyhow::Result<BTreeMap<String, String>> {
    let dir = scratch_dir("reps");
    let reps_file = dir.join("reps.json");
    let reps = crate::demo::reps_from_fixture(fixture);
    std::fs::write(&reps_file, serde_json::json!({ "reps": reps }).to_string())?;
    let mut env = crate::demo::sandbox_env(&sandbox.base_url(), fixture);
    for (name, value) in [
        ("DATABASE_URL", database_url),
        ("SALES_AGENT_BIND", "127.0.0.1:0"),
        ("SALES_AGENT_PUBLIC_URL", PUBLIC_URL),
        ("SALES_AGENT_HUBSPOT_CLIENT_SECRET", secret),
        ("SALES_AGENT_REPS_FILE", &reps_file.display().to_string()),
        ("SALES_AGENT_SUPERVISOR_POLL_SECS", "1"),
        ("SALES_AGENT_QUIET_HOURS", "0-0"),
        ("SALES_AGENT_QUIET_WEEKENDS", "false"),
        ("SALES_AGENT_COOL_DOWN_HOURS", "0"),
        ("RUST_LOG", "error"),
    ]
    .into_iter()
    .chain(extra.iter().copied())
    {
        env.insert(name.to_string(), value.to_string());
    }
    Ok(env)
}

/// The service in this process, configured from `env`.
pub async fn start_service(env: &BTreeMap<String, String>) -> anyhow::Result<RunningApp> {
    let config = Config::from_lookup(|name| env.get(name).cloned())?;
    Ok(Application::build(config).await?.spawn())
}

/// A form submission in the Forms API shape; `n` makes it (and its address) unique.
pub fn submission(tag: &str, n: usize) -> String {
    serde_json::json!({
        "portalId": 24681357, "formGuid": "bench", "conversionId": format!("{tag}-{n}"),
        "submittedAt": unix_millis(SystemTime::now()),
        "values": [
            {"name": "email", "value": format!("{tag}{n}@prospect{}.example", n % 97)},
            {"name": "firstname", "value": format!("Lead{n}")},
            {"name": "company", "value": "Prospect Co"},
            {"name": "country", "value": COUNTRIES[n % 3]},
            {"name": "message", "value": "Could we get a demo of your forecasting?"}
        ]
    })
    .to_string()
}

/// Posts `body` to the webhook signed as HubSpot would; the workflow id and how
/// long the answer took, or why it was refused.
pub async fn deliver(
    client: &reqwest::Client,
    port: u16,
    secret: &str,
    body: String,
) -> anyhow::Result<(String, Duration)> {
    let ts = unix_millis(SystemTime::now());
    let signature = sign_v3(
        secret,
        "POST",
        &format!("{PUBLIC_URL}/webhooks/hubspot"),
        body.as_bytes(),
        ts,
    );
    let started = Instant::now();
    let response = client
        .post(format!("http://127.0.0.1:{port}/webhooks/hubspot"))
        .header("content-type", "application/json")
        .header("X-HubSpot-Signature-v3", signature)
        .header("X-HubSpot-Request-Timestamp", ts.to_string())
        .body(body)
        .send()
        .await?;
    let status = response.status();
    let answer: serde_json::Value = response.json().await?;
    let took = started.elapsed();
    anyhow::ensure!(status.is_success(), "webhook answered {status}: {answer}");
    Ok((
        answer["workflow_id"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        took,
    ))
}

/// [`deliver`], sent again after a connection error as HubSpot would (a busy
/// server may close a kept-alive connection as the request goes out).
pub async fn deliver_retrying(
    client: &reqwest::Client,
    port: u16,
    secret: &str,
    body: String,
) -> anyhow::Result<(String, Duration)> {
    let mut tries = 0;
    loop {
        tries += 1;
        match deliver(client, port, secret, body.clone()).await {
            Err(e) if tries < 5 && e.downcast_ref::<reqwest::Error>().is_some() => {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            answered => return answered,
        }
    }
}

/// Posts `submissions` signed submissions tagged `tag`, spread over `ports` (16
/// at a time, each retried on a connection error), then waits until every
/// workflow has finished; the workflows per status. Fails after `deadline`.
pub async fn deliver_and_finish(
    ports: &[u16],
    secret: &str,
    tag: &str,
    submissions: usize,
    store: &crate::store::Store,
    deadline: Duration,
) -> anyhow::Result<BTreeMap<String, i64>> {
    use futures_util::StreamExt;
    let started = Instant::now();
    let client = reqwest::Client::new();
    let accepted: Vec<_> = futures_util::stream::iter(0..submissions)
        .map(|n| {
            let port = ports[n % ports.len()];
            deliver_retrying(&client, port, secret, submission(tag, n))
        })
        .buffer_unordered(16)
        .collect()
        .await;
    for a in accepted {
        a?;
    }
    loop {
        let counts = status_counts(store).await?;
        if all_finished(&counts, submissions) {
            return Ok(counts);
        }
        anyhow::ensure!(
            started.elapsed() < deadline,
            "unfinished after {} s: {counts:?}",
            deadline.as_secs()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Requests the sandbox answered, summed over endpoints whose name starts with `prefix`.
pub fn requests(sandbox: &SandboxHandle, prefix: &str) -> (u64, u64) {
    sandbox
        .stats()
        .iter()
        .filter(|(name, _)| name.starts_with(prefix))
        .fold((0, 0), |(requests, refused), (_, s)| {
            (requests + s.requests, refused + s.sent_429s)
        })
}

pub fn secret() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// Workflows per status.
pub async fn status_counts(store: &crate::store::Store) -> anyhow::Result<BTreeMap<String, i64>> {
    use crate::store::schema::workflows;
    use diesel::prelude::*;
    let rows: Vec<(String, i64)> = store
        .run(|c| {
            Ok(workflows::table
                .group_by(workflows::status)
                .select((workflows::status, diesel::dsl::count_star()))
                .load(c)?)
        })
        .await?;
    Ok(rows.into_iter().collect())
}

/// Whether every one of `expected` workflows has finished, by the counts.
pub fn all_finished(counts: &BTreeMap<String, i64>, expected: usize) -> bool {
    use crate::store::workflows::WorkflowStatus;
    let total: i64 = counts.values().sum();
    let unfinished: i64 = WorkflowStatus::UNFINISHED
        .iter()
        .map(|s| counts.get(s.as_str()).copied().unwrap_or(0))
        .sum();
    total as usize >= expected && unfinished == 0
}
