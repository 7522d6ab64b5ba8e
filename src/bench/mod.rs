//! `sales-agent bench <name>`: the performance benchmarks. Each starts what it
//! measures (sandbox, service, databases) itself, repeats its measurement
//! (`--runs`, at least 5), and prints the median, the spread (min–max) and the
//! ratio to a reference measured in the same run, because this machine is shared
//! and only same-run ratios are stable. docs/PERFORMANCE.md records the results.
//!
//! ```text
//! stats.rs      median, percentiles, spread, the verdict line
//! rig.rs        sandbox + service (in this process or a child), signed deliveries,
//!               a private PostgreSQL database per benchmark
//! intake.rs     webhooks/s and latency vs bare inserts through the same pool
//! speed.rs      webhook → draft with 50 ms per API call vs the round trips made
//! quota.rs      completed workflows/min under HubSpot's quota vs its bound
//!               (`--processes N`: N processes on PostgreSQL sharing it)
//! scale.rs      workflows/min with 1, 2 and 3 processes when no quota binds
//! fleet.rs      several service processes on one PostgreSQL database
//! footprint.rs  RSS with 10,000 workflows in flight vs idle
//! admin.rs      list/filter p95 over 1,000,000 workflows vs the same query bare
//! fill.rs       a million leads in a few SQL statements, on either backend
//! console.rs    the console's list and detail pages over them vs 50 ms
//! ```

mod admin;
mod console;
mod fill;
mod fleet;
mod footprint;
mod intake;
mod quota;
mod rig;
mod scale;
mod speed;
pub mod stats;

/// Which benchmark, and how hard.
#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    #[arg(value_enum)]
    pub name: BenchName,
    /// Repetitions of the measurement; the median and spread are over these.
    #[arg(long, default_value_t = 5)]
    pub runs: usize,
    /// PostgreSQL server for the PostgreSQL runs; a database `bench_…` is
    /// created on it and dropped afterwards.
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
    pub pg_url: String,
    /// The benchmark's main count instead of its default (intake: deliveries per
    /// run; speed: leads per run; quota: submissions; footprint: workflows in
    /// flight; admin: workflows stored).
    #[arg(long)]
    pub size: Option<usize>,
    /// quota: HubSpot's window in milliseconds, on the sandbox and the client alike
    /// (10,000 at HubSpot; shorter keeps the run short with the same ratio).
    #[arg(long, default_value_t = 2_000)]
    pub window_ms: u64,
    /// quota: this many `sales-agent serve` processes on PostgreSQL instead of
    /// one in-process service on SQLite; scale: the most processes tried (3).
    #[arg(long)]
    pub processes: Option<usize>,
    /// admin: the database the million workflows go into.
    #[arg(long, value_enum, default_value_t = Backend::Postgres)]
    pub backend: Backend,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Backend {
    Postgres,
    Sqlite,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum BenchName {
    Intake,
    Speed,
    Quota,
    Footprint,
    Admin,
    Scale,
}

/// Runs one benchmark inside the current actix system.
pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    anyhow::ensure!(args.runs >= 1, "--runs must be at least 1");
    println!(
        "benchmark {:?}: {} runs, {} cores, {}",
        args.name,
        args.runs,
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC")
    );
    match args.name {
        BenchName::Intake => intake::run(&args).await,
        BenchName::Speed => speed::run(&args).await,
        BenchName::Quota => quota::run(&args).await,
        BenchName::Footprint => footprint::run(&args).await,
        BenchName::Admin => admin::run(&args).await,
        BenchName::Scale => scale::run(&args).await,
    }
}
