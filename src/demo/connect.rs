//! The demo connects its reps' mailboxes the way an admin does: *Connect
//! Google* on each rep's page (a console session of its own), Google's consent
//! page clicked through as the rep on the sandbox, and the callback served by
//! the service, which seals the refresh token it gets. No refresh token is
//! preset.

use crate::app::RunningApp;
use crate::domain::Rep;
use crate::sandbox::{SandboxHandle, consent};
use crate::store::sessions;
use crate::web::console::random_token;

/// Connects every rep's Google account through the service's own endpoints.
pub async fn connect_reps(
    app: &RunningApp,
    sandbox: &SandboxHandle,
    reps: &[Rep],
) -> anyhow::Result<()> {
    let public = app.state.config.public_url.as_str().trim_end_matches('/');
    sandbox.register_redirect_uri(None, &format!("{public}/reps/connect/callback"));
    let (token, csrf) = (random_token(), random_token());
    let (t, c) = (token.clone(), csrf.clone());
    let expires = crate::store::now() + chrono::TimeDelta::minutes(10);
    app.state
        .store
        .run(move |conn| sessions::insert(conn, &t, "admin", "admin:demo", &c, expires))
        .await?;
    let base = format!("http://127.0.0.1:{}", app.port);
    let cookie = format!("sa_console={token}");
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    for rep in reps {
        let started = client
            .post(format!("{base}/reps/{}/connect", rep.id))
            .header("cookie", &cookie)
            .form(&[("csrf", csrf.as_str())])
            .send()
            .await?;
        let authorize = location(&started)?;
        let back = consent::click_through(&authorize, &rep.email).await?;
        let path = back.strip_prefix(public).unwrap_or(&back);
        let done = client
            .get(format!("{base}{path}"))
            .header("cookie", &cookie)
            .send()
            .await?;
        anyhow::ensure!(
            done.status().is_redirection(),
            "connecting {}'s mailbox failed: {} {}",
            rep.name,
            done.status(),
            done.text().await.unwrap_or_default()
        );
    }
    // The demo's own session is of no further use.
    app.state
        .store
        .run(move |conn| sessions::revoke(conn, &token))
        .await?;
    Ok(())
}

fn location(response: &reqwest::Response) -> anyhow::Result<String> {
    anyhow::ensure!(
        response.status().is_redirection(),
        "Connect Google answered {}",
        response.status()
    );
    Ok(response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| anyhow::anyhow!("Connect Google gave no redirect"))?
        .to_string())
}
