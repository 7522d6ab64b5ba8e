//! Settings of the workflow engine: concurrency and leases, retries, who is
//! answered, where assets come from, and the send-mode limits.

use std::path::PathBuf;
use std::time::Duration;

use crate::domain::{Lang, WorkingHours};

use super::source::Source;
use super::{ConfigError, invalid};

#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Whether this process runs workflows (false: an intake-only node).
    pub run_workflows: bool,
    pub concurrency: usize,
    pub lease: Duration,
    pub max_attempts: i32,
    pub retry_base: Duration,
    pub retry_max: Duration,
    pub shutdown_grace: Duration,
    /// On SIGTERM, how long readiness fails before the server stops taking connections.
    pub drain: Duration,
    pub reps_file: Option<PathBuf>,
    pub allowed_forms: Vec<String>,
    pub internal_domains: Vec<String>,
    pub cool_down: Duration,
    pub asset_folders: Vec<String>,
    pub daily_send_limit: i64,
    /// Prospect-local hours `[from, to)` wrapping midnight when `from > to`.
    pub quiet_hours: (u32, u32),
    pub quiet_weekends: bool,
    /// Domain of generated Message-IDs; `None` uses the public URL's host (see
    /// `Config::sender_domain`).
    pub sender_domain: Option<String>,
    /// Who writes the reply: the built-in templates or the LLM (with the
    /// templates as fallback).
    pub composer: ComposerMode,
    /// The asset catalogue is re-synced from Drive when older than this.
    pub asset_sync_every: Duration,
    /// Grant the prospect read access to the linked files (no Drive email).
    pub asset_share: bool,
    /// How often the supervisor checks experiment outcomes; zero: never.
    pub experiment_check_every: Duration,
    /// How long an offered slot stays held for the workflow that offered it.
    pub slot_hold: Duration,
    /// Also read threads with anyone at the prospect's company domain.
    pub conversation_company_threads: bool,
    /// The prospect's business hours and days, in their zone.
    pub prospect_hours: WorkingHours,
    /// The language of a prospect whose message, form and country say none,
    /// and of reps who list no languages.
    pub default_language: Lang,
    /// How often the supervisor reads open drafts' threads; zero: never.
    pub stale_check_every: Duration,
    /// Open drafts read per check.
    pub stale_check_batch: i64,
    /// What a confirmed booking does to the rep's calendar.
    pub booking_calendar: BookingCalendar,
    /// The Drive folder booked meetings' briefs are created in; `None`: no brief.
    pub brief_folder: Option<String>,
}

/// `SALES_AGENT_BOOKING_CALENDAR`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BookingCalendar {
    /// The event is made at once (Meet, invitation from Google).
    Auto,
    /// The calendar is left alone until the rep confirms in the console.
    Confirm,
}

/// `SALES_AGENT_COMPOSER`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ComposerMode {
    Template,
    Llm,
}

pub(super) fn engine_config<F: Fn(&str) -> Option<String>>(
    source: &Source<'_, F>,
) -> Result<EngineConfig, ConfigError> {
    let secs = |name| -> Result<Duration, ConfigError> {
        Ok(Duration::from_secs(source.parse_positive(name)?))
    };
    let quiet = source.string("SALES_AGENT_QUIET_HOURS");
    let quiet_hours = quiet
        .split_once('-')
        .and_then(|(a, b)| Some((a.trim().parse::<u32>().ok()?, b.trim().parse::<u32>().ok()?)))
        .filter(|(a, b)| *a < 24 && *b < 24)
        .ok_or_else(|| {
            invalid(
                "SALES_AGENT_QUIET_HOURS",
                format!("expected FROM-TO hours like 20-8, got {quiet:?}"),
            )
        })?;
    Ok(EngineConfig {
        run_workflows: source.parse_bool("SALES_AGENT_RUN_WORKFLOWS")?,
        concurrency: source.parse_positive("SALES_AGENT_CONCURRENCY")?,
        lease: secs("SALES_AGENT_LEASE_SECS")?,
        max_attempts: source.parse_positive("SALES_AGENT_WORKFLOW_MAX_ATTEMPTS")?,
        retry_base: secs("SALES_AGENT_RETRY_BASE_SECS")?,
        retry_max: secs("SALES_AGENT_RETRY_MAX_SECS")?,
        shutdown_grace: secs("SALES_AGENT_SHUTDOWN_GRACE_SECS")?,
        drain: Duration::from_secs(source.parse::<u64>("SALES_AGENT_DRAIN_SECS")?),
        reps_file: source.raw("SALES_AGENT_REPS_FILE").map(PathBuf::from),
        allowed_forms: source.list("SALES_AGENT_ALLOWED_FORMS"),
        internal_domains: source
            .list("SALES_AGENT_INTERNAL_DOMAINS")
            .into_iter()
            .map(|d| d.to_lowercase())
            .collect(),
        cool_down: Duration::from_secs(3600 * source.parse::<u64>("SALES_AGENT_COOL_DOWN_HOURS")?),
        asset_folders: source.list("SALES_AGENT_ASSET_FOLDERS"),
        daily_send_limit: source.parse_positive("SALES_AGENT_DAILY_SEND_LIMIT")?,
        quiet_hours,
        quiet_weekends: source.parse_bool("SALES_AGENT_QUIET_WEEKENDS")?,
        sender_domain: source.raw("SALES_AGENT_SENDER_DOMAIN"),
        composer: match source.string("SALES_AGENT_COMPOSER").as_str() {
            "template" => ComposerMode::Template,
            "llm" => ComposerMode::Llm,
            other => {
                return Err(invalid(
                    "SALES_AGENT_COMPOSER",
                    format!("expected template or llm, got {other:?}"),
                ));
            }
        },
        asset_sync_every: secs("SALES_AGENT_ASSET_SYNC_SECS")?,
        asset_share: source.parse_bool("SALES_AGENT_ASSET_SHARE")?,
        experiment_check_every: Duration::from_secs(
            source.parse::<u64>("SALES_AGENT_EXPERIMENT_CHECK_SECS")?,
        ),
        slot_hold: Duration::from_secs(
            60 * source.parse_positive::<u64>("SALES_AGENT_SLOT_HOLD_MINS")?,
        ),
        conversation_company_threads: source
            .parse_bool("SALES_AGENT_CONVERSATION_COMPANY_THREADS")?,
        prospect_hours: WorkingHours::parse(
            &source.string("SALES_AGENT_PROSPECT_HOURS"),
            &source.string("SALES_AGENT_PROSPECT_DAYS"),
        )
        .map_err(|message| {
            invalid(
                "SALES_AGENT_PROSPECT_HOURS / SALES_AGENT_PROSPECT_DAYS",
                message,
            )
        })?,
        default_language: {
            let raw = source.string("SALES_AGENT_DEFAULT_LANGUAGE");
            Lang::from_code(&raw).ok_or_else(|| {
                invalid(
                    "SALES_AGENT_DEFAULT_LANGUAGE",
                    format!("expected one of en, de, fr, es, got {raw:?}"),
                )
            })?
        },
        stale_check_every: Duration::from_secs(
            source.parse::<u64>("SALES_AGENT_STALE_CHECK_INTERVAL")?,
        ),
        stale_check_batch: source.parse_positive("SALES_AGENT_STALE_CHECK_BATCH")?,
        booking_calendar: match source.string("SALES_AGENT_BOOKING_CALENDAR").as_str() {
            "auto" => BookingCalendar::Auto,
            "confirm" => BookingCalendar::Confirm,
            other => {
                return Err(invalid(
                    "SALES_AGENT_BOOKING_CALENDAR",
                    format!("expected auto or confirm, got {other:?}"),
                ));
            }
        },
        brief_folder: source
            .raw("SALES_AGENT_BRIEF_FOLDER_ID")
            .filter(|f| !f.trim().is_empty()),
    })
}
