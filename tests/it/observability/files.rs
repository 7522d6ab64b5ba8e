//! The shipped files hold together: dashboards are well formed and use only
//! provisioned data sources, the alert rules pass `promtool check rules` and
//! their unit tests, `/metrics` passes `promtool check metrics`, and the compose
//! file wires the service, PostgreSQL, Prometheus and Grafana to files that exist.

use std::process::{Command, Stdio};

use serde_json::json;

use super::checker::{
    POSTGRES_UID, PROMETHEUS_UID, dashboards, provisioned_datasources, structure_problems,
};
use super::prometheus::{RULES, repo_path};
use crate::helpers::{TestDb, spawn_app};

#[test]
fn the_three_dashboards_use_provisioned_sources_unique_ids_and_a_sane_grid() {
    let sources = provisioned_datasources();
    let uids: Vec<&str> = sources.iter().map(|(u, _)| u.as_str()).collect();
    assert_eq!(uids, vec![PROMETHEUS_UID, POSTGRES_UID]);
    let dashboards = dashboards();
    let titles: Vec<&str> = dashboards
        .iter()
        .map(|(_, d)| d["title"].as_str().unwrap())
        .collect();
    assert_eq!(
        titles,
        vec![
            "Sales Agent / Connectors",
            "Sales Agent / Overview",
            "Sales Agent / Pipeline"
        ]
    );
    let mut dashboard_uids: Vec<&str> = dashboards
        .iter()
        .map(|(_, d)| d["uid"].as_str().unwrap())
        .collect();
    dashboard_uids.sort();
    dashboard_uids.dedup();
    assert_eq!(dashboard_uids.len(), 3);
    for (name, dashboard) in &dashboards {
        assert_eq!(
            structure_problems(name, dashboard, &sources),
            Vec::<String>::new()
        );
    }
}

#[test]
fn the_structure_check_catches_repeated_ids_overlaps_and_unknown_sources() {
    let sources = provisioned_datasources();
    let panel = |id: i64, x: i64, y: i64, uid: &str| {
        json!({"id": id, "title": format!("p{id}"), "gridPos": {"x": x, "y": y, "w": 12, "h": 8},
               "datasource": {"type": "prometheus", "uid": uid}, "targets": []})
    };
    let ok = json!({"uid": "d", "panels": [panel(1, 0, 0, PROMETHEUS_UID), panel(2, 12, 0, PROMETHEUS_UID)]});
    assert!(structure_problems("ok", &ok, &sources).is_empty());
    let bad = json!({"uid": "d", "panels": [
        panel(1, 0, 0, PROMETHEUS_UID), panel(1, 12, 0, PROMETHEUS_UID),
        panel(3, 6, 4, PROMETHEUS_UID), panel(4, 16, 20, PROMETHEUS_UID),
        panel(5, 0, 30, "grafana-cloud")]});
    let problems = structure_problems("bad", &bad, &sources);
    let has = |s: &str| problems.iter().any(|p| p.contains(s));
    assert!(has("repeated id Some(1)"), "{problems:?}");
    assert!(has("overlap"), "{problems:?}");
    assert!(has("off the grid"), "{problems:?}");
    assert!(has("not provisioned"), "{problems:?}");
}

fn promtool(args: &[&str], stdin: Option<&str>) -> (bool, String) {
    let mut child = Command::new("promtool")
        .args(args)
        .current_dir(repo_path("grafana/prometheus"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("`promtool` is installed (Debian package prometheus; .ci/run installs it)");
    if let Some(input) = stdin {
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    }
    drop(child.stdin.take());
    let output = child.wait_with_output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

#[test]
fn the_alert_rules_pass_promtool_check_and_their_unit_tests() {
    let (ok, out) = promtool(&["check", "rules", "rules.yml"], None);
    assert!(ok && out.contains("SUCCESS: 10 rules found"), "{out}");
    let (ok, out) = promtool(&["test", "rules", "rules_test.yml"], None);
    assert!(ok && out.contains("SUCCESS"), "{out}");
    // Every alert has a unit test.
    let tests = std::fs::read_to_string(repo_path("grafana/prometheus/rules_test.yml")).unwrap();
    for (name, _) in super::checker::alert_rules() {
        assert!(
            tests.contains(&format!("alertname: {name}")),
            "{name} has no unit test"
        );
    }
    assert!(repo_path(RULES).exists());
}

#[test]
fn the_compose_prometheus_config_passes_promtool_with_the_rules_in_place() {
    let config = std::fs::read_to_string(repo_path("grafana/prometheus/prometheus.yml")).unwrap();
    let dir = std::env::temp_dir().join(format!("sa-promcfg-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let local = config.replace(
        "/etc/prometheus/rules.yml",
        &repo_path(RULES).display().to_string(),
    );
    assert_ne!(
        local, config,
        "the config loads the rules where compose mounts them"
    );
    std::fs::write(dir.join("prometheus.yml"), local).unwrap();
    let path = dir.join("prometheus.yml").display().to_string();
    let (ok, out) = promtool(&["check", "config", &path], None);
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(ok, "{out}");
}

async fn metrics_pass_promtool(db: TestDb) {
    let app = spawn_app(&db).await;
    let response = app
        .post_signed(&crate::helpers::submission("c-1", "ana@acme.example"))
        .await;
    assert_eq!(response.status(), 202);
    let text = app
        .client
        .get(format!("{}/metrics", app.address))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let (ok, out) = promtool(&["check", "metrics"], Some(&text));
    assert!(
        ok && out.trim().is_empty(),
        "promtool check metrics:\n{out}"
    );
    // Quiet error series exist from the start, HELP text on every family.
    for series in [
        r#"sales_agent_webhooks_received_total{result="unavailable"} 0"#,
        r#"sales_agent_workflows_finished_total{status="dead_lettered"} 0"#,
        r#"sales_agent_steps_total{outcome="failed",step="deliver"} 0"#,
        r#"sales_agent_connector_calls_total{connector="hubspot",operation="hubspot.contacts.search",status="rate_limited"} 0"#,
        r#"sales_agent_webhooks_received_total{result="accepted"} 1"#,
        "sales_agent_emails_sent_total 0",
        "sales_agent_workflows_runnable ",
        "sales_agent_db_connections_max ",
    ] {
        assert!(text.contains(series), "missing {series}");
    }
    let families = text.lines().filter(|l| l.starts_with("# TYPE")).count();
    let helps = text
        .lines()
        .filter(|l| l.starts_with("# HELP") && l.len() > 40)
        .count();
    assert!(
        families >= 18 && helps == families,
        "{families} families, {helps} with HELP"
    );
    app.stop().await;
}

crate::on_both_backends!(metrics_pass_promtool);

#[test]
fn the_compose_file_runs_every_service_from_shipped_files_with_only_caddy_facing_out() {
    let text = std::fs::read_to_string(repo_path("compose.yaml")).unwrap();
    let compose: serde_yaml_ng::Value = serde_yaml_ng::from_str(&text).unwrap();
    let services = compose["services"].as_mapping().unwrap();
    let names: Vec<&str> = services.keys().filter_map(|k| k.as_str()).collect();
    assert_eq!(
        names,
        vec![
            "caddy",
            "sales-agent",
            "sales-agent-worker",
            "postgres",
            "prometheus",
            "alertmanager",
            "grafana"
        ]
    );
    assert_eq!(
        compose["services"]["sales-agent"]["build"].as_str(),
        Some(".")
    );
    let env = &compose["services"]["sales-agent"]["environment"];
    assert!(
        env["DATABASE_URL"]
            .as_str()
            .unwrap()
            .starts_with("postgres://")
    );
    // Every bind mount names a file or folder of the repository.
    let mut mounts = 0;
    for (name, service) in services {
        for volume in service["volumes"].as_sequence().into_iter().flatten() {
            let spec = volume.as_str().unwrap();
            // `${VAR:-default}:target` mounts the default unless the variable is set.
            let spec = spec
                .strip_prefix("${SALES_AGENT_REPS_JSON:-")
                .map(|rest| rest.replacen('}', "", 1))
                .unwrap_or_else(|| spec.to_string());
            let source = spec.split(':').next().unwrap();
            if source.starts_with("./") {
                assert!(
                    repo_path(source).exists(),
                    "{name:?} mounts missing {source}"
                );
                mounts += 1;
            }
        }
    }
    // The worker mounts the same reps file as the service.
    assert_eq!(mounts, 9);
    // The scalable worker runs the same image with the same settings, and
    // publishes nothing.
    let worker = &compose["services"]["sales-agent-worker"];
    assert_eq!(worker["build"].as_str(), Some("."));
    assert_eq!(&worker["environment"], env);
    assert!(worker["ports"].as_sequence().is_none());
    // Only Caddy faces the network; the rest listen on the host's loopback.
    for (name, service) in services {
        for port in service["ports"].as_sequence().into_iter().flatten() {
            let port = port.as_str().unwrap();
            assert!(
                name.as_str() == Some("caddy") || port.starts_with("127.0.0.1:"),
                "{name:?} publishes {port} beyond the host"
            );
        }
    }
    // The service trusts exactly Caddy's fixed address as its proxy.
    let caddy_ip = compose["services"]["caddy"]["networks"]["default"]["ipv4_address"]
        .as_str()
        .unwrap();
    assert_eq!(env["SALES_AGENT_TRUSTED_PROXIES"].as_str(), Some(caddy_ip));
    // Prometheus sends alerts to the Alertmanager compose runs.
    let prometheus =
        std::fs::read_to_string(repo_path("grafana/prometheus/prometheus.yml")).unwrap();
    assert!(prometheus.contains("alertmanager:9093"));
    // The reps file compose mounts by default is valid.
    sales_agent::domain::rep::load_file(&repo_path("reps.example.json")).unwrap();
    // The rules are mounted where prometheus.yml loads them from.
    assert!(text.contains("./grafana/prometheus/rules.yml:/etc/prometheus/rules.yml:ro"));
    // Compose's own validation (schema, interpolation), which needs no Docker engine.
    let config = Command::new("docker-compose")
        .args(["--file", "compose.yaml", "config", "--quiet"])
        .current_dir(repo_path(""))
        .output()
        .expect(
            "`docker-compose` is installed (Debian package docker-compose; .ci/run installs it)",
        );
    assert!(
        config.status.success(),
        "{}",
        String::from_utf8_lossy(&config.stderr)
    );
    let dockerfile = std::fs::read_to_string(repo_path("Dockerfile")).unwrap();
    assert!(dockerfile.contains("HEALTHCHECK") && dockerfile.contains("USER sales-agent"));
    assert!(dockerfile.matches("FROM ").count() >= 2, "multi-stage");
}

/// Runs `tsc` over each dashboard as a value of Grafana's published `Dashboard`
/// type (npm `@grafana/schema`), in `grafana/schema-check` (`npm ci` there first;
/// `.ci/run` does). An unknown key or a wrongly typed field fails.
fn type_check(dashboards: &[(String, String)]) -> (bool, String) {
    let folder = repo_path("grafana/schema-check");
    let tsc = folder.join("node_modules/.bin/tsc");
    assert!(
        tsc.exists(),
        "run `npm ci --prefix grafana/schema-check` first (.ci/run does)"
    );
    let out = folder
        .join("generated")
        .join(uuid::Uuid::new_v4().simple().to_string());
    std::fs::create_dir_all(&out).unwrap();
    let mut files = Vec::new();
    for (name, json) in dashboards {
        let file = out.join(name.replace(".json", ".ts"));
        let source = format!(
            "import type {{ Dashboard }} from '@grafana/schema';\nexport const dashboard: Dashboard = {json};\n"
        );
        std::fs::write(&file, source).unwrap();
        files.push(file.display().to_string());
    }
    let output = Command::new(&tsc)
        .args([
            "--noEmit",
            "--strict",
            "--moduleResolution",
            "bundler",
            "--module",
            "esnext",
        ])
        .args(["--target", "es2022"])
        .args(&files)
        .current_dir(&folder)
        .output()
        .unwrap();
    std::fs::remove_dir_all(&out).unwrap();
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    (output.status.success(), text)
}

#[test]
fn the_dashboards_type_check_against_grafanas_published_schema() {
    let shipped: Vec<(String, String)> = dashboards()
        .into_iter()
        .map(|(name, json)| (name, json.to_string()))
        .collect();
    let (ok, out) = type_check(&shipped);
    assert!(ok, "{out}");
    // The check is real: a misspelt panel key fails it.
    let (name, json) = &shipped[0];
    let broken = vec![(
        name.clone(),
        json.replacen("\"gridPos\"", "\"gridPosition\"", 1),
    )];
    let (ok, out) = type_check(&broken);
    assert!(!ok && out.contains("gridPosition"), "{out}");
}

#[test]
fn the_caddyfile_validates_and_keeps_metrics_internal() {
    let validate = Command::new("caddy")
        .args([
            "validate",
            "--config",
            "deploy/Caddyfile",
            "--adapter",
            "caddyfile",
        ])
        .env("SALES_AGENT_DOMAIN", "agent.example.com")
        .env("HOME", std::env::temp_dir())
        .current_dir(repo_path(""))
        .output()
        .expect("`caddy` is installed (Debian package caddy; .ci/setup installs it)");
    let said = String::from_utf8_lossy(&validate.stderr).to_string()
        + String::from_utf8_lossy(&validate.stdout).as_ref();
    assert!(
        validate.status.success() && said.contains("Valid configuration"),
        "{said}"
    );
    let text = std::fs::read_to_string(repo_path("deploy/Caddyfile")).unwrap();
    assert!(text.contains("reverse_proxy sales-agent:8080"));
    assert!(text.contains("respond @metrics 404"));
    assert!(text.contains("header_up X-Forwarded-For {remote_host}"));
}

#[test]
fn the_systemd_unit_verifies_with_the_real_binary() {
    let unit = std::fs::read_to_string(repo_path("deploy/sales-agent.service")).unwrap();
    let dir = std::env::temp_dir().join(format!("sa-unit-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    // Verified where it would run: the binary this build made, at the unit's path.
    let local = unit.replace(
        "/usr/local/bin/sales-agent",
        env!("CARGO_BIN_EXE_sales-agent"),
    );
    assert_ne!(local, unit, "the unit starts /usr/local/bin/sales-agent");
    assert!(unit.contains("ExecStart=/usr/local/bin/sales-agent serve"));
    let path = dir.join("sales-agent.service");
    std::fs::write(&path, local).unwrap();
    let verify = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&path)
        .output()
        .expect("`systemd-analyze` is installed (Debian package systemd; .ci/setup installs it)");
    let said = String::from_utf8_lossy(&verify.stderr).to_string();
    std::fs::remove_dir_all(&dir).unwrap();
    let ours: Vec<&str> = said
        .lines()
        .filter(|l| l.contains("sales-agent.service"))
        .collect();
    assert!(verify.status.success() && ours.is_empty(), "{said}");
}
