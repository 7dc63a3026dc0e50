//! Audio and video transcription against the fake OpenAI-compatible server: the multipart
//! request, segment mapping, error classification, timeouts, ffmpeg conversion.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use brandpilot_core::{Fault, FaultKind, SourceKind};
use brandpilot_extract::{ExtractError, ExtractLimits, Extractor, PdfRunner, Transcriber};
use brandpilot_testkit::transcription_server::{TranscriptionReply, TranscriptionServer};

/// An MP3 as far as detection goes; the fake server does not decode audio.
const FAKE_MP3: &[u8] = b"ID3\x04\x00\x00\x00\x00\x00\x00fake mpeg frames";

fn extractor_for(server: &TranscriptionServer, timeout: Duration) -> Extractor {
    let transcriber = Transcriber {
        api_key: Some("test-key".to_owned()),
        ..Transcriber::new(server.base_url(), "whisper-1")
    };
    let limits = ExtractLimits {
        transcription_timeout: timeout,
        ..ExtractLimits::default()
    };
    Extractor::new(limits, PdfRunner::InProcess, Some(transcriber))
}

#[test]
fn audio_segments_become_timed_blocks_and_the_request_is_well_formed() {
    let server = TranscriptionServer::start(TranscriptionReply::Segments(vec![
        (0.0, 1.5, " Hello and welcome.".to_owned()),
        (1.5, 3.25, " Today we launch.".to_owned()),
    ]));
    let document = extractor_for(&server, Duration::from_secs(30))
        .extract_bytes("episode.mp3", FAKE_MP3)
        .expect("transcribed");
    assert_eq!(document.kind, SourceKind::Audio);
    let cues: Vec<(Option<u64>, Option<u64>, &str)> = document
        .blocks
        .iter()
        .map(|block| (block.start_ms, block.end_ms, block.text.as_str()))
        .collect();
    assert_eq!(
        cues,
        [
            (Some(0), Some(1500), "Hello and welcome."),
            (Some(1500), Some(3250), "Today we launch."),
        ]
    );
    let uploads = server.uploads();
    assert_eq!(uploads.len(), 1);
    let upload = &uploads[0];
    assert_eq!(upload.model.as_deref(), Some("whisper-1"));
    assert_eq!(upload.response_format.as_deref(), Some("verbose_json"));
    assert_eq!(upload.timestamp_granularities, ["segment"]);
    assert_eq!(upload.file_name.as_deref(), Some("episode.mp3"));
    assert_eq!(upload.file_bytes, FAKE_MP3);
    assert_eq!(upload.authorization.as_deref(), Some("Bearer test-key"));
}

#[test]
fn text_only_answers_become_one_block() {
    let server =
        TranscriptionServer::start(TranscriptionReply::TextOnly("Just the words.".to_owned()));
    let document = extractor_for(&server, Duration::from_secs(30))
        .extract_bytes("memo.wav", b"RIFF\x24\x00\x00\x00WAVEfmt ")
        .expect("transcribed");
    assert_eq!(document.blocks.len(), 1);
    assert_eq!(document.blocks[0].text, "Just the words.");
    assert_eq!(document.blocks[0].start_ms, None);
}

#[test]
fn client_errors_are_the_users_with_the_providers_message() {
    let server = TranscriptionServer::start(TranscriptionReply::Error(
        400,
        "Audio file is too short.".to_owned(),
    ));
    let error = extractor_for(&server, Duration::from_secs(30))
        .extract_bytes("clip.mp3", FAKE_MP3)
        .expect_err("rejected");
    assert!(
        matches!(
            error,
            ExtractError::TranscriptionRejected { status: 400, .. }
        ),
        "got {error:?}"
    );
    assert!(
        error.to_string().contains("Audio file is too short."),
        "{error}"
    );
    assert_eq!(error.fault(), FaultKind::User);
    assert!(!error.to_string().contains("test-key"));
}

#[test]
fn server_errors_and_timeouts_are_transient() {
    let server =
        TranscriptionServer::start(TranscriptionReply::Error(503, "overloaded".to_owned()));
    let error = extractor_for(&server, Duration::from_secs(30))
        .extract_bytes("clip.mp3", FAKE_MP3)
        .expect_err("unavailable");
    assert!(
        matches!(error, ExtractError::TranscriptionUnavailable { .. }),
        "got {error:?}"
    );
    assert_eq!(error.fault(), FaultKind::Transient);

    let hanging = TranscriptionServer::start(TranscriptionReply::Hang);
    let error = extractor_for(&hanging, Duration::from_millis(500))
        .extract_bytes("clip.mp3", FAKE_MP3)
        .expect_err("timed out");
    assert!(
        matches!(error, ExtractError::Timeout { .. }),
        "got {error:?}"
    );
    assert_eq!(error.fault(), FaultKind::Transient);
}

#[test]
fn media_without_a_transcriber_explains_how_to_configure_one() {
    let extractor = Extractor::new(ExtractLimits::default(), PdfRunner::InProcess, None);
    let error = extractor
        .extract_bytes("clip.mp3", FAKE_MP3)
        .expect_err("not configured");
    assert!(
        matches!(error, ExtractError::Unsupported { .. }),
        "got {error:?}"
    );
    assert!(
        error
            .to_string()
            .contains("BRANDPILOT__TRANSCRIPTION__BASE_URL"),
        "{error}"
    );
}

fn require_ffmpeg() {
    let available = Command::new("ffmpeg")
        .arg("-version")
        .output()
        .is_ok_and(|output| output.status.success());
    assert!(
        available,
        "ffmpeg is required for the video tests: install it with `apt-get install -y ffmpeg`"
    );
}

/// A one-second MP4 with a test pattern and a sine tone, made by ffmpeg's lavfi sources.
fn tiny_video(directory: &std::path::Path) -> PathBuf {
    let path = directory.join("clip.mp4");
    let status = Command::new("ffmpeg")
        .args(["-nostdin", "-loglevel", "error", "-y"])
        .args(["-f", "lavfi", "-i", "testsrc=size=64x64:rate=5:duration=1"])
        .args(["-f", "lavfi", "-i", "sine=frequency=440:duration=1"])
        .args(["-c:v", "mpeg4", "-c:a", "aac", "-shortest"])
        .arg(&path)
        .status()
        .expect("run ffmpeg");
    assert!(status.success(), "ffmpeg could not make the test video");
    path
}

#[test]
fn video_is_converted_to_wav_before_upload() {
    require_ffmpeg();
    let directory = tempfile::tempdir().expect("temp dir");
    let video = tiny_video(directory.path());
    let server = TranscriptionServer::start(TranscriptionReply::Segments(vec![(
        0.0,
        1.0,
        "Beep.".to_owned(),
    )]));
    let document = extractor_for(&server, Duration::from_secs(30))
        .extract_file(&video)
        .expect("video transcribed");
    assert_eq!(document.kind, SourceKind::Video);
    assert_eq!(document.blocks[0].text, "Beep.");
    let upload = &server.uploads()[0];
    assert_eq!(upload.file_name.as_deref(), Some("audio.wav"));
    assert!(upload.file_bytes.starts_with(b"RIFF"), "not a WAV upload");
    assert_eq!(upload.file_bytes.get(8..12), Some(&b"WAVE"[..]));
}

#[test]
fn missing_ffmpeg_names_the_package_to_install() {
    require_ffmpeg();
    let directory = tempfile::tempdir().expect("temp dir");
    let video = std::fs::read(tiny_video(directory.path())).expect("read video");
    let server = TranscriptionServer::start(TranscriptionReply::TextOnly("unused".to_owned()));
    let transcriber = Transcriber {
        ffmpeg: PathBuf::from("/nonexistent/ffmpeg"),
        ..Transcriber::new(server.base_url(), "whisper-1")
    };
    let extractor = Extractor::new(
        ExtractLimits::default(),
        PdfRunner::InProcess,
        Some(transcriber),
    );
    let error = extractor
        .extract_bytes("clip.mp4", &video)
        .expect_err("no ffmpeg");
    assert!(
        matches!(error, ExtractError::ToolMissing { .. }),
        "got {error:?}"
    );
    assert!(
        error.to_string().contains("apt-get install ffmpeg"),
        "{error}"
    );
    assert!(server.uploads().is_empty());
}

/// Audio longer than one upload is cut into segments, each transcribed on its own, and the
/// transcript's times run on across them.
#[test]
fn long_audio_is_cut_into_segments_whose_times_run_on() {
    require_ffmpeg();
    let directory = tempfile::tempdir().expect("temp dir");
    let path = directory.path().join("webinar.wav");
    let status = Command::new("ffmpeg")
        .args(["-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i"])
        .arg("sine=frequency=440:duration=3:sample_rate=44100")
        .arg(&path)
        .status()
        .expect("run ffmpeg");
    assert!(status.success());
    let server = TranscriptionServer::start(TranscriptionReply::Segments(vec![(
        0.25,
        0.75,
        "Beep.".to_owned(),
    )]));
    let transcriber = Transcriber {
        segment_secs: 1,
        split_above_bytes: 1024,
        ..Transcriber::new(server.base_url(), "whisper-1")
    };
    let extractor = Extractor::new(
        ExtractLimits::default(),
        PdfRunner::InProcess,
        Some(transcriber),
    );
    let document = extractor.extract_file(&path).expect("transcribed");
    assert_eq!(document.kind, SourceKind::Audio);
    let uploads = server.uploads();
    assert_eq!(uploads.len(), 3, "three one-second segments");
    for upload in &uploads {
        assert!(upload.file_bytes.starts_with(b"RIFF"), "segments are WAV");
        assert!(
            upload.file_bytes.len() < 40_000,
            "a one-second 16 kHz mono segment, not the whole file"
        );
    }
    // Each segment starts where the ones before it end: their lengths, read from the
    // uploaded WAVs (44-byte header, 32,000 bytes a second), add up.
    let lengths_ms: Vec<u64> = uploads
        .iter()
        .map(|upload| (upload.file_bytes.len() as u64 - 44) * 1000 / 32_000)
        .collect();
    let total: u64 = lengths_ms.iter().sum();
    assert!(
        (2_950..=3_150).contains(&total),
        "segments add up to {total} ms"
    );
    let mut starts = Vec::new();
    let mut offset = 0;
    for length in &lengths_ms {
        starts.push((Some(offset + 250), Some(offset + 750)));
        offset += length;
    }
    let cues: Vec<(Option<u64>, Option<u64>)> = document
        .blocks
        .iter()
        .map(|block| (block.start_ms, block.end_ms))
        .collect();
    assert_eq!(cues, starts);
    assert!(
        cues[1].0 >= Some(1_000) && cues[2].0 >= Some(2_000),
        "{cues:?}"
    );

    // The same file under the size limit goes up whole, as it is.
    let whole = TranscriptionServer::start(TranscriptionReply::Segments(vec![(
        0.0,
        3.0,
        "Beep.".to_owned(),
    )]));
    let extractor = Extractor::new(
        ExtractLimits::default(),
        PdfRunner::InProcess,
        Some(Transcriber::new(whole.base_url(), "whisper-1")),
    );
    extractor.extract_file(&path).expect("transcribed");
    let uploads = whole.uploads();
    assert_eq!(uploads.len(), 1);
    assert_eq!(uploads[0].file_name.as_deref(), Some("webinar.wav"));
    assert_eq!(uploads[0].file_bytes, std::fs::read(&path).unwrap());
}
