//! What a meeting brief says, as the HTML Drive converts into a Google Doc: the
//! meeting time, the contact and company, the prospect's message quoted, the
//! conversation so far, the intent, the material sent and an agenda for that
//! intent. Rendered by minijinja with HTML auto-escaping, so the prospect's text
//! stays text: no markup, no script, no link of theirs (only the catalogue's
//! https links are links).

use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use minijinja::{Environment, context};
use serde::Serialize;

use super::BriefFacts;

const TEMPLATE: &str = "brief.html";

static ENV: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    // A name ending in `.html` turns auto-escaping on.
    if let Err(error) = env.add_template(TEMPLATE, include_str!("content.html")) {
        tracing::error!(%error, "the brief template does not parse");
    }
    env
});

/// The doc's name in Drive, e.g. `Meeting brief: Ana Ruiz (Acme), 8 Dec 2026`.
pub fn title(facts: &BriefFacts) -> String {
    let zone = zone(facts);
    let who = match facts.company.as_deref().filter(|c| !c.trim().is_empty()) {
        Some(company) => format!("{} ({company})", facts.contact_name),
        None => facts.contact_name.clone(),
    };
    let day = facts.start.with_timezone(&zone).format("%-d %b %Y");
    let title = format!("Meeting brief: {who}, {day}");
    // A file name: one line, bounded.
    title
        .chars()
        .filter(|c| !c.is_control())
        .take(200)
        .collect()
}

#[derive(Serialize)]
struct Asset<'a> {
    title: &'a str,
    /// The link, when it is an https link (the catalogue's Drive links are).
    url: Option<&'a str>,
    /// The address as text otherwise.
    text: &'a str,
}

/// The brief as HTML.
pub fn html(facts: &BriefFacts) -> Result<String, minijinja::Error> {
    let message: Vec<&str> = facts
        .message
        .lines()
        .map(str::trim_end)
        .filter(|l| !l.is_empty())
        .collect();
    let assets: Vec<Asset<'_>> = facts
        .assets
        .iter()
        .map(|(title, url)| Asset {
            title,
            url: https(url),
            text: url,
        })
        .collect();
    ENV.get_template(TEMPLATE)?.render(context! {
        title => title(facts),
        when => when(facts),
        rep_name => facts.rep_name,
        rep_email => facts.rep_email,
        contact_name => facts.contact_name,
        contact_email => facts.contact_email,
        company => facts.company.as_deref().filter(|c| !c.trim().is_empty()),
        message => message,
        summary => facts
            .conversation_summary
            .as_deref()
            .filter(|s| !s.trim().is_empty())
            .unwrap_or("No earlier conversation with this contact."),
        intent => facts.intent,
        assets => assets,
        agenda => agenda(&facts.intent),
    })
}

fn https(url: &str) -> Option<&str> {
    url::Url::parse(url)
        .ok()
        .filter(|u| u.scheme() == "https" && u.host_str().is_some())
        .map(|_| url)
}

fn zone(facts: &BriefFacts) -> Tz {
    facts.time_zone.parse().unwrap_or(Tz::UTC)
}

/// `Tuesday 8 December 2026, 10:00–10:30 (Europe/Berlin; 09:00 UTC)`.
fn when(facts: &BriefFacts) -> String {
    let zone = zone(facts);
    let local = |t: &DateTime<Utc>| t.with_timezone(&zone);
    format!(
        "{}, {}–{} ({}; {} UTC)",
        local(&facts.start).format("%A %-d %B %Y"),
        local(&facts.start).format("%H:%M"),
        local(&facts.end).format("%H:%M"),
        zone.name(),
        facts.start.format("%H:%M"),
    )
}

/// A proposed agenda for the inquiry's intent.
pub fn agenda(intent: &str) -> &'static [&'static str] {
    match intent {
        "demo" => &[
            "Introductions, and what they want to solve",
            "Confirm the problem they described and who it affects",
            "A demo of their use case",
            "Questions, and next steps (trial or technical deep-dive)",
        ],
        "pricing" => &[
            "Introductions, and the scope they have in mind",
            "Volumes, users and timeline",
            "Pricing options and what each includes",
            "Next steps (a written proposal)",
        ],
        "partnership" => &[
            "Introductions: both companies and their customers",
            "Where the products meet (integration, embedding, referrals)",
            "How the partner programme works",
            "Next steps (owners on both sides)",
        ],
        "support" => &[
            "Understand the issue they reported",
            "Hand over to support, or agree who follows up",
            "Next steps",
        ],
        _ => &[
            "Introductions",
            "Answer the question they asked",
            "Their goals and timeline",
            "Next steps",
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn facts() -> BriefFacts {
        BriefFacts {
            workflow_id: "wf-1".into(),
            booking_id: "booking-1".into(),
            rep_email: "maria@northwind.test".into(),
            rep_name: "Maria Keller".into(),
            contact_name: "Ana <b>Ruiz</b>".into(),
            contact_email: "ana@acme.test".into(),
            company: Some("Acme & Sons".into()),
            message: "Hello <script>alert(1)</script>\nsee https://evil.test/x <a href=\"https://evil.test\">here</a>".into(),
            conversation_summary: None,
            intent: "demo".into(),
            assets: vec![
                ("Case study".into(), "https://drive.google.com/file/d/1/view".into()),
                ("Odd".into(), "javascript:alert(1)".into()),
            ],
            start: Utc.with_ymd_and_hms(2026, 12, 8, 9, 0, 0).unwrap(),
            end: Utc.with_ymd_and_hms(2026, 12, 8, 9, 30, 0).unwrap(),
            time_zone: "Europe/Berlin".into(),
        }
    }

    #[test]
    fn the_prospects_text_is_escaped_and_never_a_link() {
        let html = html(&facts()).unwrap();
        assert!(!html.contains("<script>"), "{html}");
        assert!(
            html.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;"),
            "{html}"
        );
        assert!(!html.contains("<b>Ruiz"), "{html}");
        assert!(!html.contains("href=\"https://evil.test"), "{html}");
        assert!(!html.contains("href=\"javascript"), "{html}");
        assert!(html.contains("Acme &amp; Sons"), "{html}");
        let links: Vec<&str> = html
            .match_indices("<a href=")
            .map(|(i, _)| &html[i..])
            .collect();
        assert_eq!(links.len(), 1, "only the catalogue's https link: {html}");
        assert!(links[0].starts_with("<a href=\"https:&#x2f;&#x2f;drive.google.com"));
    }

    #[test]
    fn the_brief_shows_the_time_in_the_zone_and_an_agenda_for_the_intent() {
        let html = html(&facts()).unwrap();
        // minijinja escapes `/` too; a browser or Docs reads the entity back.
        let text = html_escape::decode_html_entities(&html);
        assert!(
            text.contains("Tuesday 8 December 2026, 10:00–10:30 (Europe/Berlin; 09:00 UTC)"),
            "{html}"
        );
        assert!(html.contains("A demo of their use case"), "{html}");
        assert!(html.contains("No earlier conversation"), "{html}");
        assert_eq!(
            title(&facts()),
            "Meeting brief: Ana <b>Ruiz</b> (Acme & Sons), 8 Dec 2026"
        );
    }
}
