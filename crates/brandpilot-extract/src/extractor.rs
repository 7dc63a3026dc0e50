//! The front door: checks size caps, detects the format and hands the bytes to the right
//! extractor, then refuses results that hold no text.
//!
//! This module must never read a file whole before checking its size against the cap.

use std::io::Read;
use std::path::Path;

use brandpilot_core::SourceKind;

use crate::detect::{DETECT_HEAD_BYTES, detect_kind};
use crate::{
    ExtractError, ExtractLimits, ExtractedDocument, PdfRunner, Result, Transcriber, captions, docx,
    html, markdown, pdf, table, text,
};

/// Extracts documents under fixed limits. Cheap to share between threads by reference.
#[derive(Debug, Clone)]
pub struct Extractor {
    limits: ExtractLimits,
    pdf_runner: PdfRunner,
    transcriber: Option<Transcriber>,
}

impl Extractor {
    pub fn new(
        limits: ExtractLimits,
        pdf_runner: PdfRunner,
        transcriber: Option<Transcriber>,
    ) -> Self {
        Self {
            limits,
            pdf_runner,
            transcriber,
        }
    }

    pub fn limits(&self) -> &ExtractLimits {
        &self.limits
    }

    /// Reads and extracts the file at `path`, refusing it before reading if it is larger
    /// than `max_file_bytes`.
    pub fn extract_file(&self, path: &Path) -> Result<ExtractedDocument> {
        let file = std::fs::File::open(path).map_err(|error| ExtractError::io(path, error))?;
        let declared_length = file
            .metadata()
            .map_err(|error| ExtractError::io(path, error))?
            .len();
        self.check_size(declared_length)?;
        // The file may grow between stat and read, so the read is capped as well.
        let mut bytes = Vec::with_capacity(usize::try_from(declared_length).unwrap_or(0));
        file.take(self.limits.max_file_bytes.saturating_add(1))
            .read_to_end(&mut bytes)
            .map_err(|error| ExtractError::io(path, error))?;
        let name = path
            .file_name()
            .map(|name| name.to_string_lossy())
            .unwrap_or_default();
        self.extract_bytes(&name, &bytes)
    }

    /// Extracts an upload. `name` is the file name as the user gave it; only its extension
    /// and stem are used.
    pub fn extract_bytes(&self, name: &str, bytes: &[u8]) -> Result<ExtractedDocument> {
        self.check_size(bytes.len() as u64)?;
        if bytes.is_empty() {
            return Err(ExtractError::Empty);
        }
        let path = Path::new(name);
        let head = &bytes[..bytes.len().min(DETECT_HEAD_BYTES)];
        let kind = detect_kind(path, head).ok_or_else(|| unsupported_file(path))?;
        let document = without_control_characters(self.extract_kind(kind, path, name, bytes)?);
        let has_text = document
            .blocks
            .iter()
            .any(|block| !block.text.trim().is_empty());
        if !has_text {
            return Err(ExtractError::Empty);
        }
        Ok(document)
    }

    fn extract_kind(
        &self,
        kind: SourceKind,
        path: &Path,
        name: &str,
        bytes: &[u8],
    ) -> Result<ExtractedDocument> {
        match kind {
            SourceKind::Pdf => pdf::extract_pdf(&self.pdf_runner, &self.limits, bytes),
            SourceKind::Docx => docx::extract_docx(bytes, self.limits.max_decompressed_bytes),
            SourceKind::Markdown => markdown::extract_markdown(bytes),
            SourceKind::Html => html::extract_html(bytes),
            SourceKind::Text => text::extract_text(bytes),
            SourceKind::Csv => {
                let stem = path.file_stem().and_then(|stem| stem.to_str());
                table::extract_csv(stem, bytes)
            }
            SourceKind::Srt => captions::extract_srt(bytes),
            SourceKind::Vtt => captions::extract_vtt(bytes),
            SourceKind::Audio | SourceKind::Video => {
                let transcriber = self.transcriber.as_ref().ok_or_else(|| {
                    ExtractError::unsupported(
                        "audio and video need a transcription service; set \
                         BRANDPILOT__TRANSCRIPTION__BASE_URL (and __API_KEY, __MODEL) to an \
                         OpenAI-compatible endpoint",
                    )
                })?;
                transcriber.transcribe(kind, name, bytes, self.limits.transcription_timeout)
            }
        }
    }

    fn check_size(&self, length: u64) -> Result<()> {
        if length > self.limits.max_file_bytes {
            return Err(ExtractError::TooLarge {
                what: "file",
                limit_bytes: self.limits.max_file_bytes,
            });
        }
        Ok(())
    }
}

fn unsupported_file(path: &Path) -> ExtractError {
    let described = match path.extension().and_then(|extension| extension.to_str()) {
        Some(extension) => format!("files of type .{extension} cannot be read"),
        None => "the file type could not be recognised".to_owned(),
    };
    ExtractError::unsupported(format!(
        "{described}; supported: PDF, DOCX, Markdown, HTML, text, CSV, SRT, WebVTT, audio and video"
    ))
}

/// Drops control characters other than tab and line breaks from everything extracted: they
/// carry no meaning in text, a file can hold any byte, and PostgreSQL refuses NUL in text.
fn without_control_characters(mut document: ExtractedDocument) -> ExtractedDocument {
    fn clean(text: &mut String) {
        if text
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
        {
            text.retain(|c| !c.is_control() || matches!(c, '\t' | '\n' | '\r'));
        }
    }
    if let Some(title) = &mut document.title {
        clean(title);
    }
    for block in &mut document.blocks {
        clean(&mut block.text);
        block.heading_path.iter_mut().for_each(clean);
    }
    document
}
