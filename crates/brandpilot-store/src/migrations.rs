//! Migrations embedded at compile time, one list per backend. Listed by hand instead of
//! `sqlx::migrate!`: that macro needs sqlx's `macros` feature, which builds SQLite and the
//! PostgreSQL driver a second time inside the proc-macro. Each backend has a test checking
//! that every file of its `migrations/<backend>/` directory is listed.

use sqlx::migrate::Migrator;

/// A migration: version, description and SQL text.
pub(crate) type MigrationFile = (i64, &'static str, &'static str);

/// The migrator with the migrations of `list` up to `version` (tests build old databases
/// with a lower one).
pub(crate) fn migrator_up_to(list: &'static [MigrationFile], version: i64) -> Migrator {
    use sqlx::SqlSafeStr;
    use sqlx::migrate::{Migration, MigrationType};
    Migrator::with_migrations(
        list.iter()
            .filter(|(v, _, _)| *v <= version)
            .map(|(version, description, sql)| {
                Migration::new(
                    *version,
                    std::borrow::Cow::Borrowed(*description),
                    MigrationType::Simple,
                    sql.into_sql_str(),
                    false,
                )
            })
            .collect(),
    )
}

/// Checks that `list` names every `.sql` file of `migrations/<backend>/`, in order, with its
/// text: a file added to the directory but not to the list would never run.
#[cfg(test)]
pub(crate) fn assert_lists_every_file(backend: &str, list: &[MigrationFile]) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(backend);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "sql"))
        .collect();
    files.sort();
    assert_eq!(files.len(), list.len(), "{files:?}");
    for (file, (version, description, sql)) in files.iter().zip(list) {
        let name = file.file_stem().unwrap().to_str().unwrap();
        assert_eq!(name, format!("{version:04}_{description}"));
        assert_eq!(std::fs::read_to_string(file).unwrap(), *sql);
    }
}
