//! Alerts that reach someone: the repository's Alertmanager configuration passes
//! `amtool check-config` and routes critical alerts to the pager as well as the
//! team; and end to end, a lead that HubSpot refuses is dead-lettered by the
//! service, a real Prometheus scraping it fires our `SalesAgentDeadLetters` rule,
//! and Debian's real Alertmanager, running the repository's configuration (only
//! its placeholder addresses pointed at the test), delivers it to the team's
//! webhook receiver.

use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{App, HttpServer, web};
use sales_agent::sandbox::faults::FaultSpec;
use serde_json::Value;

use super::prometheus::{Prometheus, free_port, repo_path};
use crate::helpers::{TestDb, spawn_stack_with};

const CONFIG: &str = "grafana/alertmanager/alertmanager.yml";
/// The placeholder host of the configuration's webhook URLs.
const WEBHOOK_PLACEHOLDER: &str = "http://alert-webhook.example.internal";

fn amtool(args: &[&str]) -> (bool, String) {
    let out = Command::new("amtool")
        .args(args)
        .current_dir(repo_path(""))
        .output()
        .expect(
            "`amtool` is installed (Debian package prometheus-alertmanager; .ci/setup installs it)",
        );
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[test]
fn the_alertmanager_config_passes_amtool_and_pages_only_for_critical_alerts() {
    let (ok, out) = amtool(&["check-config", CONFIG]);
    assert!(ok && out.contains("SUCCESS"), "{out}");
    let receivers = |labels: &[&str]| {
        let mut args = vec!["config", "routes", "test", "--config.file", CONFIG];
        args.extend(labels);
        let (ok, out) = amtool(&args);
        assert!(ok, "{out}");
        out.lines()
            .find(|l| !l.starts_with("Warning"))
            .unwrap_or_default()
            .trim()
            .to_string()
    };
    assert_eq!(
        receivers(&["alertname=SalesAgentDown", "severity=critical"]),
        "oncall,team"
    );
    assert_eq!(
        receivers(&["alertname=SalesAgentDeadLetters", "severity=warning"]),
        "team"
    );
    // Every rule's severity is one the routes know.
    let rules = std::fs::read_to_string(repo_path(super::prometheus::RULES)).unwrap();
    let severities: Vec<&str> = rules
        .lines()
        .filter_map(|l| l.trim().strip_prefix("severity: "))
        .collect();
    assert_eq!(severities.len(), 10, "{severities:?}");
    assert!(
        severities
            .iter()
            .all(|s| *s == "critical" || *s == "warning"),
        "{severities:?}"
    );
}

/// Debian's Alertmanager on a free loopback port with `config`.
struct Alertmanager {
    child: Child,
    dir: std::path::PathBuf,
    address: String,
}

impl Alertmanager {
    async fn start(config: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("sa-am-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(dir.join("data")).unwrap();
        std::fs::write(dir.join("alertmanager.yml"), config).unwrap();
        let address = format!("127.0.0.1:{}", free_port());
        let log = std::fs::File::create(dir.join("alertmanager.log")).unwrap();
        let child = Command::new("prometheus-alertmanager")
            .arg(format!(
                "--config.file={}",
                dir.join("alertmanager.yml").display()
            ))
            .arg(format!("--storage.path={}", dir.join("data").display()))
            .arg(format!("--web.listen-address={address}"))
            // One instance: no gossip port to bind.
            .arg("--cluster.listen-address=")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("`prometheus-alertmanager` is installed (.ci/setup installs it)");
        let manager = Alertmanager {
            child,
            dir,
            address,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        let ready = format!("http://{}/-/ready", manager.address);
        while !reqwest::get(&ready)
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            assert!(
                Instant::now() < deadline,
                "Alertmanager not ready:\n{}",
                manager.log()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        manager
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("alertmanager.log")).unwrap_or_default()
    }
}

impl Drop for Alertmanager {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// What the test's webhook receiver was sent: (path, body).
type Received = Arc<Mutex<Vec<(String, Value)>>>;

async fn webhook_receiver() -> (String, Received, actix_web::dev::ServerHandle) {
    let received: Received = Arc::default();
    let store = received.clone();
    let server = HttpServer::new(move || {
        let store = store.clone();
        App::new().default_service(web::to(
            move |req: actix_web::HttpRequest, body: web::Json<Value>| {
                let store = store.clone();
                async move {
                    store
                        .lock()
                        .unwrap()
                        .push((req.path().to_string(), body.into_inner()));
                    actix_web::HttpResponse::Ok().finish()
                }
            },
        ))
    })
    .workers(1)
    .bind("127.0.0.1:0")
    .unwrap();
    let address = format!("http://{}", server.addrs()[0]);
    let server = server.run();
    let handle = server.handle();
    actix_web::rt::spawn(server);
    (address, received, handle)
}

#[actix_web::test]
async fn a_dead_lettered_lead_fires_an_alert_that_reaches_the_teams_webhook() {
    let (webhook, received, receiver) = webhook_receiver().await;
    let repo_config = std::fs::read_to_string(repo_path(CONFIG)).unwrap();
    let config = repo_config
        .replace(WEBHOOK_PLACEHOLDER, &webhook)
        // No mail server here: the email attempt fails, the webhook still gets it.
        .replace(
            "smtp.example.com:587",
            &format!("127.0.0.1:{}", free_port()),
        );
    assert_eq!(
        config.matches(&webhook).count(),
        2,
        "both webhook URLs use the placeholder host"
    );
    let alertmanager = Alertmanager::start(&config).await;

    let db = TestDb::sqlite();
    let refuse_contacts = BTreeMap::from([(
        "hubspot.contacts.upsert".to_string(),
        FaultSpec {
            error_rate: 1.0,
            error_status: Some(400),
            ..FaultSpec::default()
        },
    )]);
    let stack = spawn_stack_with(
        &db,
        |mut config| {
            config.connectors.max_attempts = 1;
            config
        },
        refuse_contacts,
    )
    .await;
    let prometheus = Prometheus::start_alerting(
        &format!("127.0.0.1:{}", stack.app.app.port),
        Some(&alertmanager.address),
    )
    .await;
    // Prometheus has seen the counter at 0 before the lead arrives: increase()
    // needs the step from 0 to 1.
    prometheus
        .wait_for(
            r#"count(sales_agent_workflows_finished_total{status="dead_lettered"} == 0)"#,
            1.0,
            Duration::from_secs(30),
        )
        .await;
    let accepted = stack
        .app
        .post_signed(&stack.sample("daniel.brooks@summitcare-clinics.com"))
        .await;
    assert_eq!(accepted.status(), 202);
    let id = crate::helpers::json(accepted).await["workflow_id"]
        .as_str()
        .unwrap()
        .to_string();
    let status = stack
        .wait_finished(std::slice::from_ref(&id), Duration::from_secs(30))
        .await;
    assert_eq!(status, ["dead_lettered"]);

    let deadline = Instant::now() + Duration::from_secs(90);
    let alert = loop {
        let found = received.lock().unwrap().iter().find_map(|(path, body)| {
            body["alerts"]
                .as_array()?
                .iter()
                .find(|a| a["labels"]["alertname"] == "SalesAgentDeadLetters")
                .map(|a| (path.clone(), body.clone(), a.clone()))
        });
        if let Some(found) = found {
            break found;
        }
        assert!(
            Instant::now() < deadline,
            "no alert reached the webhook; Prometheus:\n{}\nAlertmanager:\n{}",
            prometheus.log(),
            alertmanager.log()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let (path, body, alert) = alert;
    assert_eq!(path, "/sales-agent/team", "a warning goes to the team only");
    assert_eq!(body["receiver"], "team");
    assert_eq!(alert["status"], "firing");
    assert_eq!(alert["labels"]["severity"], "warning");
    assert!(
        alert["annotations"]["description"]
            .as_str()
            .unwrap()
            .contains("/api/workflows?status=dead_lettered"),
        "{alert}"
    );
    assert!(
        received
            .lock()
            .unwrap()
            .iter()
            .all(|(path, _)| path != "/sales-agent/oncall"),
        "nothing paged"
    );
    stack.stop().await;
    receiver.stop(true).await;
}
