//! Expands the paths a user named into the sorted list of files to ingest.
//!
//! Directories are walked recursively, hidden entries (names starting with '.') are skipped,
//! and symlinked directories are followed at most once, so a link loop ends the walk instead
//! of the process. This module must never read file contents.

use std::collections::BTreeSet;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

use crate::{ExtractError, Result};

/// Every regular file under `paths`, sorted and without duplicates. A path named explicitly
/// is kept even if hidden; a missing path is an error.
pub fn walk(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut files = BTreeSet::new();
    let mut visited_directories = HashSet::new();
    for path in paths {
        let metadata = std::fs::metadata(path).map_err(|source| ExtractError::io(path, source))?;
        if metadata.is_dir() {
            walk_directory(path, &mut visited_directories, &mut files)?;
        } else if metadata.is_file() {
            files.insert(path.clone());
        }
    }
    Ok(files.into_iter().collect())
}

fn walk_directory(
    directory: &Path,
    visited_directories: &mut HashSet<PathBuf>,
    files: &mut BTreeSet<PathBuf>,
) -> Result<()> {
    // Canonical paths identify a directory however it was reached, which is what breaks
    // symlink cycles.
    let canonical =
        std::fs::canonicalize(directory).map_err(|source| ExtractError::io(directory, source))?;
    if !visited_directories.insert(canonical) {
        return Ok(());
    }
    let entries =
        std::fs::read_dir(directory).map_err(|source| ExtractError::io(directory, source))?;
    let mut children = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| ExtractError::io(directory, source))?;
        let is_hidden = entry.file_name().to_string_lossy().starts_with('.');
        if !is_hidden {
            children.push(entry.path());
        }
    }
    children.sort();
    for child in children {
        // `metadata` follows symlinks; a dangling link is skipped rather than failing the
        // whole walk, because one stale link should not block ingesting a folder.
        let Ok(metadata) = std::fs::metadata(&child) else {
            tracing::warn!(path = %child.display(), "skipping an entry that cannot be read");
            continue;
        };
        if metadata.is_dir() {
            walk_directory(&child, visited_directories, files)?;
        } else if metadata.is_file() {
            files.insert(child);
        }
    }
    Ok(())
}
