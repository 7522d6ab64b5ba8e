//! Reps in the admin API, managed while running: list, create, replace, and
//! deactivate or reactivate. The route step reads reps from the database on
//! every lead, so a change applies to the next lead without a restart. Every
//! change is validated field by field (a 4xx names the field) and committed
//! with its audit entry; the console's forms call these same functions.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, put, web};
use chrono_tz::Tz;
use diesel::Connection;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use super::{checked_reason, store_error};
use crate::domain::{Rep, WorkingHours};
use crate::store::{StoreError, audit, reps};
use crate::web::auth::Caller;
use crate::web::error::ErrorBody;
use crate::web::{ApiError, AppState};

/// A rep as the API and the console's forms send it. Every field is optional
/// here so that a missing one is refused by name, not by the JSON reader.
#[derive(Debug, Default, Clone, Deserialize, ToSchema)]
#[serde(default)]
pub struct RepInput {
    pub id: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
    /// The calendar whose free/busy gives the slots; the mailbox when absent.
    pub calendar_id: Option<String>,
    pub time_zone: Option<String>,
    /// `HH:MM-HH:MM` in the rep's zone; 09:00-17:00 when absent.
    pub hours: Option<String>,
    /// `mon-fri`, or a list such as `mon,wed-thu`; Monday to Friday when absent.
    pub days: Option<String>,
    pub hubspot_owner_id: Option<String>,
    pub territories: Option<Vec<String>>,
    /// ISO 639-1 codes of the languages the rep writes, their default first
    /// (`["de", "en"]`); absent or empty: the team's language only.
    pub languages: Option<Vec<String>>,
    pub booking_link: Option<String>,
    pub reason: String,
}

fn invalid(field: &str, message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, "invalid_rep", message).with_field(field)
}

fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such rep")
}

/// A trimmed, non-empty text of at most `max` characters without control characters.
fn text(value: &Option<String>, field: &str, max: usize) -> Result<Option<String>, ApiError> {
    let Some(raw) = value.as_deref().map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if raw.chars().count() > max || raw.chars().any(char::is_control) {
        return Err(invalid(
            field,
            format!("{field} must be at most {max} characters of text"),
        ));
    }
    Ok(Some(raw.to_string()))
}

fn required(value: &Option<String>, field: &str, max: usize) -> Result<String, ApiError> {
    text(value, field, max)?.ok_or_else(|| invalid(field, format!("{field} is required")))
}

/// One territory: a two-letter country code (`de`) or a zone region (`Europe/`).
fn territory(raw: &str) -> Result<String, ApiError> {
    let t = raw.trim();
    let country = t.len() == 2 && t.chars().all(|c| c.is_ascii_alphabetic());
    let region = t.len() > 1
        && t.len() <= 40
        && t.ends_with('/')
        && t[..t.len() - 1]
            .chars()
            .all(|c| c.is_ascii_alphabetic() || c == '_');
    if country {
        Ok(t.to_ascii_lowercase())
    } else if region {
        Ok(t.to_string())
    } else {
        Err(invalid(
            "territories",
            format!(
                "territory {t:?} is neither a two-letter country code (de) nor a zone region (Europe/)"
            ),
        ))
    }
}

/// Checks every field and builds the rep; `base` keeps what the input does not
/// set (the voice profile, whether active).
fn checked(id: String, input: &RepInput, base: Option<&Rep>) -> Result<Rep, ApiError> {
    if id.is_empty()
        || id.len() > 64
        || !id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(invalid(
            "id",
            "id must be 1–64 letters, digits, - or _ (e.g. sam-rivera)",
        ));
    }
    let name = required(&input.name, "name", 120)?;
    let email = required(&input.email, "email", 254)?.to_lowercase();
    if !email_address::EmailAddress::is_valid(&email) {
        return Err(invalid("email", "email must be the rep's mailbox address"));
    }
    let calendar_id = text(&input.calendar_id, "calendar_id", 254)?.unwrap_or(email.clone());
    if calendar_id.contains(char::is_whitespace) {
        return Err(invalid("calendar_id", "calendar_id has no spaces"));
    }
    let time_zone = required(&input.time_zone, "time_zone", 64)?;
    if time_zone.parse::<Tz>().is_err() {
        return Err(invalid(
            "time_zone",
            format!("time_zone {time_zone:?} is not an IANA zone (e.g. Europe/Berlin)"),
        ));
    }
    let hours = text(&input.hours, "hours", 20)?.unwrap_or_else(|| "09:00-17:00".into());
    let days = text(&input.days, "days", 60)?.unwrap_or_else(|| "mon-fri".into());
    let working_hours =
        WorkingHours::parse(&hours, &days).map_err(|m| invalid("working_hours", m))?;
    let territories = input
        .territories
        .iter()
        .flatten()
        .filter(|t| !t.trim().is_empty())
        .map(|t| territory(t))
        .collect::<Result<Vec<_>, _>>()?;
    if territories.len() > 300 {
        return Err(invalid("territories", "at most 300 territories"));
    }
    let languages: Vec<String> = input
        .languages
        .iter()
        .flatten()
        .map(|l| l.trim().to_ascii_lowercase())
        .filter(|l| !l.is_empty())
        .collect();
    crate::domain::language::check_list(&languages).map_err(|m| invalid("languages", m))?;
    let hubspot_owner_id = text(&input.hubspot_owner_id, "hubspot_owner_id", 32)?;
    if hubspot_owner_id
        .as_deref()
        .is_some_and(|o| !o.chars().all(|c| c.is_ascii_digit()))
    {
        return Err(invalid(
            "hubspot_owner_id",
            "hubspot_owner_id is HubSpot's numeric owner id",
        ));
    }
    let booking_link = text(&input.booking_link, "booking_link", 500)?;
    if let Some(link) = &booking_link {
        let ok = url::Url::parse(link).is_ok_and(|u| matches!(u.scheme(), "https" | "http"));
        if !ok {
            return Err(invalid(
                "booking_link",
                "booking_link must be an http(s) URL",
            ));
        }
    }
    let rep = Rep {
        id,
        name,
        email,
        calendar_id,
        time_zone,
        working_hours,
        hubspot_owner_id,
        territories,
        languages,
        voice: base.map(|b| b.voice.clone()).unwrap_or_default(),
        booking_link,
        active: base.is_none_or(|b| b.active),
    };
    // The rule the seed file obeys too.
    rep.validate().map_err(|e| invalid("rep", e.message))?;
    Ok(rep)
}

/// What a change to the reps table can run into.
enum Refusal {
    NotFound,
    Exists,
    MailboxTaken(String),
}

impl From<Refusal> for ApiError {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::NotFound => not_found(),
            Refusal::Exists => ApiError::new(
                StatusCode::CONFLICT,
                "rep_exists",
                "a rep with this id exists",
            )
            .with_field("id"),
            Refusal::MailboxTaken(other) => ApiError::new(
                StatusCode::CONFLICT,
                "mailbox_taken",
                format!("rep {other} already has this mailbox"),
            )
            .with_field("email"),
        }
    }
}

/// Creates (`create`) or replaces a rep after validation, audited as `caller`.
pub(crate) async fn save(
    state: &AppState,
    caller: Caller,
    id: String,
    input: RepInput,
    create: bool,
) -> Result<Rep, ApiError> {
    caller.require_admin()?;
    let reason = checked_reason(&input.reason)?;
    let (store, probe) = (state.store.clone(), id.clone());
    let base = store
        .run(move |c| reps::find_by_id(c, &probe))
        .await
        .map_err(store_error)?;
    match (&base, create) {
        (Some(_), true) => return Err(Refusal::Exists.into()),
        (None, false) => return Err(Refusal::NotFound.into()),
        _ => {}
    }
    let rep = checked(id, &input, base.as_ref())?;
    let stored = rep.clone();
    let action = if create { "rep.created" } else { "rep.updated" };
    let outcome = store
        .run(move |conn| {
            conn.transaction(|c| {
                if let Some(other) = reps::find_by_email(c, &stored.email)?
                    && other.id != stored.id
                {
                    return Ok(Err(Refusal::MailboxTaken(other.id)));
                }
                let exists = reps::find_by_id(c, &stored.id)?.is_some();
                if exists == create {
                    return Ok(Err(if create {
                        Refusal::Exists
                    } else {
                        Refusal::NotFound
                    }));
                }
                reps::upsert(c, &stored)?;
                audit::append(
                    c,
                    &audit::Entry {
                        actor: &caller.actor,
                        action,
                        workflow_id: None,
                        reason: Some(&reason),
                        detail: json!({ "rep_id": stored.id }),
                    },
                )?;
                Ok::<_, StoreError>(Ok(()))
            })
        })
        .await
        .map_err(store_error)?;
    outcome?;
    Ok(rep)
}

/// Deactivates (no new leads are routed to the rep) or reactivates a rep, audited.
pub(crate) async fn set_active(
    state: &AppState,
    caller: Caller,
    id: String,
    active: bool,
    reason: &str,
) -> Result<(), ApiError> {
    caller.require_admin()?;
    let reason = checked_reason(reason)?;
    let action = if active {
        "rep.activated"
    } else {
        "rep.deactivated"
    };
    let found = state
        .store
        .run(move |conn| {
            conn.transaction(|c| {
                if !reps::set_active(c, &id, active)? {
                    return Ok(false);
                }
                audit::append(
                    c,
                    &audit::Entry {
                        actor: &caller.actor,
                        action,
                        workflow_id: None,
                        reason: Some(&reason),
                        detail: json!({ "rep_id": id }),
                    },
                )?;
                Ok::<_, StoreError>(true)
            })
        })
        .await
        .map_err(store_error)?;
    if found { Ok(()) } else { Err(not_found()) }
}

/// Every rep, active or not.
#[derive(Serialize, ToSchema)]
pub struct Reps {
    reps: Vec<Rep>,
}

#[utoipa::path(security(("bearer" = ["viewer"])), responses((status = OK, body = Reps)))]
#[get("/reps")]
pub async fn list(_caller: Caller, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let all = state.store.run(reps::list_all).await.map_err(store_error)?;
    Ok(HttpResponse::Ok().json(Reps { reps: all }))
}

#[utoipa::path(security(("bearer" = ["viewer"])), responses((status = OK, body = Rep)))]
#[get("/reps/{id}")]
pub async fn get(
    _caller: Caller,
    id: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let rep = state
        .store
        .run(move |c| reps::find_by_id(c, &id))
        .await
        .map_err(store_error)?
        .ok_or_else(not_found)?;
    Ok(HttpResponse::Ok().json(rep))
}

/// Adds a rep; the next lead may be routed to them.
#[utoipa::path(
    security(("bearer" = ["admin"])),
    responses(
        (status = CREATED, body = Rep),
        (status = CONFLICT, description = "A rep with this id exists, or another rep has this mailbox", body = ErrorBody),
    ),
)]
#[post("/reps")]
pub async fn add(
    caller: Caller,
    body: web::Json<RepInput>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let input = body.into_inner();
    let id = input.id.clone().unwrap_or_default().trim().to_string();
    let rep = save(&state, caller, id, input, true).await?;
    Ok(HttpResponse::Created().json(rep))
}

/// Replaces a rep's fields (the body as for a new rep, without `id`).
#[utoipa::path(
    security(("bearer" = ["admin"])),
    responses(
        (status = OK, body = Rep),
        (status = CONFLICT, description = "Another rep has this mailbox", body = ErrorBody),
    ),
)]
#[put("/reps/{id}")]
pub async fn replace(
    caller: Caller,
    id: web::Path<String>,
    body: web::Json<RepInput>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let rep = save(&state, caller, id.into_inner(), body.into_inner(), false).await?;
    Ok(HttpResponse::Ok().json(rep))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct Why {
    #[serde(default)]
    reason: String,
}

/// No new leads are routed to the rep.
#[utoipa::path(
    security(("bearer" = ["admin"])),
    responses((status = NO_CONTENT, description = "Deactivated")),
)]
#[post("/reps/{id}/deactivate")]
pub async fn deactivate(
    caller: Caller,
    id: web::Path<String>,
    body: web::Json<Why>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    set_active(&state, caller, id.into_inner(), false, &body.reason).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Leads may be routed to the rep again.
#[utoipa::path(
    security(("bearer" = ["admin"])),
    responses((status = NO_CONTENT, description = "Activated")),
)]
#[post("/reps/{id}/activate")]
pub async fn activate(
    caller: Caller,
    id: web::Path<String>,
    body: web::Json<Why>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    set_active(&state, caller, id.into_inner(), true, &body.reason).await?;
    Ok(HttpResponse::NoContent().finish())
}
