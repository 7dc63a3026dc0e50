//! The store's errors, classified by whose fault they are. Both backends' database errors
//! land here: SQLite's extended result codes and PostgreSQL's SQLSTATEs map to the same
//! variants, so callers never learn which database refused a write.

use brandpilot_core::{Fault, FaultKind};

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("unsupported database URL: {0}")]
    UnsupportedUrl(String),
    #[error("cannot create the database directory {path}: {source}")]
    CreateDir {
        path: String,
        source: std::io::Error,
    },
    /// A lock held elsewhere, a serialisation failure or a deadlock: trying again can work.
    #[error("the database is busy; try again")]
    Busy,
    /// The connection to the database server broke or the server is shutting down.
    #[error("the database is unavailable: {0}")]
    Unavailable(#[source] sqlx::Error),
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
    #[error("database migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// A unique constraint refused the write: the thing already exists. The message names
    /// the constraint's columns as `table.column` on both backends (callers match on it,
    /// e.g. `users.email`), never the values.
    #[error("already exists ({0})")]
    Conflict(String),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// Text the database cannot hold: PostgreSQL refuses the NUL character (SQLite keeps
    /// it). The input's fault; the inputs that reach the store are cleaned of it upstream.
    #[error("the text contains a character that cannot be stored (NUL)")]
    InvalidText,
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        let sqlx::Error::Database(db) = &error else {
            return StoreError::Database(error);
        };
        if let Some(pg) = db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>() {
            return match classify_postgres(pg) {
                PostgresClass::Busy => StoreError::Busy,
                PostgresClass::Conflict(message) => StoreError::Conflict(message),
                PostgresClass::Unavailable => StoreError::Unavailable(error),
                PostgresClass::InvalidText => StoreError::InvalidText,
                PostgresClass::Other => StoreError::Database(error),
            };
        }
        match db.code().as_deref() {
            // SQLITE_BUSY / SQLITE_LOCKED: another process holds the write lock past our
            // timeout.
            Some("5") | Some("6") | Some("517") => StoreError::Busy,
            // SQLITE_CONSTRAINT_UNIQUE / SQLITE_CONSTRAINT_PRIMARYKEY: the message is
            // "UNIQUE constraint failed: users.email".
            Some("2067") | Some("1555") => StoreError::Conflict(db.message().to_owned()),
            // Check and foreign-key violations (275, 787) stay database errors: the program
            // wrote something its own schema forbids.
            _ => StoreError::Database(error),
        }
    }
}

enum PostgresClass {
    Busy,
    Conflict(String),
    Unavailable,
    InvalidText,
    Other,
}

/// PostgreSQL's SQLSTATEs. Check (23514) and foreign-key (23503) violations stay plain
/// database errors, as on SQLite.
fn classify_postgres(error: &sqlx::postgres::PgDatabaseError) -> PostgresClass {
    match error.code() {
        // serialization_failure, deadlock_detected, lock_not_available: try again.
        "40001" | "40P01" | "55P03" => PostgresClass::Busy,
        "23505" => PostgresClass::Conflict(unique_violation_message(error)),
        // admin_shutdown, crash_shutdown, cannot_connect_now, and the connection class.
        "57P01" | "57P02" | "57P03" => PostgresClass::Unavailable,
        code if code.starts_with("08") => PostgresClass::Unavailable,
        // character_not_in_repertoire (NUL in text), untranslatable_character (\u0000 in
        // JSON).
        "22021" | "22P05" => PostgresClass::InvalidText,
        _ => PostgresClass::Other,
    }
}

/// "UNIQUE constraint failed: brands.workspace_id, brands.name", as SQLite words it: the
/// table from the error's fields and the columns from its detail
/// (`Key (workspace_id, name)=(1, Acme) already exists.`), without the values. An index on
/// an expression has no column list to show; its name stands in.
fn unique_violation_message(error: &sqlx::postgres::PgDatabaseError) -> String {
    let table = error.table().unwrap_or("?");
    let columns = error
        .detail()
        .and_then(|detail| detail.strip_prefix("Key ("))
        .and_then(|rest| rest.split_once(")=(").map(|(columns, _)| columns))
        .filter(|columns| !columns.contains('('));
    match columns {
        Some(columns) => {
            let named: Vec<String> = columns
                .split(", ")
                .map(|column| format!("{table}.{}", column.trim_matches('"')))
                .collect();
            format!("UNIQUE constraint failed: {}", named.join(", "))
        }
        None => format!(
            "UNIQUE constraint failed: {table} ({})",
            error.constraint().unwrap_or("?")
        ),
    }
}

impl Fault for StoreError {
    fn fault(&self) -> FaultKind {
        match self {
            StoreError::UnsupportedUrl(_) => FaultKind::User,
            StoreError::CreateDir { .. } => FaultKind::User,
            StoreError::Busy => FaultKind::Transient,
            StoreError::Unavailable(_) => FaultKind::Transient,
            StoreError::Conflict(_) => FaultKind::User,
            StoreError::Database(sqlx::Error::PoolTimedOut | sqlx::Error::Io(_)) => {
                FaultKind::Transient
            }
            StoreError::Database(_) => FaultKind::Bug,
            StoreError::Migration(_) => FaultKind::Bug,
            StoreError::Corrupt(_) => FaultKind::Bug,
            StoreError::InvalidText => FaultKind::User,
        }
    }
}
