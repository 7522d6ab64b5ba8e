//! Google Drive v3 (real base `https://www.googleapis.com`): `files.list` with
//! `q`, `fields`, `pageSize`, `pageToken`; `files.get`; `permissions.create`
//! (role, type and address validated; the same grantee again updates in place).

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::Sandbox;
use super::drive_query;
use super::fixture::DriveFileFixture as File;
use super::gate::{self, Cost, Endpoint, endpoint};
use super::respond::{self, Provider, google_bad_request, json_body};
use super::state::Permission;

const G: Provider = Provider::Google;
const LIST: Endpoint = endpoint("drive.files.list", G, Cost::Free);
const GET: Endpoint = endpoint("drive.files.get", G, Cost::Free);
const PERMISSIONS: Endpoint = endpoint("drive.permissions.create", G, Cost::Free);
/// Every field of Drive's File resource (from the v3 discovery document); a
/// selector may name any of them, and those a file lacks are left out.
const FILE_FIELDS: &[&str] = &[
    "appProperties",
    "capabilities",
    "clientEncryptionDetails",
    "contentHints",
    "contentRestrictions",
    "copyRequiresWriterPermission",
    "createdTime",
    "description",
    "downloadRestrictions",
    "driveId",
    "explicitlyTrashed",
    "exportLinks",
    "fileExtension",
    "folderColorRgb",
    "fullFileExtension",
    "hasAugmentedPermissions",
    "hasThumbnail",
    "headRevisionId",
    "iconLink",
    "id",
    "imageMediaMetadata",
    "inheritedPermissionsDisabled",
    "isAppAuthorized",
    "kind",
    "labelInfo",
    "lastModifyingUser",
    "linkShareMetadata",
    "md5Checksum",
    "mimeType",
    "modifiedByMe",
    "modifiedByMeTime",
    "modifiedTime",
    "name",
    "originalFilename",
    "ownedByMe",
    "owners",
    "parents",
    "permissionIds",
    "permissions",
    "properties",
    "quotaBytesUsed",
    "resourceKey",
    "sha1Checksum",
    "sha256Checksum",
    "shared",
    "sharedWithMeTime",
    "sharingUser",
    "shortcutDetails",
    "size",
    "spaces",
    "starred",
    "teamDriveId",
    "thumbnailLink",
    "thumbnailVersion",
    "trashed",
    "trashedTime",
    "trashingUser",
    "version",
    "videoMediaMetadata",
    "viewedByMe",
    "viewedByMeTime",
    "viewersCanCopyContent",
    "webContentLink",
    "webViewLink",
    "writersCanShare",
];

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/drive/v3/files", web::get().to(list))
        .route("/drive/v3/files/{id}", web::get().to(get))
        .route(
            "/drive/v3/files/{id}/permissions",
            web::post().to(create_permission),
        );
}

fn invalid(location: &str, message: &str) -> HttpResponse {
    HttpResponse::BadRequest().json(json!({"error": {"code": 400, "message": message, "status": "INVALID_ARGUMENT",
        "errors": [{"domain": "global", "reason": "invalid", "message": message, "locationType": "parameter", "location": location}]}}))
}

fn not_found(id: &str) -> HttpResponse {
    let message = format!("File not found: {id}.");
    HttpResponse::NotFound().json(json!({"error": {"code": 404, "message": message, "status": "NOT_FOUND",
        "errors": [{"domain": "global", "reason": "notFound", "message": message, "locationType": "parameter", "location": "fileId"}]}}))
}

fn resource(f: &File) -> Map<String, Value> {
    let v = json!({"kind": "drive#file", "id": f.id, "name": f.name, "mimeType": f.mime_type, "description": f.description,
        "parents": f.parents, "trashed": f.trashed, "starred": false, "shared": true,
        "createdTime": "2026-03-02T09:00:00.000Z", "modifiedTime": "2026-09-14T16:30:00.000Z",
        "iconLink": format!("https://drive-thirdparty.googleusercontent.com/16/type/{}", f.mime_type),
        "webViewLink": format!("https://drive.google.com/file/d/{}/view", f.id)});
    let mut out = v.as_object().cloned().unwrap_or_default();
    // Drive leaves out the property maps of a file that has none.
    for (key, map) in [
        ("properties", &f.properties),
        ("appProperties", &f.app_properties),
    ] {
        if !map.is_empty() {
            out.insert(key.into(), json!(map));
        }
    }
    out
}

fn project(f: &File, fields: &[String]) -> Value {
    let all = resource(f);
    Value::Object(
        all.into_iter()
            .filter(|(k, _)| {
                fields
                    .iter()
                    .any(|x| x == "*" || x.split(['(', '/']).next() == Some(k.as_str()))
            })
            .collect(),
    )
}

/// Splits a `fields` selector on top-level commas: `nextPageToken,files(id,name)`.
fn split_top(s: &str) -> Vec<String> {
    let (mut out, mut depth, mut cur) = (Vec::new(), 0, String::new());
    for c in s.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(std::mem::take(&mut cur).trim().to_string());
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    if !cur.trim().is_empty() {
        out.push(cur.trim().to_string());
    }
    out
}

/// The file fields a selector asks for, checked against the file resource.
fn file_fields(sel: &str) -> Result<Vec<String>, HttpResponse> {
    let fields: Vec<String> = split_top(sel);
    for f in &fields {
        // `owners(emailAddress)` and `owners/emailAddress` select inside a field.
        let base = f.split(['(', '/']).next().unwrap_or_default();
        if f != "*" && !FILE_FIELDS.contains(&base) {
            return Err(invalid("fields", &format!("Invalid field selection {f}")));
        }
    }
    Ok(fields)
}

async fn list(sb: web::Data<Sandbox>, req: HttpRequest) -> HttpResponse {
    let (sb, req) = (sb.get_ref(), &req);
    gate::serve(sb, req, LIST, |_| async move {
        let q: HashMap<String, String> =
            serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
        let clauses = match drive_query::parse(q.get("q").map_or("", String::as_str)) {
            Ok(c) => c,
            Err(e) => return invalid("q", &format!("Invalid Value: {e}")),
        };
        let size = match q.get("pageSize").map(|s| s.parse::<usize>()) {
            None => 100,
            Some(Ok(n)) if (1..=1000).contains(&n) => n,
            _ => return invalid("pageSize", "Invalid Value"),
        };
        let offset = match q.get("pageToken").map(|s| s.parse::<usize>()) {
            None => 0,
            Some(Ok(n)) => n,
            Some(Err(_)) => return invalid("pageToken", "Invalid Value"),
        };
        let (top, per_file) = match q.get("fields") {
            None => (
                vec![
                    "kind".to_string(),
                    "incompleteSearch".into(),
                    "nextPageToken".into(),
                    "files".into(),
                ],
                vec!["kind".into(), "id".into(), "name".into(), "mimeType".into()],
            ),
            Some(sel) => {
                let mut top = Vec::new();
                let mut per_file = Vec::new();
                for part in split_top(sel) {
                    if let Some(inner) = part
                        .strip_prefix("files(")
                        .and_then(|p| p.strip_suffix(')'))
                    {
                        per_file = match file_fields(inner) {
                            Ok(f) => f,
                            Err(e) => return e,
                        };
                        top.push("files".into());
                    } else if part == "files" || part == "*" {
                        per_file = vec!["*".into()];
                        top.push(part);
                    } else if matches!(part.as_str(), "kind" | "nextPageToken" | "incompleteSearch")
                    {
                        top.push(part);
                    } else {
                        return invalid("fields", &format!("Invalid field selection {part}"));
                    }
                }
                (top, per_file)
            }
        };
        let world = sb.lock_world();
        let hits: Vec<&File> = world
            .drive
            .files
            .iter()
            .filter(|f| drive_query::matches(&clauses, f))
            .collect();
        let files: Vec<Value> = hits
            .iter()
            .skip(offset)
            .take(size)
            .map(|f| project(f, &per_file))
            .collect();
        let mut body = Map::new();
        let wants = |k: &str| top.iter().any(|t| t == k || t == "*");
        if wants("kind") {
            body.insert("kind".into(), json!("drive#fileList"));
        }
        if wants("incompleteSearch") {
            body.insert("incompleteSearch".into(), json!(false));
        }
        if wants("nextPageToken") && offset + size < hits.len() {
            body.insert("nextPageToken".into(), json!((offset + size).to_string()));
        }
        if wants("files") {
            body.insert("files".into(), Value::Array(files));
        }
        HttpResponse::Ok().json(Value::Object(body))
    })
    .await
}

async fn get(sb: web::Data<Sandbox>, req: HttpRequest, path: web::Path<String>) -> HttpResponse {
    let (sb, req) = (sb.get_ref(), &req);
    gate::serve(sb, req, GET, |_| async move {
        let q: HashMap<String, String> =
            serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
        let fields = match q.get("fields") {
            None => vec!["kind".into(), "id".into(), "name".into(), "mimeType".into()],
            Some(sel) => match file_fields(sel) {
                Ok(f) => f,
                Err(e) => return e,
            },
        };
        let world = sb.lock_world();
        match world.drive.files.iter().find(|f| f.id == *path) {
            Some(f) => HttpResponse::Ok().json(project(f, &fields)),
            None => not_found(&path),
        }
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

async fn create_permission(
    sb: web::Data<Sandbox>,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let (sb, req) = (sb.get_ref(), &req);
    gate::serve(sb, req, PERMISSIONS, |_| async move {
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
        list.push(permission);
        let mut out = json!({"kind": "drive#permission", "id": id, "type": kind, "role": role});
        if let Some(e) = email {
            out["emailAddress"] = json!(e);
        }
        HttpResponse::Ok().json(out)
    })
    .await
}

fn valid_email(e: &str) -> bool {
    let mut parts = e.split('@');
    matches!((parts.next(), parts.next(), parts.next()), (Some(l), Some(d), None) if !l.is_empty() && d.contains('.') && !d.starts_with('.') && !d.ends_with('.'))
}

/// Drive gives each grantee a stable numeric permission id; so does this.
fn permission_id(kind: &str, grantee: &str) -> String {
    if kind == "anyone" {
        return "anyoneWithLink".into();
    }
    format!("{:020}", super::faults::fnv1a(grantee))
}
