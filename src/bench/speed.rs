//! Speed to lead: every sandbox endpoint answers after 50 ms; one lead at a time,
//! the time from posting the webhook to the draft appearing in the rep's mailbox
//! (the sandbox's own record), beside the critical path: the API round trips that
//! happen one after another × 50 ms. Some calls run side by side, so the count
//! of calls made (printed too) overstates the chain; the chain's length is
//! measured instead: each run also times its leads at 100 ms per call, and
//! (median at 100 ms − median at 50 ms) ÷ 50 ms, rounded, is the number of
//! sequential round trips — our own overhead cancels out of that difference.
//! Target: median ≤ 1.2 × critical path.
//!
//! Speed to meeting: in the 50 ms pass each prospect also books at once, as
//! soon as the draft exists — the first slot link in the draft, posted to the
//! booking page, which answers when the chain has run (free/busy, event with
//! Meet, brief, HubSpot meeting, task, holds). Printed: click → booked and
//! webhook → booked (the `speed_to_meeting_seconds` histogram's measure with a
//! prospect who clicks at once), and the booking's round trips by endpoint.
//!
//! Leads start [`LEAD_INTERVAL`] apart: a lead makes seven HubSpot calls in all
//! (printed), so that is about a third of the ten calls per second HubSpot's
//! published quota (100 per 10 s) sustains. Back to back, the benchmark's own
//! leads would use more than the whole quota and the limiter would rightly pace
//! them — that is the quota benchmark's case, not a lead's latency.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use super::BenchArgs;
use super::rig::{self, SqliteFile};
use super::stats::{Summary, median, millis, percentile, verdict};
use crate::sandbox::{QuotaConfig, SandboxHandle};
use crate::store::workflows::{self, WorkflowStatus};

const LATENCY: Duration = Duration::from_millis(50);
const LEAD_INTERVAL: Duration = Duration::from_secs(2);

pub async fn run(args: &BenchArgs) -> anyhow::Result<()> {
    let per_run = args.size.unwrap_or(10);
    let (sandbox, fixture) = rig::sandbox(rig::latency(LATENCY), QuotaConfig::default())?;
    let db = SqliteFile::create();
    let secret = rig::secret();
    let env = rig::service_env(&db.url, &sandbox, &fixture, &secret, &[])?;
    let app = rig::start_service(&env).await?;
    let client = reqwest::Client::new();
    println!(
        "{per_run} leads per run, one at a time, {} s apart, every API call answered after {} ms; SQLite\n",
        LEAD_INTERVAL.as_secs(),
        LATENCY.as_millis()
    );
    // Warm-up: a lead per rep, so token refreshes and connections are not timed.
    for n in 0..3 {
        lead(&client, &app, &sandbox, &secret, &format!("w{n}x"), n, true).await?;
    }
    let (mut medians, mut p95s, mut paths, mut ratios, mut made, mut hubspot) =
        (vec![], vec![], vec![], vec![], vec![], vec![]);
    let (mut clicks, mut meetings) = (vec![], vec![]);
    let (mut calls, mut booking_calls) = (BTreeMap::new(), BTreeMap::new());
    for run in 0..args.runs {
        let (mut times, mut slow, mut trips) = (vec![], vec![], vec![]);
        let (mut click, mut meeting) = (vec![], vec![]);
        for n in 0..per_run {
            let tag = format!("s{run}x");
            let lead = lead(&client, &app, &sandbox, &secret, &tag, n, true).await?;
            times.push(millis(lead.to_draft));
            trips.push(lead.round_trips as f64);
            hubspot.push(lead.hubspot_calls as f64);
            calls = lead.calls;
            if let Some(booked) = lead.booked {
                click.push(millis(booked.click_to_booked));
                meeting.push(millis(lead.to_draft + booked.click_to_booked));
                booking_calls = booked.calls;
            }
        }
        anyhow::ensure!(
            click.len() == per_run,
            "only {} of {per_run} prospects could book",
            click.len()
        );
        clicks.push(median(&click));
        meetings.push(median(&meeting));
        sandbox.set_faults(None, rig::latency(LATENCY * 2));
        for n in 0..per_run {
            let tag = format!("t{run}x");
            let lead = lead(&client, &app, &sandbox, &secret, &tag, n, false).await?;
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
    println!(
        "HubSpot calls per lead (whole workflow): {:.0}, so {:.1} per second of the 10 its quota allows",
        median(&hubspot),
        median(&hubspot) / LEAD_INTERVAL.as_secs_f64()
    );
    println!("round trips of the last lead before its draft, by endpoint:");
    for (endpoint, n) in &calls {
        println!("  {endpoint:<28} {n}");
    }
    println!(
        "\nspeed to meeting, the prospect clicking the first slot at once: click → booked median {} ms, webhook → booked median {} ms ({} round trips in the booking × {} ms)",
        Summary::of(&clicks).show(0),
        Summary::of(&meetings).show(0),
        booking_calls.values().sum::<u64>(),
        LATENCY.as_millis()
    );
    println!("round trips of the last booking, by endpoint:");
    for (endpoint, n) in &booking_calls {
        println!("  {endpoint:<28} {n}");
    }
    app.stop().await;
    sandbox.stop().await;
    Ok(())
}

struct Lead {
    to_draft: Duration,
    round_trips: u64,
    hubspot_calls: u64,
    calls: BTreeMap<String, u64>,
    /// When the prospect booked (the 50 ms pass).
    booked: Option<Booked>,
}

struct Booked {
    click_to_booked: Duration,
    calls: BTreeMap<String, u64>,
}

/// One lead through the webhook (and, with `book`, the prospect booking the
/// first slot once the workflow has finished); returns once that is done and
/// [`LEAD_INTERVAL`] has passed since it started.
async fn lead(
    client: &reqwest::Client,
    app: &crate::app::RunningApp,
    sandbox: &SandboxHandle,
    secret: &str,
    tag: &str,
    n: usize,
    book: bool,
) -> anyhow::Result<Lead> {
    let before = per_endpoint(sandbox);
    let started = Instant::now();
    let (id, _) = rig::deliver(client, app.port, secret, rig::submission(tag, n)).await?;
    let marker = format!("sa.{id}.");
    let draft = loop {
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(60),
            "no draft for {id} within 60 s"
        );
        let drafted = sandbox.inspect(|w| {
            w.mailboxes.values().find_map(|mb| {
                mb.drafts
                    .values()
                    .filter_map(|m| mb.messages.get(m))
                    .find(|m| {
                        m.message_id
                            .as_deref()
                            .is_some_and(|mid| mid.contains(&marker))
                    })
                    .map(|m| m.body.clone())
            })
        });
        if let Some(body) = drafted {
            break body;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    };
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
    let hubspot_calls = per_endpoint(sandbox)
        .into_iter()
        .filter(|(k, _)| k.starts_with("hubspot."))
        .map(|(k, v)| v - before.get(&k).copied().unwrap_or(0))
        .sum();
    let booked = if book {
        Some(book_first_slot(client, app.port, sandbox, &draft).await?)
    } else {
        None
    };
    tokio::time::sleep_until((started + LEAD_INTERVAL).into()).await;
    Ok(Lead {
        to_draft,
        round_trips: calls.values().sum(),
        hubspot_calls,
        calls,
        booked,
    })
}

/// The prospect opens the draft's first slot link and confirms: the page
/// answers once the booking chain has run.
async fn book_first_slot(
    client: &reqwest::Client,
    port: u16,
    sandbox: &SandboxHandle,
    draft: &str,
) -> anyhow::Result<Booked> {
    let token = draft
        .split("/book/")
        .nth(1)
        .map(|rest| {
            rest.chars()
                .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
                .collect::<String>()
        })
        .filter(|t| !t.is_empty())
        .ok_or_else(|| anyhow::anyhow!("the draft has no booking link"))?;
    let before = per_endpoint(sandbox);
    let clicked = Instant::now();
    let response = client
        .post(format!("http://127.0.0.1:{port}/book/{token}"))
        .send()
        .await?;
    let click_to_booked = clicked.elapsed();
    let status = response.status();
    let page = response.text().await?;
    anyhow::ensure!(
        status.is_success() && page.contains("Your meeting is booked"),
        "the booking was not made ({status})"
    );
    let calls = per_endpoint(sandbox)
        .into_iter()
        .map(|(k, v)| (k.clone(), v - before.get(&k).copied().unwrap_or(0)))
        .filter(|(_, v)| *v > 0)
        .collect();
    Ok(Booked {
        click_to_booked,
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
