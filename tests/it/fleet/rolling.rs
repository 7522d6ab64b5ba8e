//! A rolling deploy loses no webhook: two services (real `sales-agent serve`
//! children) on one PostgreSQL database behind a real Caddy on loopback, with
//! active health checks on `/readyz`, are restarted one at a time (SIGTERM, then
//! started again on the same port) while signed webhooks stream in through Caddy.
//! On SIGTERM readiness turns 503 first, so Caddy sends elsewhere before the
//! server stops taking connections. Every delivery is answered 2xx — or retried
//! by the test, as HubSpot retries a 5xx or a connection error — and becomes
//! exactly one workflow; every workflow finishes, with one draft each.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use crate::crash::{
    Service, count_by_workflow, free_port, service_env, start_sandbox, wait_all_finished,
};
use crate::helpers::{SECRET, TestDb, signed_headers};

/// Concurrent senders, each pausing between its deliveries.
const SENDERS: usize = 4;
const PAUSE: Duration = Duration::from_millis(250);

#[actix_web::test]
async fn restarting_two_services_behind_caddy_one_at_a_time_drops_no_webhook() {
    let db = TestDb::postgres();
    let (sandbox, fixture, dir) = start_sandbox(BTreeMap::new());
    let mut env = service_env(&db.url(), &sandbox, &fixture, &dir.join("reps.json"));
    env.insert("SALES_AGENT_DRAIN_SECS".into(), "3".into());
    let services = vec![
        Service::start(env.clone(), free_port()),
        Service::start(env, free_port()),
    ];
    let ports: Vec<u16> = services.iter().map(Service::port).collect();
    for port in &ports {
        wait_ready(*port);
    }
    let proxy = Caddy::start(&dir, &ports);

    let done = Arc::new(AtomicBool::new(false));
    let next = Arc::new(AtomicUsize::new(0));
    let retries = Arc::new(AtomicUsize::new(0));
    let ids = Arc::new(Mutex::new(BTreeMap::new()));
    let senders = (0..SENDERS).map(|_| {
        let (done, next, retries, ids) = (done.clone(), next.clone(), retries.clone(), ids.clone());
        let url = proxy.url();
        async move {
            let client = reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .unwrap();
            while !done.load(Ordering::SeqCst) {
                let n = next.fetch_add(1, Ordering::SeqCst);
                let (id, tries) = deliver(&client, &url, n).await;
                retries.fetch_add(tries - 1, Ordering::SeqCst);
                ids.lock().unwrap().insert(n, id);
                tokio::time::sleep(PAUSE).await;
            }
        }
    });
    // The restarts block on child processes: they run on their own thread while
    // the deliveries stream on this one.
    let restarts = tokio::task::spawn_blocking({
        let done = done.clone();
        move || {
            let services = restart_one_at_a_time(services);
            std::thread::sleep(Duration::from_secs(1));
            done.store(true, Ordering::SeqCst);
            services
        }
    });
    let (services, _) = futures_util::join!(restarts, futures_util::future::join_all(senders));
    let services = services.unwrap();

    let ids = ids.lock().unwrap().clone();
    let delivered = next.load(Ordering::SeqCst);
    assert_eq!(ids.len(), delivered, "every delivery was answered 2xx");
    let unique: BTreeSet<String> = ids.values().cloned().collect();
    assert_eq!(unique.len(), delivered, "each delivery is its own workflow");
    let finished = wait_all_finished(&db.store(), delivered, Duration::from_secs(40)).await;
    assert_eq!(
        finished.len(),
        delivered,
        "exactly one workflow per delivery"
    );
    let unfinished: Vec<_> = finished
        .iter()
        .filter(|(_, s, _)| s != "completed")
        .collect();
    assert!(unfinished.is_empty(), "{unfinished:?}");
    let drafts = count_by_workflow(&sandbox, &unique);
    assert!(
        unique.iter().all(|id| drafts.get(id) == Some(&1)),
        "one draft per workflow"
    );
    eprintln!(
        "{delivered} deliveries through the restarts, {} retried after a 5xx or connection error",
        retries.load(Ordering::SeqCst)
    );
    drop(services);
    drop(proxy);
    sandbox.stop().await;
    std::fs::remove_dir_all(dir).unwrap();
}

/// SIGTERM to each service in turn: readiness fails at once while it still
/// serves; it exits; it starts again on its port and is ready before the next.
fn restart_one_at_a_time(mut services: Vec<Service>) -> Vec<Service> {
    std::thread::sleep(Duration::from_secs(2));
    for service in &mut services {
        let port = service.port();
        let pid = service.pid();
        Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .unwrap();
        let started = Instant::now();
        let mut seen = Vec::new();
        loop {
            let status = readyz(port);
            if status == Some(503) {
                break;
            }
            seen.push(status);
            assert!(
                started.elapsed() < Duration::from_millis(2_500),
                "readiness did not turn 503 while draining: {seen:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        let status = service.terminate();
        assert!(status.success(), "the service exits cleanly: {status}");
        service.spawn();
        assert_eq!(service.port(), port, "restarted where the proxy expects it");
        wait_ready(port);
        // Caddy's next health check sees it back before the other one goes.
        std::thread::sleep(Duration::from_secs(1));
    }
    services
}

/// Waits until `/readyz` on `port` answers 200 (the port is bound before).
fn wait_ready(port: u16) {
    let started = Instant::now();
    while readyz(port) != Some(200) {
        assert!(started.elapsed() < Duration::from_secs(20), "not ready");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `/readyz`'s status on `port`, if it answers.
fn readyz(port: u16) -> Option<u16> {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    stream
        .write_all(b"GET /readyz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .ok()?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).ok()?;
    answer.split_whitespace().nth(1)?.parse().ok()
}

/// Posts delivery `n` until it is answered 2xx, as HubSpot retries; the
/// workflow id and the attempts it took.
async fn deliver(client: &reqwest::Client, url: &str, n: usize) -> (String, usize) {
    let body = serde_json::json!({
        "portalId": 24681357, "formGuid": "rolling", "conversionId": format!("rolling-{n}"),
        "values": [
            {"name": "email", "value": format!("lead{n}@prospect{}.example", n % 17)},
            {"name": "firstname", "value": format!("Lead{n}")},
            {"name": "company", "value": "Prospect Co"},
            {"name": "country", "value": "Germany"},
            {"name": "message", "value": "Could we get a demo of your forecasting?"}
        ]
    })
    .to_string();
    let started = Instant::now();
    for attempt in 1.. {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "delivery {n} was never accepted"
        );
        let mut request = client
            .post(url)
            .header("content-type", "application/json")
            .body(body.clone());
        for (name, value) in signed_headers(&body, SystemTime::now(), SECRET) {
            request = request.header(name, value);
        }
        match request.send().await {
            Ok(response) if response.status().is_success() => {
                let answer: serde_json::Value = response.json().await.unwrap();
                return (answer["workflow_id"].as_str().unwrap().to_string(), attempt);
            }
            Ok(response) => {
                let status = response.status();
                assert!(status.is_server_error(), "delivery {n} refused: {status}");
                eprintln!(
                    "delivery {n} attempt {attempt}: {status} {}",
                    response.text().await.unwrap_or_default()
                );
            }
            Err(e) => eprintln!("delivery {n} attempt {attempt}: {e}"),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    unreachable!("the loop returns or panics")
}

/// Caddy on loopback in front of the services, checking `/readyz` every 250 ms
/// and retrying another upstream for a request it could not hand over.
struct Caddy {
    child: Child,
    port: u16,
}

impl Caddy {
    fn start(dir: &std::path::Path, upstreams: &[u16]) -> Self {
        let port = free_port();
        let upstreams: Vec<String> = upstreams.iter().map(|p| format!("127.0.0.1:{p}")).collect();
        let caddyfile = format!(
            "{{\n\tadmin off\n\tauto_https off\n}}\n\
             http://127.0.0.1:{port} {{\n\tbind 127.0.0.1\n\
             \treverse_proxy {} {{\n\
             \t\tlb_policy round_robin\n\
             \t\tlb_try_duration 5s\n\
             \t\tlb_try_interval 50ms\n\
             \t\thealth_uri /readyz\n\
             \t\thealth_interval 250ms\n\
             \t\thealth_timeout 1s\n\
             \t}}\n}}\n",
            upstreams.join(" ")
        );
        let path = dir.join("Caddyfile");
        std::fs::write(&path, caddyfile).unwrap();
        let child = Command::new("caddy")
            .args(["run", "--adapter", "caddyfile", "--config"])
            .arg(&path)
            .env("HOME", dir)
            .env("XDG_DATA_HOME", dir.join("caddy-data"))
            .env("XDG_CONFIG_HOME", dir.join("caddy-config"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("caddy is installed");
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "caddy did not start"
            );
            std::thread::sleep(Duration::from_millis(25));
        }
        Caddy { child, port }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/webhooks/hubspot", self.port)
    }
}

impl Drop for Caddy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
