//! HTML extractor: the main content of a page, without navigation, header, footer, aside,
//! scripts or styles, with h1–h6 forming the heading path.
//!
//! The readability port `dom_smoothie` picks the main content; when it finds nothing (short
//! pages, unusual markup) we walk the whole body with the boilerplate elements removed.
//! This module must never fetch anything a page references, and must never recurse over
//! the DOM (hostile pages nest deeply), so the walk uses an explicit stack.

use crate::headings::HeadingStack;
use brandpilot_core::SourceKind;
use dom_query::{Document, NodeRef};

use crate::text::{collapse_whitespace, decode_text};
use crate::{Block, ExtractedDocument, Result};

/// Elements whose content is never page content.
const SKIPPED_ELEMENTS: &[&str] = &[
    "script", "style", "noscript", "template", "nav", "header", "footer", "aside", "form", "svg",
    "iframe", "button", "select", "head",
];

/// Elements that start and end a block of text.
const BLOCK_ELEMENTS: &[&str] = &[
    "p",
    "div",
    "section",
    "article",
    "main",
    "li",
    "ul",
    "ol",
    "pre",
    "blockquote",
    "tr",
    "table",
    "dd",
    "dt",
    "dl",
    "figcaption",
    "figure",
    "address",
    "body",
];

/// Cap on elements handed to the readability scorer; beyond this we use the plain walk.
const MAX_READABILITY_ELEMENTS: usize = 100_000;

pub fn extract_html(bytes: &[u8]) -> Result<ExtractedDocument> {
    let html = decode_text(SourceKind::Html, bytes)?;
    let document = Document::from(html.as_str());
    let title = find_title(&document);
    // Readability drops an h1 that repeats the page title; it still heads the content.
    let page_heading = collapse_whitespace(&document.select("body h1").first().text());
    let mut blocks = readability_blocks(&html, &page_heading);
    if blocks.is_empty() {
        document.select(&SKIPPED_ELEMENTS.join(", ")).remove();
        blocks = walk_blocks(document.root(), Vec::new());
    }
    Ok(ExtractedDocument {
        kind: SourceKind::Html,
        title,
        blocks,
    })
}

fn find_title(document: &Document) -> Option<String> {
    let candidates = [
        document.select("head title").text().to_string(),
        document
            .select(r#"meta[property="og:title"]"#)
            .attr("content")
            .map(|content| content.to_string())
            .unwrap_or_default(),
        document.select("h1").first().text().to_string(),
    ];
    candidates
        .into_iter()
        .map(|candidate| collapse_whitespace(&candidate))
        .find(|candidate| !candidate.is_empty())
}

fn readability_blocks(html: &str, page_heading: &str) -> Vec<Block> {
    let config = dom_smoothie::Config {
        max_elements_to_parse: MAX_READABILITY_ELEMENTS,
        ..dom_smoothie::Config::default()
    };
    // dom_smoothie returns errors rather than panicking, but it is a large dependency fed
    // with hostile input; a panic there must cost us only the fallback.
    let parsed = std::panic::catch_unwind(|| {
        let mut readability = dom_smoothie::Readability::new(html, None, Some(config)).ok()?;
        readability.parse().ok()
    });
    match parsed {
        Ok(Some(article)) if !article.text_content.trim().is_empty() => {
            let content = Document::from(article.content.to_string().as_str());
            content.select(&SKIPPED_ELEMENTS.join(", ")).remove();
            let kept_its_h1 = content.select("h1").exists();
            let enclosing = if kept_its_h1 || page_heading.is_empty() {
                Vec::new()
            } else {
                vec![(1, page_heading.to_owned())]
            };
            walk_blocks(content.root(), enclosing)
        }
        Ok(_) => Vec::new(),
        Err(_) => {
            tracing::warn!("readability panicked on a page; falling back to the plain walk");
            Vec::new()
        }
    }
}

enum Step<'a> {
    Enter(NodeRef<'a>),
    Leave(String),
}

/// `enclosing` are headings the content sits under that are not part of it.
fn walk_blocks(root: NodeRef<'_>, enclosing: Vec<(u8, String)>) -> Vec<Block> {
    let mut builder = HtmlBlockBuilder {
        headings: HeadingStack::new(enclosing),
        ..HtmlBlockBuilder::default()
    };
    let mut stack = vec![Step::Enter(root)];
    while let Some(step) = stack.pop() {
        match step {
            Step::Enter(node) => {
                if node.is_text() {
                    builder.current.push_str(&node.text());
                    continue;
                }
                let Some(name) = node.node_name() else {
                    // The document node and fragments: just descend.
                    push_children(&mut stack, &node);
                    continue;
                };
                let name = name.to_ascii_lowercase();
                if SKIPPED_ELEMENTS.contains(&name.as_str()) {
                    continue;
                }
                if name == "br" {
                    builder.current.push('\n');
                    continue;
                }
                if heading_level(&name).is_some() || BLOCK_ELEMENTS.contains(&name.as_str()) {
                    builder.flush();
                } else if matches!(name.as_str(), "td" | "th") {
                    builder.current.push_str(" | ");
                }
                stack.push(Step::Leave(name));
                push_children(&mut stack, &node);
            }
            Step::Leave(name) => {
                if let Some(level) = heading_level(&name) {
                    builder.finish_heading(level);
                } else if BLOCK_ELEMENTS.contains(&name.as_str()) {
                    builder.flush();
                }
            }
        }
    }
    builder.flush();
    builder.blocks
}

fn push_children<'a>(stack: &mut Vec<Step<'a>>, node: &NodeRef<'a>) {
    // Reversed so that the first child is popped first.
    for child in node.children().into_iter().rev() {
        stack.push(Step::Enter(child));
    }
}

fn heading_level(name: &str) -> Option<u8> {
    match name {
        "h1" => Some(1),
        "h2" => Some(2),
        "h3" => Some(3),
        "h4" => Some(4),
        "h5" => Some(5),
        "h6" => Some(6),
        _ => None,
    }
}

#[derive(Default)]
struct HtmlBlockBuilder {
    blocks: Vec<Block>,
    current: String,
    headings: HeadingStack,
}

impl HtmlBlockBuilder {
    fn flush(&mut self) {
        let raw = std::mem::take(&mut self.current);
        let text = collapse_whitespace(raw.trim().trim_start_matches('|'));
        if text.is_empty() {
            return;
        }
        let heading_path = self.headings.path();
        self.blocks.push(Block {
            heading_path,
            ..Block::paragraph(text)
        });
    }

    fn finish_heading(&mut self, level: u8) {
        let title = collapse_whitespace(&std::mem::take(&mut self.current));
        if title.is_empty() {
            return;
        }
        self.headings.enter(level, title.clone());
        let heading_path = self.headings.path();
        self.blocks.push(Block {
            heading_path,
            is_heading: true,
            ..Block::paragraph(title)
        });
    }
}
