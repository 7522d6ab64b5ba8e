//! Drive v3 permissions (real base `https://www.googleapis.com`):
//! `permissions.create` (role, type and address validated; the same grantee
//! again updates in place) and `permissions.list` (who can open a file: its
//! owner when it was created here, what it inherited from its folder, and what
//! was granted since).

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::{Value, json};

use super::Sandbox;
use super::drive::{invalid, not_found};
use super::gate::{self, Cost, Endpoint, endpoint};
use super::respond::{self, Provider, google_bad_request, json_body};
use super::state::Permission;

const G: Provider = Provider::Google;
const CREATE: Endpoint = endpoint("drive.permissions.create", G, Cost::Free);
const LIST: Endpoint = endpoint("drive.permissions.list", G, Cost::Free);

/// The permission as Drive's `Permission` resource.
pub(super) fn resource(p: &Permission) -> Value {
    let mut out = json!({"kind": "drive#permission", "id": p.id, "type": p.kind, "role": p.role});
    if let Some(e) = &p.email_address {
        out["emailAddress"] = json!(e);
    }
    if let Some(d) = &p.domain {
        out["domain"] = json!(d);
    }
    out
}

/// `GET /drive/v3/files/{id}/permissions`: one page (`pageSize` 1–100).
pub(super) async fn list(
    sb: web::Data<Sandbox>,
    req: HttpRequest,
    path: web::Path<String>,
) -> HttpResponse {
    let (sb, req) = (sb.get_ref(), &req);
    gate::serve(sb, req, LIST, |_| async move {
        let q: HashMap<String, String> =
            serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
        let size = match q.get("pageSize").map(|s| s.parse::<usize>()) {
            None => 100,
            Some(Ok(n)) if (1..=100).contains(&n) => n,
            _ => return invalid("pageSize", "Invalid Value"),
        };
        let offset = match q.get("pageToken").map(|s| s.parse::<usize>()) {
            None => 0,
            Some(Ok(n)) => n,
            Some(Err(_)) => return invalid("pageToken", "Invalid Value"),
        };
        let world = sb.lock_world();
        if !world.drive.files.iter().any(|f| f.id == *path) {
            return not_found(&path);
        }
        let all = world
            .drive
            .permissions
            .get(path.as_str())
            .cloned()
            .unwrap_or_default();
        let page: Vec<Value> = all.iter().skip(offset).take(size).map(resource).collect();
        let mut body = json!({"kind": "drive#permissionList", "permissions": page});
        if offset + size < all.len() {
            body["nextPageToken"] = json!((offset + size).to_string());
        }
        HttpResponse::Ok().json(body)
    })
    .await
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PermissionInput {
    role: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    email_address: Option<String>,
    domain: Option<String>,
}

pub(super) async fn create(
    sb: web::Data<Sandbox>,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let (sb, req) = (sb.get_ref(), &req);
    gate::serve(sb, req, CREATE, |_| async move {
        let q: HashMap<String, String> = serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
        let notify = match q.get("sendNotificationEmail").map(String::as_str) {
            None | Some("true") => true,
            Some("false") => false,
            Some(_) => return invalid("sendNotificationEmail", "Invalid Value"),
        };
        let input: PermissionInput = match json_body(G, req, &body) { Ok(v) => v, Err(e) => return e };
        let role = input.role.unwrap_or_default();
        let kind = input.kind.unwrap_or_default();
        if !["owner", "organizer", "fileOrganizer", "writer", "commenter", "reader"].contains(&role.as_str()) {
            return respond::google(StatusCode::BAD_REQUEST, "INVALID_ARGUMENT", "global", if role.is_empty() { "required" } else { "invalid" }, &format!("Invalid permission role: {role:?}"));
        }
        if !["user", "group", "domain", "anyone"].contains(&kind.as_str()) {
            return respond::google(StatusCode::BAD_REQUEST, "INVALID_ARGUMENT", "global", if kind.is_empty() { "required" } else { "invalid" }, &format!("Invalid permission type: {kind:?}"));
        }
        let email = input.email_address.map(|e| e.trim().to_ascii_lowercase());
        if matches!(kind.as_str(), "user" | "group") {
            match &email {
                None => return respond::google(StatusCode::BAD_REQUEST, "INVALID_ARGUMENT", "global", "required", "The permission emailAddress field is required for type user or group."),
                Some(e) if !valid_email(e) => return google_bad_request(&format!("Invalid email address: {e}")),
                _ => {}
            }
        }
        if kind == "domain" && input.domain.as_deref().is_none_or(str::is_empty) {
            return respond::google(StatusCode::BAD_REQUEST, "INVALID_ARGUMENT", "global", "required", "The permission domain field is required for type domain.");
        }
        if role == "owner" && q.get("transferOwnership").map(String::as_str) != Some("true") {
            return respond::google(StatusCode::FORBIDDEN, "PERMISSION_DENIED", "global", "forbidden", "The transferOwnership parameter must be enabled when the permission role is 'owner'.");
        }
        let mut world = sb.lock_world();
        if !world.drive.files.iter().any(|f| f.id == *path) {
            return not_found(&path);
        }
        let grantee = email.clone().or(input.domain.clone()).unwrap_or_else(|| "anyone".into());
        let id = permission_id(&kind, &grantee);
        let list = world.drive.permissions.entry(path.to_string()).or_default();
        list.retain(|p| p.id != id);
        let permission = Permission { id: id.clone(), role: role.clone(), kind: kind.clone(), email_address: email.clone(), domain: input.domain.clone(), notified: notify && matches!(kind.as_str(), "user" | "group") };
        let out = resource(&permission);
        list.push(permission);
        HttpResponse::Ok().json(out)
    })
    .await
}

fn valid_email(e: &str) -> bool {
    let mut parts = e.split('@');
    matches!((parts.next(), parts.next(), parts.next()), (Some(l), Some(d), None) if !l.is_empty() && d.contains('.') && !d.starts_with('.') && !d.ends_with('.'))
}

/// Drive gives each grantee a stable numeric permission id; so does this.
pub(super) fn permission_id(kind: &str, grantee: &str) -> String {
    if kind == "anyone" {
        return "anyoneWithLink".into();
    }
    format!("{:020}", super::faults::fnv1a(grantee))
}
