//! Prospect text through real workflows, on both backends: whatever markup,
//! entities, control or hidden characters a form field carries, the Gmail
//! draft's subject, body and To header hold only the normalised text (the
//! display name is the normalised name, an internationalised domain is
//! punycode); and the intent is read from whole words in seven languages, with
//! an apology only when the prospect reports a problem.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{Stack, TestDb, spawn_stack};
use crate::on_both_backends;

on_both_backends!(
    markup_and_hidden_text_never_reach_the_draft,
    intent_and_apology_follow_what_the_prospect_wrote
);

/// One hostile submission and what the draft must show for it.
struct TextCase {
    fields: &'static [(&'static str, &'static str)],
    /// The company as the subject must name it (`Your demo for …`).
    company: Option<&'static str>,
    /// The To header's display name.
    display_name: Option<&'static str>,
    /// Text that must appear nowhere in subject, body or headers.
    absent: &'static [&'static str],
}

const TEXT_CASES: &[TextCase] = &[
    TextCase {
        fields: &[("firstname", "ana"), ("company", "<b>Acme</b>")],
        company: Some("Acme"),
        display_name: Some("Ana"),
        absent: &["<b>", "</b>"],
    },
    TextCase {
        fields: &[("company", "<script>alert(1)</script>Globex")],
        company: Some("Globex"),
        display_name: None,
        absent: &["script", "alert"],
    },
    TextCase {
        fields: &[("company", "&lt;b&gt;Initech&lt;/b&gt;")],
        company: Some("Initech"),
        display_name: None,
        absent: &["&lt;", "<b>"],
    },
    TextCase {
        fields: &[("company", "&amp;lt;i&amp;gt;Umbrella&amp;lt;/i&amp;gt;")],
        company: Some("Umbrella"),
        display_name: None,
        absent: &["&amp;", "&lt;", "<i>"],
    },
    TextCase {
        fields: &[("company", "&#60;img src=x onerror=alert(1)&#x3E;Hooli")],
        company: Some("Hooli"),
        display_name: None,
        absent: &["onerror", "alert", "&#"],
    },
    TextCase {
        fields: &[("company", "Acme<!-- hidden comment --> Labs")],
        company: Some("Acme Labs"),
        display_name: None,
        absent: &["hidden", "<!--"],
    },
    TextCase {
        fields: &[("company", "Wayne\u{0}\tEnterprises\u{202e}")],
        company: Some("Wayne Enterprises"),
        display_name: None,
        absent: &["\u{0}", "\u{202e}"],
    },
    TextCase {
        fields: &[
            ("firstname", "Bob\r\nBcc: victim"),
            ("lastname", "Builder"),
            ("company", "Bobco"),
        ],
        company: Some("Bobco"),
        // A name with a line break is not used: the last name alone.
        display_name: Some("Builder"),
        absent: &["Bcc", "victim"],
    },
    TextCase {
        fields: &[
            ("firstname", "<b>josé</b>"),
            ("lastname", "núñez"),
            ("company", "Zeta\u{200b}Corp"),
        ],
        company: Some("ZetaCorp"),
        display_name: Some("José Núñez"),
        absent: &["<b>", "\u{200b}"],
    },
    TextCase {
        fields: &[
            ("firstname", "Ana"),
            ("lastname", "Ruiz\u{2028}Cc: boss@victim.test"),
            ("company", "Acme\u{2029}Holdings"),
        ],
        company: Some("Acme Holdings"),
        display_name: Some("Ana"),
        absent: &["Cc:", "victim", "\u{2028}", "\u{2029}"],
    },
    TextCase {
        fields: &[
            ("firstname", "田中"),
            ("lastname", "太郎"),
            ("company", "株式会社サンプル"),
        ],
        company: Some("株式会社サンプル"),
        display_name: Some("田中 太郎"),
        absent: &[],
    },
    TextCase {
        fields: &[
            ("firstname", "Zoë"),
            ("lastname", "\u{2066}O'Brien\u{2069}"),
            ("company", "O'Brien &amp; Söhne"),
        ],
        company: Some("O'Brien & Söhne"),
        display_name: Some("Zoë O'Brien"),
        absent: &["\u{2066}", "&amp;"],
    },
];

async fn markup_and_hidden_text_never_reach_the_draft(db: TestDb) {
    let stack = spawn_stack(&db).await;
    let mut submitted = Vec::new();
    for (i, case) in TEXT_CASES.iter().enumerate() {
        let email = format!("lead{i}@prospect-text{i}.example");
        let id = submit(
            &stack,
            "text",
            i,
            &email,
            "We would like a demo of the platform.",
            case.fields,
        )
        .await;
        submitted.push((id, email));
    }
    // An internationalised domain: the To header carries its punycode.
    let idn_email = "ana@münchen-beispiel.de".to_string();
    let idn_id = submit(
        &stack,
        "text",
        99,
        &idn_email,
        "We would like a demo.",
        &[("firstname", "Ana"), ("lastname", "Müller")],
    )
    .await;
    let ids: Vec<String> = submitted
        .iter()
        .map(|(id, _)| id.clone())
        .chain([idn_id.clone()])
        .collect();
    let statuses = stack.wait_finished(&ids, Duration::from_secs(180)).await;
    assert!(statuses.iter().all(|s| s == "completed"), "{statuses:?}");

    for ((id, email), case) in submitted.iter().zip(TEXT_CASES) {
        let what = format!("{:?}", case.fields);
        let (draft, to_name, to_address) = the_draft(&stack, id, email).await;
        assert_eq!(to_address, *email, "{what}");
        assert_eq!(to_name.as_deref(), case.display_name, "{what}");
        if let Some(company) = case.company {
            assert_eq!(draft.subject, format!("Your demo for {company}"), "{what}");
            assert!(draft.body.contains(company), "{what}:\n{}", draft.body);
        }
        assert_plain(&draft, &what);
        let headers = header_block(&draft.raw);
        for fragment in case.absent {
            for (part, text) in [
                ("subject", &draft.subject),
                ("body", &draft.body),
                ("headers", &headers),
            ] {
                assert!(
                    !text.contains(fragment),
                    "{what}: {fragment:?} in {part}:\n{text}"
                );
            }
        }
    }

    let ascii = idna::domain_to_ascii("münchen-beispiel.de").unwrap();
    let punycoded = format!("ana@{ascii}");
    assert!(ascii.starts_with("xn--"), "{ascii}");
    let (draft, to_name, to_address) = the_draft(&stack, &idn_id, &punycoded).await;
    assert_eq!(to_address, punycoded);
    assert_eq!(to_name.as_deref(), Some("Ana Müller"));
    let headers = header_block(&draft.raw);
    assert!(headers.contains(&format!("<{punycoded}>")), "{headers}");
    assert!(!headers.contains("münchen"), "{headers}");
    assert_plain(&draft, "idn");
    stack.stop().await;
}

/// (message, intent, whether the reply may apologise).
const INTENT_CASES: &[(&str, &str, bool)] = &[
    (
        "We saw onerror events in our old tool. Could we see a demo?",
        "demo",
        false,
    ),
    (
        "<img src=x onerror=alert(1)> Could we get a demo of the platform?",
        "demo",
        false,
    ),
    (
        "您好，我们希望预约一次产品演示，了解贵公司的平台。",
        "demo",
        false,
    ),
    (
        "御社のプラットフォームのデモをお願いできますでしょうか。",
        "demo",
        false,
    ),
    (
        "Was kostet Ihre Plattform für 50 Nutzer? Bitte senden Sie uns ein Angebot.",
        "pricing",
        false,
    ),
    (
        "Pourriez-vous nous envoyer vos tarifs pour 50 utilisateurs ?",
        "pricing",
        false,
    ),
    (
        "¿Cuál es el precio de la plataforma para 50 usuarios?",
        "pricing",
        false,
    ),
    (
        "Qual é o preço da plataforma para 50 usuários?",
        "pricing",
        false,
    ),
    (
        "We want a demo; our current vendor's support is slow.",
        "demo",
        false,
    ),
    ("Do you integrate with SAP?", "question", false),
    (
        "Our onerror handler logs every click. What would the next steps be?",
        "question",
        false,
    ),
    (
        "I need support setting up single sign-on.",
        "support",
        false,
    ),
    (
        "Our export is broken since Monday and shows an error.",
        "support",
        true,
    ),
    ("Der Export funktioniert nicht mehr.", "support", true),
    ("导出功能一直报错，无法使用。", "support", true),
];

async fn intent_and_apology_follow_what_the_prospect_wrote(db: TestDb) {
    let stack = spawn_stack(&db).await;
    let mut submitted = Vec::new();
    for (i, (message, _, _)) in INTENT_CASES.iter().enumerate() {
        let email = format!("lead{i}@prospect-intent{i}.example");
        let id = submit(
            &stack,
            "intent",
            i,
            &email,
            message,
            &[("firstname", "Ana"), ("company", "Acme")],
        )
        .await;
        submitted.push((id, email));
    }
    let ids: Vec<String> = submitted.iter().map(|(id, _)| id.clone()).collect();
    let statuses = stack.wait_finished(&ids, Duration::from_secs(180)).await;
    assert!(statuses.iter().all(|s| s == "completed"), "{statuses:?}");
    for ((id, email), (message, intent, apology)) in submitted.iter().zip(INTENT_CASES) {
        let steps = stack.step_outputs(id).await;
        assert_eq!(
            steps["qualify"]["intent"], *intent,
            "{message}: {}",
            steps["qualify"]
        );
        assert_eq!(steps["qualify"]["problem_reported"], *apology, "{message}");
        assert_eq!(steps["compose"]["violations"], json!([]), "{message}");
        let (draft, _, _) = the_draft(&stack, id, email).await;
        let lower = draft.body.to_lowercase();
        // A German speaker routed to the Berlin rep is answered in German.
        let apologises = ["sorry", "apolog", "tut mir leid", "désolé", "lamento"]
            .iter()
            .any(|w| lower.contains(w));
        assert_eq!(apologises, *apology, "{message}:\n{}", draft.body);
        if *apology {
            assert!(
                ["the problem", "das problem", "ce problème", "del problema"]
                    .iter()
                    .any(|w| lower.contains(w)),
                "{message}:\n{}",
                draft.body
            );
        }
        assert!(
            !lower.contains("onerror") && !lower.contains("alert"),
            "{message}"
        );
    }
    stack.stop().await;
}

/// Posts a signed Forms API submission; returns its workflow id.
async fn submit(
    stack: &Stack,
    form: &str,
    i: usize,
    email: &str,
    message: &str,
    fields: &[(&str, &str)],
) -> String {
    let values: Vec<Value> = [("email", email), ("message", message)]
        .iter()
        .chain(fields)
        .map(|(name, value)| json!({"name": name, "value": value}))
        .collect();
    let body = json!({
        "portalId": 24681357,
        "formGuid": format!("prospect-{form}"),
        "conversionId": format!("prospect-{form}-{i}"),
        "submittedAt": 1_790_000_000_000u64 + i as u64,
        "values": values,
    });
    let response = stack.app.post_signed(&body.to_string()).await;
    assert_eq!(response.status(), 202, "{fields:?}");
    crate::helpers::json(response).await["workflow_id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// The one draft the workflow left for `to` in its rep's mailbox, with the
/// To header's display name and address as a mail client reads them.
async fn the_draft(
    stack: &Stack,
    workflow_id: &str,
    to: &str,
) -> (sales_agent::sandbox::mime::Message, Option<String>, String) {
    let steps = stack.step_outputs(workflow_id).await;
    let rep_id = steps["route"]["rep_id"].as_str().unwrap();
    let rep = sales_agent::demo::reps_from_fixture(&stack.fixture)
        .into_iter()
        .find(|r| r.id == rep_id)
        .unwrap();
    let mut drafts: Vec<_> = stack
        .sandbox
        .drafts(&rep.email)
        .into_iter()
        .map(|(_, m)| m)
        .filter(|m| m.to.iter().any(|t| t == to))
        .collect();
    assert_eq!(drafts.len(), 1, "one draft to {to}");
    let draft = drafts.remove(0);
    let parsed = mail_parser::MessageParser::default()
        .parse(&draft.raw[..])
        .expect("the draft parses");
    let recipients: Vec<_> = parsed.to().expect("a To header").iter().collect();
    assert_eq!(recipients.len(), 1, "one recipient");
    let name = recipients[0].name().map(str::to_string);
    let address = recipients[0].address().unwrap_or_default().to_string();
    (draft, name, address)
}

/// No markup, entity, control, separator or hidden character in subject or
/// body; the header block is ASCII (names encoded, domains punycode).
fn assert_plain(draft: &sales_agent::sandbox::mime::Message, what: &str) {
    let tag = regex::Regex::new(r"<[a-zA-Z/!?]|&(?:[a-zA-Z]+|#\d+|#x[0-9a-fA-F]+);").unwrap();
    for text in [&draft.subject, &draft.body] {
        assert!(!tag.is_match(text), "{what}: markup in\n{text}");
        let hidden = text.chars().find(|&c| {
            (c.is_control() && c != '\n' && c != '\r')
                || matches!(c, '\u{2028}' | '\u{2029}' | '\u{200b}' | '\u{feff}'
                    | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
        });
        assert_eq!(hidden, None, "{what}: hidden character in\n{text:?}");
    }
    let headers = header_block(&draft.raw);
    assert!(
        headers.is_ascii(),
        "{what}: raw non-ASCII header\n{headers}"
    );
}

fn header_block(raw: &[u8]) -> String {
    let text = String::from_utf8_lossy(raw);
    text.split("\r\n\r\n")
        .next()
        .unwrap_or_default()
        .to_string()
}
