//! Builders for Gmail's and Drive's `q` search strings. Values never become syntax:
//! Gmail values are double-quoted and may not contain quotes, backslashes, braces,
//! parentheses or control characters (Gmail has no escape inside quotes, so such
//! values are refused); Drive values are single-quoted with `\` and `'` escaped, as
//! the Drive docs require.

use super::error::ConnectorError;

/// A Gmail search: terms joined by spaces (AND).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GmailQuery {
    terms: Vec<String>,
}

impl GmailQuery {
    pub fn new() -> Self {
        Self::default()
    }

    /// Mail from or to `address` (Gmail's `{a b}` is OR).
    pub fn with_person(mut self, address: &str) -> Result<Self, ConnectorError> {
        let v = gmail_value(address)?;
        self.terms.push(format!("{{from:{v} to:{v}}}"));
        Ok(self)
    }

    pub fn from(self, address: &str) -> Result<Self, ConnectorError> {
        self.term("from", address)
    }

    pub fn to(self, address: &str) -> Result<Self, ConnectorError> {
        self.term("to", address)
    }

    /// The message whose `Message-ID` is `id` (angle brackets optional).
    pub fn rfc822msgid(self, id: &str) -> Result<Self, ConnectorError> {
        let id = id.trim().trim_start_matches('<').trim_end_matches('>');
        self.term("rfc822msgid", id)
    }

    /// `in:sent`, `in:drafts`, `in:inbox`, `in:anywhere`.
    pub fn in_folder(mut self, folder: Folder) -> Self {
        self.terms.push(format!("in:{}", folder.as_str()));
        self
    }

    pub fn newer_than_days(mut self, days: u32) -> Self {
        self.terms.push(format!("newer_than:{days}d"));
        self
    }

    fn term(mut self, operator: &str, value: &str) -> Result<Self, ConnectorError> {
        let v = gmail_value(value)?;
        self.terms.push(format!("{operator}:{v}"));
        Ok(self)
    }

    pub fn build(&self) -> String {
        self.terms.join(" ")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Folder {
    Sent,
    Drafts,
    Inbox,
    Anywhere,
}

impl Folder {
    fn as_str(self) -> &'static str {
        match self {
            Folder::Sent => "sent",
            Folder::Drafts => "drafts",
            Folder::Inbox => "inbox",
            Folder::Anywhere => "anywhere",
        }
    }
}

fn gmail_value(value: &str) -> Result<String, ConnectorError> {
    let bad = |c: char| c.is_control() || matches!(c, '"' | '\\' | '{' | '}' | '(' | ')');
    if value.trim().is_empty() || value.chars().any(bad) {
        return Err(ConnectorError::Permanent {
            status: 0,
            message: "value not allowed in a Gmail query".into(),
        });
    }
    Ok(format!("\"{}\"", value.trim()))
}

/// A Drive `files.list` query: clauses joined by ` and `.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DriveQuery {
    clauses: Vec<String>,
}

impl DriveQuery {
    /// Starts with `trashed = false`: Drive lists trashed files unless told not to.
    pub fn new() -> Self {
        DriveQuery {
            clauses: vec!["trashed = false".into()],
        }
    }

    pub fn in_parent(mut self, folder_id: &str) -> Self {
        self.clauses
            .push(format!("{} in parents", drive_value(folder_id)));
        self
    }

    /// Files in any of `folder_ids` (one parenthesised OR group).
    pub fn in_any_parent<'a>(mut self, folder_ids: impl IntoIterator<Item = &'a str>) -> Self {
        let any: Vec<String> = folder_ids
            .into_iter()
            .map(|id| format!("{} in parents", drive_value(id)))
            .collect();
        if !any.is_empty() {
            self.clauses.push(format!("({})", any.join(" or ")));
        }
        self
    }

    pub fn name_contains(mut self, text: &str) -> Self {
        self.clauses
            .push(format!("name contains {}", drive_value(text)));
        self
    }

    pub fn full_text_contains(mut self, text: &str) -> Self {
        self.clauses
            .push(format!("fullText contains {}", drive_value(text)));
        self
    }

    pub fn mime_type_is(mut self, mime: &str) -> Self {
        self.clauses
            .push(format!("mimeType = {}", drive_value(mime)));
        self
    }

    pub fn mime_type_is_not(mut self, mime: &str) -> Self {
        self.clauses
            .push(format!("mimeType != {}", drive_value(mime)));
        self
    }

    /// Files whose app-private property `key` is `value` (Drive's
    /// `appProperties has { key='…' and value='…' }`).
    pub fn app_property(mut self, key: &str, value: &str) -> Self {
        self.clauses.push(format!(
            "appProperties has {{ key={} and value={} }}",
            drive_value(key),
            drive_value(value)
        ));
        self
    }

    pub fn build(&self) -> String {
        self.clauses.join(" and ")
    }
}

/// Quotes a Drive value: `\` and `'` escaped; line breaks and other controls dropped.
fn drive_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('\'');
    for c in value.chars().filter(|c| !c.is_control()) {
        if matches!(c, '\\' | '\'') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('\'');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gmail_terms_are_quoted_and_joined() {
        let q = GmailQuery::new()
            .in_folder(Folder::Sent)
            .rfc822msgid("<sa.1.deliver@x.com>")
            .unwrap()
            .build();
        assert_eq!(q, r#"in:sent rfc822msgid:"sa.1.deliver@x.com""#);
        let q = GmailQuery::new().with_person("a@b.com").unwrap().build();
        assert_eq!(q, r#"{from:"a@b.com" to:"a@b.com"}"#);
    }

    #[test]
    fn a_gmail_value_cannot_close_its_quotes_or_group() {
        for evil in [
            r#"a@b.com" OR from:"ceo@x.com"#,
            "a@b.com} OR {from:x",
            "a@b.com\\",
            "a@b.com\nin:anywhere",
            "a@b.com) (x",
            "  ",
        ] {
            assert!(GmailQuery::new().from(evil).is_err(), "{evil:?}");
            assert!(GmailQuery::new().with_person(evil).is_err(), "{evil:?}");
        }
    }

    #[test]
    fn drive_queries_exclude_the_trash_and_escape_values() {
        let q = DriveQuery::new()
            .in_parent("folder1")
            .name_contains("O'Brien \\ case study")
            .mime_type_is_not("application/vnd.google-apps.folder")
            .build();
        assert_eq!(
            q,
            r"trashed = false and 'folder1' in parents and name contains 'O\'Brien \\ case study' and mimeType != 'application/vnd.google-apps.folder'"
        );
    }

    #[test]
    fn an_app_property_term_quotes_key_and_value() {
        let q = DriveQuery::new()
            .app_property("salesAgentWorkflow", "wf-'1")
            .build();
        assert_eq!(
            q,
            r"trashed = false and appProperties has { key='salesAgentWorkflow' and value='wf-\'1' }"
        );
    }

    #[test]
    fn a_drive_value_cannot_escape_its_clause() {
        for evil in [
            "x' or name contains '",
            "x\\' or trashed = true or name contains '",
            "x\\",
            "x'\n or '1' in parents",
        ] {
            let q = DriveQuery::new().full_text_contains(evil).build();
            // Unescaped quotes: the clause's own two plus none from the value.
            let body = q
                .strip_prefix("trashed = false and fullText contains ")
                .unwrap();
            assert!(body.starts_with('\'') && body.ends_with('\''), "{q}");
            let inner = &body[1..body.len() - 1];
            let mut escaped = false;
            for c in inner.chars() {
                assert!(escaped || c != '\'', "value escaped its quotes: {q}");
                escaped = !escaped && c == '\\';
            }
            assert!(
                !escaped,
                "a trailing backslash would eat the closing quote: {q}"
            );
        }
    }

    /// Reads a Drive string literal starting at the front of `s`; returns its length.
    fn literal_len(s: &str) -> Option<usize> {
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

    proptest::proptest! {
        #[test]
        fn any_drive_value_stays_one_literal(value in "\\PC*|[\\\\' a-z\n]*") {
            let q = DriveQuery::new().name_contains(&value).build();
            let rest = q.strip_prefix("trashed = false and name contains ").unwrap();
            let len = literal_len(rest).expect("a closed literal");
            proptest::prop_assert_eq!(len, rest.len(), "value escaped its literal: {}", q);
        }

        #[test]
        fn any_gmail_value_is_refused_or_one_quoted_token(value in "\\PC*|[\"{}() a-z@.\\\\\n]*") {
            if let Ok(q) = GmailQuery::new().from(&value) {
                let q = q.build();
                let inner = q.strip_prefix("from:\"").and_then(|r| r.strip_suffix('"')).unwrap();
                proptest::prop_assert!(!inner.contains(['"', '\\', '{', '}', '(', ')', '\n']), "{}", q);
            }
        }
    }
}
