//! Throughput with more processes: workflows per minute with 1, 2 and 3
//! `sales-agent serve` processes on one PostgreSQL database when no quota binds
//! (the sandbox's quotas off, the clients' limits lifted), 300 submissions at
//! once spread over the processes (`--size`). Beside each figure: its ratio to one
//! process, and the cores the processes kept busy (their CPU seconds over the
//! wall time) and the cores this process (sandbox and deliveries) did, which
//! names the bound when the ratio stops growing: on a 2-core machine the
//! processes and the sandbox share the same two cores. The machine's busy
//! cores (everything, PostgreSQL and other work on a shared machine included)
//! show whether the cores were all taken.

use std::time::{Duration, Instant};

use super::BenchArgs;
use super::fleet::{Fleet, cpu_seconds, machine_busy_seconds};
use super::rig::{self, PgDatabase};
use super::stats::Summary;
use crate::sandbox::QuotaConfig;
use crate::store::Store;

pub async fn run(args: &BenchArgs) -> anyhow::Result<()> {
    let submissions = args.size.unwrap_or(300);
    let most = args.processes.unwrap_or(3).max(1);
    println!("{submissions} submissions per run, quotas off, PostgreSQL\n");
    let mut one = None;
    for n in 1..=most {
        let (mut rates, mut fleet_cores, mut own_cores, mut busy) =
            (vec![], vec![], vec![], vec![]);
        for run in 0..args.runs {
            let r = one_run(args, n, submissions, run).await?;
            println!(
                "  {n} processes, run {}: {:.0} workflows/min, processes {:.2} cores, sandbox + deliveries {:.2} cores, machine {:.2} cores busy",
                run + 1,
                r.per_minute,
                r.fleet_cores,
                r.own_cores,
                r.machine_cores
            );
            busy.push(r.machine_cores);
            rates.push(r.per_minute);
            fleet_cores.push(r.fleet_cores);
            own_cores.push(r.own_cores);
        }
        let rate = Summary::of(&rates);
        let base = *one.get_or_insert(rate.median);
        println!(
            "{n} processes: {} workflows/min | ×{:.2} of one process | processes {} cores, sandbox + deliveries {} cores, machine {} cores busy",
            rate.show(0),
            rate.median / base,
            Summary::of(&fleet_cores).show(2),
            Summary::of(&own_cores).show(2),
            Summary::of(&busy).show(2)
        );
    }
    println!(
        "\nbound: {} cores on this machine, shared by the processes, PostgreSQL and the sandbox",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    Ok(())
}

struct RunFigures {
    per_minute: f64,
    fleet_cores: f64,
    own_cores: f64,
    /// Everything on the machine (PostgreSQL and other work included).
    machine_cores: f64,
}

async fn one_run(
    args: &BenchArgs,
    processes: usize,
    submissions: usize,
    run: usize,
) -> anyhow::Result<RunFigures> {
    let quotas = QuotaConfig {
        enabled: false,
        ..QuotaConfig::default()
    };
    let (sandbox, fixture) = rig::sandbox(Default::default(), quotas)?;
    let db = PgDatabase::create(&args.pg_url, "scale")?;
    let secret = rig::secret();
    let env = rig::service_env(
        &db.url,
        &sandbox,
        &fixture,
        &secret,
        &[
            ("SALES_AGENT_HUBSPOT_REQUESTS_PER_10S", "100000"),
            ("SALES_AGENT_HUBSPOT_SEARCHES_PER_SEC", "10000"),
            ("SALES_AGENT_GMAIL_UNITS_PER_MIN", "100000000"),
            ("SALES_AGENT_GMAIL_MAX_IN_FLIGHT", "16"),
            ("SALES_AGENT_CALENDAR_REQUESTS_PER_MIN", "100000000"),
            ("SALES_AGENT_DRIVE_REQUESTS_PER_MIN", "100000000"),
            ("SALES_AGENT_LLM_REQUESTS_PER_MIN", "100000000"),
            ("SALES_AGENT_CONCURRENCY", "64"),
        ],
    )?;
    let fleet = Fleet::start(&env, processes).await?;
    let store = Store::open(&db.url, 2, Duration::from_secs(30))?;
    let (fleet_cpu, own_cpu, machine) = (
        fleet.cpu_seconds(),
        cpu_seconds(std::process::id()),
        machine_busy_seconds(),
    );
    let started = Instant::now();
    let tag = format!("s{processes}r{run}x");
    let deadline = Duration::from_secs(1_800);
    rig::deliver_and_finish(&fleet.ports, &secret, &tag, submissions, &store, deadline).await?;
    let elapsed = started.elapsed().as_secs_f64();
    let figures = RunFigures {
        per_minute: submissions as f64 / elapsed * 60.0,
        fleet_cores: (fleet.cpu_seconds() - fleet_cpu) / elapsed,
        own_cores: (cpu_seconds(std::process::id()) - own_cpu) / elapsed,
        machine_cores: (machine_busy_seconds() - machine) / elapsed,
    };
    drop(fleet);
    sandbox.stop().await;
    Ok(figures)
}
