//! Google Drive v3 (real base `https://www.googleapis.com`): `files.list` with
//! `q`, `fields`, `pageSize`, `pageToken`; `files.get`; the File resource. Uploads
//! are in `drive_create`, permissions in `drive_permissions`.

use std::collections::HashMap;

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::SecondsFormat;
use serde_json::{Map, Value, json};

use super::Sandbox;
use super::drive_query;
use super::fixture::DriveFileFixture as File;
use super::gate::{self, Cost, Endpoint, endpoint};
use super::respond::Provider;
use super::state::Drive as DriveState;

const G: Provider = Provider::Google;
pub(super) const GOOGLE_DOC: &str = "application/vnd.google-apps.document";
const LIST: Endpoint = endpoint("drive.files.list", G, Cost::Free);
const GET: Endpoint = endpoint("drive.files.get", G, Cost::Free);
/// Every field of Drive's File resource (from the v3 discovery document); a
/// selector may name any of them, and those a file lacks are left out.
pub(super) const FILE_FIELDS: &[&str] = &[
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
            web::post().to(super::drive_permissions::create),
        )
        .route(
            "/drive/v3/files/{id}/permissions",
            web::get().to(super::drive_permissions::list),
        )
        .route(
            "/upload/drive/v3/files",
            web::post().to(super::drive_create::create),
        );
}

pub(super) fn invalid(location: &str, message: &str) -> HttpResponse {
    HttpResponse::BadRequest().json(json!({"error": {"code": 400, "message": message, "status": "INVALID_ARGUMENT",
        "errors": [{"domain": "global", "reason": "invalid", "message": message, "locationType": "parameter", "location": location}]}}))
}

pub(super) fn not_found(id: &str) -> HttpResponse {
    let message = format!("File not found: {id}.");
    HttpResponse::NotFound().json(json!({"error": {"code": 404, "message": message, "status": "NOT_FOUND",
        "errors": [{"domain": "global", "reason": "notFound", "message": message, "locationType": "parameter", "location": "fileId"}]}}))
}

/// The file as Drive's `File` resource (every field the sandbox knows).
pub(super) fn resource(f: &File, drive: &DriveState) -> Map<String, Value> {
    let upload = drive.uploads.get(&f.id);
    let (created, modified) = match upload {
        Some(u) => {
            let at = u.created_time.to_rfc3339_opts(SecondsFormat::Millis, true);
            (at.clone(), at)
        }
        None => (
            "2026-03-02T09:00:00.000Z".to_string(),
            "2026-09-14T16:30:00.000Z".to_string(),
        ),
    };
    // Fixture files stand for collateral already shared around the company.
    let shared = upload.is_none()
        || drive
            .permissions
            .get(&f.id)
            .is_some_and(|ps| ps.iter().any(|p| p.role != "owner"));
    let v = json!({"kind": "drive#file", "id": f.id, "name": f.name, "mimeType": f.mime_type, "description": f.description,
        "parents": f.parents, "trashed": f.trashed, "starred": false, "shared": shared,
        "createdTime": created, "modifiedTime": modified,
        "iconLink": format!("https://drive-thirdparty.googleusercontent.com/16/type/{}", f.mime_type),
        "webViewLink": web_view_link(f, upload.is_some())});
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
    if let Some(u) = upload {
        out.insert(
            "owners".into(),
            json!([{"kind": "drive#user", "emailAddress": u.owner, "me": false}]),
        );
    }
    out
}

/// Where a person opens the file. Created Google Docs open in the Docs editor,
/// as Drive links them; fixture files keep the `/file/d/` form the catalogue
/// and its tests were written against.
fn web_view_link(f: &File, created: bool) -> String {
    match f.mime_type.as_str() {
        GOOGLE_DOC if created => format!("https://docs.google.com/document/d/{}/edit", f.id),
        _ => format!("https://drive.google.com/file/d/{}/view", f.id),
    }
}

pub(super) fn project(f: &File, fields: &[String], drive: &DriveState) -> Value {
    let all = resource(f, drive);
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
pub(super) fn file_fields(sel: &str) -> Result<Vec<String>, HttpResponse> {
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
            .map(|f| project(f, &per_file, &world.drive))
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
            Some(f) => HttpResponse::Ok().json(project(f, &fields, &world.drive)),
            None => not_found(&path),
        }
    })
    .await
}
