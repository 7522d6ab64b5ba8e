//! The documentation stays true: every setting is in the README and in `--help`;
//! the README's scope lists are the scopes the code requests.

use std::process::Command;

use sales_agent::config::SETTINGS;

#[test]
fn every_setting_is_documented_in_the_readme() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    for setting in SETTINGS {
        assert!(
            readme.contains(&format!("`{}`", setting.name)),
            "README lacks {}",
            setting.name
        );
    }
}

#[test]
fn help_lists_every_environment_variable() {
    let output = Command::new(env!("CARGO_BIN_EXE_sales-agent"))
        .arg("--help")
        .output()
        .unwrap();
    assert!(output.status.success());
    let help = String::from_utf8(output.stdout).unwrap();
    for setting in SETTINGS {
        assert!(help.contains(setting.name), "--help lacks {}", setting.name);
    }
}

#[test]
fn migrate_help_documents_the_rollback_target() {
    let output = Command::new(env!("CARGO_BIN_EXE_sales-agent"))
        .args(["migrate", "--help"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let help = String::from_utf8(output.stdout).unwrap();
    assert!(
        help.contains("--to <TO>") && help.contains("reverting newer ones"),
        "{help}"
    );
}

#[test]
fn a_bad_setting_stops_start_up_naming_the_variable() {
    let output = Command::new(env!("CARGO_BIN_EXE_sales-agent"))
        .arg("migrate")
        .env("SALES_AGENT_DB_POOL_SIZE", "lots")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("SALES_AGENT_DB_POOL_SIZE"), "{stderr}");
}

#[test]
fn the_readme_demo_answers_every_sample_and_exits_zero() {
    let dir = std::env::temp_dir().join(format!("sa-demo-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_sales-agent"))
        .args([
            "demo",
            "--database-url",
            &format!("sqlite://{}", dir.join("demo.db").display()),
        ])
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("Every submission ended as expected"),
        "{stdout}"
    );
    assert_eq!(stdout.matches(" completed ").count(), 6, "{stdout}");
    // The German prospect's reply is German, slots and all (README "Languages").
    assert!(
        stdout.contains("Ihre Demo für Hansa Kühltechnik GmbH") && stdout.contains(". Dezember, "),
        "{stdout}"
    );
    assert!(
        stdout.contains("growth@cheap-leads.example") && stdout.contains(" skipped "),
        "{stdout}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

/// The scopes the README lists after `<!-- scopes: NAME -->`, in its code block.
fn readme_scopes(readme: &str, name: &str) -> Vec<String> {
    let marker = format!("<!-- scopes: {name} -->");
    let after = &readme[readme
        .find(&marker)
        .unwrap_or_else(|| panic!("README lacks {marker}"))..];
    let block = after
        .split("```")
        .nth(1)
        .unwrap_or_else(|| panic!("no code block after {marker}"));
    let mut scopes: Vec<String> = block
        .lines()
        .skip(1)
        .flat_map(|l| l.split_whitespace())
        .map(str::to_string)
        .collect();
    scopes.sort();
    scopes
}

fn sorted(scopes: impl IntoIterator<Item = impl ToString>) -> Vec<String> {
    let mut v: Vec<String> = scopes.into_iter().map(|s| s.to_string()).collect();
    v.sort();
    v
}

#[test]
fn the_readmes_scope_lists_are_the_scopes_the_code_requests() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    assert_eq!(
        readme_scopes(&readme, "google-consent"),
        sorted(sales_agent::web::console::REP_SCOPES)
    );
    assert_eq!(
        readme_scopes(&readme, "google-service-account"),
        sorted(sales_agent::connectors::service_account::DELEGATED_SCOPES)
    );
    assert_eq!(
        readme_scopes(&readme, "hubspot-app"),
        sorted(sales_agent::accounts::hubspot::SCOPES.split_whitespace())
    );
    // The per-API table names each Google scope the consent asks for.
    for scope in sales_agent::connectors::service_account::DELEGATED_SCOPES {
        let short = scope.trim_start_matches("https://www.googleapis.com/auth/");
        assert!(
            readme.contains(&format!("| `{short}`")) || readme.contains(&format!(", `{short}`")),
            "the scope table lacks {short}"
        );
    }
}
