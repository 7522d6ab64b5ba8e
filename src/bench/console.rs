//! The web console at scale, part of `bench admin`: each list and detail page
//! requested over HTTP from the service in this process, signed in with a
//! console session, over the filled million workflows. A request's time is
//! measured by the client on loopback, so it bounds the server's time from
//! above (it adds the loopback round trip and reading the body). p50 and p95
//! per run; the verdict is the median p95's ratio to 50 ms (target ≤ 1).

use std::time::Instant;

use chrono::{NaiveDateTime, TimeDelta};

use super::BenchArgs;
use super::stats::{Summary, millis, percentile, verdict};
use crate::app::RunningApp;
use crate::store::sessions;

const REQUESTS_PER_RUN: usize = 40;
const TARGET_MS: f64 = 50.0;

/// The pages, as (name, path): lists with and without filters, then details.
fn pages(newest: NaiveDateTime, rows: usize) -> Vec<(&'static str, String)> {
    // The oldest dead letter: `fill.rs` dead-letters the rows numbered 90–93 mod 100.
    let oldest_dead = rows - rows % 100 - 9;
    let day = |days: i64| (newest - TimeDelta::days(days)).format("%Y-%m-%dT00:00:00Z");
    vec![
        ("/ overview", "/".into()),
        ("/leads newest", "/leads".into()),
        (
            "/leads status=dead_lettered",
            "/leads?status=dead_lettered".into(),
        ),
        (
            "/leads email=…",
            "/leads?email=lead4242%40prospect71.example".into(),
        ),
        (
            "/leads from/to one day",
            format!("/leads?from={}&to={}", day(30), day(29)),
        ),
        (
            "/leads status=pending, old",
            format!("/leads?status=pending&to={}", day(60)),
        ),
        ("/drafts", "/drafts".into()),
        ("/contacts", "/contacts".into()),
        ("/contacts?q=… (address)", "/contacts?q=lead4242%40".into()),
        // `fill.rs`: "Prospect 4242 Ltd" is ten addresses' company (~50 leads).
        (
            "/contacts?q=… (company)",
            "/contacts?q=Prospect+4242".into(),
        ),
        (
            "/contacts?q=… (last name)",
            "/contacts?q=watanabe4242".into(),
        ),
        (
            "/leads company=…",
            "/leads?company=prospect+4242+ltd".into(),
        ),
        ("/leads/{id} newest", "/leads/wf00000042".into()),
        (
            "/leads/{id} old, dead",
            format!("/leads/wf{oldest_dead:08}"),
        ),
        (
            "/contacts/{email}",
            "/contacts/lead4242%40prospect71.example".into(),
        ),
    ]
}

pub async fn run(
    args: &BenchArgs,
    app: &RunningApp,
    newest: NaiveDateTime,
    rows: usize,
) -> anyhow::Result<()> {
    let token = crate::web::console::random_token();
    let (stored, csrf) = (token.clone(), crate::web::console::random_token());
    let expires = crate::store::now() + TimeDelta::hours(2);
    app.state
        .store
        .run(move |c| sessions::insert(c, &stored, "admin", "admin:bench", &csrf, expires))
        .await?;
    let client = reqwest::Client::new();
    println!(
        "\nconsole pages: {REQUESTS_PER_RUN} requests per page per run, time per request (ms), target p95 ≤ {TARGET_MS} ms"
    );
    let (mut met, mut total) = (0, 0);
    for (name, path) in pages(newest, rows) {
        let url = format!("http://127.0.0.1:{}{path}", app.port);
        let (mut p50s, mut p95s) = (vec![], vec![]);
        for _ in 0..args.runs {
            let mut times = Vec::with_capacity(REQUESTS_PER_RUN);
            for _ in 0..REQUESTS_PER_RUN {
                let t = Instant::now();
                let response = client
                    .get(&url)
                    .header("cookie", format!("sa_console={token}"))
                    .send()
                    .await?;
                let status = response.status();
                let body = response.text().await?;
                times.push(millis(t.elapsed()));
                anyhow::ensure!(status.is_success(), "{name}: {status}");
                anyhow::ensure!(body.contains("admin:bench"), "{name}: not a signed-in page");
            }
            p50s.push(percentile(&times, 50.0));
            p95s.push(percentile(&times, 95.0));
        }
        let p95 = Summary::of(&p95s);
        let ok = p95.median <= TARGET_MS;
        (met, total) = (met + usize::from(ok), total + 1);
        println!(
            "{name:<30} p50 {} | p95 {} | {}",
            Summary::of(&p50s).show(2),
            p95.show(2),
            verdict(p95.median / TARGET_MS, "≤ 1", ok)
        );
    }
    println!("console pages within {TARGET_MS} ms at p95: {met} of {total}");
    Ok(())
}
