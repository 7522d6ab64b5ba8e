//! The API reference as the tests read it: which documented operation a request
//! hit, and whether a response is one the document promises for its status —
//! its JSON body checked against the schema (JSON Schema 2020-12, which OpenAPI
//! 3.1 uses). `TestApp::api` runs every admin API response through `check`.

use serde_json::{Map, Value};

pub struct Spec {
    pub doc: Value,
}

/// The methods an OpenAPI path item may hold.
pub const METHODS: [&str; 5] = ["get", "put", "post", "delete", "patch"];

impl Spec {
    pub fn new(doc: Value) -> Spec {
        assert_eq!(doc["openapi"], "3.1.0", "an OpenAPI 3.1 document");
        Spec { doc }
    }

    pub fn paths(&self) -> &Map<String, Value> {
        self.doc["paths"].as_object().expect("paths")
    }

    /// Every documented `(METHOD, path template)`.
    pub fn operations(&self) -> Vec<(String, String)> {
        let mut all = Vec::new();
        for (path, item) in self.paths() {
            for method in METHODS {
                if item.get(method).is_some() {
                    all.push((method.to_uppercase(), path.clone()));
                }
            }
        }
        all
    }

    /// The documented operation `method path` (without its query) reaches: of
    /// the templates that match the path and have the method, the one with the
    /// most literal segments, as the router prefers them.
    pub fn operation(&self, method: &str, path: &str) -> Option<(String, &Value)> {
        let path = path.split('?').next().unwrap_or(path);
        let segments: Vec<&str> = path.split('/').collect();
        let method = method.to_lowercase();
        self.paths()
            .iter()
            .filter_map(|(template, item)| {
                let parts: Vec<&str> = template.split('/').collect();
                if parts.len() != segments.len() {
                    return None;
                }
                let mut literal = 0;
                for (part, segment) in parts.iter().zip(&segments) {
                    if part.starts_with('{') && part.ends_with('}') {
                        if segment.is_empty() {
                            return None;
                        }
                    } else if part == segment {
                        literal += 1;
                    } else {
                        return None;
                    }
                }
                let operation = item.get(&method)?;
                Some((literal, template.clone(), operation))
            })
            .max_by_key(|(literal, ..)| *literal)
            .map(|(_, template, operation)| (template, operation))
    }

    /// Follows a local `$ref` (`#/components/...`) once.
    fn resolve<'a>(&'a self, value: &'a Value) -> &'a Value {
        match value.get("$ref").and_then(Value::as_str) {
            Some(pointer) => self
                .doc
                .pointer(pointer.trim_start_matches('#'))
                .unwrap_or_else(|| panic!("dangling {pointer}")),
            None => value,
        }
    }

    /// Checks one response to `method path` (the path as requested, a query
    /// allowed): its status must be documented for the operation and its body
    /// must match the schema given for that status. A path or method the
    /// document lacks may only answer 404 with the error body.
    pub fn check(&self, method: &str, path: &str, status: u16, body: &[u8]) -> Result<(), String> {
        let path = path.split('?').next().unwrap_or(path);
        let Some((_, operation)) = self.operation(method, path) else {
            if status != 404 {
                return Err(format!(
                    "{method} {path} is not in the document but answered {status}"
                ));
            }
            let schema = serde_json::json!({"$ref": "#/components/schemas/Error"});
            return self
                .validate(&schema, body)
                .map_err(|e| format!("404 body: {e}"));
        };
        let responses = &operation["responses"];
        let Some(response) = responses
            .get(status.to_string())
            .or_else(|| responses.get("default"))
        else {
            return Err(format!(
                "{method} {path} answered {status}, which the document does not list (it lists {:?})",
                responses.as_object().map(|r| r.keys().collect::<Vec<_>>())
            ));
        };
        let response = self.resolve(response);
        match response.pointer("/content/application~1json/schema") {
            Some(schema) => self
                .validate(schema, body)
                .map_err(|e| format!("{method} {path} {status}: {e}")),
            None if body.is_empty() => Ok(()),
            None => Err(format!(
                "{method} {path} {status}: the document promises no body, got {} bytes",
                body.len()
            )),
        }
    }

    /// Validates `body` (JSON) against `schema`, whose `$ref`s point into this
    /// document's components.
    pub fn validate(&self, schema: &Value, body: &[u8]) -> Result<(), String> {
        let instance: Value = serde_json::from_slice(body)
            .map_err(|e| format!("not JSON ({e}): {}", String::from_utf8_lossy(body)))?;
        let mut root = match schema {
            Value::Object(map) => map.clone(),
            other => return Err(format!("schema is not an object: {other}")),
        };
        root.insert("components".into(), self.doc["components"].clone());
        let validator = jsonschema::draft202012::new(&Value::Object(root))
            .map_err(|e| format!("the schema does not compile: {e}"))?;
        let errors: Vec<String> = validator
            .iter_errors(&instance)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(format!("{} in {instance}", errors.join("; ")))
        }
    }
}
