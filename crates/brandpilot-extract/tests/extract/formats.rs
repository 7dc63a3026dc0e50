//! Markdown, HTML, plain text and CSV happy paths with their locators, plus the front
//! door's size, emptiness and type checks.

use brandpilot_core::{Fault, FaultKind, SourceKind};
use brandpilot_extract::{ExtractError, ExtractLimits, ExtractedDocument, Extractor, PdfRunner};

use crate::support::{extract, extract_ok};

fn block<'a>(document: &'a ExtractedDocument, needle: &str) -> &'a brandpilot_extract::Block {
    document
        .blocks
        .iter()
        .find(|block| block.text.contains(needle))
        .unwrap_or_else(|| panic!("no block contains {needle:?}: {:#?}", document.blocks))
}

#[test]
fn markdown_headings_lists_and_code_keep_their_place() {
    let markdown = "---\nauthor: someone\n---\n# Brand Voice\n\nWe are friendly.\n\n## Do\n\n- Use plain words\n- Say *we*\n\nSetext Heading\n--------------\n\n```\nlet tone = \"warm\";\n```\n\n### Deep\nText under deep.\n\n# Second Top\nLast words\nwrapped here.\n";
    let document = extract_ok("voice.md", markdown.as_bytes());
    assert_eq!(document.kind, SourceKind::Markdown);
    assert_eq!(document.title.as_deref(), Some("Brand Voice"));
    assert_eq!(block(&document, "friendly").heading_path, ["Brand Voice"]);
    assert_eq!(
        block(&document, "plain words").heading_path,
        ["Brand Voice", "Do"]
    );
    assert_eq!(block(&document, "Say we").text, "Say we");
    assert_eq!(
        block(&document, "tone").heading_path,
        ["Brand Voice", "Setext Heading"]
    );
    assert_eq!(block(&document, "tone").text, "let tone = \"warm\";");
    assert_eq!(
        block(&document, "under deep").heading_path,
        ["Brand Voice", "Setext Heading", "Deep"]
    );
    assert_eq!(block(&document, "Last words").heading_path, ["Second Top"]);
    assert_eq!(
        block(&document, "Last words").text,
        "Last words wrapped here."
    );
    assert!(block(&document, "Second Top").is_heading);
    assert!(
        !document.full_text().contains("author"),
        "front matter leaked"
    );
}

const ARTICLE_PAGE: &str = r#"<!DOCTYPE html>
<html><head><title>Spring Sale | Acme</title><style>.x{color:red}</style>
<script>var tracking = "SHOULD NOT APPEAR";</script></head>
<body>
<header><a href="/">Acme home</a> <nav><a href="/a">Menu item nav-link</a></nav></header>
<main><article>
<h1>Spring Sale</h1>
<p>Our spring sale starts on the first of March and runs for three weeks, with discounts on every product line in the shop, online and in stores.</p>
<h2>Shipping</h2>
<p>Shipping is free for every order above fifty euros during the sale, and returns are free for thirty days after delivery, no questions asked.</p>
<p>Orders placed before noon ship on the same day from our warehouse in Lyon, so most customers receive their parcel within two working days.</p>
</article></main>
<aside>Related: sidebar-promo</aside>
<footer>Copyright footer-text</footer>
</body></html>"#;

#[test]
fn html_keeps_main_content_and_drops_boilerplate() {
    let document = extract_ok("sale.html", ARTICLE_PAGE.as_bytes());
    assert_eq!(document.kind, SourceKind::Html);
    assert_eq!(document.title.as_deref(), Some("Spring Sale | Acme"));
    let text = document.full_text();
    for boilerplate in [
        "SHOULD NOT APPEAR",
        "nav-link",
        "sidebar-promo",
        "footer-text",
        "color:red",
    ] {
        assert!(
            !text.contains(boilerplate),
            "{boilerplate:?} leaked into {text:?}"
        );
    }
    assert!(
        block(&document, "free for every order")
            .heading_path
            .ends_with(&["Shipping".to_owned()])
    );
    assert!(text.contains("same day from our warehouse"));
}

#[test]
fn short_html_without_an_article_still_yields_its_text() {
    let page = "<html><head><meta property=\"og:title\" content=\"Contact\"></head><body><nav>menu</nav><h1>Talk to us</h1><p>Call 555-0100.</p></body></html>";
    let document = extract_ok("contact.htm", page.as_bytes());
    assert_eq!(document.title.as_deref(), Some("Contact"));
    assert!(document.full_text().contains("Call 555-0100."));
    assert!(!document.full_text().contains("menu"));
}

#[test]
fn plain_text_splits_paragraphs_and_handles_encodings() {
    let document = extract_ok(
        "notes.txt",
        b"\xEF\xBB\xBFFirst line\nsame paragraph\r\n\r\nSecond paragraph\n",
    );
    let texts: Vec<&str> = document
        .blocks
        .iter()
        .map(|block| block.text.as_str())
        .collect();
    assert_eq!(texts, ["First line\nsame paragraph", "Second paragraph"]);

    let utf16: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain("Hallo Welt".encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    assert_eq!(extract_ok("de.txt", &utf16).full_text(), "Hallo Welt");
    assert_eq!(
        extract_ok("legacy.txt", b"Caf\xE9 cr\xE8me").full_text(),
        "Café crème"
    );
}

#[test]
fn binary_junk_named_txt_is_refused() {
    let junk: Vec<u8> = (0..2048u32)
        .map(|index| (index * 7919 % 256) as u8)
        .collect();
    let error = extract("junk.txt", &junk).expect_err("binary is not text");
    assert!(
        matches!(error, ExtractError::Corrupt { .. }),
        "got {error:?}"
    );
    assert_eq!(error.fault(), FaultKind::User);
}

#[test]
fn csv_rows_become_labelled_blocks_with_row_numbers() {
    let csv = "product,price,notes\nMug,12.50,\"Blue, glazed\"\n\nShirt,25\nCap,9,one size,extra\n";
    let document = extract_ok("catalogue.csv", csv.as_bytes());
    assert_eq!(document.title.as_deref(), Some("catalogue"));
    let rows: Vec<(Option<u64>, &str)> = document
        .blocks
        .iter()
        .map(|block| (block.row, block.text.as_str()))
        .collect();
    assert_eq!(
        rows,
        [
            (Some(1), "product: Mug; price: 12.50; notes: Blue, glazed"),
            (Some(2), "product: Shirt; price: 25"),
            (
                Some(3),
                "product: Cap; price: 9; notes: one size; column 4: extra"
            ),
        ]
    );
    let semicolons = extract_ok("eu.csv", "name;city\nAna;Porto\n".as_bytes());
    assert_eq!(semicolons.blocks[0].text, "name: Ana; city: Porto");
}

#[test]
fn empty_files_are_empty() {
    for name in [
        "a.txt", "a.md", "a.csv", "a.html", "a.srt", "a.pdf", "a.docx",
    ] {
        let error = extract(name, b"").expect_err("empty");
        assert!(
            matches!(error, ExtractError::Empty),
            "{name}: got {error:?}"
        );
    }
    for (name, bytes) in [
        ("blank.txt", &b"\n\n  \n"[..]),
        ("header.csv", b"a,b\n"),
        ("blank.md", b"#\n"),
    ] {
        let error = extract(name, bytes).expect_err("no text");
        assert!(
            matches!(error, ExtractError::Empty),
            "{name}: got {error:?}"
        );
    }
}

#[test]
fn unknown_types_are_unsupported() {
    let error = extract("setup.exe", b"MZ\x90\x00\x03").expect_err("not a document");
    assert!(
        matches!(error, ExtractError::Unsupported { .. }),
        "got {error:?}"
    );
    assert!(error.to_string().contains(".exe"));
}

#[test]
fn files_over_the_cap_are_refused_before_reading() {
    let directory = tempfile::tempdir().expect("temp dir");
    let path = directory.path().join("big.txt");
    std::fs::write(&path, "word ".repeat(1000)).expect("write");
    let limits = ExtractLimits {
        max_file_bytes: 1000,
        ..ExtractLimits::default()
    };
    let extractor = Extractor::new(limits, PdfRunner::InProcess, None);
    let error = extractor.extract_file(&path).expect_err("too large");
    assert!(
        matches!(
            error,
            ExtractError::TooLarge {
                limit_bytes: 1000,
                ..
            }
        ),
        "got {error:?}"
    );

    let small = directory.path().join("small.md");
    std::fs::write(&small, "# Hi\n\nthere").expect("write");
    let document = extractor.extract_file(&small).expect("small file reads");
    assert_eq!(document.title.as_deref(), Some("Hi"));

    let missing = extractor
        .extract_file(&directory.path().join("missing.txt"))
        .expect_err("missing");
    assert!(
        matches!(missing, ExtractError::Io { .. }),
        "got {missing:?}"
    );
    assert!(missing.to_string().contains("missing.txt"));
}

#[test]
fn control_characters_never_reach_the_text_but_tabs_and_line_breaks_do() {
    // A few stray control bytes in a long text (many would make it binary, refused).
    let filler = "Returns are accepted in any of our shops. ".repeat(20);
    let text = format!("Refunds within\x07 thirty days.\x08 {filler}\n\nKeep\tthe receipt.\x1b");
    let document = extract_ok("notes.txt", text.as_bytes());
    let texts: Vec<&str> = document.blocks.iter().map(|b| b.text.as_str()).collect();
    assert!(
        texts[0].starts_with("Refunds within thirty days. Returns"),
        "{texts:?}"
    );
    assert_eq!(texts[1], "Keep\tthe receipt.");
    assert!(
        texts
            .iter()
            .all(|t| !t.chars().any(|c| c.is_control() && c != '\t')),
        "{texts:?}"
    );
    let markdown = extract_ok(
        "guide.md",
        format!("# Ret\x07urns\n\nBody\x08 text. {filler}").as_bytes(),
    );
    assert_eq!(markdown.title.as_deref(), Some("Returns"));
    assert_eq!(markdown.blocks[1].heading_path, ["Returns"]);
}
