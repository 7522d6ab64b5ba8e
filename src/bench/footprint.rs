//! Footprint: `sales-agent serve` as a child process (so only the service's
//! memory is counted) with the workflow cap at 10,000, against a sandbox that
//! answers every call after 2 s; 10,000 submissions arrive. Idle RSS (started,
//! migrated, nothing to do), peak RSS (VmHWM) and the most workflows seen running
//! at once, all from /proc and the database; memory per in-flight workflow is
//! (peak − idle) ÷ that count. Target: ≤ 150 MB at 10,000.

use std::time::{Duration, Instant};

use futures_util::StreamExt;

use super::BenchArgs;
use super::fleet::ServiceProcess;
use super::rig::{self, SqliteFile};
use super::stats::{Summary, verdict};
use crate::sandbox::QuotaConfig;
use crate::store::Store;

const ANSWER_AFTER: Duration = Duration::from_secs(2);
const TARGET_MB: f64 = 150.0;

pub async fn run(args: &BenchArgs) -> anyhow::Result<()> {
    let in_flight = args.size.unwrap_or(10_000);
    println!(
        "{in_flight} workflows, every API call answered after {} s; SQLite; child process\n",
        ANSWER_AFTER.as_secs()
    );
    let (mut idle, mut peak, mut per, mut running) = (vec![], vec![], vec![], vec![]);
    for run in 0..args.runs {
        let r = one_run(in_flight, run).await?;
        println!(
            "run {}: idle {:.1} MB, peak {:.1} MB, {} running at most, {:.1} KB per in-flight workflow",
            run + 1,
            r.idle_mb,
            r.peak_mb,
            r.max_running,
            (r.peak_mb - r.idle_mb) * 1024.0 / r.max_running.max(1) as f64
        );
        idle.push(r.idle_mb);
        peak.push(r.peak_mb);
        running.push(r.max_running as f64);
        per.push((r.peak_mb - r.idle_mb) * 1024.0 / r.max_running.max(1) as f64);
    }
    let peak = Summary::of(&peak);
    println!(
        "\nidle RSS {} MB | peak RSS {} MB | most running at once {} | per in-flight workflow {} KB | {}",
        Summary::of(&idle).show(1),
        peak.show(1),
        Summary::of(&running).show(0),
        Summary::of(&per).show(1),
        verdict(
            peak.median / TARGET_MB,
            "peak ≤ 150 MB, i.e. ≤ 1.0",
            peak.median <= TARGET_MB
        )
    );
    Ok(())
}

struct RunFigures {
    idle_mb: f64,
    peak_mb: f64,
    max_running: i64,
}

async fn one_run(in_flight: usize, run: usize) -> anyhow::Result<RunFigures> {
    let (sandbox, fixture) = rig::sandbox(
        rig::latency(ANSWER_AFTER),
        QuotaConfig {
            enabled: false,
            ..QuotaConfig::default()
        },
    )?;
    let db = SqliteFile::create();
    let secret = rig::secret();
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let cap = in_flight.to_string();
    let bind = format!("127.0.0.1:{port}");
    let env = rig::service_env(
        &db.url,
        &sandbox,
        &fixture,
        &secret,
        &[
            ("SALES_AGENT_BIND", &bind),
            ("SALES_AGENT_CONCURRENCY", &cap),
            ("SALES_AGENT_DB_POOL_SIZE", "16"),
            ("SALES_AGENT_DB_BUSY_TIMEOUT_MS", "60000"),
            ("SALES_AGENT_LEASE_SECS", "600"),
        ],
    )?;
    let mut child = ServiceProcess::spawn(&env)?;
    super::fleet::wait_ready(port).await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let idle_mb = child.status("VmRSS")?;
    let store = Store::open(&db.url, 2, Duration::from_secs(30))?;
    let client = reqwest::Client::new();
    let tag = format!("f{run}x");
    let deliveries = futures_util::stream::iter(0..in_flight)
        .map(|n| rig::deliver(&client, port, &secret, rig::submission(&tag, n)))
        .buffer_unordered(32)
        .collect::<Vec<_>>();
    let watch = async {
        let started = Instant::now();
        let mut max_running = 0;
        let mut full_since: Option<Instant> = None;
        while started.elapsed() < Duration::from_secs(180) {
            let counts = rig::status_counts(&store).await.unwrap_or_default();
            let running = counts.get("running").copied().unwrap_or(0);
            max_running = max_running.max(running);
            if running as usize >= in_flight * 99 / 100 {
                let since = *full_since.get_or_insert_with(Instant::now);
                if since.elapsed() > Duration::from_secs(5) {
                    break;
                }
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        max_running
    };
    let (delivered, max_running) = futures_util::join!(deliveries, watch);
    for d in delivered {
        d?;
    }
    let peak_mb = child.status("VmHWM")?;
    // What the memory is: threads (each blocked database call holds one) and
    // anonymous (heap) against file-backed pages.
    println!(
        "  at the end: {} threads, RssAnon {:.1} MB, RssFile {:.1} MB",
        child.status("Threads")? * 1024.0,
        child.status("RssAnon")?,
        child.status("RssFile")?
    );
    drop(child);
    sandbox.stop().await;
    Ok(RunFigures {
        idle_mb,
        peak_mb,
        max_running,
    })
}
