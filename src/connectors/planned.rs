//! Writes as requests that were not sent: what pilot mode records in place of
//! each call with an outside effect. Bodies come from the very functions the
//! clients send with, so the record is what the provider would have received.

use std::collections::BTreeMap;

use serde_json::Value;

use super::calendar::{self, EVENTS_INSERT, NewEvent};
use super::drive::{self, FILES_CREATE, NewDoc, PERMISSIONS_CREATE};
use super::gmail::{self, DRAFTS_CREATE};
use super::http::Endpoint;
use super::hubspot::{
    self, ASSOCIATE_DEFAULT, CONTACTS_UPSERT, ContactUpsert, MEETINGS_CREATE, MEETINGS_UPDATE,
    NOTES_CREATE, NewMeeting, NewNote, NewTask, TASKS_CREATE, TASKS_UPDATE,
};

/// One request as it would have gone out, without the provider's host or the
/// credential.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedRequest {
    /// The endpoint's stable id, e.g. `hubspot.notes.create`.
    pub endpoint: &'static str,
    pub method: &'static str,
    /// Path and query, e.g. `/crm/v3/objects/notes`.
    pub path: String,
    pub body: Option<Value>,
    /// The RFC 5322 message a Gmail write carries (its body holds it in base64url).
    pub message: Option<String>,
}

impl PlannedRequest {
    fn new(endpoint: &Endpoint, path_values: &[&str], body: Option<Value>) -> Self {
        PlannedRequest {
            endpoint: endpoint.id,
            method: endpoint.method,
            path: endpoint.url("", path_values),
            body,
            message: None,
        }
    }
}

/// HubSpot: the batch upsert of the prospect's contact by email.
pub fn contact_upsert(inputs: &[ContactUpsert]) -> PlannedRequest {
    PlannedRequest::new(&CONTACTS_UPSERT, &[], Some(hubspot::upsert_body(inputs)))
}

/// HubSpot: the default association `from` → `to`, each `(object type, id)`.
pub fn associate_default(from: (&str, &str), to: (&str, &str)) -> PlannedRequest {
    PlannedRequest::new(&ASSOCIATE_DEFAULT, &[from.0, from.1, to.0, to.1], None)
}

/// HubSpot: a note on the contact.
pub fn note(note: &NewNote) -> PlannedRequest {
    PlannedRequest::new(&NOTES_CREATE, &[], Some(hubspot::note_body(note)))
}

/// HubSpot: a follow-up task on the contact.
pub fn task(task: &NewTask) -> PlannedRequest {
    PlannedRequest::new(&TASKS_CREATE, &[], Some(hubspot::task_body(task)))
}

/// HubSpot: a scheduled meeting on the contact (and company).
pub fn meeting(meeting: &NewMeeting) -> PlannedRequest {
    PlannedRequest::new(&MEETINGS_CREATE, &[], Some(hubspot::meeting_body(meeting)))
}

/// HubSpot: properties set on an existing task (completing the follow-up).
pub fn task_update(task_id: &str, properties: &BTreeMap<String, String>) -> PlannedRequest {
    PlannedRequest::new(
        &TASKS_UPDATE,
        &[task_id],
        Some(hubspot::update_body(properties)),
    )
}

/// HubSpot: properties set on a booked meeting (moved or cancelled).
pub fn meeting_update(meeting_id: &str, properties: &BTreeMap<String, String>) -> PlannedRequest {
    PlannedRequest::new(
        &MEETINGS_UPDATE,
        &[meeting_id],
        Some(hubspot::update_body(properties)),
    )
}

/// Drive: a Google Doc uploaded as HTML; the body is the upload's metadata
/// part and the message its HTML part.
pub fn doc_upload(doc: &NewDoc) -> PlannedRequest {
    let mut planned = PlannedRequest::new(&FILES_CREATE, &[], Some(drive::doc_metadata(doc)));
    let query = serde_urlencoded::to_string(drive::CREATE_QUERY).expect("static pairs encode");
    planned.path = format!("{}?{query}", planned.path);
    planned.message = Some(doc.html.clone());
    planned
}

/// Gmail: the draft in the sender's mailbox (`me` is the mailbox the token is for).
pub fn draft(raw: &[u8], thread_id: Option<&str>) -> PlannedRequest {
    let body = serde_json::json!({ "message": gmail::raw_message(raw, thread_id) });
    PlannedRequest {
        message: Some(String::from_utf8_lossy(raw).into_owned()),
        ..PlannedRequest::new(&DRAFTS_CREATE, &["me"], Some(body))
    }
}

/// Drive: read access to a file for the prospect, without Drive's own email.
pub fn share_with_reader(file_id: &str, email: &str) -> PlannedRequest {
    let mut planned = PlannedRequest::new(
        &PERMISSIONS_CREATE,
        &[file_id],
        Some(drive::reader_permission(email)),
    );
    let query = serde_urlencoded::to_string(drive::SHARE_QUERY).expect("static pairs encode");
    planned.path = format!("{}?{query}", planned.path);
    planned
}

/// Calendar: the booked meeting in the rep's calendar, with its Meet request and
/// the invitation Google would send.
pub fn event_insert(calendar_id: &str, event: &NewEvent) -> PlannedRequest {
    let mut planned = PlannedRequest::new(
        &EVENTS_INSERT,
        &[calendar_id],
        Some(calendar::insert_body(event)),
    );
    planned.path = format!(
        "{}?conferenceDataVersion=1&sendUpdates={}",
        planned.path, event.send_updates
    );
    planned
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn a_note_is_recorded_with_the_body_the_client_sends() {
        let note = NewNote {
            contact_id: "5101".into(),
            body: "[sa:op=wf-1:note] answered".into(),
            timestamp: chrono::Utc.with_ymd_and_hms(2026, 12, 4, 9, 0, 0).unwrap(),
            owner_id: Some("77".into()),
        };
        let planned = super::note(&note);
        assert_eq!(planned.endpoint, "hubspot.notes.create");
        assert_eq!(planned.method, "POST");
        assert_eq!(planned.path, "/crm/v3/objects/notes");
        let body = planned.body.unwrap();
        assert_eq!(
            body["properties"]["hs_note_body"],
            "[sa:op=wf-1:note] answered"
        );
        assert_eq!(
            body["properties"]["hs_timestamp"],
            "2026-12-04T09:00:00.000Z"
        );
        assert_eq!(body["associations"][0]["to"]["id"], "5101");
        assert_eq!(
            body["associations"][0]["types"][0]["associationTypeId"],
            202
        );
    }

    #[test]
    fn paths_are_encoded_as_requested() {
        let planned = associate_default(("contacts", "51 01"), ("companies", "9"));
        assert_eq!(planned.method, "PUT");
        assert_eq!(
            planned.path,
            "/crm/v4/objects/contacts/51%2001/associations/default/companies/9"
        );
        assert_eq!(planned.body, None);
        let share = share_with_reader("file-1", "ana@example.org");
        assert_eq!(
            share.path,
            "/drive/v3/files/file-1/permissions?sendNotificationEmail=false&supportsAllDrives=true"
        );
        assert_eq!(share.body.unwrap()["emailAddress"], "ana@example.org");
    }

    #[test]
    fn a_doc_upload_is_recorded_with_its_metadata_and_html() {
        let doc = NewDoc {
            name: "Meeting brief".into(),
            folder_id: "folder-1".into(),
            app_properties: [("salesAgentBrief".to_string(), "wf-1".to_string())].into(),
            html: "<p>Hello</p>".into(),
        };
        let planned = doc_upload(&doc);
        assert_eq!(planned.endpoint, "drive.files.create");
        assert!(
            planned
                .path
                .starts_with("/upload/drive/v3/files?uploadType=multipart&"),
            "{}",
            planned.path
        );
        assert!(planned.path.contains("ignoreDefaultVisibility=true"));
        let body = planned.body.unwrap();
        assert_eq!(body["mimeType"], "application/vnd.google-apps.document");
        assert_eq!(body["parents"][0], "folder-1");
        assert_eq!(body["appProperties"]["salesAgentBrief"], "wf-1");
        assert_eq!(planned.message.as_deref(), Some("<p>Hello</p>"));
    }

    #[test]
    fn a_draft_carries_the_message_and_its_base64url() {
        let raw = b"From: a@x.test\r\nTo: b@y.test\r\nSubject: Hi\r\n\r\nHello\r\n";
        let planned = draft(raw, Some("thread-1"));
        assert_eq!(planned.path, "/gmail/v1/users/me/drafts");
        assert_eq!(
            planned.message.as_deref(),
            Some(std::str::from_utf8(raw).unwrap())
        );
        let body = planned.body.unwrap();
        assert_eq!(body["message"]["threadId"], "thread-1");
        assert_eq!(body["message"]["raw"], crate::connectors::mime::to_raw(raw));
    }
}
