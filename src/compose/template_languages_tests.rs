//! The template composer in every language it writes: each intent, first
//! contact and follow-up, formal and informal, with slots, a booking link or
//! neither, passes every guardrail and reads as that language's business mail.

use super::*;
use crate::compose::dates;
use crate::compose::guardrails::{Allowed, check};
use crate::compose::slots::Interval;
use crate::domain::LocalVoice;
use crate::domain::lead::{ValidationRules, validate};
use crate::intake::parse;

const INTENTS: [Intent; 5] = [
    Intent::Demo,
    Intent::Pricing,
    Intent::Question,
    Intent::Partnership,
    Intent::Support,
];

fn context(lang: Lang, intent: Intent) -> ReplyContext {
    let values = serde_json::json!({"values": [
        {"name": "email", "value": "ana@acme.com"},
        {"name": "firstname", "value": "ana"},
        {"name": "company", "value": "Acme Logistics"},
    ]});
    let lead = validate(
        &parse(values.to_string().as_bytes()).unwrap(),
        &ValidationRules::default(),
    )
    .unwrap();
    let zone: chrono_tz::Tz = "Europe/Berlin".parse().unwrap();
    let slot = |start: &str| {
        let start: chrono::DateTime<chrono::Utc> = start.parse().unwrap();
        dates::slot_line(
            &Interval {
                start,
                end: start + chrono::Duration::minutes(30),
            },
            &[zone],
            lang,
        )
    };
    ReplyContext {
        company: lead.company.clone(),
        lead,
        intent,
        rep_name: "Jonas Weber".into(),
        assets: vec![AssetLink {
            title: "Logistics case study".into(),
            url: "https://drive.google.com/file/d/f1/view".into(),
            already_shared: false,
        }],
        slots: vec![slot("2026-12-08T09:00:00Z"), slot("2026-12-09T13:30:00Z")],
        slots_in_rep_zone: vec![],
        booking_link: None,
        // Our own booking links, as the compose step adds them: one per slot
        // and one to more times, so the more-times line is checked in every
        // language too.
        slot_links: vec![
            "https://agent.example.com/book/slot-one.sig".into(),
            "https://agent.example.com/book/slot-two.sig".into(),
        ],
        more_times_link: Some("https://agent.example.com/book/more.sig".into()),
        thread_subject: None,
        earlier_conversation: false,
        shared_before: vec![],
        problem_reported: false,
        language: lang,
    }
}

#[test]
fn every_intent_in_every_language_passes_the_guardrails() {
    for lang in Lang::ALL {
        for informal in [false, true] {
            let voice = VoiceProfile {
                informal,
                signature: "Account Executive, Example".into(),
                ..VoiceProfile::default()
            };
            for intent in INTENTS {
                for (earlier, problem, shared) in [
                    (false, false, false),
                    (true, false, true),
                    (false, true, false),
                ] {
                    let mut cx = context(lang, intent);
                    cx.earlier_conversation = earlier;
                    cx.problem_reported = problem && intent == Intent::Support;
                    if shared {
                        cx.shared_before = vec!["Pricing sheet".into(), "Security review".into()];
                    }
                    for variant in 0..3 {
                        let mut cx = cx.clone();
                        if variant > 0 {
                            cx.slots.clear();
                            cx.slot_links.clear();
                            cx.more_times_link = None;
                        }
                        if variant == 1 {
                            cx.booking_link = Some("https://cal.example.com/jonas".into());
                        }
                        let draft = compose(&cx, &voice);
                        let label = format!(
                            "{lang:?} informal={informal} {intent:?} earlier={earlier} problem={problem} variant={variant}"
                        );
                        assert_eq!(
                            check(&draft, &voice, &Allowed::for_reply(&cx, &voice)),
                            vec![],
                            "{label}:\n{}\n{}",
                            draft.subject,
                            draft.body
                        );
                        assert!(
                            draft.body.starts_with(&voice.greet_in(lang, Some("ana"))),
                            "{label}"
                        );
                        assert!(!draft.body.contains(['{', '}']), "{label}: {}", draft.body);
                        assert!(draft.body.contains("Acme Logistics") || earlier, "{label}");
                        for slot in &cx.slots {
                            assert!(draft.body.contains(slot.as_str()), "{label}");
                        }
                        for link in cx.slot_links.iter().chain(&cx.more_times_link) {
                            assert!(draft.body.contains(link.as_str()), "{label}: {link}");
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn german_french_and_spanish_are_formal_unless_the_voice_is_informal() {
    let formal = VoiceProfile::default();
    let informal = VoiceProfile {
        informal: true,
        ..VoiceProfile::default()
    };
    for (lang, formal_word, informal_word) in [
        (Lang::De, "Ihnen", "dir"),
        (Lang::Fr, "vous", "te"),
        (Lang::Es, "le mostraré", "te mostraré"),
    ] {
        let cx = context(lang, Intent::Demo);
        let (f, i) = (compose(&cx, &formal).body, compose(&cx, &informal).body);
        let has = |text: &str, word: &str| {
            text.split(|c: char| !c.is_alphanumeric() && c != ' ')
                .any(|part| format!(" {part} ").contains(&format!(" {word} ")))
        };
        assert!(
            has(&f, formal_word) && !has(&f, informal_word),
            "{lang:?}:\n{f}"
        );
        assert!(
            has(&i, informal_word) && !has(&i, formal_word),
            "{lang:?}:\n{i}"
        );
    }
    let de = compose(&context(Lang::De, Intent::Demo), &formal);
    assert_eq!(de.subject, "Ihre Demo für Acme Logistics");
    assert!(
        de.body.starts_with("Guten Tag Ana,\n\nvielen Dank"),
        "{}",
        de.body
    );
    assert!(
        de.body.contains("\nMit freundlichen Grüßen\nJonas Weber"),
        "{}",
        de.body
    );
    assert!(
        de.body
            .contains("Dezember, 10:00–10:30 Uhr MEZ (Europe/Berlin)"),
        "{}",
        de.body
    );
}

#[test]
fn the_reps_own_greeting_and_sign_off_per_language_win() {
    let mut voice = VoiceProfile::default();
    voice.languages.insert(
        "de".into(),
        LocalVoice {
            greeting: Some("Hallo {name},".into()),
            sign_off: Some("Beste Grüße".into()),
            ..LocalVoice::default()
        },
    );
    voice.validate().unwrap();
    let cx = context(Lang::De, Intent::Pricing);
    let draft = compose(&cx, &voice);
    assert!(draft.body.starts_with("Hallo Ana,"), "{}", draft.body);
    assert!(draft.body.contains("\nBeste Grüße\n"), "{}", draft.body);
    assert_eq!(
        check(&draft, &voice, &Allowed::for_reply(&cx, &voice)),
        vec![]
    );
    // English keeps the profile's own lines.
    let en = compose(&context(Lang::En, Intent::Pricing), &voice);
    assert!(en.body.starts_with("Hi Ana,") && en.body.contains("\nBest regards,\n"));
    voice.languages.get_mut("de").unwrap().greeting = Some("Hallo\n{name}".into());
    assert!(voice.validate().is_err());
}

#[test]
fn guardrails_catch_faults_in_every_language() {
    let voice = VoiceProfile {
        prohibited_words: vec!["günstig".into(), "barato".into()],
        ..VoiceProfile::default()
    };
    for (lang, insert, rule) in [
        (
            Lang::De,
            "Wir sind garantiert der Marktführer.",
            "unsupported_claim",
        ),
        (
            Lang::Fr,
            "Nous sommes le leader du marché.",
            "unsupported_claim",
        ),
        (Lang::Es, "Es una solución sin riesgo.", "unsupported_claim"),
        (Lang::De, "Das ist sehr günstig.", "prohibited_word"),
        (Lang::Es, "Es muy barato.", "prohibited_word"),
        (Lang::De, "Wie wäre es am Freitag?", "unsupported_date"),
        (
            Lang::Fr,
            "Nous pourrions nous voir lundi.",
            "unsupported_date",
        ),
        (
            Lang::Es,
            "Podemos hablar el viernes por la tarde.",
            "unsupported_date",
        ),
        (Lang::De, "Es tut uns leid.", "apology"),
        (
            Lang::Fr,
            "Passt Ihnen einer dieser Termine?",
            "calls_to_action",
        ),
        (
            Lang::Es,
            "¿Tendría 30 minutos para una llamada en los próximos días?",
            "calls_to_action",
        ),
    ] {
        let cx = context(lang, Intent::Demo);
        let mut draft = compose(&cx, &voice);
        let first_break = draft.body.find("\n\n").unwrap() + 2;
        draft.body.insert_str(first_break, &format!("{insert}\n\n"));
        let rules: Vec<String> = check(&draft, &voice, &Allowed::for_reply(&cx, &voice))
            .iter()
            .map(|v| {
                serde_json::to_value(v).unwrap()["rule"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect();
        assert!(
            rules.contains(&rule.to_string()),
            "{lang:?} {insert}: {rules:?}"
        );
    }
    // The wrong greeting or sign-off for the language is caught too.
    let cx = context(Lang::Fr, Intent::Demo);
    let mut draft = compose(&cx, &voice);
    draft.body = draft.body.replace("Bien cordialement,", "Best regards,");
    assert!(
        check(&draft, &voice, &Allowed::for_reply(&cx, &voice))
            .contains(&crate::compose::guardrails::Violation::SignOff)
    );
}
