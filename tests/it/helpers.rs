//! Shared test fixtures: a fresh database per test (a SQLite file or a PostgreSQL
//! database of its own), the service started on port 0, and signed deliveries.

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};
use sales_agent::app::{Application, RunningApp};
use sales_agent::config::Config;
use sales_agent::intake::signature::{sign_v3, unix_millis};
use sales_agent::store::Store;
use secrecy::SecretString;

/// The PostgreSQL server tests create their databases on. Tests fail, never skip,
/// when it cannot be reached.
pub fn pg_admin_url() -> String {
    std::env::var("SALES_AGENT_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

pub const SECRET: &str = "test-client-secret";
pub const PUBLIC_URL: &str = "https://agent.example.test";

/// A database that exists for one test only.
pub enum TestDb {
    Sqlite { dir: PathBuf },
    Postgres { name: String },
}

impl TestDb {
    pub fn sqlite() -> Self {
        let dir = std::env::temp_dir().join(format!(
            "sales-agent-test-{}",
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        TestDb::Sqlite { dir }
    }

    pub fn postgres() -> Self {
        let name = format!("sa_test_{}", uuid::Uuid::new_v4().simple());
        let mut admin = PgConnection::establish(&pg_admin_url())
            .unwrap_or_else(|e| panic!("PostgreSQL must be reachable at {}: {e}", pg_admin_url()));
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .expect("create test database");
        TestDb::Postgres { name }
    }

    pub fn url(&self) -> String {
        match self {
            TestDb::Sqlite { dir } => format!("sqlite://{}", dir.join("test.db").display()),
            TestDb::Postgres { name } => {
                let admin = pg_admin_url();
                let base = admin
                    .rsplit_once('/')
                    .map(|(base, _)| base)
                    .unwrap_or(&admin);
                format!("{base}/{name}")
            }
        }
    }

    pub fn store(&self) -> Store {
        Store::open(&self.url(), 4, Duration::from_secs(5)).expect("open store")
    }

    /// A store with every migration applied.
    pub async fn migrated_store(&self) -> Store {
        let store = self.store();
        store.migrate().await.expect("migrations apply");
        store
    }

    /// Runs SQL as the server's administrator (PostgreSQL only).
    pub fn pg_admin(&self, sql: &str) {
        let mut admin = PgConnection::establish(&pg_admin_url()).expect("admin connection");
        admin.batch_execute(sql).expect("admin SQL");
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match self {
            TestDb::Sqlite { dir } => {
                let _ = std::fs::remove_dir_all(dir);
            }
            TestDb::Postgres { name } => {
                if let Ok(mut admin) = PgConnection::establish(&pg_admin_url()) {
                    let _ = admin
                        .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
                }
            }
        }
    }
}

/// Generates one `#[actix_web::test]` per backend for an `async fn(TestDb)`.
#[macro_export]
macro_rules! on_both_backends {
    ($($test:ident),+ $(,)?) => {
        $(
            mod $test {
                #[actix_web::test]
                async fn sqlite() {
                    super::$test($crate::helpers::TestDb::sqlite()).await
                }

                #[actix_web::test]
                async fn postgres() {
                    super::$test($crate::helpers::TestDb::postgres()).await
                }
            }
        )+
    };
}

/// The configuration tests start the service with.
pub fn test_config(db: &TestDb) -> Config {
    let mut config = Config::defaults();
    config.database_url = db.url();
    config.bind = "127.0.0.1:0".parse().unwrap();
    config.public_url = PUBLIC_URL.parse().unwrap();
    config.webhook.client_secrets = vec![SecretString::from(SECRET)];
    config.supervisor_poll = Duration::from_millis(200);
    config.admin_token = Some(SecretString::from(ADMIN_TOKEN));
    config.viewer_token = Some(SecretString::from(VIEWER_TOKEN));
    // Intake and admin tests run no workflows, and no test ever reaches a real API:
    // every connector points at a closed loopback port unless a sandbox is wired in.
    config.engine.run_workflows = false;
    let closed: url::Url = "http://127.0.0.1:9".parse().unwrap();
    config.connectors.hubspot_base_url = closed.clone();
    config.connectors.gmail_base_url = closed.clone();
    config.connectors.google_api_base_url = closed.clone();
    config.connectors.google_token_url = closed.clone();
    config.connectors.llm_base_url = closed;
    config
}

pub const ADMIN_TOKEN: &str = "test-admin-token";
pub const VIEWER_TOKEN: &str = "test-viewer-token";

/// A running service and an HTTP client for it.
pub struct TestApp {
    pub app: RunningApp,
    pub address: String,
    pub client: reqwest::Client,
    /// The service's `/api/openapi.json`, read on the first admin API call.
    spec: tokio::sync::OnceCell<crate::spec::Spec>,
}

pub async fn spawn_app(db: &TestDb) -> TestApp {
    spawn_app_with(test_config(db)).await
}

pub async fn spawn_app_with(config: Config) -> TestApp {
    let app = Application::build(config)
        .await
        .expect("service starts")
        .spawn();
    TestApp::new(app)
}

pub async fn spawn_app_on(config: Config, listener: std::net::TcpListener) -> TestApp {
    let app = Application::build_with_listener(config, listener)
        .await
        .expect("service starts")
        .spawn();
    TestApp::new(app)
}

impl TestApp {
    pub fn new(app: RunningApp) -> TestApp {
        TestApp {
            address: format!("http://127.0.0.1:{}", app.port),
            app,
            client: reqwest::Client::new(),
            spec: tokio::sync::OnceCell::new(),
        }
    }

    /// The API reference the service serves.
    pub async fn spec(&self) -> &crate::spec::Spec {
        self.spec
            .get_or_init(|| async {
                let response = self
                    .client
                    .get(format!("{}/api/openapi.json", self.address))
                    .send()
                    .await
                    .expect("the reference is served");
                assert_eq!(response.status(), 200, "GET /api/openapi.json");
                crate::spec::Spec::new(response.json().await.expect("JSON"))
            })
            .await
    }

    pub fn webhook_url(&self) -> String {
        format!("{}/webhooks/hubspot", self.address)
    }

    /// Posts `body` with a valid v3 signature computed for the public URL.
    pub async fn post_signed(&self, body: &str) -> reqwest::Response {
        let headers = signed_headers(body, SystemTime::now(), SECRET);
        self.post_with(body, &headers).await
    }

    pub async fn post_with(&self, body: &str, headers: &[(&str, String)]) -> reqwest::Response {
        let mut request = self
            .client
            .post(self.webhook_url())
            .header("content-type", "application/json")
            .body(body.to_string());
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        request.send().await.expect("request reaches the service")
    }

    /// A request to the admin API with a bearer token (or none). Its response is
    /// checked against the API reference (see [`ApiRequest::send`]).
    pub fn api(&self, method: reqwest::Method, path: &str, token: Option<&str>) -> ApiRequest<'_> {
        let request = self
            .client
            .request(method.clone(), format!("{}{path}", self.address));
        ApiRequest {
            app: self,
            method,
            path: path.to_string(),
            builder: match token {
                Some(token) => request.bearer_auth(token),
                None => request,
            },
        }
    }

    pub async fn stop(self) {
        self.app.stop().await;
    }
}

/// A request to the admin API whose answer must be one the API reference
/// promises: a documented status, and a body matching its schema.
pub struct ApiRequest<'a> {
    app: &'a TestApp,
    method: reqwest::Method,
    path: String,
    builder: reqwest::RequestBuilder,
}

impl ApiRequest<'_> {
    pub fn json<T: serde::Serialize + ?Sized>(mut self, body: &T) -> Self {
        self.builder = self.builder.json(body);
        self
    }

    pub fn query<T: serde::Serialize + ?Sized>(mut self, query: &T) -> Self {
        self.builder = self.builder.query(query);
        self
    }

    pub fn header(mut self, name: &'static str, value: impl AsRef<str>) -> Self {
        self.builder = self.builder.header(name, value.as_ref());
        self
    }

    /// Sends the request and checks the response against the reference
    /// (panicking with what differs); the response is handed back whole.
    pub async fn send(self) -> reqwest::Result<reqwest::Response> {
        let response = self.builder.send().await?;
        let (status, headers) = (response.status(), response.headers().clone());
        let body = response.bytes().await?;
        if self.path.starts_with("/api/") {
            let spec = self.app.spec().await;
            if let Err(problem) =
                spec.check(self.method.as_str(), &self.path, status.as_u16(), &body)
            {
                panic!("the response differs from the API reference: {problem}");
            }
        }
        let mut rebuilt = http::Response::new(body);
        *rebuilt.status_mut() = status;
        *rebuilt.headers_mut() = headers;
        Ok(reqwest::Response::from(rebuilt))
    }
}

/// v3 signature headers as HubSpot would send them for `body` at `at`.
/// A POST of `body` to the webhook of the service at `public_url`, signed now
/// with the test secret for that address, as HubSpot sends it.
pub fn signed_post(
    client: &reqwest::Client,
    public_url: &str,
    body: String,
) -> reqwest::RequestBuilder {
    let mut request = client
        .post(format!("{public_url}/webhooks/hubspot"))
        .header("content-type", "application/json");
    for (name, value) in signed_headers_for(public_url, &body, SystemTime::now()) {
        request = request.header(name, value);
    }
    request.body(body)
}

pub fn signed_headers(body: &str, at: SystemTime, secret: &str) -> Vec<(&'static str, String)> {
    signed_with(PUBLIC_URL, body, at, secret)
}

/// Headers signed for a service whose public URL is `public_url`.
pub fn signed_headers_for(
    public_url: &str,
    body: &str,
    at: SystemTime,
) -> Vec<(&'static str, String)> {
    signed_with(public_url, body, at, SECRET)
}

fn signed_with(
    public_url: &str,
    body: &str,
    at: SystemTime,
    secret: &str,
) -> Vec<(&'static str, String)> {
    let ts = unix_millis(at);
    let uri = format!("{public_url}/webhooks/hubspot");
    vec![
        (
            "X-HubSpot-Signature-v3",
            sign_v3(secret, "POST", &uri, body.as_bytes(), ts),
        ),
        ("X-HubSpot-Request-Timestamp", ts.to_string()),
    ]
}

/// A Forms API submission with a given conversion id.
pub fn submission(conversion_id: &str, email: &str) -> String {
    serde_json::json!({
        "portalId": 62515,
        "formGuid": "demo-request",
        "conversionId": conversion_id,
        "submittedAt": 1_790_000_000_000u64,
        "pageUrl": "https://www.example.com/demo",
        "values": [
            {"name": "email", "value": email},
            {"name": "firstname", "value": "Ana"},
            {"name": "company", "value": "Acme"},
            {"name": "message", "value": "We would like a demo."}
        ]
    })
    .to_string()
}

/// Row counts of (inbound_events, workflows).
pub async fn row_counts(store: &Store) -> (i64, i64) {
    store
        .run(|conn| {
            Ok((
                sales_agent::store::events::count(conn)?,
                sales_agent::store::workflows::count(conn)?,
            ))
        })
        .await
        .expect("count rows")
}

/// A live console session row for `role`, signed in as `actor`, as sign-in
/// makes one: (cookie header, CSRF token).
pub async fn console_session(store: &Store, role: &str, actor: &str) -> (String, String) {
    // As long as the tokens sign-in makes (the cookie's shape is checked).
    let random = || uuid::Uuid::new_v4().simple().to_string().repeat(2);
    let (token, csrf) = (random(), random());
    let (t, c, role, actor) = (
        token.clone(),
        csrf.clone(),
        role.to_string(),
        actor.to_string(),
    );
    store
        .run(move |conn| {
            let expires = sales_agent::store::now() + chrono::TimeDelta::hours(1);
            sales_agent::store::sessions::insert(conn, &t, &role, &actor, &c, expires)
        })
        .await
        .expect("a console session");
    (format!("sa_console={token}"), csrf)
}

/// The `sales_agent_account_connected` series of Google account `email` on the
/// service's `/metrics`: 1 connected, 0 needing reconnection, none unknown.
pub async fn account_gauge(app: &TestApp, email: &str) -> Option<i64> {
    let text = app
        .client
        .get(format!("{}/metrics", app.address))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("metrics text");
    let series =
        format!("sales_agent_account_connected{{account=\"{email}\",provider=\"google\"}}");
    text.lines()
        .find_map(|l| l.strip_prefix(&series))
        .map(|v| v.trim().parse().expect("a gauge value"))
}

/// The value of the cookie `name` a response sets, when it sets one that is not empty.
pub fn cookie(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next()?.split_once('='))
        .find(|(n, v)| *n == name && !v.is_empty())
        .map(|(_, v)| v.to_string())
}

pub async fn json(response: reqwest::Response) -> serde_json::Value {
    response.json().await.expect("JSON body")
}

/// A verified delivery as the webhook hands it to the store.
pub fn new_intake(key: &str, raw_body: &str) -> sales_agent::store::events::NewIntake {
    sales_agent::store::events::NewIntake {
        idempotency_key: key.into(),
        source: "forms_api".into(),
        signature_version: "v3".into(),
        portal_id: None,
        form_id: None,
        conversion_id: Some(key.replace(':', "-")),
        raw_body: raw_body.into(),
        email: format!("lead-{}@example.org", key.replace(':', "-")),
        submission: "{}".into(),
    }
}

/// Commits `n` workflows straight through the store, as the webhook would.
pub async fn seed_workflows(store: &Store, n: usize) -> Vec<String> {
    store
        .run(move |conn| {
            let mut ids = Vec::with_capacity(n);
            for i in 0..n {
                let intake = new_intake(&format!("seed:{i}"), "{}");
                ids.push(sales_agent::store::events::accept(conn, &intake)?.workflow_id);
            }
            Ok(ids)
        })
        .await
        .expect("seed workflows")
}

/// The service wired to a sandbox of the demo fixture, reps in place.
pub struct Stack {
    pub app: TestApp,
    pub sandbox: sales_agent::sandbox::SandboxHandle,
    pub fixture: sales_agent::sandbox::fixture::Fixture,
}

pub async fn spawn_stack(db: &TestDb) -> Stack {
    spawn_stack_with(db, |config| config, Default::default()).await
}

/// A stack whose configuration `tweak` may change and whose sandbox injects `faults`.
pub async fn spawn_stack_with(
    db: &TestDb,
    tweak: impl FnOnce(Config) -> Config,
    faults: std::collections::BTreeMap<String, sales_agent::sandbox::faults::FaultSpec>,
) -> Stack {
    spawn_stack_on(db, None, tweak, faults).await
}

/// [`spawn_stack_with`] serving on `listener` when given: for a test that must
/// know the port before start (a browser's origin as the public URL).
pub async fn spawn_stack_on(
    db: &TestDb,
    listener: Option<std::net::TcpListener>,
    tweak: impl FnOnce(Config) -> Config,
    faults: std::collections::BTreeMap<String, sales_agent::sandbox::faults::FaultSpec>,
) -> Stack {
    use sales_agent::sandbox::{SandboxOptions, fixture::Fixture, spawn};
    let fixture = Fixture::demo();
    let sandbox = spawn(SandboxOptions {
        fixture: Some(fixture.clone()),
        faults,
        ..SandboxOptions::default()
    })
    .expect("sandbox starts");
    // Reps exist before the supervisor can claim anything.
    let store = db.migrated_store().await;
    let reps = sales_agent::demo::reps_from_fixture(&fixture);
    store
        .run(move |c| {
            for rep in &reps {
                sales_agent::store::reps::upsert(c, rep)?;
            }
            Ok(())
        })
        .await
        .expect("reps stored");
    let mut config =
        sales_agent::demo::sandbox_config(test_config(db), &sandbox.base_url(), &fixture);
    config.engine.run_workflows = true;
    config.engine.retry_base = Duration::from_millis(200);
    config.engine.quiet_hours = (0, 0);
    config.engine.quiet_weekends = false;
    let app = match listener {
        None => spawn_app_with(tweak(config)).await,
        Some(listener) => spawn_app_on(tweak(config), listener).await,
    };
    Stack {
        app,
        sandbox,
        fixture,
    }
}

impl Stack {
    /// The fixture's sample submission for `email`, as the Forms API sends it.
    pub fn sample(&self, email: &str) -> String {
        let entry = self
            .fixture
            .hubspot
            .form_submissions
            .iter()
            .find(|s| s.to_string().contains(email))
            .unwrap_or_else(|| panic!("no sample for {email}"));
        let mut body = entry.clone();
        let object = body.as_object_mut().unwrap();
        object.remove("ageMinutes");
        object.insert("submittedAt".into(), 1_790_000_000_000u64.into());
        body.to_string()
    }

    /// Waits until every workflow in `ids` is finished; returns their statuses.
    pub async fn wait_finished(&self, ids: &[String], timeout: Duration) -> Vec<String> {
        let store = self.app.app.state.store.clone();
        let started = std::time::Instant::now();
        loop {
            let wanted = ids.to_vec();
            let statuses: Vec<String> = store
                .run(move |c| {
                    let mut out = Vec::new();
                    for id in &wanted {
                        out.push(
                            sales_agent::store::workflows::find_by_id(c, id)?
                                .map(|w| w.status)
                                .unwrap_or_default(),
                        );
                    }
                    Ok(out)
                })
                .await
                .unwrap();
            let done = statuses
                .iter()
                .all(|s| !["pending", "running", "retry_wait"].contains(&s.as_str()));
            if done || started.elapsed() > timeout {
                return statuses;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub async fn stop(self) {
        self.app.stop().await;
        self.sandbox.stop().await;
    }
}

impl Stack {
    /// Each step's output of a workflow, by step name, as the admin API shows it.
    pub async fn step_outputs(
        &self,
        workflow_id: &str,
    ) -> std::collections::BTreeMap<String, serde_json::Value> {
        let detail = json(
            self.app
                .api(
                    reqwest::Method::GET,
                    &format!("/api/workflows/{workflow_id}"),
                    Some(ADMIN_TOKEN),
                )
                .send()
                .await
                .unwrap(),
        )
        .await;
        detail["steps"]
            .as_array()
            .unwrap_or_else(|| panic!("no steps in {detail}"))
            .iter()
            .map(|s| (s["step"].as_str().unwrap().to_string(), s["output"].clone()))
            .collect()
    }

    /// Files a raw RFC 5322 message into `mailbox` as Gmail would file mail that
    /// arrived `age` ago: in `thread_id` (a new thread when `None`) with `labels`.
    /// Returns the thread id.
    pub fn put_message(
        &self,
        mailbox: &str,
        thread_id: Option<&str>,
        raw: &str,
        labels: &[&str],
        age: chrono::Duration,
    ) -> String {
        use sales_agent::sandbox::mime;
        let parsed =
            mime::parse(raw.replace('\n', "\r\n").into_bytes(), true).expect("raw message parses");
        let mut world = self.sandbox.sandbox().lock_world();
        let id = world.gmail_id();
        let thread_id = thread_id.map_or_else(|| world.gmail_id(), str::to_string);
        let message = mime::Message {
            id: id.clone(),
            thread_id: thread_id.clone(),
            label_ids: labels.iter().map(|l| l.to_string()).collect(),
            raw: parsed.raw,
            headers: parsed.headers,
            from: parsed.from,
            to: parsed.to,
            subject: parsed.subject,
            message_id: parsed.message_id,
            in_reply_to: parsed.in_reply_to,
            references: parsed.references,
            body: parsed.body,
            internal_date_ms: (chrono::Utc::now() - age).timestamp_millis(),
        };
        world
            .mailboxes
            .get_mut(mailbox)
            .expect("a sandbox mailbox")
            .messages
            .insert(id, message);
        thread_id
    }
}

impl Stack {
    /// A step's committed output for a workflow (`null` when it has none).
    pub async fn step_output(&self, workflow_id: &str, step: &str) -> serde_json::Value {
        self.step_outputs(workflow_id)
            .await
            .remove(step)
            .unwrap_or(serde_json::Value::Null)
    }

    /// Submits the fixture's sample for `email` and waits until its workflow completes.
    pub async fn answered(&self, email: &str) -> String {
        self.completed(&self.sample(email)).await
    }

    /// The workflow's state as its committed steps left it (what a re-run reads).
    pub async fn state_of(&self, workflow_id: &str) -> sales_agent::steps::WorkflowState {
        let id = workflow_id.to_string();
        let runs = self
            .app
            .app
            .state
            .store
            .run(move |c| sales_agent::store::step_runs::list_for_workflow(c, &id))
            .await
            .expect("step runs");
        let mut state = sales_agent::steps::WorkflowState::default();
        for run in &runs {
            let output: serde_json::Value = run
                .output
                .as_deref()
                .map(|o| serde_json::from_str(o).expect("step output is JSON"))
                .unwrap_or(serde_json::Value::Null);
            state
                .apply(
                    sales_agent::steps::Step::parse(&run.step).expect("known step"),
                    &output,
                )
                .expect("output applies");
        }
        state
    }

    /// Posts `body` signed, waits until its workflow completes; its id.
    pub async fn completed(&self, body: &str) -> String {
        let response = self.app.post_signed(body).await;
        assert_eq!(response.status(), 202);
        let id = json(response).await["workflow_id"]
            .as_str()
            .expect("workflow id")
            .to_string();
        let statuses = self
            .wait_finished(std::slice::from_ref(&id), Duration::from_secs(30))
            .await;
        assert_eq!(statuses, ["completed"], "{id}");
        id
    }
}
