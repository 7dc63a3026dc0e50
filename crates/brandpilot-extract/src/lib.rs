//! Turns a file into structured text blocks with locators (page, heading path, timestamps,
//! CSV row) so that later stages can chunk, cite and search it.
//!
//! Extraction is synchronous and CPU-bound: callers run it on a blocking thread, never on an
//! async worker. This crate must never panic on input, never trust sizes declared inside a
//! file, and never show a parser's internal error text to a user (it goes to the log).
//!
//! Entry points: [`Extractor::extract_file`], [`Extractor::extract_bytes`], [`walk`] and
//! [`detect_kind`]. PDFs are parsed in a child process in production ([`PdfRunner`]); the
//! binary must expose [`pdf_worker_main`] as its hidden `__extract-pdf` subcommand.

mod captions;
mod detect;
mod docx;
mod error;
mod extractor;
mod headings;
mod html;
mod markdown;
mod pdf;
mod table;
mod text;
mod transcribe;
mod walk;

use std::time::Duration;

pub use brandpilot_core::SourceKind;
pub use detect::detect_kind;
pub use error::ExtractError;
pub use extractor::Extractor;
pub use pdf::{PdfRunner, pdf_worker_main};
pub use transcribe::Transcriber;
pub use walk::walk;

/// `Result` with this crate's error as the default.
pub type Result<T, E = ExtractError> = std::result::Result<T, E>;

const MIB: u64 = 1024 * 1024;

/// Resource caps that keep one hostile or huge file from taking the process down.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtractLimits {
    /// Files larger than this are refused before they are read whole.
    pub max_file_bytes: u64,
    /// Total bytes we agree to inflate from a DOCX archive (zip bomb guard).
    pub max_decompressed_bytes: u64,
    /// Wall-clock time the PDF child process gets before it is killed.
    pub pdf_timeout: Duration,
    /// Address-space cap of the PDF child process.
    pub pdf_memory_bytes: u64,
    /// Time allowed for one transcription request (upload and response).
    pub transcription_timeout: Duration,
}

impl Default for ExtractLimits {
    fn default() -> Self {
        Self {
            max_file_bytes: 50 * MIB,
            max_decompressed_bytes: 200 * MIB,
            pdf_timeout: Duration::from_secs(60),
            pdf_memory_bytes: 1024 * MIB,
            transcription_timeout: Duration::from_secs(600),
        }
    }
}

/// One unit of extracted text (a paragraph, heading, table row or cue) and where it was.
///
/// A heading block carries its own title as the last element of `heading_path`; any other
/// block carries the path of the headings it sits under.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Block {
    pub text: String,
    /// 1-based page number (PDF).
    pub page: Option<u32>,
    /// Titles of the enclosing headings, outermost first.
    pub heading_path: Vec<String>,
    /// Start of a cue or transcript segment, in milliseconds from the start of the media.
    pub start_ms: Option<u64>,
    pub end_ms: Option<u64>,
    /// 1-based data row (CSV; the header row is not counted).
    pub row: Option<u64>,
    pub is_heading: bool,
}

impl Block {
    /// A body block with no locator yet.
    pub fn paragraph(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            ..Self::default()
        }
    }
}

/// The result of extracting one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtractedDocument {
    pub kind: SourceKind,
    pub title: Option<String>,
    pub blocks: Vec<Block>,
}

impl ExtractedDocument {
    /// All block texts joined by blank lines; handy for previews and tests.
    pub fn full_text(&self) -> String {
        let texts: Vec<&str> = self
            .blocks
            .iter()
            .map(|block| block.text.as_str())
            .collect();
        texts.join("\n\n")
    }
}
