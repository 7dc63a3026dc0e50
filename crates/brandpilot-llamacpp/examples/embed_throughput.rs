//! Embedding throughput on the reference workload: the first N SciFact abstracts
//! (title + " " + text, truncated to 256 tokens as sentence-transformers does), printing
//! tokens/s, texts/s, peak RSS and, optionally, agreement with the F32 model.
//!
//! ```text
//! cargo run --release -p brandpilot-llamacpp --example embed_throughput -- \
//!     --type q8_0 --threads 2 --batch 256 [--no-pack] [--no-flash] [--compare-f32]
//! cargo run ... --example embed_throughput -- --convert-only --type f16
//! ```
//! Convert first (`--convert-only`) so the peak RSS of the measuring run excludes the
//! one-time conversion. `--dump FILE` writes token ids and vectors as JSON lines for
//! `scripts/reference_embeddings.py` (an independent NumPy forward pass).

use std::path::PathBuf;
use std::time::Instant;

use brandpilot_llamacpp::{BertEmbedder, EmbedderSettings, OutputType, cpu_report, ensure_gguf};

struct Options {
    model_dir: PathBuf,
    cache_dir: PathBuf,
    corpus: PathBuf,
    output: OutputType,
    settings: EmbedderSettings,
    limit: usize,
    max_tokens: usize,
    texts_per_call: usize,
    convert_only: bool,
    compare_f32: bool,
    dump: Option<PathBuf>,
}

fn parse_options() -> Result<Options, Box<dyn std::error::Error>> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut options = Options {
        model_dir: root.join("models/all-minilm-l6-v2"),
        cache_dir: std::env::temp_dir().join("brandpilot-gguf"),
        corpus: PathBuf::from("/work/shared/datasets/scifact/corpus.jsonl"),
        output: OutputType::Q8_0,
        settings: EmbedderSettings {
            threads: 2,
            ..EmbedderSettings::default()
        },
        limit: 2000,
        max_tokens: 256,
        texts_per_call: 64,
        convert_only: false,
        compare_f32: false,
        dump: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--model-dir" => options.model_dir = value()?.into(),
            "--cache-dir" => options.cache_dir = value()?.into(),
            "--corpus" => options.corpus = value()?.into(),
            "--type" => options.output = value()?.parse()?,
            "--threads" => options.settings.threads = value()?.parse()?,
            "--batch" => options.settings.batch_tokens = value()?.parse()?,
            "--limit" => options.limit = value()?.parse()?,
            "--max-tokens" => options.max_tokens = value()?.parse()?,
            "--texts-per-call" => options.texts_per_call = value()?.parse()?,
            "--no-pack" => options.settings.pack_sequences = false,
            "--no-flash" => options.settings.flash_attention = false,
            "--convert-only" => options.convert_only = true,
            "--compare-f32" => options.compare_f32 = true,
            "--dump" => options.dump = Some(value()?.into()),
            other => return Err(format!("unknown flag {other}").into()),
        }
    }
    Ok(options)
}

/// Peak resident set size in MiB, from /proc/self/status (Linux).
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// CPU seconds (user + system) this process has used, from /proc/self/stat (Linux,
/// 100 ticks per second). Compared with wall time it shows contention from other work.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let user: f64 = fields.get(11)?.parse().ok()?;
    let system: f64 = fields.get(12)?.parse().ok()?;
    Some((user + system) / 100.0)
}

/// Truncates to `max` tokens keeping the final [SEP], as sentence-transformers does.
fn truncate(mut tokens: Vec<i32>, max: usize) -> Vec<i32> {
    if tokens.len() > max
        && let Some(&sep) = tokens.last()
    {
        tokens.truncate(max - 1);
        tokens.push(sep);
    }
    tokens
}

fn read_corpus(options: &Options) -> Result<Vec<String>, Box<dyn std::error::Error>> {
    let text = std::fs::read_to_string(&options.corpus)?;
    let mut texts = Vec::new();
    for line in text.lines().take(options.limit) {
        let doc: serde_json::Value = serde_json::from_str(line)?;
        let title = doc["title"].as_str().unwrap_or_default();
        let body = doc["text"].as_str().unwrap_or_default();
        texts.push(format!("{title} {body}"));
    }
    Ok(texts)
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    // Both vectors are unit length.
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let options = parse_options()?;
    let started = Instant::now();
    let gguf = ensure_gguf(&options.model_dir, &options.cache_dir, options.output)?;
    println!(
        "gguf: {} ({:.2} s)",
        gguf.display(),
        started.elapsed().as_secs_f64()
    );
    if options.convert_only {
        return Ok(());
    }

    let embedder = BertEmbedder::load(&gguf, options.settings.clone())?;
    println!("{}", cpu_report().summary());

    let texts = read_corpus(&options)?;
    let sequences: Vec<Vec<i32>> = texts
        .iter()
        .map(|t| truncate(embedder.tokenize(t), options.max_tokens))
        .collect();
    let total_tokens: usize = sequences.iter().map(Vec::len).sum();

    let cpu_before = cpu_seconds().unwrap_or(f64::NAN);
    let started = Instant::now();
    let mut vectors = Vec::with_capacity(sequences.len());
    for call in sequences.chunks(options.texts_per_call.max(1)) {
        vectors.extend(embedder.embed_token_ids(call)?);
    }
    let seconds = started.elapsed().as_secs_f64();
    let cpu = cpu_seconds().unwrap_or(f64::NAN) - cpu_before;
    let peak = peak_rss_mib().unwrap_or(f64::NAN);
    println!(
        "type={} threads={} batch={} pack={} flash={} texts={} tokens={} \
         time={seconds:.2}s cpu={cpu:.1}s tokens/s={:.0} texts/s={:.1} peak_rss={peak:.0}MiB",
        options.output.as_str(),
        embedder.threads(),
        options.settings.batch_tokens,
        options.settings.pack_sequences,
        options.settings.flash_attention,
        sequences.len(),
        total_tokens,
        total_tokens as f64 / seconds,
        sequences.len() as f64 / seconds,
    );

    if let Some(path) = &options.dump {
        // One JSON line per text: token ids and vector, for scripts/reference_embeddings.py.
        let mut lines = String::new();
        for (tokens, vector) in sequences.iter().zip(&vectors) {
            let row = serde_json::json!({ "tokens": tokens, "vector": vector });
            lines.push_str(&row.to_string());
            lines.push('\n');
        }
        std::fs::write(path, lines)?;
    }

    if options.compare_f32 {
        let reference_path = ensure_gguf(&options.model_dir, &options.cache_dir, OutputType::F32)?;
        let reference = BertEmbedder::load(&reference_path, options.settings.clone())?;
        let count = sequences.len().min(200);
        let expected = reference.embed_token_ids(&sequences[..count])?;
        let similarities: Vec<f32> = expected
            .iter()
            .zip(&vectors)
            .map(|(a, b)| cosine(a, b))
            .collect();
        let min = similarities.iter().copied().fold(f32::INFINITY, f32::min);
        let mean = similarities.iter().sum::<f32>() / similarities.len() as f32;
        println!("cosine vs f32 over {count} texts: min={min:.5} mean={mean:.5}");
    }
    Ok(())
}
