//! Disconnecting a rep's mailbox on purpose: the grant is revoked at Google
//! first (RFC 7009) and deleted here only once Google has confirmed it is dead,
//! with its status and an audit entry in one transaction. The account then
//! reads as never connected — no grant, no status, no gauge series — rather
//! than as *reconnect needed*: nothing went wrong, and no alert should fire.
//!
//! Why Google first: a grant deleted here but live at Google is a credential
//! nobody can see or revoke from the console any more. So when Google cannot
//! confirm (unreachable, 5xx, 429, another refusal) nothing changes and the
//! admin is told so; an answer lost after Google did revoke leaves a grant
//! that the next lead finds dead (*reconnect needed*), and disconnecting again
//! then succeeds (`invalid_token` counts as revoked).
//!
//! Other processes learn of it at their next sync: a grant they hold that is
//! no longer stored is forgotten there too.

use secrecy::SecretString;

use super::GoogleAccounts;
use crate::accounts::{AccountsError, GOOGLE, owner};
use crate::connectors::google_auth::CredentialStore;
use crate::connectors::google_revoke::{GoogleRevocation, RevokeError, Revoked};
use crate::store::grants::{self, GrantRow};
use crate::store::{FromStore, StoreError, audit};

/// What a disconnection did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Disconnected {
    /// Google's answer: revoked now, or already dead there.
    pub at_google: Revoked,
}

#[derive(Debug, thiserror::Error)]
pub enum DisconnectError {
    #[error("no Google grant is held for this mailbox")]
    NotConnected,
    #[error(
        "grants are stored sealed only: without SALES_AGENT_SECRET_KEY a configured token is removed from SALES_AGENT_GOOGLE_REFRESH_TOKENS instead"
    )]
    NoKey,
    /// Google did not confirm: the grant is kept, here and at Google.
    #[error(
        "{0}: the grant is kept — still stored here and still valid at Google, so nothing was changed; try again in a moment"
    )]
    NotRevoked(RevokeError),
    /// A new grant was stored while the old one was being revoked.
    #[error(
        "the mailbox was reconnected while it was being disconnected: the new grant is kept; disconnect again to remove it"
    )]
    Replaced,
    #[error(transparent)]
    Accounts(#[from] AccountsError),
}

impl From<StoreError> for DisconnectError {
    fn from(error: StoreError) -> Self {
        DisconnectError::Accounts(error.into())
    }
}

impl From<diesel::result::Error> for DisconnectError {
    fn from(error: diesel::result::Error) -> Self {
        DisconnectError::Accounts(error.into())
    }
}

impl FromStore for DisconnectError {
    fn store_error(&self) -> Option<&StoreError> {
        match self {
            DisconnectError::Accounts(e) => e.store_error(),
            _ => None,
        }
    }
}

impl GoogleAccounts {
    /// Revokes `account`'s grant at Google, then deletes it with its status and
    /// an audit entry; this process stops using it at once.
    pub async fn disconnect(
        &self,
        google: &GoogleRevocation,
        account: &str,
        actor: &str,
        reason: &str,
    ) -> Result<Disconnected, DisconnectError> {
        let keyring = self.keyring.clone().ok_or(DisconnectError::NoKey)?;
        let account = account.to_lowercase();
        let who = account.clone();
        let stored: GrantRow = self
            .store
            .run(move |c| grants::find(c, GOOGLE, &who))
            .await?
            .ok_or(DisconnectError::NotConnected)?;
        let sealed = stored.sealed();
        let bound = owner(GOOGLE, &account);
        let token = keyring
            .open(&sealed, &bound)
            .map_err(|source| AccountsError::Secrets {
                account: bound,
                source,
            })?;
        let at_google = google.revoke(&token).await.map_err(|error| {
            tracing::warn!(%error, "a mailbox grant could not be revoked at Google; it is kept");
            DisconnectError::NotRevoked(error)
        })?;
        let (who, actor, reason) = (account.clone(), actor.to_string(), reason.to_string());
        let deleted = self
            .store
            .run_as(move |conn| {
                conn.write_transaction(|c| {
                    if !grants::delete(c, GOOGLE, &who, &sealed)? {
                        return Ok(false);
                    }
                    audit::append(
                        c,
                        &audit::Entry {
                            actor: &actor,
                            action: "account.disconnected",
                            workflow_id: None,
                            reason: Some(&reason),
                            detail: serde_json::json!({
                                "provider": GOOGLE, "account": who, "at_google": at_google.as_str()
                            }),
                        },
                    )?;
                    Ok::<_, DisconnectError>(true)
                })
            })
            .await?;
        if !deleted {
            // Gone: disconnected by someone else meanwhile; else replaced.
            let who = account.clone();
            let now = self
                .store
                .run(move |c| grants::find(c, GOOGLE, &who))
                .await?;
            return Err(match now {
                None => DisconnectError::NotConnected,
                Some(_) => DisconnectError::Replaced,
            });
        }
        self.forget(&account, &token).await;
        Ok(Disconnected { at_google })
    }

    /// Stops using `token` for `account` in this process — unless a newer grant
    /// took its place — and drops the account's gauge series.
    async fn forget(&self, account: &str, token: &SecretString) {
        if self.credentials.remove_if(account, token) {
            self.tokens.invalidate(account).await;
            let _ = self
                .metrics
                .account_connected
                .remove_label_values(&[GOOGLE, &account.to_lowercase()]);
        }
    }

    /// The grants this process holds, taken before a sync reads the database.
    pub(super) fn held(&self) -> Vec<(String, SecretString)> {
        self.credentials
            .accounts()
            .into_iter()
            .filter_map(|a| self.credentials.refresh_token(&a).map(|t| (a, t)))
            .collect()
    }

    /// Forgets the grants `held` before the read that are no longer `stored`:
    /// disconnected in another process. With a key every grant in use is
    /// stored, so a missing one was deleted on purpose; without a key none is.
    pub(super) async fn forget_deleted(
        &self,
        held: Vec<(String, SecretString)>,
        stored: &[GrantRow],
    ) {
        if self.keyring.is_none() {
            return;
        }
        for (account, token) in held {
            let kept = stored
                .iter()
                .any(|g| g.provider == GOOGLE && g.account.eq_ignore_ascii_case(&account));
            if !kept {
                tracing::info!("a mailbox disconnected elsewhere is no longer used here");
                self.forget(&account, &token).await;
            }
        }
    }
}
