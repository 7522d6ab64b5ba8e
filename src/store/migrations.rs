//! Embedded migrations, one set per backend, applied under a lock so that several
//! processes starting at once do not race each other; moved to a named version
//! for a rollback (`sales-agent migrate --to`); and refused when the database was
//! migrated by a newer build, whose schema this one does not know.

use diesel::backend::Backend;
use diesel::connection::SimpleConnection;
use diesel::migration::MigrationSource;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use super::{DbConn, StoreError};

const POSTGRES: EmbeddedMigrations = embed_migrations!("migrations/postgres");
const SQLITE: EmbeddedMigrations = embed_migrations!("migrations/sqlite");

/// A backend's migrations, made on each use (the harness consumes its source).
type Source = fn() -> EmbeddedMigrations;

/// Arbitrary, fixed key of the PostgreSQL advisory lock held while migrating.
const PG_MIGRATION_LOCK: i64 = 0x5a1e_5a6e;

type HarnessError = Box<dyn std::error::Error + Send + Sync>;

fn failed(e: HarnessError) -> StoreError {
    StoreError::Migration(e.to_string())
}

/// Runs `work` on the backend's own connection and migrations, holding the lock
/// that keeps a second migrating process out (PostgreSQL: an advisory lock;
/// SQLite: an exclusive transaction, so a second process waits, then finds the work done).
macro_rules! locked {
    ($conn:expr, |$harness:ident, $source:ident| $work:expr) => {
        match $conn {
            DbConn::Postgres(pg) => {
                pg.batch_execute(&format!("SELECT pg_advisory_lock({PG_MIGRATION_LOCK})"))?;
                // A closure, so that an early return inside `$work` still unlocks.
                let mut work = || {
                    let ($harness, $source): (_, Source) = (&mut *pg, || POSTGRES);
                    $work
                };
                let done = work();
                pg.batch_execute(&format!("SELECT pg_advisory_unlock({PG_MIGRATION_LOCK})"))?;
                done
            }
            DbConn::Sqlite(sqlite) => sqlite.exclusive_transaction(|c| {
                let ($harness, $source): (_, Source) = (c, || SQLITE);
                $work
            }),
        }
    };
}

/// Applies pending migrations and returns how many ran; refuses a database that a
/// newer build migrated.
pub(super) fn run_pending(conn: &mut DbConn) -> Result<usize, StoreError> {
    locked!(conn, |harness, source| {
        refuse_newer(harness, source)?;
        harness
            .run_pending_migrations(source())
            .map(|v| v.len())
            .map_err(failed)
    })
}

/// What [`migrate_to`] did: the migrations reverted (newest first) and applied.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Moved {
    pub reverted: Vec<String>,
    pub applied: Vec<String>,
}

/// Moves the schema to `target` (a version such as `20261203000009`, the
/// migration's directory name, or `0` for none at all): reverts every applied
/// migration after it, newest first, and applies every pending one up to it.
pub(super) fn migrate_to(conn: &mut DbConn, target: &str) -> Result<Moved, StoreError> {
    let target = version_of(target);
    locked!(conn, |harness, source| move_to(harness, source, &target))
}

/// The version digits of a migration's name or version (`2026-12-03-000009_x` →
/// `20261203000009`).
fn version_of(name: &str) -> String {
    name.split('_')
        .next()
        .unwrap_or_default()
        .chars()
        .filter(char::is_ascii_digit)
        .collect()
}

/// The versions this build embeds, oldest first.
fn known<DB: Backend>(source: Source) -> Result<Vec<String>, StoreError>
where
    EmbeddedMigrations: MigrationSource<DB>,
{
    let mut versions: Vec<String> = MigrationSource::<DB>::migrations(&source())
        .map_err(failed)?
        .iter()
        .map(|m| m.name().version().to_string())
        .collect();
    versions.sort();
    Ok(versions)
}

/// Applied versions, newest first.
fn applied<DB: Backend>(
    harness: &mut impl MigrationHarness<DB>,
) -> Result<Vec<String>, StoreError> {
    let mut versions: Vec<String> = harness
        .applied_migrations()
        .map_err(failed)?
        .iter()
        .map(ToString::to_string)
        .collect();
    versions.sort_by(|a, b| b.cmp(a));
    Ok(versions)
}

fn refuse_newer<DB: Backend>(
    harness: &mut impl MigrationHarness<DB>,
    source: Source,
) -> Result<(), StoreError>
where
    EmbeddedMigrations: MigrationSource<DB>,
{
    let known = known::<DB>(source)?;
    let unknown: Vec<String> = applied(harness)?
        .into_iter()
        .filter(|v| !known.contains(v))
        .collect();
    if unknown.is_empty() {
        return Ok(());
    }
    Err(StoreError::SchemaNewer {
        unknown: unknown.join(", "),
        latest: known.last().cloned().unwrap_or_default(),
    })
}

fn move_to<DB: Backend>(
    harness: &mut impl MigrationHarness<DB>,
    source: Source,
    target: &str,
) -> Result<Moved, StoreError>
where
    EmbeddedMigrations: MigrationSource<DB>,
{
    let known = known::<DB>(source)?;
    // "0" names the empty schema, before the first migration.
    if target != "0" && !known.iter().any(|v| v == target) {
        return Err(StoreError::Migration(format!(
            "no migration {target:?} in this build; its versions are {}",
            known.join(", ")
        )));
    }
    refuse_newer(harness, source)?;
    let mut moved = Moved::default();
    while let Some(newest) = applied(harness)?.into_iter().next()
        && newest.as_str() > target
    {
        harness.revert_last_migration(source()).map_err(failed)?;
        moved.reverted.push(newest);
    }
    for migration in harness.pending_migrations(source()).map_err(failed)? {
        let version = migration.name().version().to_string();
        if version.as_str() > target {
            break;
        }
        harness.run_migration(&*migration).map_err(failed)?;
        moved.applied.push(version);
    }
    Ok(moved)
}

/// True when every embedded migration has been applied.
pub(super) fn is_up_to_date(conn: &mut DbConn) -> Result<bool, StoreError> {
    let pending = match conn {
        DbConn::Postgres(pg) => pg.has_pending_migration(POSTGRES),
        DbConn::Sqlite(sqlite) => sqlite.has_pending_migration(SQLITE),
    };
    pending
        .map(|p| !p)
        .map_err(|e| StoreError::Unavailable(e.to_string()))
}
