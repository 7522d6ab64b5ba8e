//! `sales-agent demo --serve` as a newcomer runs it: a real child process whose
//! printed `Console:` link signs a browser in once (a GET only shows the confirm
//! button; the POST spends the link), lands on a console full of the demo's
//! leads, and whose Ctrl-C stops everything with exit 0.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use base64::Engine;
use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION};
use sales_agent::sandbox::fixture::Fixture;

use crate::crash::free_port;
use crate::helpers::{TestDb, cookie};
use crate::on_both_backends;

on_both_backends!(the_printed_console_link_signs_in_once_and_ctrl_c_stops_the_demo);

async fn the_printed_console_link_signs_in_once_and_ctrl_c_stops_the_demo(db: TestDb) {
    let port = free_port();
    let mut demo = Demo::start(&db, port);
    let console = demo.line_after("Console: ");
    let sandbox = demo.line_after("Sandbox: ");
    let base = format!("http://127.0.0.1:{port}/");
    assert!(console.starts_with(&base), "{console}");
    assert!(console.contains("/signin/once/"), "{console}");
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    // The sandbox keeps serving too.
    let stats = client
        .get(format!("{sandbox}/_sandbox/stats"))
        .send()
        .await
        .unwrap();
    assert_eq!(stats.status(), StatusCode::OK);

    // A GET (a mail scanner, a prefetch) only shows the confirm button; twice over,
    // the link is still usable.
    let (csrf, form_cookie) = confirm_page(&client, &console).await;
    let (csrf2, form_cookie2) = confirm_page(&client, &console).await;
    // A post without the form's cookie is refused and does not spend the link.
    let forged = client
        .post(&console)
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    assert!(cookie(&forged, "sa_console").is_none());

    let signed_in = client
        .post(&console)
        .header(COOKIE, format!("sa_signin={form_cookie2}"))
        .form(&[("csrf", csrf2.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    assert_eq!(signed_in.headers()[LOCATION], "/");
    let session = cookie(&signed_in, "sa_console").expect("a session cookie");
    let leads = client
        .get(format!("{base}leads"))
        .header(COOKIE, format!("sa_console={session}"))
        .send()
        .await
        .unwrap();
    assert_eq!(leads.status(), StatusCode::OK);
    let page = leads.text().await.unwrap();
    for submission in &Fixture::demo().hubspot.form_submissions {
        let email = submission["values"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["name"] == "email")
            .unwrap()["value"]
            .as_str()
            .unwrap()
            .to_lowercase();
        assert!(page.contains(&email), "{email} is listed");
    }
    assert!(page.contains("admin:demo"), "signed in as the demo's admin");

    // The second use of the link is refused, by GET and by POST alike.
    let again = client.get(&console).send().await.unwrap();
    assert_eq!(again.status(), StatusCode::GONE);
    let replay = client
        .post(&console)
        .header(COOKIE, format!("sa_signin={form_cookie}"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(replay.status(), StatusCode::GONE);
    assert!(cookie(&replay, "sa_console").is_none());

    // The demo's drafts carry booking links to the running service, and they work:
    // a GET shows the booking page (and books nothing).
    let link = demo_booking_link(&client, &sandbox, &base).await;
    let page = client.get(&link).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK, "{link}");
    let page = page.text().await.unwrap();
    assert!(page.contains("Confirm this time"), "{page}");

    // Ctrl-C stops the service and the sandbox, and the demo exits 0.
    let status = demo.interrupt(Duration::from_secs(10));
    assert!(status.success(), "{status}");
    assert!(
        client.get(&base).send().await.is_err(),
        "the service stopped"
    );
    assert!(
        client.get(&sandbox).send().await.is_err(),
        "the sandbox stopped"
    );
}

/// Opens the link's confirm page: its form's CSRF token and the cookie beside it.
/// The first booking link in a draft the demo left in the sandbox's Gmail,
/// once one is there; it must point at the demo's own service (`base`).
async fn demo_booking_link(client: &reqwest::Client, sandbox: &str, base: &str) -> String {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let state: serde_json::Value = client
            .get(format!("{sandbox}/_sandbox/state"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let bodies = state["gmail"]["mailboxes"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|m| m["drafts"].as_array().unwrap())
            .filter_map(|d| d["message"]["payload"]["body"]["data"].as_str())
            .filter_map(|data| {
                base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(data.trim_end_matches('='))
                    .ok()
            })
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
            .collect::<Vec<_>>();
        let link = bodies
            .iter()
            .flat_map(|body| body.split_whitespace())
            .find(|word| word.contains("/book/"));
        if let Some(link) = link {
            assert!(link.starts_with(&format!("{base}book/")), "{link}");
            return link.to_string();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no demo draft with a booking link: {bodies:#?}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

async fn confirm_page(client: &reqwest::Client, link: &str) -> (String, String) {
    let response = client.get(link).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let cookie = cookie(&response, "sa_signin").expect("the form's cookie");
    let page = response.text().await.unwrap();
    let csrf = regex::Regex::new(r#"name="csrf" value="([0-9a-f]{64})""#)
        .unwrap()
        .captures(&page)
        .expect("a CSRF field")[1]
        .to_string();
    assert!(page.contains(r#"method="post""#), "{page}");
    (csrf, cookie)
}

/// The demo as a child process, its stdout read line by line on a thread.
struct Demo {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Demo {
    fn start(db: &TestDb, port: u16) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_sales-agent"))
            .args(["demo", "--serve", "--database-url", &db.url()])
            .env_clear()
            .env("SALES_AGENT_BIND", format!("127.0.0.1:{port}"))
            .current_dir(std::env::temp_dir())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the demo starts");
        let stdout = child.stdout.take().unwrap();
        let (send, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        Demo { child, lines }
    }

    /// The rest of the first line that starts with `prefix`.
    fn line_after(&mut self, prefix: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(180);
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    if let Some(rest) = line.strip_prefix(prefix) {
                        return rest.trim().to_string();
                    }
                }
                Err(e) => panic!("no line starting {prefix:?}: {e}"),
            }
        }
        panic!("no line starting {prefix:?} within 180 s");
    }

    /// Sends SIGINT (what Ctrl-C sends) and waits for the exit.
    fn interrupt(&mut self, within: Duration) -> std::process::ExitStatus {
        let sent = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "still running {within:?} after SIGINT"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
