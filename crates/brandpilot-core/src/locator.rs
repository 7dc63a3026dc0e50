//! Where a chunk sits in its source, precisely enough for a person to click through to it.

use serde::{Deserialize, Serialize};

/// Position of a chunk inside its source. Every field that the source's format knows is set:
/// a PDF chunk has a page, a Markdown chunk a heading path, a transcript chunk a time span,
/// a CSV chunk a row range. The character span is always set and indexes the source's
/// extracted text (blocks joined by blank lines), in bytes of UTF-8.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChunkLocator {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<u32>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub heading_path: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_ms: Option<u64>,
    /// First and last data row (1-based, header excluded) for tabular sources.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rows: Option<(u64, u64)>,
    pub char_start: u64,
    pub char_end: u64,
}

impl ChunkLocator {
    /// A short human label: "p. 3 · Pricing › Refunds · 00:01:05–00:01:40".
    pub fn label(&self) -> String {
        let mut parts = Vec::new();
        if let Some(page) = self.page {
            parts.push(format!("p. {page}"));
        }
        if !self.heading_path.is_empty() {
            parts.push(self.heading_path.join(" › "));
        }
        if let (Some(start), Some(end)) = (self.start_ms, self.end_ms) {
            parts.push(format!("{}–{}", clock(start), clock(end)));
        }
        if let Some((first, last)) = self.rows {
            if first == last {
                parts.push(format!("row {first}"));
            } else {
                parts.push(format!("rows {first}–{last}"));
            }
        }
        if parts.is_empty() {
            parts.push(format!("chars {}–{}", self.char_start, self.char_end));
        }
        parts.join(" · ")
    }
}

fn clock(ms: u64) -> String {
    let seconds = ms / 1000;
    format!(
        "{:02}:{:02}:{:02}",
        seconds / 3600,
        seconds / 60 % 60,
        seconds % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_names_every_known_part() {
        let locator = ChunkLocator {
            page: Some(3),
            heading_path: vec!["Pricing".into(), "Refunds".into()],
            start_ms: Some(65_000),
            end_ms: Some(3_700_500),
            rows: None,
            char_start: 10,
            char_end: 20,
        };
        assert_eq!(
            locator.label(),
            "p. 3 · Pricing › Refunds · 00:01:05–01:01:40"
        );
    }

    #[test]
    fn label_falls_back_to_characters() {
        let locator = ChunkLocator {
            char_start: 5,
            char_end: 9,
            ..Default::default()
        };
        assert_eq!(locator.label(), "chars 5–9");
        let rows = ChunkLocator {
            rows: Some((4, 4)),
            ..Default::default()
        };
        assert_eq!(rows.label(), "row 4");
    }

    #[test]
    fn empty_fields_are_not_serialized() {
        let json = serde_json::to_string(&ChunkLocator::default()).unwrap();
        assert_eq!(json, r#"{"char_start":0,"char_end":0}"#);
    }
}
