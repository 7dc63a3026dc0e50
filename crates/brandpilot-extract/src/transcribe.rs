//! Audio and video transcription through an OpenAI-compatible
//! `POST {base_url}/v1/audio/transcriptions` endpoint, one block per returned segment.
//!
//! Video, and audio larger than one upload may be (OpenAI takes 25 MB), is first reduced
//! with ffmpeg to 16 kHz mono WAV in segments of `segment_secs` (10 minutes: 19 MB each);
//! the segments are transcribed one after another and their timestamps shifted by where
//! each segment starts, so a two-hour webinar comes back as one timed transcript. This
//! module must never log or return the API key, and never put a provider's raw response
//! body into an error without trimming it.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use brandpilot_core::SourceKind;
use reqwest::blocking::multipart::{Form, Part};
use serde::Deserialize;

use crate::{Block, ExtractError, ExtractedDocument, Result};

/// Longest provider message we pass on to the user.
const MAX_PROVIDER_MESSAGE_CHARS: usize = 300;

/// Client for an OpenAI-compatible transcription service (OpenAI, Groq, a local
/// whisper.cpp or faster-whisper server).
#[derive(Debug, Clone)]
pub struct Transcriber {
    /// Base URL without the `/v1/...` path, e.g. `https://api.openai.com`.
    pub base_url: String,
    pub api_key: Option<String>,
    /// Model name sent to the service, e.g. `whisper-1`.
    pub model: String,
    /// The ffmpeg executable used to pull audio out of video and to cut long audio.
    pub ffmpeg: PathBuf,
    /// Length of each segment long media is cut into, in seconds.
    pub segment_secs: u32,
    /// Audio files up to this size are sent as they are; larger ones are cut.
    pub split_above_bytes: u64,
}

/// 16 kHz, mono, 16-bit samples.
const WAV_BYTES_PER_SECOND: u64 = 32_000;

impl Transcriber {
    pub fn new(base_url: impl Into<String>, model: impl Into<String>) -> Self {
        Self {
            base_url: base_url.into(),
            api_key: None,
            model: model.into(),
            ffmpeg: PathBuf::from("ffmpeg"),
            segment_secs: 600,
            split_above_bytes: 24 * 1024 * 1024,
        }
    }

    pub(crate) fn transcribe(
        &self,
        kind: SourceKind,
        file_name: &str,
        media: &[u8],
        timeout: Duration,
    ) -> Result<ExtractedDocument> {
        if kind != SourceKind::Video && media.len() as u64 <= self.split_above_bytes {
            let response = self.post(file_name.to_owned(), media.to_vec(), timeout)?;
            return Ok(ExtractedDocument {
                kind,
                title: None,
                blocks: response_to_blocks(response, 0),
            });
        }
        let mut blocks = Vec::new();
        let mut offset_ms = 0;
        for segment in self.to_wav_segments(kind, media)? {
            let duration_ms = wav_duration_ms(&segment);
            let response = self.post("audio.wav".to_owned(), segment, timeout)?;
            blocks.extend(response_to_blocks(response, offset_ms));
            offset_ms += duration_ms;
        }
        Ok(ExtractedDocument {
            kind,
            title: None,
            blocks,
        })
    }

    fn post(
        &self,
        upload_name: String,
        upload: Vec<u8>,
        timeout: Duration,
    ) -> Result<TranscriptionResponse> {
        let client = reqwest::blocking::Client::builder()
            .timeout(timeout)
            .build()
            .map_err(|error| ExtractError::TranscriptionUnavailable {
                reason: format!("cannot create the HTTP client: {error}"),
            })?;
        let file_part = Part::bytes(upload).file_name(upload_name);
        let form = Form::new()
            .text("model", self.model.clone())
            .text("response_format", "verbose_json")
            .text("timestamp_granularities[]", "segment")
            .part("file", file_part);
        let url = format!(
            "{}/v1/audio/transcriptions",
            self.base_url.trim_end_matches('/')
        );
        let mut request = client.post(&url).multipart(form);
        if let Some(api_key) = &self.api_key {
            request = request.bearer_auth(api_key);
        }
        let response = request
            .send()
            .map_err(|error| transport_error(&error, timeout))?;
        let status = response.status();
        let body = response
            .text()
            .map_err(|error| transport_error(&error, timeout))?;
        if status.is_client_error() {
            return Err(ExtractError::TranscriptionRejected {
                status: status.as_u16(),
                message: provider_message(&body),
            });
        }
        if !status.is_success() {
            return Err(ExtractError::TranscriptionUnavailable {
                reason: format!("HTTP {}: {}", status.as_u16(), provider_message(&body)),
            });
        }
        serde_json::from_str(&body).map_err(|error| ExtractError::TranscriptionResponse {
            reason: format!("not the verbose_json shape ({error})"),
        })
    }

    /// The media's audio as 16 kHz mono WAV segments of `segment_secs`, in order.
    fn to_wav_segments(&self, kind: SourceKind, media: &[u8]) -> Result<Vec<Vec<u8>>> {
        let directory =
            tempfile::tempdir().map_err(|error| ExtractError::io(std::env::temp_dir(), error))?;
        let input = directory.path().join("input");
        std::fs::write(&input, media).map_err(|error| ExtractError::io(&input, error))?;
        let pattern = directory.path().join("segment-%05d.wav");
        let result = Command::new(&self.ffmpeg)
            .args(["-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-i"])
            .arg(&input)
            .args(["-vn", "-ac", "1", "-ar", "16000", "-c:a", "pcm_s16le"])
            .args(["-map_metadata", "-1", "-fflags", "+bitexact"])
            .args(["-f", "segment", "-segment_time"])
            .arg(self.segment_secs.max(1).to_string())
            .arg(&pattern)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output();
        let finished = match result {
            Ok(finished) => finished,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Err(ExtractError::ToolMissing {
                    tool: "ffmpeg",
                    debian_package: "ffmpeg",
                });
            }
            Err(error) => return Err(ExtractError::io(&self.ffmpeg, error)),
        };
        if !finished.status.success() {
            tracing::info!(stderr = %String::from_utf8_lossy(&finished.stderr), "ffmpeg failed");
            return Err(ExtractError::corrupt(
                kind,
                "its audio track could not be decoded",
            ));
        }
        let mut names: Vec<PathBuf> = std::fs::read_dir(directory.path())
            .map_err(|error| ExtractError::io(directory.path(), error))?
            .filter_map(|entry| entry.ok().map(|entry| entry.path()))
            .filter(|path| {
                path.file_name()
                    .and_then(|name| name.to_str())
                    .is_some_and(|name| name.starts_with("segment-"))
            })
            .collect();
        // Zero-padded numbers: name order is time order.
        names.sort();
        if names.is_empty() {
            return Err(ExtractError::corrupt(kind, "it has no audio track"));
        }
        names.iter().map(|path| read_file(path)).collect()
    }
}

/// How long a 16 kHz mono 16-bit WAV plays: its `data` chunk's size over the byte rate.
fn wav_duration_ms(wav: &[u8]) -> u64 {
    let mut at = 12; // "RIFF", size, "WAVE"
    while at + 8 <= wav.len() {
        let id = &wav[at..at + 4];
        let size = u32::from_le_bytes([wav[at + 4], wav[at + 5], wav[at + 6], wav[at + 7]]);
        if id == b"data" {
            // A streaming writer may leave the size unset; the rest of the file is data.
            let size = if size == u32::MAX || size == 0 {
                (wav.len() - at - 8) as u64
            } else {
                u64::from(size)
            };
            return size * 1000 / WAV_BYTES_PER_SECOND;
        }
        at += 8 + size as usize + (size as usize & 1);
    }
    0
}

fn read_file(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|error| ExtractError::io(path, error))
}

fn transport_error(error: &reqwest::Error, timeout: Duration) -> ExtractError {
    if error.is_timeout() {
        return ExtractError::Timeout {
            operation: "transcription",
            seconds: crate::error::whole_seconds(timeout),
        };
    }
    // reqwest's messages name the URL but never the headers, so they are safe to keep.
    ExtractError::TranscriptionUnavailable {
        reason: error.to_string(),
    }
}

/// `{"error": {"message": ...}}` as OpenAI sends it, else the start of the body.
fn provider_message(body: &str) -> String {
    #[derive(Deserialize)]
    struct ErrorBody {
        error: ErrorDetail,
    }
    #[derive(Deserialize)]
    struct ErrorDetail {
        message: String,
    }
    let message = serde_json::from_str::<ErrorBody>(body)
        .map(|parsed| parsed.error.message)
        .unwrap_or_else(|_| body.to_owned());
    let message = crate::text::collapse_whitespace(&message);
    if message.chars().count() > MAX_PROVIDER_MESSAGE_CHARS {
        let truncated: String = message.chars().take(MAX_PROVIDER_MESSAGE_CHARS).collect();
        format!("{truncated}…")
    } else {
        message
    }
}

#[derive(Debug, Deserialize)]
struct TranscriptionResponse {
    #[serde(default)]
    text: String,
    #[serde(default)]
    segments: Option<Vec<Segment>>,
}

#[derive(Debug, Deserialize)]
struct Segment {
    start: f64,
    end: f64,
    text: String,
}

/// The response's segments as timed blocks, shifted by `offset_ms` (where the uploaded
/// segment starts in the whole recording).
fn response_to_blocks(response: TranscriptionResponse, offset_ms: u64) -> Vec<Block> {
    let segments = response.segments.unwrap_or_default();
    if segments.is_empty() {
        let text = response.text.trim();
        return if text.is_empty() {
            Vec::new()
        } else {
            vec![Block::paragraph(text)]
        };
    }
    segments
        .into_iter()
        .filter(|segment| !segment.text.trim().is_empty())
        .map(|segment| Block {
            start_ms: Some(offset_ms + seconds_to_ms(segment.start)),
            end_ms: Some(offset_ms + seconds_to_ms(segment.end)),
            ..Block::paragraph(segment.text.trim())
        })
        .collect()
}

/// Providers send seconds as floats; negative or NaN values become 0.
fn seconds_to_ms(seconds: f64) -> u64 {
    if seconds.is_finite() && seconds > 0.0 {
        (seconds * 1000.0).round() as u64
    } else {
        0
    }
}
