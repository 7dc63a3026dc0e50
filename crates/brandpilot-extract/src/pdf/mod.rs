//! PDF extractor: text per page, one block per paragraph, with the 1-based page number.
//!
//! Parsing tries `pdf_oxide` first and `pdf-extract` second. Both are large parsers fed
//! with hostile files, and either may panic or abort, so in production the parse runs in a
//! child process ([`PdfRunner::Subprocess`], see `worker`). This module must never let a
//! parser panic escape, and never report a parser's own error text to the user.

mod worker;

use std::ffi::OsString;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;

use brandpilot_core::SourceKind;
use serde::{Deserialize, Serialize};

use crate::text::{collapse_whitespace, split_paragraphs};
use crate::{Block, ExtractError, ExtractLimits, ExtractedDocument, Result};

pub use worker::pdf_worker_main;

/// Where PDF parsing happens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PdfRunner {
    /// In this process: for tests and fuzzing. An abort inside a parser kills the caller.
    InProcess,
    /// In a child process that reads the PDF on stdin and answers on stdout, killed at the
    /// timeout and capped in memory. In the binary: `program` = current exe,
    /// `args` = `["__extract-pdf"]`.
    Subprocess {
        program: PathBuf,
        args: Vec<OsString>,
    },
}

/// What a parse produced, as sent by the worker process on stdout.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum ParseOutcome {
    /// Text of every page, in order.
    Pages(Vec<String>),
    Encrypted,
    Corrupt,
}

pub fn extract_pdf(
    runner: &PdfRunner,
    limits: &ExtractLimits,
    bytes: &[u8],
) -> Result<ExtractedDocument> {
    let outcome = match runner {
        PdfRunner::InProcess => parse_pages(bytes),
        PdfRunner::Subprocess { program, args } => {
            worker::parse_in_child(program, args, limits, bytes)?
        }
    };
    match outcome {
        ParseOutcome::Pages(pages) => Ok(pages_to_document(&pages)),
        ParseOutcome::Encrypted => Err(ExtractError::Encrypted),
        ParseOutcome::Corrupt => Err(ExtractError::corrupt(
            SourceKind::Pdf,
            "no PDF reader could open it",
        )),
    }
}

fn pages_to_document(pages: &[String]) -> ExtractedDocument {
    let mut blocks = Vec::new();
    for (index, page_text) in pages.iter().enumerate() {
        let page = u32::try_from(index + 1).unwrap_or(u32::MAX);
        for paragraph in split_paragraphs(page_text) {
            // PDF line breaks are layout, not meaning: re-flow each paragraph.
            let text = collapse_whitespace(&paragraph.replace("-\n", ""));
            if !text.is_empty() {
                blocks.push(Block {
                    page: Some(page),
                    ..Block::paragraph(text)
                });
            }
        }
    }
    ExtractedDocument {
        kind: SourceKind::Pdf,
        title: None,
        blocks,
    }
}

/// Runs both parsers, each behind `catch_unwind`, and decides what the file is.
fn parse_pages(bytes: &[u8]) -> ParseOutcome {
    let primary = catch_unwind(AssertUnwindSafe(|| parse_with_pdf_oxide(bytes)));
    let primary = match primary {
        Ok(Ok(pages)) if has_text(&pages) => return ParseOutcome::Pages(pages),
        Ok(Err(OxideFailure::Encrypted)) => return ParseOutcome::Encrypted,
        Ok(Ok(pages)) => Some(pages),
        Ok(Err(OxideFailure::Other)) => None,
        Err(_) => {
            tracing::warn!("pdf_oxide panicked; trying pdf-extract");
            None
        }
    };
    let secondary = catch_unwind(AssertUnwindSafe(|| {
        pdf_extract::extract_text_from_mem_by_pages(bytes)
    }));
    match secondary {
        Ok(Ok(pages)) if has_text(&pages) => return ParseOutcome::Pages(pages),
        Ok(Err(error)) => tracing::info!(%error, "pdf-extract could not read a PDF"),
        Err(_) => tracing::warn!("pdf-extract panicked"),
        Ok(Ok(_)) => {}
    }
    // Both parsers failing on a file with an encryption dictionary almost always means a
    // password we do not have.
    if contains(bytes, b"/Encrypt") {
        return ParseOutcome::Encrypted;
    }
    match primary {
        Some(pages) => ParseOutcome::Pages(pages),
        None => ParseOutcome::Corrupt,
    }
}

enum OxideFailure {
    Encrypted,
    Other,
}

fn parse_with_pdf_oxide(bytes: &[u8]) -> Result<Vec<String>, OxideFailure> {
    let document = pdf_oxide::PdfDocument::from_bytes(bytes.to_vec()).map_err(oxide_failure)?;
    // Most encrypted PDFs only restrict printing and open with the empty user password;
    // only a real password stops us.
    if document.is_encrypted() && !matches!(document.authenticate(b""), Ok(true)) {
        return Err(OxideFailure::Encrypted);
    }
    let page_count = document.page_count().map_err(oxide_failure)?;
    let mut pages = Vec::with_capacity(page_count.min(10_000));
    for page_index in 0..page_count {
        pages.push(document.extract_text(page_index).map_err(oxide_failure)?);
    }
    Ok(pages)
}

fn oxide_failure(error: pdf_oxide::Error) -> OxideFailure {
    match error {
        pdf_oxide::Error::EncryptedPdf => OxideFailure::Encrypted,
        other => {
            tracing::info!(error = %other, "pdf_oxide could not read a PDF");
            OxideFailure::Other
        }
    }
}

fn has_text(pages: &[String]) -> bool {
    pages.iter().any(|page| !page.trim().is_empty())
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}
