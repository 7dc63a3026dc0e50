//! Verification of an answer against the passages it may cite: every marker must name a
//! retrieved passage, and every sentence that makes a claim must be backed by a passage it
//! cites. The result is shown to people (which sentences are flagged) and feeds confidence.
//! It never changes the answer; the turn decides what to do with a failing one.

use crate::evidence::{Evidence, MIN_TERMS_TO_JUDGE, support};
use crate::text::{content_terms, sentences};
use serde::Serialize;

/// A cited sentence counts as supported when its cited passage holds this share of its
/// topic terms.
pub const SUPPORT_THRESHOLD: f32 = 0.6;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SentenceStatus {
    /// Cites a passage that backs it.
    Supported,
    /// Backed by a retrieved passage, but cites none (or the wrong one).
    Uncited,
    /// No retrieved passage backs it.
    Unsupported,
    /// Too short to carry a claim ("Here is what I found:").
    Neutral,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SentenceCheck {
    pub text: String,
    pub markers: Vec<usize>,
    pub status: SentenceStatus,
    /// The best support among the passages it cites (or, uncited, among all), 0–1.
    pub support: Option<f32>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verification {
    pub sentences: Vec<SentenceCheck>,
    /// Markers that name no retrieved passage (0, or past the last).
    pub invalid_markers: Vec<usize>,
    /// Valid markers in order of first use, deduplicated.
    pub cited: Vec<usize>,
}

impl Verification {
    /// Sentences that make a claim.
    pub fn claims(&self) -> usize {
        self.sentences
            .iter()
            .filter(|s| s.status != SentenceStatus::Neutral)
            .count()
    }

    /// The share of claims that cite a passage backing them; 1 when there are no claims.
    pub fn supported_share(&self) -> f32 {
        let claims = self.claims();
        if claims == 0 {
            return 1.0;
        }
        let supported = self
            .sentences
            .iter()
            .filter(|s| s.status == SentenceStatus::Supported)
            .count();
        supported as f32 / claims as f32
    }

    /// No invalid marker and no unsupported sentence.
    pub fn passes(&self) -> bool {
        self.invalid_markers.is_empty()
            && self
                .sentences
                .iter()
                .all(|s| s.status != SentenceStatus::Unsupported)
    }
}

/// Checks `answer` against `evidence` (markers are 1-based positions in its passages).
pub fn verify(answer: &str, evidence: &Evidence<'_>) -> Verification {
    let mut invalid_markers = Vec::new();
    let mut cited = Vec::new();
    let mut checks = Vec::new();
    for sentence in sentences(answer) {
        let (markers, stripped) = markers_of(sentence.text);
        let terms = content_terms(&stripped);
        let mut valid = Vec::new();
        for &marker in &markers {
            if marker == 0 || marker > evidence.passages.len() {
                if !invalid_markers.contains(&marker) {
                    invalid_markers.push(marker);
                }
            } else {
                valid.push(marker);
                if !cited.contains(&marker) {
                    cited.push(marker);
                }
            }
        }
        let best_cited = valid
            .iter()
            .filter_map(|&m| support(&terms, &evidence.passages[m - 1].terms))
            .reduce(f32::max);
        let status;
        let mut shown_support = best_cited;
        if terms.len() < MIN_TERMS_TO_JUDGE {
            status = SentenceStatus::Neutral;
        } else if best_cited.is_some_and(|s| s >= SUPPORT_THRESHOLD) {
            status = SentenceStatus::Supported;
        } else {
            let best_any = evidence
                .passages
                .iter()
                .filter_map(|p| support(&terms, &p.terms))
                .reduce(f32::max);
            if best_any.is_some_and(|s| s >= SUPPORT_THRESHOLD) {
                status = SentenceStatus::Uncited;
                shown_support = best_any;
            } else {
                status = SentenceStatus::Unsupported;
            }
        }
        checks.push(SentenceCheck {
            text: sentence.text.to_owned(),
            markers,
            status,
            support: shown_support,
        });
    }
    Verification {
        sentences: checks,
        invalid_markers,
        cited,
    }
}

/// The markers in `text` (`[1]`, `[1][2]`, `[1, 2]`) and the text without them.
pub fn markers_of(text: &str) -> (Vec<usize>, String) {
    let mut markers = Vec::new();
    let mut stripped = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('[') {
        stripped.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find(']') {
            Some(close)
                if close > 0
                    && close <= 24
                    && after[..close]
                        .chars()
                        .all(|c| c.is_ascii_digit() || c == ',' || c == ' ')
                    && after[..close].chars().any(|c| c.is_ascii_digit()) =>
            {
                for number in after[..close].split([',', ' ']).filter(|n| !n.is_empty()) {
                    // A number too large for usize is no passage either.
                    markers.push(number.parse().unwrap_or(usize::MAX));
                }
                rest = &after[close + 1..];
            }
            _ => {
                stripped.push('[');
                rest = after;
            }
        }
    }
    stripped.push_str(rest);
    (markers, stripped)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::EvidencePassage;

    fn evidence<'a>(texts: &'a [&'a str]) -> Evidence<'a> {
        let passages: Vec<_> = texts
            .iter()
            .map(|text| EvidencePassage {
                text,
                semantic: None,
            })
            .collect();
        Evidence::new(&passages)
    }

    const PASSAGES: &[&str] = &[
        "You can ask for a refund within 30 days of purchase.",
        "Module 3 covers pricing strategy for small brands.",
    ];

    #[test]
    fn markers_are_parsed_in_every_form_and_removed_from_the_text() {
        assert_eq!(
            markers_of("a [1] b [2][3] c [4, 5]."),
            (vec![1, 2, 3, 4, 5], "a  b  c .".into())
        );
        assert_eq!(
            markers_of("[x] and [] and [1"),
            (vec![], "[x] and [] and [1".into())
        );
        assert_eq!(markers_of("[99999999999999999999999]").0, vec![usize::MAX]);
    }

    #[test]
    fn a_cited_backed_sentence_passes() {
        let e = evidence(PASSAGES);
        let v = verify("You can get a refund within 30 days of purchase [1].", &e);
        assert_eq!(v.sentences[0].status, SentenceStatus::Supported);
        assert_eq!(v.cited, vec![1]);
        assert!(v.passes());
        assert_eq!(v.supported_share(), 1.0);
    }

    #[test]
    fn markers_past_the_passages_are_invalid() {
        let e = evidence(PASSAGES);
        let v = verify("Refunds within 30 days of purchase [3]. Also [0].", &e);
        assert_eq!(v.invalid_markers, vec![3, 0]);
        assert!(!v.passes());
    }

    #[test]
    fn invented_claims_are_unsupported_and_wrong_citations_are_uncited() {
        let e = evidence(PASSAGES);
        let v = verify(
            "Refunds are paid in bitcoin to loyal members [1]. \
             Module 3 covers pricing strategy for small brands [1]. Hope that helps!",
            &e,
        );
        assert_eq!(v.sentences[0].status, SentenceStatus::Unsupported);
        assert_eq!(v.sentences[1].status, SentenceStatus::Uncited);
        assert_eq!(v.sentences[2].status, SentenceStatus::Neutral);
        assert!(!v.passes());
        assert_eq!(v.claims(), 2);
        assert_eq!(v.supported_share(), 0.0);
    }

    #[test]
    fn an_answer_without_claims_passes() {
        let e = evidence(PASSAGES);
        let v = verify("Hello there!", &e);
        assert!(v.passes());
        assert_eq!(v.supported_share(), 1.0);
    }
}

/// Renumbers the markers of `text` so that the passages it cites read 1, 2, 3… in order of
/// first use: `cited` lists the old numbers in that order (as [`Verification::cited`] does).
/// Markers not in `cited` (invalid ones) are removed.
pub fn renumber(text: &str, cited: &[usize]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('[') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let (markers, _) = markers_of(&rest[open..open + 1 + after.find(']').map_or(0, |c| c + 1)]);
        match after.find(']') {
            Some(close) if !markers.is_empty() => {
                let renumbered: Vec<String> = markers
                    .iter()
                    .filter_map(|old| cited.iter().position(|c| c == old))
                    .map(|new| format!("[{}]", new + 1))
                    .collect();
                if renumbered.is_empty() {
                    // Drop the space that led to a removed marker.
                    while out.ends_with(' ') {
                        out.pop();
                    }
                }
                out.push_str(&renumbered.concat());
                rest = &after[close + 1..];
            }
            _ => {
                out.push('[');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod renumber_tests {
    use super::*;

    #[test]
    fn cited_passages_read_one_two_three_and_invalid_markers_go() {
        assert_eq!(
            renumber("A [4]. B [2][4]. C [9]. D [2, 4].", &[4, 2]),
            "A [1]. B [2][1]. C. D [2][1]."
        );
        assert_eq!(renumber("no markers [x]", &[]), "no markers [x]");
    }
}
