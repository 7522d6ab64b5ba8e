//! What a prospect's words ask for: keyword tables per intent in the languages
//! of the territories the reps serve (English, German, French, Spanish,
//! Portuguese, Japanese, Chinese), and the words that report a problem.
//!
//! Matching is on whole words (`\b`, Unicode-aware), so "error" inside
//! "onerror" or "cost" inside "Costa" is no match; a keyword ending in `*` is a
//! stem (`demo*` also matches "demos", "demonstration"). Japanese and Chinese
//! are written without spaces, so their keywords match as character sequences.
//! Text is expected lowercased and plain (see `normalise`).

use std::sync::LazyLock;

use regex::Regex;

use super::lead::Intent;

/// Keywords per intent, in the order they win: a demo or pricing request beats
/// a stray support word; partnership comes last because "partner" is common.
const TABLES: &[(Intent, &[&str])] = &[
    (
        Intent::Demo,
        &[
            // English
            "demo*",
            "walkthrough*",
            "walk-through",
            "walk me through",
            "walk us through",
            "product tour",
            "trial",
            "free trial",
            "see it in action",
            // German
            "vorführung*",
            "produktdemo*",
            "demotermin*",
            "testversion*",
            "testzugang*",
            // French
            "démo*",
            "démonstration*",
            "essai*",
            // Spanish
            "demostración*",
            "prueba gratuita",
            "versión de prueba",
            // Portuguese
            "demonstração*",
            "demonstracao",
            "teste grátis",
            "teste gratuito",
            "avaliação gratuita",
            // Japanese
            "デモ",
            "実演",
            "トライアル",
            "試用",
            // Chinese (simplified and traditional)
            "演示",
            "试用",
            "示范",
            "示範",
        ],
    ),
    (
        Intent::Pricing,
        &[
            "pricing",
            "price*",
            "cost",
            "costs",
            "costing",
            "quote*",
            "quotation*",
            "budget*",
            "preis*",
            "kosten*",
            "kostet",
            "angebot*",
            "tarif*",
            "prix",
            "coût*",
            "cout*",
            "devis",
            "precio*",
            "costo*",
            "coste*",
            "cotización*",
            "presupuesto*",
            "tarifa*",
            "cuánto cuesta",
            "preço*",
            "preco*",
            "custo*",
            "orçamento*",
            "cotação*",
            "quanto custa",
            "料金",
            "価格",
            "見積",
            "費用",
            "値段",
            "プライシング",
            "价格",
            "價格",
            "报价",
            "報價",
            "费用",
            "价钱",
            "多少钱",
            "多少錢",
            "收费",
            "收費",
            "定价",
            "定價",
        ],
    ),
    (
        Intent::Support,
        &[
            "support",
            "help desk",
            "helpdesk",
            "ticket*",
            "customer service",
            "hilfe",
            "kundendienst",
            "technische unterstützung",
            "assistance",
            "service client",
            "support technique",
            "besoin d'aide",
            "besoin d’aide",
            "ayuda",
            "soporte",
            "servicio al cliente",
            "asistencia técnica",
            "suporte",
            "ajuda",
            "atendimento ao cliente",
            "assistência técnica",
            "サポート",
            "ヘルプ",
            "技术支持",
            "技術支持",
            "客服",
            "售后",
            "售後",
        ],
    ),
    (
        Intent::Partnership,
        &[
            "partner*",
            "reseller*",
            "affiliate*",
            "referral program*",
            "white label",
            "white-label",
            "partnerschaft*",
            "wiederverkäufer*",
            "vertriebspartner*",
            "kooperation*",
            "partenariat*",
            "partenaire*",
            "revendeur*",
            "alianza*",
            "distribuidor*",
            "revendedor*",
            "parceria*",
            "parceiro*",
            "パートナー",
            "提携",
            "代理店",
            "協業",
            "合作伙伴",
            "合作夥伴",
            "代理商",
            "经销商",
            "經銷商",
        ],
    ),
];

/// Words with which a prospect reports something wrong: a support request with
/// one of these is a problem (and only then may the reply apologise); one of
/// these alone makes a support request.
const PROBLEM: &[&str] = &[
    "bug*",
    "broken",
    "not working",
    "doesn't work",
    "doesn’t work",
    "does not work",
    "stopped working",
    "error*",
    "crash*",
    "fails",
    "failed",
    "failing",
    "failure*",
    "outage*",
    "problem*",
    "issue",
    "issues",
    "glitch*",
    "can't log in",
    "cannot log in",
    "fehler*",
    "funktioniert nicht",
    "kaputt",
    "absturz*",
    "stürzt ab",
    "störung*",
    "erreur*",
    "ne fonctionne pas",
    "ne marche pas",
    "panne*",
    "problème*",
    "plantage*",
    "no funciona",
    "fallo*",
    "falla*",
    "problema*",
    "avería*",
    "não funciona",
    "nao funciona",
    "erro",
    "erros",
    "falha*",
    "defeito*",
    "エラー",
    "不具合",
    "動かない",
    "動作しない",
    "使えない",
    "障害",
    "バグ",
    "故障",
    "問題が発生",
    "错误",
    "錯誤",
    "报错",
    "報錯",
    "出错",
    "出錯",
    "出问题",
    "出問題",
    "无法",
    "無法",
    "不能用",
    "崩溃",
    "崩潰",
];

/// Words naming the "question" or "other" choice of a form's intent field.
const QUESTION: &[&str] = &[
    "question*",
    "other",
    "general",
    "frage*",
    "sonstiges",
    "andere*",
    "autre*",
    "pregunta*",
    "otro*",
    "consulta*",
    "pergunta*",
    "dúvida*",
    "outro*",
    "質問",
    "その他",
    "お問い合わせ",
    "咨询",
    "諮詢",
    "其他",
    "提问",
];

/// A keyword list compiled once into one alternation, matched by the rules
/// above (whole words, `*` stems, character sequences for unspaced scripts).
pub struct Keywords(Regex);

impl Keywords {
    pub fn new(words: &[&str]) -> Keywords {
        let alternatives: Vec<String> = words.iter().map(|w| pattern(w)).collect();
        Keywords(Regex::new(&format!("(?i){}", alternatives.join("|"))).expect("valid keywords"))
    }

    /// The first keyword found in `text`, as written there.
    pub fn find<'t>(&self, text: &'t str) -> Option<&'t str> {
        self.0.find(text).map(|m| m.as_str())
    }
}

/// A keyword as a pattern: whole words for spaced scripts, a character
/// sequence for scripts written without spaces.
fn pattern(word: &str) -> String {
    let (stem, open) = word
        .strip_suffix('*')
        .map_or((word, false), |stem| (stem, true));
    let escaped = regex::escape(stem);
    if stem.chars().any(unspaced) {
        escaped
    } else if open {
        format!(r"\b{escaped}\w*")
    } else {
        format!(r"\b{escaped}\b")
    }
}

/// Scripts written without spaces between words: kana, CJK ideographs, Thai.
fn unspaced(c: char) -> bool {
    matches!(c,
        '\u{3040}'..='\u{30ff}' | '\u{3400}'..='\u{4dbf}' | '\u{4e00}'..='\u{9fff}'
        | '\u{f900}'..='\u{faff}' | '\u{ff66}'..='\u{ff9f}' | '\u{0e00}'..='\u{0e7f}')
}

static INTENTS: LazyLock<Vec<(Intent, Keywords)>> = LazyLock::new(|| {
    TABLES
        .iter()
        .map(|(intent, words)| (*intent, Keywords::new(words)))
        .collect()
});
static PROBLEMS: LazyLock<Keywords> = LazyLock::new(|| Keywords::new(PROBLEM));
static QUESTIONS: LazyLock<Keywords> = LazyLock::new(|| Keywords::new(QUESTION));

/// The intent `text` asks for and the word that decided it: the first table
/// (in [`TABLES`] order) with a match, a reported problem counting as support.
pub fn by_keyword(text: &str) -> Option<(Intent, &str)> {
    INTENTS.iter().find_map(|(intent, matcher)| {
        let found = matcher.find(text).or_else(|| {
            (*intent == Intent::Support)
                .then(|| reported_problem(text))
                .flatten()
        });
        found.map(|word| (*intent, word))
    })
}

/// The word with which `text` reports a problem, if it does.
pub fn reported_problem(text: &str) -> Option<&str> {
    PROBLEMS.find(text)
}

/// The intent a form's own intent field names ("Request a demo", "Preise",
/// "Other", "その他"…), if it names one.
pub fn from_field(value: &str) -> Option<Intent> {
    by_keyword(value)
        .map(|(intent, _)| intent)
        .or_else(|| QUESTIONS.find(value).map(|_| Intent::Question))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn intent(text: &str) -> Option<Intent> {
        by_keyword(&text.to_lowercase()).map(|(i, _)| i)
    }

    #[test]
    fn every_language_names_every_intent() {
        use Intent::*;
        for (text, expected) in [
            ("We would like a demo next week", Demo),
            ("Wir hätten gern eine Vorführung Ihrer Software", Demo),
            ("Nous aimerions une démonstration", Demo),
            ("Queremos una demostración del producto", Demo),
            ("Gostaríamos de uma demonstração", Demo),
            ("来週デモをお願いできますか", Demo),
            ("我们想预约一次产品演示", Demo),
            ("我們想申請試用", Demo),
            ("What does it cost for 50 seats?", Pricing),
            ("Was kostet die Lizenz? Bitte um ein Angebot", Pricing),
            ("Pouvez-vous m'envoyer vos tarifs et un devis ?", Pricing),
            ("¿Cuál es el precio para 20 usuarios?", Pricing),
            ("Qual é o preço para 20 usuários?", Pricing),
            ("料金プランを教えてください", Pricing),
            ("请问价格是多少", Pricing),
            ("I need support with my account", Support),
            ("Ich brauche Hilfe mit meinem Konto", Support),
            ("J'ai besoin d'aide avec mon compte", Support),
            ("Necesito ayuda con mi cuenta", Support),
            ("Preciso de suporte técnico", Support),
            ("サポートに連絡したいです", Support),
            ("需要技术支持", Support),
            ("The export is broken since Monday", Support),
            ("Der Export funktioniert nicht", Support),
            ("L'export ne fonctionne pas", Support),
            ("La exportación no funciona", Support),
            ("A exportação não funciona", Support),
            ("エクスポートでエラーが出ます", Support),
            ("导出时报错", Support),
            ("We'd like to become a reseller", Partnership),
            ("Wir möchten Vertriebspartner werden", Partnership),
            ("Nous cherchons un partenariat", Partnership),
            ("Somos distribuidor en México", Partnership),
            ("Queremos uma parceria", Partnership),
            ("販売代理店になりたい", Partnership),
            ("我们想成为合作伙伴", Partnership),
        ] {
            assert_eq!(intent(text), Some(expected), "{text}");
        }
    }

    #[test]
    fn keywords_match_whole_words_only() {
        for text in [
            "our page has an onerror handler",
            "terror",
            "we are based in Costa Rica",
            "supportive team",
            "ambiguous",
            "the debugger",
            "sprinkles",
            "apartment",
        ] {
            assert_eq!(intent(text), None, "{text}");
        }
        assert_eq!(intent("two errors"), Some(Intent::Support));
        assert_eq!(intent("Demos please"), Some(Intent::Demo));
    }

    #[test]
    fn a_demo_or_pricing_request_beats_a_stray_support_word() {
        for (text, expected) in [
            (
                "Demo please; our old tool shows an error daily",
                Intent::Demo,
            ),
            (
                "Pricing? Our current vendor's support is slow",
                Intent::Pricing,
            ),
            ("<img onerror> demo request", Intent::Demo),
        ] {
            assert_eq!(intent(text), Some(expected), "{text}");
        }
    }

    #[test]
    fn problems_are_reported_only_by_problem_words() {
        assert_eq!(
            reported_problem("the sync fails every night"),
            Some("fails")
        );
        assert_eq!(reported_problem("同步时出错"), Some("出错"));
        assert_eq!(reported_problem("i need support with onboarding"), None);
        assert_eq!(reported_problem("onerror"), None);
    }

    #[test]
    fn form_fields_name_intents_in_several_languages() {
        for (value, expected) in [
            ("Request a demo", Intent::Demo),
            ("Preisanfrage", Intent::Pricing),
            ("Other", Intent::Question),
            ("Autre question", Intent::Question),
            ("その他", Intent::Question),
            ("Partnership", Intent::Partnership),
        ] {
            assert_eq!(from_field(&value.to_lowercase()), Some(expected), "{value}");
        }
        assert_eq!(from_field("xyz"), None);
    }
}
