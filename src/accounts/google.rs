//! Reps' Google grants while running: reconnecting a mailbox (a new refresh
//! token, sealed and stored, the account marked connected, the running
//! connector's credentials updated, the leads waiting for it woken, audited),
//! with a service account instead, checking a mailbox's delegation again,
//! the consents started from a rep's page that are waiting for their callback
//! (in the database, so any process can finish one),
//! and the sync that keeps each process's view of every account in step with
//! the database — a grant found dead or reconnected by another process, or
//! before a restart — and the `account_connected` gauge with it. Disconnecting
//! a mailbox on purpose (revoked at Google, then deleted) is in `disconnect`.

mod disconnect;

use std::sync::Arc;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

use super::{AccountsError, GOOGLE, owner};
use crate::connectors::google_auth::{
    AccountStatus, CredentialStore, GoogleTokens, InMemoryCredentials,
};
use crate::connectors::google_oauth::Pending;
use crate::metrics::Metrics;
use crate::secrets::Keyring;
use crate::store::{Store, audit, grants, rep_consents};

pub use disconnect::{DisconnectError, Disconnected};

/// How often each process re-reads the accounts' status: a reconnection made
/// elsewhere reaches this process, and a lead that began to wait while its
/// account was being reconnected is woken, within this.
pub const SYNC_PERIOD: Duration = Duration::from_secs(15);

/// How long a consent started from a rep's page may take to come back.
const CONSENT_TTL: Duration = Duration::from_secs(10 * 60);

/// A consent in progress: the provider's `state`, nonce and PKCE verifier, the
/// rep it is for, and the console session that started it.
pub struct Consent {
    pub pending: Pending,
    pub rep_id: String,
    /// The starting session's CSRF token: the callback must come back in it.
    /// (Stored hashed; a consent read back holds the hash.)
    pub session: String,
}

impl Consent {
    pub fn new(pending: Pending, rep_id: String, session: String) -> Self {
        Consent {
            pending,
            rep_id,
            session,
        }
    }

    /// Whether the callback came back in the console session that started it
    /// (`csrf` is that session's CSRF token).
    pub fn started_in(&self, csrf: &str) -> bool {
        use subtle::ConstantTimeEq;
        let hashed = crate::store::sessions::hash_token(csrf);
        bool::from(self.session.as_bytes().ct_eq(hashed.as_bytes()))
    }
}

/// The Google grants of the reps, as this process holds and uses them.
pub struct GoogleAccounts {
    store: Store,
    keyring: Option<Arc<Keyring>>,
    credentials: Arc<InMemoryCredentials>,
    tokens: Arc<GoogleTokens>,
    metrics: Metrics,
}

/// What a reconnection did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reconnected {
    /// The workflows that were waiting for the account and run again now.
    pub woken: Vec<String>,
}

impl GoogleAccounts {
    /// Also has the connector record dead grants in the database and the gauge.
    pub fn new(
        store: Store,
        keyring: Option<Arc<Keyring>>,
        credentials: Arc<InMemoryCredentials>,
        tokens: Arc<GoogleTokens>,
        metrics: Metrics,
    ) -> Self {
        tokens.watch(store.clone(), metrics.clone());
        GoogleAccounts {
            store,
            keyring,
            credentials,
            tokens,
            metrics,
        }
    }

    /// Keeps a consent in the database until its callback (or for
    /// [`CONSENT_TTL`]), so any process sharing it can finish the consent.
    pub async fn begin_consent(&self, consent: Consent) -> Result<(), AccountsError> {
        let expires = crate::store::now()
            + chrono::TimeDelta::from_std(CONSENT_TTL).unwrap_or(chrono::TimeDelta::MAX);
        self.store
            .run(move |c| {
                rep_consents::insert(
                    c,
                    &rep_consents::NewConsent {
                        state: &consent.pending.state,
                        nonce: &consent.pending.nonce,
                        pkce_verifier: consent.pending.pkce_verifier.expose_secret(),
                        rep_id: &consent.rep_id,
                        session: &consent.session,
                        expires_at: expires,
                    },
                )
            })
            .await?;
        Ok(())
    }

    /// The consent `state` names, once, whichever process started it: a second
    /// callback with it finds nothing.
    pub async fn take_consent(&self, state: &str) -> Result<Option<Consent>, AccountsError> {
        let key = state.to_string();
        let row = self.store.run(move |c| rep_consents::take(c, &key)).await?;
        Ok(row.map(|r| Consent {
            pending: Pending {
                state: state.to_string(),
                nonce: r.nonce,
                pkce_verifier: SecretString::from(r.pkce_verifier),
            },
            rep_id: r.rep_id,
            session: r.session_hash,
        }))
    }

    /// Whether a service account acts for every mailbox (no grant per rep).
    pub fn delegated(&self) -> bool {
        self.tokens.service_account().is_some()
    }

    /// With a service account: asks Google for a token for `account` now (an
    /// admin has delegated it since it was found dead); when one comes back the
    /// account is connected again and its waiting leads are woken, audited,
    /// as a reconnection is. When none does, the account stays disconnected.
    pub async fn recheck_delegation(
        &self,
        account: &str,
        actor: &str,
    ) -> Result<Reconnected, AccountsError> {
        let account = account.to_lowercase();
        self.credentials.activate(&account);
        self.tokens.invalidate(&account).await;
        self.tokens
            .access_token(&account)
            .await
            .map_err(AccountsError::Delegation)?;
        let (who, actor) = (account.clone(), actor.to_string());
        let woken = self
            .store
            .run_as(move |conn| {
                conn.write_transaction(|c| {
                    grants::set_status(c, GOOGLE, &who, true, None)?;
                    let woken = grants::wake(c, GOOGLE, &who)?;
                    audit::append(
                        c,
                        &audit::Entry {
                            actor: &actor,
                            action: "account.connected",
                            workflow_id: None,
                            reason: Some("the service account's delegation was checked"),
                            detail: serde_json::json!({
                                "provider": GOOGLE, "account": who, "woken": woken.len(),
                                "via": "service_account"
                            }),
                        },
                    )?;
                    Ok::<_, AccountsError>(woken)
                })
            })
            .await?;
        self.metrics
            .account_connected
            .with_label_values(&[GOOGLE, &account])
            .set(1);
        Ok(Reconnected { woken })
    }

    /// Whether a grant can be stored here: only sealed, so only with a key.
    pub fn can_store(&self) -> bool {
        self.keyring.is_some()
    }

    /// Whether this process holds a usable grant for `account`.
    pub fn is_usable(&self, account: &str) -> bool {
        self.credentials.status(account) == AccountStatus::Active
    }

    /// Stores a new refresh token for `account` (sealed), marks it connected and
    /// wakes the workflows waiting for it, in one transaction with its audit
    /// entry; then the running connector uses it from its next call.
    pub async fn reconnect(
        &self,
        account: &str,
        token: SecretString,
        actor: &str,
        reason: &str,
    ) -> Result<Reconnected, AccountsError> {
        let keyring = self.keyring.clone().ok_or(AccountsError::NoKeyToSeal)?;
        let account = account.to_lowercase();
        let sealed = keyring.seal(&token, &owner(GOOGLE, &account));
        let (who, actor, reason) = (account.clone(), actor.to_string(), reason.to_string());
        let woken = self
            .store
            .run_as(move |conn| {
                conn.write_transaction(|c| {
                    grants::put(c, GOOGLE, &who, &sealed)?;
                    grants::set_status(c, GOOGLE, &who, true, None)?;
                    let woken = grants::wake(c, GOOGLE, &who)?;
                    audit::append(
                        c,
                        &audit::Entry {
                            actor: &actor,
                            action: "account.connected",
                            workflow_id: None,
                            reason: Some(&reason),
                            detail: serde_json::json!({
                                "provider": GOOGLE, "account": who, "woken": woken.len()
                            }),
                        },
                    )?;
                    Ok::<_, AccountsError>(woken)
                })
            })
            .await?;
        self.use_token(&account, token).await;
        Ok(Reconnected { woken })
    }

    async fn use_token(&self, account: &str, token: SecretString) {
        self.credentials.set(account, token);
        // An access token cached from the old grant must not outlive it.
        self.tokens.invalidate(account).await;
        self.metrics
            .account_connected
            .with_label_values(&[GOOGLE, &account.to_lowercase()])
            .set(1);
    }

    /// Brings this process in step with the database: accounts stored as
    /// needing reconnection fail fast here too; accounts reconnected elsewhere
    /// get their new grant (when a key can open it); the gauge follows; leads
    /// waiting for a connected account are woken.
    pub async fn sync(&self) -> Result<(), AccountsError> {
        let held = self.held();
        let (statuses, stored) = self
            .store
            .run(|c| Ok((grants::list_status(c)?, grants::list(c)?)))
            .await?;
        self.forget_deleted(held, &stored).await;
        for status in statuses.iter().filter(|s| s.provider == GOOGLE) {
            let account = status.account.as_str();
            if !status.connected {
                self.credentials.mark_needs_reauth(account);
            } else if !self.is_usable(account) && self.delegated() {
                // Delegation checked again in another process: no grant to open.
                self.credentials.activate(account);
                self.tokens.invalidate(account).await;
            } else if !self.is_usable(account)
                && let Some(keyring) = &self.keyring
                && let Some(grant) = stored
                    .iter()
                    .find(|g| g.provider == GOOGLE && g.account == account)
            {
                match keyring.open(&grant.sealed(), &owner(GOOGLE, account)) {
                    Ok(token) => self.use_token(account, token).await,
                    Err(error) => tracing::error!(%error, "a stored grant could not be opened"),
                }
            }
        }
        for account in self.credentials.accounts() {
            let connected = self.is_usable(&account);
            self.metrics
                .account_connected
                .with_label_values(&[GOOGLE, &account])
                .set(i64::from(connected));
        }
        for status in statuses.iter().filter(|s| s.provider == GOOGLE) {
            let connected = status.connected && self.is_usable(&status.account);
            self.metrics
                .account_connected
                .with_label_values(&[GOOGLE, &status.account])
                .set(i64::from(connected));
        }
        let woken = self.store.run(grants::wake_connected).await?;
        if !woken.is_empty() {
            tracing::info!(
                workflows = woken.len(),
                "leads waiting for a reconnected mailbox run again"
            );
        }
        Ok(())
    }

    /// Runs [`GoogleAccounts::sync`] every `period` until the handle is aborted.
    pub fn spawn_sync(self: Arc<Self>, period: Duration) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(period);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if let Err(error) = self.sync().await {
                    tracing::warn!(%error, "the accounts' status could not be read");
                }
            }
        })
    }
}
