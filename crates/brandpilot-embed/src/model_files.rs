//! Finding a sentence-transformers model's files on disk and reading how it pools and
//! normalises.
//!
//! Resolution looks only at local paths: the models directory filled by
//! `scripts/setup-models.sh`, an explicit directory, or a Hugging Face cache that something
//! else filled. It must never download.

use crate::{EmbedError, Result};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// How token vectors become one sentence vector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Pooling {
    /// Average of the token vectors, padding excluded (MiniLM).
    #[default]
    Mean,
    /// The `[CLS]` token's vector (BGE).
    Cls,
}

/// The files of one sentence-transformers model and the settings read from them.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelFiles {
    /// Short lower-case name: the short name or directory name, or the part of a Hugging Face
    /// id after the slash ("all-minilm-l6-v2"). Backends build their `model_id` from it.
    pub name: String,
    pub dir: PathBuf,
    pub tokenizer_json: PathBuf,
    pub config_json: PathBuf,
    /// `model.safetensors`.
    pub weights: PathBuf,
    /// From `1_Pooling/config.json` (or the pooling module `modules.json` names); Mean when
    /// the model has none.
    pub pooling: Pooling,
    /// True when `modules.json` lists a Normalize module, or for sentence-transformers
    /// models known to be used normalised.
    pub normalize: bool,
    /// Word pieces the model reads including special tokens: `sentence_bert_config.json`'s
    /// `max_seq_length`, else `config.json`'s `max_position_embeddings`.
    pub max_seq_length: usize,
}

impl ModelFiles {
    /// Content tokens the model reads: `max_seq_length` less `[CLS]` and `[SEP]`.
    pub fn max_content_tokens(&self) -> usize {
        self.max_seq_length.saturating_sub(2)
    }
}

/// Short names of models we ship setup for, and their Hugging Face ids, so a short name also
/// finds a copy in the Hugging Face cache.
const KNOWN_MODELS: &[(&str, &str)] = &[
    ("all-minilm-l6-v2", "sentence-transformers/all-MiniLM-L6-v2"),
    (
        "all-minilm-l12-v2",
        "sentence-transformers/all-MiniLM-L12-v2",
    ),
    ("bge-small-en-v1.5", "BAAI/bge-small-en-v1.5"),
    ("bge-base-en-v1.5", "BAAI/bge-base-en-v1.5"),
];

/// Resolves `spec` to model files, looking in `models_dir` and the local Hugging Face cache
/// (`$HF_HUB_CACHE`, else `$HF_HOME/hub`, else `~/.cache/huggingface/hub`).
///
/// `spec` is a directory path, a short name under `models_dir` ("all-minilm-l6-v2"), or a
/// Hugging Face id ("sentence-transformers/all-MiniLM-L6-v2") found in the cache, whose
/// `refs/main` snapshot is used, else the newest snapshot.
pub fn resolve_model(spec: &str, models_dir: &Path) -> Result<ModelFiles> {
    resolve_model_with_hub_cache(spec, models_dir, default_hub_cache().as_deref())
}

/// [`resolve_model`] with the Hugging Face hub cache directory given explicitly (or none),
/// so tests and callers with their own settings do not depend on the environment.
pub fn resolve_model_with_hub_cache(
    spec: &str,
    models_dir: &Path,
    hub_cache: Option<&Path>,
) -> Result<ModelFiles> {
    let spec = spec.trim();
    let mut searched = Vec::new();
    let as_path = Path::new(spec);
    if as_path.is_dir() {
        return read_model_dir(as_path, &name_of(as_path));
    }
    searched.push(as_path.to_path_buf());

    let short = spec.to_lowercase();
    let is_short_name = !spec.is_empty() && !spec.contains(['/', '\\']);
    let mut hub_ids: Vec<String> = Vec::new();
    if is_short_name {
        let candidate = models_dir.join(&short);
        if candidate.is_dir() {
            return read_model_dir(&candidate, &short);
        }
        searched.push(candidate);
        if let Some((_, hub_id)) = KNOWN_MODELS.iter().find(|(name, _)| *name == short) {
            hub_ids.push((*hub_id).to_owned());
        }
    } else if spec.split('/').count() == 2 && !spec.starts_with(['.', '/']) {
        hub_ids.push(spec.to_owned());
    }

    if let Some(hub_cache) = hub_cache {
        for hub_id in &hub_ids {
            let repo = hub_cache.join(format!("models--{}", hub_id.replace('/', "--")));
            if let Some(snapshot) = pick_snapshot(&repo) {
                let name = hub_id.rsplit('/').next().unwrap_or(hub_id).to_lowercase();
                return read_model_dir(&snapshot, &name);
            }
            searched.push(repo.join("snapshots"));
        }
    }
    Err(EmbedError::ModelNotFound {
        spec: spec.to_owned(),
        searched,
    })
}

fn default_hub_cache() -> Option<PathBuf> {
    let env_dir = |key: &str| {
        std::env::var_os(key)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    env_dir("HF_HUB_CACHE")
        .or_else(|| env_dir("HF_HOME").map(|home| home.join("hub")))
        .or_else(|| env_dir("HOME").map(|home| home.join(".cache/huggingface/hub")))
}

/// The snapshot `refs/main` points at, else the most recently modified one.
fn pick_snapshot(repo: &Path) -> Option<PathBuf> {
    let snapshots = repo.join("snapshots");
    if let Ok(revision) = std::fs::read_to_string(repo.join("refs/main")) {
        let pinned = snapshots.join(revision.trim());
        if !revision.trim().is_empty() && pinned.is_dir() {
            return Some(pinned);
        }
    }
    std::fs::read_dir(&snapshots)
        .ok()?
        .filter_map(|entry| entry.ok())
        .filter(|entry| entry.path().is_dir())
        .filter_map(|entry| {
            let modified = entry.metadata().and_then(|m| m.modified()).ok()?;
            Some((modified, entry.path()))
        })
        .max()
        .map(|(_, path)| path)
}

fn name_of(dir: &Path) -> String {
    dir.file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default()
}

#[derive(Deserialize)]
struct ModuleEntry {
    #[serde(default)]
    path: String,
    #[serde(rename = "type", default)]
    kind: String,
}

#[derive(Deserialize, Default)]
struct PoolingConfig {
    #[serde(default)]
    pooling_mode_cls_token: bool,
    #[serde(default)]
    pooling_mode_mean_tokens: bool,
    #[serde(default)]
    pooling_mode_max_tokens: bool,
    #[serde(default)]
    pooling_mode_mean_sqrt_len_tokens: bool,
}

#[derive(Deserialize)]
struct SentenceBertConfig {
    max_seq_length: Option<usize>,
}

#[derive(Deserialize)]
struct BertConfig {
    max_position_embeddings: Option<usize>,
}

/// Reads a model directory; `name` becomes [`ModelFiles::name`].
fn read_model_dir(dir: &Path, name: &str) -> Result<ModelFiles> {
    let invalid = |reason: String| EmbedError::InvalidModel {
        path: dir.to_path_buf(),
        reason,
    };
    let tokenizer_json = dir.join("tokenizer.json");
    let config_json = dir.join("config.json");
    let weights = dir.join("model.safetensors");
    let missing: Vec<&str> = [
        (&tokenizer_json, "tokenizer.json"),
        (&config_json, "config.json"),
        (&weights, "model.safetensors"),
    ]
    .into_iter()
    .filter(|(path, _)| !path.is_file())
    .map(|(_, file)| file)
    .collect();
    if !missing.is_empty() {
        return Err(invalid(format!(
            "missing {}; run scripts/setup-models.sh or point at a complete \
             sentence-transformers directory",
            missing.join(", ")
        )));
    }

    let modules: Vec<ModuleEntry> =
        read_json_if_present(&dir.join("modules.json"))?.unwrap_or_default();
    let pooling_dir = modules
        .iter()
        .find(|m| m.kind.ends_with(".Pooling"))
        .map(|m| m.path.clone())
        .unwrap_or_else(|| "1_Pooling".to_owned());
    let pooling_config: Option<PoolingConfig> =
        read_json_if_present(&dir.join(pooling_dir).join("config.json"))?;
    let pooling = match pooling_config {
        None => Pooling::Mean,
        Some(c) if c.pooling_mode_cls_token => Pooling::Cls,
        Some(c) if c.pooling_mode_mean_tokens => Pooling::Mean,
        // Choosing Mean for a max-pooled model would give plausible-looking wrong vectors.
        Some(c) if c.pooling_mode_max_tokens || c.pooling_mode_mean_sqrt_len_tokens => {
            return Err(invalid(
                "pooling mode max or mean_sqrt_len is not supported".into(),
            ));
        }
        Some(_) => Pooling::Mean,
    };

    let listed_normalize = modules.iter().any(|m| m.kind.ends_with(".Normalize"));
    let known = KNOWN_MODELS.iter().any(|(short, _)| *short == name);
    let normalize = listed_normalize || known;

    let sentence_bert: Option<SentenceBertConfig> =
        read_json_if_present(&dir.join("sentence_bert_config.json"))?;
    let bert: Option<BertConfig> = read_json_if_present(&config_json)?;
    let max_seq_length = sentence_bert
        .and_then(|c| c.max_seq_length)
        .or_else(|| bert.and_then(|c| c.max_position_embeddings))
        .ok_or_else(|| {
            invalid("neither sentence_bert_config.json nor config.json gives a max length".into())
        })?;
    if max_seq_length < 3 {
        return Err(invalid(format!(
            "max_seq_length {max_seq_length} leaves no room for text"
        )));
    }

    Ok(ModelFiles {
        name: name.to_owned(),
        dir: dir.to_path_buf(),
        tokenizer_json,
        config_json,
        weights,
        pooling,
        normalize,
        max_seq_length,
    })
}

fn read_json_if_present<T: serde::de::DeserializeOwned>(path: &Path) -> Result<Option<T>> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(EmbedError::Io {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|e| EmbedError::InvalidModel {
            path: path.to_path_buf(),
            reason: format!("unreadable JSON: {e}"),
        })
}
