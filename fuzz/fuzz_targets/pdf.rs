//! Fuzz target: arbitrary bytes named `input.pdf` through the in-process extractor must
//! return Ok or an ExtractError, never panic out of it, hang or abort.
//!
//! The PDF parsers underneath panic on hostile files by design; the extractor runs each
//! behind `catch_unwind` (and the server runs them in a child process besides). libFuzzer's
//! panic hook would abort on those caught panics too, so this target replaces it with a
//! silent one: a panic that escapes the extractor still aborts (libfuzzer-sys catches it at
//! the top and aborts), and its input is saved.
#![no_main]

use brandpilot_extract::{ExtractLimits, Extractor, PdfRunner};
use libfuzzer_sys::fuzz_target;

fuzz_target!(
    init: std::panic::set_hook(Box::new(|_| {})),
    |data: &[u8]| {
        let extractor = Extractor::new(ExtractLimits::default(), PdfRunner::InProcess, None);
        let _ = extractor.extract_bytes("input.pdf", data);
    }
);
