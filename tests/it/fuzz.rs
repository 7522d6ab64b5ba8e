//! Fuzzing with proptest: the parsers and builders that take outside input. Each
//! property also runs long, e.g. `PROPTEST_CASES=200000 cargo nextest run --release fuzz::`
//! (docs/PERFORMANCE.md records how long each ran); CI runs proptest's default 256
//! cases per property. proptest rather than cargo-fuzz: it runs on stable inside the
//! one test binary, shrinks failures, and its generators can aim at the characters
//! that matter (CR, LF, quotes, backslashes, braces).
//!
//! - webhook parsing and signature checking: no panic on any body or header; a v3
//!   signature verifies exactly the body, method, URI and timestamp it was made for;
//! - MIME building: no CR/LF (or any other input) in any field can add a header or
//!   a second value to one;
//! - Gmail and Drive `q` builders: every value stays inside its own clause.

use std::time::{Duration, SystemTime};

use chrono::DateTime;
use proptest::prelude::*;
use sales_agent::config::WebhookConfig;
use sales_agent::connectors::mime::{
    Mailbox, OutgoingEmail, Parent, Unsubscribe, build, message_id,
};
use sales_agent::connectors::query::{DriveQuery, Folder, GmailQuery};
use sales_agent::intake::signature::{SignedRequest, precheck, sign_v3, unix_millis, verify};
use sales_agent::intake::{idempotency_key, payload};
use secrecy::SecretString;

/// Text biased towards what breaks headers and quoting, plus any printable Unicode.
fn nasty() -> impl Strategy<Value = String> {
    prop_oneof![
        "\\PC{0,40}",
        "[a-zA-Z0-9@.:;,<>\"'\\\\{}()\r\n\t =%?-]{0,40}",
        any::<String>(),
    ]
}

fn webhook_config(legacy: bool) -> WebhookConfig {
    WebhookConfig {
        client_secrets: vec![
            SecretString::from("current-secret".to_string()),
            SecretString::from("previous-secret".to_string()),
        ],
        allow_legacy_signatures: legacy,
        max_age: Duration::from_secs(300),
        max_skew: Duration::from_secs(60),
        max_body_bytes: 1 << 20,
        body_timeout: Duration::from_secs(10),
        unverified_bytes: 16 << 20,
    }
}

/// JSON shaped like the two webhook payloads, with arbitrary leaves.
fn webhook_json() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<f64>().prop_map(|f| serde_json::json!(f)),
        nasty().prop_map(serde_json::Value::from),
    ];
    let keys = prop::sample::select(vec![
        "values",
        "properties",
        "form-submissions",
        "email",
        "name",
        "value",
        "portalId",
        "formGuid",
        "conversionId",
        "submittedAt",
        "vid",
        "timestamp",
        "pageUrl",
        "message",
        "firstname",
    ]);
    leaf.prop_recursive(4, 64, 8, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::Array),
            prop::collection::btree_map(keys.clone(), inner, 0..6).prop_map(|m| {
                serde_json::Value::Object(m.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
            }),
        ]
    })
}

proptest! {
    #[test]
    fn any_body_parses_or_is_refused_without_panicking(body in prop::collection::vec(any::<u8>(), 0..512)) {
        if let Ok(submission) = payload::parse(&body) {
            idempotency_key(&submission);
        }
    }

    #[test]
    fn any_webhook_shaped_json_parses_or_is_refused(value in webhook_json()) {
        if let Ok(submission) = payload::parse(value.to_string().as_bytes()) {
            prop_assert!(!submission.email.trim().is_empty(), "accepted without an email: {value}");
            prop_assert!(!idempotency_key(&submission).is_empty());
        }
    }

    #[test]
    fn any_headers_are_checked_without_panicking(
        uri in nasty(), body in nasty(), v3 in proptest::option::of(nasty()),
        timestamp in proptest::option::of(prop_oneof![nasty(), any::<u64>().prop_map(|n| n.to_string())]),
        legacy in proptest::option::of(nasty()), version in proptest::option::of(nasty()),
        allow_legacy in any::<bool>(),
    ) {
        let request = SignedRequest {
            method: "POST", uri: &uri, body: body.as_bytes(),
            v3_signature: v3.as_deref(), timestamp: timestamp.as_deref(),
            legacy_signature: legacy.as_deref(), legacy_version: version.as_deref(),
        };
        // Random headers never carry a valid HMAC under the configured secrets.
        let now = SystemTime::now();
        let verdict = verify(&webhook_config(allow_legacy), &request, now);
        prop_assert!(verdict.is_err());
        // What the header check (before the body is read) refuses, verification
        // refuses for the same reason: it turns nothing valid away early.
        if let Err(early) = precheck(&webhook_config(allow_legacy), &request, now) {
            prop_assert_eq!(verdict, Err(early));
        }
    }

    #[test]
    fn a_v3_signature_covers_exactly_its_request(
        path in "[a-zA-Z0-9/%?=&:@!$'()*,;.-]{0,60}", body in prop::collection::vec(any::<u8>(), 0..256),
        flip in any::<prop::sample::Index>(), age_ms in 0u64..300_000, previous in any::<bool>(),
    ) {
        let now = SystemTime::now();
        let ts = unix_millis(now) - age_ms;
        let uri = format!("https://agent.example.test/{path}");
        let secret = if previous { "previous-secret" } else { "current-secret" };
        let signature = sign_v3(secret, "POST", &uri, &body, ts);
        let ts_text = ts.to_string();
        let later = (ts + 1).to_string();
        let config = webhook_config(false);
        prop_assert!(verify(&config, &v3(&uri, &body, "POST", &signature, &ts_text), now).is_ok());
        prop_assert!(precheck(&config, &v3(&uri, &[], "POST", &signature, &ts_text), now).is_ok());
        prop_assert!(verify(&config, &v3(&uri, &body, "PUT", &signature, &ts_text), now).is_err());
        prop_assert!(verify(&config, &v3(&uri, &body, "POST", &signature, &later), now).is_err());
        let moved = format!("{uri}x");
        prop_assert!(verify(&config, &v3(&moved, &body, "POST", &signature, &ts_text), now).is_err());
        if !body.is_empty() {
            let mut changed = body.clone();
            let at = flip.index(changed.len());
            changed[at] ^= 0x01;
            prop_assert!(verify(&config, &v3(&uri, &changed, "POST", &signature, &ts_text), now).is_err());
        }
    }
}

fn v3<'a>(
    uri: &'a str,
    body: &'a [u8],
    method: &'a str,
    signature: &'a str,
    ts: &'a str,
) -> SignedRequest<'a> {
    SignedRequest {
        method,
        uri,
        body,
        v3_signature: Some(signature),
        timestamp: Some(ts),
        legacy_signature: None,
        legacy_version: None,
    }
}

fn email_from(fields: &[String; 12], reply: bool, unsubscribe: bool) -> OutgoingEmail {
    let [
        from_name,
        from_email,
        to_name,
        to_email,
        subject,
        id,
        parent_id,
        parent_ref,
        parent_subject,
        https,
        mailto,
        text,
    ] = fields.clone();
    OutgoingEmail {
        from: Mailbox {
            name: Some(from_name),
            email: from_email,
        },
        to: vec![Mailbox {
            name: Some(to_name),
            email: to_email,
        }],
        subject,
        date: DateTime::from_timestamp(1_790_000_000, 0).expect("a valid time"),
        message_id: id,
        reply_to_parent: reply.then_some(Parent {
            message_id: parent_id,
            references: vec![parent_ref],
            subject: parent_subject,
        }),
        unsubscribe: unsubscribe.then_some(Unsubscribe {
            https,
            mailto: Some(mailto),
        }),
        html: Some(text.clone()),
        text,
    }
}

/// Header names of a built message, its header block unfolded.
fn header_names(message: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(message);
    let head = text.split("\r\n\r\n").next().unwrap_or_default();
    head.split("\r\n")
        .filter(|line| !line.starts_with([' ', '\t']))
        .map(|line| {
            line.split(':')
                .next()
                .unwrap_or_default()
                .to_ascii_lowercase()
        })
        .collect()
}

/// Well-formed email fields, in the order `email_from` takes them.
const GOOD_FIELDS: [&str; 12] = [
    "Rita Rep",
    "rita@seller.com",
    "Bob Buyer",
    "bob@buyer.com",
    "Your demo",
    "sa.wf.deliver@seller.com",
    "abc@mail.gmail.com",
    "root@mail.gmail.com",
    "Pricing",
    "https://x.com/u/t",
    "mailto:u@x.com",
    "Hello",
];

/// One or two positions overwritten with (or extended by) nasty text, the rest
/// well-formed, so that both the refusals and the accepted messages get exercised.
fn mostly_good<const N: usize>(good: [&'static str; N]) -> impl Strategy<Value = [String; N]> {
    prop::collection::vec((0..N, nasty(), any::<bool>()), 1..3).prop_map(move |changes| {
        let mut fields: [String; N] = good.map(str::to_string);
        for (at, text, append) in changes {
            fields[at] = if append {
                format!("{}{text}", good[at])
            } else {
                text
            };
        }
        fields
    })
}

proptest! {
    #[test]
    fn no_field_of_an_email_can_add_a_header(
        fields in mostly_good(GOOD_FIELDS),
        reply in any::<bool>(), unsubscribe in any::<bool>(),
    ) {
        let email = email_from(&fields, reply, unsubscribe);
        if let Ok(bytes) = build(&email) {
            let mut names = header_names(&bytes);
            names.sort();
            let mut expected = vec!["from", "to", "subject", "date", "message-id", "mime-version", "content-type"];
            if reply {
                expected.extend(["in-reply-to", "references"]);
            }
            if unsubscribe {
                expected.extend(["list-unsubscribe", "list-unsubscribe-post"]);
            }
            expected.sort();
            prop_assert_eq!(names, expected);
        }
    }

    #[test]
    fn the_deterministic_message_id_never_carries_a_line_break(
        workflow in nasty(), step in nasty(), domain in nasty(),
    ) {
        let id = message_id(&workflow, &step, &domain);
        let mut email = email_from(&std::array::from_fn(|_| "x@y.com".to_string()), false, false);
        email.message_id = id;
        if let Ok(bytes) = build(&email) {
            prop_assert_eq!(header_names(&bytes).len(), 7);
        }
    }
}

/// Splits a Gmail query into top-level terms: spaces outside quotes and braces.
fn gmail_terms(q: &str) -> Option<Vec<String>> {
    let (mut terms, mut current, mut quoted, mut depth) = (Vec::new(), String::new(), false, 0i32);
    for c in q.chars() {
        match c {
            '"' => quoted = !quoted,
            '{' if !quoted => depth += 1,
            '}' if !quoted => depth -= 1,
            ' ' if !quoted && depth == 0 => {
                terms.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    terms.push(current);
    (!quoted && depth == 0).then_some(terms)
}

/// `operator:"value"` with nothing special inside the quotes.
fn is_one_quoted_term(term: &str, operator: &str) -> bool {
    term.strip_prefix(operator)
        .and_then(|t| t.strip_prefix(":\""))
        .and_then(|t| t.strip_suffix('"'))
        .is_some_and(|inner| {
            !inner.is_empty()
                && !inner.contains(['"', '\\', '{', '}', '(', ')'])
                && !inner.chars().any(char::is_control)
        })
}

/// The length of the single-quoted Drive literal at the start of `s`.
fn drive_literal_len(s: &str) -> Option<usize> {
    let mut chars = s.char_indices();
    if chars.next()?.1 != '\'' {
        return None;
    }
    let mut escaped = false;
    for (i, c) in chars {
        match (escaped, c) {
            (true, _) => escaped = false,
            (false, '\\') => escaped = true,
            (false, '\'') => return Some(i + 1),
            _ => {}
        }
    }
    None
}

proptest! {
    #[test]
    fn every_gmail_value_stays_in_its_term(
        values in mostly_good(["ann@x.com", "bob@y.org", "cy@z.net", "<sa.1.deliver@x.com>"]),
        days in any::<u32>(),
    ) {
        let [person, from, to, id] = values;
        let built = GmailQuery::new()
            .in_folder(Folder::Anywhere)
            .with_person(&person)
            .and_then(|q| q.from(&from))
            .and_then(|q| q.to(&to))
            .and_then(|q| q.rfc822msgid(&id))
            .map(|q| q.newer_than_days(days).build());
        if let Ok(q) = built {
            let terms = gmail_terms(&q).expect("balanced quotes and braces");
            prop_assert_eq!(terms.len(), 6, "{}", q);
            prop_assert_eq!(&terms[0], "in:anywhere");
            let group = terms[1].strip_prefix('{').and_then(|t| t.strip_suffix('}')).expect("one OR group");
            let inside = gmail_terms(group).expect("balanced group");
            prop_assert!(inside.len() == 2 && is_one_quoted_term(&inside[0], "from") && is_one_quoted_term(&inside[1], "to"), "{}", q);
            prop_assert!(is_one_quoted_term(&terms[2], "from"), "{}", q);
            prop_assert!(is_one_quoted_term(&terms[3], "to"), "{}", q);
            prop_assert!(is_one_quoted_term(&terms[4], "rfc822msgid"), "{}", q);
            prop_assert_eq!(&terms[5], &format!("newer_than:{days}d"));
        }
    }

    #[test]
    fn every_drive_value_stays_in_its_clause(
        parent in nasty(), parents in prop::collection::vec(nasty(), 0..4), name in nasty(),
        text in nasty(), mime in nasty(), not_mime in nasty(),
    ) {
        let q = DriveQuery::new()
            .in_parent(&parent)
            .in_any_parent(parents.iter().map(String::as_str))
            .name_contains(&name)
            .full_text_contains(&text)
            .mime_type_is(&mime)
            .mime_type_is_not(&not_mime)
            .build();
        // Walk the query: fixed syntax between literals, each literal closed where expected.
        let mut rest = q.strip_prefix("trashed = false and ").expect("starts outside the trash");
        let mut take = |prefix: &str, suffix: &str| -> Result<(), TestCaseError> {
            let after = rest.strip_prefix(prefix).ok_or_else(|| TestCaseError::fail(format!("expected {prefix:?} in {q}")))?;
            let len = drive_literal_len(after).ok_or_else(|| TestCaseError::fail(format!("an unclosed literal in {q}")))?;
            prop_assert!(!after[..len].chars().any(char::is_control), "a control character in {}", q);
            rest = after[len..].strip_prefix(suffix).ok_or_else(|| TestCaseError::fail(format!("expected {suffix:?} after a literal in {q}")))?;
            Ok(())
        };
        take("", " in parents and ")?;
        if !parents.is_empty() {
            for i in 0..parents.len() {
                let last = i + 1 == parents.len();
                take(if i == 0 { "(" } else { "" }, if last { " in parents) and " } else { " in parents or " })?;
            }
        }
        take("name contains ", " and ")?;
        take("fullText contains ", " and ")?;
        take("mimeType = ", " and ")?;
        take("mimeType != ", "")?;
        prop_assert!(rest.is_empty(), "trailing text in {}", q);
    }
}
