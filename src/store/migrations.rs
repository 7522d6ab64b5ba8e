//! Embedded migrations, one set per backend, applied under a lock so that several
//! processes starting at once do not race each other.

use diesel::connection::SimpleConnection;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use super::{DbConn, StoreError};

const POSTGRES: EmbeddedMigrations = embed_migrations!("migrations/postgres");
const SQLITE: EmbeddedMigrations = embed_migrations!("migrations/sqlite");

/// Arbitrary, fixed key of the PostgreSQL advisory lock held while migrating.
const PG_MIGRATION_LOCK: i64 = 0x5a1e_5a6e;

/// Applies pending migrations and returns how many ran.
pub(super) fn run_pending(conn: &mut DbConn) -> Result<usize, StoreError> {
    let failed = |e: Box<dyn std::error::Error + Send + Sync>| StoreError::Migration(e.to_string());
    match conn {
        DbConn::Postgres(pg) => {
            pg.batch_execute(&format!("SELECT pg_advisory_lock({PG_MIGRATION_LOCK})"))?;
            let applied = pg
                .run_pending_migrations(POSTGRES)
                .map(|v| v.len())
                .map_err(failed);
            pg.batch_execute(&format!("SELECT pg_advisory_unlock({PG_MIGRATION_LOCK})"))?;
            applied
        }
        // An exclusive transaction makes a second process wait, then find nothing pending.
        DbConn::Sqlite(sqlite) => sqlite.exclusive_transaction(|c| {
            c.run_pending_migrations(SQLITE)
                .map(|v| v.len())
                .map_err(failed)
        }),
    }
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
