//! Fuzz target: arbitrary bytes named `input.docx` through the in-process extractor must
//! return Ok or an ExtractError, never panic, hang or abort.
#![no_main]

use brandpilot_extract::{ExtractLimits, Extractor, PdfRunner};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let extractor = Extractor::new(ExtractLimits::default(), PdfRunner::InProcess, None);
    let _ = extractor.extract_bytes("input.docx", data);
});
