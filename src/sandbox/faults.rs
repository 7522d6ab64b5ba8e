//! Fault injection per endpoint, deterministic from a seed: latency (fixed and a
//! random range), 5xx, timeouts (the request is held past the client's timeout,
//! before or after its effect), 429 bursts and auth failures.
//!
//! Each endpoint draws from its own generator, seeded from the sandbox seed and the
//! endpoint's name, and every request draws the same number of values, so a given
//! seed gives the same sequence per endpoint however requests interleave.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use rand::{RngExt, SeedableRng};
use rand_pcg::Pcg64;
use serde::{Deserialize, Serialize};

/// When a 5xx or timeout strikes: before the request takes effect (nothing
/// changed) or after it (the effect is committed, the client sees a failure).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    #[default]
    Before,
    After,
}

/// The faults for one endpoint (or a group: `gmail.*`, `*`). Rates are 0.0–1.0.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct FaultSpec {
    /// Added to every request.
    pub latency_ms: u64,
    /// A further uniform random delay `[min, max]` in milliseconds.
    pub latency_range_ms: Option<(u64, u64)>,
    /// Share of requests answered with `error_status`.
    pub error_rate: f64,
    /// The 5xx to answer with (default 503).
    pub error_status: Option<u16>,
    /// Share of requests held for `timeout_ms` and then answered 504.
    pub timeout_rate: f64,
    /// How long a timed-out request is held (default 30 000 ms).
    pub timeout_ms: Option<u64>,
    /// Share of requests whose connection is cut with no response at all.
    pub drop_rate: f64,
    /// Whether 5xx, timeouts and drops strike before or after the effect.
    pub phase: Phase,
    /// Share of requests answered 429.
    pub rate_limit_rate: f64,
    /// The next N requests are answered 429 (a burst), then this counts down.
    pub rate_limit_burst: u32,
    /// `Retry-After` for injected 429s, in the provider's unit (HubSpot ms, Google s).
    pub retry_after: Option<u64>,
    /// Which limit an injected 429 claims: HubSpot's `policyName`
    /// (`TEN_SECONDLY_ROLLING`, `SECONDLY`, `DAILY`) or Google's reason
    /// (`rateLimitExceeded`, `userRateLimitExceeded`, `dailyLimitExceeded` → 403).
    pub rate_limit_reason: Option<String>,
    /// Share of requests answered 401 as if the credential were bad.
    pub auth_failure_rate: f64,
    /// Share of requests whose answer is well-formed HTTP but carries broken
    /// content (the LLM's JSON cut short). Drawn from the latency draw, so adding
    /// it leaves every other sequence unchanged.
    pub malformed_rate: f64,
}

/// What happens to one request.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Plan {
    pub delay: Duration,
    pub auth_failure: bool,
    pub rate_limited: Option<Injected429>,
    pub error: Option<u16>,
    pub timeout: Option<Duration>,
    pub dropped: bool,
    pub phase: Phase,
    pub malformed: bool,
}

/// An injected 429: its `Retry-After` and the limit it names.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Injected429 {
    pub retry_after: Option<u64>,
    pub reason: Option<String>,
}

/// The fault table plus one generator per endpoint.
#[derive(Debug)]
pub struct Faults {
    seed: u64,
    table: BTreeMap<String, FaultSpec>,
    rngs: HashMap<String, Pcg64>,
}

impl Faults {
    pub fn new(seed: u64, table: BTreeMap<String, FaultSpec>) -> Self {
        Faults {
            seed,
            table,
            rngs: HashMap::new(),
        }
    }

    pub fn table(&self) -> &BTreeMap<String, FaultSpec> {
        &self.table
    }

    /// Replaces the table and restarts every endpoint's sequence from the seed.
    pub fn replace(&mut self, seed: Option<u64>, table: BTreeMap<String, FaultSpec>) {
        if let Some(seed) = seed {
            self.seed = seed;
        }
        self.table = table;
        self.rngs.clear();
    }

    /// The spec that governs `endpoint`: its own, else the longest matching
    /// `prefix.*`, else `*`.
    fn spec_key(&self, endpoint: &str) -> Option<String> {
        if self.table.contains_key(endpoint) {
            return Some(endpoint.to_string());
        }
        self.table
            .keys()
            .filter(|k| match k.strip_suffix('*') {
                Some(prefix) => endpoint.starts_with(prefix),
                None => false,
            })
            .max_by_key(|k| k.len())
            .cloned()
    }

    /// Decides the fate of one request to `endpoint`.
    pub fn plan(&mut self, endpoint: &str) -> Plan {
        let Some(key) = self.spec_key(endpoint) else {
            return Plan::default();
        };
        let seed = self.seed ^ fnv1a(endpoint);
        let rng = self
            .rngs
            .entry(endpoint.to_string())
            .or_insert_with(|| Pcg64::seed_from_u64(seed));
        // Always draw six values so sequences do not depend on which faults are on.
        let draws: [f64; 6] = std::array::from_fn(|_| rng.random::<f64>());
        let Some(spec) = self.table.get_mut(&key) else {
            return Plan::default();
        };
        let mut delay = spec.latency_ms;
        if let Some((lo, hi)) = spec.latency_range_ms {
            let (lo, hi) = (lo.min(hi), lo.max(hi));
            delay += lo + ((hi - lo) as f64 * draws[0]).round() as u64;
        }
        let burst = spec.rate_limit_burst > 0;
        if burst {
            spec.rate_limit_burst -= 1;
        }
        Plan {
            delay: Duration::from_millis(delay),
            auth_failure: draws[1] < spec.auth_failure_rate,
            rate_limited: (burst || draws[2] < spec.rate_limit_rate).then(|| Injected429 {
                retry_after: spec.retry_after,
                reason: spec.rate_limit_reason.clone(),
            }),
            error: (draws[3] < spec.error_rate).then(|| spec.error_status.unwrap_or(503)),
            timeout: (draws[4] < spec.timeout_rate)
                .then(|| Duration::from_millis(spec.timeout_ms.unwrap_or(30_000))),
            dropped: draws[5] < spec.drop_rate,
            phase: spec.phase,
            malformed: draws[0] < spec.malformed_rate,
        }
    }
}

/// A stable 64-bit hash (FNV-1a): seeds and derived ids mean the same thing
/// across builds and platforms, unlike std's randomised hasher.
pub fn fnv1a(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(key: &str, spec: FaultSpec) -> BTreeMap<String, FaultSpec> {
        BTreeMap::from([(key.to_string(), spec)])
    }

    #[test]
    fn the_same_seed_gives_the_same_sequence() {
        let spec = FaultSpec {
            error_rate: 0.5,
            ..FaultSpec::default()
        };
        let run = |seed| {
            let mut faults = Faults::new(seed, table("gmail.*", spec.clone()));
            (0..32)
                .map(|_| faults.plan("gmail.drafts.send").error.is_some())
                .collect::<Vec<_>>()
        };
        assert_eq!(run(7), run(7));
        assert_ne!(run(7), run(8));
    }

    #[test]
    fn an_exact_name_wins_over_a_prefix_and_a_burst_counts_down() {
        let mut t = table("*", FaultSpec::default());
        t.insert(
            "hubspot.notes.create".into(),
            FaultSpec {
                rate_limit_burst: 2,
                ..FaultSpec::default()
            },
        );
        let mut faults = Faults::new(1, t);
        assert!(faults.plan("hubspot.notes.create").rate_limited.is_some());
        assert!(faults.plan("hubspot.notes.create").rate_limited.is_some());
        assert!(faults.plan("hubspot.notes.create").rate_limited.is_none());
        assert!(faults.plan("gmail.drafts.send").rate_limited.is_none());
    }
}
