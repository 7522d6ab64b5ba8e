//! One-time sign-in links (`sales-agent demo --serve` prints one): the link
//! carries a random token — never the admin token — that opens one console
//! session, once, before it expires (`store::signin_links`).
//!
//! `GET /signin/once/{token}` only shows a confirm button; the `POST` it sends
//! spends the link. Mail scanners, chat unfurlers and browser prefetch fetch
//! links they see, and a GET that signed in would let them burn the reader's
//! link (or be the one signed in); none of them submits forms. The form carries
//! the sign-in forms' double-submit CSRF token and passes the `Origin` check, so
//! another site cannot post it to sign a visitor in to its own session.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use minijinja::context;
use serde::Deserialize;
use serde_json::json;

use super::error::ConsoleError;
use super::signin::{form_cookie, form_csrf_ok, open_session};
use super::static_files::CSS_PATH;
use super::{page, session, templates};
use crate::store::signin_links;
use crate::web::AppState;

/// How long a printed link stays usable.
pub const LINK_MINUTES: i64 = 30;

fn gone() -> ConsoleError {
    ConsoleError::new(
        StatusCode::GONE,
        "This sign-in link has been used or has expired. Sign in at /signin with a token.",
    )
}

/// A token of the shape `session::random_token` makes; anything else is not looked up.
fn well_formed(token: &str) -> bool {
    token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit())
}

pub async fn confirm(
    token: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ConsoleError> {
    let token = token.into_inner();
    if !well_formed(&token) {
        return Err(gone());
    }
    let lookup = token.clone();
    let grant = state
        .store
        .run(move |c| signin_links::find_usable(c, &lookup))
        .await?
        .ok_or_else(gone)?;
    let csrf = session::random_token();
    let body = templates::render(
        "signin_once.html",
        context! {
            csrf => csrf.clone(), css_path => CSS_PATH, action => format!("/signin/once/{token}"),
            role => grant.role, actor => grant.actor,
        },
    )
    .map_err(|e| ConsoleError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    let mut builder = HttpResponse::Ok();
    builder.cookie(form_cookie(&state, csrf));
    Ok(page::html(builder, body))
}

#[derive(Debug, Deserialize)]
pub struct Redeem {
    #[serde(default)]
    csrf: String,
}

pub async fn redeem(
    req: HttpRequest,
    token: web::Path<String>,
    form: web::Form<Redeem>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ConsoleError> {
    session::check_origin(&req)?;
    if !form_csrf_ok(&req, &form.csrf) {
        return Err(ConsoleError::forbidden(
            "this form expired or was not sent from the console; open the link again",
        ));
    }
    let token = token.into_inner();
    if !well_formed(&token) {
        return Err(gone());
    }
    let detail = json!({ "via": "one-time link" });
    open_session(&state, detail, move |c| signin_links::spend(c, &token))
        .await?
        .ok_or_else(gone)
}
