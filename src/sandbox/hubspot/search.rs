//! HubSpot CRM search (`POST /crm/v3/objects/{type}/search`): filter groups
//! (OR of ANDs), the `query` full-text field, sorts, properties and paging, with
//! HubSpot's published limits on groups, filters and page size.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Value, json};

use crate::sandbox::state::{CrmObject, ObjectType};

pub const MAX_LIMIT: usize = 200;
const MAX_GROUPS: usize = 5;
const MAX_FILTERS_PER_GROUP: usize = 10;
const MAX_FILTERS: usize = 25;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SearchRequest {
    pub filter_groups: Vec<FilterGroup>,
    pub sorts: Vec<Value>,
    pub query: Option<String>,
    pub properties: Vec<String>,
    pub limit: Option<usize>,
    pub after: Option<Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct FilterGroup {
    pub filters: Vec<Filter>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Filter {
    pub property_name: String,
    pub operator: String,
    pub value: Option<Value>,
    pub values: Option<Vec<Value>>,
    pub high_value: Option<Value>,
}

/// The properties HubSpot returns when none are asked for.
pub fn default_properties(t: ObjectType) -> &'static [&'static str] {
    match t {
        ObjectType::Contacts => &[
            "createdate",
            "email",
            "firstname",
            "hs_object_id",
            "lastmodifieddate",
            "lastname",
        ],
        ObjectType::Companies => &[
            "createdate",
            "domain",
            "hs_lastmodifieddate",
            "hs_object_id",
            "name",
        ],
        ObjectType::Notes | ObjectType::Tasks | ObjectType::Emails | ObjectType::Meetings => {
            &["hs_createdate", "hs_lastmodifieddate", "hs_object_id"]
        }
    }
}

/// An object as the CRM API renders it, with the chosen properties (unset ones
/// as `null`, the way search does).
pub fn render(object: &CrmObject, t: ObjectType, properties: &[String]) -> Value {
    let names: Vec<String> = if properties.is_empty() {
        default_properties(t)
            .iter()
            .map(|s| s.to_string())
            .collect()
    } else {
        // HubSpot always adds the id and the created/modified stamps.
        let stamps = match t {
            ObjectType::Contacts => ["createdate", "lastmodifieddate"],
            ObjectType::Companies => ["createdate", "hs_lastmodifieddate"],
            _ => ["hs_createdate", "hs_lastmodifieddate"],
        };
        let mut names = properties.to_vec();
        names.extend(
            std::iter::once("hs_object_id")
                .chain(stamps)
                .map(String::from),
        );
        names
    };
    let props: BTreeMap<&str, Value> = names
        .iter()
        .map(|n| {
            (
                n.as_str(),
                property(object, n).map_or(Value::Null, Value::String),
            )
        })
        .collect();
    json!({
        "id": object.id.to_string(),
        "properties": props,
        "createdAt": object.created_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "updatedAt": object.updated_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "archived": false,
    })
}

/// A property's value, including the ones HubSpot computes.
pub fn property(object: &CrmObject, name: &str) -> Option<String> {
    let millis =
        |d: chrono::DateTime<chrono::Utc>| d.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    match name {
        "hs_object_id" => Some(object.id.to_string()),
        "createdate" | "hs_createdate" => Some(millis(object.created_at)),
        "lastmodifieddate" | "hs_lastmodifieddate" => Some(millis(object.updated_at)),
        _ => object.properties.get(name).cloned(),
    }
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Why a search was refused (HubSpot answers 400 `VALIDATION_ERROR`).
pub fn validate(req: &SearchRequest) -> Result<(), String> {
    if req.limit.unwrap_or(10) > MAX_LIMIT {
        return Err(format!("limit must be less than or equal to {MAX_LIMIT}"));
    }
    if req.filter_groups.len() > MAX_GROUPS {
        return Err(format!(
            "Too many filter groups: {} (at most {MAX_GROUPS})",
            req.filter_groups.len()
        ));
    }
    let total: usize = req.filter_groups.iter().map(|g| g.filters.len()).sum();
    if total > MAX_FILTERS
        || req
            .filter_groups
            .iter()
            .any(|g| g.filters.len() > MAX_FILTERS_PER_GROUP)
    {
        return Err(format!(
            "Too many filters: at most {MAX_FILTERS_PER_GROUP} per group and {MAX_FILTERS} in total"
        ));
    }
    for f in req.filter_groups.iter().flat_map(|g| &g.filters) {
        if f.property_name.is_empty() {
            return Err("filter is missing propertyName".into());
        }
        let needs_value = !matches!(
            f.operator.as_str(),
            "HAS_PROPERTY" | "NOT_HAS_PROPERTY" | "IN" | "NOT_IN"
        );
        match f.operator.as_str() {
            "EQ" | "NEQ" | "LT" | "LTE" | "GT" | "GTE" | "CONTAINS_TOKEN"
            | "NOT_CONTAINS_TOKEN" | "BETWEEN" | "HAS_PROPERTY" | "NOT_HAS_PROPERTY" | "IN"
            | "NOT_IN" => {}
            other => return Err(format!("Invalid operator: {other:?}")),
        }
        if needs_value && f.value.is_none() {
            return Err(format!(
                "filter on {} with operator {} requires a value",
                f.property_name, f.operator
            ));
        }
        if matches!(f.operator.as_str(), "IN" | "NOT_IN") && f.values.is_none() {
            return Err(format!(
                "filter on {} with operator {} requires values",
                f.property_name, f.operator
            ));
        }
    }
    Ok(())
}

fn compare(a: &str, b: &str) -> std::cmp::Ordering {
    match (a.parse::<f64>(), b.parse::<f64>()) {
        (Ok(x), Ok(y)) => x.partial_cmp(&y).unwrap_or(std::cmp::Ordering::Equal),
        _ => a.to_ascii_lowercase().cmp(&b.to_ascii_lowercase()),
    }
}

/// Ids of the records of a type associated with an object (for the
/// `associations.{type}` pseudo-property, e.g. notes on contact 5101).
pub type Links<'a> = &'a dyn Fn(u64, ObjectType) -> Vec<u64>;

/// `associations.contact EQ 5101`, `IN`, `NEQ`, `HAS_PROPERTY`.
fn matches_association(object: &CrmObject, f: &Filter, to: ObjectType, links: Links) -> bool {
    let ids: Vec<String> = links(object.id, to).iter().map(u64::to_string).collect();
    let want = f.value.as_ref().map(text).unwrap_or_default();
    match f.operator.as_str() {
        "EQ" => ids.contains(&want),
        "NEQ" => !ids.contains(&want),
        "HAS_PROPERTY" => !ids.is_empty(),
        "NOT_HAS_PROPERTY" => ids.is_empty(),
        "IN" => f.values.iter().flatten().any(|v| ids.contains(&text(v))),
        "NOT_IN" => !f.values.iter().flatten().any(|v| ids.contains(&text(v))),
        _ => false,
    }
}

fn matches(object: &CrmObject, f: &Filter, links: Links) -> bool {
    use std::cmp::Ordering::*;
    if let Some(to) = f
        .property_name
        .strip_prefix("associations.")
        .and_then(ObjectType::parse)
    {
        return matches_association(object, f, to, links);
    }
    let actual = property(object, &f.property_name);
    let want = f.value.as_ref().map(text).unwrap_or_default();
    let has = actual.as_deref().is_some_and(|v| !v.is_empty());
    let a = actual.unwrap_or_default();
    match f.operator.as_str() {
        "HAS_PROPERTY" => has,
        "NOT_HAS_PROPERTY" => !has,
        // String comparison is case-insensitive in HubSpot search.
        "EQ" => has && a.eq_ignore_ascii_case(&want),
        "NEQ" => !a.eq_ignore_ascii_case(&want),
        "LT" => has && compare(&a, &want) == Less,
        "LTE" => has && compare(&a, &want) != Greater,
        "GT" => has && compare(&a, &want) == Greater,
        "GTE" => has && compare(&a, &want) != Less,
        "BETWEEN" => {
            let high = f.high_value.as_ref().map(text).unwrap_or_default();
            has && compare(&a, &want) != Less && compare(&a, &high) != Greater
        }
        "IN" | "NOT_IN" => {
            let hit = f
                .values
                .iter()
                .flatten()
                .any(|v| a.eq_ignore_ascii_case(&text(v)));
            (f.operator == "IN") == hit && (has || f.operator == "NOT_IN")
        }
        "CONTAINS_TOKEN" | "NOT_CONTAINS_TOKEN" => {
            let token = want.trim_matches('*').to_ascii_lowercase();
            let hit = a
                .to_ascii_lowercase()
                .split(|c: char| !c.is_alphanumeric() && c != '@' && c != '.')
                .any(|t| t == token)
                || (want.contains('*') && a.to_ascii_lowercase().contains(&token));
            (f.operator == "CONTAINS_TOKEN") == hit
        }
        _ => false,
    }
}

/// Runs a validated search over `objects`; returns the page and HubSpot's body.
pub fn run<'a>(
    t: ObjectType,
    objects: impl Iterator<Item = &'a CrmObject>,
    links: Links,
    req: &SearchRequest,
) -> Value {
    let query = req
        .query
        .as_deref()
        .map(str::to_ascii_lowercase)
        .filter(|q| !q.is_empty());
    let mut hits: Vec<&CrmObject> = objects
        .filter(|o| {
            req.filter_groups.is_empty()
                || req
                    .filter_groups
                    .iter()
                    .any(|g| g.filters.iter().all(|f| matches(o, f, links)))
        })
        .filter(|o| match &query {
            Some(q) => default_properties(t).iter().any(|p| {
                property(o, p).is_some_and(|v| v.to_ascii_lowercase().contains(q.as_str()))
            }),
            None => true,
        })
        .collect();
    if let Some((name, descending)) = req.sorts.first().and_then(sort_key) {
        hits.sort_by(|a, b| {
            let o = compare(
                &property(a, &name).unwrap_or_default(),
                &property(b, &name).unwrap_or_default(),
            );
            if descending { o.reverse() } else { o }
        });
    }
    let total = hits.len();
    let after: usize = req
        .after
        .as_ref()
        .map(text)
        .and_then(|a| a.parse().ok())
        .unwrap_or(0);
    let limit = req.limit.unwrap_or(10).max(1);
    let page: Vec<Value> = hits
        .iter()
        .skip(after)
        .take(limit)
        .map(|o| render(o, t, &req.properties))
        .collect();
    let mut body = json!({"total": total, "results": page});
    if after + limit < total {
        let next = (after + limit).to_string();
        body["paging"] = json!({"next": {"after": next, "link": format!("?after={next}")}});
    }
    body
}

/// `{"propertyName":"x","direction":"DESCENDING"}` or `"-x"`.
fn sort_key(v: &Value) -> Option<(String, bool)> {
    match v {
        Value::String(s) => Some(match s.strip_prefix('-') {
            Some(name) => (name.to_string(), true),
            None => (s.clone(), false),
        }),
        Value::Object(o) => Some((
            o.get("propertyName")?.as_str()?.to_string(),
            o.get("direction").and_then(Value::as_str) == Some("DESCENDING"),
        )),
        _ => None,
    }
}
