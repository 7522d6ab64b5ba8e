//! The database: one connection type over SQLite and PostgreSQL, the pool, the
//! embedded migrations, and the one bridge that runs diesel off the async threads.
//!
//! Table modules (`events`, `workflows`, `leases`, `step_runs`, `settings`, `audit`,
//! `suppressions`, `reps`, `side_effects`, `admin_queries`, `voice_profiles`, `sessions`,
//! `console_queries`, `erasure`, `export`, `retention`) hold synchronous
//! functions taking `&mut DbConn`; callers reach them through [`Store::run`].
//! Backend-specific SQL stays inside this folder.

pub mod admin_queries;
pub mod assets;
pub mod audit;
pub mod backup;
pub mod bookings;
mod connection;
pub mod console_queries;
pub mod console_users;
pub mod copy;
pub mod dead_letters;
pub mod draft_watches;
pub mod erasure;
pub mod events;
mod events_pg;
pub mod experiments;
pub mod export;
pub mod grants;
pub mod leases;
pub mod migrations;
pub mod pilot_writes;
pub mod quota_leases;
pub mod rep_consents;
pub mod reps;
pub mod retention;
pub mod schema;
pub mod search;
pub mod sessions;
pub mod settings;
pub mod side_effects;
pub mod signin_attempts;
pub mod signin_links;
pub mod slot_holds;
pub mod speed;
pub mod step_runs;
pub mod suppressions;
pub mod voice_profiles;
pub mod workflows;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;

pub use connection::{Backend, DbConn};

/// A pooled, cloneable handle on the database.
#[derive(Clone)]
pub struct Store {
    pool: r2d2::Pool<connection::Manager>,
    /// One permit per pooled connection: work waits for a connection here, on the
    /// async side, so at most pool-size blocking threads ever exist.
    slots: Arc<Semaphore>,
    /// One more connection, kept for work that must not queue behind the rest
    /// (lease renewal: a renewal stuck behind thousands of step writes lets the
    /// lease lapse while the workflow still runs, and another process takes it).
    urgent: Arc<Semaphore>,
    backend: Backend,
    busy_timeout: Duration,
}

/// What can go wrong talking to the database.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No connection could be had: the database is down or unreachable.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("database error: {0}")]
    Query(#[from] diesel::result::Error),
    #[error("migration failed: {0}")]
    Migration(String),
    /// The database was migrated by a newer build: starting on it could corrupt data.
    #[error(
        "the database's schema has migration(s) {unknown} that this build does not know: a newer sales-agent migrated it. Run that newer build's `sales-agent migrate --to {latest}` first to roll the schema back (see docs/OPERATIONS.md), or run the newer build"
    )]
    SchemaNewer { unknown: String, latest: String },
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
}

impl StoreError {
    /// True when the database could not be reached or is locked, as opposed to a
    /// query that is wrong: callers answer 503 so the sender retries later.
    pub fn is_unavailable(&self) -> bool {
        use diesel::result::Error as E;
        match self {
            StoreError::Unavailable(_) => true,
            StoreError::Query(E::DatabaseError(kind, info)) => {
                matches!(kind, diesel::result::DatabaseErrorKind::ClosedConnection)
                    || is_connection_message(info.message())
            }
            _ => false,
        }
    }
}

impl StoreError {
    /// SQLite's "database is locked": another writer won; the work may be retried.
    pub fn is_lock_conflict(&self) -> bool {
        matches!(self, StoreError::Query(diesel::result::Error::DatabaseError(_, info)) if info.message().contains("database is locked"))
    }
}

/// An error of work run through [`Store::run_as`] that may carry a store error,
/// so that the bridge still sees a lock conflict inside a domain error (a
/// conflict wrapped as a refused transition, say) and runs the work again.
pub trait FromStore: From<StoreError> {
    /// The store error inside, if this is one.
    fn store_error(&self) -> Option<&StoreError>;
}

impl FromStore for StoreError {
    fn store_error(&self) -> Option<&StoreError> {
        Some(self)
    }
}

impl StoreError {
    /// True when an insert met a row another transaction had just inserted.
    pub fn is_unique_violation(&self) -> bool {
        matches!(
            self,
            StoreError::Query(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _
            ))
        )
    }
}

fn is_connection_message(message: &str) -> bool {
    let message = message.to_ascii_lowercase();
    [
        "database is locked",
        "connection",
        "terminating",
        "server closed",
        "shutting down",
    ]
    .iter()
    .any(|needle| message.contains(needle))
}

impl Store {
    /// Opens the pool for `url` (`sqlite://…` or `postgres://…`). SQLite files and
    /// their folder are created on first use.
    pub fn open(url: &str, pool_size: u32, busy_timeout: Duration) -> Result<Self, StoreError> {
        let manager = connection::Manager::new(url, busy_timeout)?;
        let backend = manager.backend();
        let pool = r2d2::Pool::builder()
            .max_size(pool_size + 1)
            .min_idle(Some(0))
            .connection_timeout(busy_timeout.max(Duration::from_millis(250)))
            .test_on_check_out(true)
            .error_handler(Box::new(r2d2::NopErrorHandler))
            .build_unchecked(manager);
        Ok(Store {
            pool,
            slots: Arc::new(Semaphore::new(pool_size as usize)),
            urgent: Arc::new(Semaphore::new(1)),
            backend,
            busy_timeout,
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Applies pending migrations; safe when several processes start at once.
    pub async fn migrate(&self) -> Result<usize, StoreError> {
        self.run(migrations::run_pending).await
    }

    /// Moves the schema to migration `target`, reverting newer ones (a rollback)
    /// or applying older pending ones.
    pub async fn migrate_to(&self, target: &str) -> Result<migrations::Moved, StoreError> {
        let target = target.to_string();
        self.run(move |c| migrations::migrate_to(c, &target)).await
    }

    /// True when the database answers and no migration is pending.
    pub async fn is_ready(&self) -> Result<bool, StoreError> {
        self.run(migrations::is_up_to_date).await
    }

    /// Runs synchronous diesel work on the blocking pool, never on an async thread.
    ///
    /// On SQLite a transaction that read before it wrote can find another writer
    /// got there first; SQLite then answers "database is locked" at once instead of
    /// waiting, and rolls the transaction back. The whole unit of work is then run
    /// again, for up to the busy timeout, which is why `work` is `Fn`.
    ///
    /// Work first waits for one of the pool's slots without a thread: with
    /// thousands of workflows in flight, waiting inside `spawn_blocking` parked a
    /// blocking thread per waiter (hundreds of threads, each with its stack and
    /// allocator arena). The wait for a slot is a queue, as the blocking pool's
    /// was: it has no deadline of its own; a caller with a slot whose connection
    /// cannot be had within the checkout timeout is told the database is
    /// unavailable.
    pub async fn run<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        F: Fn(&mut DbConn) -> Result<T, StoreError> + Send + 'static,
        T: Send + 'static,
    {
        self.run_as(work).await
    }

    /// [`Store::run`] for work with its own error type: whatever the type, a lock
    /// conflict inside it is retried like one from plain store work. Never wrap a
    /// fallible result as `Ok(result)` to pass it through [`Store::run`]: the
    /// conflict would then look like success and go unretried.
    pub async fn run_as<T, E, F>(&self, work: F) -> Result<T, E>
    where
        F: Fn(&mut DbConn) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: FromStore + Send + 'static,
    {
        self.run_in(&self.slots, work).await
    }

    /// [`Store::run`] on the connection kept aside: never queued behind other
    /// work, one such unit at a time. For lease renewal only.
    pub async fn run_urgent<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        F: Fn(&mut DbConn) -> Result<T, StoreError> + Send + 'static,
        T: Send + 'static,
    {
        self.run_in(&self.urgent, work).await
    }

    async fn run_in<T, E, F>(&self, slots: &Arc<Semaphore>, work: F) -> Result<T, E>
    where
        F: Fn(&mut DbConn) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: FromStore + Send + 'static,
    {
        let slot = slots
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| StoreError::Unavailable("the connection pool is closed".into()))?;
        let pool = self.pool.clone();
        let patience = self.busy_timeout;
        tokio::task::spawn_blocking(move || {
            let _slot = slot;
            let mut conn = pool
                .get()
                .map_err(|e| StoreError::Unavailable(e.to_string()))?;
            let started = std::time::Instant::now();
            let mut pause = Duration::from_millis(2);
            loop {
                match work(&mut conn) {
                    Err(error)
                        if error
                            .store_error()
                            .is_some_and(StoreError::is_lock_conflict)
                            && started.elapsed() < patience =>
                    {
                        std::thread::sleep(pause + Duration::from_micros(fastrand::u64(0..2000)));
                        pause = (pause * 2).min(Duration::from_millis(50));
                    }
                    result => return result,
                }
            }
        })
        .await
        .map_err(|e| E::from(StoreError::Unavailable(format!("database task ended: {e}"))))?
    }

    /// Connections in use and idle, for the pool gauges.
    pub fn pool_state(&self) -> (u32, u32) {
        let state = self.pool.state();
        (
            state.connections - state.idle_connections,
            state.idle_connections,
        )
    }
}

/// The current time, truncated to microseconds so both backends store it exactly.
pub fn now() -> chrono::NaiveDateTime {
    let now = chrono::Utc::now().naive_utc();
    chrono::DurationRound::duration_trunc(now, chrono::TimeDelta::microseconds(1)).unwrap_or(now)
}

#[cfg(test)]
mod tests {
    use diesel::prelude::*;
    use diesel::sql_types::Text;

    use super::*;

    #[derive(QueryableByName)]
    struct Pragma {
        #[diesel(sql_type = Text)]
        value: String,
    }

    #[tokio::test]
    async fn urgent_work_does_not_queue_behind_a_full_pool() {
        let dir = std::env::temp_dir().join(format!("sa-urgent-{}", uuid::Uuid::new_v4().simple()));
        let url = format!("sqlite://{}", dir.join("t.db").display());
        let store = Store::open(&url, 1, Duration::from_secs(5)).unwrap();
        let (held, release) = std::sync::mpsc::channel::<()>();
        let release = std::sync::Mutex::new(release);
        // The pool's one ordinary slot is taken until the urgent work is done.
        let busy = {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .run(move |_| {
                        release.lock().unwrap().recv().ok();
                        Ok(())
                    })
                    .await
            })
        };
        tokio::time::sleep(Duration::from_millis(100)).await;
        let urgent = tokio::time::timeout(Duration::from_secs(10), store.run_urgent(|_| Ok(7)))
            .await
            .expect("urgent work is not queued behind the busy slot");
        assert_eq!(urgent.unwrap(), 7);
        held.send(()).unwrap();
        busy.await.unwrap().unwrap();
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[tokio::test]
    async fn sqlite_runs_in_wal_mode_flushing_every_commit_with_a_busy_timeout_in_a_created_folder()
    {
        let dir = std::env::temp_dir().join(format!("sa-store-{}", uuid::Uuid::new_v4().simple()));
        let url = format!("sqlite://{}", dir.join("nested/db.sqlite").display());
        let store = Store::open(&url, 2, Duration::from_millis(1234)).unwrap();
        let (mode, timeout, synchronous) = store
            .run(|conn| {
                let DbConn::Sqlite(sqlite) = conn else {
                    panic!("sqlite URL gives a SQLite connection")
                };
                let mode =
                    diesel::sql_query("SELECT journal_mode AS value FROM pragma_journal_mode")
                        .get_result::<Pragma>(sqlite)?;
                let timeout = diesel::sql_query(
                    "SELECT CAST(timeout AS TEXT) AS value FROM pragma_busy_timeout",
                )
                .get_result::<Pragma>(sqlite)?;
                let synchronous = diesel::sql_query(
                    "SELECT CAST(synchronous AS TEXT) AS value FROM pragma_synchronous",
                )
                .get_result::<Pragma>(sqlite)?;
                Ok((mode.value, timeout.value, synchronous.value))
            })
            .await
            .unwrap();
        assert_eq!(mode, "wal");
        assert_eq!(timeout, "1234");
        assert_eq!(synchronous, "2", "FULL: the WAL is flushed at every commit");
        assert!(dir.join("nested/db.sqlite").exists());
        std::fs::remove_dir_all(dir).unwrap();
    }

    /// Threads of this process now (Linux).
    fn threads() -> usize {
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        let line = status.lines().find(|l| l.starts_with("Threads:")).unwrap();
        line["Threads:".len()..].trim().parse().unwrap()
    }

    /// 200 callers on a pool of two: they wait for a connection without a thread
    /// each, so the blocking threads stay near the pool's size instead of growing
    /// towards tokio's cap of 512.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn callers_waiting_for_a_connection_hold_no_thread() {
        let dir = std::env::temp_dir().join(format!("sa-store-{}", uuid::Uuid::new_v4().simple()));
        let url = format!("sqlite://{}", dir.join("db.sqlite").display());
        let store = Store::open(&url, 2, Duration::from_secs(30)).unwrap();
        let before = threads();
        let peak = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let callers = (0..200).map(|_| {
            let (store, peak) = (store.clone(), peak.clone());
            tokio::spawn(async move {
                store
                    .run(move |_| {
                        peak.fetch_max(threads(), std::sync::atomic::Ordering::Relaxed);
                        std::thread::sleep(Duration::from_millis(2));
                        Ok(())
                    })
                    .await
            })
        });
        for caller in futures_util::future::join_all(callers).await {
            caller.unwrap().unwrap();
        }
        let grown = peak.load(std::sync::atomic::Ordering::Relaxed) - before;
        assert!(
            grown <= 10,
            "{grown} threads more for 200 callers on 2 connections"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    /// A read-then-write transaction that meets another writer waits for it
    /// (SQLite's busy timeout applies to `BEGIN IMMEDIATE`) and then commits,
    /// where a deferred one would be refused with "database is locked"; inside
    /// an outer transaction it is a savepoint.
    #[test]
    fn a_write_transaction_waits_for_another_writer_and_nests() {
        use diesel::connection::SimpleConnection;
        use diesel::{Connection, SqliteConnection};

        let dir = std::env::temp_dir().join(format!("sa-store-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("db.sqlite").display().to_string();
        let mut first = SqliteConnection::establish(&path).unwrap();
        first
            .batch_execute("PRAGMA journal_mode = WAL; CREATE TABLE t (n INTEGER);")
            .unwrap();
        first
            .batch_execute("BEGIN IMMEDIATE; INSERT INTO t VALUES (1);")
            .unwrap();
        let second_path = path.clone();
        let second = std::thread::spawn(move || {
            let mut conn = DbConn::Sqlite(SqliteConnection::establish(&second_path).unwrap());
            conn.batch_execute("PRAGMA busy_timeout = 5000;").unwrap();
            conn.write_transaction(|c| {
                c.batch_execute("SELECT count(*) FROM t; INSERT INTO t VALUES (2);")?;
                // Nested: a savepoint inside the writer's transaction.
                c.write_transaction(|c| c.batch_execute("INSERT INTO t VALUES (3);"))
            })
        });
        std::thread::sleep(Duration::from_millis(300));
        first.batch_execute("COMMIT;").unwrap();
        second
            .join()
            .unwrap()
            .expect("the second writer waited, then committed");
        #[derive(QueryableByName)]
        struct Count {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let count = diesel::sql_query("SELECT count(*) AS n FROM t")
            .get_result::<Count>(&mut first)
            .unwrap();
        assert_eq!(count.n, 3);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn an_unknown_scheme_is_refused_naming_the_variable() {
        let err = Store::open("mysql://x", 1, Duration::from_secs(1))
            .err()
            .unwrap();
        assert!(err.to_string().contains("DATABASE_URL"), "{err}");
    }
}
