//! Running the service against the sandbox: a configuration that points every
//! connector at a sandbox with the credentials of its fixture, and the reps the
//! fixture's mailboxes and owners describe. Used by `sales-agent demo`, the tests
//! and the benchmarks.

mod connect;
mod run;
mod serve;

pub use run::{DemoOptions, run_demo};
pub use serve::ServeOptions;

use std::collections::BTreeMap;

use crate::compose::slots::WorkingHours;
use crate::compose::voice::VoiceProfile;
use crate::config::Config;
use crate::domain::Rep;
use crate::sandbox::fixture::{DriveFileFixture, Fixture};

/// The settings that point every external service at `sandbox_url`,
/// authenticated as the fixture allows, with the fixture's Drive folders as the
/// asset allowlist (but for the one marked for meeting briefs, which is the brief
/// folder) — as environment variables, for a service in another process.
pub fn sandbox_env(sandbox_url: &str, fixture: &Fixture) -> BTreeMap<String, String> {
    let base = sandbox_url.trim_end_matches('/');
    let refresh_tokens: Vec<String> = fixture
        .google
        .refresh_tokens
        .iter()
        .filter(|t| !t.revoked)
        .map(|t| format!("{}={}", t.email.to_lowercase(), t.token))
        .collect();
    let is_folder =
        |f: &&DriveFileFixture| f.mime_type == "application/vnd.google-apps.folder" && !f.trashed;
    // The folder the fixture marks for meeting briefs holds what the service
    // writes, never collateral to link.
    let is_briefs = |f: &&DriveFileFixture| {
        f.app_properties.get("salesAgentFolder").map(String::as_str) == Some("briefs")
    };
    let files = &fixture.google.drive.files;
    let folders: Vec<&str> = files
        .iter()
        .filter(|f| is_folder(f) && !is_briefs(f))
        .map(|f| f.id.as_str())
        .collect();
    let briefs = files.iter().filter(is_folder).find(is_briefs);
    let mut env = BTreeMap::new();
    let mut set = |name: &str, value: String| {
        env.insert(name.to_string(), value);
    };
    set("SALES_AGENT_HUBSPOT_BASE_URL", base.to_string());
    set("SALES_AGENT_GMAIL_BASE_URL", base.to_string());
    set("SALES_AGENT_GOOGLE_API_BASE_URL", base.to_string());
    set("SALES_AGENT_GOOGLE_TOKEN_URL", format!("{base}/token"));
    // Google's consent and sign-in: the sandbox is the issuer it is reached at.
    set(
        "SALES_AGENT_GOOGLE_AUTH_URL",
        format!("{base}/o/oauth2/v2/auth"),
    );
    set("SALES_AGENT_GOOGLE_ISSUER", base.to_string());
    set("SALES_AGENT_LLM_BASE_URL", format!("{base}/v1"));
    set(
        "SALES_AGENT_HUBSPOT_TOKEN",
        fixture.hubspot.tokens.first().cloned().unwrap_or_default(),
    );
    set(
        "SALES_AGENT_GOOGLE_CLIENT_ID",
        fixture.google.client_id.clone(),
    );
    set(
        "SALES_AGENT_GOOGLE_CLIENT_SECRET",
        fixture.google.client_secret.clone(),
    );
    set(
        "SALES_AGENT_GOOGLE_REFRESH_TOKENS",
        refresh_tokens.join(","),
    );
    set(
        "SALES_AGENT_LLM_API_KEY",
        fixture.llm.api_keys.first().cloned().unwrap_or_default(),
    );
    set("SALES_AGENT_ASSET_FOLDERS", folders.join(","));
    if let Some(folder) = briefs {
        set("SALES_AGENT_BRIEF_FOLDER_ID", folder.id.clone());
    }
    env
}

/// `config` with the connectors and asset folders of [`sandbox_env`].
pub fn sandbox_config(mut config: Config, sandbox_url: &str, fixture: &Fixture) -> Config {
    let env = sandbox_env(sandbox_url, fixture);
    let wired =
        Config::from_lookup(|name| env.get(name).cloned()).expect("the sandbox settings are valid");
    config.connectors = wired.connectors;
    config.google_oauth = wired.google_oauth;
    config.engine.asset_folders = wired.engine.asset_folders;
    config.engine.brief_folder = wired.engine.brief_folder;
    config
}

/// One rep per fixture mailbox: its owner id, its calendar, its zone, and the
/// territory of its zone's region.
pub fn reps_from_fixture(fixture: &Fixture) -> Vec<Rep> {
    fixture
        .google
        .mailboxes
        .iter()
        .map(|mailbox| {
            let owner = fixture
                .hubspot
                .owners
                .iter()
                .find(|o| o.email.eq_ignore_ascii_case(&mailbox.email));
            let region = mailbox.time_zone.split('/').next().unwrap_or_default();
            let company = mailbox
                .email
                .split('@')
                .nth(1)
                .and_then(|d| d.split('.').next())
                .unwrap_or_default();
            Rep {
                id: mailbox
                    .email
                    .split('@')
                    .next()
                    .unwrap_or_default()
                    .replace('.', "-"),
                name: mailbox.name.clone(),
                email: mailbox.email.to_lowercase(),
                calendar_id: mailbox.email.to_lowercase(),
                time_zone: mailbox.time_zone.clone(),
                working_hours: WorkingHours::default(),
                hubspot_owner_id: owner.map(|o| o.id.clone()),
                territories: vec![format!("{region}/")],
                voice: VoiceProfile {
                    signature: format!(
                        "Account Executive, {}",
                        crate::compose::voice::proper_case(&company.replace('-', " "))
                    ),
                    ..VoiceProfile::default()
                },
                booking_link: None,
                active: true,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_fixture_gives_three_valid_reps_in_three_zones() {
        let reps = reps_from_fixture(&Fixture::demo());
        assert_eq!(reps.len(), 3);
        for rep in &reps {
            rep.validate().unwrap();
            assert!(rep.hubspot_owner_id.is_some(), "{} has an owner", rep.id);
        }
        let zones: std::collections::BTreeSet<&str> =
            reps.iter().map(|r| r.time_zone.as_str()).collect();
        assert_eq!(zones.len(), 3);
    }
}
