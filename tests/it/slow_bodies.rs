//! Memory before authentication, measured on a real `sales-agent serve` child
//! process: many connections that declare a body of about 1 MiB, send most of it
//! and then stall must neither raise the service's resident memory much nor keep
//! their connections: unsigned ones are refused on their headers, forged ones
//! (a fresh timestamp, a signature that cannot match) hit the shared budget of
//! unverified bytes and the body deadline. Measured here (2 cores, debug build):
//! 200 unsigned + 200 forged connections raised the RSS by about 70 MiB at its peak
//! (from 48 MiB), every connection ended within 12 s; before the fix the same run
//! went from 48 MiB to 270 MiB and kept it.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::crash::{Service, free_port};
use crate::helpers::{PUBLIC_URL, SECRET, TestDb, signed_headers, submission};

const DECLARED: usize = 1024 * 1024;
const SENT: usize = DECLARED - 4096;

/// Resident memory of a process, in bytes.
fn rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc status");
    let kb: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS");
    kb * 1024
}

/// Opens a connection, sends headers and `SENT` of `DECLARED` body bytes, and
/// waits for the service to end the connection; returns how long that took.
async fn stall(port: u16, headers: Vec<(&'static str, String)>, body: Arc<Vec<u8>>) -> Duration {
    let started = Instant::now();
    let stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let (mut read, mut write) = stream.into_split();
    let mut head = format!(
        "POST /webhooks/hubspot HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\n\
         content-type: application/json\r\ncontent-length: {DECLARED}\r\n"
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let writer = tokio::spawn(async move {
        if write.write_all(head.as_bytes()).await.is_ok() {
            // The service may stop reading (or close) at any point: that is the point.
            let _ = write.write_all(&body[..SENT]).await;
        }
        // Hold the write half open: the body stays unfinished.
        tokio::time::sleep(Duration::from_secs(60)).await;
        drop(write);
    });
    let mut sink = [0u8; 4096];
    loop {
        match read.read(&mut sink).await {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
    }
    writer.abort();
    started.elapsed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unfinished_unverified_bodies_hold_little_memory_and_are_cut_off() {
    let db = TestDb::sqlite();
    let env: BTreeMap<String, String> = [
        ("DATABASE_URL", db.url()),
        ("SALES_AGENT_PUBLIC_URL", PUBLIC_URL.to_string()),
        ("SALES_AGENT_HUBSPOT_CLIENT_SECRET", SECRET.to_string()),
        ("SALES_AGENT_RUN_WORKFLOWS", "false".to_string()),
        ("RUST_LOG", "error".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let service = Service::start(env, free_port());
    let port = service.port();
    let client = reqwest::Client::new();
    let deliver = |conversion: &'static str| {
        let body = submission(conversion, "ana@acme.example");
        let mut request = client.post(service.url()).body(body.clone());
        for (name, value) in signed_headers(&body, SystemTime::now(), SECRET) {
            request = request.header(name, value);
        }
        request.send()
    };
    assert_eq!(deliver("conv-warm-up").await.unwrap().status(), 202);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let pid = service.pid();
    let before = rss(pid);

    // 200 unsigned connections and 200 with a forged, fresh v3 signature.
    let body = Arc::new(vec![b' '; DECLARED]);
    let mut connections = Vec::new();
    for i in 0..400 {
        let headers = if i % 2 == 0 {
            Vec::new()
        } else {
            vec![
                ("x-hubspot-signature-v3", "Zm9yZ2Vk".to_string()),
                (
                    "x-hubspot-request-timestamp",
                    sales_agent::intake::signature::unix_millis(SystemTime::now()).to_string(),
                ),
            ]
        };
        connections.push(tokio::spawn(stall(port, headers, body.clone())));
    }
    let done = Arc::new(AtomicBool::new(false));
    let sampling = done.clone();
    let sampler = tokio::spawn(async move {
        let mut peak = 0;
        while !sampling.load(Ordering::Relaxed) {
            peak = peak.max(rss(pid));
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        peak
    });
    let mut slowest = Duration::ZERO;
    for connection in connections {
        let took = tokio::time::timeout(Duration::from_secs(40), connection)
            .await
            .expect("the service ends every stalled connection")
            .unwrap();
        slowest = slowest.max(took);
    }
    done.store(true, Ordering::Relaxed);
    let after = rss(pid);
    let peak = sampler.await.unwrap();
    let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
    println!(
        "RSS before {:.1} MiB, peak {:.1} MiB, after {:.1} MiB; slowest cut-off {:.1} s",
        mib(before),
        mib(peak),
        mib(after),
        slowest.as_secs_f64()
    );
    assert!(
        slowest < Duration::from_secs(30),
        "a stalled body was held {slowest:?}"
    );
    assert!(
        peak.saturating_sub(before) < 100 * 1024 * 1024,
        "RSS rose from {:.1} MiB to {:.1} MiB",
        mib(before),
        mib(peak)
    );
    // The budget was given back: a signed delivery is still accepted.
    assert_eq!(deliver("conv-after").await.unwrap().status(), 202);
}
