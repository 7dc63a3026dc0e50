//! Shared fixtures: where the MiniLM model lives, a cache directory for its conversions,
//! and one embedder per output type shared by all tests of this binary.

use std::path::PathBuf;
use std::sync::OnceLock;

use brandpilot_llamacpp::{
    BertEmbedder, EmbedderSettings, GeneratorSettings, LocalLlm, OutputType, ensure_gguf,
};

/// The sentence-transformers directory of all-MiniLM-L6-v2. Fails loudly (never skips)
/// when the setup step has not run.
pub fn minilm_dir() -> PathBuf {
    let base = std::env::var_os("BRANDPILOT_MODELS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../models"));
    let dir = base.join("all-minilm-l6-v2");
    assert!(
        dir.join("model.safetensors").is_file() && dir.join("config.json").is_file(),
        "all-MiniLM-L6-v2 is missing at {}: run scripts/setup-models.sh first",
        dir.display()
    );
    dir
}

/// Where converted GGUF files are cached between test runs.
pub fn cache_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("brandpilot-llamacpp-gguf")
}

/// Converted model of the given type (cached across runs).
pub fn minilm_gguf(output: OutputType) -> PathBuf {
    ensure_gguf(&minilm_dir(), &cache_dir(), output).expect("conversion succeeds")
}

fn load(output: OutputType) -> BertEmbedder {
    BertEmbedder::load(&minilm_gguf(output), EmbedderSettings::default()).expect("embedder loads")
}

/// The Q8_0 embedder (the default configuration), shared by all tests.
pub fn embedder() -> &'static BertEmbedder {
    static EMBEDDER: OnceLock<BertEmbedder> = OnceLock::new();
    EMBEDDER.get_or_init(|| load(OutputType::Q8_0))
}

/// The F32 embedder, the accuracy reference for the others.
pub fn f32_embedder() -> &'static BertEmbedder {
    static EMBEDDER: OnceLock<BertEmbedder> = OnceLock::new();
    EMBEDDER.get_or_init(|| load(OutputType::F32))
}

pub fn f16_embedder() -> &'static BertEmbedder {
    static EMBEDDER: OnceLock<BertEmbedder> = OnceLock::new();
    EMBEDDER.get_or_init(|| load(OutputType::F16))
}

/// Cosine similarity of two vectors.
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na = a.iter().map(|x| x * x).sum::<f32>().sqrt();
    let nb = b.iter().map(|x| x * x).sum::<f32>().sqrt();
    dot / (na * nb)
}

fn models_dir() -> PathBuf {
    std::env::var_os("BRANDPILOT_MODELS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../models"))
}

fn gguf(dir: &str, file: &str) -> PathBuf {
    let path = models_dir().join(dir).join(file);
    assert!(
        path.is_file(),
        "{} is missing: run scripts/setup-models.sh first",
        path.display()
    );
    path
}

/// A fresh SmolLM2-135M-Instruct with its own worker (for tests that need the KV cache to
/// themselves).
pub fn load_smollm2() -> LocalLlm {
    LocalLlm::load(
        &gguf("smollm2-135m-instruct", "SmolLM2-135M-Instruct.Q4_1.gguf"),
        GeneratorSettings {
            threads: 1,
            context_tokens: 2048,
            ..GeneratorSettings::default()
        },
    )
    .expect("SmolLM2 loads")
}

/// SmolLM2-135M-Instruct shared by the tests of this binary.
pub fn smollm2() -> &'static LocalLlm {
    static MODEL: OnceLock<LocalLlm> = OnceLock::new();
    MODEL.get_or_init(load_smollm2)
}

/// Gemma 3 270M (base) shared by the tests of this binary.
pub fn gemma() -> &'static LocalLlm {
    static MODEL: OnceLock<LocalLlm> = OnceLock::new();
    MODEL.get_or_init(|| {
        LocalLlm::load(
            &gguf("gemma3-270m", "gemma-3-270m-q4_k_m.gguf"),
            GeneratorSettings {
                threads: 1,
                context_tokens: 1024,
                ..GeneratorSettings::default()
            },
        )
        .expect("Gemma 3 270M loads")
    })
}
