//! Conversation context against the sandbox, on both backends: every thread with
//! the prospect is read in full, the reply goes into the most relevant one (not
//! merely the newest), message bodies are summarised without quoted text or
//! signatures, and colleagues' threads at the prospect's company are read only
//! when the setting asks for it. A reply into an existing conversation picks it
//! up (no second introduction) and names material already linked there instead
//! of linking it again.

use serde_json::Value;

use crate::helpers::{Stack, TestDb, spawn_stack, spawn_stack_with};
use crate::on_both_backends;

on_both_backends!(
    the_reply_goes_into_the_most_relevant_thread_with_summarised_bodies,
    company_threads_are_read_only_when_asked_for,
    earlier_mail_that_cannot_be_replied_into_never_stops_a_later_lead,
    a_reply_mid_thread_picks_it_up_and_names_what_was_already_sent,
);

const MAYA: &str = "maya.chen@northwind-analytics.com";
const JONAS: &str = "jonas.weber@northwind-analytics.com";
const LAURA: &str = "laura.martinez@brightpath-health.com";
const FORECAST_SUBJECT: &str = "Scheduling forecasts for our clinics";

/// The fixture thread Maya and Laura had about forecasts.
fn forecast_thread(stack: &Stack) -> String {
    stack
        .sandbox
        .messages(MAYA, "SENT")
        .into_iter()
        .chain(stack.sandbox.messages(MAYA, "INBOX"))
        .find(|m| m.subject.ends_with(FORECAST_SUBJECT))
        .map(|m| m.thread_id)
        .expect("fixture thread")
}

/// Earlier mail: a newer but unrelated thread with Laura, a later message in the
/// forecast thread carrying a quote and a signature, and a colleague's thread.
fn seed_mail(stack: &Stack) -> String {
    let thread = forecast_thread(stack);
    stack.put_message(
        MAYA,
        Some(&thread),
        "From: Laura Martinez <laura.martinez@brightpath-health.com>\nTo: maya.chen@northwind-analytics.com\nSubject: Re: Scheduling forecasts for our clinics\nMessage-ID: <CAK9laura.002@brightpath-health.com>\nIn-Reply-To: <NWA.maya.001@northwind-analytics.com>\nReferences: <CAK9laura.001@brightpath-health.com> <NWA.maya.001@northwind-analytics.com>\n\nHi Maya,\n\nOur COO liked the Mercy Valley numbers. Can you show the scheduling forecasts for our Denver clinics on a call? We are short of nurses every winter.\n\nBest,\nLaura\n-- \nLaura Martinez | Director of Operations | +1 555 0100\n\nOn Mon, 2 Nov 2026, Maya Chen wrote:\n> Attached is the Mercy Valley case study\n",
        &["INBOX"],
        chrono::Duration::hours(600),
    );
    stack.put_message(
        MAYA,
        None,
        "From: Laura Martinez <laura.martinez@brightpath-health.com>\nTo: maya.chen@northwind-analytics.com\nSubject: Invoice for the October workshop\nMessage-ID: <CAK9laura.003@brightpath-health.com>\n\nHi Maya,\n\nCould you resend the invoice for the October workshop? Our accounts team lost it.\n\nThanks,\nLaura\n",
        &["INBOX"],
        chrono::Duration::hours(5),
    );
    stack.put_message(
        JONAS,
        None,
        "From: Omar Haddad <omar.haddad@brightpath-health.com>\nTo: jonas.weber@northwind-analytics.com\nSubject: Budget approval for forecasting\nMessage-ID: <omar.1@brightpath-health.com>\n\nHello Jonas,\n\nThe board approved the analytics budget for next year. Procurement will contact you about terms.\n\nRegards,\nOmar\n",
        &["INBOX"],
        chrono::Duration::hours(48),
    );
    thread
}

async fn conversation_of(stack: &Stack, email: &str) -> (Value, Value) {
    let id = stack.answered(email).await;
    (
        stack.step_output(&id, "conversation_context").await,
        stack.step_output(&id, "deliver").await,
    )
}

fn lines(conversation: &Value) -> Vec<String> {
    conversation["summary"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap().to_string())
        .collect()
}

async fn the_reply_goes_into_the_most_relevant_thread_with_summarised_bodies(db: TestDb) {
    let stack = spawn_stack(&db).await;
    let thread = seed_mail(&stack);
    let (conversation, delivery) = conversation_of(&stack, LAURA).await;

    // Laura asks about the forecasts again: the older forecast thread wins over
    // the newer invoice thread, and the draft is threaded there.
    assert_eq!(conversation["thread_id"], thread.as_str(), "{conversation}");
    assert_eq!(conversation["subject"], FORECAST_SUBJECT);
    assert_eq!(conversation["mailbox"], MAYA);
    assert_eq!(
        conversation["parent_message_id"],
        "<CAK9laura.002@brightpath-health.com>"
    );
    assert_eq!(conversation["threads_found"], 2);
    assert_eq!(delivery["thread_id"], thread.as_str());

    let summary = lines(&conversation);
    let newest = &summary[0];
    assert!(
        newest.contains("Can you show the scheduling forecasts for our Denver clinics"),
        "{newest}"
    );
    for cut in [
        "555",
        "Director of Operations",
        "Attached is",
        "Hi Maya",
        "Best,",
    ] {
        assert!(!newest.contains(cut), "{cut:?} left in {newest}");
    }
    assert!(
        summary.iter().any(
            |l| l.contains("Earlier thread \"Invoice for the October workshop\"")
                && l.contains("resend the invoice")
        ),
        "{summary:#?}"
    );
    assert!(
        !summary.iter().any(|l| l.contains("Budget approval")),
        "off by default"
    );
    stack.stop().await;
}

async fn company_threads_are_read_only_when_asked_for(db: TestDb) {
    let stack = spawn_stack_with(
        &db,
        |mut config| {
            config.engine.conversation_company_threads = true;
            config
        },
        Default::default(),
    )
    .await;
    let thread = seed_mail(&stack);
    let (conversation, _) = conversation_of(&stack, LAURA).await;
    let summary = lines(&conversation);
    assert!(
        summary.iter().any(
            |l| l.contains("company thread \"Budget approval for forecasting\"")
                && l.contains("The board approved the analytics budget")
        ),
        "{summary:#?}"
    );
    // A colleague's thread informs, but the reply still goes to Laura's own thread.
    assert_eq!(conversation["thread_id"], thread.as_str());
    assert_eq!(conversation["threads_found"], 2);
    stack.stop().await;
}

/// Laura's sample again as a new submission (its own conversion id).
async fn submit_again(stack: &Stack, conversion: &str) -> String {
    let mut body: Value = serde_json::from_str(&stack.sample(LAURA)).unwrap();
    body["conversionId"] = conversion.into();
    stack.completed(&body.to_string()).await
}

/// What Gmail hands back is another mailer's text. A subject with control and
/// line-separator characters is cleaned (and the reply still threads); references
/// that are not Message-IDs are dropped; a last message whose Message-ID is not
/// one (no `@`, spaces, non-ASCII, empty) cannot be replied to safely, so the
/// reply starts a new thread. Every lead completes.
async fn earlier_mail_that_cannot_be_replied_into_never_stops_a_later_lead(db: TestDb) {
    let stack = spawn_stack_with(
        &db,
        |mut config| {
            config.engine.cool_down = std::time::Duration::ZERO;
            config
        },
        Default::default(),
    )
    .await;
    // A recent thread about exactly what Laura asks, under a poisoned subject.
    let subject =
        "Scheduling\u{7} forecasts\u{b} for\tthe\u{2028}COO\u{85} Bcc: x@evil.example\u{1b}[31m";
    let thread = stack.put_message(
        MAYA,
        None,
        &format!(
            "From: Laura Martinez <laura.martinez@brightpath-health.com>\nTo: {MAYA}\nSubject: {subject}\nMessage-ID: <poison.1@brightpath-health.com>\nReferences: <ok.0@brightpath-health.com> not-an-id <sp ace@x> <>\n\nCould you show the scheduling forecasts to our COO? We are evaluating vendors this quarter, following our chat last month.\n"
        ),
        &["INBOX"],
        chrono::Duration::hours(2),
    );
    let id = submit_again(&stack, "poison-subject").await;
    let conversation = stack.step_output(&id, "conversation_context").await;
    let delivery = stack.step_output(&id, "deliver").await;
    assert_eq!(conversation["thread_id"], thread.as_str(), "{conversation}");
    let cleaned = conversation["subject"].as_str().unwrap();
    assert!(
        !cleaned.chars().any(|c| c.is_control() || c == '\u{2028}'),
        "{cleaned:?}"
    );
    assert!(
        cleaned.starts_with("Scheduling forecasts for the COO"),
        "{cleaned:?}"
    );
    assert_eq!(
        conversation["references"],
        serde_json::json!(["<ok.0@brightpath-health.com>"])
    );
    assert_eq!(delivery["thread_id"], thread.as_str(), "still threaded");

    // Then the thread's newest message carries a Message-ID nobody can reply to.
    for (n, bad) in [
        "<no-at-sign.20261120>",
        "<two words@brightpath-health.com>",
        "<schlüssel@brightpath-health.com>",
        "<@brightpath-health.com>",
        "<>",
    ]
    .into_iter()
    .enumerate()
    {
        stack.put_message(
            MAYA,
            Some(&thread),
            &format!(
                "From: Laura Martinez <laura.martinez@brightpath-health.com>\nTo: {MAYA}\nSubject: Re: forecasts\nMessage-ID: {bad}\n\nAnd the scheduling forecasts for our COO, please - vendors this quarter.\n"
            ),
            &["INBOX"],
            // Newer than anything in the thread, drafts included.
            chrono::Duration::seconds(-1 - n as i64),
        );
        let id = submit_again(&stack, &format!("poison-id-{n}")).await;
        let conversation = stack.step_output(&id, "conversation_context").await;
        let delivery = stack.step_output(&id, "deliver").await;
        assert!(conversation["thread_id"].is_null(), "{bad}: {conversation}");
        assert!(conversation["parent_message_id"].is_null(), "{bad}");
        assert!(conversation["threads_found"].as_u64().unwrap() >= 1);
        assert_ne!(
            delivery["thread_id"],
            thread.as_str(),
            "{bad}: a new thread"
        );
    }
    stack.stop().await;
}

/// The Drive file of the fixture's Mercy Valley case study.
const MERCY_VALLEY_FILE: &str = "1CaseStudyHealthcareMercyValley1";

/// Maya already sent Laura the Mercy Valley case study in their thread. Laura's
/// new request is answered in that thread, as a follow-up: no re-introduction,
/// the case study named as already sent and not linked again, and other
/// material still offered when it fits.
async fn a_reply_mid_thread_picks_it_up_and_names_what_was_already_sent(db: TestDb) {
    let stack = spawn_stack(&db).await;
    let thread = forecast_thread(&stack);
    stack.put_message(
        MAYA,
        Some(&thread),
        &format!(
            "From: Maya Chen <{MAYA}>\nTo: {LAURA}\nSubject: Re: Scheduling forecasts for our clinics\nMessage-ID: <NWA.maya.002@northwind-analytics.com>\nIn-Reply-To: <NWA.maya.001@northwind-analytics.com>\n\nHi Laura,\n\nHere is the case study as a link: https://drive.google.com/file/d/{MERCY_VALLEY_FILE}/view?usp=sharing\n\nBest,\nMaya\n"
        ),
        &["SENT"],
        chrono::Duration::hours(100),
    );
    let id = stack.answered(LAURA).await;
    let conversation = stack.step_output(&id, "conversation_context").await;
    let assets = stack.step_output(&id, "select_assets").await;
    let draft = stack.step_output(&id, "compose").await;
    let delivery = stack.step_output(&id, "deliver").await;
    let body = draft["body"].as_str().unwrap();

    assert_eq!(delivery["thread_id"], thread.as_str(), "threaded");
    assert_eq!(
        conversation["shared_files"],
        serde_json::json!([MERCY_VALLEY_FILE])
    );
    let shared: Vec<&Value> = assets
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["already_shared"] == true)
        .collect();
    assert_eq!(shared.len(), 1, "{assets}");
    assert!(
        shared[0]["url"]
            .as_str()
            .unwrap()
            .contains(MERCY_VALLEY_FILE)
    );
    let title = shared[0]["title"].as_str().unwrap();
    assert!(!body.contains(MERCY_VALLEY_FILE), "linked again:\n{body}");
    assert!(
        body.contains(&format!(
            "You already have the {title} from earlier in our thread"
        )),
        "not named:\n{body}"
    );
    for fresh in assets
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["already_shared"] != true)
    {
        assert!(body.contains(fresh["url"].as_str().unwrap()), "{body}");
    }
    assert!(body.contains("Good to hear from you again."), "{body}");
    for first_contact in [
        "learn more about the team",
        "Thank you for asking for a demo",
    ] {
        assert!(
            !body.contains(first_contact),
            "{first_contact:?} in\n{body}"
        );
    }
    assert_eq!(draft["violations"], serde_json::json!([]), "{body}");
    stack.stop().await;
}
