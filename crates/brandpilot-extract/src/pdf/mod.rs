//! PDF extractor: text per page, one block per paragraph, with the 1-based page number, and
//! the title from the document's information dictionary when it holds a real one (not a
//! file name or "Untitled", which word processors write by default).
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
    /// Text of every page, in order, and the metadata title.
    Pages {
        pages: Vec<String>,
        title: Option<String>,
    },
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
        ParseOutcome::Pages { pages, title } => {
            let mut document = pages_to_document(&pages);
            document.title = title;
            Ok(document)
        }
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
        Ok(Ok((pages, title))) if has_text(&pages) => {
            return ParseOutcome::Pages { pages, title };
        }
        Ok(Err(OxideFailure::Encrypted)) => return ParseOutcome::Encrypted,
        Ok(Ok(found)) => Some(found),
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
        Ok(Ok(pages)) if has_text(&pages) => {
            let title = primary.and_then(|(_, title)| title);
            return ParseOutcome::Pages { pages, title };
        }
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
        Some((pages, title)) => ParseOutcome::Pages { pages, title },
        None => ParseOutcome::Corrupt,
    }
}

enum OxideFailure {
    Encrypted,
    Other,
}

fn parse_with_pdf_oxide(bytes: &[u8]) -> Result<(Vec<String>, Option<String>), OxideFailure> {
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
    Ok((pages, info_title(&document)))
}

/// The `/Title` of the trailer's `/Info` dictionary, if it is a real title.
fn info_title(document: &pdf_oxide::PdfDocument) -> Option<String> {
    use pdf_oxide::object::Object;
    let info = document.trailer().as_dict()?.get("Info")?;
    let info = document.resolve_object(info).ok()?;
    let title = document
        .resolve_object(info.as_dict()?.get("Title")?)
        .ok()?;
    match title {
        Object::String(bytes) => real_title(&decode_text_string(&bytes)),
        _ => None,
    }
}

/// A PDF text string: UTF-16 with a byte-order mark, UTF-8 with one, else PDFDocEncoding
/// (read as Windows-1252, which agrees with it on every printable character but a few).
fn decode_text_string(bytes: &[u8]) -> String {
    if let Some(rest) = bytes.strip_prefix(&[0xFE, 0xFF]) {
        let units: Vec<u16> = rest
            .chunks_exact(2)
            .map(|pair| u16::from_be_bytes([pair[0], pair[1]]))
            .collect();
        return String::from_utf16_lossy(&units);
    }
    if let Some(rest) = bytes.strip_prefix(&[0xFF, 0xFE]) {
        let units: Vec<u16> = rest
            .chunks_exact(2)
            .map(|pair| u16::from_le_bytes([pair[0], pair[1]]))
            .collect();
        return String::from_utf16_lossy(&units);
    }
    if let Some(rest) = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        return String::from_utf8_lossy(rest).into_owned();
    }
    encoding_rs::WINDOWS_1252.decode(bytes).0.into_owned()
}

/// The title, unless it is what a tool writes when nobody gave one: a file name (often
/// after "Microsoft Word - "), "Untitled", or garbage.
fn real_title(raw: &str) -> Option<String> {
    let title = collapse_whitespace(raw);
    let title = title
        .strip_prefix("Microsoft Word - ")
        .unwrap_or(&title)
        .trim();
    let lower = title.to_lowercase();
    let file_name = [
        ".doc", ".docx", ".pdf", ".ppt", ".pptx", ".xls", ".xlsx", ".txt", ".rtf", ".odt", ".indd",
        ".pages", ".key", ".tex",
    ]
    .iter()
    .any(|extension| lower.ends_with(extension));
    let placeholder = matches!(lower.as_str(), "untitled" | "title" | "document" | "none");
    let usable = !title.is_empty()
        && title.chars().count() <= 200
        && !title.chars().any(|c| c.is_control() || c == '\u{FFFD}')
        && title.chars().any(char::is_alphanumeric);
    (usable && !file_name && !placeholder).then(|| title.to_owned())
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

#[cfg(test)]
mod tests {
    use super::{decode_text_string, real_title};

    #[test]
    fn text_strings_decode_from_each_encoding() {
        assert_eq!(decode_text_string(b"Caf\xe9 menu"), "Café menu");
        let utf16: Vec<u8> = [0xFE, 0xFF]
            .into_iter()
            .chain("Été ☕".encode_utf16().flat_map(u16::to_be_bytes))
            .collect();
        assert_eq!(decode_text_string(&utf16), "Été ☕");
        assert_eq!(
            decode_text_string(b"\xEF\xBB\xBFd\xC3\xA9j\xC3\xA0"),
            "déjà"
        );
    }

    #[test]
    fn placeholder_and_file_name_titles_are_not_titles() {
        assert_eq!(
            real_title("  Returns   policy 2026 "),
            Some("Returns policy 2026".into())
        );
        for junk in [
            "",
            "   ",
            "Untitled",
            "Microsoft Word - returns.docx",
            "scan_0042.PDF",
            "Slides.pptx",
            "---",
            "bad\u{0}title",
            "mojibake \u{FFFD}\u{FFFD}",
        ] {
            assert_eq!(real_title(junk), None, "{junk:?}");
        }
        assert_eq!(
            real_title("Microsoft Word - Returns Policy"),
            Some("Returns Policy".into())
        );
        assert_eq!(real_title(&"x".repeat(201)), None);
    }
}
