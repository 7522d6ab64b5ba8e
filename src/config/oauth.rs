//! Settings of Google sign-in and consent: where the provider's authorization
//! endpoint, issuer and signing keys are, and who may sign in to the console.

use url::Url;

use super::source::Source;
use super::{ConfigError, invalid};

/// Where Google's OAuth / OpenID Connect endpoints are (the sandbox's in tests).
/// The client id, secret and token endpoint live in
/// [`super::ConnectorsConfig`], shared with the refresh grant.
#[derive(Debug, Clone)]
pub struct GoogleOAuthConfig {
    pub auth_url: Url,
    /// The `iss` ID tokens must carry; Google's tokens say it with or without `https://`.
    pub issuer: String,
    /// The signing keys; `None`: the issuer's discovery document names them.
    pub jwks_url: Option<Url>,
}

/// What a signed-in Google account that is neither an admin nor refused gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OthersPolicy {
    Viewer,
    Refuse,
}

/// Who may sign in to the console with Google, and whether the pasted token still may.
#[derive(Debug, Clone)]
pub struct ConsoleAccessConfig {
    /// Lowercased emails that are admins whatever their domain.
    pub admins: Vec<String>,
    /// Lowercased Workspace domains (`hd`) whose users may sign in.
    pub domains: Vec<String>,
    pub others: OthersPolicy,
    /// Whether the pasted-token (break-glass) sign-in is offered.
    pub token_signin: bool,
}

pub(super) fn google_oauth_config<F: Fn(&str) -> Option<String>>(
    source: &Source<'_, F>,
) -> Result<GoogleOAuthConfig, ConfigError> {
    let jwks_url = match source.raw("SALES_AGENT_GOOGLE_JWKS_URL") {
        Some(_) => Some(source.parse_http_url("SALES_AGENT_GOOGLE_JWKS_URL")?),
        None => None,
    };
    let issuer = source.parse_http_url("SALES_AGENT_GOOGLE_ISSUER")?;
    Ok(GoogleOAuthConfig {
        auth_url: source.parse_http_url("SALES_AGENT_GOOGLE_AUTH_URL")?,
        // `Url` adds a trailing slash to a bare origin; an `iss` never has one.
        issuer: issuer.as_str().trim_end_matches('/').to_string(),
        jwks_url,
    })
}

pub(super) fn console_access_config<F: Fn(&str) -> Option<String>>(
    source: &Source<'_, F>,
    public_url: &Url,
) -> Result<ConsoleAccessConfig, ConfigError> {
    let admins = lowercased(source.list("SALES_AGENT_CONSOLE_ADMINS"));
    if let Some(bad) = admins.iter().find(|a| !a.contains('@')) {
        return Err(invalid(
            "SALES_AGENT_CONSOLE_ADMINS",
            format!("{bad:?} is not an email address"),
        ));
    }
    let domains = lowercased(source.list("SALES_AGENT_CONSOLE_DOMAINS"));
    if let Some(bad) = domains.iter().find(|d| d.contains('@') || !d.contains('.')) {
        return Err(invalid(
            "SALES_AGENT_CONSOLE_DOMAINS",
            format!("{bad:?} is not a domain"),
        ));
    }
    let others = match source.string("SALES_AGENT_CONSOLE_OTHERS").trim() {
        "viewer" => OthersPolicy::Viewer,
        "refuse" => OthersPolicy::Refuse,
        other => {
            return Err(invalid(
                "SALES_AGENT_CONSOLE_OTHERS",
                format!("expected viewer or refuse, got {other:?}"),
            ));
        }
    };
    let token_signin = match source.string("SALES_AGENT_CONSOLE_TOKEN_SIGNIN").trim() {
        // A pasted token is phishable and shared; on a public https console the
        // Google sign-in is the way in, and the token is break-glass only.
        "auto" => public_url.scheme() != "https",
        "on" => true,
        "off" => false,
        other => {
            return Err(invalid(
                "SALES_AGENT_CONSOLE_TOKEN_SIGNIN",
                format!("expected on, off or auto, got {other:?}"),
            ));
        }
    };
    Ok(ConsoleAccessConfig {
        admins,
        domains,
        others,
        token_signin,
    })
}

/// Addresses and domains compare without case.
fn lowercased(items: Vec<String>) -> Vec<String> {
    items.into_iter().map(|s| s.to_ascii_lowercase()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::config::tests::from;

    #[test]
    fn the_token_signin_is_off_by_default_on_an_https_console() {
        let https = from(&[("SALES_AGENT_PUBLIC_URL", "https://agent.example.com")]).unwrap();
        assert!(!https.console_access.token_signin);
        assert!(Config::defaults().console_access.token_signin, "http: on");
        let forced = from(&[
            ("SALES_AGENT_PUBLIC_URL", "https://agent.example.com"),
            ("SALES_AGENT_CONSOLE_TOKEN_SIGNIN", "on"),
        ])
        .unwrap();
        assert!(forced.console_access.token_signin);
        let off = from(&[("SALES_AGENT_CONSOLE_TOKEN_SIGNIN", "off")]).unwrap();
        assert!(!off.console_access.token_signin);
    }

    #[test]
    fn admins_and_domains_are_lowercased_lists() {
        let c = from(&[
            (
                "SALES_AGENT_CONSOLE_ADMINS",
                " Ada@Example.com, bob@example.com ,",
            ),
            ("SALES_AGENT_CONSOLE_DOMAINS", "Example.com"),
            ("SALES_AGENT_CONSOLE_OTHERS", "refuse"),
        ])
        .unwrap();
        let access = c.console_access;
        assert_eq!(access.admins, ["ada@example.com", "bob@example.com"]);
        assert_eq!(access.domains, ["example.com"]);
        assert_eq!(access.others, OthersPolicy::Refuse);
        assert_eq!(
            Config::defaults().console_access.others,
            OthersPolicy::Viewer
        );
    }

    #[test]
    fn bad_sign_in_settings_name_their_variable() {
        for (name, value) in [
            ("SALES_AGENT_CONSOLE_ADMINS", "not-an-address"),
            ("SALES_AGENT_CONSOLE_DOMAINS", "ada@example.com"),
            ("SALES_AGENT_CONSOLE_OTHERS", "admin"),
            ("SALES_AGENT_CONSOLE_TOKEN_SIGNIN", "maybe"),
            ("SALES_AGENT_GOOGLE_JWKS_URL", "ftp://keys"),
        ] {
            let err = from(&[(name, value)]).unwrap_err();
            assert!(err.to_string().starts_with(name), "{err}");
        }
    }

    #[test]
    fn the_issuer_is_kept_without_a_trailing_slash() {
        let c = Config::defaults();
        assert_eq!(c.google_oauth.issuer, "https://accounts.google.com");
        assert!(c.google_oauth.jwks_url.is_none());
    }
}
