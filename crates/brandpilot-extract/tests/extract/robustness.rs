//! A cheap, deterministic stand-in for fuzzing: mutated and random bytes through every
//! extractor must give `Ok` or an `ExtractError`, never a panic. The real fuzz targets live
//! in `fuzz/` at the repository root.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

use crate::support::{docx_paragraph, docx_with_body, in_process_extractor, pdf_with_pages};

/// Small xorshift generator: deterministic, no dependency.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, bound: usize) -> usize {
        (self.next() % bound.max(1) as u64) as usize
    }
}

fn mutate(random: &mut Random, seed: &[u8]) -> Vec<u8> {
    let mut bytes = seed.to_vec();
    match random.below(5) {
        0 => bytes.truncate(random.below(bytes.len() + 1)),
        1 => {
            for _ in 0..=random.below(8) {
                let index = random.below(bytes.len());
                if let Some(byte) = bytes.get_mut(index) {
                    *byte = random.next() as u8;
                }
            }
        }
        2 => {
            let index = random.below(bytes.len() + 1);
            let junk: Vec<u8> = (0..random.below(64)).map(|_| random.next() as u8).collect();
            bytes.splice(index..index, junk);
        }
        3 => {
            // Duplicate a slice: repeated structure is where parsers loop.
            let start = random.below(bytes.len());
            let end = (start + random.below(256)).min(bytes.len());
            let copy = bytes[start..end].to_vec();
            bytes.splice(start..start, copy);
        }
        _ => {
            bytes = (0..random.below(512))
                .map(|_| random.next() as u8)
                .collect()
        }
    }
    bytes
}

#[test]
fn mutated_inputs_never_panic_any_extractor() {
    let docx = docx_with_body(
        &[
            docx_paragraph(Some("Heading1"), "Title"),
            docx_paragraph(None, "Body"),
        ]
        .concat(),
    );
    let pdf = pdf_with_pages(&[&["Hello"], &["World"]]);
    let seeds: Vec<(&str, Vec<u8>, usize)> = vec![
        ("f.pdf", pdf, 150),
        ("f.docx", docx, 600),
        ("f.md", b"# T\n\n## U\n- a\n- b\n\n```\ncode\n```\n| a | b |\n|---|---|\n| 1 | 2 |\n".to_vec(), 600),
        ("f.html", b"<html><head><title>T</title></head><body><nav>n</nav><h1>A</h1><p>text</p><table><tr><td>1</td></tr></table></body></html>".to_vec(), 400),
        ("f.txt", b"para one\n\npara two\r\n".to_vec(), 600),
        ("f.csv", b"a,b\n1,\"2\n3\"\n4,5,6\n".to_vec(), 600),
        ("f.srt", b"1\n00:00:01,000 --> 00:00:02,000\n<b>hi</b>\n\n2\n00:00:03,000 --> 00:00:04,000\nyo\n".to_vec(), 600),
        ("f.vtt", b"WEBVTT\n\nNOTE x\n\n00:01.000 --> 00:02.000\n<v A>hi</v>\n".to_vec(), 600),
    ];
    let extractor = in_process_extractor();
    let budget = Duration::from_secs(20);
    let started = Instant::now();
    let mut random = Random(0x5EED_BA5E_D00D_F00D);
    let mut runs = 0usize;
    for (name, seed, iterations) in &seeds {
        for iteration in 0..*iterations {
            let input = mutate(&mut random, seed);
            let outcome = catch_unwind(AssertUnwindSafe(|| extractor.extract_bytes(name, &input)));
            assert!(
                outcome.is_ok(),
                "{name} panicked on iteration {iteration}; input (hex): {}",
                input
                    .iter()
                    .map(|byte| format!("{byte:02x}"))
                    .collect::<String>()
            );
            runs += 1;
            if started.elapsed() > budget {
                break;
            }
        }
    }
    assert!(runs >= 1000, "only {runs} inputs ran within the budget");
}
