//! HubSpot's OAuth state in the sandbox: install pages shown, authorization
//! codes, refresh tokens and access tokens (1800 s), each tied to an app, the
//! portal (hub) it was installed in and the installing user.

use std::collections::BTreeMap;

/// Who installed which app where, with which scopes.
#[derive(Debug, Clone)]
pub struct Install {
    pub app_id: u64,
    pub client_id: String,
    pub hub_id: u64,
    pub user: String,
    pub user_id: u64,
    pub scopes: Vec<String>,
}

/// An install page waiting for Connect.
#[derive(Debug, Clone)]
pub struct InstallRequest {
    pub client_id: String,
    pub redirect_uri: String,
    pub scopes: Vec<String>,
    pub state: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Code {
    pub install: Install,
    pub redirect_uri: String,
    pub issued_at_ms: u64,
    pub used: bool,
}

#[derive(Debug, Clone)]
pub struct Refresh {
    pub install: Install,
    pub revoked: bool,
}

#[derive(Debug, Clone)]
pub struct Access {
    pub install: Install,
    pub expires_at_ms: u64,
    pub refresh: String,
}

#[derive(Debug, Default)]
pub struct HubSpotOAuth {
    pub requests: BTreeMap<String, InstallRequest>,
    pub codes: BTreeMap<String, Code>,
    pub refresh_tokens: BTreeMap<String, Refresh>,
    pub access_tokens: BTreeMap<String, Access>,
}

impl HubSpotOAuth {
    /// Uninstalling the app (or deleting the refresh token): the refresh token
    /// and every access token it minted stop working.
    pub fn revoke(&mut self, refresh: &str) -> bool {
        let Some(r) = self.refresh_tokens.get_mut(refresh) else {
            return false;
        };
        r.revoked = true;
        self.access_tokens.retain(|_, a| a.refresh != refresh);
        true
    }
}
