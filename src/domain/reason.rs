//! Dead-letter reasons as ops group them: the same failure for different leads
//! reads the same once the parts that name one lead or one moment are gone —
//! URLs, email addresses, ids, durations and counts. HTTP statuses right after a
//! provider's name (`HubSpot 503`, `hubspot: 401`, `permanent failure (403)`)
//! stay, because a 401 needs a reconnect where a 503 only needs a retry.

use std::sync::LazyLock;

use regex::{Captures, Regex};

/// The group of a workflow that ended without a recorded reason.
pub const NO_REASON: &str = "(no reason recorded)";

static URL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)\b[a-z][a-z0-9+.-]*://[^\s<>]+").expect("valid regex"));
static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+").expect("valid regex")
});
static UUID: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}\b")
        .expect("valid regex")
});
static DURATION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\b\d+(?:\.\d+)?\s?(?:ns|µs|us|ms|s|secs?|seconds?|m|mins?|minutes?|h|hrs?|hours?|d|days?)\b",
    )
    .expect("valid regex")
});
static TOKEN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[A-Za-z0-9_-]+").expect("valid regex"));
static NUMBER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b\d+(?:\.\d+)?\b").expect("valid regex"));
static SPACES: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\s+").expect("valid regex"));

/// Words after which a number from 100 to 599 is an HTTP status worth keeping.
const STATUS_CONTEXT: &[&str] = &[
    "http", "status", "hubspot", "gmail", "google", "drive", "calendar", "llm", "openai",
    "failure", "code", "error",
];

/// The group key of a dead letter's reason (see the module's header).
pub fn normalise_reason(reason: Option<&str>) -> String {
    let Some(reason) = reason.map(str::trim).filter(|r| !r.is_empty()) else {
        return NO_REASON.to_string();
    };
    let text = URL.replace_all(reason, "<url>");
    let text = EMAIL.replace_all(&text, "<email>");
    let text = UUID.replace_all(&text, "<id>");
    let text = DURATION.replace_all(&text, "<duration>");
    // Ids of our own and the providers' (`wf_7f3a9c`, `msg-18c2f0`): a word of
    // letters and at least three digits. Plain numbers are left to the next pass.
    let text = TOKEN.replace_all(&text, |c: &Captures| {
        let word = &c[0];
        let digits = word.chars().filter(char::is_ascii_digit).count();
        let letters = word.chars().filter(char::is_ascii_alphabetic).count();
        if digits >= 3 && letters >= 1 {
            "<id>".to_string()
        } else {
            word.to_string()
        }
    });
    let text = NUMBER.replace_all(&text, |c: &Captures| {
        let at = c.get(0).expect("the whole match").start();
        let number = &c[0];
        if is_status(number) && after_status_word(&text[..at]) {
            number.to_string()
        } else {
            "#".to_string()
        }
    });
    SPACES.replace_all(text.trim(), " ").into_owned()
}

fn is_status(number: &str) -> bool {
    number
        .parse::<u16>()
        .is_ok_and(|n| (100..=599).contains(&n))
}

/// Whether the word before (skipping spaces, `:` and `(`) names a provider or a status.
fn after_status_word(before: &str) -> bool {
    let before = before.trim_end_matches([' ', ':', '(']);
    let word: String = before
        .chars()
        .rev()
        .take_while(char::is_ascii_alphabetic)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    STATUS_CONTEXT.contains(&word.to_ascii_lowercase().as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(reason: &str) -> String {
        normalise_reason(Some(reason))
    }

    #[test]
    fn the_same_failure_for_two_workflows_is_one_group() {
        let a = norm("HubSpot 503 after 5 attempts for wf 123");
        let b = norm("HubSpot 503 after 7 attempts for wf 456");
        assert_eq!(a, b);
        assert_eq!(a, "HubSpot 503 after # attempts for wf #");
    }

    #[test]
    fn statuses_after_a_provider_stay_and_split_groups() {
        assert_eq!(
            norm("hubspot: 401 unauthorized"),
            "hubspot: 401 unauthorized"
        );
        assert_ne!(
            norm("hubspot: 401 unauthorized"),
            norm("hubspot: 503 unavailable")
        );
        assert_eq!(
            norm("record: permanent failure (403): forbidden"),
            "record: permanent failure (403): forbidden"
        );
        // A number that only looks like a status, after any other word, goes.
        assert_eq!(norm("wf 404 failed"), "wf # failed");
    }

    #[test]
    fn urls_emails_ids_and_durations_go() {
        assert_eq!(
            norm(
                "deliver: gave up after 3 attempts: https://gmail.googleapis.com/gmail/v1/users/maya%40x.com/drafts timed out"
            ),
            "deliver: gave up after # attempts: <url> timed out"
        );
        assert_eq!(
            norm("rep maya.chen@northwind-analytics.com has no calendar"),
            "rep <email> has no calendar"
        );
        assert_eq!(
            norm("workflow 0b6e4f6c-3f1a-4c4e-9a55-2d1f0c9b7e21 lease lost"),
            "workflow <id> lease lost"
        );
        assert_eq!(
            norm("workflow 0b6e4f6c3f1a4c4e9a552d1f0c9b7e21 lease lost"),
            "workflow <id> lease lost"
        );
        assert_eq!(
            norm("draft r-7731942 vanished; retried in 1.5s then 30 seconds"),
            "draft <id> vanished; retried in <duration> then <duration>"
        );
        assert_eq!(norm("quiet for 250ms"), "quiet for <duration>");
    }

    #[test]
    fn words_stay_whole_and_spaces_fold() {
        assert_eq!(
            norm("  oauth2   token\nrefused  "),
            "oauth2 token refused",
            "a word with a digit or two is a word"
        );
        assert_eq!(normalise_reason(None), NO_REASON);
        assert_eq!(normalise_reason(Some("   ")), NO_REASON);
    }

    #[test]
    fn normalising_twice_changes_nothing() {
        for reason in [
            "HubSpot 503 after 5 attempts for wf 123",
            "rep a@b.io: https://x.test/1 in 2s, id 9f8e7d6c",
            "stored submission unreadable: expected value at line 1 column 1",
        ] {
            let once = norm(reason);
            assert_eq!(norm(&once), once, "{reason}");
        }
    }
}
