//! The dashboard and alert checker: reads `grafana/`, checks each dashboard's
//! structure, and evaluates its queries against a real Prometheus and PostgreSQL.
//!
//! What "returns data" means here:
//! - A dashboard PromQL target, with Grafana's variables replaced by concrete
//!   values (`$__rate_interval` → 1m, `$__interval` → 15s, `$__range` → 10m; any
//!   other `$` is an error), must answer at least one series, and at least one of
//!   them must hold a number (not NaN).
//! - An alert expression that is a comparison (`==`, `>`, … without `bool`) is
//!   empty whenever the alert is not firing, so its operands are checked
//!   instead: each side that is not a number literal, recursively through `and`,
//!   `or`, `unless` and parentheses, must return data as above.
//! - A PostgreSQL target, with `$__timeFilter(col)` → `col BETWEEN 'from' AND 'to'`
//!   and `$__timeGroupAlias(col, 'N{s,m,h}')` → Grafana's `floor(extract(epoch from
//!   col)/N)*N AS "time"` (any other `$` is an error), must run and return rows.

use std::collections::BTreeSet;

use diesel::prelude::*;
use diesel::sql_types::BigInt;
use promql_parser::parser::{self, Expr};
use serde_json::Value;

use super::prometheus::{Prometheus, repo_path};

pub const PROMETHEUS_UID: &str = "sales-agent-prometheus";
pub const POSTGRES_UID: &str = "sales-agent-postgres";

/// Every dashboard in `grafana/dashboards`, by file name.
pub fn dashboards() -> Vec<(String, Value)> {
    let mut found: Vec<(String, Value)> = std::fs::read_dir(repo_path("grafana/dashboards"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            let json = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{} is not JSON: {e}", p.display()));
            (p.file_name().unwrap().to_string_lossy().into_owned(), json)
        })
        .collect();
    found.sort_by(|a, b| a.0.cmp(&b.0));
    found
}

/// (uid, type) of every provisioned data source.
pub fn provisioned_datasources() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(repo_path(
        "grafana/provisioning/datasources/datasources.yml",
    ))
    .unwrap();
    let yaml: serde_yaml_ng::Value = serde_yaml_ng::from_str(&text).unwrap();
    yaml["datasources"]
        .as_sequence()
        .expect("a datasources list")
        .iter()
        .map(|d| {
            (
                d["uid"].as_str().unwrap_or_default().to_string(),
                d["type"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn panels(dashboard: &Value) -> Vec<&Value> {
    let mut out = Vec::new();
    for panel in dashboard["panels"].as_array().into_iter().flatten() {
        out.push(panel);
        // Collapsed rows keep their panels inside.
        out.extend(panel["panels"].as_array().into_iter().flatten());
    }
    out
}

/// What is wrong with a dashboard's structure: data source uids that are not
/// provisioned (or of another type), repeated panel ids, panels off the 24-column
/// grid, overlapping panels, panels without a title.
pub fn structure_problems(
    name: &str,
    dashboard: &Value,
    sources: &[(String, String)],
) -> Vec<String> {
    let mut problems = Vec::new();
    let mut ids = BTreeSet::new();
    let mut boxes: Vec<(i64, i64, i64, i64, String)> = Vec::new();
    if dashboard["uid"].as_str().is_none_or(str::is_empty) {
        problems.push(format!("{name}: no uid"));
    }
    for panel in panels(dashboard) {
        let title = panel["title"].as_str().unwrap_or_default().to_string();
        if title.is_empty() {
            problems.push(format!("{name}: a panel without a title"));
        }
        let id = panel["id"].as_i64();
        if !id.is_some_and(|id| ids.insert(id)) {
            problems.push(format!(
                "{name}: panel {title:?} has a missing or repeated id {id:?}"
            ));
        }
        let mut refs = vec![&panel["datasource"]];
        refs.extend(
            panel["targets"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|t| &t["datasource"]),
        );
        for source in refs.into_iter().filter(|d| !d.is_null()) {
            let (uid, kind) = (source["uid"].as_str(), source["type"].as_str());
            if !sources
                .iter()
                .any(|(u, t)| Some(u.as_str()) == uid && Some(t.as_str()) == kind)
            {
                problems.push(format!(
                    "{name}: panel {title:?} uses data source {source} which is not provisioned"
                ));
            }
        }
        let grid = &panel["gridPos"];
        let [x, y, w, h] = ["x", "y", "w", "h"].map(|k| grid[k].as_i64().unwrap_or(-1));
        if x < 0 || y < 0 || w <= 0 || h <= 0 || x + w > 24 {
            problems.push(format!(
                "{name}: panel {title:?} has gridPos {grid} off the grid"
            ));
            continue;
        }
        for (bx, by, bw, bh, other) in &boxes {
            if x < bx + bw && *bx < x + w && y < by + bh && *by < y + h {
                problems.push(format!("{name}: panels {other:?} and {title:?} overlap"));
            }
        }
        boxes.push((x, y, w, h, title));
    }
    problems
}

/// (where, query) of every target of a data source, across the dashboards.
pub fn targets(dashboards: &[(String, Value)], uid: &str, field: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (name, dashboard) in dashboards {
        for panel in panels(dashboard) {
            for target in panel["targets"].as_array().into_iter().flatten() {
                let source = if target["datasource"].is_null() {
                    &panel["datasource"]
                } else {
                    &target["datasource"]
                };
                if source["uid"] == uid {
                    let at = format!("{name} / {} / {}", panel["title"], target["refId"]);
                    let query = target[field].as_str().unwrap_or_default().to_string();
                    out.push((at, query));
                }
            }
        }
    }
    out
}

/// Grafana's variables replaced by the concrete values this check uses.
pub fn substitute_promql(expr: &str) -> Result<String, String> {
    let out = expr
        .replace("$__rate_interval", "1m")
        .replace("$__interval", "15s")
        .replace("$__range", "10m");
    if out.contains('$') {
        return Err(format!("unknown variable in {expr}"));
    }
    Ok(out)
}

/// The alert rules of `grafana/prometheus/rules.yml`: (name, expression).
pub fn alert_rules() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(repo_path(super::prometheus::RULES)).unwrap();
    let yaml: serde_yaml_ng::Value = serde_yaml_ng::from_str(&text).unwrap();
    yaml["groups"]
        .as_sequence()
        .into_iter()
        .flatten()
        .flat_map(|g| g["rules"].as_sequence().cloned().unwrap_or_default())
        .map(|r| {
            (
                r["alert"].as_str().unwrap_or_default().to_string(),
                r["expr"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// The expressions to evaluate for an alert: the expression itself, or for a
/// filtering comparison the operands (see the module header).
pub fn alert_operands(expr: &str) -> Result<Vec<String>, String> {
    let parsed = parser::parse(expr)?;
    let mut out = Vec::new();
    collect_operands(&parsed, &mut out);
    Ok(out)
}

fn collect_operands(expr: &Expr, out: &mut Vec<String>) {
    match expr {
        Expr::Paren(p) => collect_operands(&p.expr, out),
        Expr::Binary(b) => {
            let filtering = b.op.is_comparison_operator()
                && !b.modifier.as_ref().is_some_and(|m| m.return_bool);
            if filtering || b.op.is_set_operator() {
                for side in [&b.lhs, &b.rhs] {
                    if !matches!(**side, Expr::NumberLiteral(_)) {
                        collect_operands(side, out);
                    }
                }
            } else {
                out.push(expr.to_string());
            }
        }
        _ => out.push(expr.to_string()),
    }
}

/// The expressions, labelled, that answer no data (or an error) now.
pub async fn promql_problems(prometheus: &Prometheus, exprs: &[(String, String)]) -> Vec<String> {
    let mut problems = Vec::new();
    for (at, expr) in exprs {
        match prometheus.query(expr).await {
            Err(e) => problems.push(format!("{at}: {expr}: {e}")),
            Ok(series) if series.is_empty() => problems.push(format!("{at}: {expr}: no data")),
            Ok(series) => {
                let numbers = series.iter().any(|s| {
                    s["value"][1]
                        .as_str()
                        .and_then(|v| v.parse::<f64>().ok())
                        .is_some_and(|v| !v.is_nan())
                });
                if !numbers {
                    problems.push(format!("{at}: {expr}: only NaN"));
                }
            }
        }
    }
    problems
}

/// Grafana's PostgreSQL macros replaced for the time range `[from, to]`.
pub fn substitute_sql(sql: &str, from: &str, to: &str) -> Result<String, String> {
    let filter = regex::Regex::new(r"\$__timeFilter\(([^)]+)\)").unwrap();
    let out = filter.replace_all(sql, format!("$1 BETWEEN '{from}' AND '{to}'").as_str());
    let group = regex::Regex::new(r"\$__timeGroupAlias\(([^,]+),\s*'(\d+)([smh])'\)").unwrap();
    let mut problem = None;
    let out = group.replace_all(&out, |c: &regex::Captures| {
        let n: u64 = c[2].parse().unwrap_or_else(|_| {
            problem = Some(format!("bad interval in {sql}"));
            1
        });
        let seconds = n * match &c[3] {
            "s" => 1,
            "m" => 60,
            _ => 3600,
        };
        format!(
            "floor(extract(epoch from {})/{seconds})*{seconds} AS \"time\"",
            &c[1]
        )
    });
    if let Some(problem) = problem {
        return Err(problem);
    }
    if out.contains('$') {
        return Err(format!("unknown macro in {sql}"));
    }
    Ok(out.into_owned())
}

#[derive(QueryableByName)]
struct Rows {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// The SQL targets, labelled, that fail or return no rows on `database_url`
/// over the last day.
pub fn sql_problems(database_url: &str, queries: &[(String, String)]) -> Vec<String> {
    let mut conn = PgConnection::establish(database_url).expect("PostgreSQL reachable");
    let now = chrono::Utc::now();
    let stamp = |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string();
    let (from, to) = (stamp(now - chrono::Duration::days(1)), stamp(now));
    let mut problems = Vec::new();
    for (at, sql) in queries {
        let sql = match substitute_sql(sql, &from, &to) {
            Ok(sql) => sql,
            Err(e) => {
                problems.push(format!("{at}: {e}"));
                continue;
            }
        };
        let counted = diesel::sql_query(format!("SELECT count(*) AS n FROM ({sql}) AS panel"))
            .get_result::<Rows>(&mut conn);
        match counted {
            Ok(rows) if rows.n > 0 => {}
            Ok(_) => problems.push(format!("{at}: no rows")),
            Err(e) => problems.push(format!("{at}: {e}")),
        }
    }
    problems
}
