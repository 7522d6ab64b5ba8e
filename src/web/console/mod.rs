//! The web console: server-rendered pages over the same store queries as the
//! admin API, and actions through the same functions (so audit, validation and
//! roles are written once). Pages work without JavaScript; htmx, embedded in the
//! binary, only refreshes lists in place.
//!
//! | route | who |
//! |---|---|
//! | `GET /signin`, `POST /signin`, `POST /signout` | anyone / signed in |
//! | `GET /signin/once/{token}` (a confirm button), `POST` (spends the link) | holder of a one-time link |
//! | `POST /signin/google`, `GET /signin/google/callback?code=&state=` | anyone (Google decides) |
//! | `GET /people`, `POST /people` email, role, `POST /people/remove` email, `POST /people/sessions/revoke` session | viewer / admin |
//! | `GET /` overview | viewer |
//! | `GET /leads?status=&rep=&intent=&email=&from=&to=&cursor=`, `GET /leads/{id}` | viewer |
//! | `POST /leads/{id}/approve`, `/retry`, `/cancel` `reason` | admin |
//! | `POST /leads/{id}/confirm-meeting` (the booked time, calendar left to the rep) | admin |
//! | `POST /leads/retry-dead` `reason` + the list's filters | admin |
//! | `POST /dead-letters/retry` `reason_group`, `reason` (the overview's retry per group) | admin |
//! | `GET /drafts` | viewer |
//! | `GET /assets?synced=`, `POST /assets/sync`, `POST /assets/{file_id}/tags` tags, `reason` | viewer / admin |
//! | `GET /experiments`, `GET /experiments/{id}`, `POST /experiments` name, variants, `reason`, `POST /experiments/{id}/stop` `reason` | viewer / admin |
//! | `GET /contacts?q=&after=`, `GET /contacts/{email}` | viewer |
//! | `POST /contacts/{email}/erase` `reason` (erase the person; only a hash stays, suppressed) | admin |
//! | `GET /reps`, `GET /reps/{id}`, `POST /reps/{id}/voice` `profile` (JSON), `reason` | viewer / admin |
//! | `POST /reps` (add), `POST /reps/{id}/edit`, `POST /reps/{id}/deactivate`, `POST /reps/{id}/activate`, each with `reason` | admin |
//! | `POST /reps/{id}/connect` (to Google's consent), `GET /reps/connect/callback` | admin |
//! | `POST /reps/{id}/disconnect` `reason` (revoke the mailbox's grant at Google, then delete it) | admin |
//! | `POST /reps/{id}/train` (preview), `POST /reps/{id}/train/apply` `profile`, `reason` | admin |
//! | `GET /reps/{id}/voice.json` (export), `POST /reps/{id}/voice/import` file or pasted JSON, `reason` | viewer / admin |
//! | `GET /settings?q=&suppressed_after=&before=`, `POST /settings/mode`, `POST /settings/suppressions`, `POST /settings/suppressions/remove` | viewer / admin |
//! | `GET /reference` the admin API's reference (from `/api/openapi.json`) | viewer |
//! | `GET /console/static/{file}` htmx and the stylesheet | anyone |
//!
//! Every POST carries the session's CSRF token and passes the `Origin` check
//! (`session`); a viewer's POST is refused by the shared rules (`require_admin`).

mod actions;
mod assets;
mod charts;
mod contacts;
mod drafts;
mod error;
mod experiments;
mod hubspot_connect;
mod labels;
mod lead;
mod leads;
mod overview;
mod page;
mod people;
mod reference;
mod reps;
mod reps_connect;
mod reps_disconnect;
mod reps_edit;
mod session;
mod settings;
mod signin;
mod signin_google;
mod signin_once;
mod static_files;
mod templates;
mod view;
mod voice;

use actix_web::web;

pub use reps_connect::REP_SCOPES;
pub use session::random_token;
pub use signin_once::LINK_MINUTES;

/// Registers the console's routes; called from `web::routes`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(overview::show))
        .route("/signin", web::get().to(signin::form))
        .route("/signin", web::post().to(signin::sign_in))
        .route("/signout", web::post().to(signin::sign_out))
        .route("/signin/google", web::post().to(signin_google::start))
        .route(
            "/signin/google/callback",
            web::get().to(signin_google::callback),
        )
        .route("/people", web::get().to(people::show))
        .route("/people", web::post().to(people::name))
        .route("/people/remove", web::post().to(people::remove))
        .route("/people/sessions/revoke", web::post().to(people::revoke))
        .route("/signin/once/{token}", web::get().to(signin_once::confirm))
        .route("/signin/once/{token}", web::post().to(signin_once::redeem))
        .route("/leads", web::get().to(leads::list))
        .route("/leads/retry-dead", web::post().to(actions::retry_dead))
        .route("/dead-letters/retry", web::post().to(actions::retry_group))
        .route("/leads/{id}", web::get().to(lead::show))
        .route("/leads/{id}/approve", web::post().to(actions::approve))
        .route("/leads/{id}/retry", web::post().to(actions::retry))
        .route("/leads/{id}/cancel", web::post().to(actions::cancel))
        .route(
            "/leads/{id}/confirm-meeting",
            web::post().to(actions::confirm_meeting),
        )
        .route("/drafts", web::get().to(drafts::list))
        .route("/contacts", web::get().to(contacts::list))
        .route("/contacts/{email}", web::get().to(contacts::show))
        .route("/contacts/{email}/erase", web::post().to(contacts::erase))
        .route("/reps", web::get().to(reps::list))
        .route("/reps", web::post().to(reps_edit::create))
        .route(
            "/reps/connect/callback",
            web::get().to(reps_connect::callback),
        )
        .route("/reps/{id}", web::get().to(reps::show))
        .route("/reps/{id}/connect", web::post().to(reps_connect::start))
        .route(
            "/reps/{id}/disconnect",
            web::post().to(reps_disconnect::disconnect),
        )
        .route("/reps/{id}/edit", web::post().to(reps_edit::update))
        .route(
            "/reps/{id}/deactivate",
            web::post().to(reps_edit::deactivate),
        )
        .route("/reps/{id}/activate", web::post().to(reps_edit::activate))
        .route("/reps/{id}/voice", web::post().to(reps::set_voice))
        .route("/reps/{id}/train", web::post().to(voice::train_preview))
        .route("/reps/{id}/train/apply", web::post().to(voice::train_apply))
        .route("/reps/{id}/voice.json", web::get().to(voice::export))
        .route("/reps/{id}/voice/import", web::post().to(voice::import))
        .route("/assets", web::get().to(assets::show))
        .route("/assets/sync", web::post().to(assets::sync))
        .route("/assets/{file_id}/tags", web::post().to(assets::set_tags))
        .route("/experiments", web::get().to(experiments::list))
        .route("/experiments", web::post().to(experiments::create))
        .route("/experiments/{id}", web::get().to(experiments::show))
        .route("/experiments/{id}/stop", web::post().to(experiments::stop))
        .route("/settings", web::get().to(settings::show))
        .route("/settings/mode", web::post().to(settings::set_mode))
        .route(
            "/settings/hubspot/connect",
            web::post().to(hubspot_connect::connect),
        )
        .route(
            "/settings/hubspot/callback",
            web::get().to(hubspot_connect::callback),
        )
        .route(
            "/settings/hubspot/token",
            web::post().to(hubspot_connect::set_token),
        )
        .route("/settings/suppressions", web::post().to(settings::suppress))
        .route(
            "/settings/suppressions/remove",
            web::post().to(settings::unsuppress),
        )
        .route("/reference", web::get().to(reference::show))
        .route("/console/static/{file}", web::get().to(static_files::serve));
}
