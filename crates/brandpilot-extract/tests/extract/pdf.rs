//! PDF: page locators, paragraph blocks, damaged and encrypted files, and the child-process
//! runner's timeout and crash handling.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use brandpilot_core::{Fault, FaultKind, SourceKind};
use brandpilot_extract::{ExtractError, ExtractLimits, Extractor, PdfRunner};

use crate::support::{encrypted_pdf, extract, extract_ok, pdf_with_info, pdf_with_pages};

fn two_page_pdf() -> Vec<u8> {
    pdf_with_pages(&[
        &["Brandpilot launch plan", "Budget is twelve thousand euros"],
        &["Second page talks about pricing"],
    ])
}

fn assert_two_pages_extracted(document: &brandpilot_extract::ExtractedDocument) {
    assert_eq!(document.kind, SourceKind::Pdf);
    let page_of = |needle: &str| {
        document
            .blocks
            .iter()
            .find(|block| block.text.contains(needle))
            .unwrap_or_else(|| panic!("no block contains {needle:?}: {:#?}", document.blocks))
            .page
    };
    assert_eq!(page_of("launch plan"), Some(1));
    assert_eq!(page_of("twelve thousand"), Some(1));
    assert_eq!(page_of("pricing"), Some(2));
}

#[test]
fn text_is_extracted_per_page_with_page_numbers() {
    let document = extract_ok("plan.pdf", &two_page_pdf());
    assert_two_pages_extracted(&document);
}

#[test]
fn truncated_pdf_is_reported_corrupt() {
    let pdf = two_page_pdf();
    let error = extract("broken.pdf", &pdf[..40]).expect_err("a truncated PDF must fail");
    assert!(
        matches!(
            error,
            ExtractError::Corrupt {
                kind: SourceKind::Pdf,
                ..
            }
        ),
        "got {error:?}"
    );
    assert_eq!(error.fault(), FaultKind::User);
}

#[test]
fn pdf_with_unknown_password_is_reported_encrypted() {
    let error = extract("secret.pdf", &encrypted_pdf()).expect_err("needs a password");
    assert!(matches!(error, ExtractError::Encrypted), "got {error:?}");
    assert!(error.to_string().contains("password"));
}

/// Found by the `pdf` fuzz target: a page whose content names a font its resources do not
/// define (`/F1` against a mangled `/\xc6ont << /F0 … >>`) makes one of the parsers panic
/// ("Font"). The extractor contains the panic and answers with what the other parser read,
/// or a clean error.
#[test]
fn a_page_naming_a_font_it_lacks_is_contained_not_a_panic() {
    let mut pdf = Vec::new();
    pdf.extend_from_slice(
        b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n2 0 obj\n<< /Type /Pages \
          /Kids [3 0 R] /Count 1 >>\nendobj\n3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox\x00[0 0 \
          300 200] /Contents 4 0 R /Resources << /\xc6ont << /F0 5 0 R >> >> >>\nendobj\n4 0 obj\n\
          << /Length 60 >>\nstream\nBT /F1 12 Tf 20 150 Td (Damaged parcels are refunded.) Tj ET\n\
          endstream\nendobj\n5 0 obj\n<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>\n\
          endobj\nxref\n0 6\n0000000000 65535 f \n0000000009 00000 n \n0000000058 00000 n \n\
          0000000115 00000 n \n0000000241 00000 n \n0000000351 00000 n \ntrailer\n<< /Size 5 /Root 1 \
          0 R >>\nstartxref\n421\n%%EOF\n",
    );
    let outcome = std::panic::catch_unwind(|| extract("font.pdf", &pdf));
    match outcome.expect("the extractor let a parser's panic out") {
        Ok(document) => assert_eq!(document.kind, SourceKind::Pdf),
        Err(error) => assert_eq!(error.fault(), FaultKind::User, "{error:?}"),
    }
}

#[test]
fn pdf_without_text_is_empty() {
    let error = extract("scan.pdf", &pdf_with_pages(&[&[]])).expect_err("no text in it");
    assert!(matches!(error, ExtractError::Empty), "got {error:?}");
}

fn subprocess_extractor(program: PathBuf, args: &[&str], timeout: Duration) -> Extractor {
    let limits = ExtractLimits {
        pdf_timeout: timeout,
        ..ExtractLimits::default()
    };
    let args = args.iter().map(OsString::from).collect();
    Extractor::new(limits, PdfRunner::Subprocess { program, args }, None)
}

fn worker_program() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_brandpilot-pdf-worker"))
}

#[test]
fn child_process_extracts_a_good_pdf() {
    let extractor = subprocess_extractor(worker_program(), &[], Duration::from_secs(60));
    let document = extractor
        .extract_bytes("plan.pdf", &two_page_pdf())
        .expect("the worker extracts the PDF");
    assert_two_pages_extracted(&document);
}

#[test]
fn child_process_reports_corrupt_and_encrypted_files() {
    let extractor = subprocess_extractor(worker_program(), &[], Duration::from_secs(60));
    let truncated = extractor.extract_bytes("broken.pdf", b"%PDF-1.4\n1 0 obj\n<< /Type");
    assert!(
        matches!(truncated, Err(ExtractError::Corrupt { .. })),
        "got {truncated:?}"
    );
    let encrypted = extractor.extract_bytes("secret.pdf", &encrypted_pdf());
    assert!(
        matches!(encrypted, Err(ExtractError::Encrypted)),
        "got {encrypted:?}"
    );
}

#[test]
fn hanging_child_is_killed_at_the_timeout() {
    // `exec` so that the shell itself becomes the sleeping process.
    let extractor = subprocess_extractor(
        "sh".into(),
        &["-c", "exec sleep 30"],
        Duration::from_millis(300),
    );
    let started = Instant::now();
    let error = extractor
        .extract_bytes("plan.pdf", &two_page_pdf())
        .expect_err("the child never answers");
    assert!(
        matches!(error, ExtractError::Timeout { .. }),
        "got {error:?}"
    );
    assert_eq!(error.fault(), FaultKind::Transient);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(
        error.to_string(),
        "reading the PDF took longer than its limit of 1 s and was stopped"
    );
}

#[test]
fn aborting_child_is_reported_as_a_crash() {
    let extractor = subprocess_extractor(
        "sh".into(),
        &["-c", "kill -ABRT $$"],
        Duration::from_secs(10),
    );
    let error = extractor
        .extract_bytes("plan.pdf", &two_page_pdf())
        .expect_err("the child died");
    assert!(matches!(error, ExtractError::Crashed), "got {error:?}");
}

#[test]
fn child_that_answers_garbage_is_not_taken_for_a_document() {
    let extractor = subprocess_extractor(
        "sh".into(),
        &["-c", "cat >/dev/null; echo not-json"],
        Duration::from_secs(10),
    );
    let error = extractor
        .extract_bytes("plan.pdf", &two_page_pdf())
        .expect_err("the reply is garbage");
    assert!(
        matches!(error, ExtractError::Worker { .. }),
        "got {error:?}"
    );
    assert_eq!(error.fault(), FaultKind::Bug);
}

#[test]
fn memory_cap_applies_to_the_child() {
    // A child that needs more than the cap must die, not take the machine down: ask the
    // shell to report its own address-space limit (in KiB) and fail if it is unlimited.
    let limits = ExtractLimits {
        pdf_memory_bytes: 256 * 1024 * 1024,
        ..ExtractLimits::default()
    };
    let script = "cat >/dev/null; [ \"$(ulimit -v)\" = 262144 ] || exit 7; echo '\"corrupt\"'";
    let runner = PdfRunner::Subprocess {
        program: "sh".into(),
        args: vec!["-c".into(), script.into()],
    };
    let extractor = Extractor::new(limits, runner, None);
    let result = extractor.extract_bytes("plan.pdf", &two_page_pdf());
    assert!(
        matches!(result, Err(ExtractError::Corrupt { .. })),
        "the child did not see the memory cap: {result:?}"
    );
}

#[test]
fn missing_worker_program_is_our_bug_not_the_users() {
    let extractor = subprocess_extractor(
        "/nonexistent/brandpilot".into(),
        &["__extract-pdf"],
        Duration::from_secs(5),
    );
    let error = extractor
        .extract_bytes("plan.pdf", &two_page_pdf())
        .expect_err("cannot start the worker");
    assert!(
        matches!(error, ExtractError::Worker { .. }),
        "got {error:?}"
    );
    assert_eq!(error.fault(), FaultKind::Bug);
}

#[test]
fn the_metadata_title_names_the_document_unless_it_is_a_placeholder() {
    let pages: &[&[&str]] = &[&["Returns are free within thirty days"]];
    let titled = extract_ok(
        "scan_0042.pdf",
        &pdf_with_info(pages, "<< /Title (Returns policy) /Author (Ada) >>"),
    );
    assert_eq!(titled.title.as_deref(), Some("Returns policy"));
    // UTF-16 with a byte-order mark, as most tools write non-ASCII titles.
    let hex: String = [0xFEu8, 0xFF]
        .into_iter()
        .chain(
            "Politique de retour – été"
                .encode_utf16()
                .flat_map(u16::to_be_bytes),
        )
        .map(|b| format!("{b:02X}"))
        .collect();
    let unicode = extract_ok(
        "x.pdf",
        &pdf_with_info(pages, &format!("<< /Title <{hex}> >>")),
    );
    assert_eq!(unicode.title.as_deref(), Some("Politique de retour – été"));
    for placeholder in ["(Microsoft Word - returns.docx)", "(Untitled)", "()"] {
        let document = extract_ok(
            "returns.pdf",
            &pdf_with_info(pages, &format!("<< /Title {placeholder} >>")),
        );
        assert_eq!(document.title, None, "{placeholder}");
    }
    assert_eq!(extract_ok("plain.pdf", &pdf_with_pages(pages)).title, None);
}
