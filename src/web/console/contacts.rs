//! `GET /contacts` and `GET /contacts/{email}`: every prospect processed (name,
//! company, rep, intent, last outcome, submissions), searchable by the start of
//! an address, company, name or last name (`store::search`); a contact's page
//! lists all their leads. Three queries a page. `POST /contacts/{email}/erase`
//! (admins, with a reason and a ticked confirmation) erases the person through
//! the admin API's rule.

use actix_web::{HttpRequest, HttpResponse, web};

use crate::web::admin::contacts as erasing;
use minijinja::context;
use serde::{Deserialize, Serialize};

use super::actions::ActionForm;
use super::error::ConsoleError;
use super::page::{self, see_other};
use super::session::Session;
use super::view::{self, LeadRow};
use crate::store::admin_queries::{self, WorkflowFilter};
use crate::store::{console_queries, settings};
use crate::web::AppState;

const PAGE: i64 = 50;

#[derive(Debug, Default, Clone, Deserialize, Serialize)]
pub struct Search {
    #[serde(default)]
    q: String,
    #[serde(default)]
    after: String,
    /// Set by the redirect after an erasure: the page says it was done.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    erased: String,
}

pub async fn list(
    session: Session,
    query: web::Query<Search>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ConsoleError> {
    let search = query.into_inner();
    let (q, after) = (search.q.clone(), search.after.clone());
    let (mode, found, outputs) = state
        .store
        .run(move |c| {
            let after = Some(after.as_str()).filter(|a| !a.is_empty());
            let found = console_queries::contacts(c, Some(&q), after, PAGE)?;
            let ids: Vec<String> = found.iter().map(|f| f.latest.id.clone()).collect();
            let outputs = console_queries::step_outputs(c, &ids, &["qualify", "route"])?;
            Ok((settings::mode(c)?, found, outputs))
        })
        .await?;
    let next = (found.len() as i64 == PAGE)
        .then(|| found.last())
        .flatten()
        .map(|last| {
            serde_urlencoded::to_string(Search {
                q: search.q.clone(),
                after: last.email.clone(),
                erased: String::new(),
            })
            .unwrap_or_default()
        });
    let contacts: Vec<_> = found
        .iter()
        .map(|f| {
            let lead = LeadRow::new(&f.latest, &outputs);
            let submission = view::parse(Some(&f.latest.submission));
            let name = ["first_name", "last_name"]
                .iter()
                .map(|field| view::prospect_field(&submission, field))
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(" ");
            context! { lead, name, submissions => f.submissions,
                       href => format!("/contacts/{}", url::form_urlencoded::byte_serialize(f.email.as_bytes()).collect::<String>()) }
        })
        .collect();
    page::render(
        "contacts.html",
        &session,
        mode,
        "contacts",
        context! { contacts, next, q => search.q, erased => !search.erased.is_empty() },
    )
}

pub async fn show(
    req: HttpRequest,
    session: Session,
    email: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ConsoleError> {
    let email = email.into_inner();
    let filter = WorkflowFilter {
        email: Some(email.clone()),
        limit: 200,
        ..WorkflowFilter::default()
    };
    let (mode, rows, outputs) = state
        .store
        .run(move |c| {
            let rows = admin_queries::list_workflows(c, &filter)?;
            let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
            let outputs = console_queries::step_outputs(c, &ids, &["qualify", "route"])?;
            Ok((settings::mode(c)?, rows, outputs))
        })
        .await?;
    let leads: Vec<LeadRow> = rows.iter().map(|r| LeadRow::new(r, &outputs)).collect();
    let email_path = url::form_urlencoded::byte_serialize(email.as_bytes()).collect::<String>();
    let refresh = format!("/contacts/{email_path}");
    let own = context! { email, leads, next => None::<String>, refresh, email_path };
    let template = if page::is_htmx(&req) {
        "leads_table.html"
    } else {
        "contact.html"
    };
    page::render(template, &session, mode, "contacts", own)
}

pub async fn erase(
    req: HttpRequest,
    session: Session,
    email: web::Path<String>,
    form: web::Form<ActionForm>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ConsoleError> {
    form.check(&req, &session)?;
    erasing::erase_contact(&state, session.caller(), &email, &form.reason).await?;
    Ok(see_other("/contacts?erased=1"))
}
