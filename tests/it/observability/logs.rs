//! No secret, token, address or message body reaches the output: a full demo run
//! (sandbox and service in a child process) at the most verbose log level, with
//! known secrets seeded, in both log formats; then every byte it wrote is searched.
//!
//! What is searched where: stderr (every log line, ours and every dependency's)
//! must hold none of the secrets, addresses, submitted messages, composed bodies or
//! subjects. stdout is the demo's report, whose table names each contact and the
//! draft's subject on purpose; it must hold no secret and no message body.

use std::process::Command;

use diesel::prelude::*;
use sales_agent::sandbox::fixture::Fixture;
use sales_agent::store::schema::step_runs;

const ADMIN_TOKEN: &str = "seeded-admin-token-7f3a9c";
const WEBHOOK_SECRET: &str = "seeded-webhook-secret-51d0e2";

struct Run {
    stdout: String,
    stderr: String,
    database_url: String,
    _dir: TempDir,
}

struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn demo(format: &str) -> Run {
    let dir = std::env::temp_dir().join(format!("sa-logs-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let database_url = format!("sqlite://{}", dir.join("demo.db").display());
    let output = Command::new(env!("CARGO_BIN_EXE_sales-agent"))
        .args(["demo", "--database-url", &database_url])
        .env_remove("DATABASE_URL")
        .env("RUST_LOG", "trace")
        .env("NO_COLOR", "1")
        .env("SALES_AGENT_LOG_FORMAT", format)
        .env("SALES_AGENT_ADMIN_TOKEN", ADMIN_TOKEN)
        .env("SALES_AGENT_HUBSPOT_CLIENT_SECRET", WEBHOOK_SECRET)
        .output()
        .unwrap();
    let run = Run {
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        database_url,
        _dir: TempDir(dir),
    };
    assert!(
        output.status.success(),
        "the demo failed:\n{}\n{}",
        run.stdout,
        &run.stderr[run.stderr.len().saturating_sub(4000)..]
    );
    run
}

/// Every credential the run uses: the seeded ones and the fixture's.
fn secrets(fixture: &Fixture) -> Vec<String> {
    let mut secrets = vec![ADMIN_TOKEN.to_string(), WEBHOOK_SECRET.to_string()];
    secrets.extend(fixture.hubspot.tokens.iter().cloned());
    secrets.push(fixture.google.client_secret.clone());
    secrets.extend(
        fixture
            .google
            .refresh_tokens
            .iter()
            .map(|t| t.token.clone()),
    );
    secrets.extend(fixture.llm.api_keys.iter().cloned());
    secrets
}

/// Every address in the fixture: prospects, reps, mailboxes, contacts.
fn addresses(fixture: &Fixture) -> Vec<String> {
    let text = serde_json::to_string(&fixture_json(fixture)).unwrap();
    let pattern = regex::Regex::new(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+").unwrap();
    let mut found: Vec<String> = pattern
        .find_iter(&text)
        .map(|m| m.as_str().to_lowercase())
        .collect();
    found.sort();
    found.dedup();
    found
}

fn fixture_json(fixture: &Fixture) -> serde_json::Value {
    serde_json::to_value(fixture).unwrap()
}

/// What prospects wrote in the form's message field.
fn submitted_messages(fixture: &Fixture) -> Vec<String> {
    fixture
        .hubspot
        .form_submissions
        .iter()
        .flat_map(|s| s["values"].as_array().cloned().unwrap_or_default())
        .filter(|v| v["name"] == "message")
        .filter_map(|v| v["value"].as_str().map(str::to_string))
        .collect()
}

/// The subjects and body lines the run composed, from its database.
fn composed(database_url: &str) -> (Vec<String>, Vec<String>) {
    let store = sales_agent::store::Store::open(database_url, 1, std::time::Duration::from_secs(5))
        .expect("the demo's database opens");
    let outputs: Vec<Option<String>> = futures_executor(store.run(|c| {
        Ok(step_runs::table
            .filter(step_runs::step.eq("compose"))
            .select(step_runs::output)
            .load(c)?)
    }))
    .expect("compose outputs load");
    let (mut subjects, mut lines) = (Vec::new(), Vec::new());
    for output in outputs.into_iter().flatten() {
        let draft: serde_json::Value = serde_json::from_str(&output).unwrap();
        subjects.push(draft["subject"].as_str().unwrap().to_string());
        // Whole sentences only: a greeting like "Hi Ana," is not a body leak on its own.
        lines.extend(
            draft["body"]
                .as_str()
                .unwrap()
                .lines()
                .map(str::trim)
                .filter(|l| l.len() >= 30)
                .map(str::to_string),
        );
    }
    (subjects, lines)
}

fn futures_executor<T>(future: impl std::future::Future<Output = T>) -> T {
    actix_web::rt::System::new().block_on(future)
}

fn assert_absent(haystack: &str, needles: &[String], what: &str, stream: &str) {
    let lower = haystack.to_lowercase();
    for needle in needles {
        // JSON logs escape quotes and control characters: look for that form too.
        let escaped = serde_json::to_string(needle).unwrap();
        let escaped = escaped.trim_matches('"');
        for form in [needle.as_str(), escaped] {
            assert!(
                !lower.contains(&form.to_lowercase()),
                "{what} {needle:?} appears in {stream}"
            );
        }
    }
}

fn check(format: &str) {
    let fixture = Fixture::demo();
    let run = demo(format);
    let (subjects, bodies) = composed(&run.database_url);
    let (secrets, addresses, messages) = (
        secrets(&fixture),
        addresses(&fixture),
        submitted_messages(&fixture),
    );
    // The search means something only if the run was verbose and did the work.
    assert!(
        run.stderr.len() > 100_000,
        "only {} bytes of logs",
        run.stderr.len()
    );
    assert!(run.stderr.contains("step recorded") && run.stderr.contains("connector.call"));
    assert!(subjects.len() >= 5 && bodies.len() >= 10, "{subjects:?}");
    assert!(addresses.len() >= 10 && messages.len() >= 5 && secrets.len() >= 6);
    assert!(
        addresses.iter().any(|a| run.stdout.contains(a.as_str())),
        "the report names contacts, so the address list is the one the run used"
    );

    assert_absent(&run.stderr, &secrets, "secret", "the logs");
    assert_absent(&run.stderr, &addresses, "address", "the logs");
    assert_absent(&run.stderr, &messages, "submitted message", "the logs");
    assert_absent(&run.stderr, &bodies, "composed body line", "the logs");
    assert_absent(&run.stderr, &subjects, "subject", "the logs");
    assert_absent(&run.stdout, &secrets, "secret", "the report");
    assert_absent(&run.stdout, &messages, "submitted message", "the report");
    assert_absent(&run.stdout, &bodies, "composed body line", "the report");
}

#[test]
fn a_verbose_demo_run_logs_no_secret_address_or_body_as_text() {
    check("text");
}

#[test]
fn a_verbose_demo_run_logs_no_secret_address_or_body_as_json() {
    check("json");
}

/// Every log line of this test process, at the most verbose level.
#[derive(Clone, Default)]
struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The paths the demo does not take: a rep whose Google grant was revoked (the
/// workflow waits until someone reconnects it) and a provider failing every
/// other call (retries, degraded steps, dead letters). The service runs in this
/// process so that its logs can be captured; nextest runs each test in a process
/// of its own, so the global subscriber is this test's alone.
#[actix_web::test]
async fn waits_and_failures_log_the_rep_id_and_no_address() {
    use crate::helpers::{TestDb, spawn_stack_with};
    use sales_agent::sandbox::faults::{FaultSpec, Phase};

    let logs = Captured::default();
    let writer = logs.clone();
    tracing_subscriber::fmt()
        .with_env_filter("trace")
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .try_init()
        .expect("this test owns its process's log output (run it under nextest)");

    let db = TestDb::sqlite();
    let faults = std::collections::BTreeMap::from([(
        "hubspot".to_string(),
        FaultSpec {
            error_rate: 0.5,
            error_status: Some(503),
            phase: Phase::Before,
            ..FaultSpec::default()
        },
    )]);
    let stack = spawn_stack_with(&db, |config| config, faults).await;
    // Every rep's grant is revoked: any workflow that reaches a mailbox waits.
    for token in &stack.fixture.google.refresh_tokens {
        assert!(stack.sandbox.revoke_refresh_token(&token.token));
    }
    let emails: Vec<String> = stack
        .fixture
        .hubspot
        .form_submissions
        .iter()
        .filter_map(|s| {
            s["values"].as_array()?.iter().find_map(|v| {
                (v["name"] == "email").then(|| v["value"].as_str().unwrap_or_default().to_string())
            })
        })
        .collect();
    for email in &emails {
        let response = stack.app.post_signed(&stack.sample(email)).await;
        assert!(response.status().is_success());
    }
    // Wait until the waits were logged (or give up and let the asserts say so).
    let started = std::time::Instant::now();
    while started.elapsed() < std::time::Duration::from_secs(90) {
        let text = String::from_utf8_lossy(&logs.0.lock().unwrap()).into_owned();
        // The provider's failure is logged on its own schedule (retries,
        // breaker), so wait for it as well as for the waits.
        let failed = text.contains("503") || text.contains("Service Unavailable");
        if text.matches("step waits for a mailbox").count() >= 2
            && text.contains("rep.id=")
            && failed
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let fixture = stack.fixture.clone();
    stack.stop().await;

    let text = String::from_utf8_lossy(&logs.0.lock().unwrap()).into_owned();
    assert!(
        text.contains("step waits for a mailbox to be reconnected"),
        "the wait says why: {}",
        &text[text.len().saturating_sub(3000)..]
    );
    let rep_ids: Vec<String> = sales_agent::demo::reps_from_fixture(&fixture)
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert!(
        rep_ids
            .iter()
            .any(|id| text.contains(&format!("rep.id=\"{id}\""))
                || text.contains(&format!("rep.id={id}"))),
        "a wait names the rep by id"
    );
    assert!(
        text.contains("503") || text.contains("Service Unavailable"),
        "the failing provider's errors were logged"
    );
    assert!(!emails.is_empty());
    let mut needles = addresses(&fixture);
    needles.extend(emails);
    assert_absent(&text, &needles, "address", "the logs");
}
