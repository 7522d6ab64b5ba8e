//! Drive's multipart upload in the sandbox, over real HTTP: a Google Doc
//! converted from HTML in an existing folder, owned by the caller, found by
//! `appProperties has`, with its permissions; the refusals the real API gives;
//! and every field of its answers checked against Drive's discovery document.

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

use super::state::{BRIEFS, MULTIPART, brief_metadata, multipart, upload};
use super::{MAYA, body, demo, google_token, with_query};

#[actix_web::test]
async fn an_html_upload_becomes_a_google_doc_in_the_folder_owned_by_the_caller() {
    let sb = demo();
    let client = Client::new();
    let token = google_token(&client, &sb).await;
    let base = sb.base_url();
    let html = "<h1>Brief</h1><p>Ana &amp; Co</p>";
    let (status, file) = upload(
        &client,
        &base,
        &token,
        &MULTIPART,
        multipart(&brief_metadata("wf-9"), "text/html; charset=UTF-8", html),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{file}");
    let id = file["id"].as_str().unwrap();
    assert_eq!(file["mimeType"], "application/vnd.google-apps.document");
    assert_eq!(file["parents"], json!([BRIEFS]));
    assert_eq!(file["appProperties"]["salesAgentBrief"], "wf-9");
    assert_eq!(
        file["webViewLink"],
        format!("https://docs.google.com/document/d/{id}/edit")
    );
    assert_eq!(file["owners"][0]["emailAddress"], MAYA);
    // Found by its app property, and not once it is elsewhere in the query.
    let q = "appProperties has { key='salesAgentBrief' and value='wf-9' } and trashed = false";
    let (status, found) = body(
        client
            .get(with_query(
                &format!("{base}/drive/v3/files"),
                &[("q", q), ("fields", "files(id,name)")],
            ))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{found}");
    assert_eq!(
        found["files"],
        json!([{"id": id, "name": "Meeting brief: Ana"}])
    );
    // Its permissions: the owner only.
    let (status, permissions) = body(
        client
            .get(format!("{base}/drive/v3/files/{id}/permissions"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{permissions}");
    assert_eq!(permissions["kind"], "drive#permissionList");
    let list = permissions["permissions"].as_array().unwrap();
    assert_eq!(list.len(), 1, "{permissions}");
    assert_eq!(list[0]["role"], "owner");
    assert_eq!(list[0]["type"], "user");
    assert_eq!(list[0]["emailAddress"], MAYA);
    sb.stop().await;
}

#[actix_web::test]
async fn drive_refuses_uploads_the_real_api_refuses() {
    let sb = demo();
    let client = Client::new();
    let token = google_token(&client, &sb).await;
    let base = sb.base_url();
    let html = "<p>x</p>";
    let good = || multipart(&brief_metadata("wf-1"), "text/html", html);
    // (case, query, (content type, body), the status Drive answers)
    type Query = Vec<(&'static str, &'static str)>;
    type Payload = (String, String);
    let cases: Vec<(&str, Query, Payload, StatusCode)> = vec![
        ("no uploadType", vec![], good(), StatusCode::BAD_REQUEST),
        (
            "missing folder",
            MULTIPART.to_vec(),
            multipart(
                &json!({"name": "a", "parents": ["1NoSuchFolder"]}),
                "text/html",
                html,
            ),
            StatusCode::NOT_FOUND,
        ),
        (
            "a file is no folder",
            MULTIPART.to_vec(),
            multipart(
                &json!({"name": "a", "parents": ["1CaseStudyRetailUrbanMart000001"]}),
                "text/html",
                html,
            ),
            StatusCode::NOT_FOUND,
        ),
        (
            "two parents",
            MULTIPART.to_vec(),
            multipart(
                &json!({"parents": [BRIEFS, "1SalesCollateralFolder000000001"]}),
                "text/html",
                html,
            ),
            StatusCode::FORBIDDEN,
        ),
        (
            "unknown field",
            MULTIPART.to_vec(),
            multipart(&json!({"name": "a", "colour": "red"}), "text/html", html),
            StatusCode::BAD_REQUEST,
        ),
        (
            "no conversion from png",
            MULTIPART.to_vec(),
            multipart(
                &json!({"mimeType": "application/vnd.google-apps.document"}),
                "image/png",
                "x",
            ),
            StatusCode::BAD_REQUEST,
        ),
        (
            "oversized property",
            MULTIPART.to_vec(),
            multipart(
                &json!({"appProperties": {"k": "v".repeat(200)}}),
                "text/html",
                html,
            ),
            StatusCode::BAD_REQUEST,
        ),
        (
            "not multipart",
            MULTIPART.to_vec(),
            ("application/json".into(), "{}".into()),
            StatusCode::BAD_REQUEST,
        ),
        (
            "one part only",
            MULTIPART.to_vec(),
            (
                "multipart/related; boundary=b".into(),
                "--b\r\nContent-Type: application/json\r\n\r\n{}\r\n--b--\r\n".into(),
            ),
            StatusCode::BAD_REQUEST,
        ),
    ];
    for (case, query, payload, expected) in cases {
        let (status, error) = upload(&client, &base, &token, &query, payload).await;
        assert_eq!(status, expected, "{case}: {error}");
        assert_eq!(
            error["error"]["code"],
            expected.as_u16(),
            "{case}: Google's error shape {error}"
        );
    }
    assert!(
        sb.inspect(|w| w.drive.uploads.is_empty()),
        "nothing was created"
    );
    sb.stop().await;
}

/// The top-level fields of `schema` in the trimmed Drive discovery document.
fn schema_fields(schema: &str) -> Vec<String> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/discovery/drive.v3.json"
    );
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    doc["schemas"][schema]["properties"]
        .as_object()
        .unwrap_or_else(|| panic!("no schema {schema}"))
        .keys()
        .cloned()
        .collect()
}

fn unknown_fields(value: &Value, schema: &str) -> Vec<String> {
    let known = schema_fields(schema);
    value
        .as_object()
        .into_iter()
        .flat_map(|o| o.keys())
        .filter(|k| !known.contains(k))
        .map(|k| format!("{schema}.{k}"))
        .collect()
}

#[actix_web::test]
async fn the_sandboxs_drive_answers_use_only_the_discovery_documents_fields() {
    let sb = demo();
    let client = Client::new();
    let token = google_token(&client, &sb).await;
    let base = sb.base_url();
    let all = [("uploadType", "multipart"), ("fields", "*")];
    let (status, file) = upload(
        &client,
        &base,
        &token,
        &all,
        multipart(&brief_metadata("wf-c"), "text/html", "<p>x</p>"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{file}");
    let id = file["id"].as_str().unwrap();
    let get = |url: String| {
        let (client, token) = (&client, &token);
        async move {
            body(client.get(url).bearer_auth(token).send().await.unwrap())
                .await
                .1
        }
    };
    let fetched = get(format!("{base}/drive/v3/files/{id}?fields=*")).await;
    let listed = get(format!("{base}/drive/v3/files?fields=*")).await;
    let permissions = get(format!("{base}/drive/v3/files/{id}/permissions")).await;
    let mut problems = unknown_fields(&file, "File");
    problems.extend(unknown_fields(&fetched, "File"));
    problems.extend(unknown_fields(&file["owners"][0], "User"));
    problems.extend(unknown_fields(&listed, "FileList"));
    for f in listed["files"].as_array().unwrap() {
        problems.extend(unknown_fields(f, "File"));
    }
    problems.extend(unknown_fields(&permissions, "PermissionList"));
    for p in permissions["permissions"].as_array().unwrap() {
        problems.extend(unknown_fields(p, "Permission"));
    }
    problems.sort();
    problems.dedup();
    assert!(
        problems.is_empty(),
        "fields Drive's resources do not have: {problems:?}"
    );
    assert!(
        fetched["kind"] == "drive#file"
            && permissions["permissions"][0]["kind"] == "drive#permission"
    );
    sb.stop().await;
}
