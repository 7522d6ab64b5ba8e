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
    config
}

pub const ADMIN_TOKEN: &str = "test-admin-token";
pub const VIEWER_TOKEN: &str = "test-viewer-token";

/// A running service and an HTTP client for it.
pub struct TestApp {
    pub app: RunningApp,
    pub address: String,
    pub client: reqwest::Client,
}

pub async fn spawn_app(db: &TestDb) -> TestApp {
    spawn_app_with(test_config(db)).await
}

pub async fn spawn_app_with(config: Config) -> TestApp {
    let app = Application::build(config)
        .await
        .expect("service starts")
        .spawn();
    TestApp {
        address: format!("http://127.0.0.1:{}", app.port),
        app,
        client: reqwest::Client::new(),
    }
}

impl TestApp {
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

    /// A request to the admin API with a bearer token (or none).
    pub fn api(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
    ) -> reqwest::RequestBuilder {
        let request = self
            .client
            .request(method, format!("{}{path}", self.address));
        match token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    }

    pub async fn stop(self) {
        self.app.stop().await;
    }
}

/// v3 signature headers as HubSpot would send them for `body` at `at`.
pub fn signed_headers(body: &str, at: SystemTime, secret: &str) -> Vec<(&'static str, String)> {
    let ts = unix_millis(at);
    let uri = format!("{PUBLIC_URL}/webhooks/hubspot");
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

pub async fn json(response: reqwest::Response) -> serde_json::Value {
    response.json().await.expect("JSON body")
}

/// Commits `n` workflows straight through the store, as the webhook would.
pub async fn seed_workflows(store: &Store, n: usize) -> Vec<String> {
    store
        .run(move |conn| {
            let mut ids = Vec::with_capacity(n);
            for i in 0..n {
                let intake = sales_agent::store::events::NewIntake {
                    idempotency_key: format!("seed:{i}"),
                    source: "forms_api".into(),
                    signature_version: "v3".into(),
                    portal_id: None,
                    form_id: None,
                    conversion_id: Some(format!("seed-{i}")),
                    raw_body: "{}".into(),
                    email: format!("lead{i}@example.org"),
                    submission: "{}".into(),
                };
                ids.push(sales_agent::store::events::accept(conn, &intake)?.workflow_id);
            }
            Ok(ids)
        })
        .await
        .expect("seed workflows")
}
