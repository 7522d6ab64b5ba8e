//! The sandbox's world: every provider's records, built from the fixture and
//! changed only by handlers (under one lock, never held across an await).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use super::fixture::{DriveFileFixture, Fixture, FixtureError, Owner};
use super::mime::{self, Message};

/// HubSpot object types the sandbox knows, with their path names and ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ObjectType {
    Contacts,
    Companies,
    Notes,
    Tasks,
    Emails,
    Meetings,
}

impl ObjectType {
    /// Accepts the plural, the singular and the `0-N` object type id.
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "contacts" | "contact" | "0-1" => Some(ObjectType::Contacts),
            "companies" | "company" | "0-2" => Some(ObjectType::Companies),
            "notes" | "note" | "0-46" => Some(ObjectType::Notes),
            "tasks" | "task" | "0-27" => Some(ObjectType::Tasks),
            "emails" | "email" | "0-49" => Some(ObjectType::Emails),
            "meetings" | "meeting" | "0-47" => Some(ObjectType::Meetings),
            _ => None,
        }
    }

    pub fn singular(self) -> &'static str {
        match self {
            ObjectType::Contacts => "contact",
            ObjectType::Companies => "company",
            ObjectType::Notes => "note",
            ObjectType::Tasks => "task",
            ObjectType::Emails => "email",
            ObjectType::Meetings => "meeting",
        }
    }

    /// HubSpot's default association type id from `self` to `to`.
    pub fn default_association(self, to: ObjectType) -> Option<u32> {
        use ObjectType::*;
        match (self, to) {
            (Contacts, Companies) => Some(279),
            (Companies, Contacts) => Some(280),
            (Notes, Contacts) => Some(202),
            (Contacts, Notes) => Some(201),
            (Notes, Companies) => Some(190),
            (Companies, Notes) => Some(189),
            (Tasks, Contacts) => Some(204),
            (Contacts, Tasks) => Some(203),
            (Tasks, Companies) => Some(192),
            (Companies, Tasks) => Some(191),
            (Emails, Contacts) => Some(198),
            (Contacts, Emails) => Some(197),
            (Emails, Companies) => Some(186),
            (Companies, Emails) => Some(185),
            (Meetings, Contacts) => Some(200),
            (Contacts, Meetings) => Some(199),
            (Meetings, Companies) => Some(188),
            (Companies, Meetings) => Some(187),
            _ => None,
        }
    }
}

/// A CRM record.
#[derive(Debug, Clone, Serialize)]
pub struct CrmObject {
    pub id: u64,
    pub properties: BTreeMap<String, String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A directed association; both directions are stored.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Association {
    pub from_type: ObjectType,
    pub from_id: u64,
    pub to_type: ObjectType,
    pub to_id: u64,
    pub type_id: u32,
}

#[derive(Debug, Default)]
pub struct HubSpot {
    pub portal_id: u64,
    pub tokens: Vec<String>,
    pub owners: Vec<Owner>,
    pub objects: BTreeMap<ObjectType, BTreeMap<u64, CrmObject>>,
    pub associations: BTreeSet<Association>,
    pub form_submissions: Vec<Value>,
    pub next_id: u64,
    /// How long a new record stays invisible to search (search is eventually
    /// consistent in HubSpot; reads by id are not).
    pub search_lag_ms: u64,
    pub hub_domain: String,
    pub apps: Vec<super::fixture::HubSpotAppFixture>,
    /// The OAuth side: install pages, codes, refresh and access tokens.
    pub oauth: super::hubspot::oauth_model::HubSpotOAuth,
}

impl HubSpot {
    pub fn objects(&self, t: ObjectType) -> impl Iterator<Item = &CrmObject> {
        self.objects.get(&t).into_iter().flat_map(|m| m.values())
    }

    pub fn get(&self, t: ObjectType, id: u64) -> Option<&CrmObject> {
        self.objects.get(&t)?.get(&id)
    }

    /// Stores both directions (the reverse with its own default type id).
    pub fn associate(
        &mut self,
        from: ObjectType,
        from_id: u64,
        to: ObjectType,
        to_id: u64,
        type_id: u32,
    ) {
        let reverse = to.default_association(from).unwrap_or(type_id);
        self.associations.insert(Association {
            from_type: from,
            from_id,
            to_type: to,
            to_id,
            type_id,
        });
        self.associations.insert(Association {
            from_type: to,
            from_id: to_id,
            to_type: from,
            to_id: from_id,
            type_id: reverse,
        });
    }

    pub fn associated(&self, from: ObjectType, from_id: u64, to: ObjectType) -> Vec<&Association> {
        self.associations
            .iter()
            .filter(|a| a.from_type == from && a.from_id == from_id && a.to_type == to)
            .collect()
    }
}

pub use super::oauth::model::{AccessToken, Google, Grant, JwtGrant, User};

/// One user's Gmail.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Mailbox {
    pub email: String,
    pub name: String,
    pub time_zone: String,
    pub messages: BTreeMap<String, Message>,
    /// Draft id → the id of its message.
    pub drafts: BTreeMap<String, String>,
}

/// A calendar event as stored: the resource returned to clients plus its span.
#[derive(Debug, Clone, Serialize)]
pub struct Event {
    pub id: String,
    pub resource: Value,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Calendar {
    pub id: String,
    pub time_zone: String,
    pub events: BTreeMap<String, Event>,
    /// The emails Google would have sent attendees: one per insert, patch or
    /// delete made with `sendUpdates` other than `none`.
    pub notifications: Vec<Notification>,
}

/// An invitation, update or cancellation Google would have emailed.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Notification {
    pub event_id: String,
    /// `invitation`, `update` or `cancellation`.
    pub kind: String,
    pub send_updates: String,
    pub attendees: Vec<String>,
}

impl Calendar {
    /// Notes what Google would email about `event` for this `sendUpdates`.
    pub fn notify(&mut self, event: &Value, kind: &str, send_updates: Option<&str>) {
        let send_updates = send_updates.unwrap_or("none");
        if send_updates == "none" {
            return;
        }
        let attendees = event
            .get("attendees")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|a| a.get("email").and_then(Value::as_str))
            .map(str::to_string)
            .collect();
        self.notifications.push(Notification {
            event_id: event
                .get("id")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .into(),
            kind: kind.into(),
            send_updates: send_updates.into(),
            attendees,
        });
    }
}

/// A Drive permission as created.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Permission {
    pub id: String,
    pub role: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub email_address: Option<String>,
    pub domain: Option<String>,
    pub notified: bool,
}

#[derive(Debug, Default)]
pub struct Drive {
    pub files: Vec<DriveFileFixture>,
    pub permissions: BTreeMap<String, Vec<Permission>>,
    /// What files created through the API add to their entry in `files`.
    pub uploads: BTreeMap<String, Upload>,
}

/// A file created through `files.create`: whose Drive it is in, when, and what
/// was uploaded (the HTML a Google Doc was converted from).
#[derive(Debug, Clone, Serialize)]
pub struct Upload {
    pub owner: String,
    pub created_time: DateTime<Utc>,
    pub content: String,
}

/// Everything the sandbox holds.
#[derive(Debug, Default)]
pub struct World {
    pub hubspot: HubSpot,
    pub google: Google,
    pub mailboxes: BTreeMap<String, Mailbox>,
    pub calendars: BTreeMap<String, Calendar>,
    pub drive: Drive,
    pub llm_keys: Vec<String>,
    serial: u64,
}

impl World {
    /// A fresh, never reused number for ids.
    pub fn serial(&mut self) -> u64 {
        self.serial += 1;
        self.serial
    }

    /// A Gmail-style 16-hex-digit id.
    pub fn gmail_id(&mut self) -> String {
        format!("{:016x}", 0x19a0_0000_0000_0000_u64 + self.serial())
    }

    pub fn from_fixture(fixture: &Fixture, now: DateTime<Utc>) -> Result<Self, FixtureError> {
        let mut world = World::default();
        let hs = &fixture.hubspot;
        world.hubspot.portal_id = hs.portal_id;
        world.hubspot.tokens = hs.tokens.clone();
        world.hubspot.owners = hs.owners.clone();
        world.hubspot.form_submissions = hs
            .form_submissions
            .iter()
            .map(|s| resolve_submission(s, now))
            .collect();
        world.hubspot.search_lag_ms = hs.search_lag_ms;
        let mut max_id = 0;
        for (t, records) in [
            (ObjectType::Contacts, &hs.contacts),
            (ObjectType::Companies, &hs.companies),
        ] {
            for r in records {
                let id: u64 =
                    r.id.parse()
                        .map_err(|_| FixtureError::Invalid(format!("id {}", r.id)))?;
                max_id = max_id.max(id);
                let object = CrmObject {
                    id,
                    properties: r.properties.clone(),
                    created_at: now,
                    updated_at: now,
                };
                world
                    .hubspot
                    .objects
                    .entry(t)
                    .or_default()
                    .insert(id, object);
            }
        }
        world.hubspot.next_id = max_id.max(1000) + 1;
        for a in &hs.associations {
            let (Some(from), Some(to)) = (
                ObjectType::parse(&a.from_type),
                ObjectType::parse(&a.to_type),
            ) else {
                return Err(FixtureError::Invalid(format!(
                    "association {} → {}",
                    a.from_type, a.to_type
                )));
            };
            let (Ok(from_id), Ok(to_id)) = (a.from_id.parse(), a.to_id.parse()) else {
                return Err(FixtureError::Invalid(format!(
                    "association ids {} → {}",
                    a.from_id, a.to_id
                )));
            };
            world.hubspot.associate(from, from_id, to, to_id, a.type_id);
        }

        let g = &fixture.google;
        world.google = Google::from_fixture(g);
        world.hubspot.apps = hs.apps.clone();
        world.hubspot.hub_domain = hs.hub_domain.clone();
        for m in &g.mailboxes {
            world.load_mailbox(m, now)?;
        }
        for c in &g.calendars {
            let calendar = super::calendar::from_fixture(c, now).map_err(FixtureError::Invalid)?;
            world.calendars.insert(c.id.to_ascii_lowercase(), calendar);
        }
        world.drive.files = g.drive.files.clone();
        world.llm_keys = fixture.llm.api_keys.clone();
        Ok(world)
    }

    fn load_mailbox(
        &mut self,
        m: &super::fixture::MailboxFixture,
        now: DateTime<Utc>,
    ) -> Result<(), FixtureError> {
        let email = m.email.to_ascii_lowercase();
        let mut mailbox = Mailbox {
            email: email.clone(),
            name: m.name.clone(),
            time_zone: m.time_zone.clone(),
            ..Mailbox::default()
        };
        let mut threads: BTreeMap<String, String> = BTreeMap::new();
        for f in &m.messages {
            let date = match (f.date, f.age_hours) {
                (Some(d), _) => d.with_timezone(&Utc),
                (None, Some(h)) => now - chrono::Duration::hours(i64::from(h)),
                (None, None) => now,
            };
            let fields = [&f.from, &f.subject, &f.message_id]
                .into_iter()
                .chain(&f.to)
                .chain(&f.in_reply_to);
            if fields.into_iter().any(|v| v.contains(['\r', '\n'])) {
                return Err(FixtureError::Invalid(format!(
                    "message {} has a line break in a header",
                    f.message_id
                )));
            }
            let mut text = format!(
                "From: {}\r\nTo: {}\r\nSubject: {}\r\nMessage-ID: {}\r\nDate: {}\r\n",
                f.from,
                f.to.join(", "),
                f.subject,
                f.message_id,
                date.to_rfc2822()
            );
            if let Some(parent) = &f.in_reply_to {
                text.push_str(&format!(
                    "In-Reply-To: {parent}\r\nReferences: {parent}\r\n"
                ));
            }
            text.push_str(&format!(
                "Content-Type: text/plain; charset=UTF-8\r\n\r\n{}\r\n",
                f.body
            ));
            let parsed = mime::parse(text.into_bytes(), false)
                .map_err(|e| FixtureError::Invalid(format!("message {}: {e}", f.message_id)))?;
            let thread_id = match threads.get(&f.thread) {
                Some(id) => id.clone(),
                None => {
                    let id = self.gmail_id();
                    threads.insert(f.thread.clone(), id.clone());
                    id
                }
            };
            let id = self.gmail_id();
            let message = super::gmail::store_parsed(
                parsed,
                id.clone(),
                thread_id,
                f.labels.clone(),
                date.timestamp_millis(),
            );
            mailbox.messages.insert(id, message);
        }
        self.mailboxes.insert(email, mailbox);
        Ok(())
    }
}

/// A fixture submission may give `ageMinutes` instead of `submittedAt`, so the
/// demo's submissions are always recent; the result has only `submittedAt`.
fn resolve_submission(submission: &Value, now: DateTime<Utc>) -> Value {
    let mut out = submission.clone();
    if let Some(obj) = out.as_object_mut()
        && let Some(age) = obj.remove("ageMinutes").and_then(|a| a.as_i64())
    {
        let at = now - chrono::Duration::minutes(age);
        obj.insert("submittedAt".into(), Value::from(at.timestamp_millis()));
    }
    out
}
