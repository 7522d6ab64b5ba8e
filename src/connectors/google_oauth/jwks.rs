//! The provider's signing keys (a JWKS, RFC 7517), found through the OpenID
//! discovery document or a configured URL, cached for the `Cache-Control: max-age`
//! the provider sends, and fetched again when a token names a key id we do not
//! hold — Google rotates its keys — at most once per [`JwksCache::min_refetch`], so
//! tokens with made-up key ids cannot make us hammer the provider.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use jsonwebtoken::DecodingKey;
use jsonwebtoken::jwk::Jwk;
use reqwest::header::CACHE_CONTROL;
use serde::Deserialize;
use tokio::time::Instant;
use url::Url;

use crate::connectors::ConnectorError;
use crate::connectors::error::Provider;
use crate::connectors::http;

/// Kept this long when the provider names no `max-age`.
const DEFAULT_MAX_AGE: Duration = Duration::from_secs(3600);
/// Never kept longer than this, whatever the provider says.
const LONGEST_MAX_AGE: Duration = Duration::from_secs(24 * 3600);

/// Where the keys are.
#[derive(Debug, Clone)]
pub enum JwksSource {
    /// The JWKS itself.
    Url(Url),
    /// The issuer: `{issuer}/.well-known/openid-configuration` names `jwks_uri`.
    Discovery(String),
}

#[derive(Default)]
struct Held {
    keys: HashMap<String, DecodingKey>,
    jwks_uri: Option<Url>,
    fetched_at: Option<Instant>,
    fresh_until: Option<Instant>,
}

pub struct JwksCache {
    http: reqwest::Client,
    source: JwksSource,
    min_refetch: Duration,
    held: tokio::sync::Mutex<Held>,
    fetches: AtomicU64,
}

/// What [`JwksCache::key`] found.
pub enum Lookup {
    Found(DecodingKey),
    /// Not in the set, even after a refetch (or a refetch was not allowed yet).
    Unknown,
}

#[derive(Deserialize)]
struct Discovery {
    jwks_uri: String,
}

#[derive(Deserialize)]
struct KeySet {
    keys: Vec<serde_json::Value>,
}

impl JwksCache {
    pub fn new(http: reqwest::Client, source: JwksSource) -> Self {
        JwksCache {
            http,
            source,
            min_refetch: Duration::from_secs(10),
            held: tokio::sync::Mutex::new(Held::default()),
            fetches: AtomicU64::new(0),
        }
    }

    /// Sets the shortest time between two fetches caused by unknown key ids.
    pub fn with_min_refetch(mut self, every: Duration) -> Self {
        self.min_refetch = every;
        self
    }

    pub fn min_refetch(&self) -> Duration {
        self.min_refetch
    }

    /// How many times the key set was fetched.
    pub fn fetches(&self) -> u64 {
        self.fetches.load(Ordering::Relaxed)
    }

    /// The RSA key with id `kid`.
    pub async fn key(&self, kid: &str) -> Result<Lookup, ConnectorError> {
        let mut held = self.held.lock().await;
        let now = Instant::now();
        let fresh = held.fresh_until.is_some_and(|t| now < t);
        if fresh && let Some(key) = held.keys.get(kid) {
            return Ok(Lookup::Found(key.clone()));
        }
        let may_refetch = !fresh
            || held
                .fetched_at
                .is_none_or(|at| now.duration_since(at) >= self.min_refetch);
        if may_refetch {
            match self.fetch(&mut held).await {
                Ok(()) => {}
                // Keys past their max-age still verify what they signed: an outage of
                // the key endpoint must not sign everyone out.
                Err(e) if held.keys.contains_key(kid) => {
                    tracing::warn!(connector.name = "google_oauth", error = %e, "signing keys could not be refreshed; using the held ones");
                }
                Err(e) => return Err(e),
            }
        }
        Ok(match held.keys.get(kid) {
            Some(key) => Lookup::Found(key.clone()),
            None => Lookup::Unknown,
        })
    }

    async fn fetch(&self, held: &mut Held) -> Result<(), ConnectorError> {
        self.fetches.fetch_add(1, Ordering::Relaxed);
        held.fetched_at = Some(Instant::now());
        let jwks_uri = match (&self.source, &held.jwks_uri) {
            (JwksSource::Url(url), _) => url.clone(),
            (JwksSource::Discovery(_), Some(found)) => found.clone(),
            (JwksSource::Discovery(issuer), None) => {
                let url = format!(
                    "{}/.well-known/openid-configuration",
                    issuer.trim_end_matches('/')
                );
                let doc: Discovery = http::send_json(self.http.get(url), Provider::Google).await?;
                let found = Url::parse(&doc.jwks_uri).map_err(|e| ConnectorError::Permanent {
                    status: 0,
                    message: format!("discovery document's jwks_uri: {e}"),
                })?;
                held.jwks_uri = Some(found.clone());
                found
            }
        };
        let response = http::send(self.http.get(jwks_uri), Provider::Google).await?;
        let max_age = response
            .headers()
            .get(CACHE_CONTROL)
            .and_then(|v| v.to_str().ok())
            .and_then(max_age)
            .unwrap_or(DEFAULT_MAX_AGE)
            .min(LONGEST_MAX_AGE);
        let set: KeySet = http::decode(response).await?;
        held.keys = set.keys.into_iter().filter_map(rsa_key).collect();
        held.fresh_until = Some(Instant::now() + max_age);
        Ok(())
    }
}

/// An RSA signing key with an id; anything else in the set is skipped.
fn rsa_key(value: serde_json::Value) -> Option<(String, DecodingKey)> {
    let jwk: Jwk = serde_json::from_value(value).ok()?;
    let kid = jwk.common.key_id.clone()?;
    if !matches!(
        jwk.algorithm,
        jsonwebtoken::jwk::AlgorithmParameters::RSA(_)
    ) {
        return None;
    }
    Some((kid, DecodingKey::from_jwk(&jwk).ok()?))
}

fn max_age(cache_control: &str) -> Option<Duration> {
    cache_control
        .split(',')
        .find_map(|d| d.trim().strip_prefix("max-age="))
        .and_then(|v| v.trim().parse().ok())
        .map(Duration::from_secs)
}
