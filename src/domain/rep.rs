//! Reps: the people leads are routed to, each with a mailbox, a calendar, an IANA
//! time zone, working hours, an optional HubSpot owner id, territories, the
//! languages they write and a voice.
//! Seeded from a JSON file (`SALES_AGENT_REPS_FILE`) and kept in the database.

use chrono::{NaiveTime, Weekday};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::voice::VoiceProfile;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Rep {
    /// Stable slug, e.g. `sam-rivera`.
    pub id: String,
    pub name: String,
    /// The mailbox replies are drafted and sent from.
    pub email: String,
    /// The calendar whose free/busy decides the slots (usually the mailbox).
    pub calendar_id: String,
    /// IANA zone, e.g. `Europe/Berlin`.
    pub time_zone: String,
    #[serde(default)]
    pub working_hours: WorkingHours,
    #[serde(default)]
    pub hubspot_owner_id: Option<String>,
    /// Lower-case ISO country codes (`de`) or zone regions (`Europe/`) this rep covers.
    #[serde(default)]
    pub territories: Vec<String>,
    /// ISO 639-1 codes of the languages the rep writes (`de`, `en`), the first
    /// being the one they write by default; empty: the team's language only.
    #[serde(default)]
    pub languages: Vec<String>,
    #[serde(default)]
    pub voice: VoiceProfile,
    #[serde(default)]
    pub booking_link: Option<String>,
    #[serde(default = "active_by_default")]
    pub active: bool,
}

fn active_by_default() -> bool {
    true
}

/// A rep's working week in their own zone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct WorkingHours {
    /// `Mon` … `Sun`.
    #[schema(value_type = Vec<String>)]
    pub days: Vec<Weekday>,
    pub start: NaiveTime,
    pub end: NaiveTime,
}

impl Default for WorkingHours {
    fn default() -> Self {
        WorkingHours {
            days: vec![
                Weekday::Mon,
                Weekday::Tue,
                Weekday::Wed,
                Weekday::Thu,
                Weekday::Fri,
            ],
            start: NaiveTime::from_hms_opt(9, 0, 0).expect("valid time"),
            end: NaiveTime::from_hms_opt(17, 0, 0).expect("valid time"),
        }
    }
}

impl WorkingHours {
    /// Hours and days as settings write them: `08:00-18:00` and `mon-fri` (a
    /// comma-separated list of days or ranges; a range may wrap, `sun-thu`).
    pub fn parse(hours: &str, days: &str) -> Result<WorkingHours, String> {
        let time = |raw: &str| {
            NaiveTime::parse_from_str(raw.trim(), "%H:%M")
                .map_err(|_| format!("expected HH:MM-HH:MM, got {hours:?}"))
        };
        let (start, end) = hours
            .split_once('-')
            .ok_or_else(|| format!("expected HH:MM-HH:MM, got {hours:?}"))?;
        let (start, end) = (time(start)?, time(end)?);
        if start >= end {
            return Err(format!("{hours:?}: the start must be before the end"));
        }
        let day = |raw: &str| {
            raw.trim()
                .parse::<Weekday>()
                .map_err(|_| format!("expected days like mon-fri, got {days:?}"))
        };
        let mut list = Vec::new();
        for part in days.split(',').filter(|p| !p.trim().is_empty()) {
            let (first, last) = match part.split_once('-') {
                Some((a, b)) => (day(a)?, day(b)?),
                None => (day(part)?, day(part)?),
            };
            let mut at = first;
            loop {
                if !list.contains(&at) {
                    list.push(at);
                }
                if at == last {
                    break;
                }
                at = at.succ();
            }
        }
        if list.is_empty() {
            return Err(format!("expected days like mon-fri, got {days:?}"));
        }
        Ok(WorkingHours {
            days: list,
            start,
            end,
        })
    }
}

/// A seed file: `{"reps": [ … ]}`.
#[derive(Debug, Deserialize)]
pub struct RepsFile {
    pub reps: Vec<Rep>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("rep {id}: {message}")]
pub struct RepError {
    pub id: String,
    pub message: String,
}

impl Rep {
    pub fn tz(&self) -> Tz {
        self.time_zone.parse().unwrap_or(Tz::UTC)
    }

    /// Checks what cannot be typed: ids, addresses, the zone, working hours.
    pub fn validate(&self) -> Result<(), RepError> {
        let fail = |message: &str| {
            Err(RepError {
                id: self.id.clone(),
                message: message.into(),
            })
        };
        if self.id.is_empty()
            || !self
                .id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return fail("id must be letters, digits, - or _");
        }
        if !email_address::EmailAddress::is_valid(&self.email) {
            return fail("email is not an address");
        }
        if self.time_zone.parse::<Tz>().is_err() {
            return fail("time_zone is not an IANA zone");
        }
        if self.working_hours.start >= self.working_hours.end || self.working_hours.days.is_empty()
        {
            return fail("working_hours must have days and start before end");
        }
        if let Err(message) = super::language::check_list(&self.languages) {
            return fail(&message);
        }
        if let Err(message) = self.voice.validate() {
            return fail(&format!("voice: {message}"));
        }
        Ok(())
    }
}

/// Reads and validates a seed file.
pub fn load_file(path: &std::path::Path) -> Result<Vec<Rep>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let file: RepsFile =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    for rep in &file.reps {
        rep.validate().map_err(|e| e.to_string())?;
    }
    Ok(file.reps)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_minimal_rep_gets_sensible_defaults_and_bad_ones_are_named() {
        let rep: Rep = serde_json::from_str(
            r#"{"id": "sam", "name": "Sam", "email": "sam@example.com", "calendar_id": "sam@example.com", "time_zone": "Europe/Berlin"}"#,
        )
        .unwrap();
        assert!(rep.validate().is_ok());
        assert!(rep.active);
        assert_eq!(rep.voice.slots_offered, 3);
        let bad = Rep {
            time_zone: "CET+1".into(),
            ..rep.clone()
        };
        assert_eq!(
            bad.validate().unwrap_err().to_string(),
            "rep sam: time_zone is not an IANA zone"
        );
        let bad = Rep {
            id: "sam rivera".into(),
            ..rep
        };
        assert!(bad.validate().is_err());
    }

    #[test]
    fn hours_and_days_parse_as_settings_write_them() {
        let week = WorkingHours::parse("08:00-18:00", "mon-fri").unwrap();
        assert_eq!(
            (week.start.to_string(), week.end.to_string()),
            ("08:00:00".into(), "18:00:00".into())
        );
        assert_eq!(week.days, WorkingHours::default().days);
        let gulf = WorkingHours::parse("9:00 - 17:30", "sun-thu").unwrap();
        assert_eq!(
            gulf.days,
            [
                Weekday::Sun,
                Weekday::Mon,
                Weekday::Tue,
                Weekday::Wed,
                Weekday::Thu
            ]
        );
        let some = WorkingHours::parse("10:00-12:00", "Mon, wed-thu,mon").unwrap();
        assert_eq!(some.days, [Weekday::Mon, Weekday::Wed, Weekday::Thu]);
        for (hours, days) in [
            ("18:00-08:00", "mon-fri"),
            ("8-18", "mon-fri"),
            ("08:00-18:00", ""),
            ("08:00-18:00", "mon-funday"),
        ] {
            assert!(WorkingHours::parse(hours, days).is_err(), "{hours} {days}");
        }
    }
}
