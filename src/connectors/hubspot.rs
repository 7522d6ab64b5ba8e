//! HubSpot CRM v3/v4 with a private-app token or an OAuth app's access token
//! (see [`super::hubspot_auth`]): contacts (search, batch
//! upsert by email, read with owner), companies by domain, notes, tasks and
//! meetings with inline associations, task updates (completing the follow-up), association reads to find an earlier write by its marker
//! (API_FACTS §1.3: search is eventually consistent, associations are not), default
//! associations and owners.

use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::{DateTime, SecondsFormat, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};

use std::sync::Arc;

use super::error::{ConnectorError, Provider};
use super::http::{self, Endpoint};
use super::hubspot_auth::{HubSpotCredential, HubSpotTokens};

pub use super::hubspot_api::*;
use super::hubspot_api::{AssociationTarget, BatchResponse, Page};

#[async_trait]
pub trait HubSpot: Send + Sync {
    async fn search_contact_by_email(
        &self,
        email: &str,
    ) -> Result<Option<CrmObject>, ConnectorError>;
    async fn upsert_contacts_by_email(
        &self,
        inputs: &[ContactUpsert],
    ) -> Result<Vec<Upserted>, ConnectorError>;
    /// The contact with this address (HubSpot's unique `email` property), read
    /// directly rather than through search, which lags behind writes.
    async fn find_contact_by_email(&self, email: &str)
    -> Result<Option<CrmObject>, ConnectorError>;
    /// The contact and, when it has one, its owner.
    async fn get_contact(&self, id: &str) -> Result<(CrmObject, Option<Owner>), ConnectorError>;
    async fn search_companies_by_domain(
        &self,
        domain: &str,
    ) -> Result<Vec<CrmObject>, ConnectorError>;
    async fn create_note(&self, note: &NewNote) -> Result<CrmObject, ConnectorError>;
    async fn create_task(&self, task: &NewTask) -> Result<CrmObject, ConnectorError>;
    async fn create_meeting(&self, meeting: &NewMeeting) -> Result<CrmObject, ConnectorError>;
    /// Sets `properties` on the task (e.g. `hs_task_status`), leaving the rest.
    async fn update_task(
        &self,
        task_id: &str,
        properties: &BTreeMap<String, String>,
    ) -> Result<CrmObject, ConnectorError>;
    /// Sets `properties` on the meeting (its times, `hs_meeting_outcome`).
    async fn update_meeting(
        &self,
        meeting_id: &str,
        properties: &BTreeMap<String, String>,
    ) -> Result<CrmObject, ConnectorError>;
    /// Ids of `to_type` objects (e.g. `notes`) associated with a contact, all pages.
    async fn associated_ids(
        &self,
        contact_id: &str,
        to_type: &str,
    ) -> Result<Vec<String>, ConnectorError>;
    async fn batch_read(
        &self,
        object_type: &str,
        ids: &[String],
        properties: &[&str],
    ) -> Result<Vec<CrmObject>, ConnectorError>;
    async fn associate_default(
        &self,
        from: (&str, &str),
        to: (&str, &str),
    ) -> Result<(), ConnectorError>;
    async fn list_owners(&self) -> Result<Vec<Owner>, ConnectorError>;

    /// The note or task on this contact whose body carries `marker` (e.g.
    /// `[sa:op=<id>]`): how a write whose outcome was unknown is found again.
    async fn find_marked(
        &self,
        contact_id: &str,
        kind: Engagement,
        marker: &str,
    ) -> Result<Option<String>, ConnectorError> {
        let ids = self.associated_ids(contact_id, kind.object_type()).await?;
        for chunk in ids.chunks(100) {
            let objects = self
                .batch_read(kind.object_type(), chunk, &[kind.body_property()])
                .await?;
            if let Some(found) = objects.into_iter().find(|o| {
                o.property(kind.body_property())
                    .is_some_and(|b| b.contains(marker))
            }) {
                return Ok(Some(found.id));
            }
        }
        Ok(None)
    }
}

pub struct HubSpotClient {
    http: reqwest::Client,
    base: String,
    tokens: Arc<HubSpotTokens>,
}

impl HubSpotClient {
    /// `base` is `https://api.hubapi.com` in production; `token` the private-app token.
    pub fn new(http: reqwest::Client, base: impl Into<String>, token: SecretString) -> Self {
        let tokens = HubSpotTokens::new(
            http.clone(),
            None,
            Some(HubSpotCredential::PrivateApp(token)),
        );
        Self::with_tokens(http, base, Arc::new(tokens))
    }

    /// A client whose bearer token comes from `tokens` (an OAuth app's, renewed
    /// before expiry, or a private-app token replaced while running).
    pub fn with_tokens(
        http: reqwest::Client,
        base: impl Into<String>,
        tokens: Arc<HubSpotTokens>,
    ) -> Self {
        HubSpotClient {
            http,
            base: base.into(),
            tokens,
        }
    }

    async fn request(
        &self,
        endpoint: &Endpoint,
        path: &[&str],
    ) -> Result<reqwest::RequestBuilder, ConnectorError> {
        let token = self.tokens.bearer().await?;
        Ok(self
            .http
            .request(endpoint.http_method(), endpoint.url(&self.base, path))
            .bearer_auth(token.expose_secret()))
    }

    /// A PATCH of `properties` on the object at `endpoint`'s `{id}`.
    async fn update(
        &self,
        endpoint: &Endpoint,
        id: &str,
        properties: &BTreeMap<String, String>,
    ) -> Result<CrmObject, ConnectorError> {
        http::send_json(
            self.request(endpoint, &[id])
                .await?
                .json(&update_body(properties)),
            Provider::HubSpot,
        )
        .await
    }

    async fn search(
        &self,
        endpoint: &Endpoint,
        property: &str,
        value: &str,
        properties: &[&str],
    ) -> Result<Vec<CrmObject>, ConnectorError> {
        let body = json!({
            "filterGroups": [{"filters": [{"propertyName": property, "operator": "EQ", "value": value}]}],
            "properties": properties,
            "limit": 10,
        });
        let page: Page<CrmObject> = http::send_json(
            self.request(endpoint, &[]).await?.json(&body),
            Provider::HubSpot,
        )
        .await?;
        Ok(page.results)
    }

    async fn create(&self, endpoint: &Endpoint, body: &Value) -> Result<CrmObject, ConnectorError> {
        http::send_json(
            self.request(endpoint, &[]).await?.json(body),
            Provider::HubSpot,
        )
        .await
    }
}

/// The body of a batch upsert by email (also what pilot mode records).
pub fn upsert_body(inputs: &[ContactUpsert]) -> Value {
    let inputs: Vec<_> = inputs
        .iter()
        .map(|c| json!({"id": c.email.to_ascii_lowercase(), "idProperty": "email", "properties": c.properties, "objectWriteTraceId": c.trace_id}))
        .collect();
    json!({ "inputs": inputs })
}

/// The body that creates a note on its contact.
pub fn note_body(note: &NewNote) -> Value {
    let mut props = BTreeMap::from([
        ("hs_timestamp", timestamp(&note.timestamp)),
        ("hs_note_body", note.body.clone()),
    ]);
    if let Some(owner) = &note.owner_id {
        props.insert("hubspot_owner_id", owner.clone());
    }
    engagement_body(props, &note.contact_id, NOTE_TO_CONTACT)
}

/// The body that creates a task on its contact.
pub fn task_body(task: &NewTask) -> Value {
    let mut props = BTreeMap::from([
        ("hs_timestamp", timestamp(&task.due)),
        ("hs_task_subject", task.subject.clone()),
        ("hs_task_body", task.body.clone()),
        ("hs_task_status", "NOT_STARTED".to_string()),
        ("hs_task_priority", task.priority.clone()),
        ("hs_task_type", task.task_type.clone()),
    ]);
    if let Some(owner) = &task.owner_id {
        props.insert("hubspot_owner_id", owner.clone());
    }
    engagement_body(props, &task.contact_id, TASK_TO_CONTACT)
}

/// The body that creates a scheduled meeting on its contact and, when known,
/// the contact's company. HubSpot wants `hs_timestamp` to match the start.
pub fn meeting_body(meeting: &NewMeeting) -> Value {
    let mut props = BTreeMap::from([
        ("hs_timestamp", timestamp(&meeting.start)),
        ("hs_meeting_title", meeting.title.clone()),
        ("hs_meeting_body", meeting.body.clone()),
        ("hs_meeting_start_time", timestamp(&meeting.start)),
        ("hs_meeting_end_time", timestamp(&meeting.end)),
        ("hs_meeting_outcome", "SCHEDULED".to_string()),
    ]);
    if let Some(owner) = &meeting.owner_id {
        props.insert("hubspot_owner_id", owner.clone());
    }
    if let Some(url) = &meeting.external_url {
        props.insert("hs_meeting_external_url", url.clone());
    }
    let mut to = vec![(meeting.contact_id.as_str(), MEETING_TO_CONTACT)];
    to.extend(
        meeting
            .company_id
            .as_deref()
            .map(|c| (c, MEETING_TO_COMPANY)),
    );
    engagement_body_to(props, &to)
}

/// An engagement with its association to the contact inline.
fn engagement_body(properties: BTreeMap<&str, String>, contact_id: &str, type_id: u32) -> Value {
    engagement_body_to(properties, &[(contact_id, type_id)])
}

/// An engagement with its associations inline, each `(record id, type id)`.
fn engagement_body_to(properties: BTreeMap<&str, String>, to: &[(&str, u32)]) -> Value {
    let associations: Vec<Value> = to
        .iter()
        .map(|(id, type_id)| {
            json!({
                "to": {"id": id},
                "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": type_id}],
            })
        })
        .collect();
    json!({ "properties": properties, "associations": associations })
}

/// The body that sets properties on an existing record.
pub fn update_body(properties: &BTreeMap<String, String>) -> Value {
    json!({ "properties": properties })
}

/// HubSpot accepts `hs_timestamp` as UTC ISO 8601.
pub fn timestamp(at: &DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

#[async_trait]
impl HubSpot for HubSpotClient {
    async fn search_contact_by_email(
        &self,
        email: &str,
    ) -> Result<Option<CrmObject>, ConnectorError> {
        let found = self
            .search(
                &CONTACTS_SEARCH,
                "email",
                &email.to_ascii_lowercase(),
                CONTACT_PROPERTIES,
            )
            .await?;
        Ok(found.into_iter().next())
    }

    async fn upsert_contacts_by_email(
        &self,
        inputs: &[ContactUpsert],
    ) -> Result<Vec<Upserted>, ConnectorError> {
        let body = upsert_body(inputs);
        let response: BatchResponse<Upserted> = http::send_json(
            self.request(&CONTACTS_UPSERT, &[]).await?.json(&body),
            Provider::HubSpot,
        )
        .await?;
        if let Some(first) = response.errors.first() {
            return Err(ConnectorError::Permanent {
                status: 207,
                message: first
                    .message
                    .clone()
                    .unwrap_or_else(|| "batch upsert partly failed".into()),
            });
        }
        Ok(response.results)
    }

    async fn find_contact_by_email(
        &self,
        email: &str,
    ) -> Result<Option<CrmObject>, ConnectorError> {
        let query = [
            ("properties", CONTACT_PROPERTIES.join(",")),
            ("idProperty", "email".to_string()),
        ];
        let found = http::send_json(
            self.request(&CONTACTS_GET, &[&email.to_ascii_lowercase()])
                .await?
                .query(CONTACTS_GET.query(&query)),
            Provider::HubSpot,
        )
        .await;
        match found {
            Ok(contact) => Ok(Some(contact)),
            Err(ConnectorError::NotFound(_)) => Ok(None),
            Err(error) => Err(error),
        }
    }

    async fn get_contact(&self, id: &str) -> Result<(CrmObject, Option<Owner>), ConnectorError> {
        let props = CONTACT_PROPERTIES.join(",");
        let contact: CrmObject = http::send_json(
            self.request(&CONTACTS_GET, &[id])
                .await?
                .query(CONTACTS_GET.query(&[("properties", props)])),
            Provider::HubSpot,
        )
        .await?;
        let owner = match contact
            .property("hubspot_owner_id")
            .filter(|o| !o.is_empty())
        {
            Some(owner_id) => {
                match http::send_json(
                    self.request(&OWNERS_GET, &[owner_id]).await?,
                    Provider::HubSpot,
                )
                .await
                {
                    Ok(owner) => Some(owner),
                    // An owner who left is archived and no longer found: the contact stands alone.
                    Err(ConnectorError::NotFound(_)) => None,
                    Err(e) => return Err(e),
                }
            }
            None => None,
        };
        Ok((contact, owner))
    }

    async fn search_companies_by_domain(
        &self,
        domain: &str,
    ) -> Result<Vec<CrmObject>, ConnectorError> {
        self.search(
            &COMPANIES_SEARCH,
            "domain",
            &domain.to_ascii_lowercase(),
            &["domain", "name", "industry", "numberofemployees", "country"],
        )
        .await
    }

    async fn create_note(&self, note: &NewNote) -> Result<CrmObject, ConnectorError> {
        self.create(&NOTES_CREATE, &note_body(note)).await
    }

    async fn create_task(&self, task: &NewTask) -> Result<CrmObject, ConnectorError> {
        self.create(&TASKS_CREATE, &task_body(task)).await
    }

    async fn create_meeting(&self, meeting: &NewMeeting) -> Result<CrmObject, ConnectorError> {
        self.create(&MEETINGS_CREATE, &meeting_body(meeting)).await
    }

    async fn update_task(
        &self,
        task_id: &str,
        properties: &BTreeMap<String, String>,
    ) -> Result<CrmObject, ConnectorError> {
        self.update(&TASKS_UPDATE, task_id, properties).await
    }

    async fn update_meeting(
        &self,
        meeting_id: &str,
        properties: &BTreeMap<String, String>,
    ) -> Result<CrmObject, ConnectorError> {
        self.update(&MEETINGS_UPDATE, meeting_id, properties).await
    }

    async fn associated_ids(
        &self,
        contact_id: &str,
        to_type: &str,
    ) -> Result<Vec<String>, ConnectorError> {
        let mut ids = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let mut query = vec![("limit", "500".to_string())];
            query.extend(after.take().map(|a| ("after", a)));
            let request = self
                .request(&ASSOCIATIONS_LIST, &["contacts", contact_id, to_type])
                .await?
                .query(ASSOCIATIONS_LIST.query(&query));
            let page: Page<AssociationTarget> = http::send_json(request, Provider::HubSpot).await?;
            ids.extend(page.results.into_iter().map(|t| t.to_object_id));
            match page.paging.and_then(|p| p.next).map(|n| n.after) {
                Some(next) if !next.is_empty() => after = Some(next),
                _ => return Ok(ids),
            }
        }
    }

    async fn batch_read(
        &self,
        object_type: &str,
        ids: &[String],
        properties: &[&str],
    ) -> Result<Vec<CrmObject>, ConnectorError> {
        let inputs: Vec<_> = ids.iter().map(|id| json!({"id": id})).collect();
        let body = json!({"inputs": inputs, "properties": properties});
        let response: BatchResponse<CrmObject> = http::send_json(
            self.request(&OBJECTS_BATCH_READ, &[object_type])
                .await?
                .json(&body),
            Provider::HubSpot,
        )
        .await?;
        Ok(response.results)
    }

    async fn associate_default(
        &self,
        from: (&str, &str),
        to: (&str, &str),
    ) -> Result<(), ConnectorError> {
        let request = self
            .request(&ASSOCIATE_DEFAULT, &[from.0, from.1, to.0, to.1])
            .await?;
        http::send_empty(request, Provider::HubSpot).await
    }

    async fn list_owners(&self) -> Result<Vec<Owner>, ConnectorError> {
        let mut owners = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let mut query = vec![("limit", "100".to_string())];
            query.extend(after.take().map(|a| ("after", a)));
            let page: Page<Owner> = http::send_json(
                self.request(&OWNERS_LIST, &[])
                    .await?
                    .query(OWNERS_LIST.query(&query)),
                Provider::HubSpot,
            )
            .await?;
            owners.extend(page.results);
            match page.paging.and_then(|p| p.next).map(|n| n.after) {
                Some(next) if !next.is_empty() => after = Some(next),
                _ => return Ok(owners),
            }
        }
    }
}
