//! Crash tests with real child processes: the service runs as `sales-agent serve`
//! against an in-process sandbox and is killed with SIGKILL at random moments while
//! 200 workflows run, then restarted. Afterwards every workflow has finished or
//! been dead-lettered with a reason, and the sandbox — the outside world — holds
//! exactly one draft, one note and one task per answered workflow.

use std::collections::{BTreeMap, BTreeSet};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use futures_util::StreamExt;
use sales_agent::sandbox::faults::FaultSpec;
use sales_agent::sandbox::fixture::Fixture;
use sales_agent::sandbox::{QuotaConfig, SandboxHandle, SandboxOptions, spawn};
use sales_agent::store::Store;

use crate::helpers::{SECRET, TestDb, signed_headers};
use crate::on_both_backends;

on_both_backends!(
    sigkills_lose_nothing_and_repeat_nothing,
    sigkills_under_api_faults_lose_nothing_and_repeat_nothing
);

const WORKFLOWS: usize = 200;
const KILLS: usize = 10;
const COUNTRIES: [&str; 3] = ["United States", "Germany", "Singapore"];

async fn sigkills_lose_nothing_and_repeat_nothing(db: TestDb) {
    crash_run(db, BTreeMap::new()).await;
}

async fn sigkills_under_api_faults_lose_nothing_and_repeat_nothing(db: TestDb) {
    let faults = BTreeMap::from([(
        "*".to_string(),
        FaultSpec {
            error_rate: 0.3,
            error_status: Some(503),
            rate_limit_rate: 0.05,
            rate_limit_burst: 3,
            retry_after: Some(1),
            ..FaultSpec::default()
        },
    )]);
    crash_run(db, faults).await;
}

/// A sandbox of the demo fixture with quotas off (client limits are lifted too),
/// and a folder holding the reps file the service loads.
pub(crate) fn start_sandbox(
    faults: BTreeMap<String, FaultSpec>,
) -> (SandboxHandle, Fixture, std::path::PathBuf) {
    let quotas = QuotaConfig {
        enabled: false,
        ..QuotaConfig::default()
    };
    start_sandbox_with_quotas(faults, quotas)
}

/// As [`start_sandbox`], with the sandbox enforcing `quotas`.
pub(crate) fn start_sandbox_with_quotas(
    faults: BTreeMap<String, FaultSpec>,
    quotas: QuotaConfig,
) -> (SandboxHandle, Fixture, std::path::PathBuf) {
    let fixture = Fixture::demo();
    let sandbox = spawn(SandboxOptions {
        fixture: Some(fixture.clone()),
        faults,
        quotas: Some(quotas),
        ..SandboxOptions::default()
    })
    .unwrap();
    let dir = std::env::temp_dir().join(format!("sa-crash-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let reps = sales_agent::demo::reps_from_fixture(&fixture);
    std::fs::write(
        dir.join("reps.json"),
        serde_json::json!({ "reps": reps }).to_string(),
    )
    .unwrap();
    (sandbox, fixture, dir)
}

#[actix_web::test]
async fn two_processes_share_one_postgres_database_without_running_a_workflow_twice() {
    let db = TestDb::postgres();
    let (sandbox, fixture, dir) = start_sandbox(BTreeMap::new());
    let env = service_env(&db.url(), &sandbox, &fixture, &dir.join("reps.json"));
    let first = Service::start(env.clone(), free_port());
    let second = Service::start(env, free_port());

    // Each service's port as it came up (a child restarted on another port moves).
    let ids: BTreeSet<String> = deliver_all(vec![first.url(), second.url()], WORKFLOWS)
        .await
        .into_iter()
        .collect();

    let store = db.store();
    let finished = wait_all_finished(&store, WORKFLOWS, Duration::from_secs(120)).await;
    assert_eq!(ids.len(), WORKFLOWS);
    assert!(
        finished.iter().all(|(_, status, _)| status == "completed"),
        "{finished:?}"
    );
    let workflow_ids: Vec<String> = finished.iter().map(|(id, _, _)| id.clone()).collect();
    let reruns = store
        .run(move |c| {
            let mut reruns = 0;
            for id in &workflow_ids {
                let runs = sales_agent::store::step_runs::list_for_workflow(c, id)?;
                assert_eq!(runs.len(), 13, "every step recorded once for {id}");
                reruns += runs.iter().filter(|r| r.attempts != 1).count();
            }
            Ok(reruns)
        })
        .await
        .unwrap();
    assert_eq!(reruns, 0, "no step ran twice");
    let drafts = count_by_workflow(&sandbox, &ids);
    let (notes, tasks) = engagements_by_workflow(&sandbox);
    for id in &ids {
        assert_eq!(
            (drafts.get(id), notes.get(id), tasks.get(id)),
            (Some(&1), Some(&1), Some(&1)),
            "{id}"
        );
    }
    sandbox.stop().await;
    std::fs::remove_dir_all(dir).unwrap();
}

/// A `sales-agent serve` child process.
pub(crate) struct Service {
    child: Option<Child>,
    env: BTreeMap<String, String>,
    port: u16,
    /// The child's working directory (where its default `./data/` goes).
    dir: Option<std::path::PathBuf>,
}

impl Service {
    /// Starts the service and waits until it answers; a child that exits at once
    /// (its port was taken meanwhile) is started again on another port.
    pub(crate) fn start(env: BTreeMap<String, String>, port: u16) -> Self {
        Self::start_in(env, port, None)
    }

    /// As [`Service::start`], working in `dir` when given.
    pub(crate) fn start_in(
        env: BTreeMap<String, String>,
        port: u16,
        dir: Option<std::path::PathBuf>,
    ) -> Self {
        let mut service = Service {
            child: None,
            env,
            port,
            dir,
        };
        service.spawn();
        service
    }

    pub(crate) fn spawn(&mut self) {
        for _ in 0..5 {
            let mut command = Command::new(env!("CARGO_BIN_EXE_sales-agent"));
            if let Some(dir) = &self.dir {
                command.current_dir(dir);
            }
            let child = command
                .arg("serve")
                .env_clear()
                .envs(&self.env)
                .env("SALES_AGENT_BIND", format!("127.0.0.1:{}", self.port))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("the service starts");
            self.child = Some(child);
            if self.wait_ready() {
                return;
            }
            self.kill();
            self.port = free_port();
        }
        panic!("the service did not come up");
    }

    /// True once `/healthz` answers; false if the child exits or 20 s pass.
    fn wait_ready(&mut self) -> bool {
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(20) {
            if let Some(child) = self.child.as_mut()
                && child.try_wait().ok().flatten().is_some()
            {
                return false;
            }
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        false
    }

    pub(crate) fn url(&self) -> String {
        format!("http://127.0.0.1:{}/webhooks/hubspot", self.port)
    }

    pub(crate) fn port(&self) -> u16 {
        self.port
    }

    /// The child's process id (to read its memory from `/proc`).
    pub(crate) fn pid(&self) -> u32 {
        self.child.as_ref().expect("the service is running").id()
    }

    /// SIGTERM: the service drains and exits on its own; waits until it has.
    pub(crate) fn terminate(&mut self) -> std::process::ExitStatus {
        let mut child = self.child.take().expect("the service is running");
        Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .expect("kill -TERM");
        child.wait().expect("reaped")
    }

    /// SIGKILL: no shutdown, no drain, leases left behind.
    pub(crate) fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().expect("SIGKILL");
            child.wait().expect("reaped");
        }
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A free port below the kernel's ephemeral range, where the servers other tests
/// bind to port 0 never land, so it cannot be taken between here and the bind.
pub(crate) fn free_port() -> u16 {
    let range =
        std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range").unwrap_or_default();
    let ephemeral_start: u16 = range
        .split_whitespace()
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap_or(32768);
    let low = 10_000.min(ephemeral_start / 2);
    loop {
        let port = fastrand::u16(low..ephemeral_start);
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

/// The child's configuration: the test database, the sandbox, short leases,
/// retries and breaker cool-downs so the run fits a test's time, and client limits
/// lifted because the sandbox's quotas are off (quota tests live elsewhere).
pub(crate) fn service_env(
    database_url: &str,
    sandbox: &SandboxHandle,
    fixture: &Fixture,
    reps_file: &std::path::Path,
) -> BTreeMap<String, String> {
    let mut env = sales_agent::demo::sandbox_env(&sandbox.base_url(), fixture);
    for (name, value) in [
        ("DATABASE_URL", database_url.to_string()),
        (
            "SALES_AGENT_PUBLIC_URL",
            crate::helpers::PUBLIC_URL.to_string(),
        ),
        ("SALES_AGENT_HUBSPOT_CLIENT_SECRET", SECRET.to_string()),
        ("SALES_AGENT_REPS_FILE", reps_file.display().to_string()),
        ("SALES_AGENT_LEASE_SECS", "2".into()),
        ("SALES_AGENT_SUPERVISOR_POLL_SECS", "1".into()),
        ("SALES_AGENT_RETRY_BASE_SECS", "1".into()),
        ("SALES_AGENT_RETRY_MAX_SECS", "4".into()),
        ("SALES_AGENT_CONCURRENCY", "64".into()),
        ("SALES_AGENT_BREAKER_FAILURES", "10".into()),
        ("SALES_AGENT_BREAKER_COOL_DOWN_SECS", "2".into()),
        ("SALES_AGENT_WORKFLOW_MAX_ATTEMPTS", "12".into()),
        ("SALES_AGENT_CONNECTOR_MAX_BACKOFF_SECS", "2".into()),
        ("SALES_AGENT_QUIET_HOURS", "0-0".into()),
        ("SALES_AGENT_QUIET_WEEKENDS", "false".into()),
        ("SALES_AGENT_COOL_DOWN_HOURS", "0".into()),
        ("SALES_AGENT_HUBSPOT_REQUESTS_PER_10S", "100000".into()),
        ("SALES_AGENT_HUBSPOT_SEARCHES_PER_SEC", "10000".into()),
        ("SALES_AGENT_GMAIL_UNITS_PER_MIN", "10000000".into()),
        ("SALES_AGENT_GMAIL_MAX_IN_FLIGHT", "16".into()),
        ("SALES_AGENT_SHUTDOWN_GRACE_SECS", "1".into()),
        ("RUST_LOG", "error".into()),
    ] {
        env.insert(name.to_string(), value);
    }
    env
}

async fn crash_run(db: TestDb, faults: BTreeMap<String, FaultSpec>) {
    let seed = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    eprintln!("crash run seed {seed}");
    let mut rng = fastrand::Rng::with_seed(seed);
    let (sandbox, fixture, dir) = start_sandbox(faults);
    let reps_file = dir.join("reps.json");
    let mut service = Service::start(
        service_env(&db.url(), &sandbox, &fixture, &reps_file),
        free_port(),
    );
    let url = service.url();

    let deliveries = deliver_all(vec![url], WORKFLOWS);
    let killer = async {
        for _ in 0..KILLS {
            tokio::time::sleep(Duration::from_millis(rng.u64(300..1500))).await;
            service.kill();
            service.spawn();
        }
    };
    let (ids, ()) = futures_util::join!(deliveries, killer);
    let ids: BTreeSet<String> = ids.into_iter().collect();
    assert_eq!(ids.len(), WORKFLOWS, "every delivery was accepted once");

    let store = db.store();
    let finished = wait_all_finished(&store, WORKFLOWS, Duration::from_secs(240)).await;
    service.kill();
    let unfinished: Vec<_> = finished
        .iter()
        .filter(|(_, status, _)| ["pending", "running", "retry_wait"].contains(&status.as_str()))
        .collect();
    assert!(unfinished.is_empty(), "lost workflows: {unfinished:?}");
    let unexplained: Vec<_> = finished
        .iter()
        .filter(|(_, status, error)| status == "dead_lettered" && error.is_none())
        .collect();
    assert!(
        unexplained.is_empty(),
        "dead letters need a reason: {unexplained:?}"
    );
    let completed: BTreeSet<&String> = finished
        .iter()
        .filter(|(_, s, _)| s == "completed")
        .map(|(id, _, _)| id)
        .collect();
    eprintln!(
        "{} completed, {} dead-lettered, seed {seed}",
        completed.len(),
        finished.len() - completed.len()
    );

    // The outside world: per workflow at most one draft, one note, one task; exactly one when completed.
    let drafts = count_by_workflow(&sandbox, &ids);
    let (notes, tasks) = engagements_by_workflow(&sandbox);
    for id in &ids {
        let expected = usize::from(completed.contains(id));
        let (d, n, t) = (
            drafts.get(id).copied().unwrap_or(0),
            notes.get(id).copied().unwrap_or(0),
            tasks.get(id).copied().unwrap_or(0),
        );
        assert!(
            d <= 1 && n <= 1 && t <= 1,
            "duplicates for {id}: {d} drafts, {n} notes, {t} tasks"
        );
        assert!(
            d >= expected && n >= expected && t >= expected,
            "missing effects for completed {id}: {d}/{n}/{t}"
        );
    }
    sandbox.stop().await;
    std::fs::remove_dir_all(dir).unwrap();
}

/// Posts `count` signed submissions, spread over `urls`, each until it gets a 2xx
/// (as HubSpot keeps delivering), and returns their workflow ids.
pub(crate) async fn deliver_all(urls: Vec<String>, count: usize) -> Vec<String> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    futures_util::stream::iter(0..count)
        .map(|n| {
            let (client, url) = (client.clone(), urls[n % urls.len()].clone());
            async move {
                let body = serde_json::json!({
                    "portalId": 24681357, "formGuid": "crash-test", "conversionId": format!("crash-{n}"),
                    "values": [
                        {"name": "email", "value": format!("lead{n}@prospect{}.example", n % 17)},
                        {"name": "firstname", "value": format!("Lead{n}")},
                        {"name": "company", "value": "Prospect Co"},
                        {"name": "country", "value": COUNTRIES[n % 3]},
                        {"name": "message", "value": "Could we get a demo of your forecasting?"}
                    ]
                })
                .to_string();
                let started = Instant::now();
                loop {
                    assert!(started.elapsed() < Duration::from_secs(120), "delivery {n} was never accepted");
                    let mut request = client.post(&url).header("content-type", "application/json").body(body.clone());
                    for (name, value) in signed_headers(&body, SystemTime::now(), SECRET) {
                        request = request.header(name, value);
                    }
                    if let Ok(response) = request.send().await
                        && response.status().is_success()
                        && let Ok(answer) = response.json::<serde_json::Value>().await
                    {
                        return answer["workflow_id"].as_str().unwrap_or_default().to_string();
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        })
        .buffer_unordered(8)
        .collect::<Vec<String>>()
        .await
}

/// (id, status, last_error) of every workflow once `expected` exist and none is
/// unfinished, or what was last read at the deadline. A read that fails (the chaos
/// run restarts the database) is tried again.
pub(crate) async fn wait_all_finished(
    store: &Store,
    expected: usize,
    deadline: Duration,
) -> Vec<(String, String, Option<String>)> {
    use sales_agent::store::admin_queries::{WorkflowFilter, list_workflows};
    let started = Instant::now();
    let mut all = Vec::new();
    loop {
        let rows = store
            .run(|c| {
                list_workflows(
                    c,
                    &WorkflowFilter {
                        limit: 100_000,
                        ..WorkflowFilter::default()
                    },
                )
            })
            .await;
        if let Ok(rows) = rows {
            all = rows
                .into_iter()
                .map(|r| (r.id, r.status, r.last_error))
                .collect();
            let done = all
                .iter()
                .all(|(_, s, _)| !["pending", "running", "retry_wait"].contains(&s.as_str()));
            if done && all.len() >= expected {
                return all;
            }
        }
        if started.elapsed() > deadline {
            return all;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Drafts and sent messages per workflow, by the workflow's Message-ID.
pub(crate) fn count_by_workflow(
    sandbox: &SandboxHandle,
    ids: &BTreeSet<String>,
) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    let mailboxes = [
        "maya.chen@northwind-analytics.com",
        "jonas.weber@northwind-analytics.com",
        "priya.raman@northwind-analytics.com",
    ];
    for mailbox in mailboxes {
        let messages = sandbox
            .drafts(mailbox)
            .into_iter()
            .map(|(_, m)| m)
            .chain(sandbox.sent(mailbox));
        for message in messages {
            let Some(id) = message
                .message_id
                .as_deref()
                .and_then(|m| m.trim_matches(['<', '>']).strip_prefix("sa."))
                .and_then(|m| m.split(".deliver@").next())
            else {
                continue;
            };
            if ids.contains(id) {
                *counts.entry(id.to_string()).or_insert(0) += 1;
            }
        }
    }
    counts
}

/// Notes and tasks per workflow, by the `[sa:op=<id>:…]` marker in their bodies.
pub(crate) fn engagements_by_workflow(
    sandbox: &SandboxHandle,
) -> (BTreeMap<String, usize>, BTreeMap<String, usize>) {
    let count = |object_type: &str, property: &str, suffix: &str| {
        let mut counts = BTreeMap::new();
        for object in sandbox.crm_objects(object_type) {
            let body = object.properties.get(property).cloned().unwrap_or_default();
            if let Some(rest) = body.split("[sa:op=").nth(1)
                && let Some(id) = rest.split(suffix).next()
            {
                *counts.entry(id.to_string()).or_insert(0) += 1;
            }
        }
        counts
    };
    (
        count("notes", "hs_note_body", ":note]"),
        count("tasks", "hs_task_body", ":task]"),
    )
}
