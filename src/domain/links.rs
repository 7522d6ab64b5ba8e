//! URL-like text: anything a mail client would turn into a link, or a reader
//! would type into a browser. Prospect-supplied text holding such a thing never
//! reaches a subject or a body verbatim (validation withholds the field, the
//! guardrails refuse a draft that carries one it was not given).
//!
//! Recognised, after folding the look-alike dots (`。` `．` `｡`) and removing
//! invisible format characters (zero-width spaces, soft hyphens):
//! - a scheme, defanged or not: `http://`, `hxxps[:]//`, `ftp://`, `javascript:`…
//!   (`h**p`, `hxxp` and `http:` / `https[:]` on their own too);
//! - `www.`; an IPv4 or IPv6 address;
//! - a bracketed dot (`[.]`, `(.)`, `{dot}`), or `dot` between a name and a TLD;
//! - a domain with a path, port, query or fragment (`evil-example.com/login`);
//! - a bare domain whose TLD is a country code or a common generic one (which
//!   covers the shorteners: `bit.ly`, `t.co`, `goo.gl`…), unless it is one of the
//!   domains the caller allows (the prospect's own, the rep's, the assets').

use std::sync::LazyLock;

use regex::Regex;

static SCHEME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\b[a-z][a-z0-9+.\-]{1,15}\s*(?::|\[\s*:\s*\]|\(\s*:\s*\))\s*(?:/|\\|\[\s*/\s*\]){2}|\b(?:javascript|data|vbscript|mailto)\s*:|\bh(?:xx|\*\*|XX|tt|xt|tx)ps?\s*(?::|\[\s*:\s*\]|\(\s*:\s*\))|\bh(?:xx|\*\*)ps?\b",
    )
    .expect("valid regex")
});
static WWW: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\bwww\d{0,3}\s*(?:\.|\[\s*\.\s*\])\s*\S+").expect("valid regex")
});
static BRACKETED_DOT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\S*\s*[\[\(\{<]\s*(?:\.|dot|punkt|point)\s*[\]\)\}>]\s*\S*")
        .expect("valid regex")
});
static WORD_DOT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b[\p{L}\p{N}-]+\s+dot\s+(?:com|net|org|info|biz|io|co|ly|me|ai|app|dev|xyz|de|uk|fr|es|ru|cn)\b")
        .expect("valid regex")
});
static IPV4: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b\d{1,3}(?:\s*(?:\.|\[\.\]|\(\.\))\s*\d{1,3}){3}\b").expect("valid regex")
});
static IPV6: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\[?\b(?:[0-9a-f]{1,4}:){3,7}[0-9a-f]{1,4}\b\]?|\[?\b[0-9a-f]{1,4}::(?:[0-9a-f]{1,4}\b)?\]?")
        .expect("valid regex")
});
static DOMAIN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)(@?)\b((?:[\p{L}\p{N}](?:[\p{L}\p{N}\-]{0,61}[\p{L}\p{N}])?\.)+(xn--[a-z0-9\-]{2,59}|\p{L}{2,24}))\b([/:?#]\S*)?",
    )
    .expect("valid regex")
});

/// Generic TLDs common enough to be read as a link when written bare. Country
/// codes (any two letters) and punycode or non-Latin TLDs count as well.
const GENERIC_TLDS: &[&str] = &[
    "com",
    "net",
    "org",
    "info",
    "biz",
    "io",
    "ai",
    "app",
    "dev",
    "xyz",
    "online",
    "site",
    "top",
    "shop",
    "store",
    "tech",
    "cloud",
    "live",
    "link",
    "click",
    "website",
    "space",
    "pro",
    "name",
    "mobi",
    "asia",
    "club",
    "tk",
    "ml",
    "ga",
    "cf",
    "gq",
    "page",
    "blog",
    "news",
    "email",
    "support",
    "login",
    "security",
    "services",
    "agency",
    "digital",
    "solutions",
    "systems",
    "software",
    "network",
    "zone",
    "world",
    "today",
    "life",
    "work",
    "works",
    "run",
    "icu",
    "vip",
    "win",
    "bid",
    "loan",
    "date",
    "men",
    "download",
    "review",
    "stream",
    "gov",
    "edu",
    "mil",
    "int",
    "museum",
    "aero",
    "coop",
    "jobs",
    "travel",
    "tel",
    "cat",
    "post",
    "bank",
    "money",
    "pay",
    "finance",
    "health",
];

/// The URL-like fragments of `text`, in order, leaving out bare domains (no path)
/// under `allowed_domains` (compared case-insensitively, subdomains included).
pub fn url_like(text: &str, allowed_domains: &[&str]) -> Vec<String> {
    let folded = fold(text);
    let mut found: Vec<(usize, String)> = Vec::new();
    for re in [&*SCHEME, &*WWW, &*BRACKETED_DOT, &*WORD_DOT, &*IPV4, &*IPV6] {
        found.extend(
            re.find_iter(&folded)
                .map(|m| (m.start(), m.as_str().to_string())),
        );
    }
    for caps in DOMAIN.captures_iter(&folded) {
        let whole = caps.get(0).expect("a match has a whole");
        let domain = caps.get(2).map_or("", |m| m.as_str());
        let tld = caps.get(3).map_or("", |m| m.as_str()).to_lowercase();
        let has_path = caps.get(4).is_some_and(|p| p.as_str().len() > 1);
        let linkish_tld = tld.chars().count() == 2 && tld.is_ascii()
            || GENERIC_TLDS.contains(&tld.as_str())
            || tld.starts_with("xn--")
            || !tld.is_ascii();
        if !(has_path || linkish_tld) {
            continue;
        }
        if !has_path && is_allowed(domain, allowed_domains) {
            continue;
        }
        found.push((whole.start(), whole.as_str().to_string()));
    }
    found.sort();
    found.dedup_by(|a, b| a.1 == b.1);
    found.into_iter().map(|(_, text)| text).collect()
}

/// True when `text` holds anything URL-like (see [`url_like`]).
pub fn has_url_like(text: &str, allowed_domains: &[&str]) -> bool {
    !url_like(text, allowed_domains).is_empty()
}

/// The domains named in `text` (bare or in links), lowercased: for allowing the
/// ones in text the service itself wrote (the rep's signature, asset links).
pub fn domains_in(text: &str) -> Vec<String> {
    DOMAIN
        .captures_iter(&fold(text))
        .filter_map(|c| c.get(2).map(|d| d.as_str().to_lowercase()))
        .collect()
}

fn is_allowed(domain: &str, allowed: &[&str]) -> bool {
    let domain = domain.to_lowercase();
    let domain = domain.trim_start_matches("www.");
    allowed.iter().any(|a| {
        let a = a.trim().trim_start_matches("www.").to_lowercase();
        !a.is_empty() && (domain == a || domain.ends_with(&format!(".{a}")))
    })
}

/// Look-alike dots become `.`; invisible format characters go.
fn fold(text: &str) -> String {
    text.chars()
        .filter(|c| !matches!(c, '\u{200b}'..='\u{200f}' | '\u{2060}'..='\u{2064}' | '\u{feff}' | '\u{ad}'))
        .map(|c| match c {
            '\u{3002}' | '\u{ff0e}' | '\u{ff61}' | '\u{2024}' => '.',
            '\u{ff1a}' => ':',
            '\u{ff0f}' | '\u{2044}' | '\u{2215}' => '/',
            c => c,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_in_every_disguise_are_found() {
        for text in [
            "Acme. Urgent: verify your account at evil-example.com/login",
            "see http://evil.test",
            "HTTPS://EVIL.TEST/x",
            "hxxps://evil[.]com/pay",
            "hxxp[:]//evil.com",
            "h**p://evil.com",
            "go to www.evil.com now",
            "WWW . evil . com",
            "evil[.]com",
            "evil(.)com",
            "evil{dot}com",
            "evil [dot] com",
            "evil dot com",
            "bit.ly/3xYz",
            "bit.ly",
            "t.co",
            "goo.gl/abc",
            "tinyurl.com",
            "192.168.0.1",
            "10[.]0[.]0[.]1",
            "http://3232235777/",
            "[2001:db8::1]",
            "fe80::1",
            "evil.com:8080",
            "evil.example/login?next=/",
            "login.evil.co.uk",
            "evil\u{200b}.com/x",
            "evil\u{3002}com",
            "evil．com／login",
            "javascript:alert(1)",
            "paypal.com.evil.xyz",
            "例え.jp/パス",
            "xn--80ak6aa92e.com",
            "пример.рф",
        ] {
            assert!(has_url_like(text, &[]), "{text:?} passed as plain text");
        }
    }

    #[test]
    fn ordinary_words_and_names_are_not_links() {
        for text in [
            "Acme Logistics GmbH",
            "J.P. Morgan & Co.",
            "Ana María O'Neill-Grün",
            "Dr. Müller",
            "St. Louis",
            "Version 2.0 of the platform, e.g. the U.S. team",
            "We have 3.5 FTEs and a budget of $40,000.",
            "Meet at 10:30 or 14:00",
            "+1 (555) 010-0100",
            "Head of IT. Thanks.",
            "株式会社サンプル",
            "HTTP Solutions Ltd",
        ] {
            assert!(!has_url_like(text, &[]), "{text:?} taken for a link");
        }
    }

    #[test]
    fn allowed_bare_domains_pass_but_not_with_a_path() {
        assert!(!has_url_like("Booking.com", &["booking.com"]));
        assert!(!has_url_like("mail.booking.com", &["booking.com"]));
        assert!(has_url_like("booking.com/login", &["booking.com"]));
        assert!(has_url_like("booking.com.evil.io", &["booking.com"]));
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    /// A link as someone hiding it would write it, inside ordinary words.
    fn disguised_link() -> impl Strategy<Value = String> {
        let label = "[a-z][a-z0-9-]{1,12}[a-z0-9]";
        let tld = prop::sample::select(vec![
            "com", "net", "org", "io", "ly", "co", "de", "ru", "xyz", "info", "app", "uk",
        ]);
        let dot = prop::sample::select(vec![
            ".",
            "[.]",
            "(.)",
            "{.}",
            " [dot] ",
            "(dot)",
            "\u{3002}",
            "\u{ff0e}",
            "\u{200b}.",
        ]);
        let scheme = prop::sample::select(vec![
            "",
            "",
            "http://",
            "https://",
            "hxxp://",
            "hxxps[:]//",
            "HTTP://",
            "h**p://",
        ]);
        let path = prop::sample::select(vec!["", "/login", "/a/b?c=d", ":8443", "/x#y"]);
        (
            scheme,
            label,
            dot,
            tld,
            path,
            "[A-Za-z ]{0,12}",
            "[A-Za-z ]{0,12}",
        )
            .prop_map(|(scheme, label, dot, tld, path, before, after)| {
                format!("{before} {scheme}{label}{dot}{tld}{path} {after}")
            })
    }

    proptest! {
        #[test]
        fn any_disguised_link_is_found(text in disguised_link()) {
            prop_assert!(has_url_like(&text, &[]), "{:?}", text);
        }

        #[test]
        fn any_ip_address_is_found(a in 1u8.., b: u8, c: u8, d: u8, defang in any::<bool>()) {
            let dot = if defang { "[.]" } else { "." };
            let text = format!("Acme {a}{dot}{b}{dot}{c}{dot}{d} Systems");
            prop_assert!(has_url_like(&text, &[]), "{:?}", text);
        }

        /// Words, names and sentences (dots followed by a space) are not links.
        #[test]
        fn prose_is_not_a_link(words in prop::collection::vec("[A-Za-zÀ-ÿ'-]{1,12}", 1..12),
                               sep in prop::sample::select(vec![" ", ", ", ". ", " & ", " - "])) {
            let text = words.join(sep);
            prop_assert!(!has_url_like(&text, &[]), "{:?}", text);
        }
    }
}
