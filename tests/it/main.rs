//! The one integration-test binary, one module per area. Database tests run once
//! per backend (SQLite and PostgreSQL); PostgreSQL must be reachable (see helpers).

mod admin;
mod admin_retry_load;
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
mod floor_plan;
mod fuzz;
mod golden;
mod graph;
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
mod slow_bodies;
mod unsubscribe;
mod url_text;
mod voice;
mod voice_held;
mod webhook_props;
mod webhooks;
