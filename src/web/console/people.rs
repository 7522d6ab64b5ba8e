//! `GET /people`: who may sign in with Google (admins from the settings, people
//! named here by an admin) and who is signed in now, from where; admins name
//! people, remove them and revoke sessions. Every change is audited, and a
//! person whose role changes or who is removed is signed out everywhere (a
//! session keeps the role it was opened with).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use minijinja::context;
use serde::Deserialize;
use serde_json::json;

use super::error::ConsoleError;
use super::page::{self, see_other};
use super::session::Session;
use super::view;
use crate::store::{DbConn, StoreError, audit, console_users, sessions, settings};
use crate::web::AppState;

pub async fn show(
    session: Session,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ConsoleError> {
    let (mode, named, live) = state
        .store
        .run(|c| {
            Ok((
                settings::mode(c)?,
                console_users::list(c)?,
                sessions::list_live(c, 200)?,
            ))
        })
        .await?;
    let mine = sessions::hash_token(&session.token);
    let access = &state.config.console_access;
    let configured: Vec<_> = access.admins.clone();
    let named: Vec<_> = named
        .iter()
        .map(|u| {
            context! { email => u.email.clone(), role => u.role.clone(),
            added_by => u.added_by.clone(), added => view::time(u.added_at) }
        })
        .collect();
    let live: Vec<_> = live
        .iter()
        .map(|s| {
            context! {
                id => s.token_hash.clone(), actor => s.actor.clone(), role => s.role.clone(),
                since => view::time(s.created_at), until => view::time(s.expires_at),
                ip => s.client_ip.clone().unwrap_or_default(),
                agent => s.user_agent.clone().unwrap_or_default(),
                yours => s.token_hash == mine,
            }
        })
        .collect();
    page::render(
        "people.html",
        &session,
        mode,
        "people",
        context! {
            configured, named, live, domains => access.domains.clone(),
            others_viewers => access.others == crate::config::OthersPolicy::Viewer,
        },
    )
}

#[derive(Debug, Deserialize)]
pub struct Name {
    #[serde(default)]
    csrf: String,
    email: String,
    role: String,
}

pub async fn name(
    req: HttpRequest,
    session: Session,
    form: web::Form<Name>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ConsoleError> {
    session.check_admin_form(&req, &form.csrf)?;
    let email = form.email.trim().to_ascii_lowercase();
    if !email_address::EmailAddress::is_valid(&email) {
        return Err(ConsoleError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "email: not an email address",
        ));
    }
    let role = match form.role.as_str() {
        "admin" | "viewer" => form.role.clone(),
        _ => {
            return Err(ConsoleError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "role: expected admin or viewer",
            ));
        }
    };
    let actor = session.actor.clone();
    state
        .store
        .run(move |c| {
            diesel::Connection::transaction(c, |c| {
                let before = console_users::upsert(c, &email, &role, &actor)?;
                if before.as_deref() != Some(role.as_str()) {
                    sessions::revoke_actor(c, &email)?;
                }
                record(
                    c,
                    &actor,
                    "console.user_named",
                    json!({ "email": email, "role": role, "before": before }),
                )
            })
        })
        .await?;
    Ok(see_other("/people"))
}

#[derive(Debug, Deserialize)]
pub struct Remove {
    #[serde(default)]
    csrf: String,
    email: String,
}

pub async fn remove(
    req: HttpRequest,
    session: Session,
    form: web::Form<Remove>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ConsoleError> {
    session.check_admin_form(&req, &form.csrf)?;
    let email = form.email.trim().to_ascii_lowercase();
    let actor = session.actor.clone();
    state
        .store
        .run(move |c| {
            diesel::Connection::transaction(c, |c| {
                if console_users::remove(c, &email)? {
                    let ended = sessions::revoke_actor(c, &email)?;
                    record(
                        c,
                        &actor,
                        "console.user_removed",
                        json!({ "email": email, "sessions_ended": ended }),
                    )?;
                }
                Ok(())
            })
        })
        .await?;
    Ok(see_other("/people"))
}

#[derive(Debug, Deserialize)]
pub struct Revoke {
    #[serde(default)]
    csrf: String,
    session: String,
}

pub async fn revoke(
    req: HttpRequest,
    session: Session,
    form: web::Form<Revoke>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ConsoleError> {
    session.check_admin_form(&req, &form.csrf)?;
    let (id, actor) = (form.session.clone(), session.actor.clone());
    state
        .store
        .run(move |c| {
            diesel::Connection::transaction(c, |c| {
                if let Some(whose) = sessions::revoke_by_hash(c, &id)? {
                    record(
                        c,
                        &actor,
                        "console.session_revoked",
                        json!({ "session_of": whose }),
                    )?;
                }
                Ok(())
            })
        })
        .await?;
    Ok(see_other("/people"))
}

fn record(
    c: &mut DbConn,
    actor: &str,
    action: &str,
    detail: serde_json::Value,
) -> Result<(), StoreError> {
    audit::append(
        c,
        &audit::Entry {
            actor,
            action,
            workflow_id: None,
            reason: None,
            detail,
        },
    )
}
