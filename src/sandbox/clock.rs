//! The sandbox's clock: real time plus an offset that tests can advance, so quota
//! windows, token expiry and `newer_than:` can be exercised without sleeping.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

/// Monotonic milliseconds since the sandbox started (for windows and expiry) and a
/// wall clock (for dates shown to clients); both move with [`Clock::advance`].
#[derive(Debug)]
pub struct Clock {
    started: Instant,
    started_wall: DateTime<Utc>,
    offset_ms: AtomicU64,
}

impl Clock {
    pub fn new() -> Self {
        Clock {
            started: Instant::now(),
            started_wall: Utc::now(),
            offset_ms: AtomicU64::new(0),
        }
    }

    /// Milliseconds since start, including every advance.
    pub fn now_ms(&self) -> u64 {
        let real = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        real.saturating_add(self.offset_ms.load(Ordering::Relaxed))
    }

    /// Wall-clock time, including every advance.
    pub fn now_utc(&self) -> DateTime<Utc> {
        let elapsed = chrono::Duration::milliseconds(i64::try_from(self.now_ms()).unwrap_or(0));
        self.started_wall + elapsed
    }

    /// Moves time forward; it never goes back.
    pub fn advance(&self, by: Duration) {
        let ms = u64::try_from(by.as_millis()).unwrap_or(u64::MAX);
        self.offset_ms.fetch_add(ms, Ordering::Relaxed);
    }
}

impl Default for Clock {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advancing_moves_both_clocks_forward() {
        let clock = Clock::new();
        let (ms, wall) = (clock.now_ms(), clock.now_utc());
        clock.advance(Duration::from_secs(60));
        assert!(clock.now_ms() >= ms + 60_000);
        assert!(clock.now_utc() >= wall + chrono::Duration::seconds(60));
    }
}
