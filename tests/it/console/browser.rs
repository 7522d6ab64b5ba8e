//! A real Chromium for the console tests: Debian's `chromium` driven through its
//! `chromedriver` (one of each per test, on free ports), with the sign-in, the
//! accessibility check (axe-core from npm, `tests/browser`) and screenshots.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use thirtyfour::prelude::*;

use crate::helpers::TestDb;

pub struct Browser {
    pub driver: WebDriver,
    /// The service as the browser reaches it: `http://localhost:<port>`.
    pub base: String,
    label: &'static str,
    chromedriver: Child,
    profile: PathBuf,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

pub fn backend(db: &TestDb) -> &'static str {
    match db {
        TestDb::Sqlite { .. } => "sqlite",
        TestDb::Postgres { .. } => "postgres",
    }
}

impl Browser {
    /// Starts chromedriver and a headless Chromium for the service at `address`
    /// (`http://127.0.0.1:<port>`); pages are opened on `localhost`, which
    /// Chromium treats as a secure context, so `Secure` cookies work over http.
    pub async fn start(address: &str, db: &TestDb) -> Browser {
        Browser::start_in(address, db, None).await
    }

    /// [`Browser::start`] with Chromium in the IANA time `zone` (its `TZ`), as
    /// a visitor there would have it; the machine's own zone when `None`.
    pub async fn start_in(address: &str, db: &TestDb, zone: Option<&str>) -> Browser {
        let port = free_port();
        let mut command = Command::new("chromedriver");
        if let Some(zone) = zone {
            command.env("TZ", zone);
        }
        let chromedriver = command
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver runs (Debian's chromium-driver, installed by .ci/setup)");
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "chromedriver did not start"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let profile =
            std::env::temp_dir().join(format!("sa-chromium-{}", uuid::Uuid::new_v4().simple()));
        let mut caps = DesiredCapabilities::chrome();
        caps.set_binary("/usr/bin/chromium").unwrap();
        for arg in [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--window-size=1280,1000",
        ] {
            caps.add_arg(arg).unwrap();
        }
        caps.add_arg(&format!("--user-data-dir={}", profile.display()))
            .unwrap();
        let driver = WebDriver::new(format!("http://127.0.0.1:{port}"), caps)
            .await
            .expect("a Chromium session");
        let base = address.replace("127.0.0.1", "localhost");
        Browser {
            driver,
            base,
            label: backend(db),
            chromedriver,
            profile,
        }
    }

    pub async fn open(&self, path: &str) {
        self.driver
            .goto(format!("{}{path}", self.base))
            .await
            .expect("page opens");
    }

    pub async fn open_url(&self, url: &str) {
        self.driver.goto(url).await.expect("page opens");
    }

    /// `credentials` of the page at `url`.
    pub async fn credentials_from(&self, url: &str) -> (String, String) {
        self.open_url(url).await;
        self.credentials().await
    }

    pub async fn path(&self) -> String {
        self.driver
            .current_url()
            .await
            .expect("url")
            .path()
            .to_string()
    }

    pub async fn text(&self, css: &str) -> String {
        self.driver
            .find(By::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"))
            .text()
            .await
            .unwrap()
    }

    /// How many elements match `css`, at once (no waiting for one to appear).
    pub async fn count(&self, css: &str) -> usize {
        self.driver
            .execute(
                "return document.querySelectorAll(arguments[0]).length;",
                vec![css.into()],
            )
            .await
            .expect("count")
            .convert()
            .expect("a number")
    }

    pub async fn fill(&self, css: &str, value: &str) {
        let field = self
            .driver
            .find(By::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"));
        field.clear().await.unwrap();
        field.send_keys(value).await.unwrap();
    }

    pub async fn click(&self, css: &str) {
        self.driver
            .find(By::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"))
            .click()
            .await
            .unwrap();
    }

    /// Signs in by pasting `token` into the form, as a person would.
    pub async fn sign_in(&self, token: &str, name: &str) {
        self.open("/signin").await;
        self.fill("#token", token).await;
        self.fill("#name", name).await;
        self.click("#signin").await;
        self.wait_for_path("/").await;
    }

    /// Marks the open document, so [`Browser::wait_for_new_page`] can tell it was replaced.
    pub async fn mark_page(&self) {
        self.driver
            .execute("window.__old_page = true;", Vec::new())
            .await
            .unwrap();
    }

    /// Waits until the marked document was replaced by a fully loaded one.
    pub async fn wait_for_new_page(&self) {
        let started = Instant::now();
        loop {
            let fresh = self
                .driver
                .execute(
                    "return window.__old_page === undefined && document.readyState === 'complete';",
                    Vec::new(),
                )
                .await
                .ok()
                .and_then(|r| r.convert::<bool>().ok())
                .unwrap_or(false);
            if fresh {
                return;
            }
            assert!(started.elapsed() < Duration::from_secs(30), "no new page");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Clicks a control that submits a form and waits until the page it leads to
    /// has replaced this one. Waiting for a path cannot tell: most forms lead back
    /// to the path they are on (`/assets` → `POST /assets/sync` → `/assets?synced=…`),
    /// so under load the old page was still the one read.
    pub async fn submit(&self, css: &str) {
        self.mark_page().await;
        self.click(css).await;
        self.wait_for_new_page().await;
    }

    pub async fn wait_for_path(&self, path: &str) {
        let started = Instant::now();
        while self.path().await != path {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "never reached {path}, at {}",
                self.path().await
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Saves the page as `<target tmp>/console-screenshots/<name>-<backend>.png`.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("console-screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{name}-{}.png", self.label));
        self.driver.screenshot(&path).await.expect("screenshot");
        path
    }

    /// Runs axe-core on the open page; fails on any serious or critical violation.
    pub async fn assert_accessible(&self, page: &str) {
        let axe = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/browser/node_modules/axe-core/axe.min.js");
        let source = std::fs::read_to_string(&axe).unwrap_or_else(|e| {
            panic!(
                "{}: {e} (run .ci/setup, which runs npm ci in tests/browser)",
                axe.display()
            )
        });
        self.driver
            .execute(format!("{source}\n;return true;"), Vec::new())
            .await
            .expect("axe loads");
        let found = self
            .driver
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 axe.run(document, { resultTypes: ['violations'] })
                   .then(r => done(r.violations
                     .filter(v => v.impact === 'serious' || v.impact === 'critical')
                     .map(v => v.impact + ' ' + v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(' | '))))
                   .catch(e => done(['axe failed: ' + e]));",
                Vec::new(),
            )
            .await
            .expect("axe runs");
        let violations: Vec<String> = found.convert().expect("a list");
        assert!(violations.is_empty(), "{page}: {violations:#?}");
    }

    /// The page checks every test makes: accessible, and a screenshot.
    pub async fn check_page(&self, name: &str) {
        self.assert_accessible(name).await;
        self.screenshot(name).await;
    }

    /// The session cookie and the CSRF token of the signed-in page, for forged requests.
    pub async fn credentials(&self) -> (String, String) {
        let cookie = self
            .driver
            .get_all_cookies()
            .await
            .unwrap()
            .into_iter()
            .find(|c| c.name == "sa_console")
            .expect("a session cookie");
        let csrf = self
            .driver
            .find(By::Css("input[name=csrf]"))
            .await
            .unwrap()
            .attr("value")
            .await
            .unwrap()
            .expect("a CSRF token");
        (format!("sa_console={}", cookie.value), csrf)
    }

    pub async fn quit(self) {
        let Browser {
            driver,
            mut chromedriver,
            profile,
            ..
        } = self;
        let _ = driver.quit().await;
        let _ = chromedriver.kill();
        let _ = chromedriver.wait();
        let _ = std::fs::remove_dir_all(&profile);
    }
}
