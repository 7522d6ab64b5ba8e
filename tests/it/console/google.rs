//! A service whose console signs people in with Google, against the sandbox as
//! the provider: the demo fixture's Google client, its accounts on the consent
//! page, and the service's public URL (`http://localhost:<port>`) registered as
//! the redirect URI.

use std::net::TcpListener;

use sales_agent::app::Application;
use sales_agent::config::{ConsoleAccessConfig, GoogleOAuthConfig, OthersPolicy};
use sales_agent::sandbox::{SandboxHandle, SandboxOptions, fixture::Fixture, spawn};

use crate::helpers::{TestApp, TestDb, test_config};

/// Alex Morgan: named an admin in the settings.
pub const ADMIN: &str = "alex.morgan@northwind-analytics.com";
/// Sam Okafor: another user of the allowed domain.
pub const COLLEAGUE: &str = "sam.okafor@northwind-analytics.com";
/// Riley Quinn: a user of another Workspace domain.
pub const STRANGER: &str = "riley.quinn@contoso-partners.com";
pub const DOMAIN: &str = "northwind-analytics.com";

pub struct GoogleStack {
    pub app: TestApp,
    pub sandbox: SandboxHandle,
    /// The public URL, as the browser and the provider reach the service.
    pub public: String,
}

/// The service and the sandbox, with `access` deciding who may sign in
/// (default: [`ADMIN`] named, [`DOMAIN`] allowed, others viewers).
pub async fn spawn_google(
    db: &TestDb,
    tweak: impl FnOnce(&mut ConsoleAccessConfig),
) -> GoogleStack {
    let fixture = Fixture::demo();
    let sandbox = spawn(SandboxOptions {
        fixture: Some(fixture.clone()),
        ..SandboxOptions::default()
    })
    .expect("sandbox starts");
    let base = sandbox.base_url();
    let mut config = sales_agent::demo::sandbox_config(test_config(db), &base, &fixture);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    // localhost, not 127.0.0.1: the browser opens the console there, and the
    // provider must send it back to the same site for its cookies.
    let public = format!("http://localhost:{port}");
    config.public_url = public.parse().unwrap();
    config.google_oauth = GoogleOAuthConfig {
        auth_url: format!("{base}/o/oauth2/v2/auth").parse().unwrap(),
        issuer: base.clone(),
        jwks_url: None,
    };
    let mut access = ConsoleAccessConfig {
        admins: vec![ADMIN.to_string()],
        domains: vec![DOMAIN.to_string()],
        others: OthersPolicy::Viewer,
        token_signin: true,
    };
    tweak(&mut access);
    config.console_access = access;
    assert!(
        sandbox.register_redirect_uri(None, &format!("{public}/signin/google/callback")),
        "the redirect URI is registered"
    );
    let app = Application::build_with_listener(config, listener)
        .await
        .expect("service starts")
        .spawn();
    GoogleStack {
        app: TestApp::new(app),
        sandbox,
        public,
    }
}

impl GoogleStack {
    pub async fn stop(self) {
        self.app.stop().await;
        self.sandbox.stop().await;
    }
}
