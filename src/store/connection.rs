//! The connection enum over both backends and the r2d2 manager that opens it,
//! choosing the backend from the `DATABASE_URL` scheme.

use std::path::PathBuf;
use std::time::Duration;

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::{Connection, PgConnection, SqliteConnection};

use super::StoreError;

/// One connection to whichever backend is configured.
#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Postgres(PgConnection),
    Sqlite(SqliteConnection),
}

impl DbConn {
    /// A transaction that reads and then writes. On SQLite it starts as a writer
    /// (`BEGIN IMMEDIATE`): a deferred transaction that read first and then finds
    /// that another writer committed meanwhile is refused at once with "database
    /// is locked" — the busy timeout never applies to that upgrade — whereas
    /// taking the write lock up front waits for it under the busy timeout. On
    /// PostgreSQL it is an ordinary transaction (row locks and the status guards in
    /// the statements do the work).
    pub fn write_transaction<T, E, F>(&mut self, work: F) -> Result<T, E>
    where
        F: FnOnce(&mut DbConn) -> Result<T, E>,
        E: From<diesel::result::Error>,
    {
        let DbConn::Sqlite(sqlite) = self else {
            return self.transaction(work);
        };
        // Inside an outer transaction the write lock is the outer one's business:
        // a savepoint, as `transaction` makes.
        let nested = AnsiTransactionManager::transaction_manager_status_mut(sqlite)
            .transaction_depth()
            .map_or(true, |depth| depth.is_some());
        if nested {
            return self.transaction(work);
        }
        AnsiTransactionManager::begin_transaction_sql(sqlite, "BEGIN IMMEDIATE")?;
        let result = work(self);
        let DbConn::Sqlite(sqlite) = self else {
            unreachable!("the work cannot change the backend")
        };
        match result {
            Ok(value) => match AnsiTransactionManager::commit_transaction(sqlite) {
                Ok(()) => Ok(value),
                Err(error) => {
                    let _ = AnsiTransactionManager::rollback_transaction(sqlite);
                    Err(error.into())
                }
            },
            Err(error) => {
                // A failed rollback leaves the connection broken; r2d2's check
                // on checkout ("SELECT 1") then finds out.
                let _ = AnsiTransactionManager::rollback_transaction(sqlite);
                Err(error)
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

impl Backend {
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Postgres => "postgres",
            Backend::Sqlite => "sqlite",
        }
    }
}

/// Opens connections; our own rather than diesel's so that a failing
/// PostgreSQL connection reports its real error.
pub(super) struct Manager {
    target: Target,
    busy_timeout: Duration,
}

enum Target {
    Postgres(String),
    Sqlite(PathBuf),
}

impl Manager {
    pub(super) fn new(url: &str, busy_timeout: Duration) -> Result<Self, StoreError> {
        let target = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Target::Postgres(url.to_string())
        } else if let Some(path) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            if path.is_empty() {
                return Err(StoreError::Unavailable(
                    "DATABASE_URL: sqlite:// needs a file path".into(),
                ));
            }
            let path = PathBuf::from(path);
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|e| {
                    StoreError::Unavailable(format!(
                        "DATABASE_URL: cannot create {}: {e}",
                        dir.display()
                    ))
                })?;
            }
            Target::Sqlite(path)
        } else {
            return Err(StoreError::Unavailable(
                "DATABASE_URL: expected sqlite://PATH or postgres://…".into(),
            ));
        };
        Ok(Manager {
            target,
            busy_timeout,
        })
    }

    pub(super) fn backend(&self) -> Backend {
        match self.target {
            Target::Postgres(_) => Backend::Postgres,
            Target::Sqlite(_) => Backend::Sqlite,
        }
    }
}

impl r2d2::ManageConnection for Manager {
    type Connection = DbConn;
    type Error = StoreError;

    fn connect(&self) -> Result<DbConn, StoreError> {
        let unavailable = |e: diesel::ConnectionError| StoreError::Unavailable(e.to_string());
        match &self.target {
            Target::Postgres(url) => Ok(DbConn::Postgres(
                PgConnection::establish(url).map_err(unavailable)?,
            )),
            Target::Sqlite(path) => {
                let mut conn =
                    SqliteConnection::establish(&path.to_string_lossy()).map_err(unavailable)?;
                // busy_timeout first: switching to WAL needs a brief write lock.
                // synchronous = FULL flushes the WAL at every commit: a webhook is
                // answered 2xx once committed and HubSpot never delivers it again,
                // so its commit must outlive a power cut, not only a crash of this
                // process (NORMAL in WAL mode may roll back the last commits then).
                // PostgreSQL's default (synchronous_commit = on) promises the same.
                // secure_delete zeroes what a delete or an update frees: an erased
                // person or an expired submission must not live on in free pages
                // of the file (store::erasure, store::retention).
                conn.batch_execute(&format!(
                    "PRAGMA busy_timeout = {}; PRAGMA journal_mode = WAL; \
                     PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; \
                     PRAGMA secure_delete = ON;",
                    self.busy_timeout.as_millis()
                ))?;
                Ok(DbConn::Sqlite(conn))
            }
        }
    }

    fn is_valid(&self, conn: &mut DbConn) -> Result<(), StoreError> {
        conn.batch_execute("SELECT 1")
            .map_err(|e| StoreError::Unavailable(e.to_string()))
    }

    fn has_broken(&self, _conn: &mut DbConn) -> bool {
        false
    }
}
