//! GGUF files: our own writer and reader for the container format, Q8_0/f16 encoding, and
//! the conversion of sentence-transformers BERT directories (safetensors) into GGUF files
//! llama.cpp loads as architecture `bert`.
//!
//! [`ensure_gguf`] is the entry point: it converts once and reuses the result while the
//! sources and the converter are unchanged. Nothing here runs a model.

mod bert_convert;
mod bert_source;
mod format;
mod quant;
mod reader;
mod safetensors;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Instant, UNIX_EPOCH};

use sha2::{Digest, Sha256};

pub use bert_convert::{FINGERPRINT_KEY, MAX_SEQ_LENGTH_KEY};
pub use bert_source::{BertSource, Pooling};
pub use format::{MetadataArray, MetadataValue, TensorInfo, TensorType};
pub use quant::{decode, encode};
pub use reader::GgufFile;
pub use writer::{GgufWriter, TensorSpec};

use crate::error::Result;

/// Bumped whenever a change to the converter changes its output, so cached files made by
/// an older converter are rebuilt.
pub const CONVERTER_VERSION: u32 = 2;

/// How matrix weights are stored in the converted file. Norms, biases and the small
/// position/token-type tables stay f32 in every case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OutputType {
    F32,
    F16,
    Q8_0,
}

impl OutputType {
    /// The `llama_ftype` number for `general.file_type`.
    pub fn llama_file_type(self) -> u32 {
        match self {
            OutputType::F32 => 0,
            OutputType::F16 => 1,
            OutputType::Q8_0 => 7,
        }
    }

    /// The lower-case name used in file names and settings.
    pub fn as_str(self) -> &'static str {
        match self {
            OutputType::F32 => "f32",
            OutputType::F16 => "f16",
            OutputType::Q8_0 => "q8_0",
        }
    }
}

impl std::str::FromStr for OutputType {
    type Err = crate::LlamaError;

    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "f32" => Ok(OutputType::F32),
            "f16" => Ok(OutputType::F16),
            "q8_0" | "q8" => Ok(OutputType::Q8_0),
            other => Err(crate::LlamaError::InvalidSettings(format!(
                "unknown GGUF output type {other} (use f32, f16 or q8_0)"
            ))),
        }
    }
}

/// Returns a GGUF conversion of the sentence-transformers BERT model in `model_dir`,
/// stored in `out_dir`. The file is reused when it carries the fingerprint of the current
/// sources (file names, sizes and modification times), output type and converter
/// version; otherwise it is rewritten atomically (temporary file, then rename).
pub fn ensure_gguf(model_dir: &Path, out_dir: &Path, output: OutputType) -> Result<PathBuf> {
    let source = BertSource::read(model_dir)?;
    let fingerprint = source_fingerprint(model_dir, output)?;
    let file_name = format!("{}.{}.gguf", sanitise(&source.name()), output.as_str());
    let target = out_dir.join(file_name);

    if target.is_file() {
        match GgufFile::open(&target) {
            Ok(existing)
                if existing
                    .get(FINGERPRINT_KEY)
                    .and_then(MetadataValue::as_str)
                    == Some(fingerprint.as_str()) =>
            {
                tracing::debug!(path = %target.display(), "reusing converted GGUF");
                return Ok(target);
            }
            Ok(_) => tracing::info!(path = %target.display(), "GGUF is stale, reconverting"),
            Err(error) => {
                tracing::warn!(path = %target.display(), %error, "unreadable GGUF, reconverting")
            }
        }
    }

    fs_err::create_dir_all(out_dir)?;
    let started = Instant::now();
    // Unique per process and call, so concurrent conversions never share a temporary
    // file; the final rename is atomic and the last writer wins with identical content.
    static CONVERSIONS: AtomicU64 = AtomicU64::new(0);
    let temporary = out_dir.join(format!(
        ".{}.{}-{}.tmp",
        target
            .file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default(),
        std::process::id(),
        CONVERSIONS.fetch_add(1, Ordering::Relaxed)
    ));
    let result = (|| -> Result<()> {
        let file = fs_err::File::create(&temporary)?;
        let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
        bert_convert::convert(&source, output, &fingerprint, &mut out)?;
        let file = out.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        fs_err::rename(&temporary, &target)?;
        Ok(())
    })();
    if result.is_err() {
        // Best effort: a leftover temporary file is harmless and overwritten next time.
        let _ = fs_err::remove_file(&temporary);
    }
    result?;
    tracing::info!(
        path = %target.display(),
        output = output.as_str(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "converted safetensors to GGUF"
    );
    Ok(target)
}

/// Hashes what decides the conversion result without reading the weights: the converter
/// version, the output type, and the name, size and modification time of each source file.
fn source_fingerprint(model_dir: &Path, output: OutputType) -> Result<String> {
    let mut hasher = Sha256::new();
    hasher.update(CONVERTER_VERSION.to_le_bytes());
    hasher.update(output.as_str().as_bytes());
    for name in bert_source::SOURCE_FILES {
        hasher.update(name.as_bytes());
        match fs_err::metadata(model_dir.join(name)) {
            Ok(meta) => {
                hasher.update(meta.len().to_le_bytes());
                let modified = meta
                    .modified()
                    .ok()
                    .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                    .map(|d| d.as_nanos())
                    .unwrap_or(0);
                hasher.update(modified.to_le_bytes());
            }
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                hasher.update(b"absent");
            }
            Err(error) => return Err(error.into()),
        }
    }
    Ok(hex::encode(hasher.finalize()))
}

/// Keeps file names portable: letters, digits, `-`, `_` and `.` only.
fn sanitise(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if cleaned.is_empty() {
        "model".to_owned()
    } else {
        cleaned
    }
}
