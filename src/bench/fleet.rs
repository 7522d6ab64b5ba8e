//! Several `sales-agent serve` processes on one PostgreSQL database, as a team
//! that outgrew one machine runs them: each on its own port, all killed on drop.
//! Deliveries are spread over them; their CPU time is read from `/proc`.

use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The service as a child process, killed on drop.
pub struct ServiceProcess {
    child: Child,
}

impl ServiceProcess {
    pub fn spawn(env: &BTreeMap<String, String>) -> anyhow::Result<Self> {
        let child = Command::new(std::env::current_exe()?)
            .arg("serve")
            .env_clear()
            .envs(env)
            .stdout(Stdio::null())
            .stderr(log_file()?)
            .spawn()?;
        Ok(ServiceProcess { child })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// A `/proc/<pid>/status` memory line (`VmRSS`, `VmHWM`) in MB.
    pub fn status(&mut self, field: &str) -> anyhow::Result<f64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))?;
        let kb: f64 = status
            .lines()
            .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .ok_or_else(|| anyhow::anyhow!("no {field} in /proc status"))?;
        Ok(kb / 1024.0)
    }

    /// User + system CPU seconds the process has used.
    pub fn cpu_seconds(&self) -> f64 {
        cpu_seconds(self.pid())
    }
}

/// Where a child's errors go: a file in the temporary folder, named in the
/// bench's output if the child fails.
fn log_file() -> anyhow::Result<Stdio> {
    let path = std::env::temp_dir().join(format!(
        "sa-bench-service-{}-{}.log",
        std::process::id(),
        uuid::Uuid::new_v4().simple()
    ));
    Ok(Stdio::from(std::fs::File::create(path)?))
}

impl Drop for ServiceProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// User + system CPU seconds process `pid` has used (`/proc/<pid>/stat`).
pub fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The fields after the command name (which may hold spaces) follow its ')'.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime: fields 14 and 15 of stat, 11 and 12 after ')'; 100 ticks/s.
    (ticks(11) + ticks(12)) / 100.0
}

/// CPU seconds the whole machine has been busy (every process, PostgreSQL and
/// whatever else runs here), from `/proc/stat`'s first line.
pub fn machine_busy_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let ticks: Vec<f64> = stat
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .skip(1)
        .filter_map(|v| v.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal: all but idle and iowait.
    let total: f64 = ticks.iter().take(8).sum();
    let idle = ticks.get(3).copied().unwrap_or(0.0) + ticks.get(4).copied().unwrap_or(0.0);
    (total - idle) / 100.0
}

/// Waits until something listens on `port`.
pub async fn wait_ready(port: u16) -> anyhow::Result<()> {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(30) {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    anyhow::bail!("the service did not come up on port {port}")
}

/// `n` services configured by `env`, one port each.
pub struct Fleet {
    pub ports: Vec<u16>,
    processes: Vec<ServiceProcess>,
}

impl Fleet {
    /// Starts them one after the other (the first applies the migrations).
    pub async fn start(env: &BTreeMap<String, String>, n: usize) -> anyhow::Result<Self> {
        let mut fleet = Fleet {
            ports: Vec::new(),
            processes: Vec::new(),
        };
        for _ in 0..n {
            let port = std::net::TcpListener::bind("127.0.0.1:0")?
                .local_addr()?
                .port();
            let mut env = env.clone();
            env.insert("SALES_AGENT_BIND".into(), format!("127.0.0.1:{port}"));
            fleet.processes.push(ServiceProcess::spawn(&env)?);
            wait_ready(port).await?;
            wait_http_ready(port).await?;
            fleet.ports.push(port);
        }
        Ok(fleet)
    }

    /// CPU seconds used by all the processes so far.
    pub fn cpu_seconds(&self) -> f64 {
        self.processes.iter().map(ServiceProcess::cpu_seconds).sum()
    }
}

/// Waits until `/readyz` answers 200 (the port is bound before migrations run).
async fn wait_http_ready(port: u16) -> anyhow::Result<()> {
    let client = reqwest::Client::new();
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(60) {
        let ready = client
            .get(format!("http://127.0.0.1:{port}/readyz"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success());
        if ready {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    anyhow::bail!("the service on port {port} never became ready")
}
