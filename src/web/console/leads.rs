//! `GET /leads`: every lead, newest first, with filters (status, rep, intent,
//! email, company, date range) and cursor paging over the admin API's query. Two queries a page:
//! the workflows, then their intent and rep. htmx refreshes the table in place.

use actix_web::{HttpRequest, HttpResponse, web};
use minijinja::context;
use serde::{Deserialize, Serialize};

use super::error::ConsoleError;
use super::labels::{self, INTENTS};
use super::page;
use super::session::Session;
use super::view::LeadRow;
use crate::store::admin_queries::{self, OutputFilter, WorkflowFilter};
use crate::store::workflows::WorkflowStatus;
use crate::store::{console_queries, reps, settings};
use crate::web::AppState;
use crate::web::admin::workflows::{decode_cursor, encode_cursor, parse_time};

const PAGE: i64 = 50;

/// The list's filters, as the form sends them (empty means "any").
#[derive(Debug, Default, Clone, Deserialize, Serialize)]
pub struct Filters {
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub rep: String,
    #[serde(default)]
    pub intent: String,
    #[serde(default)]
    pub email: String,
    /// A prefix of the company's name (see `store::search`).
    #[serde(default)]
    pub company: String,
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
    #[serde(default)]
    pub cursor: String,
}

impl Filters {
    /// The store filter; `problem` names a value that could not be read.
    pub fn to_filter(&self, limit: i64) -> Result<WorkflowFilter, ConsoleError> {
        let bad = |e: crate::web::ApiError| ConsoleError::new(e.status, e.message);
        let opt = |s: &str| Some(s.trim()).filter(|s| !s.is_empty()).map(str::to_string);
        Ok(WorkflowFilter {
            status: match opt(&self.status) {
                None => None,
                Some(raw) => Some(WorkflowStatus::parse(&raw).ok_or_else(|| {
                    ConsoleError::new(actix_web::http::StatusCode::BAD_REQUEST, "unknown status")
                })?),
            },
            email: opt(&self.email),
            company: opt(&self.company),
            created_from: opt(&self.from)
                .map(|raw| parse_time("from", &raw))
                .transpose()
                .map_err(bad)?,
            created_to: opt(&self.to)
                .map(|raw| parse_time("to", &raw))
                .transpose()
                .map_err(bad)?,
            before: opt(&self.cursor)
                .map(|raw| decode_cursor(&raw))
                .transpose()
                .map_err(bad)?,
            limit,
        })
    }

    /// The step-output filters (rep, intent); an unknown intent is refused.
    pub fn outputs(&self) -> Result<OutputFilter, ConsoleError> {
        let opt = |s: &str| Some(s.trim()).filter(|s| !s.is_empty()).map(str::to_string);
        let intent = opt(&self.intent);
        if intent
            .as_deref()
            .is_some_and(|i| !INTENTS.iter().any(|known| known.as_str() == i))
        {
            return Err(ConsoleError::new(
                actix_web::http::StatusCode::BAD_REQUEST,
                "unknown intent",
            ));
        }
        Ok(OutputFilter {
            intent,
            rep: opt(&self.rep),
        })
    }

    /// The query string of these filters, with another cursor.
    fn with_cursor(&self, cursor: &str) -> String {
        let mut next = self.clone();
        next.cursor = cursor.to_string();
        serde_urlencoded::to_string(&next).unwrap_or_default()
    }
}

pub async fn list(
    req: HttpRequest,
    session: Session,
    query: web::Query<Filters>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ConsoleError> {
    let filters = query.into_inner();
    let (filter, by_output) = (filters.to_filter(PAGE)?, filters.outputs()?);
    let (mode, rows, outputs, reps) = state
        .store
        .run(move |c| {
            let rows = admin_queries::list_workflows_with(c, &filter, &by_output)?;
            let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
            let outputs = console_queries::step_outputs(c, &ids, &["qualify", "route"])?;
            Ok((settings::mode(c)?, rows, outputs, reps::list_active(c)?))
        })
        .await?;
    let next = (rows.len() as i64 == PAGE)
        .then(|| rows.last().map(|r| filters.with_cursor(&encode_cursor(r))))
        .flatten();
    let leads: Vec<LeadRow> = rows.iter().map(|r| LeadRow::new(r, &outputs)).collect();
    let statuses: Vec<&str> = WorkflowStatus::ALL.iter().map(|s| s.as_str()).collect();
    let intents: Vec<(&str, &str)> = INTENTS
        .iter()
        .map(|i| (i.as_str(), labels::intent(*i)))
        .collect();
    let reps: Vec<(String, String)> = reps.into_iter().map(|r| (r.id, r.name)).collect();
    let own = context! {
        leads,
        next,
        filters => filters.clone(),
        statuses,
        intents,
        reps,
        refresh => format!("/leads?{}", serde_urlencoded::to_string(&filters).unwrap_or_default()),
        dead_filter => filters.status == WorkflowStatus::DeadLettered.as_str(),
    };
    let template = if page::is_htmx(&req) {
        "leads_table.html"
    } else {
        "leads.html"
    };
    page::render(template, &session, mode, "leads", own)
}
