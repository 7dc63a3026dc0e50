//! What a source is made of and where it stands in ingestion.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The format a source was extracted from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    Pdf,
    Docx,
    Markdown,
    Html,
    Text,
    Csv,
    Srt,
    Vtt,
    Audio,
    Video,
}

/// Where a source is in its life. `Failed` keeps the reason in the source's error field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceStatus {
    Pending,
    Processing,
    Ready,
    Failed,
}

/// A stored string that names no known variant: the store is newer than this binary, or
/// was edited by hand.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} {value:?}")]
pub struct UnknownVariant {
    pub what: &'static str,
    pub value: String,
}

macro_rules! string_enum {
    ($name:ident, $what:literal, { $($variant:ident => $text:literal),+ $(,)? }) => {
        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl FromStr for $name {
            type Err = UnknownVariant;
            fn from_str(text: &str) -> Result<Self, Self::Err> {
                match text {
                    $($text => Ok($name::$variant),)+
                    _ => Err(UnknownVariant { what: $what, value: text.to_owned() }),
                }
            }
        }
    };
}

string_enum!(SourceKind, "source kind", {
    Pdf => "pdf", Docx => "docx", Markdown => "markdown", Html => "html", Text => "text",
    Csv => "csv", Srt => "srt", Vtt => "vtt", Audio => "audio", Video => "video",
});

string_enum!(SourceStatus, "source status", {
    Pending => "pending", Processing => "processing", Ready => "ready", Failed => "failed",
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_variant_round_trips_through_its_name() {
        for kind in SourceKind::ALL {
            assert_eq!(kind.as_str().parse::<SourceKind>(), Ok(*kind));
            assert_eq!(serde_json::to_string(kind).unwrap(), format!("\"{kind}\""));
        }
        for status in SourceStatus::ALL {
            assert_eq!(status.as_str().parse::<SourceStatus>(), Ok(*status));
        }
        assert!("exe".parse::<SourceKind>().is_err());
    }
}
