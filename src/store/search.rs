//! What the console's searches match, and how an index serves them: a search
//! text is a *prefix* of the prospect's address, company, name ("first last")
//! or last name. The keys are columns the database derives from each stored
//! submission (migration `2026-12-03-170020_console_search`), lowered for A–Z
//! only and cut to 100 characters; both backends compare them byte by byte, so
//! a prefix is a range `[text, text + U+10FFFF)` that a B-tree index answers
//! without reading the other rows. The same on SQLite and PostgreSQL.

use diesel::prelude::*;

use super::schema::workflows;

/// The most characters a key keeps (the migration cuts keys at 100).
const KEY_CHARS: usize = 100;

/// Sorts after every character that can follow a prefix.
const PAST_ALL: char = '\u{10FFFF}';

fn range(prefix: String) -> Option<(String, String)> {
    (!prefix.is_empty()).then(|| {
        let high = format!("{prefix}{PAST_ALL}");
        (prefix, high)
    })
}

/// The range of company, name and last-name keys that start with `text`:
/// lowered for A–Z like the keys (other letters match as typed).
pub fn key_range(text: &str) -> Option<(String, String)> {
    let text: String = text.trim().chars().take(KEY_CHARS).collect();
    range(text.to_ascii_lowercase())
}

/// The range of addresses that start with `text`; addresses are stored lowered
/// (`NewIntake`), so the text is too.
pub fn email_range(text: &str) -> Option<(String, String)> {
    range(text.trim().to_lowercase())
}

type Matches = Box<
    dyn BoxableExpression<
            workflows::table,
            super::connection::MultiBackend,
            SqlType = diesel::sql_types::Nullable<diesel::sql_types::Bool>,
        >,
>;

/// Workflows whose address, company, name or last name starts with `text`;
/// `None` when the text is blank (everything matches).
pub fn matches(text: &str) -> Option<Matches> {
    let (email_low, email_high) = email_range(text)?;
    let (low, high) = key_range(text)?;
    Some(Box::new(
        workflows::email
            .ge(email_low)
            .and(workflows::email.lt(email_high))
            .nullable()
            .or(workflows::company_key
                .ge(low.clone())
                .and(workflows::company_key.lt(high.clone())))
            .or(workflows::name_key
                .ge(low.clone())
                .and(workflows::name_key.lt(high.clone())))
            .or(workflows::surname_key
                .ge(low)
                .and(workflows::surname_key.lt(high))),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prefix_becomes_a_range_from_itself_to_past_every_longer_text() {
        let (low, high) = key_range("  PacificRoute Ship ").unwrap();
        assert_eq!(low, "pacificroute ship");
        assert!(high.as_str() > "pacificroute shipping");
        assert!(high.as_str() > "pacificroute ship\u{FFFF}");
        assert!(high.as_str() < "pacificroute shiq");
        assert_eq!(key_range("   "), None);
    }

    #[test]
    fn keys_lower_only_a_to_z_and_addresses_lower_everything() {
        assert_eq!(key_range("ÉMILE").unwrap().0, "Émile");
        assert_eq!(email_range("ÉMILE@X").unwrap().0, "émile@x");
    }
}
