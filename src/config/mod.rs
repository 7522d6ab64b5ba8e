//! Every setting of the service: its variable, default and meaning, in one table.
//!
//! Values come from the environment, optionally under a TOML file named by
//! `SALES_AGENT_CONFIG` (keys are the variable names, e.g. `SALES_AGENT_BIND = "…"`);
//! the environment wins. A bad value stops start-up with an error naming the variable.
//! Secrets are held as [`SecretString`] and never printed: `Debug` redacts them.

mod connectors;
mod engine;
mod oauth;
mod retention;
mod settings;
mod source;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use secrecy::SecretString;
use url::Url;

pub use connectors::ConnectorsConfig;
pub use engine::{BookingCalendar, ComposerMode, EngineConfig};
pub use oauth::{ConsoleAccessConfig, GoogleOAuthConfig, OthersPolicy};
pub use retention::RetentionConfig;
pub use settings::{SETTINGS, Setting};
use source::Source;

#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: String,
    pub bind: SocketAddr,
    pub public_url: Url,
    /// The reverse proxies whose `X-Forwarded-*` headers are believed.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    pub webhook: WebhookConfig,
    pub admin_token: Option<SecretString>,
    pub viewer_token: Option<SecretString>,
    /// The keys that seal stored tokens (see [`crate::secrets`]).
    pub secret_keys: crate::secrets::KeySettings,
    pub db_pool_size: u32,
    pub db_busy_timeout: Duration,
    pub supervisor_poll: Duration,
    pub log_format: LogFormat,
    pub connectors: ConnectorsConfig,
    pub engine: EngineConfig,
    pub retention: RetentionConfig,
    pub google_oauth: GoogleOAuthConfig,
    pub console_access: ConsoleAccessConfig,
}

/// What the webhook endpoint needs to authenticate and bound a delivery.
#[derive(Debug, Clone)]
pub struct WebhookConfig {
    /// Current secret first; an empty list refuses every delivery.
    pub client_secrets: Vec<SecretString>,
    pub allow_legacy_signatures: bool,
    pub max_age: Duration,
    pub max_skew: Duration,
    pub max_body_bytes: usize,
    /// The whole body must arrive within this; a slower one is cut off (408).
    pub body_timeout: Duration,
    /// Body bytes all not-yet-verified deliveries together may hold; past it a
    /// delivery is refused with 503.
    pub unverified_bytes: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// A setting that could not be used; the message names the variable.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{name}: {message}")]
    Invalid { name: &'static str, message: String },
    #[error("SALES_AGENT_CONFIG: cannot read {path}: {message}")]
    File { path: String, message: String },
}

impl Config {
    /// Reads the process environment (and the optional TOML file it names).
    pub fn from_env() -> Result<Self, ConfigError> {
        let env: BTreeMap<String, String> = std::env::vars().collect();
        Self::from_lookup(|name| env.get(name).cloned())
    }

    /// Builds the configuration from any source of variables (tests pass a map).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let file = match lookup("SALES_AGENT_CONFIG").filter(|p| !p.is_empty()) {
            Some(path) => read_toml(Path::new(&path))?,
            None => BTreeMap::new(),
        };
        let source = Source {
            lookup: &lookup,
            file,
        };
        let bind: SocketAddr = source.parse("SALES_AGENT_BIND")?;
        let public_url = match source.raw("SALES_AGENT_PUBLIC_URL") {
            Some(raw) => parse_public_url(&raw)?,
            None => {
                Url::parse(&format!("http://{bind}")).expect("a socket address is a valid host")
            }
        };
        let mut client_secrets = Vec::new();
        client_secrets.extend(source.secret("SALES_AGENT_HUBSPOT_CLIENT_SECRET"));
        client_secrets.extend(source.secret("SALES_AGENT_HUBSPOT_CLIENT_SECRET_PREVIOUS"));
        let console_access = oauth::console_access_config(&source, &public_url)?;
        Ok(Config {
            database_url: source.string("DATABASE_URL"),
            bind,
            public_url,
            trusted_proxies: trusted_proxies(&source)?,
            webhook: WebhookConfig {
                client_secrets,
                allow_legacy_signatures: source
                    .parse_bool("SALES_AGENT_ALLOW_LEGACY_SIGNATURES")?,
                max_age: Duration::from_secs(source.parse("SALES_AGENT_SIGNATURE_MAX_AGE_SECS")?),
                max_skew: Duration::from_secs(source.parse("SALES_AGENT_SIGNATURE_MAX_SKEW_SECS")?),
                max_body_bytes: source.parse_positive("SALES_AGENT_WEBHOOK_MAX_BODY_BYTES")?,
                body_timeout: Duration::from_secs(
                    source.parse_positive("SALES_AGENT_WEBHOOK_BODY_TIMEOUT_SECS")?,
                ),
                unverified_bytes: source.parse_positive("SALES_AGENT_WEBHOOK_UNVERIFIED_BYTES")?,
            },
            admin_token: source.secret("SALES_AGENT_ADMIN_TOKEN"),
            viewer_token: source.secret("SALES_AGENT_VIEWER_TOKEN"),
            secret_keys: crate::secrets::KeySettings {
                key: source.secret("SALES_AGENT_SECRET_KEY"),
                key_file: source
                    .raw("SALES_AGENT_SECRET_KEY_FILE")
                    .map(std::path::PathBuf::from),
                previous: source.secret("SALES_AGENT_SECRET_KEY_PREVIOUS"),
            },
            db_pool_size: source.parse_positive("SALES_AGENT_DB_POOL_SIZE")?,
            db_busy_timeout: Duration::from_millis(
                source.parse_positive("SALES_AGENT_DB_BUSY_TIMEOUT_MS")?,
            ),
            supervisor_poll: Duration::from_secs(
                source.parse_positive("SALES_AGENT_SUPERVISOR_POLL_SECS")?,
            ),
            log_format: match source.string("SALES_AGENT_LOG_FORMAT").as_str() {
                "text" => LogFormat::Text,
                "json" => LogFormat::Json,
                other => {
                    return Err(invalid(
                        "SALES_AGENT_LOG_FORMAT",
                        format!("expected text or json, got {other:?}"),
                    ));
                }
            },
            connectors: connectors::connectors_config(&source)?,
            engine: engine::engine_config(&source)?,
            retention: retention::retention_config(&source)?,
            google_oauth: oauth::google_oauth_config(&source)?,
            console_access,
        })
    }

    /// The domain of the Message-IDs the service generates.
    pub fn sender_domain(&self) -> String {
        self.engine.sender_domain.clone().unwrap_or_else(|| {
            self.public_url
                .host_str()
                .unwrap_or("localhost")
                .to_string()
        })
    }

    /// A configuration with every default, for tests and embedded use.
    pub fn defaults() -> Self {
        Self::from_lookup(|_| None).expect("the documented defaults are valid")
    }
}

/// The variables as a help text, for `--help`.
pub fn help_text() -> String {
    let mut out = String::from("Environment variables (defaults in brackets):\n");
    for s in SETTINGS {
        let default = if s.secret {
            "secret, unset".to_string()
        } else if s.default.is_empty() {
            "unset".to_string()
        } else {
            s.default.to_string()
        };
        out.push_str(&format!("  {:<44} [{default}]\n      {}\n", s.name, s.help));
    }
    out
}

pub(crate) fn invalid(name: &'static str, message: String) -> ConfigError {
    ConfigError::Invalid { name, message }
}

/// Each item an address (one host) or a CIDR range.
fn trusted_proxies<F: Fn(&str) -> Option<String>>(
    source: &Source<'_, F>,
) -> Result<Vec<ipnet::IpNet>, ConfigError> {
    source
        .list("SALES_AGENT_TRUSTED_PROXIES")
        .iter()
        .map(|item| {
            item.parse::<ipnet::IpNet>()
                .or_else(|_| item.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| ConfigError::Invalid {
                    name: "SALES_AGENT_TRUSTED_PROXIES",
                    message: format!("{item:?} is neither an IP address nor a CIDR range"),
                })
        })
        .collect()
}

fn parse_public_url(raw: &str) -> Result<Url, ConfigError> {
    let name = "SALES_AGENT_PUBLIC_URL";
    let url = Url::parse(raw.trim()).map_err(|e| invalid(name, format!("not a URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(invalid(name, "expected an http(s) URL with a host".into()));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid(name, "must not carry a query or fragment".into()));
    }
    Ok(url)
}

fn read_toml(path: &Path) -> Result<BTreeMap<String, String>, ConfigError> {
    let file_error = |message: String| ConfigError::File {
        path: path.display().to_string(),
        message,
    };
    let text = std::fs::read_to_string(path).map_err(|e| file_error(e.to_string()))?;
    let table: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| file_error(e.to_string()))?;
    let mut out = BTreeMap::new();
    for (key, value) in table {
        if !SETTINGS.iter().any(|s| s.name == key) {
            return Err(file_error(format!("unknown setting {key}")));
        }
        let value = match value {
            toml::Value::String(s) => s,
            toml::Value::Integer(i) => i.to_string(),
            toml::Value::Boolean(b) => b.to_string(),
            other => return Err(file_error(format!("{key}: unsupported value {other}"))),
        };
        out.insert(key, value);
    }
    Ok(out)
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    /// The configuration these variables give, as tests of every settings file build it.
    pub(super) fn from(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: BTreeMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn defaults_need_no_configuration() {
        let config = Config::defaults();
        assert_eq!(config.database_url, "sqlite://data/sales-agent.db");
        assert_eq!(config.bind.to_string(), "127.0.0.1:8080");
        assert_eq!(config.public_url.as_str(), "http://127.0.0.1:8080/");
        assert_eq!(config.webhook.max_body_bytes, 1024 * 1024);
        assert!(config.webhook.client_secrets.is_empty());
        assert!(!config.webhook.allow_legacy_signatures);
    }

    #[test]
    fn a_bad_value_names_its_variable() {
        let err = from(&[("SALES_AGENT_BIND", "not-an-address")]).unwrap_err();
        assert!(err.to_string().starts_with("SALES_AGENT_BIND:"), "{err}");
        let err = from(&[("SALES_AGENT_DB_POOL_SIZE", "0")]).unwrap_err();
        assert!(
            err.to_string().starts_with("SALES_AGENT_DB_POOL_SIZE:"),
            "{err}"
        );
        let err = from(&[("SALES_AGENT_PUBLIC_URL", "ftp://x")]).unwrap_err();
        assert!(
            err.to_string().starts_with("SALES_AGENT_PUBLIC_URL:"),
            "{err}"
        );
        let err = from(&[("SALES_AGENT_ALLOW_LEGACY_SIGNATURES", "maybe")]).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("SALES_AGENT_ALLOW_LEGACY_SIGNATURES:"),
            "{err}"
        );
    }

    #[test]
    fn secrets_never_show_in_debug_output() {
        let config = from(&[
            ("SALES_AGENT_HUBSPOT_CLIENT_SECRET", "hs-secret-value-123"),
            ("SALES_AGENT_ADMIN_TOKEN", "admin-token-value-456"),
        ])
        .unwrap();
        let printed = format!("{config:?}");
        assert!(!printed.contains("hs-secret-value-123"));
        assert!(!printed.contains("admin-token-value-456"));
        assert_eq!(
            config.webhook.client_secrets[0].expose_secret(),
            "hs-secret-value-123"
        );
    }

    #[test]
    fn connectors_default_to_the_real_apis_and_published_quotas() {
        let c = Config::defaults().connectors;
        assert_eq!(c.hubspot_base_url.as_str(), "https://api.hubapi.com/");
        assert_eq!(c.gmail_base_url.as_str(), "https://gmail.googleapis.com/");
        assert_eq!(
            c.google_api_base_url.as_str(),
            "https://www.googleapis.com/"
        );
        assert_eq!(
            c.google_token_url.as_str(),
            "https://oauth2.googleapis.com/token"
        );
        assert_eq!(c.hubspot_requests_per_10s, 100);
        assert_eq!(c.calendar_requests_per_min, 600);
        assert!(c.hubspot_token.is_none() && c.google_refresh_tokens.is_empty());
    }

    #[test]
    fn refresh_tokens_parse_per_mailbox_and_errors_hide_them() {
        let config = from(&[(
            "SALES_AGENT_GOOGLE_REFRESH_TOKENS",
            "Rita@Seller.com=1//aaa, sam@seller.com=1//bbb",
        )])
        .unwrap();
        let tokens = &config.connectors.google_refresh_tokens;
        assert_eq!(tokens[0].0, "rita@seller.com");
        assert_eq!(tokens[1].1.expose_secret(), "1//bbb");
        assert!(!format!("{config:?}").contains("1//aaa"));
        let err = from(&[("SALES_AGENT_GOOGLE_REFRESH_TOKENS", "1//secret-only")]).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("SALES_AGENT_GOOGLE_REFRESH_TOKENS:")
        );
        assert!(!err.to_string().contains("1//secret-only"));
    }

    #[test]
    fn the_environment_overrides_the_file() {
        let dir = std::env::temp_dir().join(format!("sa-config-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("config.toml");
        std::fs::write(
            &file,
            "SALES_AGENT_BIND = \"127.0.0.1:9000\"\nSALES_AGENT_DB_POOL_SIZE = 3\n",
        )
        .unwrap();
        let path = file.to_str().unwrap();
        let config = from(&[
            ("SALES_AGENT_CONFIG", path),
            ("SALES_AGENT_DB_POOL_SIZE", "5"),
        ])
        .unwrap();
        assert_eq!(config.bind.port(), 9000);
        assert_eq!(config.db_pool_size, 5);
        std::fs::write(&file, "SALES_AGENT_NOPE = 1\n").unwrap();
        let err = from(&[("SALES_AGENT_CONFIG", path)]).unwrap_err();
        assert!(
            err.to_string().contains("unknown setting SALES_AGENT_NOPE"),
            "{err}"
        );
    }
}
