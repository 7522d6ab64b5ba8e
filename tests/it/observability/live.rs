//! A real Prometheus scrapes the service on PostgreSQL while the sandbox workload
//! runs; then every dashboard query and every alert rule's operands are evaluated
//! through Prometheus's HTTP API, and every SQL panel runs on the test database.
//! The checker's own tests show a broken metric name or SQL column is caught.

use std::collections::BTreeMap;
use std::time::Duration;

use sales_agent::sandbox::faults::FaultSpec;
use serde_json::Value;

use super::checker::{
    POSTGRES_UID, PROMETHEUS_UID, alert_operands, alert_rules, dashboards, promql_problems,
    sql_problems, substitute_promql, targets,
};
use super::prometheus::Prometheus;
use crate::helpers::{Stack, TestDb, spawn_app, spawn_stack_with};

/// Every fixture sample once, one of them twice, a bad signature and a bad body:
/// each webhook result, drafts, skips and connector traffic. Returns the workflows.
async fn workload(stack: &Stack) -> Vec<String> {
    let mut ids = Vec::new();
    let emails: Vec<String> = stack
        .fixture
        .hubspot
        .form_submissions
        .iter()
        .filter_map(|s| {
            s["values"]
                .as_array()?
                .iter()
                .find(|v| v["name"] == "email")
                .and_then(|v| v["value"].as_str().map(str::to_string))
        })
        .collect();
    for email in &emails {
        let response = stack.app.post_signed(&stack.sample(email)).await;
        assert!(response.status().is_success());
        let body: Value = response.json().await.unwrap();
        ids.push(body["workflow_id"].as_str().unwrap().to_string());
    }
    let again = stack.app.post_signed(&stack.sample(&emails[0])).await;
    assert_eq!(again.status(), 200, "a duplicate delivery");
    let unsigned = stack.app.post_with(&stack.sample(&emails[0]), &[]).await;
    assert_eq!(unsigned.status(), 401);
    let bad = stack.app.post_signed("{\"values\": 3}").await;
    assert_eq!(bad.status(), 400);
    ids
}

async fn prometheus_for(port: u16) -> Prometheus {
    let prometheus = Prometheus::start(&format!("127.0.0.1:{port}")).await;
    prometheus
        .wait_for(r#"up{job="sales-agent"}"#, 1.0, Duration::from_secs(30))
        .await;
    prometheus
}

#[actix_web::test]
async fn every_dashboard_query_and_alert_operand_returns_data_from_a_real_prometheus() {
    let db = TestDb::postgres();
    // A burst of 429s at the start, so the retry and rate-limit series move too.
    let faults = BTreeMap::from([(
        "*".to_string(),
        FaultSpec {
            rate_limit_burst: 3,
            retry_after: Some(1),
            ..FaultSpec::default()
        },
    )]);
    let stack = spawn_stack_with(&db, |config| config, faults).await;
    let prometheus = prometheus_for(stack.app.app.port).await;

    let ids = workload(&stack).await;
    let statuses = stack.wait_finished(&ids, Duration::from_secs(90)).await;
    let completed = statuses.iter().filter(|s| *s == "completed").count();
    assert!(
        completed >= 4 && statuses.iter().any(|s| s == "skipped"),
        "{statuses:?}"
    );
    // A prospect books from the first completed reply: the meeting series move.
    let booked = ids
        .iter()
        .zip(&statuses)
        .find(|(_, s)| *s == "completed")
        .map(|(id, _)| id.clone())
        .unwrap();
    let reply = stack.state_of(&booked).await;
    let link = crate::booking::booking_links(&reply.draft.unwrap().body).remove(0);
    let confirmed = reqwest::Client::new()
        .post(crate::booking::local(&stack, &link))
        .send()
        .await
        .unwrap();
    assert_eq!(confirmed.status(), 200);
    // Prometheus has seen the last draft, and a few more scrapes hold the rates.
    prometheus
        .wait_for(
            "sales_agent_drafts_created_total",
            completed as f64,
            Duration::from_secs(30),
        )
        .await;
    let throttled = r#"sum(sales_agent_connector_calls_total{status="rate_limited"})"#;
    prometheus
        .wait_for(throttled, 3.0, Duration::from_secs(10))
        .await;
    let retries = "sum(sales_agent_connector_retries_total)";
    prometheus
        .wait_for(retries, 3.0, Duration::from_secs(10))
        .await;
    prometheus
        .wait_for(
            "sales_agent_meetings_booked_total",
            1.0,
            Duration::from_secs(10),
        )
        .await;
    tokio::time::sleep(Duration::from_secs(3)).await;

    let dashboards = dashboards();
    let mut exprs = Vec::new();
    for (at, expr) in targets(&dashboards, PROMETHEUS_UID, "expr") {
        exprs.push((
            at.clone(),
            substitute_promql(&expr).unwrap_or_else(|e| panic!("{at}: {e}")),
        ));
    }
    let rules = alert_rules();
    for (name, expr) in &rules {
        for operand in alert_operands(expr).unwrap_or_else(|e| panic!("{name}: {e}")) {
            exprs.push((format!("alert {name}"), operand));
        }
    }
    assert!(exprs.len() >= 40, "only {} expressions found", exprs.len());
    let problems = promql_problems(&prometheus, &exprs).await;
    assert!(
        problems.is_empty(),
        "queries without data:\n{}",
        problems.join("\n")
    );

    // Prometheus loaded the same rules and evaluates them without error.
    let loaded = prometheus.rules().await;
    let names: Vec<&str> = loaded.iter().map(|(n, _, _)| n.as_str()).collect();
    let expected: Vec<&str> = rules.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, expected);
    assert!(
        loaded.iter().all(|(_, _, health)| health != "err"),
        "{loaded:?}"
    );

    let sql = targets(&dashboards, POSTGRES_UID, "rawSql");
    assert!(sql.len() >= 6, "{sql:?}");
    let problems = sql_problems(&db.url(), &sql);
    assert!(problems.is_empty(), "SQL panels:\n{}", problems.join("\n"));
    stack.stop().await;
}

#[actix_web::test]
async fn the_checker_catches_a_misspelt_metric_and_a_wrong_column() {
    let db = TestDb::postgres();
    let app = spawn_app(&db).await;
    let prometheus = prometheus_for(app.app.port).await;
    let response = app
        .post_signed(&crate::helpers::submission("c-1", "ana@acme.example"))
        .await;
    assert_eq!(response.status(), 202);
    // Rates and increases need two samples after the change.
    prometheus
        .wait_for(
            r#"sales_agent_webhooks_received_total{result="accepted"}"#,
            1.0,
            Duration::from_secs(30),
        )
        .await;
    tokio::time::sleep(Duration::from_secs(2)).await;

    // The shipped Overview with one metric name misspelt in one panel.
    let (_, overview) = dashboards()
        .into_iter()
        .find(|(name, _)| name == "overview.json")
        .unwrap();
    let broken: Value = serde_json::from_str(&overview.to_string().replacen(
        "sales_agent_webhooks_received_total",
        "sales_agent_webhooks_recieved_total",
        1,
    ))
    .unwrap();
    let exprs = |d: Value| -> Vec<(String, String)> {
        targets(&[("overview.json".into(), d)], PROMETHEUS_UID, "expr")
            .into_iter()
            .map(|(at, e)| (at, substitute_promql(&e).unwrap()))
            .filter(|(_, e)| e.contains("webhooks_re"))
            .collect()
    };
    let good = exprs(overview);
    assert!(!good.is_empty());
    assert_eq!(
        promql_problems(&prometheus, &good).await,
        Vec::<String>::new()
    );
    let problems = promql_problems(&prometheus, &exprs(broken)).await;
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].contains("webhooks_recieved_total") && problems[0].ends_with("no data"));

    // An unknown variable is refused rather than guessed.
    assert!(substitute_promql("rate(x[$__auto])").is_err());

    let sql = |q: &str| vec![("panel".to_string(), q.to_string())];
    let fine = "SELECT w.status FROM workflows w WHERE $__timeFilter(w.created_at)";
    assert_eq!(sql_problems(&db.url(), &sql(fine)), Vec::<String>::new());
    let typo = sql_problems(&db.url(), &sql("SELECT w.statuss FROM workflows w"));
    assert!(typo.len() == 1 && typo[0].contains("statuss"), "{typo:?}");
    let empty = sql_problems(
        &db.url(),
        &sql("SELECT id FROM workflows WHERE status = 'none'"),
    );
    assert_eq!(empty, vec!["panel: no rows".to_string()]);
    app.stop().await;
}

#[test]
fn comparison_alerts_are_checked_through_their_operands() {
    assert_eq!(
        alert_operands(r#"up{job="a"} == 0"#).unwrap(),
        vec![r#"up{job="a"}"#]
    );
    let ops = alert_operands("sum(rate(x[5m])) / sum(rate(y[5m])) > 0.2").unwrap();
    assert_eq!(ops, vec!["sum(rate(x[5m])) / sum(rate(y[5m]))"]);
    let ops = alert_operands("sum(x) == 0 and on () (hour() >= 14 and on () hour() < 22)").unwrap();
    assert_eq!(ops, vec!["sum(x)", "hour()", "hour()"]);
    // A `bool` comparison never filters: it is evaluated whole.
    assert_eq!(alert_operands("x > bool 1").unwrap(), vec!["x > bool 1"]);
}
