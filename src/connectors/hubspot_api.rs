//! HubSpot's wire format: the endpoint table, request and response shapes. Every
//! response field the service does not strictly need is optional, as HubSpot's
//! error-handling guide advises.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};

use super::http::Endpoint;
use super::limiter::RateCost;

const fn ep(
    id: &'static str,
    method: &'static str,
    path: &'static str,
    query: &'static [&'static str],
) -> Endpoint {
    Endpoint {
        id,
        method,
        path,
        query,
        body: &[],
        idempotent: true,
    }
}

/// A create with no natural key: a retried POST makes a duplicate (API_FACTS §1.3).
const fn create(id: &'static str, path: &'static str) -> Endpoint {
    Endpoint {
        idempotent: false,
        ..ep(id, "POST", path, &[])
    }
}

pub const CONTACTS_SEARCH: Endpoint = ep(
    "hubspot.contacts.search",
    "POST",
    "crm/v3/objects/contacts/search",
    &[],
);
pub const CONTACTS_UPSERT: Endpoint = ep(
    "hubspot.contacts.upsert",
    "POST",
    "crm/v3/objects/contacts/batch/upsert",
    &[],
);
pub const CONTACTS_GET: Endpoint = ep(
    "hubspot.contacts.get",
    "GET",
    "crm/v3/objects/contacts/{contactId}",
    &["properties", "idProperty"],
);
pub const COMPANIES_SEARCH: Endpoint = ep(
    "hubspot.companies.search",
    "POST",
    "crm/v3/objects/companies/search",
    &[],
);
pub const NOTES_CREATE: Endpoint = create("hubspot.notes.create", "crm/v3/objects/notes");
pub const TASKS_CREATE: Endpoint = create("hubspot.tasks.create", "crm/v3/objects/tasks");
pub const MEETINGS_CREATE: Endpoint = create("hubspot.meetings.create", "crm/v3/objects/meetings");
/// A PATCH of properties: sending it twice leaves the task as sending it once.
pub const TASKS_UPDATE: Endpoint = ep(
    "hubspot.tasks.update",
    "PATCH",
    "crm/v3/objects/tasks/{taskId}",
    &[],
);
/// A PATCH of properties: moving or cancelling a booked meeting.
pub const MEETINGS_UPDATE: Endpoint = ep(
    "hubspot.meetings.update",
    "PATCH",
    "crm/v3/objects/meetings/{meetingId}",
    &[],
);
pub const ASSOCIATIONS_LIST: Endpoint = ep(
    "hubspot.associations.list",
    "GET",
    "crm/v4/objects/{fromType}/{fromId}/associations/{toType}",
    &["limit", "after"],
);
pub const OBJECTS_BATCH_READ: Endpoint = ep(
    "hubspot.objects.batch_read",
    "POST",
    "crm/v3/objects/{objectType}/batch/read",
    &[],
);
pub const ASSOCIATE_DEFAULT: Endpoint = ep(
    "hubspot.associations.default",
    "PUT",
    "crm/v4/objects/{fromType}/{fromId}/associations/default/{toType}/{toId}",
    &[],
);
pub const OWNERS_LIST: Endpoint = ep(
    "hubspot.owners.list",
    "GET",
    "crm/v3/owners",
    &["limit", "after", "email"],
);
pub const OWNERS_GET: Endpoint = ep("hubspot.owners.get", "GET", "crm/v3/owners/{ownerId}", &[]);

pub const ENDPOINTS: &[Endpoint] = &[
    CONTACTS_SEARCH,
    CONTACTS_UPSERT,
    CONTACTS_GET,
    COMPANIES_SEARCH,
    NOTES_CREATE,
    TASKS_CREATE,
    MEETINGS_CREATE,
    TASKS_UPDATE,
    MEETINGS_UPDATE,
    ASSOCIATIONS_LIST,
    OBJECTS_BATCH_READ,
    ASSOCIATE_DEFAULT,
    OWNERS_LIST,
    OWNERS_GET,
];

/// Association type ids HubSpot defines (API_FACTS §1.3).
pub const NOTE_TO_CONTACT: u32 = 202;
pub const TASK_TO_CONTACT: u32 = 204;
/// Meeting → contact and meeting → company (HubSpot's associations guide).
pub const MEETING_TO_CONTACT: u32 = 200;
pub const MEETING_TO_COMPANY: u32 = 188;

/// The rate-limit bucket searches also draw from (about 4 per second per token).
pub const SEARCH_BUCKET: &str = "search";

/// What an operation spends: one request, and searches one more from their own bucket.
pub fn cost(endpoint: &Endpoint) -> RateCost {
    match endpoint.id {
        "hubspot.contacts.search" | "hubspot.companies.search" => {
            RateCost::one().also(SEARCH_BUCKET)
        }
        _ => RateCost::one(),
    }
}

/// Contact properties read by default.
pub const CONTACT_PROPERTIES: &[&str] = &[
    "email",
    "firstname",
    "lastname",
    "company",
    "jobtitle",
    "phone",
    "website",
    "hubspot_owner_id",
    "lifecyclestage",
    "hs_email_optout",
];

/// A CRM object (contact, company, note, task) as v3 returns it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct CrmObject {
    #[serde(deserialize_with = "id_string")]
    pub id: String,
    /// Values may be null in HubSpot's responses.
    pub properties: BTreeMap<String, Option<String>>,
    pub created_at: Option<String>,
    pub updated_at: Option<String>,
    pub archived: Option<bool>,
}

impl CrmObject {
    pub fn property(&self, name: &str) -> Option<&str> {
        self.properties.get(name).and_then(|v| v.as_deref())
    }
}

/// One result of a batch upsert; `new` says whether it was created.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Upserted {
    #[serde(deserialize_with = "id_string")]
    pub id: String,
    pub properties: BTreeMap<String, Option<String>>,
    pub new: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactUpsert {
    pub email: String,
    pub properties: BTreeMap<String, String>,
    /// Echoed back per input on a 207, to tell which input failed.
    pub trace_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewNote {
    pub contact_id: String,
    /// Should carry the operation's marker, e.g. `[sa:op=<id>]`, for reconciliation.
    pub body: String,
    pub timestamp: DateTime<Utc>,
    pub owner_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTask {
    pub contact_id: String,
    pub subject: String,
    /// Should carry the operation's marker, e.g. `[sa:op=<id>]`.
    pub body: String,
    pub due: DateTime<Utc>,
    /// `LOW`, `MEDIUM` or `HIGH`.
    pub priority: String,
    /// `EMAIL`, `CALL` or `TODO`.
    pub task_type: String,
    pub owner_id: Option<String>,
}

/// A scheduled meeting engagement on the contact (and company).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMeeting {
    pub contact_id: String,
    pub company_id: Option<String>,
    pub title: String,
    /// Should carry the operation's marker, e.g. `[sa:op=<id>]`.
    pub body: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub owner_id: Option<String>,
    /// The calendar event's link.
    pub external_url: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Owner {
    #[serde(deserialize_with = "id_string")]
    pub id: String,
    pub email: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub archived: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Page<T> {
    pub results: Vec<T>,
    pub paging: Option<Paging>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Paging {
    pub next: Option<NextPage>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct NextPage {
    pub after: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct BatchResponse<T> {
    pub results: Vec<T>,
    pub errors: Vec<BatchError>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct BatchError {
    pub message: Option<String>,
}

/// HubSpot ids are strings in v3 and numbers in v4 responses; keep them as strings.
pub(crate) fn id_string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Id {
        S(String),
        N(u64),
    }
    Ok(match Id::deserialize(d)? {
        Id::S(s) => s,
        Id::N(n) => n.to_string(),
    })
}

/// Which engagement [`HubSpot::find_marked`] looks through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Engagement {
    Note,
    Task,
    Meeting,
}

impl Engagement {
    pub fn object_type(self) -> &'static str {
        match self {
            Engagement::Note => "notes",
            Engagement::Task => "tasks",
            Engagement::Meeting => "meetings",
        }
    }

    pub fn body_property(self) -> &'static str {
        match self {
            Engagement::Note => "hs_note_body",
            Engagement::Task => "hs_task_body",
            Engagement::Meeting => "hs_meeting_body",
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct AssociationTarget {
    #[serde(rename = "toObjectId", deserialize_with = "id_string")]
    pub to_object_id: String,
}
