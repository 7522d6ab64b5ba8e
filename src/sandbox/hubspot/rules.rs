//! The property rules HubSpot enforces on writes: required `hs_timestamp` on
//! engagements, valid dates, note length, task and email enumerations, known
//! owners — each refusal in HubSpot's `VALIDATION_ERROR` shape.

use std::collections::BTreeMap;

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use serde_json::{Value, json};

use crate::sandbox::respond::{self, hubspot_invalid};
use crate::sandbox::state::{HubSpot, ObjectType};

pub(super) fn properties_of(v: Option<&Value>) -> Result<BTreeMap<String, String>, HttpResponse> {
    let Some(v) = v else {
        return Ok(BTreeMap::new());
    };
    let Some(map) = v.as_object() else {
        return Err(hubspot_invalid(
            "properties must be an object",
            "INVALID_INPUT",
            json!({}),
        ));
    };
    Ok(map
        .iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| {
            (
                k.clone(),
                v.as_str().map_or_else(|| v.to_string(), String::from),
            )
        })
        .collect())
}

pub(super) fn property_error(name: &str, code: &str, message: &str) -> HttpResponse {
    let detail = json!([{"isValid": false, "message": message, "error": code, "name": name}]);
    respond::hubspot(
        StatusCode::BAD_REQUEST,
        "VALIDATION_ERROR",
        &format!("Property values were not valid: {detail}"),
        vec![json!({"message": message, "code": code, "context": {"propertyName": [name]}})],
    )
}

/// HubSpot accepts epoch milliseconds or an ISO 8601 UTC timestamp.
pub(super) fn valid_timestamp(v: &str) -> bool {
    v.parse::<i64>().is_ok()
        || chrono::DateTime::parse_from_rfc3339(v).is_ok()
        || chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d").is_ok()
}

/// The per-type rules HubSpot enforces; `creating` adds the required fields.
pub(super) fn check_properties(
    hs: &HubSpot,
    t: ObjectType,
    props: &BTreeMap<String, String>,
    creating: bool,
) -> Result<(), HttpResponse> {
    let engagement = matches!(
        t,
        ObjectType::Notes | ObjectType::Tasks | ObjectType::Emails | ObjectType::Meetings
    );
    match props.get("hs_timestamp") {
        None if engagement && creating => {
            return Err(property_error(
                "hs_timestamp",
                "REQUIRED_FIELD",
                "hs_timestamp is required",
            ));
        }
        Some(v) if engagement && !valid_timestamp(v) => {
            return Err(property_error(
                "hs_timestamp",
                "INVALID_DATE",
                &format!("{v} is not a valid timestamp"),
            ));
        }
        _ => {}
    }
    if props
        .get("hs_note_body")
        .is_some_and(|b| b.chars().count() > 65_536)
    {
        return Err(property_error(
            "hs_note_body",
            "INVALID_LENGTH",
            "hs_note_body exceeds 65536 characters",
        ));
    }
    for (name, allowed) in enumerations(t) {
        if let Some(v) = props.get(*name).filter(|v| !allowed.contains(&v.as_str())) {
            return Err(property_error(
                name,
                "INVALID_OPTION",
                &format!("{v} was not one of the allowed options: {allowed:?}"),
            ));
        }
    }
    if let Some(owner) = props
        .get("hubspot_owner_id")
        .filter(|o| !o.is_empty() && !hs.owners.iter().any(|x| &x.id == *o))
    {
        return Err(property_error(
            "hubspot_owner_id",
            "INVALID_OWNER_ID",
            &format!("{owner} is not a valid owner id"),
        ));
    }
    Ok(())
}

/// Enumeration properties and their allowed values, per type.
fn enumerations(t: ObjectType) -> &'static [(&'static str, &'static [&'static str])] {
    match t {
        ObjectType::Tasks => &[
            (
                "hs_task_status",
                &[
                    "NOT_STARTED",
                    "IN_PROGRESS",
                    "WAITING",
                    "COMPLETED",
                    "DEFERRED",
                ],
            ),
            ("hs_task_priority", &["NONE", "LOW", "MEDIUM", "HIGH"]),
            (
                "hs_task_type",
                &["EMAIL", "CALL", "TODO", "LINKED_IN", "MEETING"],
            ),
        ],
        ObjectType::Meetings => &[(
            "hs_meeting_outcome",
            &[
                "SCHEDULED",
                "COMPLETED",
                "RESCHEDULED",
                "NO_SHOW",
                "CANCELED",
            ],
        )],
        ObjectType::Emails => &[
            (
                "hs_email_direction",
                &["EMAIL", "INCOMING_EMAIL", "FORWARDED_EMAIL"],
            ),
            (
                "hs_email_status",
                &["BOUNCED", "FAILED", "SCHEDULED", "SENDING", "SENT"],
            ),
        ],
        _ => &[],
    }
}
