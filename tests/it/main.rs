//! The one integration-test binary. Database tests run once per backend
//! (SQLite and PostgreSQL); PostgreSQL must be reachable (see helpers).

mod docs;
mod helpers;
mod leases;
mod lifecycle;
mod webhook_props;
mod webhooks;
