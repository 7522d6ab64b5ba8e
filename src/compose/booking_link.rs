//! Booking links: `<public url>/book/{token}`, one per proposed slot and one for
//! "more times". The token names the workflow and, for a slot, its start and end;
//! it expires (a slot's at the slot's start, never later than 30 days after it
//! was made) and is signed, so it cannot be guessed or altered.
//!
//! Token: `base64url(payload) "." base64url(HMAC-SHA256(secret, "booking:" payload))`,
//! payload `s|{workflow}|{start}|{end}|{expires}` or `t|{workflow}|{expires}`
//! (Unix seconds). The workflow id is ours, never prospect text.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::slots::Interval;

/// No link lives longer than this, whatever it points at.
pub const MAX_AGE_DAYS: i64 = 30;

/// What a genuine token names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// One slot, confirmable.
    Slot { workflow_id: String, slot: Interval },
    /// The rep's next free times for this workflow.
    Times { workflow_id: String },
}

impl Target {
    pub fn workflow_id(&self) -> &str {
        match self {
            Target::Slot { workflow_id, .. } | Target::Times { workflow_id } => workflow_id,
        }
    }
}

/// Why a token is not honoured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// Forged, altered or mangled: nothing can be read from it.
    Invalid,
    /// Genuine but past its expiry; the target is still known (to offer other times).
    Expired(Target),
}

/// The token for one slot of `workflow_id`, expiring at the slot's start.
pub fn slot_token(secret: &str, workflow_id: &str, slot: &Interval, now: DateTime<Utc>) -> String {
    let expires = slot.start.min(now + Duration::days(MAX_AGE_DAYS));
    sign(
        secret,
        &format!(
            "s|{workflow_id}|{}|{}|{}",
            slot.start.timestamp(),
            slot.end.timestamp(),
            expires.timestamp()
        ),
    )
}

/// The token for the "more times" page of `workflow_id`.
pub fn times_token(secret: &str, workflow_id: &str, now: DateTime<Utc>) -> String {
    let expires = now + Duration::days(MAX_AGE_DAYS);
    sign(secret, &format!("t|{workflow_id}|{}", expires.timestamp()))
}

/// The link for `token` under the service's public URL.
pub fn link(public_url: &url::Url, token: &str) -> String {
    format!("{}/book/{token}", public_url.as_str().trim_end_matches('/'))
}

/// What `token` names, if genuine and not expired at `now`.
pub fn verify(secret: &str, token: &str, now: DateTime<Utc>) -> Result<Target, Refused> {
    let (encoded, tag) = token.split_once('.').ok_or(Refused::Invalid)?;
    let payload = B64.decode(encoded).map_err(|_| Refused::Invalid)?;
    let tag = B64.decode(tag).map_err(|_| Refused::Invalid)?;
    mac(secret, &payload)
        .verify_slice(&tag)
        .map_err(|_| Refused::Invalid)?;
    let payload = String::from_utf8(payload).map_err(|_| Refused::Invalid)?;
    let parts: Vec<&str> = payload.split('|').collect();
    let at = |s: &str| {
        s.parse::<i64>()
            .ok()
            .and_then(|t| DateTime::from_timestamp(t, 0))
            .ok_or(Refused::Invalid)
    };
    let (target, expires) = match parts.as_slice() {
        ["s", workflow, start, end, expires] => (
            Target::Slot {
                workflow_id: (*workflow).to_string(),
                slot: Interval {
                    start: at(start)?,
                    end: at(end)?,
                },
            },
            at(expires)?,
        ),
        ["t", workflow, expires] => (
            Target::Times {
                workflow_id: (*workflow).to_string(),
            },
            at(expires)?,
        ),
        _ => return Err(Refused::Invalid),
    };
    if now >= expires {
        return Err(Refused::Expired(target));
    }
    Ok(target)
}

fn sign(secret: &str, payload: &str) -> String {
    let tag = mac(secret, payload.as_bytes()).finalize().into_bytes();
    format!("{}.{}", B64.encode(payload), B64.encode(tag))
}

fn mac(secret: &str, payload: &[u8]) -> Hmac<Sha256> {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any length");
    mac.update(b"booking:");
    mac.update(payload);
    mac
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slot(now: DateTime<Utc>, days: i64) -> Interval {
        let start = now + Duration::days(days);
        Interval {
            start,
            end: start + Duration::minutes(30),
        }
    }

    #[test]
    fn a_slot_token_names_its_workflow_and_slot_until_the_slot_starts() {
        let now = Utc::now();
        let s = slot(now, 2);
        let token = slot_token("k1", "wf-1", &s, now);
        let target = Target::Slot {
            workflow_id: "wf-1".into(),
            slot: Interval {
                start: DateTime::from_timestamp(s.start.timestamp(), 0).unwrap(),
                end: DateTime::from_timestamp(s.end.timestamp(), 0).unwrap(),
            },
        };
        assert_eq!(verify("k1", &token, now), Ok(target.clone()));
        assert_eq!(verify("k1", &token, s.start), Err(Refused::Expired(target)));
        assert_eq!(verify("k2", &token, now), Err(Refused::Invalid));
    }

    #[test]
    fn no_token_outlives_thirty_days() {
        let now = Utc::now();
        let far = slot(now, 60);
        let token = slot_token("k", "wf", &far, now);
        assert!(verify("k", &token, now + Duration::days(29)).is_ok());
        assert!(matches!(
            verify("k", &token, now + Duration::days(31)),
            Err(Refused::Expired(_))
        ));
        let times = times_token("k", "wf", now);
        assert!(verify("k", &times, now + Duration::days(29)).is_ok());
        assert!(verify("k", &times, now + Duration::days(31)).is_err());
    }

    #[test]
    fn altered_or_mangled_tokens_are_refused() {
        let now = Utc::now();
        let token = slot_token("k", "wf-1", &slot(now, 1), now);
        let (_, tag) = token.split_once('.').unwrap();
        let moved = format!("{}.{tag}", B64.encode("s|wf-2|1|2|99999999999"));
        for bad in [
            moved.as_str(),
            "",
            ".",
            "a.b",
            "garbage",
            "%%.%%",
            &token[1..],
        ] {
            assert_eq!(verify("k", bad, now), Err(Refused::Invalid), "{bad}");
        }
    }

    #[test]
    fn links_sit_under_the_public_url() {
        let url: url::Url = "https://agent.example.com/".parse().unwrap();
        assert_eq!(link(&url, "abc"), "https://agent.example.com/book/abc");
    }
}
