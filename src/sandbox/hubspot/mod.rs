//! HubSpot CRM (real base `https://api.hubapi.com`): objects (contacts,
//! companies, notes, tasks, emails, meetings) — create, update, read, batch read, contact
//! upsert by email,
//! search — associations (v3 list, v4 list and default PUT), owners, and the
//! Forms API submissions list. Private-app bearer tokens from the fixture, or
//! OAuth access tokens of an installed app (install page, token API: `install.rs`,
//! `oauth.rs`, `oauth_model.rs`).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};

mod batch;
mod install;
mod links;
mod oauth;
pub mod oauth_model;
mod objects;
mod rules;
pub mod search;

use super::Sandbox;
use super::gate::{Cost, Endpoint, endpoint};
use super::respond::{self, Provider};
use super::state::ObjectType;

use batch::{batch_read, upsert_contacts};
use links::{
    form_submissions, list_associations_v3, list_associations_v4, owners, put_association,
};
use objects::{create_object, get_object, list_objects, search_objects, update_object};

const P: Provider = Provider::HubSpot;
const UPSERT: Endpoint = endpoint("hubspot.contacts.upsert", P, Cost::HubSpot);
const ASSOC_LIST: Endpoint = endpoint("hubspot.associations.list", P, Cost::HubSpot);
const ASSOC_PUT: Endpoint = endpoint("hubspot.associations.put", P, Cost::HubSpot);
const OWNERS: Endpoint = endpoint("hubspot.owners.list", P, Cost::HubSpot);
const FORMS: Endpoint = endpoint("hubspot.forms.submissions", P, Cost::HubSpot);

/// The stable endpoint name for an operation on a type, e.g. `hubspot.notes.create`.
fn op(t: ObjectType, action: Action) -> Endpoint {
    use Action::*;
    use ObjectType::*;
    let name: &'static str = match (t, action) {
        (Contacts, Search) => "hubspot.contacts.search",
        (Companies, Search) => "hubspot.companies.search",
        (Notes, Search) => "hubspot.notes.search",
        (Tasks, Search) => "hubspot.tasks.search",
        (Emails, Search) => "hubspot.emails.search",
        (Meetings, Search) => "hubspot.meetings.search",
        (Contacts, Create) => "hubspot.contacts.create",
        (Companies, Create) => "hubspot.companies.create",
        (Notes, Create) => "hubspot.notes.create",
        (Tasks, Create) => "hubspot.tasks.create",
        (Emails, Create) => "hubspot.emails.create",
        (Meetings, Create) => "hubspot.meetings.create",
        (Contacts, Update) => "hubspot.contacts.update",
        (Companies, Update) => "hubspot.companies.update",
        (Notes, Update) => "hubspot.notes.update",
        (Tasks, Update) => "hubspot.tasks.update",
        (Emails, Update) => "hubspot.emails.update",
        (Meetings, Update) => "hubspot.meetings.update",
        (Contacts, Get) => "hubspot.contacts.get",
        (Companies, Get) => "hubspot.companies.get",
        (Notes, Get) => "hubspot.notes.get",
        (Tasks, Get) => "hubspot.tasks.get",
        (Emails, Get) => "hubspot.emails.get",
        (Meetings, Get) => "hubspot.meetings.get",
        (Contacts, BatchRead) => "hubspot.contacts.batch_read",
        (Companies, BatchRead) => "hubspot.companies.batch_read",
        (Notes, BatchRead) => "hubspot.notes.batch_read",
        (Tasks, BatchRead) => "hubspot.tasks.batch_read",
        (Emails, BatchRead) => "hubspot.emails.batch_read",
        (Meetings, BatchRead) => "hubspot.meetings.batch_read",
        (Contacts, List) => "hubspot.contacts.list",
        (Companies, List) => "hubspot.companies.list",
        (Notes, List) => "hubspot.notes.list",
        (Tasks, List) => "hubspot.tasks.list",
        (Emails, List) => "hubspot.emails.list",
        (Meetings, List) => "hubspot.meetings.list",
    };
    let cost = if action == Search {
        Cost::HubSpotSearch
    } else {
        Cost::HubSpot
    };
    endpoint(name, P, cost)
}

/// What is done to an object type (part of the endpoint name).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Search,
    Create,
    Update,
    Get,
    BatchRead,
    List,
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    install::routes(cfg);
    oauth::routes(cfg);
    cfg.route(
        "/crm/v3/objects/{type}/search",
        web::post().to(search_objects),
    )
    .route(
        "/crm/v3/objects/contacts/batch/upsert",
        web::post().to(upsert_contacts),
    )
    .route(
        "/crm/v3/objects/{type}/batch/read",
        web::post().to(batch_read),
    )
    .route(
        "/crm/v3/objects/{type}/{id}/associations/{to}",
        web::get().to(list_associations_v3),
    )
    .route(
        "/crm/v4/objects/{type}/{id}/associations/{to}",
        web::get().to(list_associations_v4),
    )
    .route(
        "/crm/v4/objects/{type}/{id}/associations/default/{to}/{to_id}",
        web::put().to(put_association),
    )
    .route("/crm/v3/objects/{type}/{id}", web::get().to(get_object))
    .route(
        "/crm/v3/objects/{type}/{id}",
        web::patch().to(update_object),
    )
    .route("/crm/v3/objects/{type}", web::post().to(create_object))
    .route("/crm/v3/objects/{type}", web::get().to(list_objects))
    .route("/crm/v3/owners", web::get().to(owners))
    .route("/crm/v3/owners/", web::get().to(owners))
    .route(
        "/form-integrations/v1/submissions/forms/{guid}",
        web::get().to(form_submissions),
    );
}

fn unknown_type(name: &str) -> HttpResponse {
    respond::hubspot(
        StatusCode::BAD_REQUEST,
        "VALIDATION_ERROR",
        &format!("Unable to infer object type from: {name}"),
        vec![],
    )
}

/// Query pairs in order, keeping repeats (`properties=a&properties=b`).
fn query_list(req: &HttpRequest, key: &str) -> Vec<String> {
    serde_urlencoded::from_str::<Vec<(String, String)>>(req.query_string())
        .unwrap_or_default()
        .into_iter()
        .filter(|(k, _)| k == key)
        .flat_map(|(_, v)| {
            v.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect::<Vec<_>>()
        })
        .collect()
}

fn now(sb: &Sandbox) -> chrono::DateTime<chrono::Utc> {
    sb.clock.now_utc()
}
