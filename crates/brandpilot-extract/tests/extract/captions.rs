//! SRT and WebVTT: timestamps, markup removal, metadata blocks, damaged files.

use brandpilot_core::SourceKind;
use brandpilot_extract::ExtractError;

use crate::support::{extract, extract_ok};

#[test]
fn srt_cues_carry_their_times() {
    let srt = "1\r\n00:00:01,000 --> 00:00:03,500\r\n<i>Welcome</i> to the\r\nlaunch.\r\n\r\n00:01:02,250 --> 00:01:04,000 X1:10\r\n{\\an8}No index here\r\n\r\n3\r\nbroken timing line\r\nskipped\r\n\r\n4\n01:00:00,000 --> 01:00:01,000\nLast\n";
    let document = extract_ok("talk.srt", srt.as_bytes());
    assert_eq!(document.kind, SourceKind::Srt);
    let cues: Vec<(Option<u64>, Option<u64>, &str)> = document
        .blocks
        .iter()
        .map(|block| (block.start_ms, block.end_ms, block.text.as_str()))
        .collect();
    assert_eq!(
        cues,
        [
            (Some(1000), Some(3500), "Welcome to the\nlaunch."),
            (Some(62_250), Some(64_000), "No index here"),
            (Some(3_600_000), Some(3_601_000), "Last"),
        ]
    );
}

#[test]
fn vtt_skips_notes_and_styles_and_names_speakers() {
    let vtt = "WEBVTT - promo\n\nNOTE written by hand\nover two lines\n\nSTYLE\n::cue { color: red }\n\nintro\n00:05.000 --> 00:07.250 align:start\n<v Ana>Hello <c.loud>everyone</c></v>\n\n00:00:08.000 --> 00:00:09.000\nPrices &amp; plans\n";
    let document = extract_ok("promo.vtt", vtt.as_bytes());
    assert_eq!(document.kind, SourceKind::Vtt);
    let cues: Vec<(Option<u64>, Option<u64>, &str)> = document
        .blocks
        .iter()
        .map(|block| (block.start_ms, block.end_ms, block.text.as_str()))
        .collect();
    assert_eq!(
        cues,
        [
            (Some(5000), Some(7250), "Ana: Hello everyone"),
            (Some(8000), Some(9000), "Prices & plans"),
        ]
    );
}

#[test]
fn subtitle_files_without_a_readable_cue_are_corrupt() {
    let error = extract(
        "bad.srt",
        b"1\nnot a timestamp\nhello\n\n2\n00:00:xx,000 --> 1\nworld\n",
    )
    .expect_err("no cue parses");
    assert!(
        matches!(
            error,
            ExtractError::Corrupt {
                kind: SourceKind::Srt,
                ..
            }
        ),
        "got {error:?}"
    );

    let error = extract("bad.vtt", b"00:00.000 --> 00:01.000\nno header\n").expect_err("no header");
    assert!(
        matches!(
            error,
            ExtractError::Corrupt {
                kind: SourceKind::Vtt,
                ..
            }
        ),
        "got {error:?}"
    );
}
