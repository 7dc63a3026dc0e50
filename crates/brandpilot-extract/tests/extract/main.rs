//! The crate's one integration-test binary (one binary saves link time). Each module covers
//! one area; `support` builds the fixture files (PDF, DOCX) in code so that no third-party
//! file is ever checked in.

mod captions;
mod docx;
mod formats;
mod pdf;
mod robustness;
mod support;
mod transcription;
mod walk;
