//! Connected accounts: the grants the service holds to act for reps' Google
//! mailboxes, stored sealed (see [`crate::secrets`]) so a copy of the database
//! reveals no token.
//!
//! At start the refresh tokens in `SALES_AGENT_GOOGLE_REFRESH_TOKENS` are sealed
//! into the database (the configuration is the operator's word: a changed token
//! replaces the stored one) and every stored grant is opened for the connectors.
//! Without a key nothing is stored and the configured tokens are used as they
//! are — but a database that already holds sealed grants refuses to start
//! without the key, naming `SALES_AGENT_SECRET_KEY`.

pub mod google;
pub mod hubspot;

use secrecy::{ExposeSecret, SecretString};

use crate::secrets::{Keyring, SecretsError};
use crate::store::{DbConn, FromStore, Store, StoreError, grants};

/// The provider name of a rep's Google grant.
pub const GOOGLE: &str = "google";

#[derive(Debug, thiserror::Error)]
pub enum AccountsError {
    #[error(
        "the database holds {count} sealed account grant(s) but no key is configured: set SALES_AGENT_SECRET_KEY (or SALES_AGENT_SECRET_KEY_FILE) to the key they were sealed with"
    )]
    NoKey { count: i64 },
    #[error(
        "no key is configured, and a grant is only ever stored sealed: set SALES_AGENT_SECRET_KEY (or SALES_AGENT_SECRET_KEY_FILE)"
    )]
    NoKeyToSeal,
    #[error("{account}: {source}")]
    Secrets {
        account: String,
        source: SecretsError,
    },
    /// The service account still may not act for the mailbox.
    #[error("Google refused the service account for this mailbox: {0}")]
    Delegation(crate::connectors::ConnectorError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<diesel::result::Error> for AccountsError {
    fn from(error: diesel::result::Error) -> Self {
        AccountsError::Store(error.into())
    }
}

impl FromStore for AccountsError {
    fn store_error(&self) -> Option<&StoreError> {
        match self {
            AccountsError::Store(e) => Some(e),
            _ => None,
        }
    }
}

/// What a sealed value is bound to: its provider and account.
pub(crate) fn owner(provider: &str, account: &str) -> String {
    format!("{provider}:{account}")
}

/// The Google grants the connectors use: configured ones sealed into the
/// database first when a key is given, then every stored one opened.
pub async fn open_google_grants(
    store: &Store,
    keyring: Option<std::sync::Arc<Keyring>>,
    configured: Vec<(String, SecretString)>,
) -> Result<Vec<(String, SecretString)>, AccountsError> {
    store
        .run_as(move |conn| {
            let Some(keyring) = &keyring else {
                let count = grants::count(conn)?;
                return if count > 0 {
                    Err(AccountsError::NoKey { count })
                } else {
                    Ok(configured.clone())
                };
            };
            conn.write_transaction(|conn| seal_configured(conn, keyring, &configured))
        })
        .await
}

/// Seals each configured token whose stored grant is missing or different, and
/// returns the grants with the configured ones in place. Every stored grant is
/// opened first: a grant the keys cannot open stops start-up rather than being
/// overwritten under the wrong key.
fn seal_configured(
    conn: &mut DbConn,
    keyring: &Keyring,
    configured: &[(String, SecretString)],
) -> Result<Vec<(String, SecretString)>, AccountsError> {
    let mut grants_now = open_all(conn, keyring, GOOGLE)?;
    for (account, token) in configured {
        let stored = grants_now.iter_mut().find(|(a, _)| a == account);
        match stored {
            Some((_, t)) if t.expose_secret() == token.expose_secret() => continue,
            Some((_, t)) => *t = token.clone(),
            None => grants_now.push((account.clone(), token.clone())),
        }
        let sealed = keyring.seal(token, &owner(GOOGLE, account));
        grants::put(conn, GOOGLE, account, &sealed)?;
    }
    Ok(grants_now)
}

fn open_all(
    conn: &mut DbConn,
    keyring: &Keyring,
    provider: &str,
) -> Result<Vec<(String, SecretString)>, AccountsError> {
    grants::list(conn)?
        .into_iter()
        .filter(|g| g.provider == provider)
        .map(|g| {
            let token = keyring
                .open(&g.sealed(), &owner(&g.provider, &g.account))
                .map_err(|source| AccountsError::Secrets {
                    account: owner(&g.provider, &g.account),
                    source,
                })?;
            Ok((g.account, token))
        })
        .collect()
}

/// What `rotate-key` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rotation {
    pub resealed: usize,
    pub total: usize,
}

/// Reseals every stored grant not yet under the current key, in one
/// transaction: either all move to the new key or none does.
pub async fn rotate(
    store: &Store,
    keyring: std::sync::Arc<Keyring>,
) -> Result<Rotation, AccountsError> {
    store
        .run_as(move |conn| {
            conn.write_transaction(|conn| {
                let stored = grants::list(conn)?;
                let mut resealed = 0;
                for grant in &stored {
                    let sealed = grant.sealed();
                    if !keyring.is_stale(&sealed) {
                        continue;
                    }
                    let bound = owner(&grant.provider, &grant.account);
                    let token =
                        keyring
                            .open(&sealed, &bound)
                            .map_err(|source| AccountsError::Secrets {
                                account: bound.clone(),
                                source,
                            })?;
                    grants::put(
                        conn,
                        &grant.provider,
                        &grant.account,
                        &keyring.seal(&token, &bound),
                    )?;
                    resealed += 1;
                }
                Ok(Rotation {
                    resealed,
                    total: stored.len(),
                })
            })
        })
        .await
}
