//! A real Prometheus server for tests: Debian's `prometheus` binary on a free
//! loopback port, a temporary storage directory, a one-second scrape interval,
//! scraping one service and loading the project's alert rules.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

pub fn repo_path(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

pub const RULES: &str = "grafana/prometheus/rules.yml";

pub struct Prometheus {
    child: Child,
    dir: PathBuf,
    pub url: String,
    client: reqwest::Client,
}

impl Prometheus {
    /// Starts Prometheus scraping `target` (host:port) as job `sales-agent`.
    pub async fn start(target: &str) -> Self {
        Self::start_alerting(target, None).await
    }

    /// [`Prometheus::start`], sending firing alerts to the Alertmanager at
    /// `alertmanager` (host:port) when one is given.
    pub async fn start_alerting(target: &str, alertmanager: Option<&str>) -> Self {
        let dir = std::env::temp_dir().join(format!("sa-prom-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let config = format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files:\n  - {rules}\n\
             scrape_configs:\n  - job_name: sales-agent\n    static_configs:\n      - targets: [\"{target}\"]\n{alerting}",
            rules = repo_path(RULES).display(),
            alerting = alertmanager.map_or(String::new(), |at| format!(
                "alerting:\n  alertmanagers:\n    - static_configs:\n        - targets: [\"{at}\"]\n"
            )),
        );
        std::fs::write(dir.join("prometheus.yml"), config).unwrap();
        let port = free_port();
        let log = std::fs::File::create(dir.join("prometheus.log")).unwrap();
        let child = Command::new("prometheus")
            .arg(format!(
                "--config.file={}",
                dir.join("prometheus.yml").display()
            ))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--log.level=warn")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("`prometheus` is installed (Debian package prometheus; .ci/run installs it)");
        let server = Prometheus {
            child,
            dir,
            url: format!("http://127.0.0.1:{port}"),
            client: reqwest::Client::new(),
        };
        server.wait_ready().await;
        server
    }

    async fn wait_ready(&self) {
        let ready = format!("{}/-/ready", self.url);
        self.until(
            Duration::from_secs(30),
            "Prometheus not ready",
            async || {
                let answer = self.client.get(&ready).send().await;
                answer.is_ok_and(|r| r.status().is_success())
            },
        )
        .await;
    }

    /// Polls `ready` until it holds, failing with `what` and the server's log.
    async fn until(&self, timeout: Duration, what: &str, ready: impl AsyncFn() -> bool) {
        let deadline = Instant::now() + timeout;
        while !ready().await {
            assert!(Instant::now() < deadline, "{what}:\n{}", self.log());
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("prometheus.log")).unwrap_or_default()
    }

    /// An instant query now: the result vector, or Prometheus's error.
    pub async fn query(&self, expr: &str) -> Result<Vec<Value>, String> {
        let answer: Value = self
            .client
            .get(format!("{}/api/v1/query", self.url))
            .query(&[("query", expr)])
            .send()
            .await
            .map_err(|e| e.to_string())?
            .json()
            .await
            .map_err(|e| e.to_string())?;
        if answer["status"] != "success" {
            return Err(format!("{}: {}", answer["errorType"], answer["error"]));
        }
        match &answer["data"]["result"] {
            Value::Array(series) => Ok(series.clone()),
            // A scalar or string result is one value.
            other => Ok(vec![serde_json::json!({ "value": other })]),
        }
    }

    /// The first sample's value of `expr`, when there is one.
    pub async fn value(&self, expr: &str) -> Option<f64> {
        let series = self.query(expr).await.ok()?;
        series.first()?["value"][1].as_str()?.parse().ok()
    }

    /// Waits until `expr` has a value of at least `at_least`.
    pub async fn wait_for(&self, expr: &str, at_least: f64, timeout: Duration) {
        let what = format!("{expr} never reached {at_least}");
        self.until(timeout, &what, async || {
            self.value(expr).await.is_some_and(|v| v >= at_least)
        })
        .await;
    }

    /// The alerting rules Prometheus loaded: (name, expression, health).
    pub async fn rules(&self) -> Vec<(String, String, String)> {
        let answer: Value = self
            .client
            .get(format!("{}/api/v1/rules", self.url))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        answer["data"]["groups"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|g| g["rules"].as_array().cloned().unwrap_or_default())
            .map(|r| {
                let text = |k: &str| r[k].as_str().unwrap_or_default().to_string();
                (text("name"), text("query"), text("health"))
            })
            .collect()
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
