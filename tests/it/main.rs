//! The one integration-test binary, one module per area. Database tests run once
//! per backend (SQLite and PostgreSQL); PostgreSQL must be reachable (see helpers).

mod admin;
mod chaos;
mod connectors;
mod contracts;
mod crash;
mod docs;
mod engine;
mod fuzz;
mod helpers;
mod leases;
mod ledger;
mod lifecycle;
mod policies;
mod private_pg;
mod quota;
mod sandbox;
mod sending;
mod unsubscribe;
mod webhook_props;
mod webhooks;
