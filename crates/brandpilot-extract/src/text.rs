//! Decoding bytes that should be text, and the plain-text extractor built on it.
//!
//! Every text-based format (Markdown, HTML, CSV, captions) decodes through
//! [`decode_text`], so binary junk is refused in one place. This module must never guess
//! an encoding for content that looks binary: that turns garbage into "text" in the index.

use brandpilot_core::SourceKind;

use crate::{Block, ExtractError, ExtractedDocument, Result};

/// Control characters (other than tab, newlines and form feed) tolerated per 1000 bytes
/// before we call the content binary.
const MAX_CONTROL_PER_MILLE: usize = 10;

/// Decodes `bytes` as UTF-8 (with or without BOM) or UTF-16 with a BOM; invalid UTF-8
/// falls back to Windows-1252, the usual encoding of legacy exports. Binary content is
/// refused.
pub fn decode_text(kind: SourceKind, bytes: &[u8]) -> Result<String> {
    let text = if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        decode_utf8_or_legacy(rest)
    } else if let Some(rest) = bytes.strip_prefix(b"\xFF\xFE") {
        decode_utf16(kind, rest, u16::from_le_bytes)?
    } else if let Some(rest) = bytes.strip_prefix(b"\xFE\xFF") {
        decode_utf16(kind, rest, u16::from_be_bytes)?
    } else {
        if bytes.contains(&0) {
            return Err(binary_content(kind));
        }
        decode_utf8_or_legacy(bytes)
    };
    let control_count = text
        .chars()
        .filter(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r' | '\x0C'))
        .count();
    if text.contains('\0') || control_count * 1000 > text.len().max(1) * MAX_CONTROL_PER_MILLE {
        return Err(binary_content(kind));
    }
    Ok(text)
}

fn binary_content(kind: SourceKind) -> ExtractError {
    ExtractError::corrupt(kind, "it contains binary data, not text")
}

fn decode_utf8_or_legacy(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_owned(),
        Err(_) => {
            let (text, _, _) = encoding_rs::WINDOWS_1252.decode(bytes);
            text.into_owned()
        }
    }
}

fn decode_utf16(kind: SourceKind, bytes: &[u8], to_unit: fn([u8; 2]) -> u16) -> Result<String> {
    let units = bytes
        .chunks_exact(2)
        .map(|pair| to_unit([pair[0], pair[1]]));
    char::decode_utf16(units)
        .collect::<Result<String, _>>()
        .map_err(|_| ExtractError::corrupt(kind, "it is not valid UTF-16 text"))
}

/// Plain text: one block per paragraph, paragraphs separated by blank lines.
pub fn extract_text(bytes: &[u8]) -> Result<ExtractedDocument> {
    let text = decode_text(SourceKind::Text, bytes)?;
    let blocks = split_paragraphs(&text)
        .into_iter()
        .map(Block::paragraph)
        .collect();
    Ok(ExtractedDocument {
        kind: SourceKind::Text,
        title: None,
        blocks,
    })
}

/// Splits on blank lines, trims each paragraph and drops empty ones. Line breaks inside a
/// paragraph are kept because they often carry meaning (addresses, verse, lists).
pub fn split_paragraphs(text: &str) -> Vec<String> {
    let normalised = text.replace("\r\n", "\n").replace('\r', "\n");
    let mut paragraphs = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    for line in normalised.split('\n') {
        let line = line.trim_end();
        if line.trim().is_empty() {
            push_paragraph(&mut paragraphs, &mut current);
        } else {
            current.push(line);
        }
    }
    push_paragraph(&mut paragraphs, &mut current);
    paragraphs
}

fn push_paragraph(paragraphs: &mut Vec<String>, lines: &mut Vec<&str>) {
    if !lines.is_empty() {
        paragraphs.push(lines.join("\n").trim().to_owned());
        lines.clear();
    }
}

/// Collapses runs of whitespace (including newlines) into single spaces.
pub fn collapse_whitespace(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_boms_and_legacy_encodings() {
        assert_eq!(
            decode_text(SourceKind::Text, b"\xEF\xBB\xBFhi").unwrap(),
            "hi"
        );
        assert_eq!(
            decode_text(SourceKind::Text, b"\xFF\xFEh\0i\0").unwrap(),
            "hi"
        );
        assert_eq!(
            decode_text(SourceKind::Text, b"\xFE\xFF\0h\0i").unwrap(),
            "hi"
        );
        assert_eq!(decode_text(SourceKind::Text, b"caf\xE9").unwrap(), "café");
        assert!(decode_text(SourceKind::Text, b"a\0b").is_err());
        assert!(decode_text(SourceKind::Text, b"\x01\x02\x03\x04abc").is_err());
    }

    #[test]
    fn paragraphs_split_on_blank_lines_only() {
        let paragraphs = split_paragraphs("one\ntwo\r\n\r\n  \nthree\n");
        assert_eq!(paragraphs, vec!["one\ntwo", "three"]);
    }
}
