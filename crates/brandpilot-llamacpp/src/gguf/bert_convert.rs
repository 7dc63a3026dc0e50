//! Converts a sentence-transformers BERT directory into a GGUF file that llama.cpp loads
//! as architecture `bert`: maps Hugging Face tensor names onto llama.cpp's, picks each
//! tensor's stored type, and writes llama.cpp's hyper-parameter and tokenizer keys.
//!
//! It never decides where files live or whether to reconvert: see [`super::ensure_gguf`].

use std::io::Write;

use super::OutputType;
use super::bert_source::BertSource;
use super::format::{MetadataArray, MetadataValue, TensorType};
use super::quant;
use super::safetensors::SafetensorsFile;
use super::writer::{GgufWriter, TensorSpec};
use crate::error::{LlamaError, Result};

/// Metadata key holding the cache fingerprint of the sources a file was converted from.
pub const FINGERPRINT_KEY: &str = "brandpilot.source_fingerprint";
/// Metadata key holding sentence-transformers' `max_seq_length`.
pub const MAX_SEQ_LENGTH_KEY: &str = "brandpilot.max_seq_length";

/// How a tensor is used, which decides how it may be stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// Biases and norms: always f32, as llama.cpp's own converter keeps them.
    Vector,
    /// Token embedding table: f16 at most. It is read row by row (get_rows), not
    /// multiplied, so Q8_0 would save memory but no time, and it costs accuracy on short
    /// texts, whose vectors are dominated by a few embedding rows.
    TokenEmbedding,
    /// Position and token-type tables: kept f32 (the token-type row is added directly).
    SmallTable,
    /// Matrix-multiplication weights: the tensors Q8_0 is for.
    Matmul,
}

/// One tensor to convert: where it comes from, what llama.cpp calls it, how it is used.
struct Mapping {
    source: String,
    target: String,
    role: Role,
}

/// Maps a Hugging Face BERT tensor name onto llama.cpp's name, or `None` for tensors the
/// embedding graph does not use (pooler, position ids).
fn map_name(source: &str) -> Option<(String, Role)> {
    let name = source.strip_prefix("bert.").unwrap_or(source);
    // Older checkpoints call layer-norm parameters gamma/beta.
    let name = name
        .replace("LayerNorm.gamma", "LayerNorm.weight")
        .replace("LayerNorm.beta", "LayerNorm.bias");
    let fixed = match name.as_str() {
        "embeddings.word_embeddings.weight" => Some(("token_embd.weight", Role::TokenEmbedding)),
        "embeddings.token_type_embeddings.weight" => Some(("token_types.weight", Role::SmallTable)),
        "embeddings.position_embeddings.weight" => Some(("position_embd.weight", Role::SmallTable)),
        "embeddings.LayerNorm.weight" => Some(("token_embd_norm.weight", Role::Vector)),
        "embeddings.LayerNorm.bias" => Some(("token_embd_norm.bias", Role::Vector)),
        _ => None,
    };
    if let Some((target, role)) = fixed {
        return Some((target.to_owned(), role));
    }
    let rest = name.strip_prefix("encoder.layer.")?;
    let (layer, rest) = rest.split_once('.')?;
    let layer: u32 = layer.parse().ok()?;
    let (module, param) = rest.rsplit_once('.')?;
    let target = match module {
        "attention.self.query" => "attn_q",
        "attention.self.key" => "attn_k",
        "attention.self.value" => "attn_v",
        "attention.output.dense" => "attn_output",
        "attention.output.LayerNorm" => "attn_output_norm",
        "intermediate.dense" => "ffn_up",
        "output.dense" => "ffn_down",
        "output.LayerNorm" => "layer_output_norm",
        _ => return None,
    };
    let role = match (param, target.ends_with("_norm")) {
        ("weight", false) => Role::Matmul,
        ("weight" | "bias", _) => Role::Vector,
        _ => return None,
    };
    Some((format!("blk.{layer}.{target}.{param}"), role))
}

/// The stored type of a tensor of `role` whose innermost dimension is `row_len`.
fn stored_type(role: Role, output: OutputType, row_len: u64) -> TensorType {
    match (role, output) {
        (Role::Vector | Role::SmallTable, _) | (_, OutputType::F32) => TensorType::F32,
        (_, OutputType::F16) | (Role::TokenEmbedding, OutputType::Q8_0) => TensorType::F16,
        (Role::Matmul, OutputType::Q8_0) => {
            if row_len.is_multiple_of(32) {
                TensorType::Q8_0
            } else {
                TensorType::F16
            }
        }
    }
}

/// Orders tensors as llama.cpp's converter does: embeddings first, then block by block.
fn sort_key(target: &str) -> (u32, u32, String) {
    match target.strip_prefix("blk.") {
        Some(rest) => {
            let layer = rest
                .split('.')
                .next()
                .and_then(|l| l.parse().ok())
                .unwrap_or(u32::MAX);
            (1, layer, target.to_owned())
        }
        None => {
            let rank = [
                "token_embd.",
                "token_types.",
                "position_embd.",
                "token_embd_norm.",
            ]
            .iter()
            .position(|p| target.starts_with(p))
            .unwrap_or(9) as u32;
            (0, rank, target.to_owned())
        }
    }
}

/// Writes the GGUF conversion of `source` to `out`.
pub fn convert(
    source: &BertSource,
    output: OutputType,
    fingerprint: &str,
    out: impl Write,
) -> Result<()> {
    let weights_path = source.dir.join("model.safetensors");
    if !weights_path.is_file() {
        return Err(LlamaError::MissingModelFile {
            dir: source.dir.clone(),
            file: "model.safetensors",
        });
    }
    let weights = SafetensorsFile::open(&weights_path)?;
    let config = &source.config;

    let mut mappings: Vec<Mapping> = weights
        .tensors
        .keys()
        .filter_map(|name| {
            map_name(name).map(|(target, role)| Mapping {
                source: name.clone(),
                target,
                role,
            })
        })
        .collect();
    mappings.sort_by_key(|m| sort_key(&m.target));

    let mut writer = GgufWriter::new();
    set_metadata(&mut writer, source, output, fingerprint);

    for mapping in &mappings {
        let shape = &weights.tensors[&mapping.source].shape;
        // safetensors lists dimensions outermost first; ggml innermost first.
        let dims: Vec<u64> = shape.iter().rev().copied().collect();
        check_shape(source, &mapping.target, &dims)?;
        let tensor_type = stored_type(mapping.role, output, dims[0]);
        writer.add_tensor(TensorSpec {
            name: mapping.target.clone(),
            dims,
            tensor_type,
        })?;
    }
    check_complete(&writer, config.num_hidden_layers)?;

    let mut buffer = Vec::new();
    writer.write(out, |index, spec, sink| {
        let values = weights.read_f32(&mappings[index].source)?;
        buffer.clear();
        quant::encode(&values, spec.tensor_type, &mut buffer)?;
        sink.write_all(&buffer)?;
        Ok(())
    })
}

fn set_metadata(writer: &mut GgufWriter, source: &BertSource, output: OutputType, fp: &str) {
    use MetadataValue as V;
    let config = &source.config;
    let vocab = &source.vocabulary;
    writer.set("general.architecture", V::String("bert".into()));
    writer.set("general.name", V::String(source.name()));
    writer.set("general.file_type", V::U32(output.llama_file_type()));
    writer.set("general.quantization_version", V::U32(2));
    writer.set(
        "bert.context_length",
        V::U32(config.max_position_embeddings),
    );
    writer.set("bert.embedding_length", V::U32(config.hidden_size));
    writer.set("bert.feed_forward_length", V::U32(config.intermediate_size));
    writer.set("bert.block_count", V::U32(config.num_hidden_layers));
    writer.set(
        "bert.attention.head_count",
        V::U32(config.num_attention_heads),
    );
    writer.set(
        "bert.attention.layer_norm_epsilon",
        V::F32(config.layer_norm_eps as f32),
    );
    writer.set("bert.attention.causal", V::Bool(false));
    writer.set("bert.pooling_type", V::U32(source.pooling as u32));
    writer.set("tokenizer.ggml.model", V::String("bert".into()));
    writer.set(
        "tokenizer.ggml.tokens",
        V::Array(MetadataArray::String(vocab.tokens.clone())),
    );
    writer.set(
        "tokenizer.ggml.token_type",
        V::Array(MetadataArray::I32(vocab.token_types.clone())),
    );
    writer.set(
        "tokenizer.ggml.token_type_count",
        V::U32(config.type_vocab_size),
    );
    // llama.cpp's BERT vocabulary starts a sequence with BOS and ends it with SEP, so BOS
    // is [CLS]; EOS is set to [SEP] for completeness but never added (add_eos = false).
    writer.set("tokenizer.ggml.bos_token_id", V::U32(vocab.cls_id));
    writer.set("tokenizer.ggml.eos_token_id", V::U32(vocab.sep_id));
    writer.set("tokenizer.ggml.cls_token_id", V::U32(vocab.cls_id));
    writer.set("tokenizer.ggml.seperator_token_id", V::U32(vocab.sep_id));
    writer.set("tokenizer.ggml.unknown_token_id", V::U32(vocab.unk_id));
    writer.set("tokenizer.ggml.padding_token_id", V::U32(vocab.pad_id));
    writer.set("tokenizer.ggml.mask_token_id", V::U32(vocab.mask_id));
    writer.set("tokenizer.ggml.add_bos_token", V::Bool(true));
    writer.set("tokenizer.ggml.add_eos_token", V::Bool(false));
    writer.set("tokenizer.ggml.add_sep_token", V::Bool(true));
    writer.set(
        "tokenizer.ggml.normalizer.lowercase",
        V::Bool(vocab.lowercase),
    );
    writer.set(
        "tokenizer.ggml.normalizer.strip_accents",
        V::Bool(vocab.strip_accents),
    );
    writer.set(MAX_SEQ_LENGTH_KEY, V::U32(source.max_seq_length));
    writer.set(FINGERPRINT_KEY, V::String(fp.to_owned()));
}

/// Checks a tensor's ggml-order dimensions against config.json.
fn check_shape(source: &BertSource, target: &str, dims: &[u64]) -> Result<()> {
    let c = &source.config;
    let (embd, ff) = (u64::from(c.hidden_size), u64::from(c.intermediate_size));
    let expected: Vec<u64> = match target.rsplit_once('.').map(|(m, _)| m) {
        Some("token_embd") => vec![embd, u64::from(c.vocab_size)],
        Some("token_types") => vec![embd, u64::from(c.type_vocab_size)],
        Some("position_embd") => vec![embd, u64::from(c.max_position_embeddings)],
        Some(module) if module.ends_with("ffn_up") && target.ends_with("weight") => vec![embd, ff],
        Some(module) if module.ends_with("ffn_up") => vec![ff],
        Some(module) if module.ends_with("ffn_down") && target.ends_with("weight") => {
            vec![ff, embd]
        }
        _ if target.ends_with("bias") || target.contains("norm") => vec![embd],
        _ => vec![embd, embd],
    };
    if dims != expected.as_slice() {
        return Err(LlamaError::UnsupportedModel(format!(
            "tensor {target} has shape {dims:?}, expected {expected:?}"
        )));
    }
    Ok(())
}

/// Checks that every tensor llama.cpp requires is present.
fn check_complete(writer: &GgufWriter, layers: u32) -> Result<()> {
    let mut required: Vec<String> = [
        "token_embd.weight",
        "position_embd.weight",
        "token_embd_norm.weight",
        "token_embd_norm.bias",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    for layer in 0..layers {
        for module in [
            "attn_q",
            "attn_k",
            "attn_v",
            "attn_output",
            "attn_output_norm",
            "ffn_up",
            "ffn_down",
            "layer_output_norm",
        ] {
            for param in ["weight", "bias"] {
                required.push(format!("blk.{layer}.{module}.{param}"));
            }
        }
    }
    let present: Vec<&str> = writer.tensors().iter().map(|t| t.name.as_str()).collect();
    match required.iter().find(|r| !present.contains(&r.as_str())) {
        Some(missing) => Err(LlamaError::UnsupportedModel(format!(
            "model.safetensors has no tensor for {missing}"
        ))),
        None => Ok(()),
    }
}
