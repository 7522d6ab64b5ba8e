//! `GET /drafts`: replies waiting for approval in draft-only mode, newest first,
//! each with its preview, guardrail verdict, approve & send, and a Gmail link;
//! a draft gone stale (the prospect replied or booked) says so, and offers no
//! approval.

use actix_web::{HttpResponse, web};
use minijinja::context;

use super::error::ConsoleError;
use super::page;
use super::session::Session;
use super::view::{self, DraftView};
use crate::store::{console_queries, settings};
use crate::web::AppState;

pub async fn list(
    session: Session,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ConsoleError> {
    let (mode, waiting) = state
        .store
        .run(|c| Ok((settings::mode(c)?, console_queries::drafts_waiting(c, 50)?)))
        .await?;
    let drafts: Vec<_> = waiting
        .iter()
        .filter_map(|w| {
            let draft = DraftView::new(
                &w.workflow,
                &view::parse(w.compose.as_deref()),
                &view::parse(Some(&w.delivery)),
                None,
            )?
            .with_stale(w.stale);
            Some(context! { id => w.workflow.id.clone(), created => view::time(w.workflow.created_at), draft })
        })
        .collect();
    page::render("drafts.html", &session, mode, "drafts", context! { drafts })
}
