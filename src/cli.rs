//! The command line: `serve` (the default), `migrate`, `backup`, `restore`, `copy`,
//! `rotate-key`, `sandbox`, `demo` and `bench`.
//! `--help` lists every environment variable with its default.

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

use crate::app::Application;
use crate::config::{self, Config};
use crate::store::Store;
use crate::telemetry;

#[derive(Parser)]
#[command(
    name = "sales-agent",
    version,
    about = "Answers inbound HubSpot leads with a personal, threaded Gmail draft."
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the service: webhook intake, workflows, admin API, metrics (default).
    Serve,
    /// Apply pending database migrations and exit; with `--to`, move the schema
    /// to that migration instead (reverting newer ones: a rollback).
    Migrate {
        /// A migration version (e.g. 20261203000009) or directory name.
        #[arg(long)]
        to: Option<String>,
    },
    /// Write a consistent copy of the database to FILE while the service runs
    /// (SQLite: VACUUM INTO; PostgreSQL: pg_dump's custom format).
    Backup { file: std::path::PathBuf },
    /// Restore FILE (made by `backup`) into the new, empty database DATABASE_URL
    /// names, then migrate it.
    Restore { file: std::path::PathBuf },
    /// Copy the SQLite database DATABASE_URL names into the new, empty PostgreSQL
    /// database `--to` names (migrated first; all or nothing). Stop the service
    /// first: what arrives during the copy stays behind.
    Copy {
        /// The target, e.g. postgres://sales_agent:…@db:5432/sales_agent
        #[arg(long)]
        to: String,
    },
    /// Reseal every stored token under SALES_AGENT_SECRET_KEY; the old key goes in
    /// SALES_AGENT_SECRET_KEY_PREVIOUS until this has run.
    RotateKey,
    /// Run the local stand-in for HubSpot, Gmail, Calendar, Drive, OAuth and the LLM.
    #[command(after_long_help = crate::sandbox::help())]
    Sandbox(crate::sandbox::SandboxArgs),
    /// Run the sandbox and the service together on a fresh SQLite file, send the
    /// sample submissions through the signed webhook, and show what happened.
    Demo {
        /// Database for the demo (default: a new file under ./data/).
        #[arg(long)]
        database_url: Option<String>,
        /// Seconds to wait for every workflow to finish.
        #[arg(long, default_value_t = 90)]
        timeout_secs: u64,
        /// Keep the service and the sandbox running afterwards and print
        /// `Console: <url>` (a link that signs you in once) and `Sandbox: <url>`;
        /// the service listens on SALES_AGENT_BIND. Ctrl-C stops both.
        #[arg(long)]
        serve: bool,
        /// With --serve: the sandbox's address (default: a free port on loopback).
        #[arg(long, default_value = "127.0.0.1:0", requires = "serve")]
        sandbox_bind: std::net::SocketAddr,
    },
    /// Run one performance benchmark and print its figures and ratios
    /// (intake, speed, quota, footprint, admin; see docs/PERFORMANCE.md).
    Bench(crate::bench::BenchArgs),
}

/// Parses the arguments and runs the chosen command.
pub fn run() -> anyhow::Result<()> {
    let matches = Cli::command()
        .after_long_help(config::help_text())
        .get_matches();
    let cli = Cli::from_arg_matches(&matches)?;
    let config = Config::from_env().map_err(|e| anyhow::anyhow!("configuration error: {e}"))?;
    // The demo prints a report; only warnings belong beside it.
    let quiet = matches!(cli.command, Some(Command::Demo { .. }));
    let level = match cli.command {
        // A benchmark prints its figures; only errors belong beside them.
        Some(Command::Bench(_)) => "error",
        _ if quiet => "warn",
        _ => "info",
    };
    telemetry::init(config.log_format, level);
    actix_web::rt::System::new().block_on(async move {
        match cli.command.unwrap_or(Command::Serve) {
            Command::Serve => {
                let app = Application::build(config).await?;
                app.run_until_stopped().await?;
            }
            Command::Migrate { to } => migrate(&config, to.as_deref()).await?,
            Command::Backup { file } => {
                let store = Store::open(&config.database_url, 1, config.db_busy_timeout)
                    .map_err(|e| anyhow::anyhow!("DATABASE_URL: {e}"))?;
                crate::store::backup::backup(&store, &config.database_url, &file).await?;
                println!("backup written to {}", file.display());
            }
            Command::Restore { file } => {
                let store = crate::store::backup::restore(&config.database_url, &file).await?;
                let workflows = store.run(crate::store::workflows::count).await?;
                println!(
                    "restored {} into DATABASE_URL: {workflows} workflows",
                    file.display()
                );
            }
            Command::Copy { to } => {
                let report = crate::store::copy::copy(&config.database_url, &to).await?;
                let rows: i64 = report.values().sum();
                println!("copied {rows} rows in {} tables:", report.len());
                for (table, n) in &report {
                    println!("  {table:<32} {n}");
                }
            }
            Command::RotateKey => rotate_key(&config).await?,
            Command::Sandbox(args) => crate::sandbox::serve(args).await?,
            Command::Demo {
                database_url,
                timeout_secs,
                serve,
                sandbox_bind,
            } => {
                let options = crate::demo::DemoOptions {
                    database_url,
                    timeout: std::time::Duration::from_secs(timeout_secs),
                    webhook_secret: config.webhook.client_secrets.first().cloned(),
                    admin_token: config.admin_token.clone(),
                    secret_key: config.secret_keys.key.clone(),
                    serve: serve.then_some(crate::demo::ServeOptions {
                        bind: config.bind,
                        sandbox_bind,
                    }),
                };
                if !crate::demo::run_demo(options).await? {
                    anyhow::bail!("the demo did not finish as expected");
                }
            }
            Command::Bench(args) => crate::bench::run(args).await?,
        }
        Ok(())
    })
}

/// `migrate`: pending migrations applied, or the schema moved to `--to`.
async fn migrate(config: &Config, to: Option<&str>) -> anyhow::Result<()> {
    let store = Store::open(&config.database_url, 1, config.db_busy_timeout)
        .map_err(|e| anyhow::anyhow!("DATABASE_URL: {e}"))?;
    let Some(target) = to else {
        let applied = store
            .migrate()
            .await
            .map_err(|e| anyhow::anyhow!("DATABASE_URL: {e}"))?;
        println!("migrations applied: {applied}");
        return Ok(());
    };
    let moved = store
        .migrate_to(target)
        .await
        .map_err(|e| anyhow::anyhow!("DATABASE_URL: {e}"))?;
    for version in &moved.reverted {
        println!("reverted {version}");
    }
    for version in &moved.applied {
        println!("applied {version}");
    }
    println!(
        "schema at {target}: {} reverted, {} applied",
        moved.reverted.len(),
        moved.applied.len()
    );
    Ok(())
}

/// `rotate-key`: migrations first (a new database has nothing to reseal), then
/// every grant not under the current key resealed in one transaction.
async fn rotate_key(config: &Config) -> anyhow::Result<()> {
    let keyring =
        crate::secrets::Keyring::from_settings(&config.secret_keys)?.ok_or_else(|| {
            anyhow::anyhow!("SALES_AGENT_SECRET_KEY is not set: it names the new key")
        })?;
    let store = Store::open(&config.database_url, 1, config.db_busy_timeout)
        .map_err(|e| anyhow::anyhow!("DATABASE_URL: {e}"))?;
    store
        .migrate()
        .await
        .map_err(|e| anyhow::anyhow!("DATABASE_URL: {e}"))?;
    let key_id = keyring.current_id().to_string();
    let done = crate::accounts::rotate(&store, std::sync::Arc::new(keyring)).await?;
    println!(
        "resealed {} of {} stored grants under key {key_id}; SALES_AGENT_SECRET_KEY_PREVIOUS can now be removed",
        done.resealed, done.total
    );
    Ok(())
}
