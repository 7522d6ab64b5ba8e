//! Clients of the external services and the policy every call runs through.
//!
//! ```text
//! error.rs        ConnectorError, classified once; is_retryable() is the only retry decision
//! policy.rs       retry loop: breaker → limiter → attempt → full-jitter backoff ≥ Retry-After
//! breaker.rs      circuit breaker (closed / open / half-open with one probe)
//! limiter.rs      rolling-window rate limits on tokio's clock, keyed by account, costed in units
//! shared.rs       the fleet's quota budgets in PostgreSQL: small leases of capacity per process
//! http.rs         shared reqwest plumbing and endpoint tables (checked by the contract test)
//! hubspot.rs      HubSpot CRM v3/v4 (private-app token; endpoints and shapes in hubspot_api.rs)
//! google_auth.rs  Google OAuth refresh-token grant, token cache, account status
//! google_oauth/   Google OAuth / OpenID Connect: authorization URL, code exchange, ID tokens
//! google_revoke.rs revoking a grant at Google (RFC 7009), for disconnecting a mailbox
//! service_account.rs  a service account's key file and the JWT-bearer assertion (domain-wide delegation)
//! gmail.rs        Gmail v1 threads, drafts, messages (shapes in gmail_types.rs)
//! mime.rs         RFC 5322 messages (mail-builder), header-injection safe
//! calendar.rs     Calendar v3 freeBusy and events.insert
//! drive.rs        Drive v3 files.list and permissions.create
//! query.rs        Gmail and Drive `q` builders that values cannot escape
//! planned.rs      writes as the requests they would be, for pilot mode to record
//! llm.rs          OpenAI-compatible chat completions
//! setup.rs        clients and policies from configuration
//! ```
//!
//! Each service is one object-safe `async_trait` trait with one reqwest client, so
//! steps and tests can hold an `Arc<dyn Trait>` and the sandbox or a fake can stand in.

pub mod breaker;
pub mod calendar;
pub mod drive;
mod drive_docs;
pub mod error;
pub mod gateway;
pub mod gmail;
mod gmail_types;
pub mod google_auth;
pub mod google_oauth;
pub mod google_revoke;
pub mod http;
pub mod hubspot;
mod hubspot_api;
pub mod hubspot_auth;
pub mod limiter;
pub mod llm;
pub mod mime;
pub mod planned;
pub mod policy;
pub mod query;
pub mod service_account;
pub mod setup;
pub mod shared;

pub use error::ConnectorError;
