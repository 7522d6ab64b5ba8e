//! Backups and restores of the whole database, taken while the service runs.
//!
//! SQLite: `VACUUM INTO` writes a transaction-consistent copy beside the running
//! service (readers and the writer go on); restoring copies it into place. PostgreSQL:
//! the server's own tools, `pg_dump --format=custom` and `pg_restore`, of the
//! server's major version — a hand-written dump would miss what they know.
//! A restore goes into a new, empty database only, and is migrated after, so a
//! backup taken by an older build opens in this one.

use std::path::{Path, PathBuf};
use std::process::Command;

use diesel::RunQueryDsl;
use diesel::sql_types::Text;

use super::{Backend, DbConn, Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{0} exists already: a backup never overwrites a file")]
    Exists(PathBuf),
    #[error("{0} is not empty: restore into a new, empty database")]
    TargetNotEmpty(String),
    #[error("{tool} failed ({status}): {stderr}")]
    Tool {
        tool: &'static str,
        status: String,
        stderr: String,
    },
    #[error(
        "could not run {tool}: {source} (install PostgreSQL's client tools of the server's major version)"
    )]
    Spawn {
        tool: &'static str,
        source: std::io::Error,
    },
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Writes a consistent copy of the database at `url` to `file`.
pub async fn backup(store: &Store, url: &str, file: &Path) -> Result<(), BackupError> {
    if file.exists() {
        return Err(BackupError::Exists(file.to_path_buf()));
    }
    match store.backend() {
        Backend::Sqlite => {
            let target = file.to_string_lossy().into_owned();
            store
                .run(move |c| {
                    diesel::sql_query("VACUUM INTO ?")
                        .bind::<Text, _>(&target)
                        .execute(c)?;
                    Ok(())
                })
                .await?;
            Ok(())
        }
        Backend::Postgres => {
            let mut dump = Command::new("pg_dump");
            dump.args(["--format=custom", "--no-owner", "--file"])
                .arg(file)
                .arg(url);
            run_tool("pg_dump", dump).await
        }
    }
}

/// Restores `file` into the empty database at `url`, then migrates it; returns
/// the restored database's store.
pub async fn restore(url: &str, file: &Path) -> Result<Store, BackupError> {
    if !file.is_file() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!("{}: no such backup file", file.display()),
        )
        .into());
    }
    let open = || Store::open(url, 1, std::time::Duration::from_secs(5));
    if let Some(path) = sqlite_path(url) {
        // Copied into place before any connection opens it: a file under open
        // connections must not change beneath them.
        if path.metadata().is_ok_and(|m| m.len() > 0) {
            return Err(BackupError::TargetNotEmpty(path.display().to_string()));
        }
        let from = file.to_path_buf();
        let to = path.clone();
        tokio::task::spawn_blocking(move || {
            if let Some(dir) = to.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)?;
            }
            std::fs::copy(from, to)
        })
        .await
        .map_err(|e| std::io::Error::other(e.to_string()))??;
    } else {
        let store = open()?;
        if store.run(count_tables).await? > 0 {
            return Err(BackupError::TargetNotEmpty(redacted(url)));
        }
        let mut load = Command::new("pg_restore");
        load.args([
            "--no-owner",
            "--exit-on-error",
            "--single-transaction",
            "--dbname",
        ])
        .arg(url)
        .arg(file);
        run_tool("pg_restore", load).await?;
    }
    let store = open()?;
    store.migrate().await?;
    Ok(store)
}

async fn run_tool(tool: &'static str, mut command: Command) -> Result<(), BackupError> {
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .map_err(|e| std::io::Error::other(e.to_string()))?
        .map_err(|source| BackupError::Spawn { tool, source })?;
    if output.status.success() {
        return Ok(());
    }
    Err(BackupError::Tool {
        tool,
        status: output.status.to_string(),
        stderr: String::from_utf8_lossy(&output.stderr).trim().to_string(),
    })
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

/// Tables in the database, the migrations' bookkeeping included.
pub(super) fn count_tables(conn: &mut DbConn) -> Result<i64, StoreError> {
    let sql = match conn {
        DbConn::Postgres(_) => {
            "SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = 'public'"
        }
        DbConn::Sqlite(_) => "SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'",
    };
    let count: Count = diesel::sql_query(sql).get_result(conn)?;
    Ok(count.n)
}

pub(super) fn sqlite_path(url: &str) -> Option<PathBuf> {
    url.strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .map(PathBuf::from)
}

/// The URL without its password, for messages.
pub(super) fn redacted(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_string(),
    }
}
