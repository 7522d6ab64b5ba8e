//! The form-submission shapes HubSpot sends, parsed into one [`FormSubmission`].
//!
//! - A workflow "Send a webhook" contact payload: `properties` (each either a plain
//!   value or `{"value": …}`), `portal-id`, `vid`, and `form-submissions[]`
//!   (`conversion-id`, `form-id`, `timestamp`, `page-url`); the newest submission wins.
//! - A Forms API submission: `values[{name, value}]`, `conversionId`, `submittedAt`
//!   (ms), `pageUrl`, and optionally `portalId` and `formGuid`.
//! - The older submission layout the earlier version of this tool posted:
//!   `fieldValues[{name, value}]`, `formId`, `formSubmissionId` (the submission's
//!   own id, so it plays the conversion id's part in the idempotency key),
//!   `timestamp` (ms, or an RFC 3339 time), and optionally `portalId`, `pageUrl`.
//!
//! Errors name the offending field so a 400 tells the sender what to fix.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::fields::canonical_name;
use crate::domain::{FormSubmission, PayloadShape};

/// A body that is not a usable form submission; `field` names what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct PayloadError {
    pub field: String,
    pub message: String,
}

fn error(field: impl Into<String>, message: impl Into<String>) -> PayloadError {
    PayloadError {
        field: field.into(),
        message: message.into(),
    }
}

/// Parses a webhook body into a submission.
pub fn parse(body: &[u8]) -> Result<FormSubmission, PayloadError> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| error("body", format!("malformed JSON: {e}")))?;
    let Value::Object(object) = value else {
        return Err(error(
            "body",
            "expected a JSON object (a form submission or a contact)",
        ));
    };
    if object.contains_key("values") {
        parse_forms_api(&object)
    } else if object.contains_key("fieldValues") {
        parse_field_values(&object)
    } else if object.contains_key("properties") || object.contains_key("form-submissions") {
        parse_workflow_contact(&object)
    } else {
        Err(error(
            "body",
            "expected a HubSpot contact (`properties`) or a form submission (`values` or `fieldValues`)",
        ))
    }
}

fn parse_forms_api(object: &Map<String, Value>) -> Result<FormSubmission, PayloadError> {
    let raw = name_values(object.get("values"), "values")?;
    let (email, fields, other_fields) = sort_fields(raw)?;
    Ok(FormSubmission {
        shape: PayloadShape::FormsApi,
        portal_id: identifier(object.get("portalId"), "portalId")?,
        form_id: identifier(
            object.get("formGuid").or_else(|| object.get("formId")),
            "formGuid",
        )?,
        conversion_id: identifier(object.get("conversionId"), "conversionId")?,
        submitted_at_ms: millis(object.get("submittedAt"), "submittedAt")?,
        contact_id: None,
        page_url: text(object.get("pageUrl"), "pageUrl")?,
        email,
        fields,
        other_fields,
    })
}

fn parse_field_values(object: &Map<String, Value>) -> Result<FormSubmission, PayloadError> {
    let raw = name_values(object.get("fieldValues"), "fieldValues")?;
    let (email, fields, other_fields) = sort_fields(raw)?;
    Ok(FormSubmission {
        shape: PayloadShape::FieldValues,
        portal_id: identifier(object.get("portalId"), "portalId")?,
        form_id: identifier(
            object.get("formId").or_else(|| object.get("formGuid")),
            "formId",
        )?,
        conversion_id: identifier(object.get("formSubmissionId"), "formSubmissionId")?,
        submitted_at_ms: millis_or_time(object.get("timestamp"), "timestamp")?,
        contact_id: None,
        page_url: text(object.get("pageUrl"), "pageUrl")?,
        email,
        fields,
        other_fields,
    })
}

/// `[{name, value}]` pairs (the `values` and `fieldValues` arrays).
fn name_values(value: Option<&Value>, field: &str) -> Result<Vec<(String, String)>, PayloadError> {
    let Some(Value::Array(values)) = value else {
        return Err(error(field, "expected an array of {name, value}"));
    };
    let mut raw = Vec::with_capacity(values.len());
    for (i, item) in values.iter().enumerate() {
        let Value::Object(item) = item else {
            return Err(error(
                format!("{field}[{i}]"),
                "expected an object with name and value",
            ));
        };
        let name = match item.get("name") {
            Some(Value::String(name)) if !name.trim().is_empty() => name.clone(),
            _ => {
                return Err(error(
                    format!("{field}[{i}].name"),
                    "expected a non-empty string",
                ));
            }
        };
        let value = scalar(item.get("value"), &format!("{field}[{i}].value"))?.unwrap_or_default();
        raw.push((name, value));
    }
    Ok(raw)
}

fn parse_workflow_contact(object: &Map<String, Value>) -> Result<FormSubmission, PayloadError> {
    let mut raw = Vec::new();
    match object.get("properties") {
        None | Some(Value::Null) => {}
        Some(Value::Object(properties)) => {
            for (name, value) in properties {
                let path = format!("properties.{name}");
                let value = match value {
                    Value::Object(versioned) => {
                        scalar(versioned.get("value"), &format!("{path}.value"))?
                    }
                    other => scalar(Some(other), &path)?,
                };
                if let Some(value) = value {
                    raw.push((name.clone(), value));
                }
            }
        }
        Some(_) => return Err(error("properties", "expected an object")),
    }
    let (email, fields, other_fields) = sort_fields(raw)?;
    let latest = latest_form_submission(object.get("form-submissions"))?;
    let from_latest = |key: &str| latest.and_then(|s| s.get(key));
    let portal = object.get("portal-id").or_else(|| object.get("portalId"));
    let contact = ["canonical-vid", "vid", "objectId", "id"]
        .iter()
        .find_map(|k| object.get(*k));
    Ok(FormSubmission {
        shape: PayloadShape::WorkflowContact,
        portal_id: identifier(portal.or_else(|| from_latest("portal-id")), "portal-id")?,
        form_id: identifier(from_latest("form-id"), "form-submissions[].form-id")?,
        conversion_id: identifier(
            from_latest("conversion-id"),
            "form-submissions[].conversion-id",
        )?,
        submitted_at_ms: millis(from_latest("timestamp"), "form-submissions[].timestamp")?,
        contact_id: identifier(contact, "vid")?,
        page_url: text(from_latest("page-url"), "form-submissions[].page-url")?,
        email,
        fields,
        other_fields,
    })
}

/// The newest entry of `form-submissions`, by `timestamp`.
fn latest_form_submission(
    value: Option<&Value>,
) -> Result<Option<&Map<String, Value>>, PayloadError> {
    let items = match value {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Array(items)) => items,
        Some(_) => return Err(error("form-submissions", "expected an array")),
    };
    let mut latest: Option<(&Map<String, Value>, i64)> = None;
    for (i, item) in items.iter().enumerate() {
        let Value::Object(item) = item else {
            return Err(error(
                format!("form-submissions[{i}]"),
                "expected an object",
            ));
        };
        let at = millis(
            item.get("timestamp"),
            &format!("form-submissions[{i}].timestamp"),
        )?
        .unwrap_or(i64::MIN);
        if latest.is_none_or(|(_, best)| at >= best) {
            latest = Some((item, at));
        }
    }
    Ok(latest.map(|(item, _)| item))
}

type SortedFields = (String, BTreeMap<String, String>, BTreeMap<String, String>);

/// Splits raw name/value pairs into canonical and other fields and pulls out the email.
fn sort_fields(raw: Vec<(String, String)>) -> Result<SortedFields, PayloadError> {
    let mut fields = BTreeMap::new();
    let mut other = BTreeMap::new();
    for (name, value) in raw {
        match canonical_name(&name) {
            Some(canonical) => {
                fields.entry(canonical.to_string()).or_insert(value);
            }
            None => {
                other.insert(name, value);
            }
        }
    }
    let email = fields
        .get("email")
        .map(|e| e.trim().to_string())
        .unwrap_or_default();
    if email.is_empty() {
        return Err(error("email", "missing email"));
    }
    Ok((email, fields, other))
}

/// A field value: string, number or boolean, as text. `null` or absent is `None`.
fn scalar(value: Option<&Value>, field: &str) -> Result<Option<String>, PayloadError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(Value::Bool(b)) => Ok(Some(b.to_string())),
        Some(_) => Err(error(field, "expected a string, number or boolean")),
    }
}

/// An identifier HubSpot sends as a string or a number.
fn identifier(value: Option<&Value>, field: &str) -> Result<Option<String>, PayloadError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim().to_string())),
        Some(Value::Number(n)) if n.is_u64() || n.is_i64() => Ok(Some(n.to_string())),
        Some(_) => Err(error(field, "expected a string or an integer")),
    }
}

fn text(value: Option<&Value>, field: &str) -> Result<Option<String>, PayloadError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(error(field, "expected a string")),
    }
}

/// Unix milliseconds, as a number or a numeric string.
fn millis(value: Option<&Value>, field: &str) -> Result<Option<i64>, PayloadError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_i64()
            .map(Some)
            .ok_or_else(|| error(field, "expected Unix milliseconds")),
        Some(Value::String(s)) => s
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| error(field, "expected Unix milliseconds")),
        Some(_) => Err(error(field, "expected Unix milliseconds")),
    }
}

/// Unix milliseconds (see [`millis`]) or an RFC 3339 time.
fn millis_or_time(value: Option<&Value>, field: &str) -> Result<Option<i64>, PayloadError> {
    if let Some(Value::String(s)) = value
        && let Ok(at) = chrono::DateTime::parse_from_rfc3339(s.trim())
    {
        return Ok(Some(at.timestamp_millis()));
    }
    millis(value, field).map_err(|_| error(field, "expected Unix milliseconds or an RFC 3339 time"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_workflow_contact_payload_uses_its_newest_form_submission() {
        let body = br#"{"vid": 71, "canonical-vid": 71, "portal-id": 62515,
            "properties": {"email": {"value": "Ana@Example.com", "versions": []},
                           "firstname": {"value": "Ana"}, "company": "Acme", "favourite": {"value": "blue"}},
            "form-submissions": [
              {"conversion-id": "old", "timestamp": 1000, "form-id": "f1", "portal-id": 62515},
              {"conversion-id": "new", "timestamp": 2000, "form-id": "f2", "page-url": "https://x/demo"}]}"#;
        let s = parse(body).unwrap();
        assert_eq!(s.shape, PayloadShape::WorkflowContact);
        assert_eq!(s.email, "Ana@Example.com");
        assert_eq!(s.portal_id.as_deref(), Some("62515"));
        assert_eq!(s.contact_id.as_deref(), Some("71"));
        assert_eq!(s.conversion_id.as_deref(), Some("new"));
        assert_eq!(s.form_id.as_deref(), Some("f2"));
        assert_eq!(s.submitted_at_ms, Some(2000));
        assert_eq!(s.page_url.as_deref(), Some("https://x/demo"));
        assert_eq!(s.fields["first_name"], "Ana");
        assert_eq!(s.fields["company"], "Acme");
        assert_eq!(s.other_fields["favourite"], "blue");
    }

    #[test]
    fn a_forms_api_submission_maps_its_values() {
        let body =
            br#"{"conversionId": "c-1", "submittedAt": 1700000000000, "pageUrl": "https://x",
            "portalId": 62515, "formGuid": "g-1",
            "values": [{"name": "email", "value": "bo@x.io"}, {"name": "lastname", "value": "Bo"},
                       {"name": "numemployees", "value": 250}]}"#;
        let s = parse(body).unwrap();
        assert_eq!(s.shape, PayloadShape::FormsApi);
        assert_eq!(
            (s.email.as_str(), s.conversion_id.as_deref()),
            ("bo@x.io", Some("c-1"))
        );
        assert_eq!(s.form_id.as_deref(), Some("g-1"));
        assert_eq!(s.submitted_at_ms, Some(1_700_000_000_000));
        assert_eq!(s.fields["last_name"], "Bo");
        assert_eq!(s.fields["company_size"], "250");
    }

    #[test]
    fn the_older_field_values_layout_maps_like_the_others() {
        let body = br#"{"formId": "f-9", "formSubmissionId": "sub-77", "timestamp": 1700000000000,
            "portalId": "62515", "pageUrl": "https://x/contact",
            "fieldValues": [{"name": "email", "value": " Cy@X.io "}, {"name": "firstname", "value": "Cy"},
                            {"name": "company", "value": "Acme"}, {"name": "favourite", "value": true}]}"#;
        let s = parse(body).unwrap();
        assert_eq!(s.shape, PayloadShape::FieldValues);
        assert_eq!(s.email, "Cy@X.io");
        assert_eq!(s.form_id.as_deref(), Some("f-9"));
        assert_eq!(s.conversion_id.as_deref(), Some("sub-77"));
        assert_eq!(s.portal_id.as_deref(), Some("62515"));
        assert_eq!(s.submitted_at_ms, Some(1_700_000_000_000));
        assert_eq!(s.page_url.as_deref(), Some("https://x/contact"));
        assert_eq!(s.fields["first_name"], "Cy");
        assert_eq!(s.fields["company"], "Acme");
        assert_eq!(s.other_fields["favourite"], "true");
        let iso = parse(
            br#"{"formId": "f", "timestamp": "2023-11-14T22:13:20Z",
                "fieldValues": [{"name": "email", "value": "a@b.c"}]}"#,
        )
        .unwrap();
        assert_eq!(iso.submitted_at_ms, Some(1_700_000_000_000));
    }

    #[test]
    fn errors_name_the_field() {
        let cases: &[(&[u8], &str)] = &[
            (b"{not json", "body"),
            (b"[1,2]", "body"),
            (
                br#"{"values": [{"name": "firstname", "value": "A"}]}"#,
                "email",
            ),
            (
                br#"{"values": [{"name": "email", "value": ["a@b.c"]}]}"#,
                "values[0].value",
            ),
            (br#"{"values": [{"value": "x"}]}"#, "values[0].name"),
            (br#"{"values": {}}"#, "values"),
            (
                br#"{"values": [{"name": "email", "value": "a@b.c"}], "submittedAt": "soon"}"#,
                "submittedAt",
            ),
            (
                br#"{"properties": {"email": {"value": {"nested": 1}}}}"#,
                "properties.email.value",
            ),
            (br#"{"properties": []}"#, "properties"),
            (
                br#"{"properties": {"email": "a@b.c"}, "form-submissions": {}}"#,
                "form-submissions",
            ),
            (br#"{"properties": {"email": "  "}}"#, "email"),
            (br#"{"fieldValues": {}}"#, "fieldValues"),
            (br#"{"fieldValues": [{"value": "x"}]}"#, "fieldValues[0].name"),
            (
                br#"{"fieldValues": [{"name": "email", "value": {"a": 1}}]}"#,
                "fieldValues[0].value",
            ),
            (
                br#"{"fieldValues": [{"name": "email", "value": "a@b.c"}], "timestamp": "soon"}"#,
                "timestamp",
            ),
            (
                br#"{"fieldValues": [{"name": "email", "value": "a@b.c"}], "formSubmissionId": [1]}"#,
                "formSubmissionId",
            ),
            (br#"{"fieldValues": [{"name": "company", "value": "A"}]}"#, "email"),
        ];
        for (body, field) in cases {
            let err = parse(body).unwrap_err();
            assert_eq!(err.field, *field, "{}", String::from_utf8_lossy(body));
        }
    }
}
