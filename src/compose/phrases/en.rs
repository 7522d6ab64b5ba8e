//! English: the composer's first language; the rep's voice profile may change
//! its greeting, sign-off and contractions.

use super::{ByIntent, Phrases, Subjects};
use crate::domain::Lang;

pub static PHRASES: Phrases = Phrases {
    lang: Lang::En,
    greeting: "Hi {name},",
    greeting_no_name: "Hi there,",
    sign_off: "Best regards,",
    at_company: " at {company}",
    opening: ByIntent {
        demo: "Thank you for asking for a demo. I would be glad to show you how the team{at} could use it, focused on what matters to you.",
        pricing: "Thank you for your interest in pricing. The right plan depends on how the team{at} would use it, so I would like to understand that first and then give you exact figures.",
        partnership: "Thank you for reaching out about a partnership. I would be glad to learn more about what you have in mind{at}.",
        support_problem: "Thank you for letting me know about the problem. I am sorry you ran into trouble; I will make sure the right people{at} get what they need from us.",
        support: "Thank you for getting in touch. I will make sure the right people{at} get what they need from us.",
        question: "Thank you for your message. I would be glad to answer your question and learn more about the team{at}.",
    },
    follow_up: ByIntent {
        demo: "Good to hear from you again. I would be glad to set up the demo for the team{at} and focus it on what we have talked about.",
        pricing: "Good to hear from you again. Happy to go through pricing: once I know how the team{at} would use it, I can give you exact figures.",
        partnership: "Good to hear from you again. I would be glad to hear more about the partnership you have in mind.",
        support_problem: "Thank you for letting me know about the problem. I am sorry you ran into trouble; I will make sure the right people{at} get what they need from us.",
        support: "Good to hear from you again. I will make sure the right people{at} get what they need from us.",
        question: "Good to hear from you again. I would be glad to answer your question.",
    },
    assets_one: "This may be useful before we talk:",
    assets_many: "These may be useful before we talk:",
    shared_before: "You already have {titles} from earlier in our thread.",
    title_article: "the ",
    and: " and ",
    slots_intro: "Here are a few times that are free on my side:",
    rep_zone_note: "(For reference, in my time zone: {slots}.)",
    slot_question: "Would one of these times work for you?",
    slot_request: "Please let me know which of these times suits you.",
    booking: "You can pick a time that suits you here: {link}",
    no_slots: "Would you have 30 minutes for a call in the next few days?",
    more_times: "None of these? More times: {link}",
    subjects: Subjects {
        demo_for: "Your demo for {company}",
        demo: "Your demo request",
        pricing_for: "Pricing for {company}",
        pricing: "Your pricing question",
        partnership: "Partnering with us",
        support: "Your request",
        question_from: "Your question from {company}",
        question: "Your question",
    },
};
