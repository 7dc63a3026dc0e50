//! Reads what a sentence-transformers BERT directory says about itself: the transformer
//! hyper-parameters (config.json), pooling (1_Pooling/config.json), the maximum sequence
//! length (sentence_bert_config.json) and the WordPiece vocabulary (tokenizer.json, or
//! vocab.txt as a fallback).
//!
//! It only parses and validates; it writes nothing and never touches the weights.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::error::{LlamaError, Result};

/// Token type numbers llama.cpp stores in `tokenizer.ggml.token_type`.
pub const TOKEN_TYPE_NORMAL: i32 = 1;
pub const TOKEN_TYPE_CONTROL: i32 = 3;

/// How token vectors become one sentence vector, numbered as llama.cpp numbers them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pooling {
    Mean = 1,
    Cls = 2,
}

/// The transformer's shape, from config.json.
#[derive(Debug, Clone, Deserialize)]
pub struct BertConfig {
    #[serde(default)]
    pub model_type: Option<String>,
    #[serde(default, rename = "_name_or_path")]
    pub name_or_path: Option<String>,
    pub hidden_size: u32,
    pub intermediate_size: u32,
    pub num_hidden_layers: u32,
    pub num_attention_heads: u32,
    pub max_position_embeddings: u32,
    #[serde(default = "default_layer_norm_eps")]
    pub layer_norm_eps: f64,
    #[serde(default = "default_type_vocab_size")]
    pub type_vocab_size: u32,
    pub vocab_size: u32,
    #[serde(default)]
    pub hidden_act: Option<String>,
    #[serde(default)]
    pub position_embedding_type: Option<String>,
}

fn default_layer_norm_eps() -> f64 {
    1e-12
}

fn default_type_vocab_size() -> u32 {
    2
}

/// The vocabulary in llama.cpp's WordPiece convention: a word-initial piece carries the
/// phantom-space prefix `▁`, a continuation piece (`##x` in BERT files) is bare, and
/// bracketed special tokens are kept as they are.
#[derive(Debug, Clone)]
pub struct Vocabulary {
    pub tokens: Vec<String>,
    pub token_types: Vec<i32>,
    pub lowercase: bool,
    pub strip_accents: bool,
    pub cls_id: u32,
    pub sep_id: u32,
    pub unk_id: u32,
    pub pad_id: u32,
    pub mask_id: u32,
}

/// Everything the converter needs besides the weights.
#[derive(Debug, Clone)]
pub struct BertSource {
    pub dir: PathBuf,
    pub config: BertConfig,
    pub pooling: Pooling,
    /// sentence-transformers' `max_seq_length`, capped by the position table.
    pub max_seq_length: u32,
    pub vocabulary: Vocabulary,
}

impl BertSource {
    /// Reads and validates the configuration files of `dir`.
    pub fn read(dir: &Path) -> Result<Self> {
        let config: BertConfig = read_json(&required(dir, "config.json")?)?;
        validate_config(&config)?;
        let pooling = read_pooling(dir)?;
        let max_seq_length = read_max_seq_length(dir)?
            .unwrap_or(config.max_position_embeddings)
            .min(config.max_position_embeddings);
        let vocabulary = read_vocabulary(dir)?;
        if vocabulary.tokens.len() != config.vocab_size as usize {
            return Err(LlamaError::UnsupportedModel(format!(
                "tokenizer has {} tokens but config.json says vocab_size {}",
                vocabulary.tokens.len(),
                config.vocab_size
            )));
        }
        Ok(BertSource {
            dir: dir.to_path_buf(),
            config,
            pooling,
            max_seq_length,
            vocabulary,
        })
    }

    /// A human-readable model name for `general.name`.
    pub fn name(&self) -> String {
        self.dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .or_else(|| self.config.name_or_path.clone())
            .unwrap_or_else(|| "bert".to_owned())
    }
}

/// The files whose content decides the conversion result (for the cache fingerprint).
pub const SOURCE_FILES: &[&str] = &[
    "config.json",
    "model.safetensors",
    "tokenizer.json",
    "vocab.txt",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "sentence_bert_config.json",
    "1_Pooling/config.json",
];

fn required(dir: &Path, file: &'static str) -> Result<PathBuf> {
    let path = dir.join(file);
    if path.is_file() {
        Ok(path)
    } else {
        Err(LlamaError::MissingModelFile {
            dir: dir.to_path_buf(),
            file,
        })
    }
}

fn read_json<T: DeserializeOwned>(path: &Path) -> Result<T> {
    let text = fs_err::read_to_string(path)?;
    serde_json::from_str(&text).map_err(|source| LlamaError::BadConfig {
        path: path.to_path_buf(),
        source,
    })
}

fn validate_config(config: &BertConfig) -> Result<()> {
    if let Some(model_type) = &config.model_type
        && model_type != "bert"
    {
        return Err(LlamaError::UnsupportedModel(format!(
            "model_type {model_type} (only bert is supported)"
        )));
    }
    if let Some(act) = &config.hidden_act
        && !act.starts_with("gelu")
    {
        return Err(LlamaError::UnsupportedModel(format!("hidden_act {act}")));
    }
    if let Some(kind) = &config.position_embedding_type
        && kind != "absolute"
    {
        return Err(LlamaError::UnsupportedModel(format!(
            "position_embedding_type {kind}"
        )));
    }
    if config.num_attention_heads == 0
        || !config
            .hidden_size
            .is_multiple_of(config.num_attention_heads)
    {
        return Err(LlamaError::UnsupportedModel(format!(
            "hidden_size {} is not divisible by {} heads",
            config.hidden_size, config.num_attention_heads
        )));
    }
    Ok(())
}

fn read_pooling(dir: &Path) -> Result<Pooling> {
    #[derive(Deserialize)]
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
    let path = dir.join("1_Pooling/config.json");
    if !path.is_file() {
        tracing::warn!(dir = %dir.display(), "no 1_Pooling/config.json, assuming mean pooling");
        return Ok(Pooling::Mean);
    }
    let config: PoolingConfig = read_json(&path)?;
    match (
        config.pooling_mode_mean_tokens,
        config.pooling_mode_cls_token,
        config.pooling_mode_max_tokens || config.pooling_mode_mean_sqrt_len_tokens,
    ) {
        (true, false, false) => Ok(Pooling::Mean),
        (false, true, false) => Ok(Pooling::Cls),
        _ => Err(LlamaError::UnsupportedModel(
            "pooling must be exactly one of mean or cls".into(),
        )),
    }
}

fn read_max_seq_length(dir: &Path) -> Result<Option<u32>> {
    #[derive(Deserialize)]
    struct SentenceBertConfig {
        max_seq_length: Option<u32>,
    }
    let path = dir.join("sentence_bert_config.json");
    if !path.is_file() {
        return Ok(None);
    }
    Ok(read_json::<SentenceBertConfig>(&path)?.max_seq_length)
}

/// Special token names from tokenizer_config.json, which may be plain strings or
/// `{"content": "..."}` objects.
#[derive(Debug, Default, Deserialize)]
struct TokenizerConfig {
    do_lower_case: Option<bool>,
    strip_accents: Option<bool>,
    cls_token: Option<serde_json::Value>,
    sep_token: Option<serde_json::Value>,
    unk_token: Option<serde_json::Value>,
    pad_token: Option<serde_json::Value>,
    mask_token: Option<serde_json::Value>,
}

fn token_name(value: &Option<serde_json::Value>, default: &str) -> String {
    match value {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(serde_json::Value::Object(map)) => map
            .get("content")
            .and_then(|c| c.as_str())
            .unwrap_or(default)
            .to_owned(),
        _ => default.to_owned(),
    }
}

fn read_vocabulary(dir: &Path) -> Result<Vocabulary> {
    let config_path = dir.join("tokenizer_config.json");
    let tokenizer_config: TokenizerConfig = if config_path.is_file() {
        read_json(&config_path)?
    } else {
        TokenizerConfig::default()
    };

    let tokenizer_json = dir.join("tokenizer.json");
    let (raw_tokens, specials, lowercase, strip_accents) = if tokenizer_json.is_file() {
        read_tokenizer_json(&tokenizer_json)?
    } else {
        let vocab_txt = required(dir, "vocab.txt")?;
        let text = fs_err::read_to_string(&vocab_txt)?;
        let tokens: Vec<String> = text.lines().map(str::to_owned).collect();
        (tokens, Vec::new(), None, None)
    };
    let lowercase = lowercase.or(tokenizer_config.do_lower_case).unwrap_or(true);
    let strip_accents = strip_accents
        .or(tokenizer_config.strip_accents)
        .unwrap_or(lowercase);

    let index: HashMap<&str, u32> = raw_tokens
        .iter()
        .enumerate()
        .map(|(i, t)| (t.as_str(), i as u32))
        .collect();
    let lookup = |value: &Option<serde_json::Value>, default: &str| -> Result<u32> {
        let name = token_name(value, default);
        index.get(name.as_str()).copied().ok_or_else(|| {
            LlamaError::UnsupportedModel(format!("special token {name} is not in the vocabulary"))
        })
    };
    let cls_id = lookup(&tokenizer_config.cls_token, "[CLS]")?;
    let sep_id = lookup(&tokenizer_config.sep_token, "[SEP]")?;
    let unk_id = lookup(&tokenizer_config.unk_token, "[UNK]")?;
    let pad_id = lookup(&tokenizer_config.pad_token, "[PAD]")?;
    let mask_id = lookup(&tokenizer_config.mask_token, "[MASK]")?;

    let mut special_ids: Vec<u32> = specials;
    special_ids.extend([cls_id, sep_id, unk_id, pad_id, mask_id]);

    let mut tokens = Vec::with_capacity(raw_tokens.len());
    let mut token_types = Vec::with_capacity(raw_tokens.len());
    for (id, token) in raw_tokens.iter().enumerate() {
        let special = special_ids.contains(&(id as u32));
        token_types.push(if special {
            TOKEN_TYPE_CONTROL
        } else {
            TOKEN_TYPE_NORMAL
        });
        tokens.push(llama_wordpiece_form(token, special));
    }
    Ok(Vocabulary {
        tokens,
        token_types,
        lowercase,
        strip_accents,
        cls_id,
        sep_id,
        unk_id,
        pad_id,
        mask_id,
    })
}

/// Rewrites a BERT WordPiece token into the form llama.cpp's WPM tokenizer looks up.
fn llama_wordpiece_form(token: &str, special: bool) -> String {
    if special || (token.starts_with('[') && token.ends_with(']')) {
        token.to_owned()
    } else if let Some(rest) = token.strip_prefix("##") {
        rest.to_owned()
    } else {
        format!("\u{2581}{token}")
    }
}

type TokenizerJsonParts = (Vec<String>, Vec<u32>, Option<bool>, Option<bool>);

/// Reads the WordPiece vocabulary, the special token ids and the normaliser flags from a
/// Hugging Face tokenizer.json.
fn read_tokenizer_json(path: &Path) -> Result<TokenizerJsonParts> {
    #[derive(Deserialize)]
    struct TokenizerJson {
        model: Model,
        #[serde(default)]
        added_tokens: Vec<AddedToken>,
        #[serde(default)]
        normalizer: Option<serde_json::Value>,
    }
    #[derive(Deserialize)]
    struct Model {
        #[serde(rename = "type")]
        kind: Option<String>,
        vocab: HashMap<String, u32>,
        continuing_subword_prefix: Option<String>,
    }
    #[derive(Deserialize)]
    struct AddedToken {
        id: u32,
        #[serde(default)]
        special: bool,
    }

    let parsed: TokenizerJson = read_json(path)?;
    if parsed
        .model
        .kind
        .as_deref()
        .is_some_and(|k| k != "WordPiece")
    {
        return Err(LlamaError::UnsupportedModel(format!(
            "{} is not a WordPiece tokenizer",
            path.display()
        )));
    }
    if parsed
        .model
        .continuing_subword_prefix
        .as_deref()
        .is_some_and(|p| p != "##")
    {
        return Err(LlamaError::UnsupportedModel(
            "WordPiece continuation prefix must be ##".into(),
        ));
    }
    let n = parsed.model.vocab.len();
    let mut tokens: Vec<Option<String>> = vec![None; n];
    for (token, id) in parsed.model.vocab {
        match tokens.get_mut(id as usize) {
            Some(slot @ None) => *slot = Some(token),
            _ => {
                return Err(LlamaError::UnsupportedModel(format!(
                    "tokenizer.json vocabulary ids are not a dense 0..{n} range"
                )));
            }
        }
    }
    let tokens: Vec<String> = tokens.into_iter().flatten().collect();
    let specials = parsed
        .added_tokens
        .iter()
        .filter(|t| t.special)
        .map(|t| t.id)
        .collect();

    let (mut lowercase, mut strip_accents) = (None, None);
    if let Some(normalizer) = parsed.normalizer
        && normalizer.get("type").and_then(|t| t.as_str()) == Some("BertNormalizer")
    {
        lowercase = normalizer.get("lowercase").and_then(|v| v.as_bool());
        strip_accents = normalizer.get("strip_accents").and_then(|v| v.as_bool());
    }
    Ok((tokens, specials, lowercase, strip_accents))
}
