//! Step 6, conversation context: every active rep's mailbox is searched for
//! threads with the prospect (from or to them) and, when
//! `SALES_AGENT_CONVERSATION_COMPANY_THREADS` is on, with anyone at their
//! company's domain (never a free-mail or internal domain). Threads are read in
//! full; each recent message's new text (quotes, signatures and sign-offs cut) is
//! summarised extractively (`text`). The reply goes into the thread with the
//! prospect that is most relevant: recent, and sharing words with what they just
//! wrote. A mailbox that cannot be read (e.g. it needs re-authorisation) is left
//! out; if none can, the step fails transiently (and degrades in the end).

mod text;

use std::collections::BTreeSet;

use futures_util::future::join_all;

use crate::compose::links;
use crate::connectors::ConnectorError;
use crate::connectors::gmail::{Format, ListRequest, Message, THREADS_GET, THREADS_LIST, Thread};
use crate::connectors::mime;
use crate::connectors::query::GmailQuery;
use crate::services::Services;
use crate::steps::qualify::FREE_MAIL;
use crate::steps::state::Conversation;
use crate::steps::{StepCx, StepDone, StepError};

/// Threads listed per mailbox and search.
const LIST_MAX: u32 = 10;
/// Threads read in full per mailbox (Gmail charges 10 units per read).
const READ_MAX: usize = 5;
/// Summary lines for the reply's thread, and for other threads.
const THREAD_LINES: usize = 3;
const OTHER_LINES: usize = 4;

/// A thread found in a team mailbox.
struct Found {
    mailbox: String,
    thread: Thread,
    /// The prospect wrote or was written to in it (else: a colleague of theirs).
    with_person: bool,
}

pub async fn run(cx: &StepCx<'_>) -> Result<StepDone, StepError> {
    let lead = cx.lead()?;
    let reps = cx
        .services
        .store
        .run(crate::store::reps::list_active)
        .await?;
    let config = &cx.services.config.engine;
    let domain = lead.email_domain.to_lowercase();
    let company_domain = (config.conversation_company_threads
        && !domain.is_empty()
        && !FREE_MAIL.contains(&domain.as_str())
        && !config.internal_domains.contains(&domain))
    .then_some(domain);
    let searches = reps.iter().map(|rep| {
        threads_in(
            cx.services,
            rep.email.clone(),
            lead.email.clone(),
            company_domain.clone(),
        )
    });
    let results = join_all(searches).await;
    let mut found: Vec<Found> = Vec::new();
    let mut failures = Vec::new();
    for (rep, result) in reps.iter().zip(results) {
        match result {
            Ok(threads) => found.extend(threads),
            Err(error) => failures.push(format!("{}: {error}", rep.id)),
        }
    }
    if found.is_empty() && !failures.is_empty() && failures.len() == reps.len() {
        return Err(StepError::transient(format!(
            "no mailbox could be searched ({})",
            failures.join("; ")
        )));
    }
    let lead_words: BTreeSet<String> = text::words(&format!(
        "{} {}",
        lead.message.as_deref().unwrap_or_default(),
        lead.intent.as_deref().unwrap_or_default()
    ))
    .into_iter()
    .collect();
    let now_ms = chrono::Utc::now().timestamp_millis();
    let best = found
        .iter()
        .enumerate()
        .filter(|(_, f)| f.with_person)
        .map(|(i, f)| (relevance(f, &lead_words, now_ms), i))
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, i)| i);
    let threads_found = found.iter().filter(|f| f.with_person).count();
    let conversation = match best {
        None => Conversation {
            threads_found,
            summary: others_summary(&found, None),
            ..Conversation::default()
        },
        Some(i) => {
            let mut c = anchor(&found[i], threads_found);
            c.summary.extend(others_summary(&found, Some(i)));
            c
        }
    };
    Ok(StepDone::ok(conversation))
}

/// Recency (halving about every week) plus shared words with the lead's message.
fn relevance(found: &Found, lead_words: &BTreeSet<String>, now_ms: i64) -> f64 {
    let age_days = (now_ms - last_date(&found.thread)).max(0) as f64 / 86_400_000.0;
    let recency = 1.0 / (1.0 + age_days / 7.0);
    let thread_text: String = found
        .thread
        .messages
        .iter()
        .map(|m| format!("{} {}", header(m, "Subject").unwrap_or_default(), body(m)))
        .collect::<Vec<_>>()
        .join(" ");
    let shared = text::overlap(lead_words, &thread_text).min(5);
    recency + 0.4 * shared as f64
}

/// Threads in `mailbox` with `person` (and with `domain`, when given), read in full.
async fn threads_in(
    services: &Services,
    mailbox: String,
    person: String,
    domain: Option<String>,
) -> Result<Vec<Found>, ConnectorError> {
    let mut ids: Vec<(String, bool)> = Vec::new();
    let mut queries = vec![(GmailQuery::new().with_person(&person)?, true)];
    if let Some(domain) = &domain {
        queries.push((GmailQuery::new().with_person(domain)?, false));
    }
    for (query, with_person) in queries {
        let (list_box, request) = (
            mailbox.clone(),
            ListRequest {
                q: Some(query),
                max_results: Some(LIST_MAX),
                page_token: None,
            },
        );
        let page = services
            .gmail(&mailbox, &THREADS_LIST, move |g| {
                let (mailbox, request) = (list_box.clone(), request.clone());
                async move { g.threads_list(&mailbox, &request).await }
            })
            .await?;
        for t in page.threads {
            if !ids.iter().any(|(id, _)| *id == t.id) {
                ids.push((t.id, with_person));
            }
        }
    }
    let mut out = Vec::new();
    for (id, listed_with_person) in ids.into_iter().take(READ_MAX) {
        let get_box = mailbox.clone();
        let thread = services
            .gmail(&mailbox, &THREADS_GET, move |g| {
                let (mailbox, id) = (get_box.clone(), id.clone());
                async move { g.threads_get(&mailbox, &id, Format::Full).await }
            })
            .await?;
        // A domain hit may still involve the prospect themself.
        let with_person = listed_with_person || involves(&thread, &person);
        out.push(Found {
            mailbox: mailbox.clone(),
            thread,
            with_person,
        });
    }
    Ok(out)
}

fn involves(thread: &Thread, person: &str) -> bool {
    thread.messages.iter().any(|m| {
        ["From", "To", "Cc"].iter().any(|h| {
            header(m, h).is_some_and(|v| v.to_lowercase().contains(&person.to_lowercase()))
        })
    })
}

fn header(m: &Message, name: &str) -> Option<String> {
    m.payload
        .as_ref()
        .and_then(|p| p.header(name))
        .map(str::to_string)
}

/// The message's new text, or its snippet when the body cannot be read.
fn body(m: &Message) -> String {
    m.payload
        .as_ref()
        .and_then(text::plain_body)
        .map(|b| text::new_text(&b))
        .filter(|t| !t.is_empty())
        .or_else(|| m.snippet.clone())
        .unwrap_or_default()
}

/// The message's whole readable body, quotes included: a link the rep sent may
/// survive only in the prospect's quote of it.
fn body_with_quotes(m: &Message) -> String {
    m.payload
        .as_ref()
        .and_then(text::plain_body)
        .or_else(|| m.snippet.clone())
        .unwrap_or_default()
}

fn last_date(thread: &Thread) -> i64 {
    thread
        .messages
        .iter()
        .filter_map(|m| m.internal_date.as_deref()?.parse::<i64>().ok())
        .max()
        .unwrap_or(0)
}

/// One summary line per message: date, sender and the gist of its new text.
fn line(m: &Message) -> String {
    let from = header(m, "From").unwrap_or_default();
    let date = header(m, "Date").unwrap_or_default();
    let line = format!("{date} — {from}: {}", text::summarise(&body(m), 2, 280));
    mime::header_safe_text(&line, 600)
}

/// Longest subject kept from a thread (Gmail's own subjects are far shorter).
const SUBJECT_MAX: usize = 200;
/// `References` kept: the newest ones, enough for any mailer to thread.
const REFERENCES_MAX: usize = 20;

/// The reply's anchor (last message's Message-ID and References, the subject) and
/// the thread's last messages, newest first.
///
/// What comes from Gmail is another mailer's text: the subject is made fit for a
/// header (control and line-separator characters out, bounded), references that
/// are not valid Message-IDs are dropped, and when the last message's Message-ID
/// itself is not valid the thread cannot be replied into safely: the reply then
/// starts a new thread (the summary still tells what was said).
fn anchor(found: &Found, threads_found: usize) -> Conversation {
    let thread = &found.thread;
    let first = thread.messages.first();
    let last = thread.messages.last();
    let summary = thread
        .messages
        .iter()
        .rev()
        .take(THREAD_LINES)
        .map(line)
        .collect();
    let parent = last
        .and_then(|m| header(m, "Message-ID").or_else(|| header(m, "Message-Id")))
        .and_then(|id| mime::valid_message_id(&id));
    let subject = first
        .and_then(|m| header(m, "Subject"))
        .map(|s| mime::header_safe_text(&s, SUBJECT_MAX))
        .filter(|s| !s.is_empty());
    // A subject holding a link (the prospect's, or anyone's) would be echoed in
    // the reply's `Re:` line: such a thread is not replied into either.
    let linked = subject
        .as_deref()
        .is_some_and(|s| links::has_url_like(s, &[]));
    let Some(parent) = parent.filter(|_| !linked) else {
        return Conversation {
            threads_found,
            summary,
            ..Conversation::default()
        };
    };
    let mut references: Vec<String> = last
        .and_then(|m| header(m, "References"))
        .map(|r| {
            r.split_whitespace()
                .filter_map(mime::valid_message_id)
                .map(|id| format!("<{id}>"))
                .collect()
        })
        .unwrap_or_default();
    references.drain(..references.len().saturating_sub(REFERENCES_MAX));
    Conversation {
        mailbox: Some(found.mailbox.clone()),
        thread_id: Some(thread.id.clone()),
        subject,
        parent_message_id: Some(format!("<{parent}>")),
        references,
        threads_found,
        summary,
        shared_files: text::drive_file_ids(thread.messages.iter().map(body_with_quotes)),
    }
}

/// One line per other thread (the prospect's or their colleagues'), newest first:
/// its subject, size and the gist of its last message.
fn others_summary(found: &[Found], except: Option<usize>) -> Vec<String> {
    let mut others: Vec<&Found> = found
        .iter()
        .enumerate()
        .filter(|(i, _)| Some(*i) != except)
        .map(|(_, f)| f)
        .collect();
    others.sort_by_key(|f| std::cmp::Reverse(last_date(&f.thread)));
    others
        .into_iter()
        .take(OTHER_LINES)
        .filter_map(|f| {
            let last = f.thread.messages.last()?;
            let subject = f
                .thread
                .messages
                .first()
                .and_then(|m| header(m, "Subject"))
                .map(|s| mime::header_safe_text(&s, SUBJECT_MAX))
                .unwrap_or_default();
            let who = if f.with_person {
                "thread"
            } else {
                "company thread"
            };
            Some(format!(
                "Earlier {who} \"{subject}\" ({} messages): {}",
                f.thread.messages.len(),
                line(last)
            ))
        })
        .collect()
}
