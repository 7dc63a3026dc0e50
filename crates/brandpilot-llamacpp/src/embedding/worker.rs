//! The thread that owns the llama.cpp context of one embedder. A context is not `Sync`
//! and borrows its model, so it lives on this thread's stack and callers talk to it over
//! a channel; this is what makes [`super::BertEmbedder`] `Send + Sync`.
//!
//! The worker packs several token sequences into one llama batch (one `seq_id` each) and
//! never lets a batch exceed the context's `n_ubatch`: llama.cpp aborts the process on
//! an oversized encoder batch instead of returning an error.

use std::cmp::Reverse;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender};
use std::thread::JoinHandle;

use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::context::params::{LlamaAttentionType, LlamaContextParams, LlamaPoolingType};
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::model::LlamaModel;
use llama_cpp_2::token::LlamaToken;

use crate::context_thread;
use crate::error::{LlamaError, Result};

/// How the worker's context is set up and how it fills batches.
#[derive(Debug, Clone)]
pub(crate) struct WorkerConfig {
    pub threads: i32,
    /// Physical batch size of the context: the most tokens one encode call may carry.
    pub n_ubatch: u32,
    /// How many tokens the packer aims to put in one batch (≤ `n_ubatch`).
    pub batch_tokens: usize,
    /// The most sequences one batch may carry.
    pub max_sequences: usize,
    pub pack_sequences: bool,
    pub flash_attention: bool,
    pub pooling: LlamaPoolingType,
}

/// A request: embed these token sequences, answer on `reply`.
pub(crate) struct Job {
    pub sequences: Vec<Vec<LlamaToken>>,
    pub reply: Sender<Result<Vec<Vec<f32>>>>,
}

/// Starts the worker and waits until its context exists (or failed to be created).
pub(crate) fn spawn(
    model: Arc<LlamaModel>,
    config: WorkerConfig,
) -> Result<(Sender<Job>, JoinHandle<()>)> {
    let params = context_params(&config);
    context_thread::spawn(
        "llama-embed",
        model,
        params,
        move |_, mut context, jobs: Receiver<Job>| {
            let mut batch = LlamaBatch::new(config.n_ubatch as usize, 1);
            // Ends when every sender is dropped, i.e. when the embedder is dropped.
            while let Ok(job) = jobs.recv() {
                let result = embed_sequences(&mut context, &mut batch, &config, &job.sequences);
                // The caller may have given up waiting; nothing to do then.
                let _ = job.reply.send(result);
            }
        },
    )
}

fn context_params(config: &WorkerConfig) -> LlamaContextParams {
    let flash = if config.flash_attention {
        llama_cpp_sys_2::LLAMA_FLASH_ATTN_TYPE_ENABLED
    } else {
        llama_cpp_sys_2::LLAMA_FLASH_ATTN_TYPE_DISABLED
    };
    LlamaContextParams::default()
        .with_n_ctx(NonZeroU32::new(config.n_ubatch))
        .with_n_batch(config.n_ubatch)
        .with_n_ubatch(config.n_ubatch)
        .with_n_seq_max(config.max_sequences as u32)
        .with_n_threads(config.threads)
        .with_n_threads_batch(config.threads)
        .with_embeddings(true)
        .with_pooling_type(config.pooling)
        .with_attention_type(LlamaAttentionType::NonCausal)
        .with_flash_attention_policy(flash)
}

fn embed_sequences(
    context: &mut LlamaContext<'_>,
    batch: &mut LlamaBatch<'_>,
    config: &WorkerConfig,
    sequences: &[Vec<LlamaToken>],
) -> Result<Vec<Vec<f32>>> {
    let lengths: Vec<usize> = sequences.iter().map(Vec::len).collect();
    if let Some((index, &tokens)) = lengths
        .iter()
        .enumerate()
        .find(|&(_, &len)| len == 0 || len > config.n_ubatch as usize)
    {
        // The embedder checks lengths before sending; this guards the process against
        // llama.cpp's abort should that check ever be bypassed.
        return Err(LlamaError::TextTooLong {
            index,
            tokens,
            limit: config.n_ubatch as usize,
        });
    }
    let plan = plan_batches(
        &lengths,
        config.batch_tokens,
        config.max_sequences,
        config.pack_sequences,
    );
    let mut results: Vec<Vec<f32>> = vec![Vec::new(); sequences.len()];
    for members in plan {
        batch.clear();
        for (seq_id, &index) in members.iter().enumerate() {
            batch
                .add_sequence(&sequences[index], seq_id as i32, false)
                .map_err(|e| LlamaError::Inference(e.to_string()))?;
        }
        context
            .encode(batch)
            .map_err(|e| LlamaError::Inference(e.to_string()))?;
        for (seq_id, &index) in members.iter().enumerate() {
            let pooled = context
                .embeddings_seq_ith(seq_id as i32)
                .map_err(|e| LlamaError::Inference(e.to_string()))?;
            results[index] = l2_normalised(pooled);
        }
    }
    Ok(results)
}

/// Groups sequence indices into batches of at most `budget` tokens and `max_sequences`
/// sequences (first-fit, longest first). A sequence longer than the budget gets a batch
/// of its own. Without packing, every sequence is its own batch.
pub(crate) fn plan_batches(
    lengths: &[usize],
    budget: usize,
    max_sequences: usize,
    pack: bool,
) -> Vec<Vec<usize>> {
    if !pack {
        return (0..lengths.len()).map(|i| vec![i]).collect();
    }
    let mut order: Vec<usize> = (0..lengths.len()).collect();
    order.sort_by_key(|&i| Reverse(lengths[i]));
    let mut bins: Vec<(usize, Vec<usize>)> = Vec::new();
    for index in order {
        let len = lengths[index];
        let fit = bins
            .iter_mut()
            .find(|(used, members)| used + len <= budget && members.len() < max_sequences);
        match fit {
            Some((used, members)) => {
                *used += len;
                members.push(index);
            }
            None => bins.push((len, vec![index])),
        }
    }
    bins.into_iter().map(|(_, members)| members).collect()
}

/// Scales a vector to unit length (a zero vector stays zero).
pub(crate) fn l2_normalised(values: &[f32]) -> Vec<f32> {
    let norm = values.iter().map(|v| v * v).sum::<f32>().sqrt();
    if norm > 0.0 {
        values.iter().map(|v| v / norm).collect()
    } else {
        values.to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::{l2_normalised, plan_batches};

    #[test]
    fn packing_respects_budget_and_sequence_limit() {
        let lengths = [200, 30, 30, 30, 256, 10, 10];
        let plan = plan_batches(&lengths, 256, 3, true);
        let mut seen: Vec<usize> = plan.iter().flatten().copied().collect();
        seen.sort_unstable();
        assert_eq!(seen, (0..lengths.len()).collect::<Vec<_>>());
        for members in &plan {
            let tokens: usize = members.iter().map(|&i| lengths[i]).sum();
            assert!(tokens <= 256 && members.len() <= 3, "{members:?}");
        }
    }

    #[test]
    fn without_packing_each_sequence_is_alone() {
        assert_eq!(plan_batches(&[5, 6], 256, 8, false), vec![vec![0], vec![1]]);
    }

    #[test]
    fn normalising_gives_unit_length() {
        let v = l2_normalised(&[3.0, 4.0]);
        assert!((v[0] - 0.6).abs() < 1e-6 && (v[1] - 0.8).abs() < 1e-6);
        assert_eq!(l2_normalised(&[0.0, 0.0]), vec![0.0, 0.0]);
    }
}
