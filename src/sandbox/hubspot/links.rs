//! Associations (v3 and v4 lists, the v4 default PUT), owners, and the Forms
//! API submissions list.

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

use super::{ASSOC_LIST, ASSOC_PUT, FORMS, OWNERS, now, query_list, unknown_type};
use crate::sandbox::Sandbox;
use crate::sandbox::gate;
use crate::sandbox::respond::{hubspot_invalid, hubspot_not_found};
use crate::sandbox::state::ObjectType;

pub(super) async fn list_associations_v3(
    sb: web::Data<Sandbox>,
    req: HttpRequest,
    path: web::Path<(String, String, String)>,
) -> HttpResponse {
    list_associations(sb, req, path.into_inner(), false).await
}

pub(super) async fn list_associations_v4(
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

pub(super) async fn put_association(
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

pub(super) async fn owners(sb: web::Data<Sandbox>, req: HttpRequest) -> HttpResponse {
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
pub(super) async fn form_submissions(
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
