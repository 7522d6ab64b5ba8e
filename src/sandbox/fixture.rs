//! The fixture: the JSON document the sandbox's state starts from. The embedded
//! default is `fixtures/demo.json`. The schema is [`SCHEMA`], which
//! `sales-agent sandbox --help` prints; `Fixture::check` adds the cross-references
//! serde cannot see (every refresh token has a mailbox, CRM ids are numeric).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::faults::FaultSpec;
use super::quota::QuotaConfig;

/// The fixture schema, for `--help` and for readers of this file.
pub const SCHEMA: &str = r#"Fixture (JSON; every section optional; keys camelCase):
  { "seed": 42,                                   default fault seed (--seed wins)
    "hubspot": {
      "portalId": 4242, "tokens": ["pat-na1-..."],          private-app bearer tokens
      "owners":    [{"id","email","firstName","lastName","userId"}],
      "contacts":  [{"id","properties":{"email",...}}],      ids are numeric strings
      "companies": [{"id","properties":{"domain","name",...}}],
      "associations": [{"fromType","fromId","toType","toId","typeId"}],
      "formSubmissions": [{"portalId","formGuid","conversionId",
                           "submittedAt" (ms) | "ageMinutes",
                           "pageUrl","values":[{"name","value"}]}],
      "searchLagMs": 0,                        new records hidden from search this long
      "hubDomain": "northwind.hubspot.com",
      "apps": [{"appId","clientId","clientSecret","redirectUris":[...],"scopes":[...]}] },
                                               OAuth apps that may be installed
    "google": {
      "clientId", "clientSecret",
      "refreshTokens": [{"token","email","scope","revoked"?}],
      "redirectUris": [...],          registered for the client (more via /_sandbox/oauth/redirect-uris)
      "users": [{"email","name","hd"?}],           Google accounts on the chooser
                                      (every mailbox is one too, hd = its domain)
      "serviceAccounts": [{"clientEmail","clientId","privateKeyId","publicKey" (PEM),
                           "domain","scopes":[...]}],   domain-wide delegation
      "mailboxes": [{"email","name","timeZone",
         "messages":[{"thread","labels":["INBOX"|"SENT"|...],"from","to":[...],
                      "subject","messageId","inReplyTo"?,"body",
                      "date" (RFC 3339) | "ageHours"}]}],
      "calendars": [{"id","timeZone","events":[{"id"?,"summary",
         "start","end" (RFC 3339) | "dayOffset","atUtc":"HH:MM","minutes"}]}],
      "drive": {"files":[{"id","name","mimeType","description","parents":[...],
                          "trashed"?,"text"?,"properties"?,"appProperties"?}]} },
    "llm": {"apiKeys": ["sk-..."]},
    "faults": {"<endpoint>" | "<prefix>.*" | "*": FaultSpec},
    "quotas": QuotaConfig }
Messages with the same "thread" key share a Gmail thread. Relative times
("ageHours", "dayOffset", "ageMinutes") are resolved when the sandbox
starts, so the demo always looks recent."#;

/// The demo fixture shipped in the binary.
pub const DEMO: &str = include_str!("fixtures/demo.json");

/// The key file of the demo fixture's service account, in Google's JSON key
/// format (the private key the sandbox itself never holds), for clients of the
/// JWT-bearer grant.
pub const DEMO_SERVICE_ACCOUNT_KEY: &str = include_str!("fixtures/service-account.json");

#[derive(Debug, thiserror::Error)]
pub enum FixtureError {
    #[error("fixture is not valid: {0}")]
    Parse(#[from] serde_json::Error),
    #[error("fixture could not be read: {0}")]
    Read(#[from] std::io::Error),
    #[error("fixture is inconsistent: {0}")]
    Invalid(String),
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct Fixture {
    pub seed: Option<u64>,
    pub hubspot: HubSpotFixture,
    pub google: GoogleFixture,
    pub llm: LlmFixture,
    pub faults: BTreeMap<String, FaultSpec>,
    pub quotas: Option<QuotaConfig>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct HubSpotFixture {
    pub portal_id: u64,
    pub tokens: Vec<String>,
    pub owners: Vec<Owner>,
    pub contacts: Vec<CrmRecord>,
    pub companies: Vec<CrmRecord>,
    pub associations: Vec<AssociationFixture>,
    pub form_submissions: Vec<Value>,
    /// Milliseconds before a new record shows up in search (default 0).
    pub search_lag_ms: u64,
    /// The portal's domain, as the token-info endpoint reports it.
    pub hub_domain: String,
    /// OAuth apps a portal admin may install (`/oauth/authorize`).
    pub apps: Vec<HubSpotAppFixture>,
}

/// A HubSpot OAuth app: its credentials, redirect URLs and the scopes it is
/// configured for (an install URL asking for others is refused).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HubSpotAppFixture {
    pub app_id: u64,
    pub client_id: String,
    pub client_secret: String,
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    #[serde(default)]
    pub scopes: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Owner {
    pub id: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    #[serde(default)]
    pub user_id: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CrmRecord {
    pub id: String,
    pub properties: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AssociationFixture {
    pub from_type: String,
    pub from_id: String,
    pub to_type: String,
    pub to_id: String,
    pub type_id: u32,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct GoogleFixture {
    pub client_id: String,
    pub client_secret: String,
    pub refresh_tokens: Vec<RefreshTokenFixture>,
    /// Redirect URIs registered for the OAuth client (exact match, as Google does).
    pub redirect_uris: Vec<String>,
    /// Google accounts offered on the account chooser, besides the mailboxes.
    pub users: Vec<UserFixture>,
    /// Service accounts with domain-wide delegation (the JWT-bearer grant).
    pub service_accounts: Vec<ServiceAccountFixture>,
    pub mailboxes: Vec<MailboxFixture>,
    pub calendars: Vec<CalendarFixture>,
    pub drive: DriveFixture,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RefreshTokenFixture {
    pub token: String,
    pub email: String,
    #[serde(default)]
    pub scope: String,
    #[serde(default)]
    pub revoked: bool,
}

/// A Google account; `hd` is its Workspace domain (absent for a consumer account).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserFixture {
    pub email: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub hd: Option<String>,
}

/// A service account: the public half of its key, and what a Workspace admin
/// delegated to it (users of `domain`, these scopes).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceAccountFixture {
    pub client_email: String,
    pub client_id: String,
    pub private_key_id: String,
    pub public_key: String,
    pub domain: String,
    #[serde(default)]
    pub scopes: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MailboxFixture {
    pub email: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub time_zone: String,
    #[serde(default)]
    pub messages: Vec<MessageFixture>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageFixture {
    pub thread: String,
    pub labels: Vec<String>,
    pub from: String,
    pub to: Vec<String>,
    pub subject: String,
    pub message_id: String,
    #[serde(default)]
    pub in_reply_to: Option<String>,
    #[serde(default)]
    pub body: String,
    #[serde(default)]
    pub date: Option<chrono::DateTime<chrono::FixedOffset>>,
    #[serde(default)]
    pub age_hours: Option<u32>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CalendarFixture {
    pub id: String,
    #[serde(default)]
    pub time_zone: String,
    #[serde(default)]
    pub events: Vec<BusyFixture>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BusyFixture {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub summary: String,
    #[serde(default)]
    pub start: Option<chrono::DateTime<chrono::FixedOffset>>,
    #[serde(default)]
    pub end: Option<chrono::DateTime<chrono::FixedOffset>>,
    #[serde(default)]
    pub day_offset: Option<i64>,
    #[serde(default)]
    pub at_utc: Option<String>,
    #[serde(default)]
    pub minutes: Option<i64>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct DriveFixture {
    pub files: Vec<DriveFileFixture>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DriveFileFixture {
    pub id: String,
    pub name: String,
    pub mime_type: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub parents: Vec<String>,
    #[serde(default)]
    pub trashed: bool,
    /// Searchable body text for `fullText contains`.
    #[serde(default)]
    pub text: String,
    /// Drive's `properties` (visible to all apps).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub properties: BTreeMap<String, String>,
    /// Drive's `appProperties` (private to the app).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub app_properties: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct LlmFixture {
    pub api_keys: Vec<String>,
}

impl Fixture {
    /// The embedded demo fixture.
    pub fn demo() -> Self {
        // The demo is part of the binary and covered by a test, so a parse failure
        // here is a build defect, not bad input.
        Self::from_json(DEMO).expect("the embedded demo fixture parses")
    }

    pub fn from_json(text: &str) -> Result<Self, FixtureError> {
        let fixture: Fixture = serde_json::from_str(text)?;
        fixture.check()?;
        Ok(fixture)
    }

    pub fn from_file(path: &std::path::Path) -> Result<Self, FixtureError> {
        Self::from_json(&std::fs::read_to_string(path)?)
    }

    /// Cross-references that serde cannot check.
    fn check(&self) -> Result<(), FixtureError> {
        let mailboxes: Vec<&str> = self
            .google
            .mailboxes
            .iter()
            .map(|m| m.email.as_str())
            .collect();
        for token in &self.google.refresh_tokens {
            if !mailboxes.contains(&token.email.as_str()) {
                return Err(FixtureError::Invalid(format!(
                    "refresh token for {} has no mailbox",
                    token.email
                )));
            }
        }
        for record in self.hubspot.contacts.iter().chain(&self.hubspot.companies) {
            if record.id.parse::<u64>().is_err() {
                return Err(FixtureError::Invalid(format!(
                    "CRM id {:?} is not numeric",
                    record.id
                )));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_fixture_builds_a_world_with_three_reps_in_three_zones() {
        let fixture = Fixture::demo();
        let world =
            crate::sandbox::World::from_fixture(&fixture, chrono::Utc::now()).expect("demo loads");
        let zones: Vec<&str> = world
            .mailboxes
            .values()
            .map(|m| m.time_zone.as_str())
            .collect();
        assert_eq!(zones.len(), 3);
        for zone in ["America/New_York", "Europe/Berlin", "Asia/Singapore"] {
            assert!(zones.contains(&zone), "{zone} missing");
        }
        assert_eq!(fixture.hubspot.owners.len(), 3);
        assert!(fixture.hubspot.form_submissions.len() >= 6);
        assert!(world.calendars.values().all(|c| !c.events.is_empty()));
        let now = chrono::Utc::now().timestamp_millis();
        for s in &world.hubspot.form_submissions {
            let at = s["submittedAt"].as_i64().expect("submittedAt resolved");
            assert!(now - at < 2 * 3_600_000 && at <= now, "recent: {s}");
            assert!(s.get("ageMinutes").is_none());
        }
    }

    #[test]
    fn a_refresh_token_for_an_unknown_mailbox_is_refused() {
        let text = r#"{"google":{"refreshTokens":[{"token":"1//x","email":"nobody@x.com"}]}}"#;
        assert!(matches!(
            Fixture::from_json(text),
            Err(FixtureError::Invalid(_))
        ));
    }
}
