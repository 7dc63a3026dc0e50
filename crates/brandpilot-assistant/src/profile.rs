//! The brand profile: how the assistant speaks for a brand (voice, tone, do and don't
//! lists), when it hands over (the escalation threshold), how it greets, which sources are
//! policy, and how it answers (extractive or generative). Stored as a JSON document per
//! brand; every field has a default so a brand without a profile still gets an assistant.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnswerMode {
    /// Extractive for models below the configured capability, generative above.
    #[default]
    Auto,
    /// Compose answers from retrieved sentences; a model may only connect them.
    Extractive,
    /// Let the model write the answer from the passages; verified afterwards.
    Generative,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BrandProfile {
    /// Who the assistant sounds like ("a warm, plain-spoken coach").
    pub voice: String,
    /// How it speaks ("friendly, concise").
    pub tone: String,
    pub dos: Vec<String>,
    pub donts: Vec<String>,
    /// The first message a visitor sees; a default in their language when empty.
    pub greeting: String,
    /// Answers less confident than this (0–1) are not given: the assistant says it does not
    /// know and hands over to a person.
    pub escalation_threshold: f32,
    /// Sources carrying one of these tags hold the brand's policies; policy questions quote
    /// them.
    pub policy_tags: Vec<String>,
    pub answer_mode: AnswerMode,
}

impl Default for BrandProfile {
    fn default() -> Self {
        Self {
            voice: String::new(),
            tone: String::new(),
            dos: Vec::new(),
            donts: Vec::new(),
            greeting: String::new(),
            escalation_threshold: DEFAULT_ESCALATION_THRESHOLD,
            policy_tags: vec!["policy".into()],
            answer_mode: AnswerMode::Auto,
        }
    }
}

/// Chosen on the SciFact-derived answer set (see `docs/ARCHITECTURE.md`).
pub const DEFAULT_ESCALATION_THRESHOLD: f32 = 0.4;

const MAX_TEXT: usize = 1_000;
const MAX_ITEMS: usize = 30;
const MAX_ITEM: usize = 300;

impl BrandProfile {
    /// Every problem with the profile, each naming its field; empty when it is valid.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        for (field, value) in [
            ("voice", &self.voice),
            ("tone", &self.tone),
            ("greeting", &self.greeting),
        ] {
            if value.chars().count() > MAX_TEXT {
                problems.push(format!("{field} is longer than {MAX_TEXT} characters"));
            }
        }
        for (field, list) in [
            ("dos", &self.dos),
            ("donts", &self.donts),
            ("policy_tags", &self.policy_tags),
        ] {
            if list.len() > MAX_ITEMS {
                problems.push(format!("{field} has more than {MAX_ITEMS} items"));
            }
            if list.iter().any(|item| item.trim().is_empty()) {
                problems.push(format!("{field} has an empty item"));
            }
            if list.iter().any(|item| item.chars().count() > MAX_ITEM) {
                problems.push(format!(
                    "{field} has an item longer than {MAX_ITEM} characters"
                ));
            }
        }
        if !(0.0..=1.0).contains(&self.escalation_threshold) {
            problems.push("escalation_threshold must be between 0 and 1".into());
        }
        problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_document_is_the_default_profile() {
        let profile: BrandProfile = serde_json::from_str("{}").unwrap();
        assert_eq!(profile, BrandProfile::default());
        assert!(profile.problems().is_empty());
    }

    #[test]
    fn unknown_fields_and_bad_values_are_refused_with_their_names() {
        assert!(serde_json::from_str::<BrandProfile>(r#"{"voise": "x"}"#).is_err());
        let profile = BrandProfile {
            escalation_threshold: 1.5,
            dos: vec![" ".into()],
            voice: "x".repeat(1_001),
            ..BrandProfile::default()
        };
        let problems = profile.problems().join("; ");
        assert!(problems.contains("escalation_threshold"), "{problems}");
        assert!(problems.contains("dos has an empty item"), "{problems}");
        assert!(problems.contains("voice"), "{problems}");
        let nan = BrandProfile {
            escalation_threshold: f32::NAN,
            ..BrandProfile::default()
        };
        assert!(!nan.problems().is_empty());
    }
}
