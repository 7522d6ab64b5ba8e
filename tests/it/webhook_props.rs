//! Property test: arbitrary bodies and headers thrown at the webhook never crash
//! the service and never get a 5xx (the database is up throughout).

use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

use proptest::prelude::*;
use sales_agent::app::Application;
use serde_json::{Map, Value};

use crate::helpers::{SECRET, TestDb, signed_headers, test_config};

/// One service for all cases, on its own thread and actix system.
fn service_url() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| {
        let db = Box::leak(Box::new(TestDb::sqlite()));
        let mut config = test_config(db);
        config.webhook.max_body_bytes = 16 * 1024;
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let app = Application::build(config).await.expect("service starts");
                tx.send(app.port()).unwrap();
                app.run_until_stopped().await.unwrap();
            })
        });
        let port = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("service port");
        format!("http://127.0.0.1:{port}/webhooks/hubspot")
    })
}

/// JSON built from the names the parser looks for, so deep paths get exercised.
fn json_value() -> impl Strategy<Value = Value> {
    let keys = prop::sample::select(vec![
        "values",
        "properties",
        "form-submissions",
        "email",
        "name",
        "value",
        "conversionId",
        "submittedAt",
        "portalId",
        "formGuid",
        "conversion-id",
        "timestamp",
        "form-id",
        "portal-id",
        "vid",
        "firstname",
        "pageUrl",
        "page-url",
        "x",
    ]);
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        ".{0,24}".prop_map(Value::String),
        Just(Value::String("a@b.example".into())),
    ];
    leaf.prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((keys.clone(), inner), 0..6).prop_map(|pairs| Value::Object(
                pairs
                    .into_iter()
                    .map(|(k, v)| (k.to_string(), v))
                    .collect::<Map<_, _>>()
            )),
        ]
    })
}

#[derive(Debug, Clone)]
enum Headers {
    None,
    Garbage(String, String),
    Signed,
    SignedAt(i64),
    Legacy(String),
}

fn headers() -> impl Strategy<Value = Headers> {
    prop_oneof![
        Just(Headers::None),
        ("[ -~]{0,60}", "[ -~]{0,20}").prop_map(|(s, t)| Headers::Garbage(s, t)),
        Just(Headers::Signed),
        Just(Headers::Signed),
        (-1_000_000i64..1_000_000).prop_map(Headers::SignedAt),
        "[0-9a-f]{0,64}".prop_map(Headers::Legacy),
    ]
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..512),
        json_value().prop_map(|v| v.to_string().into_bytes()),
        json_value().prop_map(|v| serde_json::json!({"values": v}).to_string().into_bytes()),
        json_value().prop_map(
            |v| serde_json::json!({"properties": v, "form-submissions": [v]})
                .to_string()
                .into_bytes()
        ),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_deliveries_never_crash_or_5xx(body in body(), headers in headers()) {
        let url = service_url();
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let status = runtime.block_on(async {
            let text = String::from_utf8_lossy(&body).into_owned();
            let header_list: Vec<(&str, String)> = match &headers {
                Headers::None => vec![],
                Headers::Garbage(sig, ts) => vec![("X-HubSpot-Signature-v3", sig.clone()), ("X-HubSpot-Request-Timestamp", ts.clone())],
                Headers::Signed => signed_headers(&text, SystemTime::now(), SECRET),
                Headers::SignedAt(offset) => {
                    let at = if *offset >= 0 { SystemTime::now() + Duration::from_secs(*offset as u64) } else { SystemTime::now() - Duration::from_secs(offset.unsigned_abs()) };
                    signed_headers(&text, at, SECRET)
                }
                Headers::Legacy(sig) => vec![("X-HubSpot-Signature", sig.clone())],
            };
            let mut request = reqwest::Client::new().post(url).body(text.into_bytes());
            for (name, value) in header_list {
                request = request.header(name, value);
            }
            request.send().await.expect("the service answers").status()
        });
        prop_assert!(
            [200, 202, 400, 401, 413].contains(&status.as_u16()),
            "unexpected status {status}"
        );
    }
}
