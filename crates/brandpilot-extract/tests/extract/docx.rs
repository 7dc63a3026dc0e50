//! DOCX: headings from paragraph styles, tabs and breaks, zip bombs, damaged archives.

use brandpilot_core::{Fault, FaultKind, SourceKind};
use brandpilot_extract::{ExtractError, ExtractLimits, Extractor, PdfRunner};

use crate::support::{docx_paragraph, docx_with_body, extract, extract_ok, zip_archive};

#[test]
fn headings_build_the_heading_path() {
    let body = [
        docx_paragraph(Some("Title"), "Spring Campaign"),
        docx_paragraph(None, "Intro paragraph."),
        docx_paragraph(Some("Heading1"), "Audience"),
        docx_paragraph(Some("Heading2"), "Age groups"),
        docx_paragraph(None, "Mostly 25 to 40."),
        docx_paragraph(Some("Heading1"), "Budget"),
        docx_paragraph(None, "Twelve thousand &amp; change."),
    ]
    .concat();
    let document = extract_ok("campaign.docx", &docx_with_body(&body));
    assert_eq!(document.kind, SourceKind::Docx);
    assert_eq!(document.title.as_deref(), Some("Spring Campaign"));
    let find = |text: &str| {
        document
            .blocks
            .iter()
            .find(|block| block.text == text)
            .unwrap_or_else(|| panic!("no block {text:?} in {:#?}", document.blocks))
    };
    assert_eq!(find("Intro paragraph.").heading_path, ["Spring Campaign"]);
    assert_eq!(
        find("Mostly 25 to 40.").heading_path,
        ["Spring Campaign", "Audience", "Age groups"]
    );
    assert_eq!(
        find("Twelve thousand & change.").heading_path,
        ["Spring Campaign", "Budget"]
    );
    assert!(find("Budget").is_heading);
    assert!(!find("Intro paragraph.").is_heading);
}

#[test]
fn tabs_and_breaks_inside_runs_are_kept_but_tab_stops_are_not() {
    let body = r#"<w:p><w:pPr><w:tabs><w:tab w:val="left" w:pos="720"/></w:tabs></w:pPr><w:r><w:t>Name</w:t><w:tab/><w:t>Value</w:t><w:br/><w:t>Next line</w:t></w:r><w:r><w:delText>deleted</w:delText></w:r></w:p>"#;
    let document = extract_ok("table.docx", &docx_with_body(body));
    assert_eq!(document.blocks.len(), 1);
    assert_eq!(document.blocks[0].text, "Name\tValue\nNext line");
}

#[test]
fn zip_bomb_stops_at_the_decompression_cap() {
    // 8 MiB of one repeated paragraph deflates to a few KiB.
    let paragraph = docx_paragraph(None, "bomb ");
    let body = paragraph.repeat(8 * 1024 * 1024 / paragraph.len());
    let bomb = docx_with_body(&body);
    assert!(
        bomb.len() < 512 * 1024,
        "the fixture should be small on disk"
    );
    let limits = ExtractLimits {
        max_decompressed_bytes: 1024 * 1024,
        ..ExtractLimits::default()
    };
    let extractor = Extractor::new(limits, PdfRunner::InProcess, None);
    let error = extractor
        .extract_bytes("bomb.docx", &bomb)
        .expect_err("over the cap");
    assert!(
        matches!(error, ExtractError::TooLarge { .. }),
        "got {error:?}"
    );
    assert_eq!(error.fault(), FaultKind::User);
}

#[test]
fn damaged_archives_are_corrupt() {
    let good = docx_with_body(&docx_paragraph(None, "hello"));
    let truncated = &good[..good.len() / 2];
    let error = extract("cut.docx", truncated).expect_err("truncated zip");
    assert!(
        matches!(
            error,
            ExtractError::Corrupt {
                kind: SourceKind::Docx,
                ..
            }
        ),
        "got {error:?}"
    );

    let not_word = zip_archive(&[("readme.txt", b"hello")]);
    let error = extract("other.docx", &not_word).expect_err("no document.xml");
    assert!(
        matches!(error, ExtractError::Corrupt { .. }),
        "got {error:?}"
    );

    let bad_xml = zip_archive(&[("word/document.xml", b"<w:document><w:body><w:p>")]);
    let result = extract("bad.docx", &bad_xml);
    assert!(
        matches!(
            result,
            Err(ExtractError::Corrupt { .. } | ExtractError::Empty)
        ),
        "got {result:?}"
    );
}

#[test]
fn password_protected_office_file_is_encrypted() {
    let mut ole = vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    ole.extend_from_slice(&[0; 512]);
    let error = extract("locked.docx", &ole).expect_err("encrypted");
    assert!(matches!(error, ExtractError::Encrypted), "got {error:?}");
}

#[test]
fn localised_heading_styles_are_recognised_through_styles_xml() {
    let styles = r#"<?xml version="1.0"?><w:styles xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:style w:type="paragraph" w:styleId="berschrift1"><w:name w:val="heading 1"/></w:style></w:styles>"#;
    let body = [
        docx_paragraph(Some("berschrift1"), "Zielgruppe"),
        docx_paragraph(None, "Junge Familien."),
    ]
    .concat();
    let document_xml = format!(
        r#"<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>{body}</w:body></w:document>"#
    );
    let docx = zip_archive(&[
        ("word/styles.xml", styles.as_bytes()),
        ("word/document.xml", document_xml.as_bytes()),
    ]);
    let document = extract_ok("de.docx", &docx);
    assert_eq!(document.title.as_deref(), Some("Zielgruppe"));
    let body_block = &document.blocks[1];
    assert_eq!(body_block.text, "Junge Familien.");
    assert_eq!(body_block.heading_path, ["Zielgruppe"]);
}
