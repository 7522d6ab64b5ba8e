//! HubSpot CRM (real base `https://api.hubapi.com`): objects (contacts,
//! companies, notes, tasks) — create, read, batch read, contact upsert by email,
//! search — associations (v3 list, v4 list and default PUT), owners, and the
//! Forms API submissions list. Private-app bearer tokens from the fixture.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::{Value, json};

use super::Sandbox;
use super::gate::{self, Cost, Endpoint, endpoint};
use super::hubspot_search::{self as search, SearchRequest, render};
use super::respond::{self, Provider, hubspot_invalid, hubspot_not_found, json_body};
use super::state::{CrmObject, HubSpot, ObjectType};

const P: Provider = Provider::HubSpot;
const UPSERT: Endpoint = endpoint("hubspot.contacts.upsert", P, Cost::HubSpot);
const ASSOC_LIST: Endpoint = endpoint("hubspot.associations.list", P, Cost::HubSpot);
const ASSOC_PUT: Endpoint = endpoint("hubspot.associations.put", P, Cost::HubSpot);
const OWNERS: Endpoint = endpoint("hubspot.owners.list", P, Cost::HubSpot);
const FORMS: Endpoint = endpoint("hubspot.forms.submissions", P, Cost::HubSpot);

/// The stable endpoint name for an operation on a type, e.g. `hubspot.notes.create`.
fn op(t: ObjectType, action: &str) -> Endpoint {
    let name: &'static str = match (t, action) {
        (ObjectType::Contacts, "search") => "hubspot.contacts.search",
        (ObjectType::Companies, "search") => "hubspot.companies.search",
        (ObjectType::Notes, "search") => "hubspot.notes.search",
        (ObjectType::Tasks, "search") => "hubspot.tasks.search",
        (ObjectType::Contacts, "create") => "hubspot.contacts.create",
        (ObjectType::Companies, "create") => "hubspot.companies.create",
        (ObjectType::Notes, "create") => "hubspot.notes.create",
        (ObjectType::Tasks, "create") => "hubspot.tasks.create",
        (ObjectType::Contacts, "get") => "hubspot.contacts.get",
        (ObjectType::Companies, "get") => "hubspot.companies.get",
        (ObjectType::Notes, "get") => "hubspot.notes.get",
        (ObjectType::Tasks, "get") => "hubspot.tasks.get",
        (ObjectType::Contacts, _) => "hubspot.contacts.batch_read",
        (ObjectType::Companies, _) => "hubspot.companies.batch_read",
        (ObjectType::Notes, _) => "hubspot.notes.batch_read",
        (ObjectType::Tasks, _) => "hubspot.tasks.batch_read",
    };
    let cost = if action == "search" {
        Cost::HubSpotSearch
    } else {
        Cost::HubSpot
    };
    endpoint(name, P, cost)
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/crm/v3/objects/{type}/search",
        web::post().to(search_objects),
    )
    .route(
        "/crm/v3/objects/contacts/batch/upsert",
        web::post().to(upsert_contacts),
    )
    .route(
        "/crm/v3/objects/{type}/batch/read",
        web::post().to(batch_read),
    )
    .route(
        "/crm/v3/objects/{type}/{id}/associations/{to}",
        web::get().to(list_associations_v3),
    )
    .route(
        "/crm/v4/objects/{type}/{id}/associations/{to}",
        web::get().to(list_associations_v4),
    )
    .route(
        "/crm/v4/objects/{type}/{id}/associations/default/{to}/{to_id}",
        web::put().to(put_association),
    )
    .route("/crm/v3/objects/{type}/{id}", web::get().to(get_object))
    .route("/crm/v3/objects/{type}", web::post().to(create_object))
    .route("/crm/v3/owners", web::get().to(owners))
    .route("/crm/v3/owners/", web::get().to(owners))
    .route(
        "/form-integrations/v1/submissions/forms/{guid}",
        web::get().to(form_submissions),
    );
}

fn unknown_type(name: &str) -> HttpResponse {
    respond::hubspot(
        StatusCode::BAD_REQUEST,
        "VALIDATION_ERROR",
        &format!("Unable to infer object type from: {name}"),
        vec![],
    )
}

/// Query pairs in order, keeping repeats (`properties=a&properties=b`).
fn query_list(req: &HttpRequest, key: &str) -> Vec<String> {
    serde_urlencoded::from_str::<Vec<(String, String)>>(req.query_string())
        .unwrap_or_default()
        .into_iter()
        .filter(|(k, _)| k == key)
        .flat_map(|(_, v)| {
            v.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect::<Vec<_>>()
        })
        .collect()
}

fn now(sb: &Sandbox) -> chrono::DateTime<chrono::Utc> {
    sb.clock.now_utc()
}

async fn search_objects(
    sb: web::Data<Sandbox>,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let Some(t) = ObjectType::parse(&path) else {
        return unknown_type(&path);
    };
    gate::serve(&sb, &req, op(t, "search"), |_| async {
        let request: SearchRequest = match json_body(P, &req, &body) {
            Ok(r) => r,
            Err(e) => return e,
        };
        if let Err(message) = search::validate(&request) {
            return hubspot_invalid(&message, "INVALID_SEARCH", json!({}));
        }
        let world = sb.lock_world();
        HttpResponse::Ok().json(search::run(t, world.hubspot.objects(t), &request))
    })
    .await
}

/// Property values arrive as strings, numbers or booleans; HubSpot stores text.
fn properties_of(v: Option<&Value>) -> Result<BTreeMap<String, String>, HttpResponse> {
    let Some(v) = v else {
        return Ok(BTreeMap::new());
    };
    let Some(map) = v.as_object() else {
        return Err(hubspot_invalid(
            "properties must be an object",
            "INVALID_INPUT",
            json!({}),
        ));
    };
    Ok(map
        .iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| {
            (
                k.clone(),
                v.as_str().map_or_else(|| v.to_string(), String::from),
            )
        })
        .collect())
}

fn property_error(name: &str, code: &str, message: &str) -> HttpResponse {
    let detail = json!([{"isValid": false, "message": message, "error": code, "name": name}]);
    respond::hubspot(
        StatusCode::BAD_REQUEST,
        "VALIDATION_ERROR",
        &format!("Property values were not valid: {detail}"),
        vec![json!({"message": message, "code": code, "context": {"propertyName": [name]}})],
    )
}

/// HubSpot accepts epoch milliseconds or an ISO 8601 UTC timestamp.
fn valid_timestamp(v: &str) -> bool {
    v.parse::<i64>().is_ok()
        || chrono::DateTime::parse_from_rfc3339(v).is_ok()
        || chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d").is_ok()
}

/// The per-type rules HubSpot enforces on create.
fn check_properties(
    hs: &HubSpot,
    t: ObjectType,
    props: &BTreeMap<String, String>,
) -> Result<(), HttpResponse> {
    if matches!(t, ObjectType::Notes | ObjectType::Tasks) {
        match props.get("hs_timestamp") {
            None => {
                return Err(property_error(
                    "hs_timestamp",
                    "REQUIRED_FIELD",
                    "hs_timestamp is required",
                ));
            }
            Some(v) if !valid_timestamp(v) => {
                return Err(property_error(
                    "hs_timestamp",
                    "INVALID_DATE",
                    &format!("{v} is not a valid timestamp"),
                ));
            }
            _ => {}
        }
    }
    if let Some(body) = props
        .get("hs_note_body")
        .filter(|b| b.chars().count() > 65_536)
    {
        let _ = body;
        return Err(property_error(
            "hs_note_body",
            "INVALID_LENGTH",
            "hs_note_body exceeds 65536 characters",
        ));
    }
    let options: [(&str, &[&str]); 3] = [
        (
            "hs_task_status",
            &[
                "NOT_STARTED",
                "IN_PROGRESS",
                "WAITING",
                "COMPLETED",
                "DEFERRED",
            ],
        ),
        ("hs_task_priority", &["NONE", "LOW", "MEDIUM", "HIGH"]),
        (
            "hs_task_type",
            &["EMAIL", "CALL", "TODO", "LINKED_IN", "MEETING"],
        ),
    ];
    for (name, allowed) in options {
        if let Some(v) = props
            .get(name)
            .filter(|v| t == ObjectType::Tasks && !allowed.contains(&v.as_str()))
        {
            return Err(property_error(
                name,
                "INVALID_OPTION",
                &format!("{v} was not one of the allowed options: {allowed:?}"),
            ));
        }
    }
    if let Some(owner) = props
        .get("hubspot_owner_id")
        .filter(|o| !o.is_empty() && !hs.owners.iter().any(|x| &x.id == *o))
    {
        return Err(property_error(
            "hubspot_owner_id",
            "INVALID_OWNER_ID",
            &format!("{owner} is not a valid owner id"),
        ));
    }
    Ok(())
}

#[derive(Deserialize)]
struct InlineAssociation {
    to: InlineTarget,
    types: Vec<InlineType>,
}

#[derive(Deserialize)]
struct InlineTarget {
    id: Value,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct InlineType {
    association_category: String,
    association_type_id: u32,
}

/// Which type a HUBSPOT_DEFINED association type id points at, from `from`.
fn association_target(from: ObjectType, type_id: u32) -> Option<ObjectType> {
    [
        ObjectType::Contacts,
        ObjectType::Companies,
        ObjectType::Notes,
        ObjectType::Tasks,
    ]
    .into_iter()
    .find(|to| from.default_association(*to) == Some(type_id))
}

fn id_of(v: &Value) -> Option<u64> {
    match v {
        Value::String(s) => s.parse().ok(),
        Value::Number(n) => n.as_u64(),
        _ => None,
    }
}

async fn create_object(
    sb: web::Data<Sandbox>,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let Some(t) = ObjectType::parse(&path) else {
        return unknown_type(&path);
    };
    gate::serve(&sb, &req, op(t, "create"), |_| async {
        let input: Value = match json_body(P, &req, &body) {
            Ok(v) => v,
            Err(e) => return e,
        };
        let props = match properties_of(input.get("properties")) {
            Ok(p) => p,
            Err(e) => return e,
        };
        let associations: Vec<InlineAssociation> = match input
            .get("associations")
            .cloned()
            .map(serde_json::from_value)
            .transpose()
        {
            Ok(a) => a.unwrap_or_default(),
            Err(e) => {
                return hubspot_invalid(
                    &format!("Invalid associations: {e}"),
                    "INVALID_ASSOCIATION",
                    json!({}),
                );
            }
        };
        let mut world = sb.lock_world();
        let hs = &mut world.hubspot;
        if let Err(e) = check_properties(hs, t, &props) {
            return e;
        }
        if t == ObjectType::Contacts {
            let email = props.get("email").map(|e| e.to_ascii_lowercase());
            if let Some(existing) = email.and_then(|e| {
                hs.objects(t)
                    .find(|o| {
                        o.properties
                            .get("email")
                            .is_some_and(|x| x.eq_ignore_ascii_case(&e))
                    })
                    .map(|o| o.id)
            }) {
                return respond::hubspot(
                    StatusCode::CONFLICT,
                    "CONFLICT",
                    &format!("Contact already exists. Existing ID: {existing}"),
                    vec![],
                );
            }
        }
        let mut links = Vec::new();
        for a in &associations {
            for ty in &a.types {
                let target = association_target(t, ty.association_type_id)
                    .filter(|_| ty.association_category == "HUBSPOT_DEFINED");
                let to_id = id_of(&a.to.id);
                match (target, to_id) {
                    (Some(to), Some(id)) if hs.get(to, id).is_some() => {
                        links.push((to, id, ty.association_type_id))
                    }
                    _ => {
                        return hubspot_invalid(
                            &format!(
                                "Invalid association: {} {} with type {}",
                                t.singular(),
                                a.to.id,
                                ty.association_type_id
                            ),
                            "INVALID_ASSOCIATION",
                            json!({"associationTypeId": [ty.association_type_id.to_string()]}),
                        );
                    }
                }
            }
        }
        let id = hs.next_id;
        hs.next_id += 1;
        let at = now(&sb);
        let object = CrmObject {
            id,
            properties: props,
            created_at: at,
            updated_at: at,
        };
        hs.objects.entry(t).or_default().insert(id, object.clone());
        for (to, to_id, type_id) in links {
            hs.associate(t, id, to, to_id, type_id);
        }
        let names: Vec<String> = object
            .properties
            .keys()
            .cloned()
            .chain(search::default_properties(t).iter().map(|s| s.to_string()))
            .collect();
        HttpResponse::Created().json(render(&object, t, &names))
    })
    .await
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UpsertBody {
    inputs: Vec<UpsertInput>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UpsertInput {
    id: String,
    id_property: Option<String>,
    #[serde(default)]
    properties: Value,
}

async fn upsert_contacts(
    sb: web::Data<Sandbox>,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    gate::serve(&sb, &req, UPSERT, |_| async {
        let input: UpsertBody = match json_body(P, &req, &body) {
            Ok(v) => v,
            Err(e) => return e,
        };
        if input.inputs.is_empty() || input.inputs.len() > 100 {
            return hubspot_invalid(
                "inputs must contain between 1 and 100 items",
                "INVALID_INPUT",
                json!({}),
            );
        }
        let started = now(&sb);
        let mut world = sb.lock_world();
        let hs = &mut world.hubspot;
        let mut prepared = Vec::new();
        for i in &input.inputs {
            if i.id_property.as_deref() != Some("email") {
                return hubspot_invalid(
                    "idProperty must be a unique property (email) for upsert",
                    "INVALID_ID_PROPERTY",
                    json!({}),
                );
            }
            if i.id.trim().is_empty() || !i.id.contains('@') {
                return property_error(
                    "email",
                    "INVALID_EMAIL",
                    &format!("Email address {} is invalid", i.id),
                );
            }
            let props = match properties_of(Some(&i.properties).filter(|v| !v.is_null())) {
                Ok(p) => p,
                Err(e) => return e,
            };
            if let Err(e) = check_properties(hs, ObjectType::Contacts, &props) {
                return e;
            }
            prepared.push((i.id.to_ascii_lowercase(), props));
        }
        let mut results = Vec::new();
        for (email, mut props) in prepared {
            props.insert("email".into(), email.clone());
            let existing = hs
                .objects(ObjectType::Contacts)
                .find(|o| {
                    o.properties
                        .get("email")
                        .is_some_and(|e| e.eq_ignore_ascii_case(&email))
                })
                .map(|o| o.id);
            let at = now(&sb);
            let (object, new) = match existing {
                Some(id) => {
                    let contacts = hs.objects.entry(ObjectType::Contacts).or_default();
                    let Some(o) = contacts.get_mut(&id) else {
                        continue;
                    };
                    o.properties.extend(props);
                    o.updated_at = at;
                    (o.clone(), false)
                }
                None => {
                    let id = hs.next_id;
                    hs.next_id += 1;
                    let o = CrmObject {
                        id,
                        properties: props,
                        created_at: at,
                        updated_at: at,
                    };
                    hs.objects
                        .entry(ObjectType::Contacts)
                        .or_default()
                        .insert(id, o.clone());
                    (o, true)
                }
            };
            let names: Vec<String> = object.properties.keys().cloned().collect();
            let mut rendered = render(&object, ObjectType::Contacts, &names);
            rendered["new"] = json!(new);
            results.push(rendered);
        }
        HttpResponse::Ok().json(json!({
            "status": "COMPLETE", "results": results,
            "startedAt": started.to_rfc3339(), "completedAt": now(&sb).to_rfc3339()}))
    })
    .await
}

/// Finds an object by id, or by a unique property when `idProperty` is given.
fn lookup(hs: &HubSpot, t: ObjectType, id: &str, id_property: Option<&str>) -> Option<CrmObject> {
    match id_property.filter(|p| *p != "hs_object_id") {
        Some(p) => hs
            .objects(t)
            .find(|o| {
                o.properties
                    .get(p)
                    .is_some_and(|v| v.eq_ignore_ascii_case(id))
            })
            .cloned(),
        None => hs.get(t, id.parse().ok()?).cloned(),
    }
}

async fn get_object(
    sb: web::Data<Sandbox>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    let (type_name, id) = path.into_inner();
    let Some(t) = ObjectType::parse(&type_name) else {
        return unknown_type(&type_name);
    };
    gate::serve(&sb, &req, op(t, "get"), |_| async {
        let properties = query_list(&req, "properties");
        let id_property = query_list(&req, "idProperty").into_iter().next();
        let world = sb.lock_world();
        let Some(object) = lookup(&world.hubspot, t, &id, id_property.as_deref()) else { return hubspot_not_found() };
        let mut body = render(&object, t, &properties);
        let mut associations = serde_json::Map::new();
        for to_name in query_list(&req, "associations") {
            let Some(to) = ObjectType::parse(&to_name) else { continue };
            let results: Vec<Value> = world
                .hubspot
                .associated(t, object.id, to)
                .iter()
                .map(|a| json!({"id": a.to_id.to_string(), "type": format!("{}_to_{}", t.singular(), to.singular())}))
                .collect();
            if !results.is_empty() {
                associations.insert(to_name.clone(), json!({"results": results}));
            }
        }
        if !associations.is_empty() {
            body["associations"] = Value::Object(associations);
        }
        HttpResponse::Ok().json(body)
    })
    .await
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BatchRead {
    inputs: Vec<BatchId>,
    #[serde(default)]
    properties: Vec<String>,
    id_property: Option<String>,
}

#[derive(Deserialize)]
struct BatchId {
    id: Value,
}

async fn batch_read(
    sb: web::Data<Sandbox>,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let Some(t) = ObjectType::parse(&path) else {
        return unknown_type(&path);
    };
    gate::serve(&sb, &req, op(t, "batch_read"), |_| async {
        let input: BatchRead = match json_body(P, &req, &body) {
            Ok(v) => v,
            Err(e) => return e,
        };
        if input.inputs.len() > 100 {
            return hubspot_invalid("inputs must contain at most 100 items", "INVALID_INPUT", json!({}));
        }
        let world = sb.lock_world();
        let (mut results, mut missing) = (Vec::new(), Vec::new());
        for i in &input.inputs {
            let id = i.id.as_str().map_or_else(|| i.id.to_string(), String::from);
            match lookup(&world.hubspot, t, &id, input.id_property.as_deref()) {
                Some(o) => results.push(render(&o, t, &input.properties)),
                None => missing.push(id),
            }
        }
        let mut body = json!({"status": "COMPLETE", "results": results});
        if missing.is_empty() {
            return HttpResponse::Ok().json(body);
        }
        body["numErrors"] = json!(1);
        body["errors"] = json!([{"status": "error", "category": "OBJECT_NOT_FOUND",
            "message": format!("Could not get some {} objects, they may be deleted or not exist. Check that ids are valid.", t.singular().to_ascii_uppercase()),
            "context": {"ids": missing}}]);
        HttpResponse::build(StatusCode::MULTI_STATUS).json(body)
    })
    .await
}

async fn list_associations_v3(
    sb: web::Data<Sandbox>,
    req: HttpRequest,
    path: web::Path<(String, String, String)>,
) -> HttpResponse {
    list_associations(sb, req, path.into_inner(), false).await
}

async fn list_associations_v4(
    sb: web::Data<Sandbox>,
    req: HttpRequest,
    path: web::Path<(String, String, String)>,
) -> HttpResponse {
    list_associations(sb, req, path.into_inner(), true).await
}

async fn list_associations(
    sb: web::Data<Sandbox>,
    req: HttpRequest,
    (from, id, to): (String, String, String),
    v4: bool,
) -> HttpResponse {
    let (Some(ft), Some(tt)) = (ObjectType::parse(&from), ObjectType::parse(&to)) else {
        return unknown_type(&format!("{from}/{to}"));
    };
    gate::serve(&sb, &req, ASSOC_LIST, |_| async {
        let world = sb.lock_world();
        let Some(from_id) = id.parse().ok().filter(|i| world.hubspot.get(ft, *i).is_some()) else { return hubspot_not_found() };
        let results: Vec<Value> = world
            .hubspot
            .associated(ft, from_id, tt)
            .iter()
            .map(|a| {
                if v4 {
                    json!({"toObjectId": a.to_id, "associationTypes": [{"category": "HUBSPOT_DEFINED", "typeId": a.type_id, "label": null}]})
                } else {
                    json!({"id": a.to_id.to_string(), "type": format!("{}_to_{}", ft.singular(), tt.singular())})
                }
            })
            .collect();
        HttpResponse::Ok().json(json!({"results": results}))
    })
    .await
}

async fn put_association(
    sb: web::Data<Sandbox>,
    req: HttpRequest,
    path: web::Path<(String, String, String, String)>,
) -> HttpResponse {
    let (from, id, to, to_id) = path.into_inner();
    let (Some(ft), Some(tt)) = (ObjectType::parse(&from), ObjectType::parse(&to)) else {
        return unknown_type(&format!("{from}/{to}"));
    };
    gate::serve(&sb, &req, ASSOC_PUT, |_| async {
        let mut world = sb.lock_world();
        let hs = &mut world.hubspot;
        let (Some(a), Some(b)) = (id.parse().ok().filter(|i| hs.get(ft, *i).is_some()), to_id.parse().ok().filter(|i| hs.get(tt, *i).is_some())) else {
            return hubspot_not_found();
        };
        let Some(type_id) = ft.default_association(tt) else {
            return hubspot_invalid(&format!("No default association from {from} to {to}"), "INVALID_ASSOCIATION", json!({}));
        };
        hs.associate(ft, a, tt, b, type_id);
        let reverse = tt.default_association(ft).unwrap_or(type_id);
        let at = now(&sb).to_rfc3339();
        HttpResponse::Ok().json(json!({"status": "COMPLETE", "startedAt": at, "completedAt": at, "results": [
            {"from": {"id": a.to_string()}, "to": {"id": b.to_string()}, "associationSpec": {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": type_id}},
            {"from": {"id": b.to_string()}, "to": {"id": a.to_string()}, "associationSpec": {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": reverse}}]}))
    })
    .await
}

async fn owners(sb: web::Data<Sandbox>, req: HttpRequest) -> HttpResponse {
    gate::serve(&sb, &req, OWNERS, |_| async {
        let email = query_list(&req, "email").into_iter().next();
        let world = sb.lock_world();
        let results: Vec<Value> = world
            .hubspot
            .owners
            .iter()
            .filter(|o| email.as_ref().is_none_or(|e| o.email.eq_ignore_ascii_case(e)))
            .map(|o| json!({"id": o.id, "email": o.email, "type": "PERSON", "firstName": o.first_name, "lastName": o.last_name,
                "userId": o.user_id, "createdAt": "2025-01-06T09:00:00.000Z", "updatedAt": "2026-06-01T09:00:00.000Z", "archived": false}))
            .collect();
        HttpResponse::Ok().json(json!({"results": results}))
    })
    .await
}

/// Forms API v1: newest first, `limit` 1–50 (default 20), paging via `after`.
async fn form_submissions(
    sb: web::Data<Sandbox>,
    req: HttpRequest,
    path: web::Path<String>,
) -> HttpResponse {
    gate::serve(&sb, &req, FORMS, |_| async {
        let limit: usize = query_list(&req, "limit")
            .first()
            .and_then(|l| l.parse().ok())
            .unwrap_or(20);
        if !(1..=50).contains(&limit) {
            return hubspot_invalid("limit must be between 1 and 50", "INVALID_LIMIT", json!({}));
        }
        let after: usize = query_list(&req, "after")
            .first()
            .and_then(|a| a.parse().ok())
            .unwrap_or(0);
        let world = sb.lock_world();
        let mut all: Vec<&Value> = world
            .hubspot
            .form_submissions
            .iter()
            .filter(|s| s.get("formGuid").and_then(Value::as_str) == Some(path.as_str()))
            .collect();
        all.sort_by_key(|s| {
            std::cmp::Reverse(s.get("submittedAt").and_then(Value::as_i64).unwrap_or(0))
        });
        let page: Vec<&Value> = all.iter().skip(after).take(limit).copied().collect();
        let mut body = json!({"results": page});
        if after + limit < all.len() {
            body["paging"] = json!({"next": {"after": (after + limit).to_string()}});
        }
        HttpResponse::Ok().json(body)
    })
    .await
}
