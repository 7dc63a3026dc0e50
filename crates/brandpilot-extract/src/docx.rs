//! DOCX extractor: paragraphs of `word/document.xml`, with Title and Heading 1–9 styles
//! forming the heading path.
//!
//! Archive entries are inflated through a reader capped by the remaining decompression
//! budget, so a zip bomb stops at the cap whatever sizes the archive declares. This module
//! must never trust sizes or counts written inside the archive.

use crate::headings::HeadingStack;
use std::collections::HashMap;
use std::io::{Cursor, Read};

use brandpilot_core::SourceKind;
use quick_xml::Reader;
use quick_xml::events::{BytesRef, BytesStart, Event};
use zip::ZipArchive;
use zip::result::ZipError;

use crate::{Block, ExtractError, ExtractedDocument, Result};

/// OLE compound file magic: how password-protected Office documents are stored.
const OLE_MAGIC: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];

/// Heading level we give the Title style, above Heading 1.
const TITLE_LEVEL: u8 = 0;

pub fn extract_docx(bytes: &[u8], max_decompressed_bytes: u64) -> Result<ExtractedDocument> {
    if bytes.starts_with(OLE_MAGIC) {
        return Err(ExtractError::Encrypted);
    }
    let mut archive = ZipArchive::new(Cursor::new(bytes)).map_err(|error| zip_error(&error))?;
    let mut budget = DecompressionBudget {
        remaining: max_decompressed_bytes,
        limit: max_decompressed_bytes,
    };
    let styles = match read_entry(&mut archive, "word/styles.xml", &mut budget)? {
        Some(xml) => heading_styles(&xml),
        None => HashMap::new(),
    };
    let document = read_entry(&mut archive, "word/document.xml", &mut budget)?
        .ok_or_else(|| ExtractError::corrupt(SourceKind::Docx, "it has no word/document.xml"))?;
    let paragraphs = parse_paragraphs(&document)?;
    Ok(build_document(paragraphs, &styles))
}

struct DecompressionBudget {
    remaining: u64,
    limit: u64,
}

fn read_entry(
    archive: &mut ZipArchive<Cursor<&[u8]>>,
    name: &str,
    budget: &mut DecompressionBudget,
) -> Result<Option<String>> {
    let entry = match archive.by_name(name) {
        Ok(entry) => entry,
        Err(ZipError::FileNotFound) => return Ok(None),
        Err(error) => return Err(zip_error(&error)),
    };
    let mut inflated = Vec::new();
    // One byte past the budget tells "exactly at the cap" from "over it".
    entry
        .take(budget.remaining.saturating_add(1))
        .read_to_end(&mut inflated)
        .map_err(|_| {
            ExtractError::corrupt(SourceKind::Docx, format!("{name} cannot be inflated"))
        })?;
    let inflated_length = inflated.len() as u64;
    if inflated_length > budget.remaining {
        return Err(ExtractError::TooLarge {
            what: "decompressed content of the Word document",
            limit_bytes: budget.limit,
        });
    }
    budget.remaining -= inflated_length;
    String::from_utf8(inflated)
        .map(Some)
        .map_err(|_| ExtractError::corrupt(SourceKind::Docx, format!("{name} is not UTF-8 XML")))
}

fn zip_error(error: &ZipError) -> ExtractError {
    match error {
        ZipError::UnsupportedArchive(message) if *message == ZipError::PASSWORD_REQUIRED => {
            ExtractError::Encrypted
        }
        ZipError::InvalidPassword => ExtractError::Encrypted,
        _ => {
            tracing::info!(%error, "unreadable DOCX archive");
            ExtractError::corrupt(SourceKind::Docx, "it is not a readable zip archive")
        }
    }
}

/// Style id → heading level, from the style names in `styles.xml`. Localised Word versions
/// give styles ids like "berschrift1" but keep the English name "heading 1".
fn heading_styles(xml: &str) -> HashMap<String, u8> {
    let mut levels = HashMap::new();
    let mut reader = Reader::from_str(xml);
    let mut current_style_id: Option<String> = None;
    loop {
        match reader.read_event() {
            Ok(Event::Start(element) | Event::Empty(element)) => match element.name().as_ref() {
                "w:style" => current_style_id = attribute(&element, "w:styleId"),
                "w:name" => {
                    let level = attribute(&element, "w:val").and_then(|name| heading_level(&name));
                    if let (Some(style_id), Some(level)) = (&current_style_id, level) {
                        levels.insert(style_id.clone(), level);
                    }
                }
                _ => {}
            },
            Ok(Event::Eof) => break,
            // Styles only refine headings; a damaged styles part is not worth failing for.
            Err(_) => break,
            Ok(_) => {}
        }
    }
    levels
}

/// "Heading 3" / "heading3" → 3, "Title" → 0.
fn heading_level(style: &str) -> Option<u8> {
    let compact: String = style
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase();
    if compact == "title" {
        return Some(TITLE_LEVEL);
    }
    let level: u8 = compact.strip_prefix("heading")?.parse().ok()?;
    (1..=9).contains(&level).then_some(level)
}

fn attribute(element: &BytesStart<'_>, name: &str) -> Option<String> {
    element
        .try_get_attribute(name)
        .ok()
        .flatten()
        .and_then(|attribute| {
            attribute
                .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .ok()
                .map(|value| value.into_owned())
        })
}

struct Paragraph {
    style_id: Option<String>,
    text: String,
}

/// Paragraphs in document order. Text boxes nest paragraphs inside paragraphs, hence the
/// stack.
fn parse_paragraphs(xml: &str) -> Result<Vec<Paragraph>> {
    let mut reader = Reader::from_str(xml);
    let mut open: Vec<Paragraph> = Vec::new();
    let mut finished = Vec::new();
    let mut run_depth = 0usize;
    let mut in_text = false;
    loop {
        let event = reader.read_event().map_err(|error| {
            tracing::info!(%error, "malformed word/document.xml");
            ExtractError::corrupt(SourceKind::Docx, "its document XML is malformed")
        })?;
        match event {
            Event::Start(element) => match element.name().as_ref() {
                "w:p" => open.push(Paragraph {
                    style_id: None,
                    text: String::new(),
                }),
                "w:r" => run_depth += 1,
                "w:t" => in_text = true,
                _ => apply_empty_element(&element, &mut open, run_depth),
            },
            Event::Empty(element) => apply_empty_element(&element, &mut open, run_depth),
            Event::End(element) => match element.name().as_ref() {
                "w:p" => finished.extend(open.pop()),
                "w:r" => run_depth = run_depth.saturating_sub(1),
                "w:t" => in_text = false,
                _ => {}
            },
            Event::Text(text) if in_text => {
                if let Some(paragraph) = open.last_mut() {
                    paragraph.text.push_str(&text);
                }
            }
            Event::GeneralRef(reference) if in_text => {
                if let (Some(paragraph), Some(resolved)) = (open.last_mut(), resolve(&reference)) {
                    paragraph.text.push_str(&resolved);
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(finished)
}

fn apply_empty_element(element: &BytesStart<'_>, open: &mut [Paragraph], run_depth: usize) {
    let Some(paragraph) = open.last_mut() else {
        return;
    };
    match element.name().as_ref() {
        "w:pStyle" => paragraph.style_id = attribute(element, "w:val"),
        // Tab stops in paragraph properties are also `w:tab`; only those inside a run are
        // characters.
        "w:tab" if run_depth > 0 => paragraph.text.push('\t'),
        "w:br" | "w:cr" if run_depth > 0 => paragraph.text.push('\n'),
        _ => {}
    }
}

fn resolve(reference: &BytesRef<'_>) -> Option<String> {
    if let Ok(Some(character)) = reference.resolve_char_ref() {
        return Some(character.to_string());
    }
    quick_xml::escape::resolve_predefined_entity(reference).map(str::to_owned)
}

fn build_document(paragraphs: Vec<Paragraph>, styles: &HashMap<String, u8>) -> ExtractedDocument {
    let mut blocks = Vec::new();
    let mut headings = HeadingStack::default();
    let mut title = None;
    for paragraph in paragraphs {
        let text = paragraph.text.trim().to_owned();
        if text.is_empty() {
            continue;
        }
        let level = paragraph.style_id.as_deref().and_then(|style_id| {
            styles
                .get(style_id)
                .copied()
                .or_else(|| heading_level(style_id))
        });
        let Some(level) = level else {
            blocks.push(Block {
                heading_path: headings.path(),
                ..Block::paragraph(text)
            });
            continue;
        };
        let heading = crate::text::collapse_whitespace(&text);
        if title.is_none() && level <= 1 {
            title = Some(heading.clone());
        }
        headings.enter(level, heading.clone());
        blocks.push(Block {
            heading_path: headings.path(),
            is_heading: true,
            ..Block::paragraph(heading)
        });
    }
    ExtractedDocument {
        kind: SourceKind::Docx,
        title,
        blocks,
    }
}
