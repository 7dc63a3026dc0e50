//! SRT and WebVTT subtitle parsers: one block per cue with its start and end time.
//!
//! Both formats are small, so we parse them ourselves and tolerate what real files do
//! (CRLF, missing cue numbers, settings after the timing, styling tags). A damaged cue is
//! skipped with a warning; a file with no usable cue is corrupt. This module must never
//! index or slice strings in a way that can panic on arbitrary input.

use brandpilot_core::SourceKind;

use crate::text::{collapse_whitespace, decode_text};
use crate::{Block, ExtractError, ExtractedDocument, Result};

/// SubRip: `index`, `HH:MM:SS,mmm --> HH:MM:SS,mmm`, text lines, blank line.
pub fn extract_srt(bytes: &[u8]) -> Result<ExtractedDocument> {
    let text = decode_text(SourceKind::Srt, bytes)?;
    let blocks = parse_cues(SourceKind::Srt, &text, false)?;
    Ok(ExtractedDocument {
        kind: SourceKind::Srt,
        title: None,
        blocks,
    })
}

/// WebVTT: a `WEBVTT` header, then cues; NOTE, STYLE and REGION blocks are skipped.
pub fn extract_vtt(bytes: &[u8]) -> Result<ExtractedDocument> {
    let text = decode_text(SourceKind::Vtt, bytes)?;
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(&text);
    let first_line = text.lines().next().unwrap_or_default();
    let header_is_valid = first_line
        .strip_prefix("WEBVTT")
        .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t']));
    if !header_is_valid {
        return Err(ExtractError::corrupt(
            SourceKind::Vtt,
            "it does not start with the WEBVTT header",
        ));
    }
    let blocks = parse_cues(SourceKind::Vtt, text, true)?;
    Ok(ExtractedDocument {
        kind: SourceKind::Vtt,
        title: None,
        blocks,
    })
}

fn parse_cues(kind: SourceKind, text: &str, is_vtt: bool) -> Result<Vec<Block>> {
    let normalised = text.replace("\r\n", "\n").replace('\r', "\n");
    let mut blocks = Vec::new();
    let mut skipped_cues = 0usize;
    for (position, chunk) in normalised.split("\n\n").enumerate() {
        let lines: Vec<&str> = chunk
            .lines()
            .filter(|line| !line.trim().is_empty())
            .collect();
        let Some(first) = lines.first() else {
            continue;
        };
        if is_vtt && (position == 0 || is_vtt_metadata_block(first)) {
            // The first VTT chunk is the header and its optional metadata lines.
            continue;
        }
        let Some(timing_index) = lines.iter().position(|line| line.contains("-->")) else {
            skipped_cues += 1;
            continue;
        };
        // Only a cue number (SRT) or cue identifier (VTT) may stand before the timing.
        let Some((start_ms, end_ms)) = (timing_index <= 1)
            .then(|| parse_timing(lines[timing_index]))
            .flatten()
        else {
            skipped_cues += 1;
            continue;
        };
        let cue_text = lines[timing_index + 1..]
            .iter()
            .map(|line| clean_cue_line(line))
            .filter(|line| !line.is_empty())
            .collect::<Vec<_>>()
            .join("\n");
        if cue_text.is_empty() {
            continue;
        }
        blocks.push(Block {
            start_ms: Some(start_ms),
            end_ms: Some(end_ms),
            ..Block::paragraph(cue_text)
        });
    }
    if skipped_cues > 0 {
        tracing::warn!(%kind, skipped_cues, "skipped damaged subtitle cues");
    }
    if blocks.is_empty() && skipped_cues > 0 {
        return Err(ExtractError::corrupt(
            kind,
            "no readable subtitle cue was found",
        ));
    }
    Ok(blocks)
}

fn is_vtt_metadata_block(first_line: &str) -> bool {
    ["NOTE", "STYLE", "REGION"].iter().any(|keyword| {
        first_line
            .strip_prefix(keyword)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t']))
    })
}

/// `00:01:02,500 --> 00:01:04.000 align:start` → (62500, 64000). End before start is
/// treated as damage.
fn parse_timing(line: &str) -> Option<(u64, u64)> {
    let (start, rest) = line.split_once("-->")?;
    let end = rest.split_whitespace().next()?;
    let start_ms = parse_timestamp(start.trim())?;
    let end_ms = parse_timestamp(end)?;
    (end_ms >= start_ms).then_some((start_ms, end_ms))
}

/// `HH:MM:SS,mmm`, `HH:MM:SS.mmm` or `MM:SS.mmm`; hours may exceed two digits.
fn parse_timestamp(text: &str) -> Option<u64> {
    let (clock, millis) = text.split_once([',', '.'])?;
    if millis.is_empty() || millis.len() > 3 || !millis.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // "5" after the separator means 500 ms, as players read it.
    let millis: u64 = format!("{millis:0<3}").parse().ok()?;
    let parts: Vec<&str> = clock.split(':').collect();
    let (hours, minutes, seconds) = match parts.as_slice() {
        [hours, minutes, seconds] => (number(hours, 9)?, number(minutes, 2)?, number(seconds, 2)?),
        [minutes, seconds] => (0, number(minutes, 2)?, number(seconds, 2)?),
        _ => return None,
    };
    if minutes >= 60 || seconds >= 60 {
        return None;
    }
    Some(((hours * 60 + minutes) * 60 + seconds) * 1000 + millis)
}

fn number(text: &str, max_digits: usize) -> Option<u64> {
    let valid =
        !text.is_empty() && text.len() <= max_digits && text.bytes().all(|b| b.is_ascii_digit());
    valid.then(|| text.parse().ok()).flatten()
}

/// Removes markup from a cue line: HTML-like tags (`<b>`, `<c.yellow>`, `<00:01.000>`),
/// SSA overrides (`{\an8}`) and the common entities. A WebVTT voice tag `<v Name>` becomes
/// a `Name: ` prefix because who speaks matters for search.
fn clean_cue_line(line: &str) -> String {
    let mut cleaned = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(open) = rest.find(['<', '{']) {
        cleaned.push_str(&rest[..open]);
        let closer = if rest[open..].starts_with('<') {
            '>'
        } else {
            '}'
        };
        let Some(length) = rest[open..].find(closer) else {
            // An unclosed '<' is literal text, not a tag.
            cleaned.push_str(&rest[open..]);
            rest = "";
            break;
        };
        let tag = &rest[open + 1..open + length];
        if let Some(speaker) = tag.strip_prefix("v ").or_else(|| voice_with_class(tag)) {
            let speaker = speaker.trim();
            if !speaker.is_empty() {
                cleaned.push_str(speaker);
                cleaned.push_str(": ");
            }
        }
        rest = &rest[open + length + 1..];
    }
    cleaned.push_str(rest);
    let decoded = cleaned
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&nbsp;", " ")
        .replace("&amp;", "&");
    collapse_whitespace(&decoded)
}

/// `<v.loud Name>` carries classes before the speaker name.
fn voice_with_class(tag: &str) -> Option<&str> {
    let rest = tag.strip_prefix("v.")?;
    rest.split_once(' ').map(|(_, speaker)| speaker)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_parse_in_both_dialects() {
        assert_eq!(parse_timestamp("01:02:03,004"), Some(3_723_004));
        assert_eq!(parse_timestamp("02:03.5"), Some(123_500));
        assert_eq!(parse_timestamp("00:61:00,000"), None);
        assert_eq!(parse_timestamp("aa:bb:cc,ddd"), None);
        assert_eq!(parse_timing("00:00:05,000 --> 00:00:01,000"), None);
    }

    #[test]
    fn cue_markup_is_removed_and_speakers_kept() {
        assert_eq!(
            clean_cue_line("<v Ana>Hello <b>there</b></v>"),
            "Ana: Hello there"
        );
        assert_eq!(clean_cue_line("{\\an8}<i>Top</i> &amp; more"), "Top & more");
        assert_eq!(clean_cue_line("a < b"), "a < b");
    }
}
