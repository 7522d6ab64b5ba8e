//! Where the HubSpot connector's bearer token comes from: a private-app token
//! (from the environment or entered in the console), or an installed OAuth
//! app's refresh token, traded at HubSpot's token endpoint for 30-minute access
//! tokens that are renewed five minutes before they expire (HubSpot: track
//! `expires_in` rather than waiting for a 401). The credential can be replaced
//! while running, so connecting HubSpot in the console needs no restart.
//!
//! Once wired to the database ([`HubSpotTokens::persist_in`]) each renewed
//! access token is kept sealed with its expiry (provider `hubspot_access`), so
//! a restart uses it until its renewal is due instead of renewing at once.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use tokio::sync::Mutex;
use tokio::time::Instant;

use super::error::ConnectorError;
use crate::secrets::Keyring;
use crate::store::{Store, grants};

/// The provider under which the current OAuth access token is kept sealed
/// (account `portal:<id>`; the sealed value is `<expiry, Unix s> <token>`).
pub const ACCESS_PROVIDER: &str = "hubspot_access";

/// Renew this long before HubSpot's expiry.
pub const DEFAULT_MARGIN: Duration = Duration::from_secs(300);

/// What the connector holds for HubSpot.
#[derive(Clone)]
pub enum HubSpotCredential {
    PrivateApp(SecretString),
    OAuth {
        refresh_token: SecretString,
        portal_id: u64,
    },
}

/// The app's OAuth client (id, secret) and HubSpot's token URL.
#[derive(Clone)]
pub struct HubSpotApp {
    pub client_id: String,
    pub client_secret: SecretString,
    pub token_url: String,
}

/// What the token endpoint gave for a code: the refresh token to keep and the portal.
pub struct Installed {
    pub refresh_token: SecretString,
    pub portal_id: u64,
    pub scopes: Vec<String>,
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    refresh_token: String,
    expires_in: u64,
    #[serde(default)]
    hub_id: Option<u64>,
    #[serde(default)]
    scopes: Vec<String>,
}

/// HubSpot's token error: `{"status":"BAD_REFRESH_TOKEN","message":…}`.
#[derive(Deserialize, Default)]
struct TokenError {
    #[serde(default)]
    status: String,
    #[serde(default)]
    message: String,
}

struct State {
    credential: Option<HubSpotCredential>,
    access: Option<(SecretString, Instant)>,
}

pub struct HubSpotTokens {
    http: reqwest::Client,
    app: Option<HubSpotApp>,
    margin: Duration,
    state: Mutex<State>,
    /// Where renewed access tokens are kept sealed, once wired.
    persist: std::sync::OnceLock<(Store, std::sync::Arc<Keyring>)>,
}

impl HubSpotTokens {
    pub fn new(
        http: reqwest::Client,
        app: Option<HubSpotApp>,
        credential: Option<HubSpotCredential>,
    ) -> Self {
        HubSpotTokens {
            http,
            app,
            margin: DEFAULT_MARGIN,
            state: Mutex::new(State {
                credential,
                access: None,
            }),
            persist: std::sync::OnceLock::new(),
        }
    }

    /// Keeps each renewed access token sealed in `store` from now on.
    pub fn persist_in(&self, store: Store, keyring: std::sync::Arc<Keyring>) {
        let _ = self.persist.set((store, keyring));
    }

    /// Uses an access token kept from before a restart, valid until `expires_at`
    /// (renewed as usual once within the margin of it).
    pub async fn restore_access(
        &self,
        token: SecretString,
        expires_at: chrono::DateTime<chrono::Utc>,
    ) {
        let left = (expires_at - chrono::Utc::now())
            .to_std()
            .unwrap_or(Duration::ZERO);
        let mut state = self.state.lock().await;
        if matches!(state.credential, Some(HubSpotCredential::OAuth { .. })) {
            state.access = Some((token, Instant::now() + left.saturating_sub(self.margin)));
        }
    }

    /// Renew access tokens `margin` before expiry instead of five minutes.
    pub fn with_margin(mut self, margin: Duration) -> Self {
        self.margin = margin;
        self
    }

    pub fn app(&self) -> Option<&HubSpotApp> {
        self.app.as_ref()
    }

    /// Replaces the credential (console install or a new private-app token).
    pub async fn set(&self, credential: HubSpotCredential) {
        let mut state = self.state.lock().await;
        state.credential = Some(credential);
        state.access = None;
    }

    /// The portal an installed app is connected to (none for a private-app token).
    pub async fn portal_id(&self) -> Option<u64> {
        match &self.state.lock().await.credential {
            Some(HubSpotCredential::OAuth { portal_id, .. }) => Some(*portal_id),
            _ => None,
        }
    }

    /// The bearer token for the next call, renewing an OAuth access token first
    /// when it is within the margin of its expiry. One renewal at a time.
    pub async fn bearer(&self) -> Result<SecretString, ConnectorError> {
        let mut state = self.state.lock().await;
        let refresh = match &state.credential {
            None => {
                return Err(ConnectorError::Unauthorized(
                    "no HubSpot credential configured".into(),
                ));
            }
            Some(HubSpotCredential::PrivateApp(token)) => return Ok(token.clone()),
            Some(HubSpotCredential::OAuth {
                refresh_token,
                portal_id,
            }) => (refresh_token.clone(), *portal_id),
        };
        let (refresh, portal_id) = refresh;
        if let Some((token, fresh_until)) = &state.access
            && Instant::now() < *fresh_until
        {
            return Ok(token.clone());
        }
        let form = [
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh.expose_secret()),
        ];
        let token = self.call(&form).await?;
        let access = SecretString::from(token.access_token);
        let fresh_until =
            Instant::now() + Duration::from_secs(token.expires_in).saturating_sub(self.margin);
        state.access = Some((access.clone(), fresh_until));
        self.keep(portal_id, &access, token.expires_in).await;
        Ok(access)
    }

    /// Seals and stores the renewed access token with its expiry; a failure
    /// only costs a renewal after the next restart.
    async fn keep(&self, portal_id: u64, access: &SecretString, expires_in: u64) {
        let Some((store, keyring)) = self.persist.get() else {
            return;
        };
        let expires_at = chrono::Utc::now().timestamp() + i64::try_from(expires_in).unwrap_or(0);
        let account = format!("portal:{portal_id}");
        let value = SecretString::from(format!("{expires_at} {}", access.expose_secret()));
        let sealed = keyring.seal(&value, &format!("{ACCESS_PROVIDER}:{account}"));
        let stored = store
            .run(move |c| {
                grants::put(c, ACCESS_PROVIDER, &account, &sealed)?;
                grants::delete_others(c, ACCESS_PROVIDER, &account)
            })
            .await;
        if let Err(error) = stored {
            tracing::warn!(%error, connector.name = "hubspot_oauth", "the renewed access token could not be kept");
        }
    }

    /// Trades an install's code for tokens (the redirect URI must be the one
    /// the install page was opened with).
    pub async fn exchange_code(
        &self,
        code: &str,
        redirect_uri: &str,
    ) -> Result<Installed, ConnectorError> {
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri),
        ];
        let token = self.call(&form).await?;
        let portal_id = token.hub_id.ok_or_else(|| ConnectorError::Permanent {
            status: 0,
            message: "token response without hub_id".into(),
        })?;
        Ok(Installed {
            refresh_token: SecretString::from(token.refresh_token),
            portal_id,
            scopes: token.scopes,
        })
    }

    async fn call(&self, grant: &[(&str, &str)]) -> Result<TokenResponse, ConnectorError> {
        let app = self.app.as_ref().ok_or_else(|| ConnectorError::Permanent {
            status: 0,
            message: "SALES_AGENT_HUBSPOT_CLIENT_ID is unset".into(),
        })?;
        let mut form: Vec<(&str, &str)> = vec![
            ("client_id", &app.client_id),
            ("client_secret", app.client_secret.expose_secret()),
        ];
        form.extend_from_slice(grant);
        let response = self.http.post(&app.token_url).form(&form).send().await?;
        let status = response.status();
        let body = response.bytes().await?;
        if status.is_success() {
            return serde_json::from_slice(&body).map_err(|e| ConnectorError::Permanent {
                status: 0,
                message: format!("unexpected HubSpot token response: {e}"),
            });
        }
        let error: TokenError = serde_json::from_slice(&body).unwrap_or_default();
        if status.is_server_error() {
            return Err(ConnectorError::Transient {
                retry_after: None,
                message: error.message,
            });
        }
        tracing::warn!(connector.name = "hubspot_oauth", http.status = status.as_u16(), error = %error.status, "HubSpot token request refused");
        // BAD_REFRESH_TOKEN: the app was uninstalled; an admin must reconnect.
        Err(match error.status.as_str() {
            "BAD_REFRESH_TOKEN" => ConnectorError::NeedsReauth {
                account: "hubspot".into(),
            },
            _ => ConnectorError::Permanent {
                status: status.as_u16(),
                message: format!("{}: {}", error.status, error.message),
            },
        })
    }
}
