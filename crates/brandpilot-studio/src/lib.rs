//! The deterministic core of Studio (capability C of the product map): a brand's content
//! rules, the channels Brandpilot writes for and their platform limits, the validators that
//! decide whether a generated variant may be shown to a person, the repairs that need no
//! model, SEO metadata, the shape and word budget of a reel script, the statistics of A/B
//! experiments over variants, and the brand's voice, learned from its examples, that every
//! variant is scored against.
//!
//! Everything here is a pure function of its inputs: no IO, no clock, no global randomness
//! (the bandit takes the caller's seeded random source). That is what lets the generation
//! loop in `brandpilot-app` validate and repair thousands of drafts a second, replay any
//! decision from its inputs, and test the statistics against hand-computed values. This crate
//! must never learn about stores, models, HTTP or files; those edges call into it.
//!
//! Code map: `rules` (what a brand allows) and `channels` (what a platform allows) are the
//! inputs; `validate` judges a variant rule by rule and `repair` fixes what needs no model;
//! `reel` and `seo` are the two structured outputs beyond channel copy; `experiment` reads
//! A/B results; `voice` learns a brand's voice profile (sentence length, word length,
//! emoji, punctuation, address, signature words) from its examples and scores how
//! consistent each variant is with it; `text`, `readability` and `language` are the shared
//! primitives. For many variants of one brand, build a [`CompiledRules`] and a
//! [`CompiledVoice`] once and call their methods.

pub mod channels;
pub mod error;
pub mod examples;
pub mod experiment;
pub mod language;
pub mod readability;
pub mod reel;
pub mod repair;
pub mod rules;
pub mod seo;
pub mod text;
pub mod validate;
pub mod voice;

pub use channels::{Channel, Field, FieldText};
pub use error::{Result, StudioError};
pub use repair::{RepairOutcome, describe_for_prompt, repair_variant};
pub use rules::BrandRules;
pub use validate::{
    CompiledRules, Report, RuleId, RuleStatus, Violation, validate_variant, validate_variants,
};
pub use voice::{
    CompiledVoice, VoiceExample, VoiceProfile, VoiceScore, learn_voice, voice_consistency,
};
