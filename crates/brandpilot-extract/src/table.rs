//! CSV extractor: each data row becomes one block `header: value; header: value` so that a
//! row retrieved alone still says what its values mean.
//!
//! Rows may have more or fewer fields than the header (spreadsheet exports often do). This
//! module must never assume a record has as many fields as the header.

use brandpilot_core::SourceKind;

use crate::text::decode_text;
use crate::{Block, ExtractError, ExtractedDocument, Result};

pub fn extract_csv(file_stem: Option<&str>, bytes: &[u8]) -> Result<ExtractedDocument> {
    let text = decode_text(SourceKind::Csv, bytes)?;
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(&text);
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(true)
        .delimiter(guess_delimiter(text))
        .from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .map_err(|error| csv_error(&error))?
        .iter()
        .map(|header| header.trim().to_owned())
        .collect();
    let mut blocks = Vec::new();
    for (index, record) in reader.records().enumerate() {
        let record = record.map_err(|error| csv_error(&error))?;
        let fields: Vec<String> = record
            .iter()
            .enumerate()
            .filter(|(_, value)| !value.trim().is_empty())
            .map(|(column, value)| {
                let header = headers
                    .get(column)
                    .filter(|header| !header.is_empty())
                    .cloned()
                    .unwrap_or_else(|| format!("column {}", column + 1));
                format!("{header}: {}", value.trim())
            })
            .collect();
        if fields.is_empty() {
            continue;
        }
        blocks.push(Block {
            row: Some(index as u64 + 1),
            ..Block::paragraph(fields.join("; "))
        });
    }
    Ok(ExtractedDocument {
        kind: SourceKind::Csv,
        title: file_stem.map(str::to_owned),
        blocks,
    })
}

fn csv_error(error: &csv::Error) -> ExtractError {
    let reason = match error.position() {
        Some(position) => format!("unreadable record at line {}", position.line()),
        None => "unreadable record".to_owned(),
    };
    ExtractError::corrupt(SourceKind::Csv, reason)
}

/// European spreadsheet exports use ';' and many tools write tabs; pick whichever
/// separator the header line uses most, defaulting to ','.
fn guess_delimiter(text: &str) -> u8 {
    let header_line = text.lines().next().unwrap_or_default();
    [b',', b';', b'\t']
        .into_iter()
        .max_by_key(|delimiter| {
            let count = header_line.bytes().filter(|byte| byte == delimiter).count();
            // Ties go to ',' (earlier candidates win via the reversed index).
            (count, usize::from(*delimiter == b','))
        })
        .unwrap_or(b',')
}
