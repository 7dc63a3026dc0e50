//! The crate's one integration-test binary: every embedder and counter through its public
//! API, the HTTP client against a fake server on a real socket, and the real MiniLM tokenizer
//! when `scripts/setup-models.sh` has fetched it (a missing model fails with that advice).

#[path = "embed/hashing.rs"]
mod hashing;
#[path = "embed/models.rs"]
mod models;
#[path = "embed/openai.rs"]
mod openai;
#[path = "embed/tokenizers.rs"]
mod tokenizers;
#[path = "embed/windows.rs"]
mod windows;

use std::path::{Path, PathBuf};

/// The models directory `scripts/setup-models.sh` fills: `$BRANDPILOT_MODELS_DIR` or
/// `<repo>/models`, as the script decides.
pub fn models_dir() -> PathBuf {
    std::env::var_os("BRANDPILOT_MODELS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models"))
}

/// The real all-MiniLM-L6-v2 files; fails (never skips) when they are missing.
pub fn minilm_dir() -> PathBuf {
    let dir = models_dir().join("all-minilm-l6-v2");
    assert!(
        dir.join("tokenizer.json").is_file() && dir.join("vocab.txt").is_file(),
        "all-MiniLM-L6-v2 files are missing from {}: run scripts/setup-models.sh first",
        dir.display()
    );
    dir
}

pub fn norm(v: &[f32]) -> f32 {
    v.iter().map(|x| x * x).sum::<f32>().sqrt()
}
