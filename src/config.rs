//! Every setting of the service: its variable, default and meaning, in one table.
//!
//! Values come from the environment, optionally under a TOML file named by
//! `SALES_AGENT_CONFIG` (keys are the variable names, e.g. `SALES_AGENT_BIND = "…"`);
//! the environment wins. A bad value stops start-up with an error naming the variable.
//! Secrets are held as [`SecretString`] and never printed: `Debug` redacts them.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use secrecy::SecretString;
use url::Url;

/// One documented setting. [`SETTINGS`] is the single source for parsing,
/// `--help` and the README table.
pub struct Setting {
    pub name: &'static str,
    pub default: &'static str,
    pub secret: bool,
    pub help: &'static str,
}

const fn setting(name: &'static str, default: &'static str, help: &'static str) -> Setting {
    Setting {
        name,
        default,
        secret: false,
        help,
    }
}

const fn secret(name: &'static str, help: &'static str) -> Setting {
    Setting {
        name,
        default: "",
        secret: true,
        help,
    }
}

/// All settings. Keep README's configuration table in step with this list
/// (a test compares them).
pub const SETTINGS: &[Setting] = &[
    setting(
        "SALES_AGENT_CONFIG",
        "",
        "Optional TOML file with any of these variables as keys; the environment overrides it.",
    ),
    setting(
        "DATABASE_URL",
        "sqlite://data/sales-agent.db",
        "sqlite://PATH (file created on first run) or postgres://USER@HOST:PORT/DB.",
    ),
    setting(
        "SALES_AGENT_BIND",
        "127.0.0.1:8080",
        "host:port the HTTP server listens on.",
    ),
    setting(
        "SALES_AGENT_PUBLIC_URL",
        "http://<SALES_AGENT_BIND>",
        "Base URL HubSpot calls (scheme, host, optional path prefix); part of the v3 signature.",
    ),
    secret(
        "SALES_AGENT_HUBSPOT_CLIENT_SECRET",
        "App client secret that signs webhooks. Unset: every webhook is refused with 401.",
    ),
    secret(
        "SALES_AGENT_HUBSPOT_CLIENT_SECRET_PREVIOUS",
        "Previous client secret, still accepted while rotating.",
    ),
    setting(
        "SALES_AGENT_ALLOW_LEGACY_SIGNATURES",
        "false",
        "Also accept v1/v2 signatures (no timestamp, replayable).",
    ),
    setting(
        "SALES_AGENT_SIGNATURE_MAX_AGE_SECS",
        "300",
        "Reject v3 signatures whose timestamp is older than this.",
    ),
    setting(
        "SALES_AGENT_SIGNATURE_MAX_SKEW_SECS",
        "60",
        "Reject v3 signatures whose timestamp is further than this in the future.",
    ),
    setting(
        "SALES_AGENT_WEBHOOK_MAX_BODY_BYTES",
        "1048576",
        "Largest webhook body accepted; larger gets 413.",
    ),
    secret(
        "SALES_AGENT_ADMIN_TOKEN",
        "Bearer token for the admin API. Unset: the admin API refuses everyone.",
    ),
    secret(
        "SALES_AGENT_VIEWER_TOKEN",
        "Bearer token for read-only access to the admin API.",
    ),
    setting(
        "SALES_AGENT_DB_POOL_SIZE",
        "8",
        "Database connections in the pool.",
    ),
    setting(
        "SALES_AGENT_DB_BUSY_TIMEOUT_MS",
        "5000",
        "SQLite busy timeout, and the pool's connection timeout.",
    ),
    setting(
        "SALES_AGENT_SUPERVISOR_POLL_SECS",
        "5",
        "How often the supervisor looks for runnable workflows.",
    ),
    setting(
        "SALES_AGENT_LOG_FORMAT",
        "text",
        "text (readable) or json (production).",
    ),
    setting(
        "SALES_AGENT_HUBSPOT_BASE_URL",
        "https://api.hubapi.com",
        "HubSpot API root (the sandbox's URL in tests and demos).",
    ),
    secret(
        "SALES_AGENT_HUBSPOT_TOKEN",
        "HubSpot private-app (or service key) bearer token for CRM calls.",
    ),
    setting(
        "SALES_AGENT_GMAIL_BASE_URL",
        "https://gmail.googleapis.com",
        "Gmail API root.",
    ),
    setting(
        "SALES_AGENT_GOOGLE_API_BASE_URL",
        "https://www.googleapis.com",
        "Google API root for Calendar and Drive.",
    ),
    setting(
        "SALES_AGENT_GOOGLE_TOKEN_URL",
        "https://oauth2.googleapis.com/token",
        "Google OAuth token endpoint (refresh-token grant).",
    ),
    secret(
        "SALES_AGENT_GOOGLE_CLIENT_ID",
        "Google OAuth client id used to refresh rep mailbox tokens.",
    ),
    secret(
        "SALES_AGENT_GOOGLE_CLIENT_SECRET",
        "Google OAuth client secret.",
    ),
    secret(
        "SALES_AGENT_GOOGLE_REFRESH_TOKENS",
        "Rep mailbox refresh tokens: mailbox=token pairs separated by commas.",
    ),
    setting(
        "SALES_AGENT_LLM_BASE_URL",
        "https://api.openai.com/v1",
        "OpenAI-compatible API root; POST {base}/chat/completions.",
    ),
    secret(
        "SALES_AGENT_LLM_API_KEY",
        "Bearer key for the LLM API. Unset: compose uses the built-in templates.",
    ),
    setting(
        "SALES_AGENT_LLM_MODEL",
        "gpt-4o-mini",
        "Model name sent to the chat-completions API.",
    ),
    setting(
        "SALES_AGENT_CONNECTOR_TIMEOUT_SECS",
        "30",
        "Timeout of one HubSpot or Google request.",
    ),
    setting(
        "SALES_AGENT_LLM_TIMEOUT_SECS",
        "60",
        "Timeout of one LLM request.",
    ),
    setting(
        "SALES_AGENT_CONNECTOR_MAX_ATTEMPTS",
        "5",
        "Attempts per connector call (first included) before giving up.",
    ),
    setting(
        "SALES_AGENT_CONNECTOR_MAX_BACKOFF_SECS",
        "32",
        "Longest backoff between attempts (a longer Retry-After still wins).",
    ),
    setting(
        "SALES_AGENT_CONNECTOR_MAX_RETRY_AFTER_SECS",
        "60",
        "Longest Retry-After a connector waits out itself; longer ones return to the workflow.",
    ),
    setting(
        "SALES_AGENT_BREAKER_FAILURES",
        "5",
        "Consecutive transient failures that open a connector's circuit breaker.",
    ),
    setting(
        "SALES_AGENT_BREAKER_COOL_DOWN_SECS",
        "30",
        "How long an open breaker rejects calls before letting one probe through.",
    ),
    setting(
        "SALES_AGENT_HUBSPOT_REQUESTS_PER_10S",
        "100",
        "HubSpot requests per 10 s for the app (Free/Starter 100, Pro/Enterprise 190).",
    ),
    setting(
        "SALES_AGENT_HUBSPOT_SEARCHES_PER_SEC",
        "4",
        "HubSpot CRM search requests per second.",
    ),
    setting(
        "SALES_AGENT_GMAIL_UNITS_PER_MIN",
        "6000",
        "Gmail quota units per minute per mailbox.",
    ),
    setting(
        "SALES_AGENT_GMAIL_MAX_IN_FLIGHT",
        "2",
        "Gmail calls in flight at once per mailbox (Gmail refuses too many concurrent ones).",
    ),
    setting(
        "SALES_AGENT_CALENDAR_REQUESTS_PER_MIN",
        "600",
        "Calendar requests per minute per rep.",
    ),
    setting(
        "SALES_AGENT_DRIVE_REQUESTS_PER_MIN",
        "12000",
        "Drive requests per minute per rep.",
    ),
    setting(
        "SALES_AGENT_LLM_REQUESTS_PER_MIN",
        "500",
        "LLM requests per minute.",
    ),
];

/// The typed configuration, passed explicitly to whoever needs it.
#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: String,
    pub bind: SocketAddr,
    pub public_url: Url,
    pub webhook: WebhookConfig,
    pub admin_token: Option<SecretString>,
    pub viewer_token: Option<SecretString>,
    pub db_pool_size: u32,
    pub db_busy_timeout: Duration,
    pub supervisor_poll: Duration,
    pub log_format: LogFormat,
    pub connectors: ConnectorsConfig,
}

/// Where the external services are, how to authenticate, and how hard to push them.
#[derive(Debug, Clone)]
pub struct ConnectorsConfig {
    pub hubspot_base_url: Url,
    pub hubspot_token: Option<SecretString>,
    pub gmail_base_url: Url,
    pub google_api_base_url: Url,
    pub google_token_url: Url,
    pub google_client_id: Option<SecretString>,
    pub google_client_secret: Option<SecretString>,
    /// Mailbox (lowercased) and its refresh token.
    pub google_refresh_tokens: Vec<(String, SecretString)>,
    pub llm_base_url: Url,
    pub llm_api_key: Option<SecretString>,
    pub llm_model: String,
    pub timeout: Duration,
    pub llm_timeout: Duration,
    pub max_attempts: u32,
    pub max_backoff: Duration,
    pub max_retry_after: Duration,
    pub breaker_failures: u32,
    pub breaker_cool_down: Duration,
    pub hubspot_requests_per_10s: u32,
    pub hubspot_searches_per_sec: u32,
    pub gmail_units_per_min: u32,
    pub gmail_max_in_flight: usize,
    pub calendar_requests_per_min: u32,
    pub drive_requests_per_min: u32,
    pub llm_requests_per_min: u32,
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
        Ok(Config {
            database_url: source.string("DATABASE_URL"),
            bind,
            public_url,
            webhook: WebhookConfig {
                client_secrets,
                allow_legacy_signatures: source
                    .parse_bool("SALES_AGENT_ALLOW_LEGACY_SIGNATURES")?,
                max_age: Duration::from_secs(source.parse("SALES_AGENT_SIGNATURE_MAX_AGE_SECS")?),
                max_skew: Duration::from_secs(source.parse("SALES_AGENT_SIGNATURE_MAX_SKEW_SECS")?),
                max_body_bytes: source.parse_positive("SALES_AGENT_WEBHOOK_MAX_BODY_BYTES")?,
            },
            admin_token: source.secret("SALES_AGENT_ADMIN_TOKEN"),
            viewer_token: source.secret("SALES_AGENT_VIEWER_TOKEN"),
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
            connectors: connectors_config(&source)?,
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

struct Source<'a, F: Fn(&str) -> Option<String>> {
    lookup: &'a F,
    file: BTreeMap<String, String>,
}

impl<F: Fn(&str) -> Option<String>> Source<'_, F> {
    fn raw(&self, name: &'static str) -> Option<String> {
        (self.lookup)(name)
            .or_else(|| self.file.get(name).cloned())
            .filter(|v| !v.trim().is_empty())
    }

    fn string(&self, name: &'static str) -> String {
        self.raw(name)
            .unwrap_or_else(|| default_of(name).to_string())
    }

    fn secret(&self, name: &'static str) -> Option<SecretString> {
        self.raw(name).map(SecretString::from)
    }

    fn parse<T: std::str::FromStr>(&self, name: &'static str) -> Result<T, ConfigError>
    where
        T::Err: std::fmt::Display,
    {
        let raw = self.string(name);
        raw.trim()
            .parse()
            .map_err(|e| invalid(name, format!("cannot parse {raw:?}: {e}")))
    }

    fn parse_positive<T>(&self, name: &'static str) -> Result<T, ConfigError>
    where
        T: std::str::FromStr + PartialOrd + Default,
        T::Err: std::fmt::Display,
    {
        let value: T = self.parse(name)?;
        if value <= T::default() {
            return Err(invalid(name, "must be greater than zero".into()));
        }
        Ok(value)
    }

    fn parse_http_url(&self, name: &'static str) -> Result<Url, ConfigError> {
        let raw = self.string(name);
        let url = Url::parse(raw.trim()).map_err(|e| invalid(name, format!("not a URL: {e}")))?;
        if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
            return Err(invalid(name, "expected an http(s) URL with a host".into()));
        }
        Ok(url)
    }

    fn parse_bool(&self, name: &'static str) -> Result<bool, ConfigError> {
        match self.string(name).trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => Ok(true),
            "false" | "0" | "no" | "off" => Ok(false),
            other => Err(invalid(
                name,
                format!("expected true or false, got {other:?}"),
            )),
        }
    }
}

fn connectors_config<F: Fn(&str) -> Option<String>>(
    source: &Source<'_, F>,
) -> Result<ConnectorsConfig, ConfigError> {
    let secs = |name| -> Result<Duration, ConfigError> {
        Ok(Duration::from_secs(source.parse_positive(name)?))
    };
    Ok(ConnectorsConfig {
        hubspot_base_url: source.parse_http_url("SALES_AGENT_HUBSPOT_BASE_URL")?,
        hubspot_token: source.secret("SALES_AGENT_HUBSPOT_TOKEN"),
        gmail_base_url: source.parse_http_url("SALES_AGENT_GMAIL_BASE_URL")?,
        google_api_base_url: source.parse_http_url("SALES_AGENT_GOOGLE_API_BASE_URL")?,
        google_token_url: source.parse_http_url("SALES_AGENT_GOOGLE_TOKEN_URL")?,
        google_client_id: source.secret("SALES_AGENT_GOOGLE_CLIENT_ID"),
        google_client_secret: source.secret("SALES_AGENT_GOOGLE_CLIENT_SECRET"),
        google_refresh_tokens: parse_refresh_tokens(
            source.raw("SALES_AGENT_GOOGLE_REFRESH_TOKENS"),
        )?,
        llm_base_url: source.parse_http_url("SALES_AGENT_LLM_BASE_URL")?,
        llm_api_key: source.secret("SALES_AGENT_LLM_API_KEY"),
        llm_model: source.string("SALES_AGENT_LLM_MODEL"),
        timeout: secs("SALES_AGENT_CONNECTOR_TIMEOUT_SECS")?,
        llm_timeout: secs("SALES_AGENT_LLM_TIMEOUT_SECS")?,
        max_attempts: source.parse_positive("SALES_AGENT_CONNECTOR_MAX_ATTEMPTS")?,
        max_backoff: secs("SALES_AGENT_CONNECTOR_MAX_BACKOFF_SECS")?,
        max_retry_after: secs("SALES_AGENT_CONNECTOR_MAX_RETRY_AFTER_SECS")?,
        breaker_failures: source.parse_positive("SALES_AGENT_BREAKER_FAILURES")?,
        breaker_cool_down: secs("SALES_AGENT_BREAKER_COOL_DOWN_SECS")?,
        hubspot_requests_per_10s: source.parse_positive("SALES_AGENT_HUBSPOT_REQUESTS_PER_10S")?,
        hubspot_searches_per_sec: source.parse_positive("SALES_AGENT_HUBSPOT_SEARCHES_PER_SEC")?,
        gmail_units_per_min: source.parse_positive("SALES_AGENT_GMAIL_UNITS_PER_MIN")?,
        gmail_max_in_flight: source.parse_positive("SALES_AGENT_GMAIL_MAX_IN_FLIGHT")?,
        calendar_requests_per_min: source
            .parse_positive("SALES_AGENT_CALENDAR_REQUESTS_PER_MIN")?,
        drive_requests_per_min: source.parse_positive("SALES_AGENT_DRIVE_REQUESTS_PER_MIN")?,
        llm_requests_per_min: source.parse_positive("SALES_AGENT_LLM_REQUESTS_PER_MIN")?,
    })
}

/// `mailbox=token,mailbox=token`; the token itself never appears in an error.
fn parse_refresh_tokens(raw: Option<String>) -> Result<Vec<(String, SecretString)>, ConfigError> {
    let name = "SALES_AGENT_GOOGLE_REFRESH_TOKENS";
    let Some(raw) = raw else {
        return Ok(Vec::new());
    };
    raw.split(',')
        .filter(|pair| !pair.trim().is_empty())
        .enumerate()
        .map(|(i, pair)| match pair.split_once('=') {
            Some((mailbox, token)) if mailbox.contains('@') && !token.trim().is_empty() => Ok((
                mailbox.trim().to_ascii_lowercase(),
                SecretString::from(token.trim().to_string()),
            )),
            _ => Err(invalid(
                name,
                format!("entry {} is not mailbox=token", i + 1),
            )),
        })
        .collect()
}

fn default_of(name: &str) -> &'static str {
    SETTINGS
        .iter()
        .find(|s| s.name == name)
        .map(|s| s.default)
        .unwrap_or_else(|| panic!("setting {name} is not in SETTINGS"))
}

fn invalid(name: &'static str, message: String) -> ConfigError {
    ConfigError::Invalid { name, message }
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
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    fn from(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
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
