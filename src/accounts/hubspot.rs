//! The HubSpot connection: one at a time, either an installed OAuth app (its
//! refresh token, account = `portal:<id>`) or a private-app token entered in
//! the console (account = `private-app`), sealed with the keyring like every
//! stored grant, and handed to the connector's token source so it takes effect
//! without a restart. Without a stored connection the environment's
//! `SALES_AGENT_HUBSPOT_TOKEN` is used as before. An installed app's current
//! access token is kept sealed too (by the connector as it renews it) and
//! handed back at start while unexpired.

use std::sync::Arc;

use secrecy::{ExposeSecret, SecretString};
use url::Url;

use super::{AccountsError, owner};
use crate::connectors::hubspot_auth::{ACCESS_PROVIDER, HubSpotCredential, HubSpotTokens};
use crate::secrets::Keyring;
use crate::store::{Store, grants};

/// The provider name of the HubSpot connection.
pub const HUBSPOT: &str = "hubspot";
const PRIVATE_APP: &str = "private-app";

/// What the app asks HubSpot for: exactly what the steps call (README,
/// "Connecting HubSpot"); `oauth` is required of every app.
pub const SCOPES: &str = "oauth crm.objects.contacts.read crm.objects.contacts.write crm.objects.companies.read crm.objects.owners.read";

/// How HubSpot is reached now, as the console shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Connection {
    /// An installed app, connected to this portal.
    Portal(u64),
    /// A private-app token entered in the console.
    PrivateApp,
    /// Nothing stored: the environment's token, if any.
    Environment,
}

pub struct HubSpotAccount {
    pub tokens: Arc<HubSpotTokens>,
    keyring: Option<Arc<Keyring>>,
    auth_url: Url,
}

impl HubSpotAccount {
    pub fn new(tokens: Arc<HubSpotTokens>, keyring: Option<Arc<Keyring>>, auth_url: Url) -> Self {
        HubSpotAccount {
            tokens,
            keyring,
            auth_url,
        }
    }

    /// Whether an admin can install the app (client id and secret configured).
    pub fn can_install(&self) -> bool {
        self.tokens.app().is_some()
    }

    /// Where the install URL leads: the page offering *Install* must let its
    /// form's redirect go there (the browser applies `form-action` to it).
    pub fn authorization_origin(&self) -> String {
        self.auth_url.origin().ascii_serialization()
    }

    /// HubSpot's install URL for this app, returning to `redirect_uri` with `state`.
    pub fn install_url(&self, redirect_uri: &str, state: &str) -> Option<String> {
        let app = self.tokens.app()?;
        let mut url = self.auth_url.clone();
        url.query_pairs_mut()
            .append_pair("client_id", &app.client_id)
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("scope", SCOPES)
            .append_pair("state", state);
        Some(url.to_string())
    }

    /// At start: opens the stored connection, if any, for the connector.
    pub async fn load(&self, store: &Store) -> Result<Connection, AccountsError> {
        let keyring = self.keyring.clone();
        let stored = store
            .run_as(move |conn| {
                let rows: Vec<_> = grants::list(conn)?
                    .into_iter()
                    .filter(|g| g.provider == HUBSPOT)
                    .collect();
                let (Some(row), Some(keyring)) = (rows.into_iter().next(), keyring.as_ref()) else {
                    return Ok(None);
                };
                let bound = owner(HUBSPOT, &row.account);
                let token = keyring.open(&row.sealed(), &bound).map_err(|source| {
                    AccountsError::Secrets {
                        account: bound,
                        source,
                    }
                })?;
                Ok::<_, AccountsError>(Some((row.account, token)))
            })
            .await?;
        let Some((account, token)) = stored else {
            return Ok(Connection::Environment);
        };
        let (credential, connection) = match account
            .strip_prefix("portal:")
            .and_then(|p| p.parse::<u64>().ok())
        {
            Some(portal_id) => (
                HubSpotCredential::OAuth {
                    refresh_token: token,
                    portal_id,
                },
                Connection::Portal(portal_id),
            ),
            None => (HubSpotCredential::PrivateApp(token), Connection::PrivateApp),
        };
        self.tokens.set(credential).await;
        if let Connection::Portal(portal_id) = connection {
            self.restore_access(store, portal_id).await?;
        }
        Ok(connection)
    }

    /// Hands the connector the access token kept sealed before a restart, if
    /// it is for this portal and not yet expired.
    async fn restore_access(&self, store: &Store, portal_id: u64) -> Result<(), AccountsError> {
        let Some(keyring) = self.keyring.clone() else {
            return Ok(());
        };
        let account = format!("portal:{portal_id}");
        let kept = store
            .run_as(move |conn| {
                let Some(row) = grants::list(conn)?
                    .into_iter()
                    .find(|g| g.provider == ACCESS_PROVIDER && g.account == account)
                else {
                    return Ok(None);
                };
                let bound = owner(ACCESS_PROVIDER, &row.account);
                let value = keyring.open(&row.sealed(), &bound).map_err(|source| {
                    AccountsError::Secrets {
                        account: bound,
                        source,
                    }
                })?;
                Ok::<_, AccountsError>(Some(value))
            })
            .await?;
        let parsed = kept.as_ref().and_then(|v| {
            let (expiry, token) = v.expose_secret().split_once(' ')?;
            let expiry = chrono::DateTime::from_timestamp(expiry.parse().ok()?, 0)?;
            Some((SecretString::from(token.to_string()), expiry))
        });
        if let Some((token, expires_at)) = parsed
            && expires_at > chrono::Utc::now()
        {
            self.tokens.restore_access(token, expires_at).await;
        }
        Ok(())
    }

    /// Seals and stores `credential` in place of any earlier connection, then
    /// switches the connector to it.
    pub async fn save(
        &self,
        store: &Store,
        credential: HubSpotCredential,
    ) -> Result<Connection, AccountsError> {
        let keyring = self.keyring.clone().ok_or(AccountsError::NoKeyToSeal)?;
        let (account, token, connection) = match &credential {
            HubSpotCredential::OAuth {
                refresh_token,
                portal_id,
            } => (
                format!("portal:{portal_id}"),
                refresh_token.clone(),
                Connection::Portal(*portal_id),
            ),
            HubSpotCredential::PrivateApp(token) => (
                PRIVATE_APP.to_string(),
                token.clone(),
                Connection::PrivateApp,
            ),
        };
        store
            .run_as(move |conn| {
                conn.write_transaction(|conn| {
                    let sealed = keyring.seal(&token, &owner(HUBSPOT, &account));
                    grants::put(conn, HUBSPOT, &account, &sealed)?;
                    grants::delete_others(conn, HUBSPOT, &account)?;
                    // An access token of the earlier connection is of no use.
                    grants::delete_others(conn, ACCESS_PROVIDER, "")?;
                    Ok::<_, AccountsError>(())
                })
            })
            .await?;
        self.tokens.set(credential).await;
        Ok(connection)
    }

    /// How HubSpot is reached now.
    pub async fn connection(&self, store: &Store) -> Result<Connection, AccountsError> {
        if let Some(portal) = self.tokens.portal_id().await {
            return Ok(Connection::Portal(portal));
        }
        let stored = store
            .run_as(|conn| {
                Ok::<_, AccountsError>(
                    grants::list(conn)?
                        .into_iter()
                        .any(|g| g.provider == HUBSPOT),
                )
            })
            .await?;
        Ok(if stored {
            Connection::PrivateApp
        } else {
            Connection::Environment
        })
    }
}

/// A private-app token as typed: trimmed, never empty.
pub fn private_app_token(raw: &str) -> Option<SecretString> {
    let t = raw.trim();
    (!t.is_empty() && !t.contains(char::is_whitespace)).then(|| SecretString::from(t.to_string()))
}
