//! The golden set (`tests/fixtures/golden/submissions.json`): varied submissions
//! run through the whole engine against the sandbox, each draft checked property
//! by property — greeting, company, slots free and sensible for both parties,
//! relevant real assets, only allowed links, the rep's voice, threading — and each
//! prompt-injection twin compared with its clean original. The set is also the
//! adversarial one (the `adv-` cases): markup, entities, control, bidi and
//! line-separator characters, internationalised domains, names in many scripts,
//! intents in several languages and phone numbers whose area code fixes the zone.
//! Every submission is delivered twice and must make one workflow.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Datelike, NaiveTime, Utc, Weekday};
use chrono_tz::Tz;
use sales_agent::compose::guardrails::{self, Allowed};
use sales_agent::compose::template::Draft;
use sales_agent::domain::{Lang, Rep};
use serde_json::{Value, json};

use crate::helpers::{Stack, TestDb, spawn_stack};
use crate::on_both_backends;

on_both_backends!(every_golden_submission_yields_a_draft_with_every_property,);

const COLLATERAL_FOLDER: &str = "1SalesCollateralFolder000000001";

/// One finished workflow: its step outputs and the draft in the rep's mailbox.
struct Outcome {
    name: String,
    email: String,
    expect: Value,
    steps: BTreeMap<String, Value>,
    rep: Rep,
    draft: sales_agent::sandbox::mime::Message,
    body: String,
    /// The reply's booking links that are genuine for this very workflow.
    booking_links: Vec<String>,
}

async fn every_golden_submission_yields_a_draft_with_every_property(db: TestDb) {
    let golden: Value = serde_json::from_str(include_str!("../fixtures/golden/submissions.json"))
        .expect("golden set parses");
    let cases = golden["submissions"].as_array().unwrap();
    assert!(cases.len() >= 40);
    let stack = spawn_stack(&db).await;
    let started = Utc::now();
    let mut ids = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        let values: Vec<Value> = case["values"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(name, value)| json!({"name": name, "value": value}))
            .collect();
        let body = json!({
            "portalId": 24681357,
            "formGuid": "golden",
            "conversionId": format!("golden-{i}"),
            "submittedAt": 1_790_000_000_000u64 + i as u64,
            "values": values,
        });
        let response = stack.app.post_signed(&body.to_string()).await;
        assert_eq!(response.status(), 202, "{}", case["name"]);
        let id = crate::helpers::json(response).await["workflow_id"]
            .as_str()
            .unwrap()
            .to_string();
        // HubSpot redelivers: the same submission again is the same workflow.
        let again = stack.app.post_signed(&body.to_string()).await;
        assert!(again.status().is_success(), "{}", case["name"]);
        assert_eq!(
            crate::helpers::json(again).await["workflow_id"],
            id.as_str(),
            "{}: one workflow per duplicate",
            case["name"]
        );
        ids.push(id);
    }
    let statuses = stack.wait_finished(&ids, Duration::from_secs(120)).await;
    for (case, status) in cases.iter().zip(&statuses) {
        assert_eq!(status, "completed", "{}", case["name"]);
    }
    let reps = sales_agent::demo::reps_from_fixture(&stack.fixture);
    let mut outcomes = BTreeMap::new();
    for (case, id) in cases.iter().zip(&ids) {
        let outcome = outcome(&stack, &reps, case, id).await;
        check(&stack, &outcome, started);
        outcomes.insert(outcome.name.clone(), outcome);
    }
    // The slot checks above must not pass for want of slots.
    let without_slots: Vec<String> = outcomes
        .values()
        .filter(|o| {
            o.steps["propose_slots"]["slots"]
                .as_array()
                .unwrap()
                .is_empty()
        })
        .map(|o| {
            format!(
                "{} (rep {}, zone {})",
                o.name, o.rep.id, o.steps["propose_slots"]["prospect_zone"]
            )
        })
        .collect();
    assert!(
        without_slots.len() <= 3,
        "{} drafts offer no slots: {without_slots:#?}",
        without_slots.len()
    );
    assert!(
        outcomes
            .values()
            .any(|o| !o.steps["propose_slots"]["rendered_in_rep_zone"]
                .as_array()
                .unwrap()
                .is_empty()),
        "a low-confidence zone shows the rep's times too"
    );
    // German speakers routed to the Berlin rep (who writes German) get German.
    for case in [
        "thread-tobias-german",
        "german-umlaut-company",
        "adv-entities-company",
    ] {
        assert_eq!(reply_language(&outcomes[case]), Lang::De, "{case}");
    }
    for outcome in outcomes.values() {
        if let Some(twin) = outcome.expect["twin"].as_str() {
            same_reply(&outcomes[twin], outcome);
        }
    }
    stack.stop().await;
}

async fn outcome(stack: &Stack, reps: &[Rep], case: &Value, id: &str) -> Outcome {
    let name = case["name"].as_str().unwrap().to_string();
    let steps = stack.step_outputs(id).await;
    let rep_id = steps["route"]["rep_id"].as_str().unwrap();
    let rep = reps.iter().find(|r| r.id == rep_id).unwrap().clone();
    let email = case["values"]["email"].as_str().unwrap();
    // An internationalised domain is addressed in its ASCII (punycode) form.
    let address = sales_agent::connectors::mime::ascii_domain(email).unwrap();
    let drafts: Vec<_> = stack
        .sandbox
        .drafts(&rep.email)
        .into_iter()
        .filter(|(_, m)| m.to.iter().any(|t| t.contains(&address)))
        .collect();
    assert_eq!(drafts.len(), 1, "{name}: one draft in {}", rep.email);
    let draft = drafts.into_iter().next().unwrap().1;
    let body = draft.body.replace("\r\n", "\n");
    let booking_links = crate::booking::genuine_links(stack, &body, id).await;
    Outcome {
        name,
        email: email.to_string(),
        expect: case["expect"].clone(),
        steps,
        rep,
        draft,
        body,
        booking_links,
    }
}

fn check(stack: &Stack, o: &Outcome, started: DateTime<Utc>) {
    let (name, expect, body) = (&o.name, &o.expect, &o.body);

    // Greeting (the name as written, in any script), intent, company — in
    // the reply's language (the prospect's when the rep speaks it).
    let lang = reply_language(o);
    let greeting = body.lines().next().unwrap_or_default();
    match expect["greeting"].as_str() {
        Some(expected) => assert_eq!(greeting, in_language(expected, lang), "{name}:\n{body}"),
        None => {
            let (with_name, _, _) = LOCAL[lang as usize];
            let prefix = with_name.split("{n}").next().unwrap();
            assert!(greeting.starts_with(prefix), "{name}: {greeting:?}")
        }
    }
    assert_eq!(o.steps["qualify"]["intent"], expect["intent"], "{name}");
    if let Some(company) = expect["company"].as_str() {
        assert!(body.contains(company), "{name}: company {company}:\n{body}");
    }

    // Slots: really free, inside the rep's hours and the prospect's sensible hours
    // (in the zone the prospect is really in), on different days, shown in the body.
    let slots = &o.steps["propose_slots"];
    let inferred = slots["prospect_zone"]["zone"].as_str().unwrap();
    if let Some(zone) = expect["zone"].as_str() {
        assert_eq!(inferred, zone, "{name}: inferred zone");
    }
    let prospect_tz: Tz = expect["zone"].as_str().unwrap_or(inferred).parse().unwrap();
    let busy = stack.sandbox.events(&o.rep.calendar_id);
    let mut days = std::collections::BTreeSet::new();
    for (i, slot) in slots["slots"].as_array().unwrap().iter().enumerate() {
        let start: DateTime<Utc> = slot["start"].as_str().unwrap().parse().unwrap();
        let end: DateTime<Utc> = slot["end"].as_str().unwrap().parse().unwrap();
        assert!(start > started, "{name}: slot in the future");
        assert!(
            !busy.iter().any(|b| b.start < end && start < b.end),
            "{name}: slot {start} overlaps a busy block"
        );
        let (rep_start, rep_end) = (
            start.with_timezone(&o.rep.tz()),
            end.with_timezone(&o.rep.tz()),
        );
        assert!(
            o.rep.working_hours.days.contains(&rep_start.weekday())
                && rep_start.time() >= o.rep.working_hours.start
                && rep_end.time() <= o.rep.working_hours.end,
            "{name}: {rep_start} outside the rep's hours"
        );
        let (p_start, p_end) = (
            start.with_timezone(&prospect_tz),
            end.with_timezone(&prospect_tz),
        );
        assert!(
            !matches!(p_start.weekday(), Weekday::Sat | Weekday::Sun)
                && p_start.time() >= NaiveTime::from_hms_opt(8, 0, 0).unwrap()
                && p_end.time() <= NaiveTime::from_hms_opt(18, 0, 0).unwrap()
                && p_start.date_naive() == p_end.date_naive(),
            "{name}: {p_start} not sensible for the prospect"
        );
        assert!(
            days.insert(rep_start.date_naive()),
            "{name}: one slot a day"
        );
        let rendered = slots["rendered"][i].as_str().unwrap();
        assert!(body.contains(rendered), "{name}: {rendered} in the body");
        assert!(
            rendered.contains(prospect_tz.name()),
            "{name}: in the prospect's zone"
        );
    }

    // Assets: real files of the allowlisted folder, relevant to the intent.
    let real: Vec<String> = stack
        .fixture
        .google
        .drive
        .files
        .iter()
        .filter(|f| f.parents.iter().any(|p| p == COLLATERAL_FOLDER) && !f.trashed)
        .map(|f| format!("https://drive.google.com/file/d/{}/view", f.id))
        .collect();
    let linked: Vec<String> = o.steps["select_assets"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|x| x["url"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default();
    for url in &linked {
        assert!(
            real.contains(url),
            "{name}: {url} is not a shareable Drive file"
        );
    }
    let relevant: Vec<&str> = expect["assets_any"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    if !relevant.is_empty() {
        assert!(
            linked
                .iter()
                .any(|u| relevant.iter().any(|id| u.contains(id))),
            "{name}: none of {linked:?} is relevant"
        );
    }

    // Only allowed links, the rep's voice, and no guardrail broken — checked
    // here afresh with the expected greeting and the context's facts.
    let thread_subject = o.steps["conversation_context"]["subject"]
        .as_str()
        .map(str::to_string);
    // Every slot is a booking link of this workflow, plus one for more times.
    let offered = slots["slots"].as_array().map_or(0, Vec::len);
    let expected_links = if offered > 0 { offered + 1 } else { 0 };
    assert_eq!(o.booking_links.len(), expected_links, "{name}:\n{body}");
    let allowed = Allowed {
        links: linked.iter().chain(&o.booking_links).cloned().collect(),
        greeting: greeting.to_string(),
        facts: slots["rendered"]
            .as_array()
            .unwrap()
            .iter()
            .chain(slots["rendered_in_rep_zone"].as_array().unwrap())
            .map(|s| s.as_str().unwrap().to_string())
            .chain(expect["company"].as_str().map(str::to_string))
            .chain(thread_subject.clone())
            .collect(),
        min_chars: 80,
        max_chars: 3000,
        domains: vec![],
        problem_reported: o.steps["qualify"]["problem_reported"] == json!(true),
        language: lang,
        sign_off: sign_off(o, lang),
    };
    let draft = Draft {
        subject: o.draft.subject.clone(),
        body: body.clone(),
    };
    assert_eq!(
        guardrails::check(&draft, &o.rep.voice, &allowed),
        vec![],
        "{name}:\n{body}"
    );
    assert_eq!(o.steps["compose"]["violations"], json!([]), "{name}");
    assert!(
        body.lines().any(|l| l == sign_off(o, lang)),
        "{name}: sign-off"
    );
    assert!(body.contains(&o.rep.voice.signature), "{name}: signature");
    assert_eq!(
        o.steps["deliver"]["held"], "draft-only mode",
        "{name}: not held for review"
    );
    let to = o.draft.to.join(", ");
    let case_never = expect["never"].as_array().into_iter().flatten();
    for never in [
        "<script",
        "<b>",
        "<i>",
        "evil.example",
        "competitor",
        "pirate",
        "$1",
    ]
    .into_iter()
    .chain(case_never.map(|v| v.as_str().unwrap()))
    {
        assert!(
            !body.contains(never) && !o.draft.subject.contains(never) && !to.contains(never),
            "{name}: {never:?} in\n{to}\n{}\n{body}",
            o.draft.subject
        );
    }
    if let Some(address) = expect["to_contains"].as_str() {
        assert!(to.contains(address), "{name}: To {to}");
    }
    // One address, its display name free of markup and control characters.
    assert_eq!(o.draft.to.len(), 1, "{name}: To {to:?}");
    assert!(
        !to.chars().any(char::is_control) && to.matches('<').count() <= 1,
        "{name}: To {to:?}"
    );

    // No URL-like text but the assets' own links (and the booking links).
    let mut text = format!("{}\n{body}", o.draft.subject);
    for link in linked
        .iter()
        .chain(o.rep.booking_link.as_ref())
        .chain(&o.booking_links)
    {
        text = text.replace(link.as_str(), " ");
    }
    let domain = o.email.rsplit('@').next().unwrap_or_default();
    let left = sales_agent::compose::links::url_like(&text, &[domain]);
    assert!(left.is_empty(), "{name}: {left:?} in\n{text}");

    // An apology only for a problem the prospect reported.
    let apologises = ["sorry", "apolog", "tut mir leid", "désolé", "lamento"]
        .iter()
        .any(|w| body.to_lowercase().contains(w));
    let problem = expect["apology"].as_bool().unwrap_or(false);
    assert_eq!(apologises, problem, "{name}: apology\n{body}");

    // Threaded exactly where a thread with the prospect exists.
    if expect["thread"].as_bool().unwrap() {
        let earlier = stack
            .sandbox
            .messages(&o.rep.email, "INBOX")
            .into_iter()
            .find(|m| m.from.to_lowercase().contains(&o.email))
            .expect("the fixture's thread");
        assert_eq!(
            o.draft.thread_id, earlier.thread_id,
            "{name}: in the thread"
        );
        assert!(
            o.draft.in_reply_to.is_some() && o.draft.subject.starts_with("Re:"),
            "{name}"
        );
        let (_, _, again) = LOCAL[lang as usize];
        assert!(
            body.contains(again),
            "{name}: picks the conversation up\n{body}"
        );
    } else {
        assert!(
            o.draft.in_reply_to.is_none(),
            "{name}: no thread to reply in"
        );
    }
}

/// The greeting with and without a name, the sign-off and the follow-up
/// opening in each reply language, as the README's Languages section gives
/// them (English: the rep's voice profile).
const LOCAL: [(&str, &str, &str); 4] = [
    ("Hi {n},", "", "Good to hear from you again."),
    (
        "Guten Tag {n},",
        "Mit freundlichen Grüßen",
        "schön, wieder von Ihnen zu hören.",
    ),
    (
        "Bonjour {n},",
        "Bien cordialement,",
        "Merci de revenir vers nous.",
    ),
    (
        "Buenos días, {n}:",
        "Un cordial saludo,",
        "Me alegra volver a saber de usted.",
    ),
];

/// The language compose wrote the reply in.
fn reply_language(o: &Outcome) -> Lang {
    serde_json::from_value(o.steps["compose"]["language"].clone()).unwrap_or(Lang::En)
}

/// An English greeting (`Hi Ana,`, `Hi there,`) as it reads in `lang`.
fn in_language(english: &str, lang: Lang) -> String {
    let name = english
        .strip_prefix("Hi ")
        .and_then(|n| n.strip_suffix(','))
        .unwrap_or(english);
    let (with_name, _, _) = LOCAL[lang as usize];
    match (lang, name) {
        (Lang::En, _) => english.to_string(),
        (_, "there") => with_name.replace(", {n}", "").replace(" {n}", ""),
        _ => with_name.replace("{n}", name),
    }
}

fn sign_off(o: &Outcome, lang: Lang) -> String {
    match lang {
        Lang::En => o.rep.voice.sign_off.clone(),
        _ => LOCAL[lang as usize].1.to_string(),
    }
}

/// An injection twin gets the reply its clean original got: same rep, intent,
/// assets, subject and body (slot times and their booking links aside, which
/// depend on the moment and the workflow).
fn same_reply(clean: &Outcome, injected: &Outcome) {
    let name = &injected.name;
    assert_eq!(clean.rep.id, injected.rep.id, "{name}: rep");
    assert_eq!(
        clean.steps["qualify"]["intent"], injected.steps["qualify"]["intent"],
        "{name}"
    );
    assert_eq!(
        clean.steps["select_assets"], injected.steps["select_assets"],
        "{name}: assets"
    );
    assert_eq!(
        clean.draft.subject, injected.draft.subject,
        "{name}: subject"
    );
    let without_slots = |o: &Outcome| {
        let mut body = o.body.clone();
        for key in ["rendered", "rendered_in_rep_zone"] {
            for slot in o.steps["propose_slots"][key].as_array().unwrap() {
                body = body.replace(slot.as_str().unwrap(), "<slot>");
            }
        }
        for link in &o.booking_links {
            body = body.replace(link.as_str(), "<booking link>");
        }
        body
    };
    assert_eq!(
        without_slots(clean),
        without_slots(injected),
        "{name}: body"
    );
}
