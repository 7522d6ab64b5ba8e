//! Drive v3 `files.create` by multipart upload (real URL
//! `POST https://www.googleapis.com/upload/drive/v3/files?uploadType=multipart`):
//! a `multipart/related` body of exactly two parts, the JSON metadata (a `File`
//! resource) and the media. Metadata naming `application/vnd.google-apps.document`
//! over an HTML or plain-text media part converts it into a Google Doc, as Drive
//! does. The file lands in the caller's Drive (its owner permission) under one
//! existing folder, whose permissions it inherits.

use std::collections::{BTreeMap, HashMap};

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Map, Value};

use super::Sandbox;
use super::drive::{FILE_FIELDS, GOOGLE_DOC, file_fields, invalid, not_found, project};
use super::drive_permissions::permission_id;
use super::fixture::DriveFileFixture as File;
use super::gate::{self, Cost, Endpoint, endpoint};
use super::respond::{self, Provider, google_bad_request};
use super::state::{Permission, Upload};

const CREATE: Endpoint = endpoint("drive.files.create", Provider::Google, Cost::Free);
const FOLDER: &str = "application/vnd.google-apps.folder";
/// Media types Drive converts into a Google Doc.
const DOC_SOURCES: &[&str] = &["text/html", "text/plain"];
/// Drive: "Maximum of 124 bytes size per property (including both key and value)".
const PROPERTY_BYTES: usize = 124;

pub(super) async fn create(
    sb: web::Data<Sandbox>,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    let (sb, req) = (sb.get_ref(), &req);
    gate::serve(sb, req, CREATE, |principal| async move {
        let q: HashMap<String, String> =
            serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
        match q.get("uploadType").map(String::as_str) {
            Some("multipart") => {}
            None => {
                return google_bad_request(
                    "Upload requests must include an uploadType URL parameter and a URL path beginning with /upload/",
                );
            }
            Some(other) => {
                return invalid(
                    "uploadType",
                    &format!("Invalid upload type {other:?}: this sandbox takes uploadType=multipart"),
                );
            }
        }
        let fields = match q.get("fields") {
            None => vec!["kind".into(), "id".into(), "name".into(), "mimeType".into()],
            Some(sel) => match file_fields(sel) {
                Ok(f) => f,
                Err(e) => return e,
            },
        };
        let Parts {
            metadata,
            media_type,
            media,
        } = match read_parts(req, &body) {
            Ok(parts) => parts,
            Err(e) => return e,
        };
        let mut file = match file_of(&metadata, &media_type, &media) {
            Ok(f) => f,
            Err(e) => return e,
        };
        let owner = principal.email().to_ascii_lowercase();
        let mut world = sb.lock_world();
        if file.parents.len() > 1 {
            return respond::google(StatusCode::FORBIDDEN, "PERMISSION_DENIED", "global", "cannotAddParent",
                "Increasing the number of parents is not allowed.");
        }
        let mut inherited = Vec::new();
        for parent in &file.parents {
            if !world.drive.files.iter().any(|f| f.id == *parent && f.mime_type == FOLDER && !f.trashed) {
                return not_found(parent);
            }
            inherited.extend(
                world.drive.permissions.get(parent).into_iter().flatten()
                    .filter(|p| p.role != "owner")
                    .cloned(),
            );
        }
        file.id = format!("1{:032x}", u128::from(super::faults::fnv1a(&owner)) << 64 | u128::from(world.serial()));
        let mut permissions = vec![Permission {
            id: permission_id("user", &owner),
            role: "owner".into(),
            kind: "user".into(),
            email_address: Some(owner.clone()),
            domain: None,
            notified: false,
        }];
        permissions.extend(inherited);
        world.drive.permissions.insert(file.id.clone(), permissions);
        world.drive.uploads.insert(file.id.clone(), Upload {
            owner,
            created_time: sb.clock.now_utc(),
            content: String::from_utf8_lossy(&media).into_owned(),
        });
        let out = project(&file, &fields, &world.drive);
        world.drive.files.push(file);
        HttpResponse::Ok().json(out)
    })
    .await
}

/// The two parts of a multipart upload.
struct Parts {
    /// The metadata, a JSON object.
    metadata: Map<String, Value>,
    media_type: String,
    media: Vec<u8>,
}

/// The metadata, the media's type and the media, from a `multipart/related` body.
fn read_parts(req: &HttpRequest, body: &[u8]) -> Result<Parts, HttpResponse> {
    let content_type = req
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let (kind, params) = content_type.split_once(';').unwrap_or((content_type, ""));
    let boundary = params.split(';').find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| v.trim().trim_matches('"').to_string())
    });
    let Some(boundary) = boundary.filter(|_| kind.trim().eq_ignore_ascii_case("multipart/related"))
    else {
        return Err(google_bad_request(
            "Bad content type. Please use multipart.",
        ));
    };
    let malformed = || google_bad_request("Malformed multipart body.");
    let parts = split_parts(body, &boundary).ok_or_else(malformed)?;
    let [(meta_type, meta), (media_type, media)] = parts.as_slice() else {
        return Err(google_bad_request(
            "Multipart upload must have exactly two parts: metadata and media.",
        ));
    };
    if !media_type_is(meta_type, "application/json") {
        return Err(google_bad_request(
            "Metadata part must be application/json.",
        ));
    }
    let metadata = match serde_json::from_slice::<Value>(meta) {
        Ok(Value::Object(m)) => m,
        Ok(_) => {
            return Err(google_bad_request(
                "Invalid JSON payload received. Expected an object.",
            ));
        }
        Err(e) => {
            return Err(google_bad_request(&format!(
                "Invalid JSON payload received. {e}"
            )));
        }
    };
    Ok(Parts {
        metadata,
        media_type: media_type.clone(),
        media: media.to_vec(),
    })
}

fn media_type_is(content_type: &str, wanted: &str) -> bool {
    content_type
        .split(';')
        .next()
        .is_some_and(|t| t.trim().eq_ignore_ascii_case(wanted))
}

/// The body's parts as `(content type, content)`; `None` when it is not a
/// multipart body with that boundary.
fn split_parts<'a>(body: &'a [u8], boundary: &str) -> Option<Vec<(String, &'a [u8])>> {
    let delimiter = format!("--{boundary}");
    let start = find(body, delimiter.as_bytes())?;
    let mut rest = &body[start + delimiter.len()..];
    let mut parts = Vec::new();
    loop {
        if rest.starts_with(b"--") {
            return Some(parts);
        }
        rest = rest
            .strip_prefix(b"\r\n")
            .or_else(|| rest.strip_prefix(b"\n"))?;
        let end = find(rest, format!("\n{delimiter}").as_bytes())?;
        let part = &rest[..end];
        let part = part.strip_suffix(b"\r").unwrap_or(part);
        rest = &rest[end + 1 + delimiter.len()..];
        let (head, content) = match find(part, b"\r\n\r\n") {
            Some(i) => (&part[..i], &part[i + 4..]),
            None => {
                let i = find(part, b"\n\n")?;
                (&part[..i], &part[i + 2..])
            }
        };
        let head = std::str::from_utf8(head).ok()?;
        let content_type = head
            .lines()
            .find_map(|l| {
                let (name, value) = l.split_once(':')?;
                name.trim()
                    .eq_ignore_ascii_case("content-type")
                    .then(|| value.trim().to_string())
            })
            .unwrap_or_else(|| "text/plain".into());
        parts.push((content_type, content));
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The file the metadata and media describe (its id is given later).
fn file_of(
    metadata: &Map<String, Value>,
    media_type: &str,
    media: &[u8],
) -> Result<File, HttpResponse> {
    for key in metadata.keys() {
        if !FILE_FIELDS.contains(&key.as_str()) {
            return Err(google_bad_request(&format!(
                "Invalid JSON payload received. Unknown name \"{key}\": Cannot find field."
            )));
        }
    }
    let text = |key: &str| -> Result<Option<String>, HttpResponse> {
        match metadata.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(invalid(
                key,
                &format!("Invalid value for {key}: expected a string"),
            )),
        }
    };
    let media_kind = media_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let mime_type = text("mimeType")?.unwrap_or_else(|| media_kind.clone());
    if mime_type == GOOGLE_DOC && !DOC_SOURCES.contains(&media_kind.as_str()) {
        return Err(google_bad_request(&format!(
            "Conversion of {media_kind} to a Google Doc is not supported."
        )));
    }
    let parents = match metadata.get("parents") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(ids)) => ids
            .iter()
            .map(|v| v.as_str().map(str::to_string))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| invalid("parents", "Invalid value for parents: expected strings"))?,
        Some(_) => {
            return Err(invalid(
                "parents",
                "Invalid value for parents: expected a list",
            ));
        }
    };
    let mut app_properties = BTreeMap::new();
    match metadata.get("appProperties") {
        None | Some(Value::Null) => {}
        Some(Value::Object(map)) => {
            for (k, v) in map {
                let Some(v) = v.as_str() else {
                    return Err(invalid(
                        "appProperties",
                        "Invalid value for appProperties: expected strings",
                    ));
                };
                if k.len() + v.len() > PROPERTY_BYTES {
                    return Err(invalid(
                        "appProperties",
                        &format!(
                            "The size of a property key and value may not exceed {PROPERTY_BYTES} bytes."
                        ),
                    ));
                }
                app_properties.insert(k.clone(), v.to_string());
            }
        }
        Some(_) => {
            return Err(invalid(
                "appProperties",
                "Invalid value for appProperties: expected an object",
            ));
        }
    }
    let content = String::from_utf8_lossy(media);
    Ok(File {
        id: String::new(),
        name: text("name")?.unwrap_or_else(|| "Untitled".into()),
        mime_type,
        description: text("description")?.unwrap_or_default(),
        parents,
        trashed: false,
        // What `fullText contains` searches: the document's words, not its markup.
        text: if media_kind == "text/html" {
            strip_tags(&content)
        } else {
            content.into_owned()
        },
        properties: BTreeMap::new(),
        app_properties,
    })
}

fn strip_tags(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    html_escape::decode_html_entities(&out)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_multipart_related_body_splits_into_its_two_parts() {
        let body = b"--xyz\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n{\"name\":\"a\"}\r\n--xyz\r\nContent-Type: text/html\r\n\r\n<p>Hi\r\n--xy</p>\r\n--xyz--\r\n";
        let parts = split_parts(body, "xyz").unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].0, "application/json; charset=UTF-8");
        assert_eq!(parts[0].1, b"{\"name\":\"a\"}");
        assert_eq!(parts[1].0, "text/html");
        assert_eq!(parts[1].1, b"<p>Hi\r\n--xy</p>");
        assert!(split_parts(b"no boundary here", "xyz").is_none());
        assert!(split_parts(b"--xyz\r\nContent-Type: a/b\r\n\r\nunterminated", "xyz").is_none());
    }

    #[test]
    fn html_becomes_searchable_words() {
        assert_eq!(
            strip_tags("<h1>Brief</h1><p>Ana &amp; Co</p>"),
            "Brief Ana & Co"
        );
    }
}
