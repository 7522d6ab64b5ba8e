//! The API reference stays true, on both backends: every documented operation
//! is served, nothing under `/api` is served without an entry, every route the
//! README and the admin module's table name is documented (and every documented
//! one is in the README), and the shared parts (security, errors) are in place.
//! Responses are checked against the schemas by `TestApp::api` in every admin
//! API test (see `spec`).

use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{ADMIN_TOKEN, TestDb, VIEWER_TOKEN, spawn_app};
use crate::on_both_backends;
use crate::spec::METHODS;

on_both_backends!(
    every_documented_operation_is_served_and_nothing_else_is,
    the_reference_describes_roles_errors_and_parameters,
);

/// `(METHOD, /api/path)` pairs written as `` `METHOD /api/…` `` in `text`; the
/// path ends at a space, a backtick or a query.
fn routes_in(text: &str) -> BTreeSet<(String, String)> {
    let pattern = regex::Regex::new(r"`(GET|PUT|POST|DELETE|PATCH) (/api/[^ `?]*)").unwrap();
    pattern
        .captures_iter(text)
        .map(|c| (c[1].to_string(), c[2].to_string()))
        .collect()
}

fn file(path: &str) -> String {
    std::fs::read_to_string(format!("{}/{path}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

/// Whether the answer came from the router's fallback (no such route), not
/// from a handler (which may well say that the thing it was asked for is not there).
async fn unrouted(response: reqwest::Response) -> bool {
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    status == 405 || (status == 404 && body["error"]["message"] == "no such route")
}

async fn every_documented_operation_is_served_and_nothing_else_is(db: TestDb) {
    let app = spawn_app(&db).await;
    let spec = app.spec().await;
    let documented: BTreeSet<(String, String)> = spec.operations().into_iter().collect();
    assert!(documented.len() >= 38, "{documented:?}");

    // Each documented operation reaches its handler, and on a documented path
    // no other method is served.
    let parameter = regex::Regex::new(r"\{[^}]+\}").unwrap();
    for path in spec.paths().keys() {
        let concrete = parameter.replace_all(path, "no-such-thing");
        for method in METHODS {
            let response = app
                .client
                .request(
                    method.to_uppercase().parse().unwrap(),
                    format!("{}{concrete}", app.address),
                )
                .bearer_auth(ADMIN_TOKEN)
                .json(&json!({}))
                .send()
                .await
                .unwrap();
            // A method this path lacks may still reach a `{parameter}` sibling
            // (`PUT /api/voice-profiles/export` is `PUT …/{rep_id}`).
            let documented = spec.operation(method, &concrete).is_some();
            let served = !unrouted(response).await;
            assert_eq!(
                served, documented,
                "{method} {concrete} ({path}): served {served}, documented {documented}"
            );
        }
    }

    // The README and the admin module's table name only documented routes.
    let readme = routes_in(&file("README.md"));
    let table = routes_in(&file("src/web/admin/mod.rs"));
    for route in readme.iter().chain(&table) {
        assert!(
            documented.contains(route),
            "{route:?} is not in /api/openapi.json"
        );
    }
    // … and the README names every documented route.
    let missing: Vec<_> = documented.difference(&readme).collect();
    assert!(missing.is_empty(), "README.md lacks {missing:?}");

    // Routes that are in neither answer as the fallback does.
    for (method, path) in [
        (Method::GET, "/api/nothing-here"),
        (Method::DELETE, "/api/workflows"),
        (Method::PATCH, "/api/mode"),
    ] {
        let response = app
            .api(method.clone(), path, Some(ADMIN_TOKEN))
            .send()
            .await
            .unwrap();
        assert!(unrouted(response).await, "{method} {path}");
    }
    app.stop().await;
}

async fn the_reference_describes_roles_errors_and_parameters(db: TestDb) {
    let app = spawn_app(&db).await;
    // Served without a token, as JSON, in OpenAPI 3.1.
    let response = app
        .client
        .get(format!("{}/api/openapi.json", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let doc: Value = response.json().await.unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );

    // Every operation but the reference itself needs a token and names its role;
    // its shared errors point to the one error body. Operation ids are unique and
    // every response says what it means, as OpenAPI requires.
    let mut ids = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in METHODS {
            let Some(op) = item.get(method) else { continue };
            assert!(
                ids.insert(op["operationId"].to_string()),
                "{method} {path}: {}",
                op["operationId"]
            );
            for (status, response) in op["responses"].as_object().unwrap() {
                let described = response["$ref"].is_string()
                    || response["description"]
                        .as_str()
                        .is_some_and(|d| !d.is_empty());
                assert!(described, "{method} {path} {status} has no description");
            }
            let security = &op["security"];
            if path == "/api/openapi.json" {
                assert!(security.is_null(), "the reference is public");
                continue;
            }
            let roles = security[0]["bearer"]
                .as_array()
                .unwrap_or_else(|| panic!("{method} {path} names no role"));
            assert_eq!(roles.len(), 1, "{method} {path}");
            let role = roles[0].as_str().unwrap();
            assert!(
                ["viewer", "admin"].contains(&role),
                "{method} {path}: {role}"
            );
            let responses = op["responses"].as_object().unwrap();
            assert!(
                responses.keys().any(|s| s.starts_with('2')),
                "{method} {path} has no success"
            );
            assert_eq!(
                responses["401"]["$ref"],
                "#/components/responses/Unauthorized"
            );
            assert_eq!(
                responses.contains_key("403"),
                role == "admin",
                "{method} {path}: 403 only where the admin role is needed"
            );
            if path.contains('{') {
                assert!(responses.contains_key("404"), "{method} {path}");
                let named: Vec<&str> = op["parameters"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|p| p["in"] == "path")
                    .map(|p| p["name"].as_str().unwrap())
                    .collect();
                for part in path.split('/').filter(|p| p.starts_with('{')) {
                    assert!(
                        named.contains(&part.trim_matches(['{', '}'])),
                        "{method} {path}: {named:?}"
                    );
                }
            }
            if method != "get" && method != "delete" {
                assert!(
                    op["requestBody"].is_object()
                        || path.ends_with("sync")
                        || path.ends_with("check-outcomes"),
                    "{method} {path} describes its body"
                );
            }
        }
    }
    assert_eq!(
        doc["components"]["responses"]["Unauthorized"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/Error"
    );

    // A role's answers match the reference: the viewer's 403, the anonymous 401.
    let forbidden = app
        .api(Method::PUT, "/api/mode", Some(VIEWER_TOKEN))
        .json(&json!({"draft_only": false, "reason": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(forbidden.status(), 403);
    let anonymous = app
        .api(Method::GET, "/api/reps", None)
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);

    // The checker itself catches a body that breaks the schema.
    let spec = app.spec().await;
    assert!(
        spec.check(
            "GET",
            "/api/mode",
            200,
            br#"{"mode": "draft_only", "draft_only": true}"#
        )
        .is_ok()
    );
    assert!(
        spec.check(
            "GET",
            "/api/mode",
            200,
            br#"{"mode": "draft_only", "draft_only": "yes"}"#
        )
        .is_err()
    );
    assert!(
        spec.check(
            "GET",
            "/api/mode",
            200,
            br#"{"mode": "sometimes", "draft_only": true}"#
        )
        .is_err(),
        "a mode the enum does not name"
    );
    assert!(spec.check("GET", "/api/mode", 200, br#"{}"#).is_err());
    assert!(
        spec.check("GET", "/api/mode", 418, br#"{}"#).is_err(),
        "an undocumented status"
    );
    assert!(
        spec.check(
            "GET",
            "/api/mode",
            401,
            br#"{"error": {"code": "unauthorized"}}"#
        )
        .is_err()
    );
    assert!(
        spec.check("DELETE", "/api/suppressions/a@b.co", 204, b"")
            .is_ok()
    );
    assert!(
        spec.check("DELETE", "/api/suppressions/a@b.co", 204, b"{}")
            .is_err()
    );
    app.stop().await;
}
