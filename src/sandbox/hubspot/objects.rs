//! CRM object endpoints: search, create, update, read, batch read and the
//! contact upsert by email.

use actix_web::http::StatusCode;

use actix_web::{HttpRequest, HttpResponse, web};

use serde::Deserialize;

use serde_json::{Value, json};

use super::rules::{check_properties, properties_of};

use super::search::{self, SearchRequest, render};

use super::{Action, P, now, op, query_list, unknown_type};

use crate::sandbox::Sandbox;

use crate::sandbox::gate;

use crate::sandbox::respond::{self, hubspot_invalid, hubspot_not_found, json_body};

use crate::sandbox::state::{CrmObject, HubSpot, ObjectType};

pub(super) async fn search_objects(
    sb: web::Data<Sandbox>,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let Some(t) = ObjectType::parse(&path) else {
        return unknown_type(&path);
    };
    gate::serve(&sb, &req, op(t, Action::Search), |_| async {
        let request: SearchRequest = match json_body(P, &req, &body) {
            Ok(r) => r,
            Err(e) => return e,
        };
        if let Err(message) = search::validate(&request) {
            return hubspot_invalid(&message, "INVALID_SEARCH", json!({}));
        }
        let world = sb.lock_world();
        // Search is eventually consistent: records newer than the lag are not
        // indexed yet.
        let lag = chrono::Duration::milliseconds(
            i64::try_from(world.hubspot.search_lag_ms).unwrap_or(i64::MAX),
        );
        let indexed_before = now(&sb) - lag;
        let visible = world
            .hubspot
            .objects(t)
            .filter(|o| o.created_at <= indexed_before);
        let hs = &world.hubspot;
        let links = |id: u64, to: ObjectType| -> Vec<u64> {
            hs.associated(t, id, to).iter().map(|a| a.to_id).collect()
        };
        HttpResponse::Ok().json(search::run(t, visible, &links, &request))
    })
    .await
}

/// Property values arrive as strings, numbers or booleans; HubSpot stores text.
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
        ObjectType::Emails,
        ObjectType::Meetings,
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

pub(super) async fn create_object(
    sb: web::Data<Sandbox>,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let Some(t) = ObjectType::parse(&path) else {
        return unknown_type(&path);
    };
    gate::serve(&sb, &req, op(t, Action::Create), |_| async {
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
        if let Err(e) = check_properties(hs, t, &props, true) {
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

/// Finds an object by id, or by a unique property when `idProperty` is given.
pub(super) fn lookup(
    hs: &HubSpot,
    t: ObjectType,
    id: &str,
    id_property: Option<&str>,
) -> Option<CrmObject> {
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

pub(super) async fn get_object(
    sb: web::Data<Sandbox>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    let (type_name, id) = path.into_inner();
    let Some(t) = ObjectType::parse(&type_name) else {
        return unknown_type(&type_name);
    };
    gate::serve(&sb, &req, op(t, Action::Get), |_| async {
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

/// `PATCH /crm/v3/objects/{type}/{id}`: merges properties into an existing record.
pub(super) async fn update_object(
    sb: web::Data<Sandbox>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: web::Bytes,
) -> HttpResponse {
    let (type_name, id) = path.into_inner();
    let Some(t) = ObjectType::parse(&type_name) else {
        return unknown_type(&type_name);
    };
    gate::serve(&sb, &req, op(t, Action::Update), |_| async {
        let input: Value = match json_body(P, &req, &body) {
            Ok(v) => v,
            Err(e) => return e,
        };
        let props = match properties_of(input.get("properties")) {
            Ok(p) => p,
            Err(e) => return e,
        };
        let id_property = query_list(&req, "idProperty").into_iter().next();
        let at = now(&sb);
        let mut world = sb.lock_world();
        let hs = &mut world.hubspot;
        if let Err(e) = check_properties(hs, t, &props, false) {
            return e;
        }
        let Some(found) = lookup(hs, t, &id, id_property.as_deref()) else {
            return hubspot_not_found();
        };
        let Some(object) = hs.objects.get_mut(&t).and_then(|m| m.get_mut(&found.id)) else {
            return hubspot_not_found();
        };
        let names: Vec<String> = props.keys().cloned().collect();
        object.properties.extend(props);
        object.updated_at = at;
        HttpResponse::Ok().json(render(object, t, &names))
    })
    .await
}

/// `GET /crm/v3/objects/{type}`: a page of records by id, `limit` ≤ 100.
pub(super) async fn list_objects(
    sb: web::Data<Sandbox>,
    req: HttpRequest,
    path: web::Path<String>,
) -> HttpResponse {
    let Some(t) = ObjectType::parse(&path) else {
        return unknown_type(&path);
    };
    gate::serve(&sb, &req, op(t, Action::List), |_| async {
        let limit = match query_list(&req, "limit")
            .first()
            .map(|l| l.parse::<usize>())
        {
            None => 10,
            Some(Ok(n)) if (1..=100).contains(&n) => n,
            _ => {
                return hubspot_invalid(
                    "limit must be between 1 and 100",
                    "INVALID_LIMIT",
                    json!({}),
                );
            }
        };
        let request = SearchRequest {
            properties: query_list(&req, "properties"),
            limit: Some(limit),
            after: query_list(&req, "after")
                .into_iter()
                .next()
                .map(Value::String),
            ..SearchRequest::default()
        };
        let world = sb.lock_world();
        let none = |_: u64, _: ObjectType| -> Vec<u64> { Vec::new() };
        let mut body = search::run(t, world.hubspot.objects(t), &none, &request);
        if let Some(page) = body.as_object_mut() {
            // The list endpoint reports no total, unlike search.
            page.remove("total");
        }
        HttpResponse::Ok().json(body)
    })
    .await
}
