//! `sales-agent copy --to postgres://…`: moving a SQLite database to PostgreSQL.
//!
//! The target must be a new, empty database: it is migrated to this build's schema
//! first, so both sides have the same tables and columns, and then every table is
//! copied inside one PostgreSQL transaction (all or nothing), parents before the
//! tables that reference them. Rows travel as JSON: SQLite's `json_object` writes
//! each row and PostgreSQL's `json_populate_recordset` reads it back through the
//! column types' own input functions, so booleans, times and numbers need no
//! hand-written conversion (blobs go as `\x` hex, bytea's input form). Columns
//! PostgreSQL computes itself (the search keys) are left to it, and sequences are
//! moved past the copied ids. The source is read in one read transaction, a
//! consistent snapshot; stop the service first so nothing arrives after it.

use std::collections::{BTreeMap, BTreeSet};

use diesel::connection::SimpleConnection;
use diesel::sql_types::{BigInt, Text};
use diesel::{Connection, PgConnection, QueryableByName, RunQueryDsl, SqliteConnection};

use super::{Backend, Store, StoreError};

/// Rows per INSERT: large enough to be quick, small enough for any row size.
const BATCH: i64 = 500;

#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    #[error("the source must be a SQLite database (DATABASE_URL is {0})")]
    SourceNotSqlite(String),
    #[error("the target must be a PostgreSQL URL (postgres://…)")]
    TargetNotPostgres,
    #[error("the target database is not empty: copy into a new, empty database")]
    TargetNotEmpty,
    #[error("the source database has migrations pending: run `sales-agent migrate` on it first")]
    SourceNotMigrated,
    #[error(
        "table {table}: the source's columns {source_only:?} are not in the target, or the target's {target_only:?} not in the source"
    )]
    ColumnsDiffer {
        table: String,
        source_only: Vec<String>,
        target_only: Vec<String>,
    },
    #[error("the source has table {0}, which this build's schema does not know")]
    UnknownTable(String),
    #[error("table {table}: copied {copied} rows of {expected}")]
    Short {
        table: String,
        copied: i64,
        expected: i64,
    },
    #[error("{0}")]
    Database(#[from] diesel::result::Error),
    #[error("{0}")]
    Connect(#[from] diesel::ConnectionError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Rows copied, by table.
pub type CopyReport = BTreeMap<String, i64>;

/// Copies the SQLite database at `from` into the new PostgreSQL database at `to`.
pub async fn copy(from: &str, to: &str) -> Result<CopyReport, CopyError> {
    let source = Store::open(from, 1, std::time::Duration::from_secs(5))?;
    if source.backend() != Backend::Sqlite {
        return Err(CopyError::SourceNotSqlite(super::backup::redacted(from)));
    }
    if !to.starts_with("postgres://") && !to.starts_with("postgresql://") {
        return Err(CopyError::TargetNotPostgres);
    }
    if !source.is_ready().await? {
        return Err(CopyError::SourceNotMigrated);
    }
    let target = Store::open(to, 1, std::time::Duration::from_secs(5))?;
    if target.run(super::backup::count_tables).await? > 0 {
        return Err(CopyError::TargetNotEmpty);
    }
    target.migrate().await?;
    let path = super::backup::sqlite_path(from)
        .expect("a SQLite store has a path")
        .to_string_lossy()
        .into_owned();
    let to = to.to_string();
    tokio::task::spawn_blocking(move || {
        let mut src = SqliteConnection::establish(&path)?;
        let mut dst = PgConnection::establish(&to)?;
        copy_all(&mut src, &mut dst)
    })
    .await
    .map_err(|e| StoreError::Unavailable(e.to_string()))?
}

fn copy_all(src: &mut SqliteConnection, dst: &mut PgConnection) -> Result<CopyReport, CopyError> {
    src.batch_execute("BEGIN")?;
    let copied = dst.transaction(|dst| {
        let order = tables_in_dependency_order(dst)?;
        let known: BTreeSet<&String> = order.iter().collect();
        for table in sqlite_tables(src)? {
            if !known.contains(&table) {
                return Err(CopyError::UnknownTable(table));
            }
        }
        // Only rows the migrations seeded are here (the target was empty).
        for table in order.iter().rev() {
            diesel::sql_query(format!("DELETE FROM {}", quoted(table))).execute(dst)?;
        }
        let mut report = CopyReport::new();
        for table in &order {
            report.insert(table.clone(), copy_table(src, dst, table)?);
        }
        Ok::<_, CopyError>(report)
    });
    src.batch_execute("COMMIT")?;
    copied
}

fn copy_table(
    src: &mut SqliteConnection,
    dst: &mut PgConnection,
    table: &str,
) -> Result<i64, CopyError> {
    let target = pg_columns(dst, table)?;
    let source = sqlite_columns(src, table)?;
    let (source_names, target_names): (BTreeSet<&String>, BTreeSet<&String>) =
        (source.iter().collect(), target.keys().collect());
    if source_names != target_names {
        return Err(CopyError::ColumnsDiffer {
            table: table.to_string(),
            source_only: source_names
                .difference(&target_names)
                .map(|c| c.to_string())
                .collect(),
            target_only: target_names
                .difference(&source_names)
                .map(|c| c.to_string())
                .collect(),
        });
    }
    let fields: Vec<String> = source
        .iter()
        .map(|c| {
            let value = match target[c].as_str() {
                "bytea" => format!(
                    "CASE WHEN {q} IS NULL THEN NULL ELSE '\\x' || hex({q}) END",
                    q = quoted(c)
                ),
                "json" | "jsonb" => format!("json({})", quoted(c)),
                _ => quoted(c),
            };
            format!("'{}', {value}", c.replace('\'', "''"))
        })
        .collect();
    let read = format!(
        "SELECT rowid AS n, json_object({}) AS doc FROM {} WHERE rowid > ? ORDER BY rowid LIMIT {BATCH}",
        fields.join(", "),
        quoted(table)
    );
    let columns = source
        .iter()
        .map(|c| quoted(c))
        .collect::<Vec<_>>()
        .join(", ");
    let write = format!(
        "INSERT INTO {t} ({columns}) SELECT {columns} FROM json_populate_recordset(NULL::{t}, $1::json)",
        t = quoted(table)
    );
    let (mut after, mut copied) = (i64::MIN, 0i64);
    loop {
        let rows: Vec<RowDoc> = diesel::sql_query(&read)
            .bind::<BigInt, _>(after)
            .load(src)?;
        let Some(last) = rows.last() else { break };
        after = last.n;
        let docs: Vec<serde_json::Value> = rows
            .iter()
            .map(|r| serde_json::from_str(&r.doc).map_err(|e| StoreError::Corrupt(e.to_string())))
            .collect::<Result<_, _>>()?;
        copied += diesel::sql_query(&write)
            .bind::<Text, _>(serde_json::Value::Array(docs).to_string())
            .execute(dst)? as i64;
    }
    let expected = count(src, table)?;
    if copied != expected {
        return Err(CopyError::Short {
            table: table.to_string(),
            copied,
            expected,
        });
    }
    for column in target.keys() {
        if !is_serial(dst, table, column) {
            continue;
        }
        diesel::sql_query(format!(
            "SELECT setval(pg_get_serial_sequence($1, $2), COALESCE(max({c}), 0) + 1, false) FROM {t}",
            c = quoted(column),
            t = quoted(table)
        ))
        .bind::<Text, _>(quoted(table))
        .bind::<Text, _>(column)
        .execute(dst)?;
    }
    Ok(copied)
}

#[derive(QueryableByName)]
struct RowDoc {
    #[diesel(sql_type = BigInt)]
    n: i64,
    #[diesel(sql_type = Text)]
    doc: String,
}

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    name: String,
}

#[derive(QueryableByName)]
struct Column {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    data_type: String,
}

#[derive(QueryableByName)]
struct Edge {
    #[diesel(sql_type = Text)]
    child: String,
    #[diesel(sql_type = Text)]
    parent: String,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// The source's tables, without SQLite's and the migrations' own.
fn sqlite_tables(src: &mut SqliteConnection) -> Result<Vec<String>, CopyError> {
    let names: Vec<Name> = diesel::sql_query(
        "SELECT name FROM sqlite_master WHERE type = 'table' \
         AND name NOT LIKE 'sqlite_%' AND name <> '__diesel_schema_migrations' ORDER BY name",
    )
    .load(src)?;
    Ok(names.into_iter().map(|n| n.name).collect())
}

/// A table's stored columns (computed ones left out), in their order.
fn sqlite_columns(src: &mut SqliteConnection, table: &str) -> Result<Vec<String>, CopyError> {
    let names: Vec<Name> =
        diesel::sql_query("SELECT name FROM pragma_table_xinfo(?) WHERE hidden = 0 ORDER BY cid")
            .bind::<Text, _>(table)
            .load(src)?;
    Ok(names.into_iter().map(|n| n.name).collect())
}

/// A table's stored columns (generated ones left out) with their types.
fn pg_columns(dst: &mut PgConnection, table: &str) -> Result<BTreeMap<String, String>, CopyError> {
    let columns: Vec<Column> = diesel::sql_query(
        "SELECT column_name::text AS name, data_type::text AS data_type \
         FROM information_schema.columns \
         WHERE table_schema = 'public' AND table_name = $1 AND is_generated = 'NEVER'",
    )
    .bind::<Text, _>(table)
    .load(dst)?;
    Ok(columns.into_iter().map(|c| (c.name, c.data_type)).collect())
}

fn is_serial(dst: &mut PgConnection, table: &str, column: &str) -> bool {
    #[derive(QueryableByName)]
    struct Seq {
        #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
        seq: Option<String>,
    }
    diesel::sql_query("SELECT pg_get_serial_sequence($1, $2)::text AS seq")
        .bind::<Text, _>(quoted(table))
        .bind::<Text, _>(column)
        .get_result::<Seq>(dst)
        .is_ok_and(|s| s.seq.is_some())
}

/// The target's tables, each after every table it references.
fn tables_in_dependency_order(dst: &mut PgConnection) -> Result<Vec<String>, CopyError> {
    let names: Vec<Name> = diesel::sql_query(
        "SELECT table_name::text AS name FROM information_schema.tables \
         WHERE table_schema = 'public' AND table_type = 'BASE TABLE' \
         AND table_name <> '__diesel_schema_migrations' ORDER BY table_name",
    )
    .load(dst)?;
    let edges: Vec<Edge> = diesel::sql_query(
        "SELECT conrelid::regclass::text AS child, confrelid::regclass::text AS parent \
         FROM pg_constraint WHERE contype = 'f' AND connamespace = 'public'::regnamespace",
    )
    .load(dst)?;
    let mut parents: BTreeMap<String, BTreeSet<String>> = names
        .into_iter()
        .map(|n| (n.name, BTreeSet::new()))
        .collect();
    for e in edges {
        let (child, parent) = (unquoted(&e.child), unquoted(&e.parent));
        if child != parent {
            parents.entry(child).or_default().insert(parent);
        }
    }
    let mut order = Vec::new();
    while !parents.is_empty() {
        let ready: Vec<String> = parents
            .iter()
            .filter(|(_, p)| p.iter().all(|p| !parents.contains_key(p)))
            .map(|(t, _)| t.clone())
            .collect();
        let ready = if ready.is_empty() {
            // A cycle (none today): the rest in name order; the transaction
            // fails on a reference and nothing is copied.
            parents.keys().cloned().collect()
        } else {
            ready
        };
        for table in ready {
            parents.remove(&table);
            order.push(table);
        }
    }
    Ok(order)
}

fn count(src: &mut SqliteConnection, table: &str) -> Result<i64, CopyError> {
    let n: Count = diesel::sql_query(format!("SELECT count(*) AS n FROM {}", quoted(table)))
        .get_result(src)?;
    Ok(n.n)
}

/// An identifier quoted for SQL (both backends use double quotes).
fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `regclass` text quotes only names that need it.
fn unquoted(name: &str) -> String {
    name.trim_matches('"').replace("\"\"", "\"")
}
