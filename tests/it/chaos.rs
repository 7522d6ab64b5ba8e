//! Chaos: `sales-agent serve` as a child process on a private PostgreSQL cluster,
//! while submissions arrive duplicated and out of order, is put through SIGKILLs
//! at random moments, PostgreSQL stopped (immediate shutdown) and started again,
//! and sandbox storms of 5xx, timeouts, cut connections and 429s, some striking
//! after the request took effect. Send mode is on and some addresses are
//! suppressed beforehand. Afterwards, from the sandbox's own records and the
//! database: every accepted submission finished or was dead-lettered with a
//! reason; each has exactly one draft or send, one note and one task (at most one
//! of each when dead-lettered); no email went to a suppressed address.
//!
//! The small size runs with the suite; `CHAOS_FULL=1 cargo nextest run --release
//! chaos::` runs the full size (docs/PERFORMANCE.md has its figures).

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant, SystemTime};

use futures_util::StreamExt;
use sales_agent::sandbox::faults::{FaultSpec, Phase};
use sales_agent::store::Store;

use crate::crash::{
    Service, count_by_workflow, engagements_by_workflow, free_port, service_env, start_sandbox,
    wait_all_finished,
};
use crate::helpers::{SECRET, signed_headers};
use crate::private_pg::PrivatePg;

/// How much chaos: workflows, and how many of each disruption.
struct Size {
    workflows: usize,
    kills: usize,
    pg_restarts: usize,
    storms: usize,
}

impl Size {
    fn from_env() -> Self {
        if std::env::var("CHAOS_FULL").is_ok_and(|v| v == "1") {
            Size {
                workflows: 1_000,
                kills: 30,
                pg_restarts: 6,
                storms: 30,
            }
        } else {
            Size {
                workflows: 100,
                kills: 6,
                pg_restarts: 2,
                storms: 8,
            }
        }
    }
}

#[actix_web::test]
async fn chaos_loses_nothing_repeats_nothing_and_mails_no_suppressed_address() {
    let size = Size::from_env();
    let seed = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    eprintln!("chaos seed {seed}");
    let mut rng = fastrand::Rng::with_seed(seed);
    let pg = PrivatePg::start();
    let db_url = pg.create_database("chaos");
    let store = Store::open(&db_url, 2, Duration::from_secs(5)).unwrap();
    store.migrate().await.unwrap();
    let suppressed: BTreeSet<String> = (0..size.workflows)
        .filter(|n| n % 10 == 7)
        .map(address)
        .collect();
    let to_suppress = suppressed.clone();
    store
        .run(move |c| {
            for email in &to_suppress {
                sales_agent::store::suppressions::insert(c, email, "asked", "test", "chaos")?;
            }
            sales_agent::store::settings::set_draft_only(c, false, "chaos")?;
            Ok(())
        })
        .await
        .unwrap();

    let (sandbox, fixture, dir) = start_sandbox(BTreeMap::new());
    let mut env = service_env(&db_url, &sandbox, &fixture, &dir.join("reps.json"));
    env.insert("SALES_AGENT_CONNECTOR_TIMEOUT_SECS".into(), "2".into());
    env.insert("SALES_AGENT_WORKFLOW_MAX_ATTEMPTS".into(), "20".into());
    env.insert("SALES_AGENT_DAILY_SEND_LIMIT".into(), "100000".into());
    let mut service = Service::start(env, free_port());
    let url = service.url();

    // Every submission once, a third twice more, a fifth once more, shuffled.
    let mut deliveries: Vec<usize> = (0..size.workflows)
        .flat_map(|n| {
            let copies = 1 + 2 * usize::from(n % 3 == 0) + usize::from(n % 5 == 0);
            std::iter::repeat_n(n, copies)
        })
        .collect();
    rng.shuffle(&mut deliveries);
    let delivered = deliveries.len();

    let deliver = deliver_all(deliveries, &url);
    // The run opens in a storm of 5xx, so faults land while the first workflows run
    // whatever the later random events hit (a later storm may be calm, or come while
    // the service is down).
    sandbox.set_faults(
        Some(seed),
        BTreeMap::from([(
            "*".to_string(),
            FaultSpec {
                error_rate: 0.4,
                error_status: Some(503),
                phase: Phase::Before,
                ..FaultSpec::default()
            },
        )]),
    );
    let (mut kills, mut restarts, mut storms) = (0, 0, 1);
    let chaos = async {
        let mut events: Vec<u8> = std::iter::repeat_n(0, size.kills)
            .chain(std::iter::repeat_n(1, size.pg_restarts))
            .chain(std::iter::repeat_n(2, size.storms))
            .collect();
        rng.shuffle(&mut events);
        for event in events {
            tokio::time::sleep(Duration::from_millis(rng.u64(300..2_000))).await;
            match event {
                0 => {
                    service.kill();
                    service.spawn();
                    kills += 1;
                }
                1 => {
                    pg.stop_server();
                    tokio::time::sleep(Duration::from_millis(rng.u64(500..3_000))).await;
                    pg.start_server();
                    restarts += 1;
                }
                _ => {
                    sandbox.set_faults(Some(rng.u64(..)), storm(&mut rng));
                    storms += 1;
                }
            }
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
        sandbox.set_faults(None, BTreeMap::new());
    };
    let (ids, ()) = futures_util::join!(deliver, chaos);

    // Duplicates resolve to one workflow per submission.
    let mut by_submission: BTreeMap<usize, BTreeSet<String>> = BTreeMap::new();
    for (n, id) in ids {
        by_submission.entry(n).or_default().insert(id);
    }
    assert_eq!(
        by_submission.len(),
        size.workflows,
        "every submission accepted"
    );
    let split: Vec<_> = by_submission
        .iter()
        .filter(|(_, ids)| ids.len() != 1)
        .collect();
    assert!(
        split.is_empty(),
        "duplicates made more than one workflow: {split:?}"
    );
    let ids: BTreeSet<String> = by_submission.values().flatten().cloned().collect();

    let deadline = Duration::from_secs(if size.workflows > 100 { 1_200 } else { 150 });
    let rows = wait_all_finished(&store, size.workflows, deadline).await;
    service.kill();
    let status: BTreeMap<String, (String, Option<String>)> =
        rows.into_iter().map(|(id, s, e)| (id, (s, e))).collect();
    let lost: Vec<&String> = ids
        .iter()
        .filter(|id| {
            status
                .get(*id)
                .is_none_or(|(s, _)| ["pending", "running", "retry_wait"].contains(&s.as_str()))
        })
        .collect();
    let unexplained: Vec<&String> = ids
        .iter()
        .filter(|id| {
            status
                .get(*id)
                .is_some_and(|(s, e)| s == "dead_lettered" && e.is_none())
        })
        .collect();

    let drafts = count_by_workflow(&sandbox, &ids);
    let (notes, tasks) = engagements_by_workflow(&sandbox);
    let mut duplicated = Vec::new();
    let mut missing = Vec::new();
    for id in &ids {
        let (s, _) = status.get(id).cloned().unwrap_or_default();
        let counts = [&drafts, &notes, &tasks].map(|m| m.get(id).copied().unwrap_or(0));
        if counts.iter().any(|c| *c > 1) {
            duplicated.push((id.clone(), counts));
        }
        if s == "completed" && counts != [1, 1, 1] {
            missing.push((id.clone(), counts));
        }
    }
    let mailed_suppressed = mailed(&sandbox, &suppressed);
    let faults: u64 = sandbox
        .stats()
        .values()
        .map(|s| s.injected_5xx + s.injected_timeouts + s.injected_drops + s.injected_429s)
        .sum();
    let count = |wanted: &str| status.values().filter(|(s, _)| s == wanted).count();
    eprintln!(
        "chaos: {} workflows ({delivered} deliveries), {kills} SIGKILLs, {restarts} PostgreSQL restarts, \
         {storms} storms, {faults} faults injected; {} completed, {} skipped, {} dead-lettered; \
         lost {}, duplicated {}, suppressed mailed {}; seed {seed}",
        ids.len(),
        count("completed"),
        count("skipped"),
        count("dead_lettered"),
        lost.len(),
        duplicated.len(),
        mailed_suppressed.len()
    );
    assert!(lost.is_empty(), "lost workflows: {lost:?}");
    assert!(
        unexplained.is_empty(),
        "dead letters without a reason: {unexplained:?}"
    );
    assert!(
        duplicated.is_empty(),
        "repeated effects [drafts/sends, notes, tasks]: {duplicated:?}"
    );
    assert!(
        missing.is_empty(),
        "completed without its effects: {missing:?}"
    );
    assert!(
        mailed_suppressed.is_empty(),
        "mailed suppressed addresses: {mailed_suppressed:?}"
    );
    for email in &suppressed {
        let n = submission_number(email).unwrap();
        let id = by_submission[&n].first().unwrap();
        assert_eq!(status[id].0, "skipped", "a suppressed address is skipped");
    }
    assert!(
        kills + restarts + storms > 0 && faults > 0,
        "chaos happened"
    );
    sandbox.stop().await;
    drop(pg);
    std::fs::remove_dir_all(dir).unwrap();
}

const COUNTRIES: [&str; 3] = ["United States", "Germany", "Singapore"];

/// The submission number in an address made by [`address`].
fn submission_number(email: &str) -> Option<usize> {
    email.strip_prefix("chaos")?.split('@').next()?.parse().ok()
}

fn address(n: usize) -> String {
    format!("chaos{n}@prospect{}.example", n % 13)
}

/// One storm for every endpoint: 5xx, timeouts or cut connections (before or after
/// the effect), 429 bursts, or calm.
fn storm(rng: &mut fastrand::Rng) -> BTreeMap<String, FaultSpec> {
    let phase = if rng.bool() {
        Phase::After
    } else {
        Phase::Before
    };
    let spec = match rng.u8(0..5) {
        0 => FaultSpec {
            error_rate: 0.4,
            error_status: Some([500, 502, 503][rng.usize(0..3)]),
            phase,
            ..FaultSpec::default()
        },
        1 => FaultSpec {
            timeout_rate: 0.2,
            timeout_ms: Some(3_000),
            phase,
            ..FaultSpec::default()
        },
        2 => FaultSpec {
            drop_rate: 0.2,
            phase,
            ..FaultSpec::default()
        },
        3 => FaultSpec {
            rate_limit_rate: 0.3,
            rate_limit_burst: 5,
            retry_after: Some(1),
            ..FaultSpec::default()
        },
        _ => FaultSpec::default(),
    };
    BTreeMap::from([("*".to_string(), spec)])
}

/// Delivers each entry (a submission number, repeated for duplicates) until it
/// gets a 2xx, eight at a time; the workflow id each delivery got.
async fn deliver_all(deliveries: Vec<usize>, url: &str) -> Vec<(usize, String)> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    futures_util::stream::iter(deliveries)
        .map(|n| {
            let client = client.clone();
            async move {
                let body = serde_json::json!({
                    "portalId": 24681357, "formGuid": "chaos", "conversionId": format!("chaos-{n}"),
                    "values": [
                        {"name": "email", "value": address(n)},
                        {"name": "firstname", "value": format!("Lead{n}")},
                        {"name": "company", "value": "Prospect Co"},
                        {"name": "country", "value": COUNTRIES[n % 3]},
                        {"name": "message", "value": "Could we get a demo of your forecasting?"}
                    ]
                })
                .to_string();
                let started = Instant::now();
                loop {
                    assert!(
                        started.elapsed() < Duration::from_secs(600),
                        "delivery {n} was never accepted"
                    );
                    let mut request = client
                        .post(url)
                        .header("content-type", "application/json")
                        .body(body.clone());
                    for (name, value) in signed_headers(&body, SystemTime::now(), SECRET) {
                        request = request.header(name, value);
                    }
                    if let Ok(response) = request.send().await
                        && response.status().is_success()
                        && let Ok(answer) = response.json::<serde_json::Value>().await
                    {
                        return (
                            n,
                            answer["workflow_id"]
                                .as_str()
                                .unwrap_or_default()
                                .to_string(),
                        );
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        })
        .buffer_unordered(8)
        .collect()
        .await
}

/// Suppressed addresses that received a sent message or a draft in any mailbox,
/// with the message's labels.
fn mailed(
    sandbox: &sales_agent::sandbox::SandboxHandle,
    suppressed: &BTreeSet<String>,
) -> Vec<(String, Vec<String>)> {
    sandbox.inspect(|w| {
        w.mailboxes
            .values()
            .flat_map(|mb| mb.messages.values())
            .flat_map(|m| {
                m.to.iter()
                    .map(move |to| (to.to_ascii_lowercase(), m.label_ids.clone()))
            })
            .filter(|(to, _)| {
                // `Name <address>` or a bare address.
                let address = to
                    .rsplit_once('<')
                    .map_or(to.as_str(), |(_, a)| a.trim_end_matches('>'));
                suppressed.contains(address.trim())
            })
            .collect()
    })
}
