//! The deterministic core of Studio (capability C of the product map): a brand's content
//! rules, the channels Brandpilot writes for and their platform limits, the validators that
//! decide whether a generated variant may be shown to a person, the repairs that need no
//! model, SEO metadata, the shape and word budget of a reel script, and the statistics of
//! A/B experiments over variants.
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
//! A/B results; `text`, `readability` and `language` are the shared primitives. For many
//! variants of one brand, build a [`CompiledRules`] once and call its methods.

pub mod channels;
pub mod error;
pub mod experiment;
pub mod language;
pub mod readability;
pub mod reel;
pub mod repair;
pub mod rules;
pub mod seo;
pub mod text;
pub mod validate;

pub use channels::{Channel, Field, FieldText};
pub use error::{Result, StudioError};
pub use repair::{RepairOutcome, describe_for_prompt, repair_variant};
pub use rules::BrandRules;
pub use validate::{
    CompiledRules, Report, RuleId, RuleStatus, Violation, validate_variant, validate_variants,
};
