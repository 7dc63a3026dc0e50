//! The wire form of a brand's content rules (`BrandRulesBody` and its parts), converted
//! field by field to and from `brandpilot_studio::BrandRules` by exhaustive destructuring so
//! a rule added to the domain fails to compile here until the API decides how to show it,
//! and the size limits a saved rules document must respect (`check_rule_sizes`). The domain
//! crate knows nothing of OpenAPI; this module knows nothing of handlers or storage.

use super::names::ChannelName;
use crate::ApiError;
use brandpilot_studio::BrandRules;
use brandpilot_studio::rules::{
    EmojiPolicy, HashtagRules, ReadingLevel, RequiredDisclaimer, Substitution,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A banned word or phrase and what to write instead.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubstitutionBody {
    pub banned: String,
    pub replacement: String,
}

/// A disclaimer and the channels that must carry it (every channel with body copy when
/// empty).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DisclaimerBody {
    pub text: String,
    #[serde(default)]
    pub channels: Vec<ChannelName>,
}

/// How many hashtags a post carries and which ones. Missing fields keep their defaults
/// (0 to 5 tags).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct HashtagRulesBody {
    pub min: usize,
    /// The platform's own cap applies too, whichever is lower.
    pub max: usize,
    /// Tags every post must carry (with or without `#`).
    pub required: Vec<String>,
    pub banned: Vec<String>,
}

impl Default for HashtagRulesBody {
    fn default() -> Self {
        HashtagRules::default().into()
    }
}

impl From<HashtagRules> for HashtagRulesBody {
    fn from(rules: HashtagRules) -> Self {
        let HashtagRules {
            min,
            max,
            required,
            banned,
        } = rules;
        Self {
            min,
            max,
            required,
            banned,
        }
    }
}

/// `none`, `few` (at most `max`, 3 when left out) or `free`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EmojiMode {
    None,
    Few,
    Free,
}

/// How many emoji a variant may carry.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmojiPolicyBody {
    pub mode: EmojiMode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<usize>,
}

impl Default for EmojiPolicyBody {
    fn default() -> Self {
        EmojiPolicy::default().into()
    }
}

impl From<EmojiPolicy> for EmojiPolicyBody {
    fn from(policy: EmojiPolicy) -> Self {
        match policy {
            EmojiPolicy::None => Self {
                mode: EmojiMode::None,
                max: None,
            },
            EmojiPolicy::Few { max } => Self {
                mode: EmojiMode::Few,
                max: Some(max),
            },
            EmojiPolicy::Free => Self {
                mode: EmojiMode::Free,
                max: None,
            },
        }
    }
}

/// How plainly the brand writes, in Flesch terms; `null` turns a bound off. Missing fields
/// keep their defaults (grade 9 at most).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ReadingLevelBody {
    /// The highest Flesch–Kincaid grade, 0–20.
    pub max_grade: Option<f64>,
    /// The lowest Flesch reading ease, 0–100.
    pub min_reading_ease: Option<f64>,
}

impl Default for ReadingLevelBody {
    fn default() -> Self {
        ReadingLevel::default().into()
    }
}

impl From<ReadingLevel> for ReadingLevelBody {
    fn from(level: ReadingLevel) -> Self {
        let ReadingLevel {
            max_grade,
            min_reading_ease,
        } = level;
        Self {
            max_grade,
            min_reading_ease,
        }
    }
}

/// A brand's content rules. Every field is optional in a PUT (left out, it takes its
/// default) and the whole document replaces the previous one.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct BrandRulesBody {
    /// Who the brand writes for, in its own words (quoted to the model, not checked).
    pub audience: String,
    /// Single words never used, matched as whole words with simple inflections.
    #[schema(max_items = 1000)]
    pub banned_words: Vec<String>,
    /// Phrases that make a claim the brand cannot back.
    #[schema(max_items = 1000)]
    pub banned_claims: Vec<String>,
    /// What to write instead of a banned word or phrase (a repair makes the swap).
    #[schema(max_items = 1000)]
    #[serde(deserialize_with = "crate::extract::objects::list")]
    pub substitutions: Vec<SubstitutionBody>,
    #[schema(max_items = 1000)]
    #[serde(deserialize_with = "crate::extract::objects::list")]
    pub required_disclaimers: Vec<DisclaimerBody>,
    #[serde(deserialize_with = "crate::extract::objects::object")]
    pub hashtags: HashtagRulesBody,
    #[serde(deserialize_with = "crate::extract::objects::object")]
    pub emoji: EmojiPolicyBody,
    #[serde(deserialize_with = "crate::extract::objects::object")]
    pub reading_level: ReadingLevelBody,
    /// Calls to action the brand uses; a variant with one has a specific CTA.
    #[schema(max_items = 1000)]
    pub cta_library: Vec<String>,
}

impl From<BrandRules> for BrandRulesBody {
    fn from(rules: BrandRules) -> Self {
        let BrandRules {
            audience,
            banned_words,
            banned_claims,
            substitutions,
            required_disclaimers,
            hashtags,
            emoji,
            reading_level,
            cta_library,
        } = rules;
        Self {
            audience,
            banned_words,
            banned_claims,
            substitutions: substitutions
                .into_iter()
                .map(|s| SubstitutionBody {
                    banned: s.banned,
                    replacement: s.replacement,
                })
                .collect(),
            required_disclaimers: required_disclaimers
                .into_iter()
                .map(|d| DisclaimerBody {
                    text: d.text,
                    channels: d.channels.into_iter().map(Into::into).collect(),
                })
                .collect(),
            hashtags: hashtags.into(),
            emoji: emoji.into(),
            reading_level: reading_level.into(),
            cta_library,
        }
    }
}

impl From<BrandRulesBody> for BrandRules {
    fn from(body: BrandRulesBody) -> Self {
        BrandRules {
            audience: body.audience,
            banned_words: body.banned_words,
            banned_claims: body.banned_claims,
            substitutions: body
                .substitutions
                .into_iter()
                .map(|s| Substitution {
                    banned: s.banned,
                    replacement: s.replacement,
                })
                .collect(),
            required_disclaimers: body
                .required_disclaimers
                .into_iter()
                .map(|d| RequiredDisclaimer {
                    text: d.text,
                    channels: d.channels.into_iter().map(Into::into).collect(),
                })
                .collect(),
            hashtags: HashtagRules {
                min: body.hashtags.min,
                max: body.hashtags.max,
                required: body.hashtags.required,
                banned: body.hashtags.banned,
            },
            emoji: match body.emoji.mode {
                EmojiMode::None => EmojiPolicy::None,
                EmojiMode::Few => EmojiPolicy::Few {
                    max: body.emoji.max.unwrap_or(3),
                },
                EmojiMode::Free => EmojiPolicy::Free,
            },
            reading_level: ReadingLevel {
                max_grade: body.reading_level.max_grade,
                min_reading_ease: body.reading_level.min_reading_ease,
            },
            cta_library: body.cta_library,
        }
    }
}

/// Longest list a rules document may hold in any one place.
const MAX_RULE_ENTRIES: usize = 1_000;
/// Longest text of any one rule entry.
const MAX_RULE_CHARS: usize = 2_000;

pub(super) fn check_rule_sizes(rules: &BrandRules) -> Result<(), ApiError> {
    let lists = [
        ("banned_words", rules.banned_words.len()),
        ("banned_claims", rules.banned_claims.len()),
        ("substitutions", rules.substitutions.len()),
        ("required_disclaimers", rules.required_disclaimers.len()),
        ("hashtags.required", rules.hashtags.required.len()),
        ("hashtags.banned", rules.hashtags.banned.len()),
        ("cta_library", rules.cta_library.len()),
    ];
    if let Some((name, _)) = lists.iter().find(|(_, len)| *len > MAX_RULE_ENTRIES) {
        return Err(ApiError::invalid(format!(
            "{name}: at most {MAX_RULE_ENTRIES} entries"
        )));
    }
    let mut texts = std::iter::once(&rules.audience)
        .chain(&rules.banned_words)
        .chain(&rules.banned_claims)
        .chain(
            rules
                .substitutions
                .iter()
                .flat_map(|s| [&s.banned, &s.replacement]),
        )
        .chain(rules.required_disclaimers.iter().map(|d| &d.text))
        .chain(&rules.hashtags.required)
        .chain(&rules.hashtags.banned)
        .chain(&rules.cta_library);
    if texts.any(|text| text.chars().count() > MAX_RULE_CHARS) {
        return Err(ApiError::invalid(format!(
            "a rule entry (or the audience) has at most {MAX_RULE_CHARS} characters"
        )));
    }
    Ok(())
}
