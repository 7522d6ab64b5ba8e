//! Speed to lead: every sandbox endpoint answers after 50 ms; one lead at a time,
//! the time from posting the webhook to the draft appearing in the rep's mailbox
//! (the sandbox's own record), beside the critical path: the API round trips that
//! happen one after another × 50 ms. Some calls run side by side, so the count
//! of calls made (printed too) overstates the chain; the chain's length is
//! measured instead: each run also times its leads at 100 ms per call, and
//! (median at 100 ms − median at 50 ms) ÷ 50 ms, rounded, is the number of
//! sequential round trips — our own overhead cancels out of that difference.
//! Target: median ≤ 1.2 × critical path.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use super::BenchArgs;
use super::rig::{self, SqliteFile};
use super::stats::{Summary, median, millis, percentile, verdict};
use crate::sandbox::{QuotaConfig, SandboxHandle};
use crate::store::workflows::{self, WorkflowStatus};

const LATENCY: Duration = Duration::from_millis(50);

pub async fn run(args: &BenchArgs) -> anyhow::Result<()> {
    let per_run = args.size.unwrap_or(10);
    let (sandbox, fixture) = rig::sandbox(rig::latency(LATENCY), QuotaConfig::default())?;
    let db = SqliteFile::create();
    let secret = rig::secret();
    let env = rig::service_env(&db.url, &sandbox, &fixture, &secret, &[])?;
    let app = rig::start_service(&env).await?;
    let client = reqwest::Client::new();
    println!(
        "{per_run} leads per run, one at a time, every API call answered after {} ms; SQLite\n",
        LATENCY.as_millis()
    );
    // Warm-up: a lead per rep, so token refreshes and connections are not timed.
    for n in 0..3 {
        lead(&client, &app, &sandbox, &secret, &format!("w{n}x"), n).await?;
    }
    let (mut medians, mut p95s, mut paths, mut ratios, mut made) =
        (vec![], vec![], vec![], vec![], vec![]);
    let mut calls = BTreeMap::new();
    for run in 0..args.runs {
        let (mut times, mut slow, mut trips) = (vec![], vec![], vec![]);
        for n in 0..per_run {
            let lead = lead(&client, &app, &sandbox, &secret, &format!("s{run}x"), n).await?;
            times.push(millis(lead.to_draft));
            trips.push(lead.round_trips as f64);
            calls = lead.calls;
        }
        sandbox.set_faults(None, rig::latency(LATENCY * 2));
        for n in 0..per_run {
            let lead = lead(&client, &app, &sandbox, &secret, &format!("t{run}x"), n).await?;
            slow.push(millis(lead.to_draft));
        }
        sandbox.set_faults(None, rig::latency(LATENCY));
        let m = median(&times);
        let sequential = ((median(&slow) - m) / millis(LATENCY)).round().max(1.0);
        let path = sequential * millis(LATENCY);
        medians.push(m);
        p95s.push(percentile(&times, 95.0));
        paths.push(path);
        ratios.push(m / path);
        made.push(median(&trips));
    }
    let ratio = Summary::of(&ratios);
    println!(
        "webhook → draft median {} ms, p95 {} ms | critical path {} ms ({:.0} sequential round trips × {} ms; {:.0} calls made) | {}",
        Summary::of(&medians).show(0),
        Summary::of(&p95s).show(0),
        Summary::of(&paths).show(0),
        median(&paths) / millis(LATENCY),
        LATENCY.as_millis(),
        median(&made),
        verdict(ratio.median, "≤ 1.2", ratio.median <= 1.2)
    );
    println!("ratio per run: {}", ratio.show(3));
    println!("round trips of the last lead before its draft, by endpoint:");
    for (endpoint, n) in &calls {
        println!("  {endpoint:<28} {n}");
    }
    app.stop().await;
    sandbox.stop().await;
    Ok(())
}

struct Lead {
    to_draft: Duration,
    round_trips: u64,
    calls: BTreeMap<String, u64>,
}

/// One lead through the webhook; returns once its workflow has finished.
async fn lead(
    client: &reqwest::Client,
    app: &crate::app::RunningApp,
    sandbox: &SandboxHandle,
    secret: &str,
    tag: &str,
    n: usize,
) -> anyhow::Result<Lead> {
    let before = per_endpoint(sandbox);
    let started = Instant::now();
    let (id, _) = rig::deliver(client, app.port, secret, rig::submission(tag, n)).await?;
    let marker = format!("sa.{id}.");
    loop {
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(60),
            "no draft for {id} within 60 s"
        );
        let drafted = sandbox.inspect(|w| {
            w.mailboxes.values().any(|mb| {
                mb.drafts.values().any(|m| {
                    mb.messages
                        .get(m)
                        .and_then(|m| m.message_id.as_deref())
                        .is_some_and(|mid| mid.contains(&marker))
                })
            })
        });
        if drafted {
            break;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let to_draft = started.elapsed();
    let after = per_endpoint(sandbox);
    let calls: BTreeMap<String, u64> = after
        .into_iter()
        .map(|(k, v)| (k.clone(), v - before.get(&k).copied().unwrap_or(0)))
        .filter(|(_, v)| *v > 0)
        .collect();
    // The rest of the workflow (note, task) finishes before the next lead starts.
    let store = app.state.store.clone();
    loop {
        let wanted = id.clone();
        let row = store
            .run(move |c| workflows::find_by_id(c, &wanted))
            .await?;
        if row.is_some_and(|r| {
            !WorkflowStatus::UNFINISHED
                .iter()
                .any(|s| s.as_str() == r.status)
        }) {
            break;
        }
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(90),
            "{id} never finished"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(Lead {
        to_draft,
        round_trips: calls.values().sum(),
        calls,
    })
}

fn per_endpoint(sandbox: &SandboxHandle) -> BTreeMap<String, u64> {
    sandbox
        .stats()
        .into_iter()
        .map(|(k, s)| (k, s.requests))
        .collect()
}
