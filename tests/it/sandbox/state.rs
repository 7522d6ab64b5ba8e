//! `GET /_sandbox/state` over real HTTP: after a draft, a sent message, an
//! event, a Drive upload and HubSpot writes made through the providers' own
//! endpoints, it shows each in that provider's shape. And Drive's multipart
//! upload: a Google Doc converted from HTML in an existing folder, owned by the
//! caller, found by `appProperties has`, with Drive's refusals.

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

use super::{MAYA, body, demo, gmail, google_token, hubspot, raw, with_query};

const BRIEFS: &str = "1MeetingBriefsFolder0000000001";

/// A `multipart/related` upload body: metadata, then media.
fn multipart(metadata: &Value, media_type: &str, media: &str) -> (String, String) {
    let b = "sandbox_test_boundary";
    let body = format!(
        "--{b}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n{metadata}\r\n--{b}\r\nContent-Type: {media_type}\r\n\r\n{media}\r\n--{b}--\r\n"
    );
    (format!("multipart/related; boundary={b}"), body)
}

async fn upload(
    client: &Client,
    base: &str,
    token: &str,
    query: &[(&str, &str)],
    (content_type, payload): (String, String),
) -> (StatusCode, Value) {
    let url = with_query(&format!("{base}/upload/drive/v3/files"), query);
    body(
        client
            .post(url)
            .bearer_auth(token)
            .header("content-type", content_type)
            .body(payload)
            .send()
            .await
            .expect("upload"),
    )
    .await
}

fn brief_metadata(workflow: &str) -> Value {
    json!({"name": "Meeting brief: Ana", "mimeType": "application/vnd.google-apps.document",
        "parents": [BRIEFS], "appProperties": {"salesAgentBrief": workflow}})
}

const MULTIPART: [(&str, &str); 2] = [
    ("uploadType", "multipart"),
    (
        "fields",
        "id,name,mimeType,webViewLink,parents,appProperties,owners",
    ),
];

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

#[actix_web::test]
async fn the_state_shows_each_record_in_its_providers_shape() {
    let sb = demo();
    let client = Client::new();
    let token = google_token(&client, &sb).await;
    let base = sb.base_url();
    let message = |id: &str| {
        format!(
            "From: Maya Chen <{MAYA}>\nTo: ana@acme.example\nSubject: Hello\nMessage-ID: <{id}@northwind-analytics.com>\n\nHi Ana\n"
        )
    };
    let draft = client
        .post(gmail(&sb, "/drafts"))
        .bearer_auth(&token)
        .json(&json!({"message": {"raw": raw(&message("d1"))}}))
        .send()
        .await
        .unwrap();
    assert_eq!(draft.status(), StatusCode::OK);
    let sent = client
        .post(gmail(&sb, "/messages/send"))
        .bearer_auth(&token)
        .json(&json!({"raw": raw(&message("s1"))}))
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status(), StatusCode::OK);
    let event = json!({"id": "sabooked0001", "summary": "Intro call",
        "start": {"dateTime": "2026-12-01T10:00:00", "timeZone": "America/New_York"},
        "end": {"dateTime": "2026-12-01T10:30:00", "timeZone": "America/New_York"},
        "attendees": [{"email": "ana@acme.example"}]});
    let inserted = client
        .post(format!("{base}/calendar/v3/calendars/primary/events"))
        .bearer_auth(&token)
        .json(&event)
        .send()
        .await
        .unwrap();
    assert_eq!(inserted.status(), StatusCode::OK);
    let (status, doc) = upload(
        &client,
        &base,
        &token,
        &MULTIPART,
        multipart(&brief_metadata("wf-7"), "text/html", "<p>Brief</p>"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{doc}");
    let meeting = json!({"properties": {"hs_timestamp": "2026-12-01T15:00:00Z", "hs_meeting_title": "Intro", "hs_meeting_outcome": "SCHEDULED"},
        "associations": [{"to": {"id": "5101"}, "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 200}]},
                         {"to": {"id": "6101"}, "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 188}]}]});
    let (status, created) = body(
        hubspot(&client, &sb, "/crm/v3/objects/meetings", meeting)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let bad = json!({"properties": {"hs_timestamp": "2026-12-01T15:00:00Z", "hs_meeting_outcome": "MAYBE"}});
    let (status, refused) = body(
        hubspot(&client, &sb, "/crm/v3/objects/meetings", bad)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "HubSpot's enumeration: {refused}"
    );

    let (status, state) = body(
        client
            .get(format!("{base}/_sandbox/state"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{state}");
    let maya = state["gmail"]["mailboxes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["emailAddress"] == MAYA)
        .expect("Maya's mailbox")
        .clone();
    let drafts = maya["drafts"].as_array().unwrap();
    assert_eq!(drafts.len(), 1, "{maya}");
    assert!(
        drafts[0]["id"].is_string() && drafts[0]["message"]["threadId"].is_string(),
        "a Gmail Draft: {}",
        drafts[0]
    );
    assert!(
        drafts[0]["message"]["payload"]["headers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h["name"] == "Subject" && h["value"] == "Hello")
    );
    let sent = maya["sent"].as_array().unwrap();
    assert!(
        sent.iter().any(|m| m["labelIds"] == json!(["SENT"])
            && m["snippet"].as_str().unwrap().contains("Hi Ana")),
        "{maya}"
    );
    let calendar = state["calendar"]["calendars"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["summary"] == MAYA)
        .expect("Maya's calendar")
        .clone();
    assert_eq!(calendar["kind"], "calendar#events");
    let booked = calendar["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == "sabooked0001")
        .expect("the event")
        .clone();
    assert_eq!(booked["kind"], "calendar#event");
    assert_eq!(booked["attendees"][0]["email"], "ana@acme.example");
    assert_eq!(state["drive"]["kind"], "drive#fileList");
    let file = state["drive"]["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == doc["id"])
        .expect("the doc")
        .clone();
    assert_eq!(file["kind"], "drive#file");
    assert_eq!(file["mimeType"], "application/vnd.google-apps.document");
    assert_eq!(file["shared"], false);
    let id = doc["id"].as_str().unwrap();
    assert_eq!(
        state["drive"]["permissions"][id]["permissions"][0]["kind"],
        "drive#permission"
    );
    let meetings = state["hubspot"]["meetings"]["results"].as_array().unwrap();
    assert_eq!(meetings.len(), 1, "{meetings:?}");
    let m = &meetings[0];
    assert_eq!(m["id"], created["id"]);
    assert_eq!(m["properties"]["hs_meeting_title"], "Intro");
    assert!(
        m["createdAt"].is_string() && m["archived"] == false,
        "a SimplePublicObject: {m}"
    );
    assert_eq!(m["associations"]["contacts"]["results"][0]["id"], "5101");
    assert_eq!(m["associations"]["companies"]["results"][0]["id"], "6101");
    let contacts = state["hubspot"]["contacts"]["results"].as_array().unwrap();
    assert!(
        contacts
            .iter()
            .any(|c| c["properties"]["email"] == "laura.martinez@brightpath-health.com")
    );
    for kind in ["companies", "notes", "tasks", "emails"] {
        assert!(state["hubspot"][kind]["results"].is_array(), "{kind}");
    }
    sb.stop().await;
}
