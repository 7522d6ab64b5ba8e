//! The documentation stays true: every setting is in the README and in `--help`.

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
    assert_eq!(stdout.matches(" completed ").count(), 5, "{stdout}");
    assert!(
        stdout.contains("growth@cheap-leads.example") && stdout.contains(" skipped "),
        "{stdout}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}
