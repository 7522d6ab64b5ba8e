//! Batch endpoints: the contact upsert by email (`new` flag per result) and
//! batch read (207 Multi-Status when some ids are missing).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::{Value, json};

use super::objects::lookup;
use super::rules::{check_properties, properties_of, property_error};
use super::search::render;
use super::{Action, P, UPSERT, now, op, unknown_type};
use crate::sandbox::Sandbox;
use crate::sandbox::gate;
use crate::sandbox::respond::{hubspot_invalid, json_body};
use crate::sandbox::state::{CrmObject, ObjectType};

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

pub(super) async fn upsert_contacts(
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
            if let Err(e) = check_properties(hs, ObjectType::Contacts, &props, true) {
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

pub(super) async fn batch_read(
    sb: web::Data<Sandbox>,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let Some(t) = ObjectType::parse(&path) else {
        return unknown_type(&path);
    };
    gate::serve(&sb, &req, op(t, Action::BatchRead), |_| async {
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
