//! The outcome check: for every recent assignment still missing an outcome, is
//! there a message from the prospect in the reply's Gmail thread after the reply
//! was composed, and an event on the rep's calendar with the prospect as attendee
//! created since? Run by the supervisor on a timer and by the admin API on demand.
//! Outcomes are only ever added, so running it twice changes nothing.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use crate::connectors::ConnectorError;
use crate::connectors::calendar::EVENTS_LIST;
use crate::connectors::gmail::{Format, ListRequest, THREADS_GET, THREADS_LIST};
use crate::connectors::query::{Folder, GmailQuery};
use crate::domain::{Delivery, RouteInfo};
use crate::services::Services;
use crate::store::experiments::{self as store, Assignment};
use crate::store::{StoreError, reps, step_runs};

/// Assignments older than this are no longer watched.
const WINDOW_DAYS: i64 = 60;
/// At most this many assignments per run; the next run continues.
const BATCH: i64 = 500;

#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct CheckReport {
    pub checked: usize,
    pub new_replies: usize,
    pub new_meetings: usize,
    /// Assignments whose mailbox or calendar could not be read this time.
    pub failed: usize,
}

/// What the check needs from the workflow that made the assignment.
struct Trail {
    delivery: Option<Delivery>,
    route: Option<RouteInfo>,
}

fn trail(conn: &mut crate::store::DbConn, workflow_id: &str) -> Result<Trail, StoreError> {
    let mut trail = Trail {
        delivery: None,
        route: None,
    };
    for run in step_runs::list_for_workflow(conn, workflow_id)? {
        let Some(output) = run.output.as_deref() else {
            continue;
        };
        match run.step.as_str() {
            "deliver" => trail.delivery = serde_json::from_str(output).ok(),
            "route" => trail.route = serde_json::from_str(output).ok(),
            _ => {}
        }
    }
    Ok(trail)
}

/// The bare address of a `From` header (`Name <a@b>` or `a@b`), lower-cased.
pub(crate) fn address(from: &str) -> String {
    let inner = match (from.rfind('<'), from.rfind('>')) {
        (Some(open), Some(close)) if open < close => &from[open + 1..close],
        _ => from,
    };
    inner.trim().to_lowercase()
}

/// Checks every open assignment once.
pub async fn check(services: &Services) -> Result<CheckReport, StoreError> {
    let since = (Utc::now() - Duration::days(WINDOW_DAYS)).naive_utc();
    let open = services
        .store
        .run(move |c| store::open_assignments(c, since, BATCH))
        .await?;
    let mut report = CheckReport::default();
    for assignment in open {
        report.checked += 1;
        match check_one(services, &assignment).await {
            Ok((reply, meeting)) => {
                report.new_replies += usize::from(reply.is_some());
                report.new_meetings += usize::from(meeting.is_some());
                let id = assignment.id.clone();
                services
                    .store
                    .run(move |c| store::record_outcome(c, &id, reply, meeting))
                    .await?;
            }
            Err(error) => {
                report.failed += 1;
                tracing::warn!(assignment.id = %assignment.id, %error, "experiment outcome check failed");
            }
        }
    }
    Ok(report)
}

type Found = (Option<chrono::NaiveDateTime>, Option<chrono::NaiveDateTime>);

async fn check_one(services: &Services, a: &Assignment) -> Result<Found, ConnectorError> {
    let workflow_id = a.workflow_id.clone();
    let trail = services
        .store
        .run(move |c| trail(c, &workflow_id))
        .await
        .map_err(|e| ConnectorError::transient(e.to_string()))?;
    let assigned = a.assigned_at.and_utc();
    let mut reply = None;
    if a.replied_at.is_none()
        && let Some(d) = &trail.delivery
        && let Some(thread_id) = reply_thread(services, d).await?
    {
        reply = reply_after(services, &d.mailbox, &thread_id, &a.contact_email, assigned).await?;
    }
    let mut meeting = None;
    if a.meeting_at.is_none()
        && let Some(route) = &trail.route
    {
        let rep_id = route.rep_id.clone();
        let rep = services
            .store
            .run(move |c| reps::find_by_id(c, &rep_id))
            .await
            .map_err(|e| ConnectorError::transient(e.to_string()))?;
        if let Some(rep) = rep {
            meeting = meeting_after(services, &rep, &a.contact_email, assigned).await?;
        }
    }
    Ok((reply.map(|t| t.naive_utc()), meeting.map(|t| t.naive_utc())))
}

/// The Gmail thread the reply went into: the one it was threaded into, else the
/// one Gmail filed our message in (a new thread), found by its Message-ID.
async fn reply_thread(services: &Services, d: &Delivery) -> Result<Option<String>, ConnectorError> {
    if let Some(thread_id) = &d.thread_id {
        return Ok(Some(thread_id.clone()));
    }
    thread_of(services, &d.mailbox, &d.message_id).await
}

/// The Gmail thread in `mailbox` holding our message `message_id` (a draft or
/// sent), found by its Message-ID.
pub(crate) async fn thread_of(
    services: &Services,
    mailbox: &str,
    message_id: &str,
) -> Result<Option<String>, ConnectorError> {
    let query = GmailQuery::new()
        .in_folder(Folder::Anywhere)
        .rfc822msgid(message_id)?;
    let (mailbox, request) = (
        mailbox.to_string(),
        ListRequest {
            q: Some(query),
            max_results: Some(1),
            page_token: None,
        },
    );
    let page = services
        .gmail(&mailbox.clone(), &THREADS_LIST, move |g| {
            let (mailbox, request) = (mailbox.clone(), request.clone());
            async move { g.threads_list(&mailbox, &request).await }
        })
        .await?;
    Ok(page.threads.first().map(|t| t.id.clone()))
}

/// When the prospect first wrote in the thread after `after`.
async fn reply_after(
    services: &Services,
    mailbox: &str,
    thread_id: &str,
    contact: &str,
    after: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, ConnectorError> {
    let (m, id) = (mailbox.to_string(), thread_id.to_string());
    let thread = services
        .gmail(mailbox, &THREADS_GET, move |g| {
            let (m, id) = (m.clone(), id.clone());
            async move { g.threads_get(&m, &id, Format::Metadata).await }
        })
        .await?;
    Ok(thread
        .messages
        .iter()
        .filter(|m| {
            m.payload
                .as_ref()
                .and_then(|p| p.header("From"))
                .is_some_and(|from| address(from) == contact)
        })
        .filter_map(|m| m.internal_date.as_deref()?.parse::<i64>().ok())
        .filter_map(DateTime::<Utc>::from_timestamp_millis)
        .filter(|at| *at > after)
        .min())
}

/// When an event with the prospect as attendee was first put on the rep's calendar.
async fn meeting_after(
    services: &Services,
    rep: &crate::domain::Rep,
    contact: &str,
    after: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, ConnectorError> {
    let (account, calendar, text) = (
        rep.email.clone(),
        rep.calendar_id.clone(),
        contact.to_string(),
    );
    let events = services
        .calendar(&rep.email, &EVENTS_LIST, move |c| {
            let (account, calendar, text) = (account.clone(), calendar.clone(), text.clone());
            async move { c.events_matching(&account, &calendar, &text, after).await }
        })
        .await?;
    Ok(events
        .iter()
        .filter(|e| e.status.as_deref() != Some("cancelled"))
        .filter(|e| {
            e.attendees
                .iter()
                .any(|p| p.email.eq_ignore_ascii_case(contact))
        })
        .filter_map(|e| match e.created {
            Some(created) if created < after => None,
            Some(created) => Some(created),
            None => Some(Utc::now()),
        })
        .min())
}

#[cfg(test)]
mod tests {
    use super::address;

    #[test]
    fn from_headers_reduce_to_the_address() {
        assert_eq!(
            address("Laura M <Laura@BrightPath.com>"),
            "laura@brightpath.com"
        );
        assert_eq!(address(" ana@x.org "), "ana@x.org");
    }
}
