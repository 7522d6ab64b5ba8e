//! Quotas at the providers' published limits, on by default: HubSpot 100 requests
//! per rolling 10 s per token, 4 per second on search endpoints and a daily cap;
//! Gmail 6,000 units per user per rolling minute and 2,000 sends per user per
//! rolling 24 h; Calendar 600 requests per user per minute. Windows are measured on the sandbox clock,
//! so tests advance time instead of sleeping.

use std::collections::{HashMap, VecDeque};

use serde::{Deserialize, Serialize};

/// The limits; every field can be set from the fixture, the options or the CLI.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct QuotaConfig {
    pub enabled: bool,
    /// HubSpot requests per token per rolling window (`TEN_SECONDLY_ROLLING`).
    pub hubspot_per_window: u32,
    pub hubspot_window_ms: u64,
    /// HubSpot search requests per token per second (`SECONDLY`).
    pub hubspot_search_per_second: u32,
    /// HubSpot requests per token per sandbox day (`DAILY`; Free/Starter 250,000).
    pub hubspot_daily: u64,
    /// Gmail quota units per user per rolling window (`userRateLimitExceeded`).
    pub gmail_units_per_window: u32,
    pub gmail_window_ms: u64,
    /// Messages a Gmail user may send per rolling 24 h (Workspace: 2,000).
    pub gmail_sends_per_day: u32,
    /// Calendar requests per user per rolling minute.
    pub calendar_per_minute: u32,
}

impl Default for QuotaConfig {
    fn default() -> Self {
        QuotaConfig {
            enabled: true,
            hubspot_per_window: 100,
            hubspot_window_ms: 10_000,
            hubspot_search_per_second: 4,
            hubspot_daily: 250_000,
            gmail_units_per_window: 6_000,
            gmail_window_ms: 60_000,
            gmail_sends_per_day: 2_000,
            calendar_per_minute: 600,
        }
    }
}

/// Which limit refused a request, and how long until it would pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    HubSpotTenSecondly { retry_after_ms: u64 },
    HubSpotSecondly { retry_after_ms: u64 },
    HubSpotDaily { retry_after_ms: u64 },
    GmailUser { retry_after_ms: u64 },
    GmailSending { retry_after_ms: u64 },
    CalendarUser { retry_after_ms: u64 },
}

/// A rolling window of (time, cost) entries.
#[derive(Debug, Default)]
struct Window {
    entries: VecDeque<(u64, u32)>,
    used: u64,
}

impl Window {
    fn expire(&mut self, now: u64, length: u64) {
        while let Some(&(at, cost)) = self.entries.front() {
            if at + length > now {
                break;
            }
            self.entries.pop_front();
            self.used -= u64::from(cost);
        }
    }

    /// Milliseconds until enough has expired for `cost` more to fit under `limit`.
    fn wait_for(&self, now: u64, length: u64, limit: u64, cost: u32) -> u64 {
        let mut used = self.used;
        for &(at, c) in &self.entries {
            if used + u64::from(cost) <= limit {
                break;
            }
            used -= u64::from(c);
            if used + u64::from(cost) <= limit {
                return (at + length).saturating_sub(now).max(1);
            }
        }
        length
    }

    /// Admits `cost` if it fits under `limit`, else says how long to wait.
    fn admit(&mut self, now: u64, length: u64, limit: u64, cost: u32) -> Result<(), u64> {
        self.expire(now, length);
        if self.used + u64::from(cost) > limit {
            return Err(self.wait_for(now, length, limit, cost));
        }
        self.entries.push_back((now, cost));
        self.used += u64::from(cost);
        Ok(())
    }
}

/// What HubSpot reports in its `X-HubSpot-RateLimit-*` headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateInfo {
    pub max: u32,
    pub remaining: u32,
    pub interval_ms: u64,
}

const DAY_MS: u64 = 86_400_000;

/// Every window the sandbox tracks.
#[derive(Debug, Default)]
pub struct Quotas {
    pub config: QuotaConfig,
    hubspot: HashMap<String, Window>,
    hubspot_search: HashMap<String, Window>,
    /// Token → (sandbox day number, calls that day).
    hubspot_daily: HashMap<String, (u64, u64)>,
    gmail: HashMap<String, Window>,
    gmail_sends: HashMap<String, Window>,
    calendar: HashMap<String, Window>,
}

impl Quotas {
    pub fn new(config: QuotaConfig) -> Self {
        Quotas {
            config,
            ..Quotas::default()
        }
    }

    /// Counts one HubSpot call for `token`; search calls also count against the
    /// per-second search limit. A refused call is not counted. On success says
    /// what the rate-limit headers would report.
    pub fn hubspot(
        &mut self,
        token: &str,
        search: bool,
        now: u64,
    ) -> Result<Option<RateInfo>, Refusal> {
        if !self.config.enabled {
            return Ok(None);
        }
        let c = &self.config;
        let (day, used_today) = self
            .hubspot_daily
            .get(token)
            .copied()
            .unwrap_or((now / DAY_MS, 0));
        let used_today = if day == now / DAY_MS { used_today } else { 0 };
        if used_today >= c.hubspot_daily {
            return Err(Refusal::HubSpotDaily {
                retry_after_ms: DAY_MS - now % DAY_MS,
            });
        }
        if search {
            let window = self.hubspot_search.entry(token.to_string()).or_default();
            window.expire(now, 1_000);
            if window.used + 1 > u64::from(c.hubspot_search_per_second) {
                let retry_after_ms =
                    window.wait_for(now, 1_000, c.hubspot_search_per_second.into(), 1);
                return Err(Refusal::HubSpotSecondly { retry_after_ms });
            }
        }
        let window = self.hubspot.entry(token.to_string()).or_default();
        window
            .admit(now, c.hubspot_window_ms, c.hubspot_per_window.into(), 1)
            .map_err(|retry_after_ms| Refusal::HubSpotTenSecondly { retry_after_ms })?;
        let info = RateInfo {
            max: c.hubspot_per_window,
            remaining: u32::try_from(u64::from(c.hubspot_per_window).saturating_sub(window.used))
                .unwrap_or(0),
            interval_ms: c.hubspot_window_ms,
        };
        self.hubspot_daily
            .insert(token.to_string(), (now / DAY_MS, used_today + 1));
        if search {
            let window = self.hubspot_search.entry(token.to_string()).or_default();
            window.entries.push_back((now, 1));
            window.used += 1;
        }
        Ok(Some(info))
    }

    /// Charges `units` to the Gmail user `email`; a send also counts against the
    /// user's rolling daily sending limit.
    pub fn gmail(&mut self, email: &str, units: u32, send: bool, now: u64) -> Result<(), Refusal> {
        if !self.config.enabled {
            return Ok(());
        }
        let c = self.config.clone();
        let sends = self.gmail_sends.entry(email.to_string()).or_default();
        sends.expire(now, DAY_MS);
        if send && sends.used >= u64::from(c.gmail_sends_per_day) {
            let retry_after_ms = sends.wait_for(now, DAY_MS, c.gmail_sends_per_day.into(), 1);
            return Err(Refusal::GmailSending { retry_after_ms });
        }
        if units > 0 {
            let window = self.gmail.entry(email.to_string()).or_default();
            window
                .admit(
                    now,
                    c.gmail_window_ms,
                    c.gmail_units_per_window.into(),
                    units,
                )
                .map_err(|retry_after_ms| Refusal::GmailUser { retry_after_ms })?;
        }
        if send {
            let sends = self.gmail_sends.entry(email.to_string()).or_default();
            sends.entries.push_back((now, 1));
            sends.used += 1;
        }
        Ok(())
    }

    /// Takes back the last send of `email`: only delivered mail counts toward
    /// the sending limit, and the gate learns the outcome after the handler.
    pub fn refund_send(&mut self, email: &str) {
        if let Some(sends) = self.gmail_sends.get_mut(email)
            && let Some((_, cost)) = sends.entries.pop_back()
        {
            sends.used -= u64::from(cost);
        }
    }

    /// Counts one Calendar request for `email`.
    pub fn calendar(&mut self, email: &str, now: u64) -> Result<(), Refusal> {
        if !self.config.enabled {
            return Ok(());
        }
        let limit = u64::from(self.config.calendar_per_minute);
        let window = self.calendar.entry(email.to_string()).or_default();
        window
            .admit(now, 60_000, limit, 1)
            .map_err(|retry_after_ms| Refusal::CalendarUser { retry_after_ms })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hundred_and_first_call_in_ten_seconds_is_refused_until_the_first_expires() {
        let mut q = Quotas::new(QuotaConfig::default());
        for i in 0..100 {
            assert!(q.hubspot("pat", false, i * 10).is_ok());
        }
        assert_eq!(
            q.hubspot("pat", false, 1_000),
            Err(Refusal::HubSpotTenSecondly {
                retry_after_ms: 9_000
            })
        );
        assert!(q.hubspot("other", false, 1_000).is_ok());
        assert!(q.hubspot("pat", false, 10_000).is_ok());
    }

    #[test]
    fn the_fifth_search_in_a_second_is_refused() {
        let mut q = Quotas::new(QuotaConfig::default());
        for _ in 0..4 {
            assert!(q.hubspot("pat", true, 0).is_ok());
        }
        assert!(matches!(
            q.hubspot("pat", true, 10),
            Err(Refusal::HubSpotSecondly { .. })
        ));
        assert!(q.hubspot("pat", true, 1_000).is_ok());
    }

    #[test]
    fn the_daily_limit_refuses_until_the_next_day_and_headers_count_down() {
        let config = QuotaConfig {
            hubspot_daily: 2,
            ..QuotaConfig::default()
        };
        let mut q = Quotas::new(config);
        let first = q.hubspot("pat", false, 0).expect("admitted").expect("info");
        assert_eq!((first.max, first.remaining), (100, 99));
        assert!(q.hubspot("pat", false, 20_000).is_ok());
        assert_eq!(
            q.hubspot("pat", false, 40_000),
            Err(Refusal::HubSpotDaily {
                retry_after_ms: DAY_MS - 40_000
            })
        );
        assert!(q.hubspot("pat", false, DAY_MS).is_ok());
    }

    #[test]
    fn gmail_units_are_charged_per_user() {
        let mut q = Quotas::new(QuotaConfig::default());
        for _ in 0..60 {
            assert!(q.gmail("a@x", 100, false, 0).is_ok());
        }
        assert!(matches!(
            q.gmail("a@x", 5, false, 1),
            Err(Refusal::GmailUser {
                retry_after_ms: 59_999
            })
        ));
        assert!(q.gmail("b@x", 100, false, 1).is_ok());
    }

    #[test]
    fn sends_beyond_the_daily_limit_are_refused_for_a_rolling_day() {
        let config = QuotaConfig {
            gmail_sends_per_day: 2,
            ..QuotaConfig::default()
        };
        let mut q = Quotas::new(config);
        assert!(q.gmail("a@x", 100, true, 0).is_ok());
        assert!(q.gmail("a@x", 100, true, 120_000).is_ok());
        assert_eq!(
            q.gmail("a@x", 100, true, 240_000),
            Err(Refusal::GmailSending {
                retry_after_ms: DAY_MS - 240_000
            })
        );
        assert!(
            q.gmail("a@x", 10, false, 240_000).is_ok(),
            "reads still pass"
        );
        assert!(q.gmail("a@x", 100, true, DAY_MS).is_ok());
    }
}
