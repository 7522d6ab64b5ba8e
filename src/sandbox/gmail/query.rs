//! Gmail's search syntax, the subset the service and its tests use: `from:`,
//! `to:`, `subject:`, `in:` (sent, inbox, drafts, anywhere), `is:` (unread),
//! `label:`, `rfc822msgid:`, `newer_than:` / `older_than:` (d, m, y, h), `after:` /
//! `before:` (YYYY/MM/DD), bare and quoted words, `-` negation, and `{…}` groups
//! whose terms are ORed (`{from:a to:a}`). Terms are ANDed; Gmail treats unknown
//! operators as words, and so does this.

use chrono::{DateTime, NaiveDate, Utc};

use crate::sandbox::mime::Message;

#[derive(Debug, Clone, PartialEq)]
enum Term {
    From(String),
    To(String),
    Subject(String),
    In(String),
    Label(String),
    MsgId(String),
    After(i64),
    Before(i64),
    Word(String),
}

/// A parsed query: ANDed clauses, each a negation flag and ORed alternatives.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Query {
    terms: Vec<(bool, Vec<Term>)>,
}

/// Splits on whitespace, keeping `"quoted phrases"` together.
fn tokens(q: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for c in q.chars() {
        match c {
            '"' => quoted = !quoted,
            c if c.is_whitespace() && !quoted => {
                if !current.is_empty() {
                    out.push(std::mem::take(&mut current));
                }
            }
            c => current.push(c),
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

fn age_ms(v: &str) -> Option<i64> {
    let (n, unit) = v.split_at(v.len().checked_sub(1)?);
    let n: i64 = n.parse().ok()?;
    let hours = match unit {
        "h" => 1,
        "d" => 24,
        "m" => 24 * 30,
        "y" => 24 * 365,
        _ => return None,
    };
    Some(n * hours * 3_600_000)
}

fn date_ms(v: &str) -> Option<i64> {
    if let Ok(secs) = v.parse::<i64>() {
        return Some(secs * 1000);
    }
    let d = NaiveDate::parse_from_str(v, "%Y/%m/%d")
        .or_else(|_| NaiveDate::parse_from_str(v, "%Y-%m-%d"))
        .ok()?;
    Some(d.and_hms_opt(0, 0, 0)?.and_utc().timestamp_millis())
}

impl Query {
    pub fn parse(q: &str, now: DateTime<Utc>) -> Query {
        let now_ms = now.timestamp_millis();
        let mut terms = Vec::new();
        let mut group: Option<(bool, Vec<Term>)> = None;
        for token in tokens(q) {
            let (negated, token) = match token.strip_prefix('-') {
                Some(rest) if !rest.is_empty() => (true, rest.to_string()),
                _ => (false, token),
            };
            let opens = token.starts_with('{');
            let token = token.trim_start_matches('{');
            let closes = token.ends_with('}');
            let token = token.trim_end_matches('}');
            if opens && group.is_none() {
                group = Some((negated, Vec::new()));
            }
            if !token.is_empty() {
                let term = parse_term(token, now_ms);
                match group.as_mut() {
                    Some((_, alternatives)) => alternatives.push(term),
                    None => terms.push((negated, vec![term])),
                }
            }
            if closes && let Some(done) = group.take() {
                terms.push(done);
            }
        }
        // An unclosed group still counts, as Gmail is forgiving about it.
        terms.extend(group);
        terms.retain(|(_, alternatives)| !alternatives.is_empty());
        Query { terms }
    }

    /// Whether the query asks for drafts, sent mail or everything explicitly, which
    /// lifts the default exclusion of spam and trash.
    pub fn names_location(&self) -> bool {
        self.terms
            .iter()
            .flat_map(|(_, alternatives)| alternatives)
            .any(|t| matches!(t, Term::In(_)))
    }

    pub fn matches(&self, m: &Message) -> bool {
        self.terms.iter().all(|(negated, alternatives)| {
            alternatives.iter().any(|t| term_matches(t, m)) != *negated
        })
    }
}

/// One `operator:value` term (or a word).
fn parse_term(token: &str, now_ms: i64) -> Term {
    let lower = token.to_ascii_lowercase();
    match lower.split_once(':') {
        Some(("from", v)) => Term::From(v.into()),
        Some(("to", v)) => Term::To(v.into()),
        Some(("subject", v)) => Term::Subject(v.into()),
        Some(("in", v)) => Term::In(v.into()),
        Some(("is", v)) | Some(("label", v)) => Term::Label(v.into()),
        Some(("rfc822msgid", _)) => {
            let v = token.split_once(':').map(|x| x.1).unwrap_or_default();
            Term::MsgId(v.trim_start_matches('<').trim_end_matches('>').to_string())
        }
        Some(("newer_than", v)) => {
            age_ms(v).map_or(Term::Word(lower.clone()), |a| Term::After(now_ms - a))
        }
        Some(("older_than", v)) => {
            age_ms(v).map_or(Term::Word(lower.clone()), |a| Term::Before(now_ms - a))
        }
        Some(("after", v)) => date_ms(v).map_or(Term::Word(lower.clone()), Term::After),
        Some(("before", v)) => date_ms(v).map_or(Term::Word(lower.clone()), Term::Before),
        _ => Term::Word(lower),
    }
}

fn has_label(m: &Message, label: &str) -> bool {
    m.label_ids.iter().any(|l| l.eq_ignore_ascii_case(label))
}

fn term_matches(t: &Term, m: &Message) -> bool {
    match t {
        Term::From(v) => m.from.contains(v.as_str()) || header(m, "from").contains(v.as_str()),
        Term::To(v) => {
            m.to.iter().any(|a| a.contains(v.as_str()))
                || header(m, "to").contains(v.as_str())
                || header(m, "cc").contains(v.as_str())
        }
        Term::Subject(v) => m.subject.to_ascii_lowercase().contains(v.as_str()),
        Term::In(v) => match v.as_str() {
            "anywhere" => true,
            "drafts" | "draft" => has_label(m, "DRAFT"),
            other => has_label(m, other),
        },
        Term::Label(v) => match v.as_str() {
            "unread" => has_label(m, "UNREAD"),
            "read" => !has_label(m, "UNREAD"),
            "starred" => has_label(m, "STARRED"),
            other => has_label(m, other),
        },
        Term::MsgId(v) => m.message_id.as_deref().is_some_and(|id| {
            id.trim_start_matches('<')
                .trim_end_matches('>')
                .eq_ignore_ascii_case(v)
        }),
        Term::After(ms) => m.internal_date_ms >= *ms,
        Term::Before(ms) => m.internal_date_ms < *ms,
        Term::Word(w) => {
            let w = w.as_str();
            m.subject.to_ascii_lowercase().contains(w)
                || m.body.to_ascii_lowercase().contains(w)
                || m.from.contains(w)
                || m.to.iter().any(|a| a.contains(w))
        }
    }
}

fn header(m: &Message, name: &str) -> String {
    m.headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.to_ascii_lowercase())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(labels: &[&str], from: &str, age_days: i64, now: DateTime<Utc>) -> Message {
        Message {
            id: "1".into(),
            thread_id: "1".into(),
            label_ids: labels.iter().map(|s| s.to_string()).collect(),
            raw: vec![],
            headers: vec![("From".into(), format!("Ann <{from}>"))],
            from: from.into(),
            to: vec!["bob@y.com".into()],
            subject: "Pricing question".into(),
            message_id: Some("<abc@x.com>".into()),
            in_reply_to: None,
            references: vec![],
            body: "What does the enterprise plan cost?".into(),
            internal_date_ms: (now - chrono::Duration::days(age_days)).timestamp_millis(),
        }
    }

    #[test]
    fn terms_are_anded_and_negation_inverts_one() {
        let now = Utc::now();
        let m = message(&["SENT"], "ann@x.com", 2, now);
        assert!(Query::parse("in:sent rfc822msgid:<abc@x.com>", now).matches(&m));
        assert!(Query::parse("from:ann@x.com newer_than:3d", now).matches(&m));
        assert!(!Query::parse("from:ann@x.com newer_than:1d", now).matches(&m));
        assert!(!Query::parse("in:inbox from:ann@x.com", now).matches(&m));
        assert!(Query::parse("to:bob@y.com -in:inbox \"enterprise plan\"", now).matches(&m));
        assert!(!Query::parse("-from:ann@x.com", now).matches(&m));
    }

    #[test]
    fn braces_or_their_terms() {
        let now = Utc::now();
        let m = message(&["SENT"], "ann@x.com", 2, now);
        assert!(
            Query::parse(r#"{from:"zed@x.com" to:"bob@y.com"}"#, now).matches(&m),
            "to: matches"
        );
        assert!(
            Query::parse("{from:ann@x.com to:nobody@y.com}", now).matches(&m),
            "from: matches"
        );
        assert!(
            !Query::parse("{from:zed@x.com to:nobody@y.com}", now).matches(&m),
            "neither matches"
        );
        assert!(
            !Query::parse("-{from:ann@x.com to:nobody@y.com}", now).matches(&m),
            "a negated group"
        );
        assert!(
            !Query::parse("in:inbox {from:ann@x.com}", now).matches(&m),
            "groups AND with the rest"
        );
    }
}
