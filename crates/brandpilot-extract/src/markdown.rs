//! Markdown extractor: headings (ATX and setext) build the heading path; paragraphs, list
//! items, table rows and code blocks become blocks.
//!
//! Raw HTML inside Markdown is dropped (its text would arrive with tags). This module must
//! never render HTML or follow links.

use crate::headings::HeadingStack;
use brandpilot_core::SourceKind;
use pulldown_cmark::{Event, HeadingLevel, Options, Parser, Tag, TagEnd};

use crate::text::{collapse_whitespace, decode_text};
use crate::{Block, ExtractedDocument, Result};

pub fn extract_markdown(bytes: &[u8]) -> Result<ExtractedDocument> {
    let text = decode_text(SourceKind::Markdown, bytes)?;
    let options = Options::ENABLE_TABLES
        | Options::ENABLE_YAML_STYLE_METADATA_BLOCKS
        | Options::ENABLE_STRIKETHROUGH;
    let mut builder = BlockBuilder::default();
    let mut metadata_depth = 0usize;
    for event in Parser::new_ext(&text, options) {
        match event {
            Event::Start(Tag::MetadataBlock(_)) => metadata_depth += 1,
            Event::End(TagEnd::MetadataBlock(_)) => {
                metadata_depth = metadata_depth.saturating_sub(1)
            }
            _ if metadata_depth > 0 => {}
            Event::Start(Tag::Heading { level, .. }) => {
                builder.flush();
                builder.heading_level = Some(level);
            }
            Event::End(TagEnd::Heading(_)) => builder.finish_heading(),
            Event::Start(Tag::CodeBlock(_)) => {
                builder.flush();
                builder.in_code_block = true;
            }
            Event::End(TagEnd::CodeBlock) => {
                builder.flush();
                builder.in_code_block = false;
            }
            // A nested list or a new item ends the text of the item that contains it.
            Event::Start(
                Tag::Item | Tag::List(_) | Tag::Paragraph | Tag::TableRow | Tag::TableHead,
            ) => builder.flush(),
            Event::End(
                TagEnd::Paragraph
                | TagEnd::Item
                | TagEnd::TableRow
                | TagEnd::TableHead
                | TagEnd::BlockQuote(_),
            ) => builder.flush(),
            Event::End(TagEnd::TableCell) => builder.current.push_str(" | "),
            Event::Text(text) | Event::Code(text) => builder.current.push_str(&text),
            Event::SoftBreak | Event::HardBreak => builder.current.push('\n'),
            _ => {}
        }
    }
    builder.flush();
    Ok(ExtractedDocument {
        kind: SourceKind::Markdown,
        title: builder.title,
        blocks: builder.blocks,
    })
}

#[derive(Default)]
struct BlockBuilder {
    blocks: Vec<Block>,
    current: String,
    headings: HeadingStack,
    heading_level: Option<HeadingLevel>,
    in_code_block: bool,
    title: Option<String>,
}

impl BlockBuilder {
    fn flush(&mut self) {
        let raw = std::mem::take(&mut self.current);
        // Code keeps its layout; prose is re-flowed so soft wraps do not split words.
        let text = if self.in_code_block {
            raw.trim_end().to_owned()
        } else {
            collapse_whitespace(raw.trim().trim_end_matches('|'))
        };
        if text.trim().is_empty() {
            return;
        }
        let heading_path = self.headings.path();
        self.blocks.push(Block {
            heading_path,
            ..Block::paragraph(text)
        });
    }

    fn finish_heading(&mut self) {
        let title = collapse_whitespace(&std::mem::take(&mut self.current));
        let Some(level) = self.heading_level.take() else {
            return;
        };
        if title.is_empty() {
            return;
        }
        if level == HeadingLevel::H1 && self.title.is_none() {
            self.title = Some(title.clone());
        }
        self.headings.enter(level as u8, title.clone());
        let heading_path = self.headings.path();
        self.blocks.push(Block {
            heading_path,
            is_heading: true,
            ..Block::paragraph(title)
        });
    }
}
