//! Signing in and out. Until Google sign-in exists, a person pastes the admin or
//! viewer token once into a form (never a URL); the server keeps a session row
//! and hands the browser a cookie. The sign-in form has its own CSRF token, a
//! double-submit cookie, because no session exists yet.

use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use minijinja::context;
use serde::Deserialize;
use serde_json::json;
use subtle::ConstantTimeEq;

use super::error::ConsoleError;
use super::page;
use super::session::{self, SESSION_HOURS, Session};
use super::static_files::CSS_PATH;
use super::templates;
use crate::store::{audit, sessions};
use crate::web::AppState;
use crate::web::auth::{Role, clean_actor, matches};

const SIGNIN_COOKIE: &str = "sa_signin";

pub async fn form(state: web::Data<AppState>) -> Result<HttpResponse, ConsoleError> {
    show(&state, StatusCode::OK, None)
}

fn show(
    state: &AppState,
    status: StatusCode,
    problem: Option<&str>,
) -> Result<HttpResponse, ConsoleError> {
    let csrf = session::random_token();
    let body = templates::render(
        "signin.html",
        context! { csrf => csrf.clone(), problem, css_path => CSS_PATH },
    )
    .map_err(|e| ConsoleError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    let mut builder = HttpResponse::build(status);
    builder.cookie(
        Cookie::build(SIGNIN_COOKIE, csrf)
            .path("/signin")
            .http_only(true)
            .same_site(SameSite::Strict)
            .secure(state.config.public_url.scheme() == "https")
            .finish(),
    );
    Ok(page::html(builder, body))
}

#[derive(Debug, Deserialize)]
pub struct SignIn {
    token: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    csrf: String,
}

pub async fn sign_in(
    req: HttpRequest,
    form: web::Form<SignIn>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ConsoleError> {
    session::check_origin(&req)?;
    let expected = req.cookie(SIGNIN_COOKIE).map(|c| c.value().to_string());
    if !expected.is_some_and(|e| bool::from(e.as_bytes().ct_eq(form.csrf.as_bytes()))) {
        return show(
            &state,
            StatusCode::FORBIDDEN,
            Some("The form expired. Please try again."),
        );
    }
    let token = form.token.trim();
    let role = if matches(&state.config.admin_token, token) {
        Role::Admin
    } else if matches(&state.config.viewer_token, token) {
        Role::Viewer
    } else {
        return show(
            &state,
            StatusCode::UNAUTHORIZED,
            Some("That token is not valid."),
        );
    };
    let base = session::role_name(role);
    let name = clean_actor(&form.name);
    let actor = if name.is_empty() {
        base.to_string()
    } else {
        format!("{base}:{name}")
    };
    let (cookie_token, csrf) = (session::random_token(), session::random_token());
    let expires = crate::store::now() + chrono::TimeDelta::hours(SESSION_HOURS);
    let stored = cookie_token.clone();
    state
        .store
        .run(move |c| {
            diesel::Connection::transaction(c, |c| {
                // Sessions that ended a week ago are of no further use; forget them.
                sessions::delete_ended(c, crate::store::now() - chrono::TimeDelta::days(7))?;
                sessions::insert(c, &stored, base, &actor, &csrf, expires)?;
                audit::append(
                    c,
                    &audit::Entry {
                        actor: &actor,
                        action: "console.signed_in",
                        workflow_id: None,
                        reason: None,
                        detail: json!({ "role": base }),
                    },
                )
            })
        })
        .await?;
    let mut gone = Cookie::build(SIGNIN_COOKIE, "").path("/signin").finish();
    gone.make_removal();
    Ok(HttpResponse::SeeOther()
        .cookie(session::cookie(&state, cookie_token))
        .cookie(gone)
        .insert_header((actix_web::http::header::LOCATION, "/"))
        .finish())
}

#[derive(Debug, Deserialize)]
pub struct SignOut {
    #[serde(default)]
    csrf: String,
}

pub async fn sign_out(
    req: HttpRequest,
    session: Session,
    form: web::Form<SignOut>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ConsoleError> {
    session.check_form(&req, &form.csrf)?;
    let (token, actor) = (session.token.clone(), session.actor.clone());
    state
        .store
        .run(move |c| {
            diesel::Connection::transaction(c, |c| {
                if sessions::revoke(c, &token)? {
                    audit::append(
                        c,
                        &audit::Entry {
                            actor: &actor,
                            action: "console.signed_out",
                            workflow_id: None,
                            reason: None,
                            detail: json!({}),
                        },
                    )?;
                }
                Ok(())
            })
        })
        .await?;
    Ok(HttpResponse::SeeOther()
        .cookie(session::removal(&state))
        .insert_header((actix_web::http::header::LOCATION, "/signin"))
        .finish())
}
