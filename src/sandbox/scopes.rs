//! Google OAuth scopes: which scopes let a token call which endpoint (any one
//! suffices), from each method's reference page. A grant with an empty scope in
//! the fixture is treated as all-powerful, to keep small fixtures small.

const AUTH: &str = "https://www.googleapis.com/auth/";

/// The scopes (without the `https://www.googleapis.com/auth/` prefix) any one
/// of which permits `endpoint`; empty means no scope is needed.
fn accepted(endpoint: &str) -> &'static [&'static str] {
    const READ: &[&str] = &["gmail.readonly", "gmail.modify", "https://mail.google.com/"];
    const COMPOSE: &[&str] = &["gmail.compose", "gmail.modify", "https://mail.google.com/"];
    const DRAFT_READ: &[&str] = &[
        "gmail.compose",
        "gmail.readonly",
        "gmail.modify",
        "https://mail.google.com/",
    ];
    const SEND: &[&str] = &[
        "gmail.send",
        "gmail.compose",
        "gmail.modify",
        "https://mail.google.com/",
    ];
    match endpoint {
        "gmail.threads.list"
        | "gmail.threads.get"
        | "gmail.messages.list"
        | "gmail.messages.get" => READ,
        "gmail.drafts.get" | "gmail.drafts.list" => DRAFT_READ,
        "gmail.drafts.create"
        | "gmail.drafts.update"
        | "gmail.drafts.send"
        | "gmail.drafts.delete" => COMPOSE,
        "gmail.messages.send" => SEND,
        "gmail.profile" => &[
            "gmail.readonly",
            "gmail.compose",
            "gmail.send",
            "gmail.modify",
            "gmail.metadata",
            "https://mail.google.com/",
        ],
        "calendar.freebusy" => &[
            "calendar.freebusy",
            "calendar.events.freebusy",
            "calendar.readonly",
            "calendar",
        ],
        "calendar.events.insert" | "calendar.events.patch" | "calendar.events.delete" => {
            &["calendar.events", "calendar"]
        }
        "calendar.events.get" | "calendar.events.list" => &[
            "calendar.events",
            "calendar.events.readonly",
            "calendar.readonly",
            "calendar",
        ],
        "drive.files.list" | "drive.files.get" => &[
            "drive",
            "drive.readonly",
            "drive.file",
            "drive.metadata.readonly",
        ],
        "drive.permissions.create" => &["drive", "drive.file"],
        "drive.files.create" => &["drive", "drive.file", "drive.appdata"],
        "drive.permissions.list" => &[
            "drive",
            "drive.file",
            "drive.readonly",
            "drive.metadata",
            "drive.metadata.readonly",
        ],
        "oauth.userinfo" => &["openid", "userinfo.email", "userinfo.profile"],
        _ => &[],
    }
}

/// Whether a token granted `granted` (space-separated scope URLs) may call `endpoint`.
pub fn permits(granted: &str, endpoint: &str) -> bool {
    let accepted = accepted(endpoint);
    if granted.trim().is_empty() || accepted.is_empty() {
        return true;
    }
    granted.split_whitespace().any(|scope| {
        accepted
            .iter()
            .any(|a| scope == *a || scope.strip_prefix(AUTH) == Some(a))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compose_alone_can_draft_and_send_but_not_read_threads() {
        let compose = "https://www.googleapis.com/auth/gmail.compose";
        assert!(permits(compose, "gmail.drafts.create"));
        assert!(permits(compose, "gmail.messages.send"));
        assert!(!permits(compose, "gmail.threads.list"));
        assert!(!permits(compose, "calendar.freebusy"));
        assert!(permits("https://mail.google.com/", "gmail.threads.list"));
    }
}
