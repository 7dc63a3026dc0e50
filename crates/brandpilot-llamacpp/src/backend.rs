//! The process-wide llama.cpp backend: initialised once, on first use, by whichever model
//! (embedder now, chat LLM later) needs it first, with llama.cpp's logging routed into
//! `tracing` instead of stderr.
//!
//! Nothing else in the crate may call `LlamaBackend::init` (llama.cpp allows it once).

use std::ffi::{CStr, c_char, c_void};
use std::sync::OnceLock;

use llama_cpp_2::llama_backend::LlamaBackend;

use crate::error::{LlamaError, Result};

static BACKEND: OnceLock<std::result::Result<LlamaBackend, String>> = OnceLock::new();

/// Returns the initialised backend, initialising it (and the log routing) on first call.
pub fn backend() -> Result<&'static LlamaBackend> {
    BACKEND
        .get_or_init(|| {
            route_logs_to_tracing();
            LlamaBackend::init().map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|message| LlamaError::Backend(message.clone()))
}

/// llama.cpp and ggml log every model load in detail at INFO level. Those lines are
/// diagnostics for us, not events for an operator, so they go to `tracing` at DEBUG;
/// llama.cpp's errors become WARN because the failing call also returns an error that we
/// report ourselves.
fn route_logs_to_tracing() {
    // SAFETY: `forward_log` matches the `ggml_log_callback` signature, is a plain function
    // with no captured state (user data is null), never unwinds (tracing macros do not
    // panic) and only reads the NUL-terminated text for the duration of the call.
    unsafe {
        llama_cpp_sys_2::llama_log_set(Some(forward_log), std::ptr::null_mut());
    }
}

unsafe extern "C" fn forward_log(
    level: llama_cpp_sys_2::ggml_log_level,
    text: *const c_char,
    _user_data: *mut c_void,
) {
    if text.is_null() {
        return;
    }
    // SAFETY: llama.cpp passes a valid NUL-terminated string that outlives this call.
    let text = unsafe { CStr::from_ptr(text) }.to_string_lossy();
    let text = text.trim_end();
    if text.is_empty() {
        return;
    }
    if level == llama_cpp_sys_2::GGML_LOG_LEVEL_ERROR {
        tracing::warn!(target: "llama_cpp", "{text}");
    } else {
        tracing::debug!(target: "llama_cpp", "{text}");
    }
}

/// llama.cpp's own description of how it was built (SIMD features, threading, …), e.g.
/// `CPU : SSE3 = 1 | AVX = 1 | AVX2 = 1 | … | OPENMP = 1 |`.
pub fn system_info() -> String {
    // SAFETY: `llama_print_system_info` takes no arguments and returns a pointer to a
    // static, NUL-terminated buffer that stays valid until the next call; we copy it at once.
    let raw = unsafe { llama_cpp_sys_2::llama_print_system_info() };
    if raw.is_null() {
        return String::new();
    }
    // SAFETY: non-null, NUL-terminated, valid for the duration of this copy (see above).
    unsafe { CStr::from_ptr(raw) }
        .to_string_lossy()
        .into_owned()
}
