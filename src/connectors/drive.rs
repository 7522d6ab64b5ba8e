//! Drive v3: listing collateral with a `q` from `query::DriveQuery` (paged, with the
//! fields we read), and sharing a file with a prospect without Drive's own
//! notification email (the reply itself carries the link). For meeting briefs:
//! creating a Google Doc from HTML by multipart upload (Drive converts it), reading
//! a file, and listing a file's permissions (who can open it).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use serde::Deserialize;

use super::error::ConnectorError;
use super::google_auth::GoogleTokens;
use super::http::Endpoint;
use super::limiter::RateCost;
use super::query::DriveQuery;

pub const FILES_LIST: Endpoint = Endpoint {
    id: "drive.files.list",
    method: "GET",
    path: "drive/v3/files",
    query: &[
        "q",
        "fields",
        "pageSize",
        "pageToken",
        "supportsAllDrives",
        "includeItemsFromAllDrives",
        "corpora",
    ],
    body: &[],
    idempotent: true,
};
pub const PERMISSIONS_CREATE: Endpoint = Endpoint {
    id: "drive.permissions.create",
    method: "POST",
    path: "drive/v3/files/{fileId}/permissions",
    query: &["sendNotificationEmail", "supportsAllDrives"],
    body: &["role", "type", "emailAddress"],
    idempotent: true,
};

/// A create with no client-chosen id: a retried upload makes a second file, so
/// the caller looks for the first (by its `appProperties`) before trying again.
pub const FILES_CREATE: Endpoint = Endpoint {
    id: "drive.files.create",
    method: "POST",
    path: "upload/drive/v3/files",
    query: &[
        "uploadType",
        "fields",
        "supportsAllDrives",
        "ignoreDefaultVisibility",
    ],
    body: &[
        "name",
        "mimeType",
        "parents",
        "appProperties",
        "description",
    ],
    idempotent: false,
};
pub const FILES_GET: Endpoint = Endpoint {
    id: "drive.files.get",
    method: "GET",
    path: "drive/v3/files/{fileId}",
    query: &["fields", "supportsAllDrives"],
    body: &[],
    idempotent: true,
};
pub const PERMISSIONS_LIST: Endpoint = Endpoint {
    id: "drive.permissions.list",
    method: "GET",
    path: "drive/v3/files/{fileId}/permissions",
    query: &["fields", "pageSize", "pageToken", "supportsAllDrives"],
    body: &[],
    idempotent: true,
};

pub const ENDPOINTS: &[Endpoint] = &[
    FILES_LIST,
    PERMISSIONS_CREATE,
    FILES_CREATE,
    FILES_GET,
    PERMISSIONS_LIST,
];

/// The MIME type Drive converts an uploaded HTML document into.
pub const GOOGLE_DOC: &str = "application/vnd.google-apps.document";

/// The fields read back from a created or fetched file.
pub const CREATED_FIELDS: &str = "id,name,mimeType,webViewLink,parents,appProperties";

/// Only the fields the asset catalogue reads.
pub const FILE_FIELDS: &str = "nextPageToken,files(id,name,mimeType,webViewLink,description,modifiedTime,properties,appProperties)";

/// Drive's quota is per user: one request from the account's bucket.
pub fn cost(account: &str) -> RateCost {
    RateCost::units(account.to_ascii_lowercase(), 1)
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct File {
    pub id: String,
    pub name: String,
    pub mime_type: Option<String>,
    pub web_view_link: Option<String>,
    pub description: Option<String>,
    pub modified_time: Option<String>,
    /// Key-value pairs visible to all apps (tags may live here).
    pub properties: BTreeMap<String, String>,
    /// Key-value pairs private to this app (tags, preferred over `properties`).
    pub app_properties: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct FileList {
    pub files: Vec<File>,
    pub next_page_token: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Permission {
    pub id: String,
    pub role: Option<String>,
    /// `user`, `group`, `domain` or `anyone`.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub email_address: Option<String>,
    pub domain: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PermissionList {
    pub permissions: Vec<Permission>,
    pub next_page_token: Option<String>,
}

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

#[async_trait]
pub trait Drive: Send + Sync {
    /// One page of files matching `query`.
    async fn list_files(
        &self,
        account: &str,
        query: &DriveQuery,
        page_size: u32,
        page_token: Option<&str>,
    ) -> Result<FileList, ConnectorError>;
    /// Grants `reader` to `email` on `file_id`, without Drive's notification email.
    async fn share_with_reader(
        &self,
        account: &str,
        file_id: &str,
        email: &str,
    ) -> Result<Permission, ConnectorError>;
    /// Creates `doc` as a Google Doc in `account`'s Drive (multipart upload,
    /// converted from HTML).
    async fn create_doc(&self, account: &str, doc: &NewDoc) -> Result<File, ConnectorError>;
    /// One file's metadata.
    async fn get_file(&self, account: &str, file_id: &str) -> Result<File, ConnectorError>;
    /// Everyone who can open `file_id`, all pages.
    async fn list_permissions(
        &self,
        account: &str,
        file_id: &str,
    ) -> Result<Vec<Permission>, ConnectorError>;
}

/// The query of a share: Drive sends its own email to users unless told not to.
pub const SHARE_QUERY: [(&str, &str); 2] = [
    ("sendNotificationEmail", "false"),
    ("supportsAllDrives", "true"),
];

/// The body that grants `email` read access to a file.
pub fn reader_permission(email: &str) -> serde_json::Value {
    serde_json::json!({"role": "reader", "type": "user", "emailAddress": email})
}

pub struct DriveClient {
    http: reqwest::Client,
    base: String,
    tokens: Arc<GoogleTokens>,
    /// Drive applies only the last of concurrent permission changes on one file,
    /// so this process makes them one at a time per file.
    file_locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl DriveClient {
    /// `base` is `https://www.googleapis.com` in production.
    pub fn new(http: reqwest::Client, base: impl Into<String>, tokens: Arc<GoogleTokens>) -> Self {
        DriveClient {
            http,
            base: base.into(),
            tokens,
            file_locks: Mutex::default(),
        }
    }
}

#[async_trait]
impl Drive for DriveClient {
    async fn list_files(
        &self,
        account: &str,
        query: &DriveQuery,
        page_size: u32,
        page_token: Option<&str>,
    ) -> Result<FileList, ConnectorError> {
        let mut params = vec![
            ("q", query.build()),
            ("fields", FILE_FIELDS.to_string()),
            ("pageSize", page_size.clamp(1, 1000).to_string()),
            ("supportsAllDrives", "true".to_string()),
            ("includeItemsFromAllDrives", "true".to_string()),
        ];
        if let Some(token) = page_token {
            params.push(("pageToken", token.to_string()));
        }
        let url = FILES_LIST.url(&self.base, &[]);
        self.tokens
            .send_json(account, || {
                self.http.get(&url).query(FILES_LIST.query(&params))
            })
            .await
    }

    async fn share_with_reader(
        &self,
        account: &str,
        file_id: &str,
        email: &str,
    ) -> Result<Permission, ConnectorError> {
        let lock = self
            .file_locks
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entry(file_id.to_string())
            .or_default()
            .clone();
        let _one_at_a_time = lock.lock().await;
        let body = reader_permission(email);
        let url = PERMISSIONS_CREATE.url(&self.base, &[file_id]);
        self.tokens
            .send_json(account, || {
                self.http
                    .post(&url)
                    .query(PERMISSIONS_CREATE.query(&SHARE_QUERY))
                    .json(PERMISSIONS_CREATE.body(&body))
            })
            .await
    }

    async fn create_doc(&self, account: &str, doc: &NewDoc) -> Result<File, ConnectorError> {
        let metadata = doc_metadata(doc);
        let (content_type, body) = multipart_related(
            FILES_CREATE.body(&metadata),
            "text/html; charset=UTF-8",
            doc.html.as_bytes(),
        );
        let url = FILES_CREATE.url(&self.base, &[]);
        self.tokens
            .send_json(account, || {
                self.http
                    .post(&url)
                    .query(FILES_CREATE.query(&CREATE_QUERY))
                    .header(reqwest::header::CONTENT_TYPE, &content_type)
                    .body(body.clone())
            })
            .await
    }

    async fn get_file(&self, account: &str, file_id: &str) -> Result<File, ConnectorError> {
        let params = [("fields", CREATED_FIELDS), ("supportsAllDrives", "true")];
        let url = FILES_GET.url(&self.base, &[file_id]);
        self.tokens
            .send_json(account, || {
                self.http.get(&url).query(FILES_GET.query(&params))
            })
            .await
    }

    async fn list_permissions(
        &self,
        account: &str,
        file_id: &str,
    ) -> Result<Vec<Permission>, ConnectorError> {
        let mut all = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = self
                .permissions_page(account, file_id, token.as_deref())
                .await?;
            all.extend(page.permissions);
            match page.next_page_token.filter(|t| !t.is_empty()) {
                Some(next) => token = Some(next),
                None => return Ok(all),
            }
        }
    }
}

impl DriveClient {
    async fn permissions_page(
        &self,
        account: &str,
        file_id: &str,
        page_token: Option<&str>,
    ) -> Result<PermissionList, ConnectorError> {
        let mut params = vec![
            (
                "fields",
                "nextPageToken,permissions(id,type,role,emailAddress,domain)".to_string(),
            ),
            ("pageSize", "100".to_string()),
            ("supportsAllDrives", "true".to_string()),
        ];
        params.extend(page_token.map(|t| ("pageToken", t.to_string())));
        let url = PERMISSIONS_LIST.url(&self.base, &[file_id]);
        self.tokens
            .send_json(account, || {
                self.http.get(&url).query(PERMISSIONS_LIST.query(&params))
            })
            .await
    }
}
