//! The console's static files, compiled into the binary: htmx (npm `htmx.org`
//! 2.0.11, its licence beside it) and the stylesheet. No CDN at run time.

use actix_web::http::header;
use actix_web::{HttpResponse, web};

/// htmx 2.0.11, `dist/htmx.min.js` of the npm package, unchanged.
const HTMX: &str = include_str!("static/htmx.min.js");
const STYLESHEET: &str = include_str!("static/console.css");

/// Paths the templates link to; the version in the name lets browsers cache for long.
pub const HTMX_PATH: &str = "/console/static/htmx-2.0.11.min.js";
pub const CSS_PATH: &str = "/console/static/console.css";

pub async fn serve(file: web::Path<String>) -> HttpResponse {
    let (body, kind, cache) = match file.as_str() {
        "htmx-2.0.11.min.js" => (
            HTMX,
            "text/javascript; charset=utf-8",
            "public, max-age=31536000, immutable",
        ),
        "console.css" => (STYLESHEET, "text/css; charset=utf-8", "public, max-age=300"),
        _ => return HttpResponse::NotFound().finish(),
    };
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, kind))
        .insert_header((header::CACHE_CONTROL, cache))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(body)
}
