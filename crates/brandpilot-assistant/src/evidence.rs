//! The retrieved passages of a turn as evidence: their sentences, their topic terms, and how
//! much of a question or of an answer sentence they cover. Both the extractive answer (which
//! sentences answer the question) and the verifier (is this sentence backed by the passage it
//! cites) rest on these measures, so they agree on what "supported" means.

use crate::text::{Sentence, content_terms, sentences};
use std::collections::{HashMap, HashSet};

/// One retrieved passage as the turn sees it. Markers in answers are 1-based positions in
/// the list of passages.
#[derive(Debug, Clone)]
pub struct EvidencePassage<'a> {
    pub text: &'a str,
    /// Cosine similarity between the question's and the passage's embeddings, when the
    /// embedder is semantic.
    pub semantic: Option<f32>,
}

/// Passages broken into sentences and terms, with inverse document frequencies over their
/// sentences (so a term every sentence shares weighs little).
pub struct Evidence<'a> {
    pub passages: Vec<PassageEvidence<'a>>,
    idf: HashMap<String, f32>,
    default_idf: f32,
}

pub struct PassageEvidence<'a> {
    pub text: &'a str,
    pub semantic: Option<f32>,
    pub sentences: Vec<Sentence<'a>>,
    pub sentence_terms: Vec<Vec<String>>,
    pub terms: HashSet<String>,
}

impl<'a> Evidence<'a> {
    pub fn new(passages: &[EvidencePassage<'a>]) -> Self {
        let mut document_frequency: HashMap<String, usize> = HashMap::new();
        let mut sentence_count = 0usize;
        let passages: Vec<PassageEvidence<'a>> = passages
            .iter()
            .map(|passage| {
                let found = sentences(passage.text);
                let sentence_terms: Vec<Vec<String>> =
                    found.iter().map(|s| content_terms(s.text)).collect();
                for terms in &sentence_terms {
                    sentence_count += 1;
                    for term in terms {
                        *document_frequency.entry(term.clone()).or_default() += 1;
                    }
                }
                let terms = sentence_terms.iter().flatten().cloned().collect();
                PassageEvidence {
                    text: passage.text,
                    semantic: passage.semantic,
                    sentences: found,
                    sentence_terms,
                    terms,
                }
            })
            .collect();
        let n = sentence_count.max(1) as f32;
        let idf = document_frequency
            .into_iter()
            .map(|(term, df)| (term, (1.0 + n / (1.0 + df as f32)).ln()))
            .collect();
        Self {
            passages,
            idf,
            // A term no passage contains is as rare as can be.
            default_idf: (1.0 + n).ln(),
        }
    }

    pub fn idf(&self, term: &str) -> f32 {
        self.idf.get(term).copied().unwrap_or(self.default_idf)
    }

    /// The share of `query_terms`' weight found in `terms`, 0–1.
    pub fn coverage(&self, query_terms: &[String], terms: &HashSet<String>) -> f32 {
        let total: f32 = query_terms.iter().map(|t| self.idf(t)).sum();
        if total <= 0.0 {
            return 0.0;
        }
        let found: f32 = query_terms
            .iter()
            .filter(|t| terms.contains(*t))
            .map(|t| self.idf(t))
            .sum();
        found / total
    }

    /// The best coverage of the question by any one passage.
    pub fn best_passage_coverage(&self, query_terms: &[String]) -> f32 {
        self.passages
            .iter()
            .map(|p| self.coverage(query_terms, &p.terms))
            .fold(0.0, f32::max)
    }

    /// The best semantic similarity of any passage, when known.
    pub fn best_semantic(&self) -> Option<f32> {
        self.passages
            .iter()
            .filter_map(|p| p.semantic)
            .reduce(f32::max)
    }
}

/// The share of a sentence's topic terms that a passage contains, 0–1. `None` when the
/// sentence has too few topic terms to judge ("Here is what I found:").
pub fn support(sentence_terms: &[String], passage_terms: &HashSet<String>) -> Option<f32> {
    if sentence_terms.len() < MIN_TERMS_TO_JUDGE {
        return None;
    }
    let found = sentence_terms
        .iter()
        .filter(|t| passage_terms.contains(*t))
        .count();
    Some(found as f32 / sentence_terms.len() as f32)
}

/// Sentences with fewer topic terms carry no claim worth checking.
pub const MIN_TERMS_TO_JUDGE: usize = 3;

#[cfg(test)]
mod tests {
    use super::*;

    fn passage(text: &str) -> EvidencePassage<'_> {
        EvidencePassage {
            text,
            semantic: None,
        }
    }

    #[test]
    fn rare_terms_weigh_more_than_common_ones() {
        let passages = [
            passage("The course has ten modules. The course has a forum. The course ends."),
            passage("Refunds are given within 30 days."),
        ];
        let evidence = Evidence::new(&passages);
        assert!(evidence.idf("refund") > evidence.idf("cours"));
        assert!(evidence.idf("never-seen") >= evidence.idf("refund"));
    }

    #[test]
    fn coverage_says_how_much_of_a_question_a_passage_holds() {
        let passages = [
            passage("Refunds are given within 30 days of purchase."),
            passage("Module 3 covers pricing strategy."),
        ];
        let evidence = Evidence::new(&passages);
        let question = content_terms("How many days do I have to ask for a refund?");
        let first = evidence.coverage(&question, &evidence.passages[0].terms);
        let second = evidence.coverage(&question, &evidence.passages[1].terms);
        assert!(first > 0.4 && first > second, "{first} {second}");
        assert_eq!(evidence.best_passage_coverage(&question), first);
        assert_eq!(evidence.coverage(&[], &evidence.passages[0].terms), 0.0);
    }

    #[test]
    fn support_counts_a_sentences_terms_found_in_the_passage() {
        let passage_terms: HashSet<String> =
            content_terms("Refunds are given within 30 days of purchase.")
                .into_iter()
                .collect();
        let backed = content_terms("Refunds are given within 30 days.");
        let invented = content_terms("Refunds are paid in bitcoin to loyal members.");
        assert_eq!(support(&backed, &passage_terms), Some(1.0));
        assert!(support(&invented, &passage_terms).unwrap() < 0.5);
        assert_eq!(
            support(&content_terms("Here you go:"), &passage_terms),
            None
        );
    }
}
