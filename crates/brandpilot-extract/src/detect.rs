//! Decides which extractor a file needs, from its first bytes and then its name.
//!
//! Magic bytes win over the extension because uploads are often misnamed; text formats have
//! no reliable magic, so they are mostly recognised by extension. This module must never
//! read a file itself or look at more than the head it is given.

use std::path::Path;

use brandpilot_core::SourceKind;

/// How many leading bytes callers should pass to [`detect_kind`].
pub const DETECT_HEAD_BYTES: usize = 8192;

/// The kind of `path` judged from its leading bytes `head` and its extension, or `None`
/// when we have no extractor for it.
pub fn detect_kind(path: &Path, head: &[u8]) -> Option<SourceKind> {
    let extension = path
        .extension()
        .and_then(|extension| extension.to_str())
        .map(str::to_ascii_lowercase);
    let extension = extension.as_deref();
    if let Some(kind) = sniff_binary(head, extension) {
        return Some(kind);
    }
    match extension {
        // Generic text: a recognisable header is a stronger signal than ".txt".
        Some("txt" | "text") => Some(sniff_text(head).unwrap_or(SourceKind::Text)),
        // A container format without its magic: a recognisable text format (an HTML page
        // saved as ".pdf") is read as what it is; anything else goes to the extension's
        // extractor, which reports the file as damaged.
        Some(extension @ ("pdf" | "docx")) => sniff_text(head).or_else(|| by_extension(extension)),
        Some(extension) => by_extension(extension),
        None => sniff_text(head).or_else(|| looks_like_text(head).then_some(SourceKind::Text)),
    }
}

fn by_extension(extension: &str) -> Option<SourceKind> {
    let kind = match extension {
        "pdf" => SourceKind::Pdf,
        "docx" => SourceKind::Docx,
        "md" | "markdown" | "mdown" | "mkd" => SourceKind::Markdown,
        "html" | "htm" | "xhtml" => SourceKind::Html,
        "csv" | "tsv" => SourceKind::Csv,
        "srt" => SourceKind::Srt,
        "vtt" => SourceKind::Vtt,
        "mp3" | "wav" | "m4a" | "ogg" | "oga" | "opus" | "flac" | "aac" | "weba" => {
            SourceKind::Audio
        }
        "mp4" | "m4v" | "mov" | "webm" | "mkv" | "avi" | "ogv" => SourceKind::Video,
        _ => return None,
    };
    Some(kind)
}

/// Container formats with real magic numbers.
fn sniff_binary(head: &[u8], extension: Option<&str>) -> Option<SourceKind> {
    // The PDF spec lets the header sit anywhere in the first kilobyte.
    let pdf_window = &head[..head.len().min(1024)];
    if find(pdf_window, b"%PDF-").is_some() {
        return Some(SourceKind::Pdf);
    }
    if head.starts_with(b"PK\x03\x04") {
        // The first entry is usually [Content_Types].xml, so "word/" may only show up
        // further in; trust the extension when the head is too short to tell.
        let is_word = find(head, b"word/").is_some() || extension == Some("docx");
        return is_word.then_some(SourceKind::Docx);
    }
    // Password-protected Office files are OLE containers, not zips; the DOCX extractor
    // reports them as encrypted.
    if head.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) && extension == Some("docx") {
        return Some(SourceKind::Docx);
    }
    let video_by_extension = extension.and_then(by_extension) == Some(SourceKind::Video);
    let audio_by_extension = extension.and_then(by_extension) == Some(SourceKind::Audio);
    if head.len() >= 12 && head.starts_with(b"RIFF") {
        return match &head[8..12] {
            b"WAVE" => Some(SourceKind::Audio),
            b"AVI " => Some(SourceKind::Video),
            _ => None,
        };
    }
    if head.starts_with(b"ID3") || head.starts_with(b"fLaC") {
        return Some(SourceKind::Audio);
    }
    if head.starts_with(b"OggS") {
        return Some(if video_by_extension {
            SourceKind::Video
        } else {
            SourceKind::Audio
        });
    }
    if head.len() >= 12 && &head[4..8] == b"ftyp" {
        let is_audio_brand = matches!(&head[8..12], b"M4A " | b"M4B " | b"M4P ");
        return Some(if is_audio_brand || audio_by_extension {
            SourceKind::Audio
        } else {
            SourceKind::Video
        });
    }
    if head.starts_with(&[0x1A, 0x45, 0xDF, 0xA3]) {
        // Matroska/WebM; ".weba" is WebM holding audio only.
        return Some(if audio_by_extension {
            SourceKind::Audio
        } else {
            SourceKind::Video
        });
    }
    // MPEG audio frame sync without an ID3 tag: too weak alone, so require the extension.
    if head.len() >= 2 && head[0] == 0xFF && head[1] & 0xE0 == 0xE0 && audio_by_extension {
        return Some(SourceKind::Audio);
    }
    None
}

/// Text formats that announce themselves in their first line.
fn sniff_text(head: &[u8]) -> Option<SourceKind> {
    let text = strip_leading_noise(head);
    if text.starts_with(b"WEBVTT") {
        return Some(SourceKind::Vtt);
    }
    let lowered: Vec<u8> = text.iter().take(64).map(u8::to_ascii_lowercase).collect();
    if lowered.starts_with(b"<!doctype html") || lowered.starts_with(b"<html") {
        return Some(SourceKind::Html);
    }
    if looks_like_srt(text) {
        return Some(SourceKind::Srt);
    }
    None
}

/// An SRT file opens with a cue number line followed by a timing line.
fn looks_like_srt(text: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(&text[..text.len().min(256)]) else {
        return false;
    };
    let mut lines = text.lines();
    let index_is_number = lines.next().is_some_and(|line| {
        !line.trim().is_empty() && line.trim().chars().all(|c| c.is_ascii_digit())
    });
    index_is_number && lines.next().is_some_and(|line| line.contains("-->"))
}

fn strip_leading_noise(head: &[u8]) -> &[u8] {
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let start = head
        .iter()
        .position(|byte| !byte.is_ascii_whitespace())
        .unwrap_or(head.len());
    &head[start..]
}

/// No NUL bytes and valid UTF-8 (allowing a character cut at the end of the head).
fn looks_like_text(head: &[u8]) -> bool {
    if head.is_empty() || head.contains(&0) {
        return false;
    }
    match std::str::from_utf8(head) {
        Ok(_) => true,
        Err(error) => error.error_len().is_none(),
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(name: &str, head: &[u8]) -> Option<SourceKind> {
        detect_kind(Path::new(name), head)
    }

    #[test]
    fn magic_bytes_beat_a_misleading_extension() {
        assert_eq!(kind("report.txt", b"%PDF-1.7\n"), Some(SourceKind::Pdf));
        assert_eq!(
            kind("clip.bin", b"RIFF\0\0\0\0WAVEfmt "),
            Some(SourceKind::Audio)
        );
        assert_eq!(kind("x", b"\0\0\0\x18ftypisom"), Some(SourceKind::Video));
        assert_eq!(
            kind("x.m4a", b"\0\0\0\x18ftypisom"),
            Some(SourceKind::Audio)
        );
        assert_eq!(kind("song", b"ID3\x04"), Some(SourceKind::Audio));
        assert_eq!(kind("a.zip", b"PK\x03\x04rest"), None);
        assert_eq!(
            kind("a", b"PK\x03\x04....word/document.xml"),
            Some(SourceKind::Docx)
        );
    }

    #[test]
    fn text_formats_come_from_extension_or_header() {
        assert_eq!(kind("notes.MD", b"# Title"), Some(SourceKind::Markdown));
        assert_eq!(kind("subs.txt", b"WEBVTT\n\n"), Some(SourceKind::Vtt));
        assert_eq!(
            kind("page", b"  <!DOCTYPE html><html>"),
            Some(SourceKind::Html)
        );
        assert_eq!(
            kind("subs", b"1\r\n00:00:01,000 --> 00:00:02,000\r\nHi"),
            Some(SourceKind::Srt)
        );
        assert_eq!(kind("README", b"plain words"), Some(SourceKind::Text));
        assert_eq!(kind("blob", b"\0\x01\x02"), None);
        assert_eq!(kind("program.exe", b"MZ\x90\0"), None);
    }

    #[test]
    fn a_container_name_without_its_magic_is_sniffed_before_it_is_believed() {
        assert_eq!(kind("page.pdf", b"<html><body>"), Some(SourceKind::Html));
        assert_eq!(kind("subs.docx", b"WEBVTT\n\n"), Some(SourceKind::Vtt));
        // Not a recognisable text format: the PDF extractor says it is damaged.
        assert_eq!(kind("broken.pdf", b"garbage"), Some(SourceKind::Pdf));
        assert_eq!(kind("broken.docx", b"garbage"), Some(SourceKind::Docx));
    }
}
