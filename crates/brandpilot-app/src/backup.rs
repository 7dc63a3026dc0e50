//! `brandpilot backup` / `restore` for the embedded store.
//!
//! A backup is a zip holding `manifest.json` and `brandpilot.db`, a consistent snapshot of
//! the SQLite database taken with `VACUUM INTO` — so it can be taken while a server keeps
//! serving and writing. The search indexes are not in it: they are projections of the store
//! (embeddings included, in its embedding cache), so a restore rebuilds them from the
//! restored database without calling the embedder, and a backup can never hold an index that
//! disagrees with its store. Restoring checks the archive's hash before replacing anything,
//! and refuses a data directory that already has a database unless forced, or whose indexes
//! a running process holds.

use crate::{AppError, Result, Settings};
use brandpilot_store::Store;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

const FORMAT: u32 = 1;
const MANIFEST: &str = "manifest.json";
const DATABASE: &str = "brandpilot.db";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BackupManifest {
    pub format: u32,
    pub created_at_ms: i64,
    pub brandpilot_version: String,
    pub chunks: u64,
    /// SHA-256 of `brandpilot.db`, hex.
    pub database_sha256: String,
}

/// The database file the settings use; an error for a database that is not SQLite.
fn database_file(settings: &Settings) -> Result<PathBuf> {
    let url = settings.database_url();
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Err(AppError::InvalidInput(
            "backup and restore cover the embedded SQLite store; back up PostgreSQL with \
             pg_dump and pg_restore"
                .into(),
        ));
    }
    Ok(PathBuf::from(brandpilot_store::sqlite::database_path(&url)))
}

fn io(context: &str) -> impl FnOnce(std::io::Error) -> AppError + '_ {
    move |source| AppError::Io {
        context: context.to_owned(),
        source,
    }
}

/// Writes a backup of the store to `destination` (replaced atomically when it exists).
pub async fn backup(settings: &Settings, destination: &Path) -> Result<BackupManifest> {
    database_file(settings)?;
    let store = Store::open(&settings.database_url()).await?;
    let snapshot = sibling(destination, "snapshot-db");
    let _ = fs_err::remove_file(&snapshot);
    let taken = store.snapshot_into(&snapshot).await;
    store.close().await;
    taken?;
    let result = async {
        // Counted from the snapshot itself, not the live store that has moved on since.
        let copy = Store::open(&format!("sqlite://{}", snapshot.display())).await?;
        let chunks = copy.count_chunks().await;
        copy.close().await;
        let manifest = BackupManifest {
            format: FORMAT,
            created_at_ms: crate::llm_calls::now_ms(),
            brandpilot_version: env!("CARGO_PKG_VERSION").to_owned(),
            chunks: chunks?,
            database_sha256: String::new(),
        };
        let (snapshot, destination) = (snapshot.clone(), destination.to_owned());
        crate::blocking(move || write_archive(&snapshot, &destination, manifest)).await
    }
    .await;
    for leftover in ["", "-wal", "-shm", ".migrate-lock"] {
        let _ = std::fs::remove_file(format!("{}{leftover}", snapshot.display()));
    }
    result
}

fn write_archive(
    snapshot: &Path,
    destination: &Path,
    mut manifest: BackupManifest,
) -> Result<BackupManifest> {
    let mut hasher = Sha256::new();
    let mut file = fs_err::File::open(snapshot).map_err(io("cannot read the snapshot"))?;
    std::io::copy(&mut file, &mut hasher).map_err(io("cannot read the snapshot"))?;
    manifest.database_sha256 = hex::encode(hasher.finalize());

    let partial = sibling(destination, "partial");
    let out = fs_err::File::create(&partial).map_err(io("cannot create the backup file"))?;
    let mut zip = zip::ZipWriter::new(out);
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(true);
    let failed = |e: zip::result::ZipError| AppError::Task(format!("writing the backup: {e}"));
    zip.start_file(MANIFEST, options).map_err(failed)?;
    let json = serde_json::to_vec_pretty(&manifest).map_err(|e| AppError::Task(e.to_string()))?;
    zip.write_all(&json)
        .map_err(io("cannot write the backup file"))?;
    zip.start_file(DATABASE, options).map_err(failed)?;
    let mut file = fs_err::File::open(snapshot).map_err(io("cannot read the snapshot"))?;
    std::io::copy(&mut file, &mut zip).map_err(io("cannot write the backup file"))?;
    let out = zip.finish().map_err(failed)?;
    out.sync_all().map_err(io("cannot write the backup file"))?;
    fs_err::rename(&partial, destination).map_err(io("cannot write the backup file"))?;
    Ok(manifest)
}

/// Replaces the settings' database with the one in `archive` and removes the indexes, which
/// the caller rebuilds (`Brandpilot::reindex`). Nothing is replaced unless the archive is
/// whole and the data directory may be overwritten.
pub async fn restore(settings: &Settings, archive: &Path, force: bool) -> Result<BackupManifest> {
    let database = database_file(settings)?;
    if database.exists() && !force {
        return Err(AppError::Conflict(format!(
            "{} already holds a database; restore into an empty data directory, or pass \
             --force to replace it",
            settings.data_dir.display()
        )));
    }
    let index_dir = settings.index_dir();
    let bm25_dir = index_dir.join("bm25");
    let (archive, settings_dir) = (archive.to_owned(), settings.data_dir.clone());
    let manifest = crate::blocking(move || {
        if bm25_dir.exists() {
            // Fails with "in use by another Brandpilot process" while a server runs here.
            drop(brandpilot_index::Bm25Index::open(&bm25_dir)?);
        }
        fs_err::create_dir_all(&settings_dir).map_err(io("cannot create the data directory"))?;
        unpack(&archive, &database)
    })
    .await?;
    if index_dir.exists() {
        fs_err::remove_dir_all(&index_dir).map_err(io("cannot remove the old indexes"))?;
    }
    Ok(manifest)
}

fn unpack(archive: &Path, database: &Path) -> Result<BackupManifest> {
    let invalid = |why: String| AppError::InvalidInput(format!("not a Brandpilot backup: {why}"));
    let file = fs_err::File::open(archive).map_err(io("cannot open the backup"))?;
    let mut zip = zip::ZipArchive::new(file).map_err(|e| invalid(e.to_string()))?;
    let manifest: BackupManifest = {
        let mut entry = zip
            .by_name(MANIFEST)
            .map_err(|_| invalid(format!("{MANIFEST} is missing")))?;
        let mut text = Vec::new();
        entry
            .by_ref()
            .take(1 << 20)
            .read_to_end(&mut text)
            .map_err(|e| invalid(e.to_string()))?;
        serde_json::from_slice(&text).map_err(|e| invalid(format!("{MANIFEST}: {e}")))?
    };
    if manifest.format != FORMAT {
        return Err(invalid(format!(
            "format {} (this version reads format {FORMAT})",
            manifest.format
        )));
    }
    let partial = sibling(database, "restore-partial");
    let mut entry = zip
        .by_name(DATABASE)
        .map_err(|_| invalid(format!("{DATABASE} is missing")))?;
    let mut hasher = Sha256::new();
    let copied = (|| {
        let mut out = fs_err::File::create(&partial)?;
        let mut tee = TeeWriter {
            file: &mut out,
            hasher: &mut hasher,
        };
        std::io::copy(&mut entry, &mut tee)?;
        out.sync_all()
    })();
    if let Err(error) = copied {
        let _ = fs_err::remove_file(&partial);
        return Err(invalid(format!("{DATABASE} cannot be read: {error}")));
    }
    if hex::encode(hasher.finalize()) != manifest.database_sha256 {
        let _ = fs_err::remove_file(&partial);
        return Err(invalid(
            "the database does not match the manifest's hash (a damaged file?)".into(),
        ));
    }
    for stale in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{stale}", database.display()));
    }
    fs_err::rename(&partial, database).map_err(io("cannot put the restored database in place"))?;
    Ok(manifest)
}

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_owned();
    name.push(format!(".{suffix}"));
    path.with_file_name(name)
}

struct TeeWriter<'a> {
    file: &'a mut fs_err::File,
    hasher: &'a mut Sha256,
}

impl Write for TeeWriter<'_> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let written = self.file.write(bytes)?;
        self.hasher.update(&bytes[..written]);
        Ok(written)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}
