//! `sales-agent demo --serve`: after the report, the service and the sandbox keep
//! running; a one-time link signs the reader in to the console (as the admin,
//! without the admin token ever appearing in a URL), and Ctrl-C or SIGTERM
//! stops both.

use std::net::SocketAddr;

use crate::app::RunningApp;
use crate::sandbox::{SandboxHandle, shutdown_signal};
use crate::store::signin_links;
use crate::web::console::{LINK_MINUTES, random_token};

/// Where a served demo listens.
#[derive(Debug, Clone, Copy)]
pub struct ServeOptions {
    /// The service (and console): `SALES_AGENT_BIND`.
    pub bind: SocketAddr,
    /// The sandbox: `--sandbox-bind` (a free port on loopback by default).
    pub sandbox_bind: SocketAddr,
}

/// The URL a browser on this machine reaches `bound` at: a wildcard address
/// (`0.0.0.0`, `::`) is reached through loopback.
pub fn reachable_url(bound: SocketAddr) -> anyhow::Result<url::Url> {
    let host = match bound {
        SocketAddr::V4(a) if a.ip().is_unspecified() => format!("127.0.0.1:{}", a.port()),
        SocketAddr::V6(a) if a.ip().is_unspecified() => format!("[::1]:{}", a.port()),
        other => other.to_string(),
    };
    Ok(url::Url::parse(&format!("http://{host}"))?)
}

/// Prints the console's one-time link and the sandbox's URL, then serves until
/// SIGINT or SIGTERM; `Ok(ok)` passes the demo's verdict on.
pub async fn keep_serving(
    app: RunningApp,
    sandbox: SandboxHandle,
    ok: bool,
) -> anyhow::Result<bool> {
    let token = random_token();
    let stored = token.clone();
    let expires = crate::store::now() + chrono::TimeDelta::minutes(LINK_MINUTES);
    app.state
        .store
        .run(move |c| signin_links::insert(c, &stored, "admin", "admin:demo", expires))
        .await?;
    let console = app
        .state
        .config
        .public_url
        .join(&format!("signin/once/{token}"))?;
    println!("\nConsole: {console}");
    println!(
        "         opens one admin session, once, within {LINK_MINUTES} minutes; afterwards sign in at /signin with SALES_AGENT_ADMIN_TOKEN"
    );
    println!("Sandbox: {}", sandbox.base_url());
    println!(
        "         the stand-in APIs; {}/_sandbox/stats counts their calls",
        sandbox.base_url()
    );
    println!("Serving until Ctrl-C (or SIGTERM).");
    let stopped = shutdown_signal().await;
    app.stop().await;
    sandbox.stop().await;
    stopped?;
    Ok(ok)
}
