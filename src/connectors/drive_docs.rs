//! A Google Doc made by upload: what it is (name, folder, app properties, HTML),
//! the metadata part that asks Drive to convert it, the upload's query, and the
//! `multipart/related` body that carries both parts.

use std::collections::BTreeMap;

use super::drive::CREATED_FIELDS;

/// The MIME type Drive converts an uploaded HTML document into.
pub const GOOGLE_DOC: &str = "application/vnd.google-apps.document";

/// A Google Doc to create from HTML, in one folder, tagged with app properties
/// so it can be found again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDoc {
    pub name: String,
    pub folder_id: String,
    pub app_properties: BTreeMap<String, String>,
    pub html: String,
}

/// The metadata part of a doc's upload: Drive converts the HTML media part into
/// a Google Doc because the metadata names that type.
pub fn doc_metadata(doc: &NewDoc) -> serde_json::Value {
    serde_json::json!({
        "name": doc.name,
        "mimeType": GOOGLE_DOC,
        "parents": [doc.folder_id],
        "appProperties": doc.app_properties,
    })
}

/// The query of a doc's upload. `ignoreDefaultVisibility` keeps a domain's
/// "visible to everyone in the domain" default off the file: a brief is for the
/// rep, not the company.
pub const CREATE_QUERY: [(&str, &str); 4] = [
    ("uploadType", "multipart"),
    ("fields", CREATED_FIELDS),
    ("supportsAllDrives", "true"),
    ("ignoreDefaultVisibility", "true"),
];

/// A `multipart/related` body (RFC 2387, as Drive's multipart upload takes it):
/// the JSON metadata, then the media. reqwest's multipart support is
/// `multipart/form-data` only, hence by hand. Returns the content type (with
/// its boundary) and the body.
pub fn multipart_related(
    metadata: &serde_json::Value,
    media_type: &str,
    media: &[u8],
) -> (String, Vec<u8>) {
    let json = metadata.to_string();
    // A random boundary that occurs in neither part (checked, not hoped).
    let mut boundary = format!("sales_agent_{}", uuid::Uuid::new_v4().simple());
    while json.contains(&boundary)
        || media
            .windows(boundary.len())
            .any(|w| w == boundary.as_bytes())
    {
        boundary = format!("sales_agent_{}", uuid::Uuid::new_v4().simple());
    }
    let mut body = Vec::with_capacity(json.len() + media.len() + 256);
    body.extend_from_slice(
        format!("--{boundary}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n").as_bytes(),
    );
    body.extend_from_slice(json.as_bytes());
    body.extend_from_slice(
        format!("\r\n--{boundary}\r\nContent-Type: {media_type}\r\n\r\n").as_bytes(),
    );
    body.extend_from_slice(media);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/related; boundary={boundary}"), body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_multipart_related_body_has_the_metadata_then_the_media() {
        let metadata = serde_json::json!({"name": "Brief"});
        let (content_type, body) = multipart_related(&metadata, "text/html", b"<p>Hi</p>");
        let boundary = content_type
            .strip_prefix("multipart/related; boundary=")
            .expect("a boundary");
        let text = String::from_utf8(body).unwrap();
        assert_eq!(
            text,
            format!(
                "--{boundary}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n{{\"name\":\"Brief\"}}\r\n--{boundary}\r\nContent-Type: text/html\r\n\r\n<p>Hi</p>\r\n--{boundary}--\r\n"
            )
        );
        assert_eq!(
            text.matches(boundary).count(),
            3,
            "the boundary is in no part"
        );
    }
}
