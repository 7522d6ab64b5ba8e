//! HubSpot request and response shapes. Every response field the service does not
//! strictly need is optional, as HubSpot's error-handling guide advises.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};

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
