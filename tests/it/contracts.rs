//! Contract test: every Google endpoint the clients call (their own endpoint
//! tables, not a copy) is checked against Google's discovery documents — method,
//! path template, query parameter names, request body fields and required fields.
//! The documents are trimmed copies under `tests/fixtures/discovery/`.

use sales_agent::connectors::http::Endpoint;
use sales_agent::connectors::{calendar, drive, gmail};
use serde_json::Value;

fn discovery(name: &str) -> Value {
    let path = format!(
        "{}/tests/fixtures/discovery/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).expect("discovery fixture is JSON")
}

/// Finds a method by its discovery id anywhere in the resource tree.
fn find_method<'a>(resources: &'a Value, id: &str) -> Option<&'a Value> {
    for resource in resources.as_object()?.values() {
        if let Some(m) = resource
            .get("methods")
            .and_then(Value::as_object)
            .and_then(|methods| methods.values().find(|m| m["id"] == id))
        {
            return Some(m);
        }
        if let Some(found) = resource.get("resources").and_then(|r| find_method(r, id)) {
            return Some(found);
        }
    }
    None
}

fn path_params(template: &str) -> Vec<&str> {
    template
        .split('{')
        .skip(1)
        .filter_map(|s| s.split('}').next())
        .collect()
}

/// Every way `endpoint` disagrees with the discovery document `doc`.
fn problems(doc: &Value, endpoint: &Endpoint) -> Vec<String> {
    let mut out = Vec::new();
    let Some(method) = find_method(&doc["resources"], endpoint.id) else {
        return vec![format!("{}: no such method", endpoint.id)];
    };
    if method["httpMethod"] != endpoint.method {
        out.push(format!(
            "{}: method {} != {}",
            endpoint.id, endpoint.method, method["httpMethod"]
        ));
    }
    // A media upload goes to the method's upload path (`/upload/drive/v3/files`).
    let full_path = match method["mediaUpload"]["protocols"]["simple"]["path"].as_str() {
        Some(upload) if endpoint.path.starts_with("upload/") => {
            upload.trim_start_matches('/').to_string()
        }
        _ => format!(
            "{}{}",
            doc["servicePath"].as_str().unwrap_or(""),
            method["path"].as_str().unwrap_or("")
        ),
    };
    if full_path != endpoint.path {
        out.push(format!(
            "{}: path {} != {full_path}",
            endpoint.id, endpoint.path
        ));
    }
    let params = &method["parameters"];
    for name in path_params(endpoint.path) {
        if params[name]["location"] != "path" {
            out.push(format!(
                "{}: {{{name}}} is not a path parameter",
                endpoint.id
            ));
        }
    }
    for name in endpoint.query {
        let here = params[*name]["location"] == "query";
        let global = doc["parameters"][*name]["location"] == "query";
        if !here && !global {
            out.push(format!("{}: unknown query parameter {name}", endpoint.id));
        }
    }
    for (name, p) in params.as_object().into_iter().flatten() {
        let sent = path_params(endpoint.path).contains(&name.as_str())
            || endpoint.query.contains(&name.as_str());
        if p["required"] == true && !sent {
            out.push(format!(
                "{}: required parameter {name} not sent",
                endpoint.id
            ));
        }
    }
    match method["request"]["$ref"].as_str() {
        None if !endpoint.body.is_empty() => out.push(format!(
            "{}: sends a body the method does not take",
            endpoint.id
        )),
        None => {}
        Some(_) if endpoint.body.is_empty() => out.push(format!("{}: sends no body", endpoint.id)),
        Some(schema) => {
            let props = &doc["schemas"][schema]["properties"];
            for field in endpoint.body {
                if props.get(*field).is_none() {
                    out.push(format!("{}: {schema} has no field {field}", endpoint.id));
                }
            }
            for (name, p) in props.as_object().into_iter().flatten() {
                let required = p["annotations"]["required"]
                    .as_array()
                    .is_some_and(|r| r.iter().any(|m| m == endpoint.id));
                if required && !endpoint.body.contains(&name.as_str()) {
                    out.push(format!("{}: required field {name} not sent", endpoint.id));
                }
            }
        }
    }
    out
}

fn assert_conforms(doc: &str, endpoints: &[Endpoint]) {
    let doc = discovery(doc);
    let all: Vec<String> = endpoints.iter().flat_map(|e| problems(&doc, e)).collect();
    assert!(all.is_empty(), "contract violations:\n{}", all.join("\n"));
}

#[test]
fn every_gmail_endpoint_matches_the_discovery_document() {
    assert_conforms("gmail.v1", gmail::ENDPOINTS);
}

#[test]
fn every_calendar_endpoint_matches_the_discovery_document() {
    assert_conforms("calendar.v3", calendar::ENDPOINTS);
}

#[test]
fn every_drive_endpoint_matches_the_discovery_document() {
    assert_conforms("drive.v3", drive::ENDPOINTS);
}

#[test]
fn the_checker_catches_a_wrong_path_parameter_query_and_missing_required_field() {
    let doc = discovery("calendar.v3");
    let wrong = Endpoint {
        id: "calendar.events.insert",
        method: "PUT",
        path: "calendar/v3/calendar/{calId}/events",
        query: &["conferenceVersion"],
        body: &["summary", "startTime"],
        idempotent: true,
    };
    let found = problems(&doc, &wrong);
    for expected in [
        "method PUT",
        "path calendar/v3/calendar/{calId}/events",
        "{calId} is not a path parameter",
        "unknown query parameter conferenceVersion",
        "required parameter calendarId not sent",
        "Event has no field startTime",
        "required field start not sent",
        "required field end not sent",
    ] {
        assert!(
            found.iter().any(|p| p.contains(expected)),
            "missed {expected:?} in {found:#?}"
        );
    }
    let unknown = Endpoint {
        id: "calendar.events.nope",
        ..wrong
    };
    assert_eq!(
        problems(&doc, &unknown),
        ["calendar.events.nope: no such method"]
    );
}
