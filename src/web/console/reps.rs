//! `GET /reps` and `GET /reps/{id}`: each rep (active or not) with mailbox,
//! calendar, zone, working hours, territories and voice profile, and the forms
//! that add and edit reps (handled in `reps_edit`); `POST /reps/{id}/voice`
//! replaces the profile (edited as JSON, validated by the admin API's own rule).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use minijinja::context;
use serde::Deserialize;

use super::error::ConsoleError;
use super::page::{self, see_other};
use super::session::Session;
use super::view;
use crate::domain::{Rep, VoiceProfile};
use crate::store::grants::{self, StatusRow};
use crate::store::{reps, settings, voice_profiles};
use crate::web::AppState;
use crate::web::admin::voice_profiles as profiles;

fn rep_view(rep: &Rep) -> minijinja::Value {
    let hours = &rep.working_hours;
    let days: Vec<String> = hours.days.iter().map(|d| d.to_string()).collect();
    context! {
        id => rep.id.clone(), name => rep.name.clone(), email => rep.email.clone(),
        calendar => rep.calendar_id.clone(), zone => rep.time_zone.clone(),
        hours => format!("{} {}–{}", days.join(" "), hours.start.format("%H:%M"), hours.end.format("%H:%M")),
        territories => rep.territories.join(", "), active => rep.active,
        languages => rep.languages.join(", "),
        // The edit form's values, as the form takes them back.
        hours_field => format!("{}-{}", hours.start.format("%H:%M"), hours.end.format("%H:%M")),
        days_field => days.join(",").to_lowercase(),
        owner => rep.hubspot_owner_id.clone().unwrap_or_default(),
        booking_link => rep.booking_link.clone().unwrap_or_default(),
    }
}

/// A rep's Google account as the console shows it: connected, reconnect
/// needed (since when, why), or not connected (no grant held).
fn google_view(state: &AppState, rep: &Rep, statuses: &[StatusRow]) -> minijinja::Value {
    let stored = statuses
        .iter()
        .find(|s| s.provider == "google" && s.account.eq_ignore_ascii_case(&rep.email));
    match stored {
        Some(s) if !s.connected => context! {
            state => "reconnect_needed", label => "Reconnect needed",
            since => view::time(s.since), reason => s.reason.clone().unwrap_or_default(),
        },
        _ if state.accounts.is_usable(&rep.email) => {
            context! { state => "connected", label => "Connected" }
        }
        _ => context! { state => "not_connected", label => "Not connected" },
    }
}

/// Whether a grant is stored for the rep's mailbox: what *Disconnect Google*
/// would revoke (live or dead).
fn holds_grant(rep: &Rep, stored: &[grants::GrantRow]) -> bool {
    stored
        .iter()
        .any(|g| g.provider == "google" && g.account.eq_ignore_ascii_case(&rep.email))
}

/// What the page says after a disconnection, from Google's answer.
fn disconnected_notice(at_google: Option<&str>) -> Option<&'static str> {
    match at_google? {
        "revoked" => Some("Disconnected: Google revoked the grant, and it was deleted here."),
        "already_invalid" => {
            Some("Disconnected: Google no longer held the grant as valid, and it was deleted here.")
        }
        _ => None,
    }
}

#[derive(Debug, Deserialize)]
pub struct ShowQuery {
    disconnected: Option<String>,
}

/// The active reps whose Google account needs reconnecting, for the overview.
pub(super) async fn reconnect_needed(
    state: &AppState,
) -> Result<Vec<minijinja::Value>, ConsoleError> {
    let (all, statuses) = state
        .store
        .run(|c| Ok((reps::list_active(c)?, grants::disconnected(c, "google")?)))
        .await?;
    Ok(all
        .iter()
        .filter_map(|r| {
            statuses
                .iter()
                .find(|s| s.account.eq_ignore_ascii_case(&r.email))
                .map(|s| context! { id => r.id.clone(), name => r.name.clone(), since => view::time(s.since) })
        })
        .collect())
}

pub async fn list(
    session: Session,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ConsoleError> {
    let (mode, reps, stored, statuses) = state
        .store
        .run(|c| {
            Ok((
                settings::mode(c)?,
                reps::list_all(c)?,
                voice_profiles::list(c)?,
                grants::list_status(c)?,
            ))
        })
        .await?;
    let reps: Vec<_> = reps
        .iter()
        .map(|r| {
            let source = stored
                .iter()
                .find(|p| p.rep_id == r.id)
                .map_or("seed file".to_string(), |p| p.source.clone());
            context! { rep => rep_view(r), source, google => google_view(&state, r, &statuses) }
        })
        .collect();
    page::render("reps.html", &session, mode, "reps", context! { reps })
}

pub async fn show(
    session: Session,
    id: web::Path<String>,
    query: web::Query<ShowQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ConsoleError> {
    let id = id.into_inner();
    let (mode, rep, stored, (statuses, held)) = state
        .store
        .run(move |c| {
            Ok((
                settings::mode(c)?,
                reps::find_by_id(c, &id)?,
                voice_profiles::find_by_rep(c, &id)?,
                (grants::list_status(c)?, grants::list(c)?),
            ))
        })
        .await?;
    let rep = rep.ok_or_else(|| ConsoleError::new(StatusCode::NOT_FOUND, "no such rep"))?;
    let (profile, source, updated) = match &stored {
        Some(p) => (
            &p.profile,
            p.source.clone(),
            format!("{} by {}", view::time(p.updated_at), p.updated_by),
        ),
        None => (&rep.voice, "seed file".to_string(), String::new()),
    };
    let json = serde_json::to_string_pretty(profile).unwrap_or_default();
    let mut response = page::render(
        "rep.html",
        &session,
        mode,
        "reps",
        context! {
            rep => rep_view(&rep), profile => json, source, updated,
            google => google_view(&state, &rep, &statuses),
            holds_grant => holds_grant(&rep, &held),
            notice => disconnected_notice(query.disconnected.as_deref()),
        },
    )?;
    // *Connect Google* answers with a redirect to Google's consent page.
    if session.is_admin()
        && let Some(google) = &state.google
    {
        page::allow_form_redirect_to(&mut response, &google.authorization_origin());
    }
    Ok(response)
}

#[derive(Debug, Deserialize)]
pub struct VoiceForm {
    #[serde(default)]
    csrf: String,
    profile: String,
    #[serde(default)]
    reason: String,
}

pub async fn set_voice(
    req: HttpRequest,
    session: Session,
    id: web::Path<String>,
    form: web::Form<VoiceForm>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ConsoleError> {
    session.check_admin_form(&req, &form.csrf)?;
    let profile: VoiceProfile = serde_json::from_str(&form.profile).map_err(|e| {
        ConsoleError::new(
            StatusCode::BAD_REQUEST,
            format!("the profile is not valid: {e}"),
        )
    })?;
    let id = id.into_inner();
    profiles::replace(&state, session.caller(), id.clone(), profile, &form.reason).await?;
    Ok(see_other(&format!("/reps/{id}")))
}
