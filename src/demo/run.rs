//! `sales-agent demo`: the sandbox and the service in one process on a fresh
//! SQLite file; the fixture's sample submissions go through the signed webhook;
//! then a table of what happened and where to look. Succeeds only if every
//! workflow finished as expected (answered with a draft, or skipped with a reason).
//! With `--serve` both keep running afterwards (`serve.rs`).

use std::time::{Duration, Instant, SystemTime};

use secrecy::{ExposeSecret, SecretString};

use super::serve::{ServeOptions, keep_serving};
use super::{reps_from_fixture, sandbox_config};
use crate::app::Application;
use crate::config::Config;
use crate::intake::signature::{sign_v3, unix_millis};
use crate::sandbox::fixture::Fixture;
use crate::sandbox::{SandboxOptions, spawn};
use crate::store::workflows::{WorkflowRow, WorkflowStatus};
use crate::store::{Store, reps, step_runs, workflows};

#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// Where the demo's database goes; a fresh file under `./data/` by default.
    pub database_url: Option<String>,
    /// How long to wait for every workflow to finish.
    pub timeout: Duration,
    /// The webhook signing secret and admin token to use; random when unset.
    pub webhook_secret: Option<SecretString>,
    pub admin_token: Option<SecretString>,
    /// The key that seals the reps' grants (`SALES_AGENT_SECRET_KEY`); random
    /// when unset (then a `--database-url` of an earlier demo cannot be reopened).
    pub secret_key: Option<SecretString>,
    /// Keep the service and the sandbox running after the report (`--serve`).
    pub serve: Option<ServeOptions>,
}

impl Default for DemoOptions {
    fn default() -> Self {
        DemoOptions {
            database_url: None,
            timeout: Duration::from_secs(90),
            webhook_secret: None,
            admin_token: None,
            secret_key: None,
            serve: None,
        }
    }
}

const PUBLIC_URL: &str = "https://sales-agent.demo.local";

/// Runs the demo; `Ok(true)` when every workflow ended as expected.
pub async fn run_demo(options: DemoOptions) -> anyhow::Result<bool> {
    let fixture = Fixture::demo();
    let sandbox = spawn(SandboxOptions {
        fixture: Some(fixture.clone()),
        bind: options.serve.as_ref().map(|s| s.sandbox_bind),
        ..SandboxOptions::default()
    })?;
    let random = || SecretString::from(uuid::Uuid::new_v4().simple().to_string());
    let secret = options.webhook_secret.clone().unwrap_or_else(random);
    let admin_token = options.admin_token.clone().unwrap_or_else(random);
    let mut config = Config::defaults();
    config.database_url = options.database_url.clone().unwrap_or_else(|| {
        format!(
            "sqlite://data/demo-{}.db",
            chrono::Utc::now().format("%Y%m%d-%H%M%S")
        )
    });
    // The reps' grants are sealed at rest in the demo exactly as in
    // production: under the given key, or one of its own.
    config.secret_keys.key = Some(
        options
            .secret_key
            .clone()
            .unwrap_or_else(crate::secrets::generate_key),
    );
    // A served demo listens where asked and is its own public URL, so the
    // console's cookies and links work over plain http on this machine.
    let listener = std::net::TcpListener::bind(match &options.serve {
        Some(serve) => serve.bind,
        None => "127.0.0.1:0".parse()?,
    })?;
    config.bind = listener.local_addr()?;
    config.public_url = match &options.serve {
        Some(_) => super::serve::reachable_url(config.bind)?,
        None => PUBLIC_URL.parse()?,
    };
    let public_url = config.public_url.clone();
    config.webhook.client_secrets = vec![secret.clone()];
    config.admin_token = Some(admin_token.clone());
    config.supervisor_poll = Duration::from_millis(500);
    config.engine.retry_base = Duration::from_secs(1);
    let mut config = sandbox_config(config, &sandbox.base_url(), &fixture);
    // No preset refresh tokens: the reps connect through Google's consent below.
    config.connectors.google_refresh_tokens.clear();
    let database = config.database_url.clone();

    let app = Application::build_with_listener(config, listener)
        .await?
        .spawn();
    let store = app.state.store.clone();
    let demo_reps = reps_from_fixture(&fixture);
    let stored = demo_reps.clone();
    store
        .run(move |c| {
            for rep in &stored {
                reps::upsert(c, rep)?;
            }
            Ok(())
        })
        .await?;
    super::connect::connect_reps(&app, &sandbox, &demo_reps).await?;

    let client = reqwest::Client::new();
    let url = format!("http://127.0.0.1:{}/webhooks/hubspot", app.port);
    let mut ids = Vec::new();
    let mut expected = Vec::new();
    for submission in &fixture.hubspot.form_submissions {
        // The fixture may say how a sample should end (`"expect": "skipped"`).
        expected.push(
            submission["expect"]
                .as_str()
                .unwrap_or("completed")
                .to_string(),
        );
        let body = as_forms_api(submission).to_string();
        let ts = unix_millis(SystemTime::now());
        let signature = sign_v3(
            secret.expose_secret(),
            "POST",
            public_url.join("webhooks/hubspot")?.as_str(),
            body.as_bytes(),
            ts,
        );
        let response = client
            .post(&url)
            .header("content-type", "application/json")
            .header("X-HubSpot-Signature-v3", signature)
            .header("X-HubSpot-Request-Timestamp", ts.to_string())
            .body(body)
            .send()
            .await?;
        let status = response.status();
        let answer: serde_json::Value = response.json().await?;
        anyhow::ensure!(
            status.is_success(),
            "the webhook refused a sample submission: {status} {answer}"
        );
        ids.push(
            answer["workflow_id"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        );
    }

    let rows = wait_for(&store, &ids, options.timeout).await?;
    let ok = print_report(&store, &rows, &expected).await?;
    let audit = format!("http://127.0.0.1:{}/api/audit?limit=200", app.port);
    print_audit(&client, &audit, &admin_token).await?;
    println!("\nDatabase: {database}");
    if options.serve.is_some() {
        return keep_serving(app, sandbox, ok).await;
    }
    println!(
        "Next: `sales-agent serve` with SALES_AGENT_ADMIN_TOKEN set, then GET /api/workflows/<id> for every step;"
    );
    println!(
        "      `sales-agent sandbox` runs the stand-in APIs on their own (see `sales-agent sandbox --help`)."
    );
    app.stop().await;
    sandbox.stop().await;
    Ok(ok)
}

/// The fixture's entry as HubSpot's Forms API would deliver it.
fn as_forms_api(entry: &serde_json::Value) -> serde_json::Value {
    let mut body = entry.clone();
    if let Some(object) = body.as_object_mut() {
        let age = object
            .remove("ageMinutes")
            .and_then(|v| v.as_i64())
            .unwrap_or(0);
        let submitted = chrono::Utc::now() - chrono::Duration::minutes(age);
        object
            .entry("submittedAt")
            .or_insert_with(|| submitted.timestamp_millis().into());
    }
    body
}

async fn wait_for(
    store: &Store,
    ids: &[String],
    timeout: Duration,
) -> anyhow::Result<Vec<WorkflowRow>> {
    let started = Instant::now();
    loop {
        let wanted = ids.to_vec();
        let rows = store
            .run(move |c| {
                wanted
                    .iter()
                    .filter_map(|id| workflows::find_by_id(c, id).transpose())
                    .collect::<Result<Vec<_>, _>>()
            })
            .await?;
        let finished = rows.iter().all(|r| {
            !WorkflowStatus::UNFINISHED
                .iter()
                .any(|s| s.as_str() == r.status)
        });
        if finished || started.elapsed() > timeout {
            return Ok(rows);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Prints one line per workflow; true when each ended as expected (completed with
/// a draft, or as the fixture says).
async fn print_report(
    store: &Store,
    rows: &[WorkflowRow],
    expected: &[String],
) -> anyhow::Result<bool> {
    println!(
        "\n{:<40} {:<16} {:<10} {:<44} {:<8} proposed slots (prospect's zone)",
        "contact", "rep", "status", "draft subject / reason", "to draft"
    );
    let mut all_ok = true;
    for (row, expect) in rows.iter().zip(expected) {
        let id = row.id.clone();
        let runs = store
            .run(move |c| step_runs::list_for_workflow(c, &id))
            .await?;
        let output = |step: &str| -> serde_json::Value {
            runs.iter()
                .find(|r| r.step == step)
                .and_then(|r| r.output.as_deref())
                .and_then(|o| serde_json::from_str(o).ok())
                .unwrap_or_default()
        };
        let rep = output("route")["rep_id"]
            .as_str()
            .unwrap_or("-")
            .to_string();
        let subject = match row.status.as_str() {
            "completed" => output("compose")["subject"]
                .as_str()
                .unwrap_or("-")
                .to_string(),
            _ => row.last_error.clone().unwrap_or_default(),
        };
        let to_draft = runs
            .iter()
            .find(|r| r.step == "deliver")
            .map(|r| format!("{} ms", (r.finished_at - row.created_at).num_milliseconds()))
            .unwrap_or_else(|| "-".into());
        let slots: Vec<String> = output("propose_slots")["rendered"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        let ok = &row.status == expect
            && (row.status != "completed" || output("deliver")["draft_id"].is_string());
        all_ok &= ok;
        println!(
            "{:<40} {:<16} {:<10} {:<44} {:<8} {}",
            clip(&row.email, 40),
            clip(&rep, 16),
            if ok {
                row.status.clone()
            } else {
                format!("{}!", row.status)
            },
            clip(&subject, 44),
            to_draft,
            slots.first().cloned().unwrap_or_else(|| "-".into())
        );
        for slot in slots.iter().skip(1) {
            println!(
                "{:<40} {:<16} {:<10} {:<44} {:<8} {slot}",
                "", "", "", "", ""
            );
        }
    }
    println!(
        "\n{}",
        if all_ok {
            "Every submission ended as expected: answered with a draft, or skipped with a reason."
        } else {
            "Some workflows did not finish as expected (marked !)."
        }
    );
    Ok(all_ok)
}

/// What the audit trail recorded, read through the admin API as an operator would.
async fn print_audit(
    client: &reqwest::Client,
    url: &str,
    token: &SecretString,
) -> anyhow::Result<()> {
    let answer: serde_json::Value = client
        .get(url)
        .bearer_auth(token.expose_secret())
        .header("X-Actor", "demo")
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let mut actions = std::collections::BTreeMap::<String, usize>::new();
    for entry in answer["entries"].as_array().into_iter().flatten() {
        let action = entry["action"].as_str().unwrap_or("?").to_string();
        *actions.entry(action).or_default() += 1;
    }
    let summary: Vec<String> = actions.iter().map(|(a, n)| format!("{a} ×{n}")).collect();
    println!("\nAudit trail (GET /api/audit): {}", summary.join(", "));
    Ok(())
}

fn clip(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        text.to_string()
    } else {
        format!("{}…", text.chars().take(width - 1).collect::<String>())
    }
}
