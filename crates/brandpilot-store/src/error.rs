//! The store's errors, classified by whose fault they are.

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
    #[error("the database is busy; try again")]
    Busy,
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
    #[error("database migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// A unique constraint refused the write: the thing already exists.
    #[error("already exists ({0})")]
    Conflict(String),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        // SQLITE_BUSY / SQLITE_LOCKED: another process holds the write lock past our timeout.
        if let sqlx::Error::Database(db) = &error
            && matches!(db.code().as_deref(), Some("5") | Some("6") | Some("517"))
        {
            return StoreError::Busy;
        }
        // SQLITE_CONSTRAINT_UNIQUE / SQLITE_CONSTRAINT_PRIMARYKEY.
        if let sqlx::Error::Database(db) = &error
            && matches!(db.code().as_deref(), Some("2067") | Some("1555"))
        {
            return StoreError::Conflict(db.message().to_owned());
        }
        StoreError::Database(error)
    }
}

impl Fault for StoreError {
    fn fault(&self) -> FaultKind {
        match self {
            StoreError::UnsupportedUrl(_) => FaultKind::User,
            StoreError::CreateDir { .. } => FaultKind::User,
            StoreError::Busy => FaultKind::Transient,
            StoreError::Conflict(_) => FaultKind::User,
            StoreError::Database(sqlx::Error::PoolTimedOut | sqlx::Error::Io(_)) => {
                FaultKind::Transient
            }
            StoreError::Database(_) => FaultKind::Bug,
            StoreError::Migration(_) => FaultKind::Bug,
            StoreError::Corrupt(_) => FaultKind::Bug,
        }
    }
}
