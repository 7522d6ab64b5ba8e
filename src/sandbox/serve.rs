//! `sales-agent sandbox`: the command-line front of the sandbox — its flags, the
//! `--help` text (fixture schema, fault controls, endpoint names) and the loop
//! that serves until Ctrl-C or SIGTERM.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;

use super::faults::FaultSpec;
use super::fixture::{Fixture, SCHEMA};
use super::quota::QuotaConfig;
use super::{SandboxOptions, spawn};

/// Every endpoint name, as used by fault tables and `/_sandbox/stats`.
pub const ENDPOINTS: &[&str] = &[
    "hubspot.contacts.search",
    "hubspot.companies.search",
    "hubspot.notes.search",
    "hubspot.tasks.search",
    "hubspot.emails.search",
    "hubspot.meetings.search",
    "hubspot.contacts.create",
    "hubspot.companies.create",
    "hubspot.notes.create",
    "hubspot.tasks.create",
    "hubspot.emails.create",
    "hubspot.meetings.create",
    "hubspot.contacts.update",
    "hubspot.companies.update",
    "hubspot.notes.update",
    "hubspot.tasks.update",
    "hubspot.emails.update",
    "hubspot.meetings.update",
    "hubspot.contacts.get",
    "hubspot.companies.get",
    "hubspot.notes.get",
    "hubspot.tasks.get",
    "hubspot.emails.get",
    "hubspot.meetings.get",
    "hubspot.contacts.batch_read",
    "hubspot.companies.batch_read",
    "hubspot.notes.batch_read",
    "hubspot.tasks.batch_read",
    "hubspot.emails.batch_read",
    "hubspot.meetings.batch_read",
    "hubspot.contacts.list",
    "hubspot.companies.list",
    "hubspot.notes.list",
    "hubspot.tasks.list",
    "hubspot.emails.list",
    "hubspot.meetings.list",
    "hubspot.contacts.upsert",
    "hubspot.associations.list",
    "hubspot.associations.put",
    "hubspot.owners.list",
    "hubspot.forms.submissions",
    "gmail.threads.list",
    "gmail.threads.get",
    "gmail.messages.list",
    "gmail.messages.get",
    "gmail.messages.send",
    "gmail.drafts.create",
    "gmail.drafts.get",
    "gmail.drafts.list",
    "gmail.drafts.send",
    "gmail.drafts.update",
    "gmail.drafts.delete",
    "gmail.profile",
    "calendar.freebusy",
    "calendar.events.insert",
    "calendar.events.get",
    "calendar.events.list",
    "calendar.events.patch",
    "calendar.events.delete",
    "drive.files.list",
    "drive.files.get",
    "drive.permissions.create",
    "drive.files.create",
    "drive.permissions.list",
    "oauth.token",
    "oauth.revoke",
    "oauth.authorize",
    "oauth.consent",
    "oauth.discovery",
    "oauth.certs",
    "oauth.userinfo",
    "hubspot.oauth.authorize",
    "hubspot.oauth.install",
    "hubspot.oauth.token",
    "hubspot.oauth.token_info",
    "hubspot.oauth.refresh_token",
    "llm.chat.completions",
    "llm.models.list",
];

const FAULTS: &str = r#"Faults (per endpoint, deterministic from the seed):
  A table maps an endpoint name, a prefix ("gmail.*") or "*" to a FaultSpec;
  the exact name wins, then the longest prefix. FaultSpec fields (camelCase):
    latencyMs        fixed delay added to every request
    latencyRangeMs   [min, max] extra uniform random delay
    errorRate        0.0-1.0 share answered with errorStatus (default 503)
    timeoutRate      share held for timeoutMs (default 30000), then 504
    dropRate         share whose connection is cut with no response
    phase            "before" (nothing happens) | "after" (effect committed)
    rateLimitRate    share answered 429
    rateLimitBurst   the next N requests are answered 429
    retryAfter       Retry-After for injected 429s: HubSpot ms, Google seconds
    authFailureRate  share answered 401 in the provider's shape
    malformedRate    share answered 200 with broken content (LLM JSON cut short)
  Set them in the fixture ("faults"), with --faults FILE, or at runtime:
    POST /_sandbox/faults {"seed"?: N, "faults": {...}}   replace (and restart)
    GET  /_sandbox/faults | /_sandbox/stats               read the table | counters
    POST /_sandbox/quotas QuotaConfig                     change quota limits
    POST /_sandbox/clock/advance {"ms": N}                move the clock forward
    POST /_sandbox/oauth/revoke {"refreshToken": "..."}   revoke a grant
    POST /_sandbox/reset                                  back to the fixture
  What people do in a mailbox:
    POST /_sandbox/gmail/reply {"mailbox", "threadId", "from", "name"?, "body"?}
                                                          a prospect's reply in a thread
    POST /_sandbox/gmail/send-draft {"mailbox", "draftId"} the rep sends a draft
Quotas (on by default; QuotaConfig fields): enabled, hubspotPerWindow (100),
  hubspotWindowMs (10000), hubspotSearchPerSecond (4),
  gmailUnitsPerWindow (6000), gmailWindowMs (60000), gmailSendsPerDay (2000),
  calendarPerMinute (600)."#;

/// The long help for `sales-agent sandbox --help`.
pub fn help() -> String {
    format!(
        "{SCHEMA}\n\n{FAULTS}\n\nEndpoint names:\n  {}\n",
        ENDPOINTS.join("\n  ")
    )
}

/// Flags of `sales-agent sandbox`.
#[derive(Debug, clap::Args)]
pub struct SandboxArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8089")]
    pub bind: SocketAddr,
    /// Fixture file (JSON) to load instead of the embedded demo.
    #[arg(long)]
    pub fixture: Option<PathBuf>,
    /// Seed for fault sequences (overrides the fixture's).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Fault table file (JSON object: endpoint → FaultSpec), merged over the fixture's.
    #[arg(long)]
    pub faults: Option<PathBuf>,
    /// Turn quota enforcement off.
    #[arg(long)]
    pub no_quotas: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Sandbox(#[from] super::SandboxError),
    #[error("--fixture: {0}")]
    Fixture(#[from] super::FixtureError),
    #[error("--faults {path}: {reason}")]
    Faults { path: String, reason: String },
    #[error("waiting for a stop signal: {0}")]
    Signal(std::io::Error),
}

fn read_faults(path: &std::path::Path) -> Result<BTreeMap<String, FaultSpec>, ServeError> {
    let err = |reason: String| ServeError::Faults {
        path: path.display().to_string(),
        reason,
    };
    let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
    serde_json::from_str(&text).map_err(|e| err(e.to_string()))
}

/// Runs the sandbox until Ctrl-C or SIGTERM. Must run inside an actix system.
pub async fn serve(args: SandboxArgs) -> Result<(), ServeError> {
    let fixture = match &args.fixture {
        Some(path) => Fixture::from_file(path)?,
        None => Fixture::demo(),
    };
    let faults = match &args.faults {
        Some(path) => read_faults(path)?,
        None => BTreeMap::new(),
    };
    let mut quotas = fixture.quotas.clone().unwrap_or_default();
    if args.no_quotas {
        quotas = QuotaConfig {
            enabled: false,
            ..quotas
        };
    }
    let handle = spawn(SandboxOptions {
        fixture: Some(fixture),
        seed: args.seed,
        bind: Some(args.bind),
        faults,
        quotas: Some(quotas),
        ..SandboxOptions::default()
    })?;
    println!("sandbox listening on {}", handle.base_url());
    println!(
        "  use it as the base URL for HubSpot, Gmail, Calendar, Drive, OAuth (/token) and the LLM (/v1)"
    );
    println!(
        "  stats: {}/_sandbox/stats — stop with Ctrl-C or SIGTERM",
        handle.base_url()
    );
    let stopped = shutdown_signal().await;
    handle.stop().await;
    stopped
}

/// Resolves on Ctrl-C (SIGINT) or SIGTERM.
pub async fn shutdown_signal() -> Result<(), ServeError> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate()).map_err(ServeError::Signal)?;
        tokio::select! {
            r = tokio::signal::ctrl_c() => r.map_err(ServeError::Signal),
            _ = term.recv() => Ok(()),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await.map_err(ServeError::Signal)
    }
}
