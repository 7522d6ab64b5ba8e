//! How long personal data is kept, and how often the janitor enforces it
//! (`store::retention`, run by the supervisor). The defaults and why they are
//! what they are: README, "Retention and erasure".

use std::time::Duration;

use super::ConfigError;
use super::source::Source;

/// Each age is `None` when its variable is 0: that kind is kept for good.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetentionConfig {
    /// Finished workflows older than this go whole: the submission, the raw
    /// event, every step's result and ledger row.
    pub submissions: Option<Duration>,
    /// Every step's output and error on finished workflows older than this
    /// (what CRM, calendar, Drive and Gmail told us).
    pub step_outputs: Option<Duration>,
    /// The reply's text and the summary of earlier mail on finished workflows
    /// older than this.
    pub messages: Option<Duration>,
    /// Audit entries keep who, what, when and which workflow for good; their
    /// detail is blanked after this.
    pub audit_details: Option<Duration>,
    /// How often the janitor runs; zero: never (another process runs it).
    pub every: Duration,
    /// Rows per batch: each batch is one short transaction.
    pub batch: i64,
}

pub(super) fn retention_config<F: Fn(&str) -> Option<String>>(
    source: &Source<'_, F>,
) -> Result<RetentionConfig, ConfigError> {
    let days = |name| -> Result<Option<Duration>, ConfigError> {
        let days: u64 = source.parse(name)?;
        Ok((days > 0).then(|| Duration::from_secs(days * 86_400)))
    };
    Ok(RetentionConfig {
        submissions: days("SALES_AGENT_RETAIN_SUBMISSIONS_DAYS")?,
        step_outputs: days("SALES_AGENT_RETAIN_STEP_OUTPUTS_DAYS")?,
        messages: days("SALES_AGENT_RETAIN_MESSAGES_DAYS")?,
        audit_details: days("SALES_AGENT_RETAIN_AUDIT_DETAILS_DAYS")?,
        every: Duration::from_secs(source.parse::<u64>("SALES_AGENT_JANITOR_SECS")?),
        batch: source.parse_positive("SALES_AGENT_JANITOR_BATCH")?,
    })
}

#[cfg(test)]
mod tests {
    use crate::config::Config;

    #[test]
    fn the_defaults_keep_messages_shortest_and_audit_details_longest() {
        let r = Config::defaults().retention;
        let day = 86_400;
        assert_eq!(r.messages.map(|d| d.as_secs() / day), Some(90));
        assert_eq!(r.step_outputs.map(|d| d.as_secs() / day), Some(180));
        assert_eq!(r.submissions.map(|d| d.as_secs() / day), Some(365));
        assert_eq!(r.audit_details.map(|d| d.as_secs() / day), Some(730));
        assert_eq!(r.every.as_secs(), 3600);
    }

    #[test]
    fn zero_days_keeps_that_kind_for_good() {
        let config = Config::from_lookup(|name| {
            (name == "SALES_AGENT_RETAIN_MESSAGES_DAYS").then(|| "0".to_string())
        })
        .unwrap();
        assert_eq!(config.retention.messages, None);
        assert!(config.retention.submissions.is_some());
    }
}
