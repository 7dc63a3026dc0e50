//! A brand's content rules: who it writes for, the words and claims it never uses (and what
//! to say instead), the disclaimers it must carry, how it uses hashtags and emoji, how
//! plainly it writes, and the calls to action it likes. Every generated variant is judged
//! against these rules by `validate`, and `repair` fixes what it can without a model. The
//! rules are plain data a person edits in the brand profile; [`BrandRules::check`] says
//! what to fix when they contradict themselves, before any variant is judged by them.

use crate::channels::Channel;
use crate::error::{Result, StudioError};
use crate::text::{lowercase, words};
use serde::{Deserialize, Serialize};

/// Everything a variant must respect to be on-brand.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct BrandRules {
    /// Who the brand writes for, in the brand's words; quoted to the model, not checked.
    pub audience: String,
    /// Single words the brand never uses ("cheap", "guarantee"). Matched as whole words,
    /// case-insensitively, with simple inflections (plural, -ed, -ing).
    pub banned_words: Vec<String>,
    /// Phrases that make a claim the brand cannot back ("clinically proven", "risk free").
    /// Matched like banned words, word by word.
    pub banned_claims: Vec<String>,
    /// What to write instead of a banned word or claim. An entry bans its `banned` text even
    /// when it is not listed above, and lets the repair pass fix it without a model.
    pub substitutions: Vec<Substitution>,
    /// Disclaimers that must appear in the copy of the channels they name.
    pub required_disclaimers: Vec<RequiredDisclaimer>,
    pub hashtags: HashtagRules,
    pub emoji: EmojiPolicy,
    pub reading_level: ReadingLevel,
    /// Calls to action the brand uses ("Book a free discovery call"). A variant that
    /// contains one has a specific CTA by definition.
    pub cta_library: Vec<String>,
}

/// A banned word or phrase and what to write instead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Substitution {
    pub banned: String,
    pub replacement: String,
}

/// A disclaimer and the channels it must appear on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequiredDisclaimer {
    pub text: String,
    /// The channels that must carry it; empty means every channel with room for body copy
    /// (all but blog outlines and Google search ads, whose fields are headlines).
    #[serde(default)]
    pub channels: Vec<Channel>,
}

impl RequiredDisclaimer {
    /// Whether `channel` must carry this disclaimer.
    pub fn applies_to(&self, channel: Channel) -> bool {
        if self.channels.is_empty() {
            crate::channels::spec(channel).disclaimer_field.is_some()
        } else {
            self.channels.contains(&channel)
        }
    }
}

/// How many hashtags a post carries and which ones.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct HashtagRules {
    /// The fewest hashtags a post on a hashtag channel may carry.
    pub min: usize,
    /// The most; the platform's own cap applies too, whichever is lower.
    pub max: usize,
    /// Tags every post must carry (with or without `#`, any case).
    pub required: Vec<String>,
    /// Tags no post may carry.
    pub banned: Vec<String>,
}

impl Default for HashtagRules {
    fn default() -> Self {
        // Instagram caps posts at five tags since December 2025, and fewer, targeted tags
        // are the platforms' own advice; five is a sensible ceiling everywhere.
        HashtagRules {
            min: 0,
            max: 5,
            required: Vec::new(),
            banned: Vec::new(),
        }
    }
}

/// How many emoji the brand allows in a variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum EmojiPolicy {
    /// No emoji at all.
    None,
    /// At most `max` emoji per variant.
    Few { max: usize },
    /// As many as the writer likes.
    Free,
}

impl Default for EmojiPolicy {
    fn default() -> Self {
        EmojiPolicy::Few { max: 3 }
    }
}

/// How plainly the brand writes, in Flesch terms. Either bound may be left out.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ReadingLevel {
    /// The highest Flesch–Kincaid grade allowed (US school grade; 8 reads easily for most
    /// adults).
    pub max_grade: Option<f64>,
    /// The lowest Flesch reading ease allowed (0–100+, higher is easier; 60 is plain
    /// English).
    pub min_reading_ease: Option<f64>,
}

impl Default for ReadingLevel {
    fn default() -> Self {
        // Plain-language guidance for consumer copy commonly aims at grade 8–9.
        ReadingLevel {
            max_grade: Some(9.0),
            min_reading_ease: None,
        }
    }
}

/// A tag as compared: without its `#`, lower-cased, trimmed.
pub fn normalise_tag(tag: &str) -> String {
    lowercase(tag.trim().trim_start_matches('#'))
}

impl BrandRules {
    /// Checks that the rules can be applied as written, naming the first thing to fix.
    pub fn check(&self) -> Result<()> {
        let invalid =
            |field: &'static str, reason: String| Err(StudioError::InvalidRules { field, reason });
        for (field, list) in [
            ("banned_words", &self.banned_words),
            ("banned_claims", &self.banned_claims),
        ] {
            if let Some(entry) = list.iter().find(|entry| words(entry).is_empty()) {
                return invalid(field, format!("{entry:?} has no word to match"));
            }
        }
        for substitution in &self.substitutions {
            if words(&substitution.banned).is_empty() {
                return invalid(
                    "substitutions",
                    format!("{:?} has no word to match", substitution.banned),
                );
            }
            let replacement = lowercase(&substitution.replacement);
            let banned_inside = self
                .banned_words
                .iter()
                .chain(&self.banned_claims)
                .chain(self.substitutions.iter().map(|other| &other.banned))
                .find(|banned| {
                    let banned = lowercase(banned);
                    words(&replacement)
                        .into_iter()
                        .any(|span| replacement[span] == banned)
                        || (banned.contains(' ') && replacement.contains(&banned))
                });
            if let Some(banned) = banned_inside {
                return invalid(
                    "substitutions",
                    format!(
                        "the replacement {:?} for {:?} contains the banned {banned:?}, so it could never pass",
                        substitution.replacement, substitution.banned
                    ),
                );
            }
        }
        if let Some(disclaimer) = self
            .required_disclaimers
            .iter()
            .find(|d| d.text.trim().is_empty())
        {
            return invalid(
                "required_disclaimers",
                format!(
                    "an empty disclaimer (channels {:?}) cannot be checked",
                    disclaimer.channels
                ),
            );
        }
        if self.hashtags.min > self.hashtags.max {
            return invalid(
                "hashtags",
                format!(
                    "min {} is above max {}",
                    self.hashtags.min, self.hashtags.max
                ),
            );
        }
        if self.hashtags.required.len() > self.hashtags.max {
            return invalid(
                "hashtags",
                format!(
                    "{} required tags do not fit within max {}",
                    self.hashtags.required.len(),
                    self.hashtags.max
                ),
            );
        }
        for tag in &self.hashtags.required {
            if let Some(problem) = crate::validate::hashtags::tag_format_problem(tag) {
                return invalid(
                    "hashtags",
                    format!("required tag {tag:?}: {}", problem.describe()),
                );
            }
            if self
                .hashtags
                .banned
                .iter()
                .any(|banned| normalise_tag(banned) == normalise_tag(tag))
            {
                return invalid("hashtags", format!("{tag:?} is both required and banned"));
            }
        }
        if let EmojiPolicy::Few { max: 0 } = self.emoji {
            return invalid(
                "emoji",
                "few with max 0 is \"none\"; choose none".to_owned(),
            );
        }
        if let Some(grade) = self.reading_level.max_grade
            && !(grade.is_finite() && (0.0..=20.0).contains(&grade))
        {
            return invalid(
                "reading_level",
                format!("max_grade {grade} is outside 0–20"),
            );
        }
        if let Some(ease) = self.reading_level.min_reading_ease
            && !(ease.is_finite() && (0.0..=100.0).contains(&ease))
        {
            return invalid(
                "reading_level",
                format!("min_reading_ease {ease} is outside 0–100"),
            );
        }
        if let Some(cta) = self.cta_library.iter().find(|cta| words(cta).is_empty()) {
            return invalid("cta_library", format!("{cta:?} has no word to match"));
        }
        // A library CTA that uses a banned word would fail every variant that uses it.
        let banned = crate::validate::CompiledRules::new(&BrandRules {
            cta_library: Vec::new(),
            ..self.clone()
        });
        for cta in &self.cta_library {
            if let Some(found) = banned.banned.find(cta).first() {
                return invalid(
                    "cta_library",
                    format!("{cta:?} uses the banned {:?}", &cta[found.span.clone()]),
                );
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_permissive_but_plain() {
        let rules = BrandRules::default();
        assert!(rules.check().is_ok());
        assert_eq!(rules.hashtags.max, 5);
        assert_eq!(rules.emoji, EmojiPolicy::Few { max: 3 });
        assert_eq!(rules.reading_level.max_grade, Some(9.0));
    }

    #[test]
    fn rules_read_from_partial_json_fill_in_defaults() {
        let rules: BrandRules = serde_json::from_str(
            r##"{"banned_words": ["cheap"], "emoji": {"mode": "none"},
                "required_disclaimers": [{"text": "Results vary."}],
                "hashtags": {"required": ["#brand"]}}"##,
        )
        .unwrap();
        assert_eq!(rules.banned_words, ["cheap"]);
        assert_eq!(rules.emoji, EmojiPolicy::None);
        assert_eq!(rules.hashtags.max, 5);
        assert!(rules.required_disclaimers[0].channels.is_empty());
        assert!(rules.check().is_ok());
    }

    #[test]
    fn a_replacement_that_is_itself_banned_is_refused() {
        let rules = BrandRules {
            banned_words: vec!["cheap".into(), "bargain".into()],
            substitutions: vec![Substitution {
                banned: "cheap".into(),
                replacement: "a real bargain".into(),
            }],
            ..BrandRules::default()
        };
        let error = rules.check().unwrap_err();
        assert_eq!(error.code(), "invalid_brand_rules");
        assert!(error.to_string().contains("bargain"), "{error}");
    }

    #[test]
    fn contradictory_hashtag_rules_are_refused() {
        let mut rules = BrandRules::default();
        rules.hashtags.min = 6;
        assert!(rules.check().is_err());
        let mut rules = BrandRules::default();
        rules.hashtags.required = vec!["#Spring".into()];
        rules.hashtags.banned = vec!["spring".into()];
        assert!(
            rules
                .check()
                .unwrap_err()
                .to_string()
                .contains("both required and banned")
        );
        let mut rules = BrandRules::default();
        rules.hashtags.required = vec!["#2026".into()];
        assert!(rules.check().is_err(), "a digit-only tag is not a hashtag");
    }

    #[test]
    fn empty_entries_and_impossible_levels_are_refused() {
        for rules in [
            BrandRules {
                banned_words: vec!["  ".into()],
                ..BrandRules::default()
            },
            BrandRules {
                cta_library: vec!["!!".into()],
                ..BrandRules::default()
            },
            BrandRules {
                required_disclaimers: vec![RequiredDisclaimer {
                    text: " ".into(),
                    channels: vec![],
                }],
                ..BrandRules::default()
            },
            BrandRules {
                reading_level: ReadingLevel {
                    max_grade: Some(f64::NAN),
                    min_reading_ease: None,
                },
                ..BrandRules::default()
            },
            BrandRules {
                emoji: EmojiPolicy::Few { max: 0 },
                ..BrandRules::default()
            },
        ] {
            assert!(rules.check().is_err(), "{rules:?}");
        }
    }

    #[test]
    fn a_library_cta_that_uses_a_banned_word_is_refused() {
        let rules = BrandRules {
            banned_words: vec!["free".into()],
            cta_library: vec!["Book your FREE trial class".into()],
            ..BrandRules::default()
        };
        let error = rules.check().unwrap_err();
        assert!(
            error.to_string().contains("uses the banned \"FREE\""),
            "{error}"
        );
    }

    #[test]
    fn disclaimers_without_channels_apply_where_body_copy_is() {
        let everywhere = RequiredDisclaimer {
            text: "Results vary.".into(),
            channels: vec![],
        };
        assert!(everywhere.applies_to(Channel::InstagramCaption));
        assert!(everywhere.applies_to(Channel::Email));
        assert!(!everywhere.applies_to(Channel::GoogleSearchAd));
        let email_only = RequiredDisclaimer {
            text: "Results vary.".into(),
            channels: vec![Channel::Email],
        };
        assert!(!email_only.applies_to(Channel::XPost));
    }

    #[test]
    fn tags_compare_without_hash_or_case() {
        assert_eq!(normalise_tag(" #SpringSale "), "springsale");
        assert_eq!(normalise_tag("springsale"), "springsale");
    }
}
