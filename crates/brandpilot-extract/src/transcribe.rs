//! Audio and video transcription through an OpenAI-compatible
//! `POST {base_url}/v1/audio/transcriptions` endpoint, one block per returned segment.
//!
//! Video is first reduced to 16 kHz mono WAV with ffmpeg so that uploads stay small. This
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
    /// The ffmpeg executable used to pull audio out of video.
    pub ffmpeg: PathBuf,
}

impl Transcriber {
    pub fn new(base_url: impl Into<String>, model: impl Into<String>) -> Self {
        Self {
            base_url: base_url.into(),
            api_key: None,
            model: model.into(),
            ffmpeg: PathBuf::from("ffmpeg"),
        }
    }

    pub(crate) fn transcribe(
        &self,
        kind: SourceKind,
        file_name: &str,
        media: &[u8],
        timeout: Duration,
    ) -> Result<ExtractedDocument> {
        let (upload_name, upload) = if kind == SourceKind::Video {
            ("audio.wav".to_owned(), self.video_to_wav(media)?)
        } else {
            (file_name.to_owned(), media.to_vec())
        };
        let response = self.post(upload_name, upload, timeout)?;
        Ok(ExtractedDocument {
            kind,
            title: None,
            blocks: response_to_blocks(response),
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

    fn video_to_wav(&self, video: &[u8]) -> Result<Vec<u8>> {
        let directory =
            tempfile::tempdir().map_err(|error| ExtractError::io(std::env::temp_dir(), error))?;
        let input = directory.path().join("input");
        let output = directory.path().join("audio.wav");
        std::fs::write(&input, video).map_err(|error| ExtractError::io(&input, error))?;
        let result = Command::new(&self.ffmpeg)
            .args(["-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-i"])
            .arg(&input)
            .args(["-vn", "-ac", "1", "-ar", "16000", "-f", "wav"])
            .arg(&output)
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
                SourceKind::Video,
                "its audio track could not be decoded",
            ));
        }
        read_file(&output)
    }
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

fn response_to_blocks(response: TranscriptionResponse) -> Vec<Block> {
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
            start_ms: Some(seconds_to_ms(segment.start)),
            end_ms: Some(seconds_to_ms(segment.end)),
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
