//! Fixture builders: a tiny PDF writer and a DOCX (zip) writer, plus extractor helpers.

use std::io::{Cursor, Write};

use brandpilot_extract::{ExtractError, ExtractLimits, ExtractedDocument, Extractor, PdfRunner};

pub fn in_process_extractor() -> Extractor {
    Extractor::new(ExtractLimits::default(), PdfRunner::InProcess, None)
}

pub fn extract(name: &str, bytes: &[u8]) -> Result<ExtractedDocument, ExtractError> {
    in_process_extractor().extract_bytes(name, bytes)
}

/// Extraction that must succeed; the error is shown when it does not.
pub fn extract_ok(name: &str, bytes: &[u8]) -> ExtractedDocument {
    match extract(name, bytes) {
        Ok(document) => document,
        Err(error) => panic!("extracting {name} failed: {error} ({error:?})"),
    }
}

/// A valid PDF with one page per entry of `pages`; each page holds its lines in Helvetica,
/// a blank line's worth of space between entries so parsers see paragraphs.
pub fn pdf_with_pages(pages: &[&[&str]]) -> Vec<u8> {
    build_pdf(pages, false, None)
}

/// The same, with a document information dictionary (`info` is its PDF source, e.g.
/// `<< /Title (Returns) >>`).
pub fn pdf_with_info(pages: &[&[&str]], info: &str) -> Vec<u8> {
    build_pdf(pages, false, Some(info))
}

/// A PDF whose trailer points at a standard security handler with a user password we do
/// not know (the O and U entries are arbitrary), which is what an encrypted upload is.
pub fn encrypted_pdf() -> Vec<u8> {
    build_pdf(&[&["Secret plans"]], true, None)
}

fn build_pdf(pages: &[&[&str]], encrypted: bool, info: Option<&str>) -> Vec<u8> {
    let font_id = 3 + 2 * pages.len();
    let mut objects: Vec<String> = Vec::new();
    objects.push("<< /Type /Catalog /Pages 2 0 R >>".to_owned());
    let kids: Vec<String> = (0..pages.len())
        .map(|index| format!("{} 0 R", 3 + 2 * index))
        .collect();
    objects.push(format!(
        "<< /Type /Pages /Kids [{}] /Count {} >>",
        kids.join(" "),
        pages.len()
    ));
    for (index, lines) in pages.iter().enumerate() {
        let page_id = 3 + 2 * index;
        objects.push(format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 {font_id} 0 R >> >> /Contents {} 0 R >>",
            page_id + 1
        ));
        let mut content = String::from("BT /F1 12 Tf 72 720 Td");
        for line in lines.iter() {
            content.push_str(&format!(" ({line}) Tj 0 -40 Td"));
        }
        content.push_str(" ET");
        objects.push(format!(
            "<< /Length {} >>\nstream\n{content}\nendstream",
            content.len()
        ));
    }
    objects.push(
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
            .to_owned(),
    );
    if encrypted {
        let filler = "0123456789ABCDEF".repeat(4);
        objects.push(format!(
            "<< /Filter /Standard /V 1 /R 2 /O <{filler}> /U <{filler}> /P -4 >>"
        ));
    }
    let info_reference = info.map(|info| {
        objects.push(info.to_owned());
        format!(" /Info {} 0 R", objects.len())
    });
    let mut pdf = b"%PDF-1.4\n%\xE2\xE3\xCF\xD3\n".to_vec();
    let mut offsets = Vec::new();
    for (index, object) in objects.iter().enumerate() {
        offsets.push(pdf.len());
        pdf.extend_from_slice(format!("{} 0 obj\n{object}\nendobj\n", index + 1).as_bytes());
    }
    let xref_offset = pdf.len();
    pdf.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for offset in offsets {
        pdf.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
    }
    let encryption = if encrypted {
        format!(
            " /Encrypt {} 0 R /ID [<00112233445566778899AABBCCDDEEFF> <00112233445566778899AABBCCDDEEFF>]",
            objects.len() - usize::from(info.is_some())
        )
    } else {
        String::new()
    };
    pdf.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R{encryption}{} >>\nstartxref\n{xref_offset}\n%%EOF\n",
            objects.len() + 1,
            info_reference.unwrap_or_default()
        )
        .as_bytes(),
    );
    pdf
}

/// A zip archive with these entries, deflated.
pub fn zip_archive(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, contents) in entries {
        writer.start_file(*name, options).expect("start zip entry");
        writer.write_all(contents).expect("write zip entry");
    }
    writer.finish().expect("finish zip").into_inner()
}

const CONTENT_TYPES: &str = r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>"#;

/// A DOCX whose body is `body_xml` (a sequence of `w:p` elements).
pub fn docx_with_body(body_xml: &str) -> Vec<u8> {
    let document = format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>{body_xml}</w:body></w:document>"#
    );
    zip_archive(&[
        ("[Content_Types].xml", CONTENT_TYPES.as_bytes()),
        ("word/document.xml", document.as_bytes()),
    ])
}

/// A `w:p` with an optional paragraph style and one run of text.
pub fn docx_paragraph(style: Option<&str>, text: &str) -> String {
    let properties = style
        .map(|style| format!(r#"<w:pPr><w:pStyle w:val="{style}"/></w:pPr>"#))
        .unwrap_or_default();
    format!(r#"<w:p>{properties}<w:r><w:t xml:space="preserve">{text}</w:t></w:r></w:p>"#)
}
