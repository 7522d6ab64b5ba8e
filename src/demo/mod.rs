//! Running the service against the sandbox: a configuration that points every
//! connector at a sandbox with the credentials of its fixture, and the reps the
//! fixture's mailboxes and owners describe. Used by `sales-agent demo`, the tests
//! and the benchmarks.

mod run;

pub use run::{DemoOptions, run_demo};

use secrecy::SecretString;

use crate::compose::slots::WorkingHours;
use crate::compose::voice::VoiceProfile;
use crate::config::Config;
use crate::reps::Rep;
use crate::sandbox::fixture::Fixture;

/// `config` with every external service at `sandbox_url`, authenticated as the
/// fixture allows, and the fixture's Drive folders as the asset allowlist.
pub fn sandbox_config(mut config: Config, sandbox_url: &str, fixture: &Fixture) -> Config {
    let url = |path: &str| {
        format!("{}{path}", sandbox_url.trim_end_matches('/'))
            .parse()
            .expect("the sandbox URL is a URL")
    };
    let connectors = &mut config.connectors;
    connectors.hubspot_base_url = url("");
    connectors.gmail_base_url = url("");
    connectors.google_api_base_url = url("");
    connectors.google_token_url = url("/token");
    connectors.llm_base_url = url("/v1");
    connectors.hubspot_token = fixture
        .hubspot
        .tokens
        .first()
        .cloned()
        .map(SecretString::from);
    connectors.google_client_id = Some(SecretString::from(fixture.google.client_id.clone()));
    connectors.google_client_secret =
        Some(SecretString::from(fixture.google.client_secret.clone()));
    connectors.google_refresh_tokens = fixture
        .google
        .refresh_tokens
        .iter()
        .filter(|t| !t.revoked)
        .map(|t| (t.email.to_lowercase(), SecretString::from(t.token.clone())))
        .collect();
    connectors.llm_api_key = fixture
        .llm
        .api_keys
        .first()
        .cloned()
        .map(SecretString::from);
    config.engine.asset_folders = fixture
        .google
        .drive
        .files
        .iter()
        .filter(|f| f.mime_type == "application/vnd.google-apps.folder" && !f.trashed)
        .map(|f| f.id.clone())
        .collect();
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
                        title_case(&company.replace('-', " "))
                    ),
                    ..VoiceProfile::default()
                },
                booking_link: None,
                active: true,
            }
        })
        .collect()
}

fn title_case(text: &str) -> String {
    crate::compose::voice::proper_case(text)
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
