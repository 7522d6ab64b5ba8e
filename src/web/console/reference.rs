//! `GET /reference`: the admin API's OpenAPI document (`admin::openapi`) drawn
//! as a page — each operation's method, path, role, parameters, request and
//! response bodies, then every schema — without JavaScript.

use actix_web::{HttpResponse, web};
use minijinja::context;
use serde::Serialize;
use serde_json::Value;

use super::error::ConsoleError;
use super::page;
use super::session::Session;
use crate::store::settings;
use crate::web::AppState;
use crate::web::admin::openapi::{ApiDoc, BEARER};

pub async fn show(
    session: Session,
    doc: web::Data<ApiDoc>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ConsoleError> {
    let mode = state.store.run(settings::mode).await?;
    let doc = serde_json::to_value(&doc.0).unwrap_or_default();
    page::render(
        "reference.html",
        &session,
        mode,
        "reference",
        context! {
            title => doc["info"]["title"].as_str().unwrap_or_default(),
            version => doc["info"]["version"].as_str().unwrap_or_default(),
            openapi => doc["openapi"].as_str().unwrap_or_default(),
            description => doc["info"]["description"].as_str().unwrap_or_default(),
            groups => groups(&doc),
            errors => shared_errors(&doc),
            schemas => schemas(&doc),
        },
    )
}

#[derive(Serialize)]
struct Group {
    tag: String,
    operations: Vec<Op>,
}

#[derive(Serialize)]
struct Op {
    anchor: String,
    method: String,
    path: String,
    summary: String,
    role: String,
    params: Vec<Field>,
    body: Option<Type>,
    responses: Vec<Answer>,
}

#[derive(Serialize)]
struct Answer {
    status: String,
    /// The shared response's name (`Unauthorized`), when it is one.
    name: Option<String>,
    description: String,
    body: Option<Type>,
}

/// A field of a body or a parameter.
#[derive(Serialize)]
struct Field {
    name: String,
    place: String,
    ty: Type,
    required: bool,
    description: String,
}

/// A type as words, with the schema it names (for a link) when there is one.
#[derive(Serialize, Default)]
struct Type {
    text: String,
    link: Option<String>,
}

#[derive(Serialize)]
struct SchemaView {
    name: String,
    description: String,
    fields: Vec<Field>,
    /// For a schema that is not an object of fields (an enum, a map).
    shape: Option<Type>,
}

fn text(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_string()
}

fn ref_name(value: &Value) -> Option<String> {
    value["$ref"]
        .as_str()
        .and_then(|r| r.rsplit('/').next())
        .map(str::to_string)
}

/// Describes `schema` in words: `string (date-time)`, `array of Rep`,
/// `Summary or null`, `one of: a, b`.
fn describe(schema: &Value) -> Type {
    if let Some(name) = ref_name(schema) {
        return Type {
            text: name.clone(),
            link: Some(name),
        };
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(options) = schema[key].as_array() {
            let parts: Vec<Type> = options.iter().map(describe).collect();
            let link = parts.iter().find_map(|p| p.link.clone());
            let words: Vec<String> = parts.into_iter().map(|p| p.text).collect();
            return Type {
                text: words.join(" or "),
                link,
            };
        }
    }
    if let Some(values) = schema["enum"].as_array() {
        let values: Vec<String> = values
            .iter()
            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
            .collect();
        return Type {
            text: format!("one of: {}", values.join(", ")),
            link: None,
        };
    }
    let kinds: Vec<String> = match &schema["type"] {
        Value::String(kind) => vec![kind.clone()],
        Value::Array(kinds) => kinds.iter().map(text).collect(),
        _ => Vec::new(),
    };
    let mut link = None;
    let words: Vec<String> = kinds
        .iter()
        .map(|kind| match kind.as_str() {
            "array" => {
                let item = describe(&schema["items"]);
                link = item.link;
                format!("array of {}", item.text)
            }
            "object" if schema["additionalProperties"].is_object() => {
                let value = describe(&schema["additionalProperties"]);
                link = value.link;
                format!("map of {}", value.text)
            }
            "string" | "integer" | "number" if schema["format"].is_string() => {
                format!("{kind} ({})", text(&schema["format"]))
            }
            other => other.to_string(),
        })
        .collect();
    Type {
        text: if words.is_empty() {
            "any JSON".into()
        } else {
            words.join(" or ")
        },
        link,
    }
}

/// The fields of an object schema (following `allOf`, which `flatten` makes).
fn fields(doc: &Value, schema: &Value) -> Vec<Field> {
    let mut all = Vec::new();
    for part in schema["allOf"].as_array().into_iter().flatten() {
        let part = match ref_name(part) {
            Some(name) => &doc["components"]["schemas"][name],
            None => part,
        };
        all.extend(fields(doc, part));
    }
    let required: Vec<&str> = schema["required"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    for (name, property) in schema["properties"].as_object().into_iter().flatten() {
        all.push(Field {
            name: name.clone(),
            place: "body".into(),
            ty: describe(property),
            required: required.contains(&name.as_str()),
            description: text(&property["description"]),
        });
    }
    all
}

fn body_of(content: &Value) -> Option<Type> {
    content["application/json"].get("schema").map(describe)
}

fn operation(doc: &Value, method: &str, path: &str, op: &Value) -> Op {
    let role = op["security"][0][BEARER][0]
        .as_str()
        .unwrap_or("none (public)")
        .to_string();
    let params = op["parameters"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| Field {
            name: text(&p["name"]),
            place: text(&p["in"]),
            ty: describe(&p["schema"]),
            required: p["required"].as_bool().unwrap_or(false),
            description: text(&p["description"]),
        })
        .collect();
    let responses = op["responses"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(status, response)| {
            let name = ref_name(response);
            let response = match &name {
                Some(name) => &doc["components"]["responses"][name],
                None => response,
            };
            Answer {
                status: status.clone(),
                name,
                description: text(&response["description"]),
                body: body_of(&response["content"]),
            }
        })
        .collect();
    let summary = [text(&op["summary"]), text(&op["description"])]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    Op {
        anchor: format!(
            "{method}{}",
            path.replace(['/', '{', '}', '.'], "-")
                .trim_end_matches('-')
        ),
        method: method.to_uppercase(),
        path: path.to_string(),
        summary,
        role,
        params,
        body: body_of(&op["requestBody"]["content"]),
        responses,
    }
}

/// Operations grouped by their tag, in the document's order.
fn groups(doc: &Value) -> Vec<Group> {
    let mut groups: Vec<Group> = Vec::new();
    for (path, item) in doc["paths"].as_object().into_iter().flatten() {
        for method in ["get", "put", "post", "delete", "patch"] {
            let Some(op) = item.get(method) else { continue };
            let tag = text(&op["tags"][0]);
            let op = operation(doc, method, path, op);
            match groups.iter_mut().find(|g| g.tag == tag) {
                Some(group) => group.operations.push(op),
                None => groups.push(Group {
                    tag,
                    operations: vec![op],
                }),
            }
        }
    }
    groups
}

fn shared_errors(doc: &Value) -> Vec<(String, String)> {
    doc["components"]["responses"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(name, r)| (name.clone(), text(&r["description"])))
        .collect()
}

fn schemas(doc: &Value) -> Vec<SchemaView> {
    let mut all: Vec<SchemaView> = doc["components"]["schemas"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(name, schema)| {
            let fields = fields(doc, schema);
            SchemaView {
                name: name.clone(),
                description: text(&schema["description"]),
                shape: fields.is_empty().then(|| describe(schema)),
                fields,
            }
        })
        .collect();
    all.sort_by(|a, b| a.name.cmp(&b.name));
    all
}
