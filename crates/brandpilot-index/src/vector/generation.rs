//! Crash-safe persistence of the vector index as numbered generations.
//!
//! Layout of the index directory:
//! ```text
//! CURRENT                  manifest naming the live generation and its files' sizes
//! gen-0000000000000007/    one complete generation: vectors.usearch, catalog.json
//! ```
//! A save writes the next generation into `gen-….partial`, fsyncs every file and the
//! directory, renames it to `gen-…`, and only then replaces CURRENT by writing CURRENT.tmp,
//! fsyncing it and renaming it over CURRENT. Renames are atomic, so a crash at any point
//! leaves CURRENT naming either the old generation or the new, complete one. Whatever else
//! is found on open (partial directories, unreferenced generations, CURRENT.tmp) is debris
//! of an interrupted save and is deleted.
//!
//! This module must never modify or delete the generation CURRENT names, and must never
//! write CURRENT before the generation it names is durable.

use crate::{IndexError, Result, Watermark};
use fs_err as fs;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

const MANIFEST: &str = "CURRENT";
const MANIFEST_STAGING: &str = "CURRENT.tmp";
const GENERATION_PREFIX: &str = "gen-";
const PARTIAL_SUFFIX: &str = ".partial";
pub(crate) const VECTORS_FILE: &str = "vectors.usearch";
pub(crate) const CATALOG_FILE: &str = "catalog.json";

/// The content of CURRENT. File sizes let open reject a generation whose files were
/// truncated behind our back (a restored backup, a full disk during a copy).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct Manifest {
    pub generation: u64,
    pub dimensions: usize,
    pub watermark: Watermark,
    pub vectors_bytes: u64,
    pub catalog_bytes: u64,
}

pub(crate) fn generation_dir(dir: &Path, generation: u64) -> PathBuf {
    dir.join(format!("{GENERATION_PREFIX}{generation:016}"))
}

/// The directory a save writes the next generation into before it is complete.
pub(crate) fn staging_dir(dir: &Path, generation: u64) -> Result<PathBuf> {
    let staging = dir.join(format!(
        "{GENERATION_PREFIX}{generation:016}{PARTIAL_SUFFIX}"
    ));
    if staging.exists() {
        fs::remove_dir_all(&staging)?;
    }
    fs::create_dir_all(&staging)?;
    Ok(staging)
}

/// Reads CURRENT; `None` for a directory that was never saved to.
pub(crate) fn read_manifest(dir: &Path) -> Result<Option<Manifest>> {
    let path = dir.join(MANIFEST);
    if !path.exists() {
        return Ok(None);
    }
    let text = fs::read_to_string(&path)?;
    let manifest: Manifest = serde_json::from_str(&text)
        .map_err(|error| corrupt(dir, format!("{MANIFEST}: {error}")))?;
    let generation = generation_dir(dir, manifest.generation);
    for (file, expected) in [
        (VECTORS_FILE, manifest.vectors_bytes),
        (CATALOG_FILE, manifest.catalog_bytes),
    ] {
        let actual = fs::metadata(generation.join(file))?.len();
        if actual != expected {
            return Err(corrupt(
                dir,
                format!("{file} has {actual} bytes, expected {expected}"),
            ));
        }
    }
    Ok(Some(manifest))
}

/// Completes a save: makes the staged files durable, publishes the generation, switches
/// CURRENT to it and removes older generations.
pub(crate) fn publish(dir: &Path, staging: &Path, mut manifest: Manifest) -> Result<()> {
    manifest.vectors_bytes = sync_file(&staging.join(VECTORS_FILE))?;
    manifest.catalog_bytes = sync_file(&staging.join(CATALOG_FILE))?;
    sync_dir(staging)?;
    let generation = generation_dir(dir, manifest.generation);
    fs::rename(staging, &generation)?;
    sync_dir(dir)?;

    let text = serde_json::to_vec(&manifest)
        .map_err(|error| corrupt(dir, format!("{MANIFEST}: {error}")))?;
    let manifest_staging = dir.join(MANIFEST_STAGING);
    let mut file = fs::File::create(&manifest_staging)?;
    file.write_all(&text)?;
    file.sync_all()?;
    drop(file);
    fs::rename(&manifest_staging, dir.join(MANIFEST))?;
    sync_dir(dir)?;

    remove_debris(dir, manifest.generation);
    Ok(())
}

/// Deletes everything a save may leave behind except the live generation. Failures only
/// waste disk space, so they are logged rather than failing the save or the open.
pub(crate) fn remove_debris(dir: &Path, live_generation: u64) {
    let live = generation_dir(dir, live_generation);
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let result = if name.starts_with(GENERATION_PREFIX) && path != live {
            fs::remove_dir_all(&path)
        } else if name == MANIFEST_STAGING {
            fs::remove_file(&path)
        } else {
            continue;
        };
        if let Err(error) = result {
            tracing::warn!(%error, "could not remove an old vector index generation");
        }
    }
}

/// Removes everything a save may leave behind when no generation is live yet.
pub(crate) fn remove_all_generations(dir: &Path) {
    // Generation 0 is never written (the first save writes 1), so nothing is kept.
    remove_debris(dir, 0);
}

/// Writes `value` as JSON to `path` (not yet synced; [`publish`] syncs it).
pub(crate) fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let file = fs::File::create(path)?;
    let mut writer = std::io::BufWriter::new(file);
    serde_json::to_writer(&mut writer, value)
        .map_err(|error| IndexError::Io(std::io::Error::other(error)))?;
    writer.flush()?;
    Ok(())
}

fn sync_file(path: &Path) -> Result<u64> {
    let file = fs::File::open(path)?;
    file.sync_all()?;
    Ok(file.metadata()?.len())
}

/// Makes renames and creations inside `dir` durable (POSIX needs the directory fsynced).
fn sync_dir(dir: &Path) -> Result<()> {
    fs::File::open(dir)?.sync_all()?;
    Ok(())
}

pub(crate) fn corrupt(dir: &Path, reason: String) -> IndexError {
    IndexError::Corrupt {
        dir: dir.to_owned(),
        reason,
    }
}
