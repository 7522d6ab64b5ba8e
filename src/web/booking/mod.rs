//! The public booking page: no sign-in, server-rendered, works without
//! JavaScript. The signed token in the link (`compose::booking_link`) is all
//! the authority it has: it names the workflow and, for a slot, the time.
//!
//! - `GET /book/{token}` — the slot in the prospect's zone with one button, or
//!   the rep's other free times (a "more times" token); **a GET never books**
//!   (mail scanners open links). `?tz=` shows the times in another zone.
//! - `POST /book/{token}` — confirms the slot (`confirm`).
//! - `GET|POST /book/{token}/cancel` — asks, then cancels (`cancel`).
//! - `/book-static/…` — the stylesheet and the zone script (CSP: no inline code).
//!
//! A forged or mangled token gets 404, an expired one 410, never a panic. The
//! prospect's own text never appears here; names and times are escaped text.

mod cancel;
mod confirm;
mod view;

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use chrono::Utc;
use serde::Deserialize;

use super::AppState;
use crate::compose::booking_link::{self, Refused, Target};
use crate::store::{StoreError, settings};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/book/{token}", web::get().to(view::show))
        .route("/book/{token}", web::post().to(confirm::confirm))
        .route("/book/{token}/cancel", web::get().to(cancel::ask))
        .route("/book/{token}/cancel", web::post().to(cancel::cancel))
        .route("/book-static/{file}", web::get().to(static_file));
}

/// `?tz=` (a zone to show the times in) and `?reschedule=1`.
#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    pub tz: Option<String>,
    pub reschedule: Option<String>,
}

impl PageQuery {
    pub fn rescheduling(&self) -> bool {
        self.reschedule.as_deref() == Some("1")
    }
}

/// What a token came to.
enum Checked {
    Genuine(Target),
    /// An answer already: 404 for a bad token, 410 for an expired one.
    Refused(HttpResponse),
}

async fn check(state: &AppState, token: &str) -> Result<Checked, StoreError> {
    let secret = state.store.run(settings::booking_secret).await?;
    Ok(match booking_link::verify(&secret, token, Utc::now()) {
        Ok(target) => Checked::Genuine(target),
        Err(Refused::Invalid) => Checked::Refused(view::message(
            HttpResponse::NotFound(),
            "This link is not valid",
            "Please use the link from the email itself.",
            None,
        )),
        Err(Refused::Expired(target)) => {
            let times = booking_link::times_token(&secret, target.workflow_id(), Utc::now());
            Checked::Refused(view::message(
                HttpResponse::Gone(),
                "This time has passed",
                "The link was for a time that is no longer offered.",
                Some(times),
            ))
        }
    })
}

/// The stylesheet and the script that picks the browser's zone.
async fn static_file(file: web::Path<String>) -> HttpResponse {
    let (body, kind) = match file.as_str() {
        "booking.css" => (
            include_str!("static/booking.css"),
            "text/css; charset=utf-8",
        ),
        "zone.js" => (
            include_str!("static/zone.js"),
            "text/javascript; charset=utf-8",
        ),
        _ => return HttpResponse::NotFound().finish(),
    };
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, kind))
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(body)
}

/// The page for a store that could not answer: try again, nothing changed.
fn unavailable(error: impl std::fmt::Display) -> HttpResponse {
    tracing::error!(%error, "booking page could not be served");
    view::message(
        HttpResponse::ServiceUnavailable(),
        "Please try again shortly",
        "We could not process your request just now.",
        None,
    )
}
