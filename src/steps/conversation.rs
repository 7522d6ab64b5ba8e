//! Step 6, conversation context: every team mailbox is searched for threads with
//! the prospect (from or to them); the newest thread is the one to reply in, and
//! its last messages are summarised for the workflow detail. A mailbox that cannot
//! be read (e.g. it needs re-authorisation) is left out; if none can, the step
//! degrades and the reply starts a new thread.

use futures_util::future::join_all;

use crate::connectors::ConnectorError;
use crate::connectors::gmail::{Format, ListRequest, THREADS_GET, THREADS_LIST, Thread};
use crate::connectors::query::GmailQuery;
use crate::engine::state::Conversation;
use crate::engine::{Services, StepCx, StepDone, StepError};

pub async fn run(cx: &StepCx<'_>) -> Result<StepDone, StepError> {
    let lead = cx.lead()?;
    let reps = cx
        .services
        .store
        .run(crate::store::reps::list_active)
        .await?;
    let searches = reps
        .iter()
        .map(|rep| newest_thread(cx.services, rep.email.clone(), lead.email.clone()));
    let results = join_all(searches).await;
    let mut found: Vec<(String, Thread)> = Vec::new();
    let mut failures = Vec::new();
    let mut threads_found = 0;
    for (rep, result) in reps.iter().zip(results) {
        match result {
            Ok(Some((count, thread))) => {
                threads_found += count;
                found.push((rep.email.clone(), thread));
            }
            Ok(None) => {}
            Err(error) => failures.push(format!("{}: {error}", rep.id)),
        }
    }
    if found.is_empty() && !failures.is_empty() && failures.len() == reps.len() {
        return Err(StepError::transient(format!(
            "no mailbox could be searched ({})",
            failures.join("; ")
        )));
    }
    let newest = found.into_iter().max_by_key(|(_, t)| last_date(t));
    let conversation = match newest {
        None => Conversation {
            threads_found,
            ..Conversation::default()
        },
        Some((mailbox, thread)) => summarise(mailbox, thread, threads_found),
    };
    Ok(StepDone::ok(conversation))
}

/// The newest thread with `person` in `mailbox`, and how many threads there are.
async fn newest_thread(
    services: &Services,
    mailbox: String,
    person: String,
) -> Result<Option<(usize, Thread)>, ConnectorError> {
    let query = GmailQuery::new().with_person(&person)?;
    let (list_box, request) = (
        mailbox.clone(),
        ListRequest {
            q: Some(query),
            max_results: Some(10),
            page_token: None,
        },
    );
    let page = services
        .gmail(&mailbox, &THREADS_LIST, move |g| {
            let (mailbox, request) = (list_box.clone(), request.clone());
            async move { g.threads_list(&mailbox, &request).await }
        })
        .await?;
    let Some(first) = page.threads.first() else {
        return Ok(None);
    };
    let (get_box, id) = (mailbox.clone(), first.id.clone());
    let thread = services
        .gmail(&mailbox, &THREADS_GET, move |g| {
            let (mailbox, id) = (get_box.clone(), id.clone());
            async move { g.threads_get(&mailbox, &id, Format::Metadata).await }
        })
        .await?;
    Ok(Some((page.threads.len(), thread)))
}

fn last_date(thread: &Thread) -> i64 {
    thread
        .messages
        .iter()
        .filter_map(|m| m.internal_date.as_deref()?.parse::<i64>().ok())
        .max()
        .unwrap_or(0)
}

/// The reply's anchor (last message's Message-ID and References, the subject) and
/// one line per recent message, newest first.
fn summarise(mailbox: String, thread: Thread, threads_found: usize) -> Conversation {
    let header = |m: &crate::connectors::gmail::Message, name: &str| {
        m.payload
            .as_ref()
            .and_then(|p| p.header(name))
            .map(str::to_string)
    };
    let first = thread.messages.first();
    let last = thread.messages.last();
    let references = last
        .and_then(|m| header(m, "References"))
        .map(|r| r.split_whitespace().map(str::to_string).collect())
        .unwrap_or_default();
    let summary = thread
        .messages
        .iter()
        .rev()
        .take(5)
        .map(|m| {
            let from = header(m, "From").unwrap_or_default();
            let date = header(m, "Date").unwrap_or_default();
            let snippet: String = m
                .snippet
                .clone()
                .unwrap_or_default()
                .chars()
                .take(160)
                .collect();
            format!("{date} — {from}: {snippet}")
        })
        .collect();
    Conversation {
        mailbox: Some(mailbox),
        thread_id: Some(thread.id.clone()),
        subject: first.and_then(|m| header(m, "Subject")),
        parent_message_id: last
            .and_then(|m| header(m, "Message-ID").or_else(|| header(m, "Message-Id"))),
        references,
        threads_found,
        summary,
    }
}
