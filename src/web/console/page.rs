//! What every console page shares: the response headers (a strict Content
//! Security Policy, no caching, `Vary: HX-Request`) and the page frame's context
//! (who is signed in, their CSRF token, the mode banner).

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder};
use minijinja::{Value, context};

use super::error::ConsoleError;
use super::session::Session;
use super::static_files::{CSS_PATH, HTMX_PATH};
use super::templates;
use crate::domain::Mode;

/// Scripts and styles only from this origin; no inline script can run, so text
/// that slipped through as markup still could not execute.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// An HTML response with the console's headers.
pub fn html(mut builder: HttpResponseBuilder, body: String) -> HttpResponse {
    builder
        .insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"))
        .insert_header((header::CONTENT_SECURITY_POLICY, CSP))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::REFERRER_POLICY, "same-origin"))
        .insert_header((header::X_FRAME_OPTIONS, "DENY"))
        // Pages answer htmx with a fragment: caches must key on the header.
        .insert_header((header::VARY, "HX-Request"))
        .body(body)
}

/// Browsers apply the page's CSP `form-action` to where a form's answer
/// redirects too: a button whose POST ends at Google's consent (sign in,
/// *Connect Google*) needs the provider's origin allowed on its page.
pub fn allow_form_redirect_to(response: &mut HttpResponse, origin: &str) {
    use actix_web::http::header::{CONTENT_SECURITY_POLICY, HeaderValue};
    let widened = response
        .headers()
        .get(CONTENT_SECURITY_POLICY)
        .and_then(|v| v.to_str().ok())
        .map(|csp| {
            csp.replace(
                "form-action 'self'",
                &format!("form-action 'self' {origin}"),
            )
        })
        .and_then(|csp| HeaderValue::from_str(&csp).ok());
    if let Some(csp) = widened {
        response.headers_mut().insert(CONTENT_SECURITY_POLICY, csp);
    }
}

/// True when htmx asked (it wants the fragment, not the page).
pub fn is_htmx(req: &HttpRequest) -> bool {
    req.headers().contains_key("hx-request")
}

/// The frame's context: merged into each page's own. `mode` draws the banner.
pub fn frame(session: &Session, mode: Mode, nav: &str) -> Value {
    context! {
        me => context! { actor => session.actor.clone(), is_admin => session.is_admin(), role => session.role_name() },
        csrf => session.csrf.clone(),
        mode => mode.as_str(),
        nav,
        css_path => CSS_PATH,
        htmx_path => HTMX_PATH,
    }
}

/// Renders a full page: `template` with the frame and the page's own context.
pub fn render(
    template: &str,
    session: &Session,
    mode: Mode,
    nav: &str,
    own: Value,
) -> Result<HttpResponse, ConsoleError> {
    let merged = context! { ..own, ..frame(session, mode, nav) };
    let body = templates::render(template, merged).map_err(|error| {
        tracing::error!(%error, template, "console template failed");
        ConsoleError::new(
            actix_web::http::StatusCode::INTERNAL_SERVER_ERROR,
            "the page could not be drawn",
        )
    })?;
    Ok(html(HttpResponse::Ok(), body))
}

/// After an action: back to `to` (303, so a reload does not post again).
pub fn see_other(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, to))
        .finish()
}
