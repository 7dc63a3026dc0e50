//! Finding a local model's GGUF file from what a user wrote in the settings: a `.gguf`
//! file, a directory holding one, a short name under the models directory (what
//! `brandpilot models pull` and `scripts/setup-models.sh` install), or a Hugging Face id
//! already in the local Hugging Face cache (this crate never downloads).

use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    #[error(
        "local model {spec:?} not found (looked for a .gguf file, a directory, {models_dir}/{spec} \
         and the Hugging Face cache); run `brandpilot models pull {spec}` or give a path"
    )]
    NotFound { spec: String, models_dir: String },
    #[error("{dir} holds no .gguf file")]
    NoGguf { dir: PathBuf },
    #[error("{dir} holds several .gguf files ({files}); name the one to use")]
    Ambiguous { dir: PathBuf, files: String },
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// The GGUF file `spec` names.
pub fn resolve_gguf(spec: &str, models_dir: &Path) -> Result<PathBuf, ResolveError> {
    let as_path = Path::new(spec);
    if as_path.is_file() {
        return Ok(as_path.to_path_buf());
    }
    if as_path.is_dir() {
        return single_gguf(as_path);
    }
    let under_models = models_dir.join(spec);
    if !spec.contains("..") && under_models.is_dir() {
        return single_gguf(&under_models);
    }
    if let Some(dir) = hugging_face_hub().and_then(|hub| hugging_face_snapshot(&hub, spec)) {
        return single_gguf(&dir);
    }
    Err(ResolveError::NotFound {
        spec: spec.to_owned(),
        models_dir: models_dir.display().to_string(),
    })
}

fn single_gguf(dir: &Path) -> Result<PathBuf, ResolveError> {
    let entries = std::fs::read_dir(dir).map_err(|source| ResolveError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut found: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| {
            path.extension()
                .is_some_and(|ext| ext.eq_ignore_ascii_case("gguf"))
                && path.is_file()
        })
        .collect();
    found.sort();
    match found.len() {
        0 => Err(ResolveError::NoGguf {
            dir: dir.to_path_buf(),
        }),
        1 => Ok(found.remove(0)),
        _ => Err(ResolveError::Ambiguous {
            dir: dir.to_path_buf(),
            files: found
                .iter()
                .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
                .collect::<Vec<_>>()
                .join(", "),
        }),
    }
}

/// The Hugging Face hub cache: `$HF_HUB_CACHE`, `$HF_HOME/hub` or `~/.cache/huggingface/hub`.
fn hugging_face_hub() -> Option<PathBuf> {
    std::env::var_os("HF_HUB_CACHE")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HF_HOME").map(|home| PathBuf::from(home).join("hub")))
        .or_else(|| {
            std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache/huggingface/hub"))
        })
}

/// The newest snapshot directory of `org/name` in the hub cache `hub`.
fn hugging_face_snapshot(hub: &Path, spec: &str) -> Option<PathBuf> {
    let (org, name) = spec.split_once('/')?;
    let valid = |part: &str| {
        !part.is_empty()
            && part
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            && part != "."
            && part != ".."
    };
    if !valid(org) || !valid(name) {
        return None;
    }
    let snapshots = hub.join(format!("models--{org}--{name}")).join("snapshots");
    let newest = std::fs::read_dir(&snapshots)
        .ok()?
        .filter_map(|entry| entry.ok())
        .filter(|entry| entry.path().is_dir())
        .max_by_key(|entry| entry.metadata().and_then(|m| m.modified()).ok())?;
    Some(newest.path())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(path: &Path) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, b"GGUF").unwrap();
    }

    #[test]
    fn a_file_a_directory_and_a_short_name_all_resolve() {
        let models = tempfile::tempdir().unwrap();
        let file = models.path().join("tiny/tiny.Q4_1.gguf");
        touch(&file);
        assert_eq!(
            resolve_gguf(file.to_str().unwrap(), models.path()).unwrap(),
            file
        );
        let dir = models.path().join("tiny");
        assert_eq!(
            resolve_gguf(dir.to_str().unwrap(), models.path()).unwrap(),
            file
        );
        assert_eq!(resolve_gguf("tiny", models.path()).unwrap(), file);
    }

    #[test]
    fn a_directory_with_two_models_asks_which() {
        let models = tempfile::tempdir().unwrap();
        touch(&models.path().join("pair/a.gguf"));
        touch(&models.path().join("pair/b.gguf"));
        let error = resolve_gguf("pair", models.path()).unwrap_err();
        assert!(matches!(error, ResolveError::Ambiguous { .. }));
        assert!(error.to_string().contains("a.gguf, b.gguf"));
    }

    #[test]
    fn an_unknown_name_says_how_to_get_it() {
        let models = tempfile::tempdir().unwrap();
        let error = resolve_gguf("no-such-model", models.path()).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("brandpilot models pull no-such-model")
        );
        std::fs::create_dir_all(models.path().join("empty")).unwrap();
        assert!(matches!(
            resolve_gguf("empty", models.path()).unwrap_err(),
            ResolveError::NoGguf { .. }
        ));
    }

    #[test]
    fn a_hugging_face_id_finds_its_cached_snapshot() {
        let hub = tempfile::tempdir().unwrap();
        let file = hub
            .path()
            .join("models--HuggingFaceTB--SmolLM2-135M-Instruct-GGUF/snapshots/abc123/m.gguf");
        touch(&file);
        let dir = hugging_face_snapshot(hub.path(), "HuggingFaceTB/SmolLM2-135M-Instruct-GGUF");
        assert_eq!(single_gguf(&dir.unwrap()).unwrap(), file);
        assert!(hugging_face_snapshot(hub.path(), "../etc").is_none());
        assert!(hugging_face_snapshot(hub.path(), "nobody/nothing").is_none());
    }

    #[test]
    fn path_escapes_are_not_looked_up_under_the_models_directory() {
        let root = tempfile::tempdir().unwrap();
        let models = root.path().join("models");
        std::fs::create_dir_all(&models).unwrap();
        touch(&root.path().join("outside/x.gguf"));
        assert!(resolve_gguf("../outside", &models).is_err());
    }
}
