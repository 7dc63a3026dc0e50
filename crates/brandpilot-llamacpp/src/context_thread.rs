//! The thread that owns one llama.cpp context. A context is neither `Send` nor `Sync` and
//! borrows its model, so it is created on, and never leaves, a dedicated thread; callers
//! talk to that thread over a channel of jobs. This is what makes the embedder and the
//! language model `Send + Sync`.

use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::thread::JoinHandle;

use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::context::params::LlamaContextParams;
use llama_cpp_2::model::LlamaModel;

use crate::backend::backend;
use crate::error::{LlamaError, Result};

/// Starts thread `name`, creates a context for `model` with `params` on it, and waits until
/// that succeeded (or returns why it failed). The thread then runs `serve` with the context
/// and the job queue; `serve` should return when the queue closes (every sender dropped).
pub(crate) fn spawn<J, F>(
    name: &str,
    model: Arc<LlamaModel>,
    params: LlamaContextParams,
    serve: F,
) -> Result<(Sender<J>, JoinHandle<()>)>
where
    J: Send + 'static,
    F: FnOnce(&LlamaModel, LlamaContext<'_>, Receiver<J>) + Send + 'static,
{
    let (ready_tx, ready_rx) = channel::<Result<()>>();
    let (job_tx, job_rx) = channel();
    let handle = std::thread::Builder::new()
        .name(name.into())
        .spawn(move || {
            let context = backend().and_then(|backend| {
                model
                    .new_context(backend, params)
                    .map_err(|e| LlamaError::Context(e.to_string()))
            });
            match context {
                Ok(context) => {
                    if ready_tx.send(Ok(())).is_ok() {
                        serve(&model, context, job_rx);
                    }
                }
                Err(error) => {
                    let _ = ready_tx.send(Err(error));
                }
            }
        })?;
    match ready_rx.recv() {
        Ok(Ok(())) => Ok((job_tx, handle)),
        Ok(Err(error)) => {
            // The thread returns right after reporting, so this join is immediate.
            let _ = handle.join();
            Err(error)
        }
        Err(_) => Err(LlamaError::WorkerGone),
    }
}
