//! Signing in and out. People sign in with Google (`signin_google`); as
//! break-glass, a person may paste the admin or viewer token once into a form
//! (never a URL) when `SALES_AGENT_CONSOLE_TOKEN_SIGNIN` allows (off by default
//! on an https console). Either way the server keeps a session row and hands the
//! browser a cookie. The sign-in forms have their own CSRF token, a
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
use crate::store::signin_links::LinkGrant;
use crate::store::{DbConn, StoreError, audit, sessions};
use crate::web::AppState;
use crate::web::auth::{Role, clean_actor, matches};

const SIGNIN_COOKIE: &str = "sa_signin";

#[derive(Debug, Deserialize)]
pub struct FormQuery {
    /// Why a Google sign-in was refused (`signin_google::problem_text`).
    #[serde(default)]
    problem: String,
}

pub async fn form(
    query: web::Query<FormQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ConsoleError> {
    match super::signin_google::problem_text(&query.problem) {
        Some(problem) => show(&state, StatusCode::FORBIDDEN, Some(problem)),
        None => show(&state, StatusCode::OK, None),
    }
}

/// The sign-in page with `problem` explained on it (and `status`).
pub(super) fn show(
    state: &AppState,
    status: StatusCode,
    problem: Option<&str>,
) -> Result<HttpResponse, ConsoleError> {
    let csrf = session::random_token();
    let body = templates::render(
        "signin.html",
        context! {
            csrf => csrf.clone(), problem, css_path => CSS_PATH,
            google => state.google.is_some(),
            token_signin => state.config.console_access.token_signin,
        },
    )
    .map_err(|e| ConsoleError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    let mut builder = HttpResponse::build(status);
    builder.cookie(form_cookie(state, csrf));
    let mut response = page::html(builder, body);
    if let Some(google) = &state.google {
        page::allow_form_redirect_to(&mut response, &google.authorization_origin());
    }
    Ok(response)
}

/// The double-submit cookie of a sign-in form (no session exists yet to hold
/// its CSRF token); it covers every form under `/signin`.
pub(super) fn form_cookie(state: &AppState, csrf: String) -> Cookie<'static> {
    Cookie::build(SIGNIN_COOKIE, csrf)
        .path("/signin")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(state.config.public_url.scheme() == "https")
        .finish()
}

/// True when a sign-in form's `csrf` field matches its cookie.
pub(super) fn form_csrf_ok(req: &HttpRequest, csrf: &str) -> bool {
    req.cookie(SIGNIN_COOKIE)
        .is_some_and(|c| bool::from(c.value().as_bytes().ct_eq(csrf.as_bytes())))
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
    if !state.config.console_access.token_signin {
        return show(
            &state,
            StatusCode::FORBIDDEN,
            Some("Signing in with a token is switched off here. Sign in with Google."),
        );
    }
    if !form_csrf_ok(&req, &form.csrf) {
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
    let grant = LinkGrant {
        role: base.to_string(),
        actor,
    };
    let opened = open_session_from(
        &state,
        json!({ "role": base }),
        client_of(&req),
        move |_| Ok(Some(grant.clone())),
    )
    .await?;
    Ok(opened.expect("a checked token always grants a session"))
}

/// Where a request comes from, as a session records it: the client's address
/// (through trusted proxies, see `web::client`) and
/// the browser's own description, cut short. Shown to people, never trusted.
pub(super) fn client_of(req: &HttpRequest) -> sessions::Client {
    sessions::Client {
        ip: crate::web::client::origin_of(req)
            .client_ip
            .map(|ip| ip.to_string()),
        user_agent: req
            .headers()
            .get(actix_web::http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|ua| ua.chars().take(160).collect()),
    }
}

/// Opens a session for whom `grant` names — it runs first, inside the same
/// transaction as the session row and the audit entry, and may refuse (`None`,
/// nothing written) — and answers with the cookie and a redirect to `/`.
pub(super) async fn open_session<F>(
    state: &AppState,
    detail: serde_json::Value,
    grant: F,
) -> Result<Option<HttpResponse>, ConsoleError>
where
    F: Fn(&mut DbConn) -> Result<Option<LinkGrant>, StoreError> + Send + 'static,
{
    open_session_from(state, detail, sessions::Client::default(), grant).await
}

/// [`open_session`], recording where the browser signed in from.
pub(super) async fn open_session_from<F>(
    state: &AppState,
    detail: serde_json::Value,
    client: sessions::Client,
    grant: F,
) -> Result<Option<HttpResponse>, ConsoleError>
where
    F: Fn(&mut DbConn) -> Result<Option<LinkGrant>, StoreError> + Send + 'static,
{
    let (cookie_token, csrf) = (session::random_token(), session::random_token());
    let expires = crate::store::now() + chrono::TimeDelta::hours(SESSION_HOURS);
    let stored = cookie_token.clone();
    let opened = state
        .store
        .run(move |c| {
            diesel::Connection::transaction(c, |c| {
                let Some(who) = grant(c)? else {
                    return Ok(false);
                };
                // Sessions that ended a week ago are of no further use; forget them.
                sessions::delete_ended(c, crate::store::now() - chrono::TimeDelta::days(7))?;
                sessions::insert_from(c, &stored, &who.role, &who.actor, &csrf, expires, &client)?;
                audit::append(
                    c,
                    &audit::Entry {
                        actor: &who.actor,
                        action: "console.signed_in",
                        workflow_id: None,
                        reason: None,
                        detail: detail.clone(),
                    },
                )?;
                Ok(true)
            })
        })
        .await?;
    if !opened {
        return Ok(None);
    }
    let mut gone = Cookie::build(SIGNIN_COOKIE, "").path("/signin").finish();
    gone.make_removal();
    Ok(Some(
        HttpResponse::SeeOther()
            .cookie(session::cookie(state, cookie_token))
            .cookie(gone)
            .insert_header((actix_web::http::header::LOCATION, "/"))
            .finish(),
    ))
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
