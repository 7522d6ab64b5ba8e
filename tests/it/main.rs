//! The one integration-test binary, one module per area. Database tests run once
//! per backend (SQLite and PostgreSQL); PostgreSQL must be reachable (see helpers).

mod admin;
mod assets;
mod chaos;
mod connectors;
mod console;
mod contracts;
mod conversation;
mod crash;
mod docs;
mod engine;
mod experiments;
mod fuzz;
mod golden;
mod helpers;
mod holds;
mod leases;
mod ledger;
mod lifecycle;
mod llm_fallback;
mod observability;
mod policies;
mod private_pg;
mod quota;
mod sandbox;
mod sending;
mod unsubscribe;
mod voice;
mod voice_held;
mod webhook_props;
mod webhooks;
