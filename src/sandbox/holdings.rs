//! `GET /_sandbox/state`: everything the sandbox holds, each record in its
//! provider's own JSON shape, for tests and for a person trying the demo —
//! per mailbox the Gmail drafts (`Draft` with a `full` `Message`) and sent mail
//! (`Message`), per calendar an `Events` list of `calendar#event` resources,
//! Drive's files (`drive#file`) with their permissions (`drive#permission`),
//! and HubSpot's CRM records by type (`SimplePublicObjectWithAssociations`).

use actix_web::{HttpResponse, web};
use serde_json::{Map, Value, json};

use super::Sandbox;
use super::hubspot::search;
use super::state::{ObjectType, World};

/// The CRM record types shown, in HubSpot's path names.
const CRM_TYPES: [ObjectType; 6] = [
    ObjectType::Contacts,
    ObjectType::Companies,
    ObjectType::Notes,
    ObjectType::Tasks,
    ObjectType::Meetings,
    ObjectType::Emails,
];

pub(super) async fn state(sb: web::Data<Sandbox>) -> HttpResponse {
    let world = sb.lock_world();
    HttpResponse::Ok().json(json!({
        "gmail": gmail(&world),
        "calendar": calendar(&world),
        "drive": drive(&world),
        "hubspot": hubspot(&world),
    }))
}

fn gmail(world: &World) -> Value {
    let mailboxes: Vec<Value> = world
        .mailboxes
        .values()
        .map(|mb| {
            let drafts: Vec<Value> = mb
                .drafts
                .iter()
                .filter_map(|(id, m)| {
                    let message = super::gmail::message_resource(mb.messages.get(m)?);
                    Some(json!({"id": id, "message": message}))
                })
                .collect();
            let sent: Vec<Value> = mb
                .messages
                .values()
                .filter(|m| m.label_ids.iter().any(|l| l == "SENT"))
                .map(super::gmail::message_resource)
                .collect();
            json!({"emailAddress": mb.email, "drafts": drafts, "sent": sent})
        })
        .collect();
    json!({ "mailboxes": mailboxes })
}

fn calendar(world: &World) -> Value {
    let calendars: Vec<Value> = world
        .calendars
        .values()
        .map(|c| {
            let mut events: Vec<_> = c.events.values().collect();
            events.sort_by_key(|e| (e.start, e.id.clone()));
            let items: Vec<&Value> = events.iter().map(|e| &e.resource).collect();
            json!({"kind": "calendar#events", "summary": c.id, "timeZone": c.time_zone, "items": items})
        })
        .collect();
    json!({ "calendars": calendars })
}

fn drive(world: &World) -> Value {
    let files: Vec<Value> = world
        .drive
        .files
        .iter()
        .map(|f| Value::Object(super::drive::resource(f, &world.drive)))
        .collect();
    let permissions: Map<String, Value> = world
        .drive
        .permissions
        .iter()
        .map(|(id, list)| {
            let list: Vec<Value> = list
                .iter()
                .map(super::drive_permissions::resource)
                .collect();
            (
                id.clone(),
                json!({"kind": "drive#permissionList", "permissions": list}),
            )
        })
        .collect();
    json!({"kind": "drive#fileList", "files": files, "permissions": permissions})
}

fn hubspot(world: &World) -> Value {
    let hs = &world.hubspot;
    let by_type: Map<String, Value> = CRM_TYPES
        .iter()
        .map(|&t| {
            let results: Vec<Value> = hs
                .objects(t)
                .map(|o| {
                    let names: Vec<String> = o.properties.keys().cloned().collect();
                    let mut record = search::render(o, t, &names);
                    let mut associations = Map::new();
                    for to in CRM_TYPES {
                        let linked: Vec<Value> = hs
                            .associated(t, o.id, to)
                            .iter()
                            .map(|a| json!({"id": a.to_id.to_string(), "type": format!("{}_to_{}", t.singular(), to.singular())}))
                            .collect();
                        if !linked.is_empty() {
                            associations.insert(plural(to), json!({ "results": linked }));
                        }
                    }
                    if !associations.is_empty() {
                        record["associations"] = Value::Object(associations);
                    }
                    record
                })
                .collect();
            (plural(t), json!({ "results": results }))
        })
        .collect();
    Value::Object(by_type)
}

fn plural(t: ObjectType) -> String {
    serde_json::to_value(t)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}
