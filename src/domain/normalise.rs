//! Prospect text made plain, once, at validation: every later step reads only
//! what this returns. In order:
//! 1. markup is stripped and entities decoded, repeatedly, so double-encoded
//!    markup (`&amp;lt;b&amp;gt;`) cannot re-form a tag on the next decode;
//! 2. control characters (C0, DEL, C1), bidi overrides and isolates, and the
//!    zero-width and tag characters that can hide text are removed; line and
//!    paragraph separators are line breaks;
//! 3. whitespace collapses and the ends are trimmed; a single-line field's
//!    lines are joined by a space (the caller decides whether a field may hold
//!    a line break at all: a name may not, see `lead`);
//! 4. the result is cut to a bound, on a grapheme boundary.
//!
//! Markup is stripped by a small tokenizer that follows the HTML tokenizer's
//! rules for where a tag, comment or declaration starts and ends (an unclosed
//! one runs to the end of the text, as in a browser), drops the content of
//! script-like elements, and turns block tags into line breaks and other tags
//! into spaces so that words do not run together. A sanitiser crate would
//! return HTML again; what is wanted here is plain text.

use unicode_segmentation::UnicodeSegmentation;

/// Strip-and-decode rounds before giving up on peeling encodings; what is
/// still encoded after that many is left as inert text with `<` `>` removed.
const ROUNDS: usize = 6;

/// Elements whose content is code or raw text, never words of the prospect's.
const RAW_TEXT: &[&str] = &[
    "script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes", "noscript",
    "template", "object", "svg", "math",
];
/// Elements that end a line.
const BLOCK: &[&str] = &[
    "br",
    "p",
    "div",
    "li",
    "tr",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "ul",
    "ol",
    "table",
    "blockquote",
    "hr",
    "pre",
    "section",
    "article",
    "header",
    "footer",
    "dt",
    "dd",
];
/// Elements inside a word (`Ac<b>me</b>` is `Acme`).
const INLINE: &[&str] = &[
    "a", "abbr", "b", "bdi", "bdo", "big", "cite", "code", "del", "em", "font", "i", "ins", "kbd",
    "mark", "q", "s", "small", "span", "strike", "strong", "sub", "sup", "tt", "u", "var", "wbr",
];

/// `raw` as plain text (see the module header) and whether it was cut to
/// `limit` characters. `multiline` keeps line breaks (as `\n`, at most one
/// blank line in a row); otherwise lines are joined into one.
pub fn plain_text(raw: &str, limit: usize, multiline: bool) -> (String, bool) {
    let visible = without_markup(raw);
    let text = if multiline {
        let mut lines: Vec<String> = Vec::new();
        for line in visible.split('\n').map(collapse) {
            // At most one blank line in a row, none at the ends.
            if !(line.is_empty() && lines.last().is_none_or(String::is_empty)) {
                lines.push(line);
            }
        }
        while lines.last().is_some_and(String::is_empty) {
            lines.pop();
        }
        lines.join("\n")
    } else {
        collapse(&visible.replace('\n', " "))
    };
    bound(&text, limit)
}

/// Markup stripped, entities decoded and hidden characters removed until none
/// of them changes the text (removing a character can join `<` to a letter,
/// decoding can make a tag or a control character).
fn without_markup(raw: &str) -> String {
    let mut text = visible_chars(raw);
    for _ in 0..ROUNDS {
        let next = visible_chars(&html_escape::decode_html_entities(&strip_markup(&text)));
        if next == text {
            return text;
        }
        text = next;
    }
    // Still peeling after ROUNDS: nothing of it may read as a tag.
    strip_markup(&text).replace(['<', '>'], " ")
}

/// Removes tags, comments and declarations (see the module header).
fn strip_markup(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('<') {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        match markup_at(tail) {
            Some((len, name, closing)) => {
                let name = name.to_ascii_lowercase();
                out.push_str(if BLOCK.contains(&name.as_str()) {
                    "\n"
                } else if INLINE.contains(&name.as_str()) {
                    ""
                } else {
                    " "
                });
                rest = &tail[len..];
                if !closing && RAW_TEXT.contains(&name.as_str()) {
                    // The content runs to the matching end tag (or the end).
                    let end = find_ascii_ci(rest, &format!("</{name}")).unwrap_or(rest.len());
                    rest = &rest[end..];
                }
            }
            None => {
                out.push('<');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// When `text` (starting with `<`) opens markup: its length, the element name
/// (empty for comments and declarations) and whether it is an end tag.
fn markup_at(text: &str) -> Option<(usize, &str, bool)> {
    let bytes = text.as_bytes();
    let next = *bytes.get(1)?;
    if let Some(body) = text.strip_prefix("<!--") {
        // `<!-->` and `<!--->` close at once; else at `-->` or `--!>`, or never.
        if body.starts_with('>') {
            return Some((5, "", false));
        }
        if body.starts_with("->") {
            return Some((6, "", false));
        }
        let end = ["-->", "--!>"]
            .iter()
            .filter_map(|close| body.find(close).map(|i| i + close.len()))
            .min()
            .unwrap_or(body.len());
        return Some((4 + end, "", false));
    }
    if next == b'!' || next == b'?' {
        // Declarations, CDATA, processing instructions: up to the first `>`.
        let end = text.find('>').map_or(text.len(), |i| i + 1);
        return Some((end, "", false));
    }
    let (closing, name_start) = if next == b'/' { (true, 2) } else { (false, 1) };
    match bytes.get(name_start) {
        Some(b) if b.is_ascii_alphabetic() => {}
        Some(b'>') if closing => return Some((3, "", true)),
        _ => return None,
    }
    let name_end = text[name_start..]
        .find(|c: char| c.is_ascii_whitespace() || c == '/' || c == '>')
        .map_or(text.len(), |i| name_start + i);
    Some((
        tag_end(text, name_end),
        &text[name_start..name_end],
        closing,
    ))
}

/// Where a tag whose attributes start at `from` ends: after the first `>`
/// outside a quoted attribute value, else at the end of the text.
fn tag_end(text: &str, from: usize) -> usize {
    let mut quote: Option<char> = None;
    let mut after_equals = false;
    for (i, c) in text[from..].char_indices() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '>' => return from + i + 1,
            None if after_equals && (c == '"' || c == '\'') => quote = Some(c),
            None => {}
        }
        if quote.is_none() && !c.is_whitespace() {
            after_equals = c == '=';
        }
    }
    text.len()
}

fn find_ascii_ci(haystack: &str, needle: &str) -> Option<usize> {
    let (h, n) = (haystack.as_bytes(), needle.as_bytes());
    (0..h.len().saturating_sub(n.len() - 1)).find(|&i| h[i..i + n.len()].eq_ignore_ascii_case(n))
}

/// Line breaks as `\n`; other whitespace as a space; control, bidi, invisible
/// and tag characters removed. A zero-width joiner or non-joiner stays only
/// between two non-ASCII, non-space characters, where scripts and emoji need it.
fn visible_chars(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    for (i, &c) in chars.iter().enumerate() {
        match c {
            '\r' if chars.get(i + 1) == Some(&'\n') => {}
            '\n' | '\r' | '\u{0b}' | '\u{0c}' | '\u{85}' | '\u{2028}' | '\u{2029}' => {
                out.push('\n')
            }
            '\u{200c}' | '\u{200d}' => {
                let joins =
                    |n: Option<&char>| n.is_some_and(|n| !n.is_ascii() && !n.is_whitespace());
                if i > 0 && joins(chars.get(i - 1)) && joins(chars.get(i + 1)) {
                    out.push(c);
                }
            }
            c if c.is_whitespace() => out.push(' '),
            c if c.is_control() || hides_text(c) => {}
            c => out.push(c),
        }
    }
    out
}

/// Format characters that reorder, hide or smuggle text.
fn hides_text(c: char) -> bool {
    matches!(c,
        '\u{00ad}' | '\u{034f}' | '\u{061c}' | '\u{115f}' | '\u{1160}' | '\u{17b4}' | '\u{17b5}'
        | '\u{180b}'..='\u{180e}' | '\u{200b}' | '\u{200e}' | '\u{200f}'
        | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{206f}'
        | '\u{3164}' | '\u{feff}' | '\u{ffa0}' | '\u{fff9}'..='\u{fffb}'
        | '\u{1d173}'..='\u{1d17a}' | '\u{e0000}'..='\u{e007f}')
}

/// Runs of spaces as one, ends trimmed.
fn collapse(line: &str) -> String {
    line.split(' ')
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// At most `limit` characters, cut between graphemes (never inside an emoji
/// sequence or before a combining mark), trailing space trimmed.
fn bound(text: &str, limit: usize) -> (String, bool) {
    if text.chars().count() <= limit {
        return (text.to_string(), false);
    }
    let mut out = String::new();
    let mut count = 0;
    for g in text.graphemes(true) {
        count += g.chars().count();
        if count > limit {
            break;
        }
        out.push_str(g);
    }
    (out.trim_end().to_string(), true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(raw: &str) -> String {
        plain_text(raw, 200, false).0
    }

    #[test]
    fn markup_of_every_kind_is_stripped() {
        for (raw, plain) in [
            ("<b>Acme</b>", "Acme"),
            ("<script>alert(1)</script>", ""),
            ("Acme<script>alert(1)</script> Corp", "Acme Corp"),
            ("<SCRIPT src=x>alert(1)</SCRIPT >Acme", "Acme"),
            ("<style>b{}</style>Acme", "Acme"),
            ("Acme <!-- hidden --> Corp", "Acme Corp"),
            ("Acme <!-- never closed", "Acme"),
            ("Acme<!-->Corp", "Acme Corp"),
            ("Acme <b onclick=\"x\"", "Acme"),
            ("<img src=x onerror=alert(1)>Acme", "Acme"),
            ("<a title='>'>Acme</a>", "Acme"),
            ("<a href=\"x\" title=\"a>b\">Acme</a>", "Acme"),
            ("Ac<b>me</b> Corp", "Acme Corp"),
            ("<!DOCTYPE html>Acme", "Acme"),
            ("<![CDATA[x]]>Acme", "Acme"),
            ("<?php echo 1 ?>Acme", "Acme"),
            ("Acme</>", "Acme"),
            ("<<b>b>Acme", "Acme"),
            ("<div>Acme</div><div>Corp</div>", "Acme Corp"),
            ("<svg><script>x</script></svg>Acme", "Acme"),
        ] {
            assert_eq!(line(raw), plain, "{raw:?}");
        }
    }

    #[test]
    fn entities_are_decoded_and_cannot_reform_markup() {
        for (raw, plain) in [
            ("Procter &amp; Gamble", "Procter & Gamble"),
            ("AT&T", "AT&T"),
            ("Caf&eacute; M&uuml;ller", "Café Müller"),
            ("&lt;b&gt;Acme&lt;/b&gt;", "Acme"),
            ("&#60;b&#62;Acme", "Acme"),
            ("&#x3C;script&#x3E;alert(1)&#x3C;/script&#x3E;Acme", "Acme"),
            ("&amp;lt;b&amp;gt;Acme", "Acme"),
            (
                "&amp;amp;lt;script&amp;amp;gt;x&amp;amp;lt;/script&amp;amp;gt;Acme",
                "Acme",
            ),
            ("I &lt;3 our team", "I <3 our team"),
            ("Ana&nbsp;&nbsp;María", "Ana María"),
        ] {
            assert_eq!(line(raw), plain, "{raw:?}");
        }
        // However deep the encoding, no tag comes out.
        let mut deep = "<b>Acme</b>".to_string();
        for _ in 0..12 {
            deep = deep
                .replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;");
        }
        let plain = line(&deep);
        assert!(!plain.contains('<') && !plain.contains('>'), "{plain}");
    }

    #[test]
    fn hidden_and_control_characters_are_removed() {
        for (raw, plain) in [
            ("Ana\u{0}\u{7}\u{1b}[31m", "Ana[31m"),
            ("Ana\u{85}Bcc: x", "Ana Bcc: x"),
            ("Ana\u{2028}Bcc: x", "Ana Bcc: x"),
            ("Ana\u{2029}Bcc: x", "Ana Bcc: x"),
            ("Bob\r\nBcc: victim", "Bob Bcc: victim"),
            ("\n\n  Bob", "Bob"),
            ("&#10;Bob&#13;&#10;Bcc: x", "Bob Bcc: x"),
            ("Acme\u{202e}gpj.exe", "Acmegpj.exe"),
            ("Acme\u{2066}x\u{2069}", "Acmex"),
            ("Ac\u{200b}me\u{feff}\u{2060}", "Acme"),
            ("Acme\u{e0041}\u{e0042}", "Acme"),
            ("Acme\u{9f}\u{80}", "Acme"),
            ("Acme\u{00a0}\u{3000}\tCorp", "Acme Corp"),
            ("  Acme    Corp  ", "Acme Corp"),
        ] {
            assert_eq!(line(raw), plain, "{raw:?}");
        }
        // Joiners stay where a script or an emoji sequence needs them.
        assert_eq!(line("می\u{200c}خواهم"), "می\u{200c}خواهم");
        assert_eq!(line("👩\u{200d}💻 Ana"), "👩\u{200d}💻 Ana");
        assert_eq!(line("A\u{200d}na"), "Ana");
    }

    #[test]
    fn the_message_keeps_its_lines_but_nothing_hidden() {
        let (text, cut) = plain_text(
            "<p>Hello</p>\r\n\r\n\r\n<p>We need a <b>demo</b>.</p>\u{2028}Thanks\u{0}",
            5000,
            true,
        );
        assert_eq!(text, "Hello\n\nWe need a demo.\n\nThanks");
        assert!(!cut);
    }

    #[test]
    fn lengths_are_bounded_between_graphemes() {
        assert_eq!(
            plain_text(&"ä".repeat(300), 200, false),
            ("ä".repeat(200), true)
        );
        // A family emoji is 7 chars: it is kept whole or not at all.
        let family = "👨\u{200d}👩\u{200d}👧\u{200d}👦";
        let (text, cut) = plain_text(&format!("ab{family}"), 5, false);
        assert_eq!((text.as_str(), cut), ("ab", true));
        let (text, _) = plain_text("abcde\u{301}", 5, false);
        assert_eq!(text, "abcd");
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// Whatever comes in, what comes out has no tag, no control or hidden
        /// character, no line break in a single-line field, and fits its bound.
        #[test]
        fn output_is_always_plain(raw in "(<[a-z/!?]{0,3}[^<>]{0,8}>?|&[a-z#x0-9]{0,6};?|[\\PC]{0,6}|[\\x00-\\x1f\\u{2028}\\u{202e}\\u{200b}])*") {
            let (text, _) = plain_text(&raw, 50, false);
            prop_assert!(text.chars().count() <= 50);
            prop_assert!(!text.chars().any(|c| c.is_control() || hides_text(c) || matches!(c, '\u{2028}' | '\u{2029}')), "{:?}", text);
            prop_assert_eq!(text.trim(), text.as_str());
            prop_assert_eq!(strip_markup(&html_escape::decode_html_entities(&text)), html_escape::decode_html_entities(&text).into_owned(), "markup re-formed in {:?}", text);
        }
    }
}
