//! Where values come from: the environment first, then the optional TOML file, then
//! the documented default; typed parsers that name the variable on failure.

use std::collections::BTreeMap;

use secrecy::SecretString;
use url::Url;

use super::settings::default_of;
use super::{ConfigError, invalid};

pub(super) struct Source<'a, F: Fn(&str) -> Option<String>> {
    pub(super) lookup: &'a F,
    pub(super) file: BTreeMap<String, String>,
}

impl<F: Fn(&str) -> Option<String>> Source<'_, F> {
    pub(super) fn raw(&self, name: &'static str) -> Option<String> {
        (self.lookup)(name)
            .or_else(|| self.file.get(name).cloned())
            .filter(|v| !v.trim().is_empty())
    }

    /// A comma-separated list, each item trimmed, empty items dropped.
    pub(super) fn list(&self, name: &'static str) -> Vec<String> {
        self.raw(name)
            .map(|raw| {
                raw.split(',')
                    .map(|v| v.trim().to_string())
                    .filter(|v| !v.is_empty())
                    .collect()
            })
            .unwrap_or_default()
    }

    pub(super) fn string(&self, name: &'static str) -> String {
        self.raw(name)
            .unwrap_or_else(|| default_of(name).to_string())
    }

    pub(super) fn secret(&self, name: &'static str) -> Option<SecretString> {
        self.raw(name).map(SecretString::from)
    }

    pub(super) fn parse<T: std::str::FromStr>(&self, name: &'static str) -> Result<T, ConfigError>
    where
        T::Err: std::fmt::Display,
    {
        let raw = self.string(name);
        raw.trim()
            .parse()
            .map_err(|e| invalid(name, format!("cannot parse {raw:?}: {e}")))
    }

    pub(super) fn parse_positive<T>(&self, name: &'static str) -> Result<T, ConfigError>
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

    pub(super) fn parse_http_url(&self, name: &'static str) -> Result<Url, ConfigError> {
        let raw = self.string(name);
        let url = Url::parse(raw.trim()).map_err(|e| invalid(name, format!("not a URL: {e}")))?;
        if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
            return Err(invalid(name, "expected an http(s) URL with a host".into()));
        }
        Ok(url)
    }

    pub(super) fn parse_bool(&self, name: &'static str) -> Result<bool, ConfigError> {
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
