//! Reel scripts: budgets computed by hand, and a 30-second script a social media manager
//! would accept, broken in the ways a small model breaks it.

use super::*;
use crate::rules::BrandRules;
use crate::validate::tests::studio_rules;
use crate::validate::{RuleStatus, Severity};

fn request(duration_seconds: u32) -> ReelRequest {
    ReelRequest {
        sector: Sector::CreativeArts,
        hook_type: HookType::Question,
        duration_seconds,
        topic: "Why beginners' watercolours turn muddy".into(),
        language: Language::En,
    }
}

fn scene(on_screen_text: &str, voice_over: &str, visual: &str) -> Scene {
    Scene {
        on_screen_text: on_screen_text.into(),
        voice_over: voice_over.into(),
        visual: visual.into(),
    }
}

/// Spoken: hook 7 + voice-over 15 + 15 + 14 + 16 + CTA 10 = 77 words = 30.8 s at 150 words a minute.
fn thirty_second_script() -> ReelScript {
    ReelScript {
        hook: "Why do your watercolours always turn muddy?".into(),
        scenes: vec![
            scene(
                "Muddy colours?",
                "Most beginners mix every colour on the palette until it all turns grey and flat.",
                "Close-up of a brown, over-mixed palette",
            ),
            scene(
                "Use three colours",
                "Start with just three tubes: a warm red, a cool blue and a bright yellow.",
                "Three tubes laid out on a wooden table",
            ),
            scene(
                "Clean water, clean colour",
                "Change your rinse water often, and let each layer dry before the next one.",
                "Hand swapping a cloudy water jar for a clear one",
            ),
            scene(
                "Your first clean wash",
                "Do that and your skies stay fresh, your greens stay green, and your paintings finally glow.",
                "Time-lapse of a bright landscape being painted",
            ),
        ],
        thumbnail_text: "Stop muddy colours".into(),
        cta: "Book your free trial class at the studio this spring.".into(),
        caption: "Three habits for clean, glowing watercolours. Book your free trial class today."
            .into(),
        hashtags: vec![
            "#InkAndWater".into(),
            "#watercolour".into(),
            "#arttips".into(),
        ],
        estimated_duration_seconds: 31.0,
    }
}

#[test]
fn word_budgets_follow_the_duration_as_computed_by_hand() {
    let config = ReelConfig::default();
    // 30 s × 150 words a minute / 60 = 75 words; ±15% = 63.75 → 64 and 86.25 → 86.
    let budget = word_budget(30, &config).unwrap();
    assert_eq!(
        (budget.target_words, budget.min_words, budget.max_words),
        (75, 64, 86)
    );
    // 15 s: 37.5 → 38 (31.875 → 32, 43.125 → 43). 90 s: 225 (191.25 → 191, 258.75 → 259).
    let short = word_budget(15, &config).unwrap();
    assert_eq!(
        (short.target_words, short.min_words, short.max_words),
        (38, 32, 43)
    );
    let long = word_budget(90, &config).unwrap();
    assert_eq!(
        (long.target_words, long.min_words, long.max_words),
        (225, 191, 259)
    );
    // A slower narrator: 60 s at 120 words a minute is 120 words.
    let slow = word_budget(
        60,
        &ReelConfig {
            words_per_minute: 120.0,
            tolerance: 0.1,
        },
    )
    .unwrap();
    assert_eq!(
        (slow.target_words, slow.min_words, slow.max_words),
        (120, 108, 132)
    );
    assert!((spoken_duration_seconds(75, 150.0) - 30.0).abs() < 1e-12);
}

#[test]
fn durations_and_rates_outside_the_range_are_refused() {
    let config = ReelConfig::default();
    assert_eq!(
        word_budget(14, &config).unwrap_err(),
        StudioError::DurationOutOfRange(14)
    );
    assert_eq!(
        word_budget(91, &config).unwrap_err().code(),
        "duration_out_of_range"
    );
    assert!(
        word_budget(
            30,
            &ReelConfig {
                words_per_minute: 20.0,
                ..config
            }
        )
        .is_err()
    );
    assert!(
        word_budget(
            30,
            &ReelConfig {
                tolerance: 0.9,
                ..config
            }
        )
        .is_err()
    );
    let mut blank = request(30);
    blank.topic = "  ".into();
    assert!(blank.check().is_err());
}

#[test]
fn scene_counts_suit_the_duration() {
    assert_eq!(scene_range(15), (1, 5));
    assert_eq!(scene_range(30), (2, 10));
    assert_eq!(scene_range(90), (6, 30));
}

#[test]
fn a_well_made_thirty_second_script_passes() {
    let script = thirty_second_script();
    assert_eq!(script.spoken_words(), 77);
    let report = validate_script(
        &CompiledRules::new(&studio_rules()),
        &request(30),
        &script,
        &ReelConfig::default(),
    )
    .unwrap();
    assert!(report.passed, "{:#?}", report.errors().collect::<Vec<_>>());
    assert_eq!(
        report.status(RuleId::ReelDuration),
        Some(RuleStatus::Passed)
    );
    assert_eq!(report.status(RuleId::ReelParts), Some(RuleStatus::Passed));
    assert_eq!(
        report.status(RuleId::HashtagRequired),
        Some(RuleStatus::Passed)
    );
}

#[test]
fn a_script_too_long_for_its_duration_needs_cutting_by_a_model() {
    // The same 77 words are far too many for 15 seconds (32–43).
    let report = validate_script(
        &CompiledRules::new(&studio_rules()),
        &request(15),
        &thirty_second_script(),
        &ReelConfig::default(),
    )
    .unwrap();
    let duration = report.rule(RuleId::ReelDuration).unwrap();
    assert_eq!(duration.status, RuleStatus::Failed);
    let too_long = &duration.violations[0];
    assert!(
        too_long.message.contains("run 77 words"),
        "{}",
        too_long.message
    );
    assert!(
        too_long.message.contains("cut about 39 words"),
        "{}",
        too_long.message
    );
    assert!(!too_long.auto_repairable);
}

#[test]
fn a_script_too_short_for_its_duration_is_told_how_much_to_add() {
    let report = validate_script(
        &CompiledRules::new(&studio_rules()),
        &request(60),
        &thirty_second_script(),
        &ReelConfig::default(),
    )
    .unwrap();
    let message = &report.rule(RuleId::ReelDuration).unwrap().violations[0].message;
    // 60 s holds 150 words (128–173); 77 is 73 short of the target.
    assert!(
        message.contains("needs 128–173: add about 73 words"),
        "{message}"
    );
}

#[test]
fn a_wrong_duration_estimate_is_corrected_without_a_model() {
    let mut script = thirty_second_script();
    script.estimated_duration_seconds = 45.0;
    let rules = CompiledRules::new(&studio_rules());
    let report = validate_script(&rules, &request(30), &script, &ReelConfig::default()).unwrap();
    let estimate = &report.rule(RuleId::ReelDuration).unwrap().violations[0];
    assert!(estimate.auto_repairable);
    assert!(
        estimate
            .message
            .contains("estimates 45 seconds but its 77 spoken words take 31"),
        "{}",
        estimate.message
    );
    let repaired = repair_script(&rules, &request(30), &script, &ReelConfig::default()).unwrap();
    assert!((repaired.script.estimated_duration_seconds - 30.8).abs() < 1e-9);
    assert!(repaired.report.passed, "{:#?}", repaired.needs_model);
    assert!(repaired.actions.iter().any(|a| a.kind
        == RepairKind::SetDuration {
            from_seconds: 45.0,
            to_seconds: 30.8
        }));
}

#[test]
fn a_scene_without_a_visual_is_an_incomplete_script() {
    let mut script = thirty_second_script();
    script.scenes[2].visual = " ".into();
    let report = validate_script(
        &CompiledRules::new(&studio_rules()),
        &request(30),
        &script,
        &ReelConfig::default(),
    )
    .unwrap();
    let parts = report.rule(RuleId::ReelParts).unwrap();
    assert_eq!(parts.status, RuleStatus::Failed);
    assert_eq!(
        parts.violations[0].message,
        "scene 3 has no visual suggestion"
    );
    assert!(!report.passed);
}

#[test]
fn a_script_without_scenes_or_hook_fails_its_shape() {
    let mut script = thirty_second_script();
    script.scenes.clear();
    script.hook.clear();
    let report = validate_script(
        &CompiledRules::new(&studio_rules()),
        &request(30),
        &script,
        &ReelConfig::default(),
    )
    .unwrap();
    let missing: Vec<&str> = report
        .rule(RuleId::FieldCount)
        .unwrap()
        .violations
        .iter()
        .map(|v| v.message.as_str())
        .collect();
    assert!(
        missing.iter().any(|m| m.contains("hook is empty")),
        "{missing:?}"
    );
    assert!(
        missing.iter().any(|m| m.contains("voice over is missing")),
        "{missing:?}"
    );
}

#[test]
fn too_many_scenes_only_warn() {
    let mut script = thirty_second_script();
    let extra = script.scenes[0].clone();
    script.scenes = vec![extra; 11];
    let report = validate_script(
        &CompiledRules::new(&BrandRules::default()),
        &request(30),
        &script,
        &ReelConfig::default(),
    )
    .unwrap();
    let parts = report.rule(RuleId::ReelParts).unwrap();
    assert_eq!(parts.status, RuleStatus::Warned);
    assert_eq!(parts.violations[0].severity, Severity::Warning);
}

#[test]
fn repair_cleans_the_hashtags_and_keeps_the_scenes() {
    let mut script = thirty_second_script();
    script.hashtags = vec![
        "watercolour".into(),
        "#follow4follow".into(),
        "#art tips".into(),
    ];
    let repaired = repair_script(
        &CompiledRules::new(&studio_rules()),
        &request(30),
        &script,
        &ReelConfig::default(),
    )
    .unwrap();
    assert_eq!(repaired.script.hashtags, ["#watercolour", "#InkAndWater"]);
    assert_eq!(repaired.script.scenes, script.scenes);
    assert!(repaired.report.passed, "{:#?}", repaired.needs_model);
}

#[test]
fn fields_round_trip_to_the_same_script() {
    let script = thirty_second_script();
    assert_eq!(
        ReelScript::from_fields(&script.to_fields(), script.estimated_duration_seconds),
        script
    );
}

#[test]
fn the_schema_requires_every_part_within_the_budgets() {
    let schema = script_schema(30, &studio_rules()).unwrap();
    assert_eq!(
        schema["required"],
        json!([
            "hook",
            "scenes",
            "thumbnail_text",
            "cta",
            "caption",
            "hashtags",
            "estimated_duration_seconds"
        ])
    );
    assert_eq!(schema["properties"]["scenes"]["minItems"], 2);
    assert_eq!(schema["properties"]["scenes"]["maxItems"], 10);
    assert_eq!(
        schema["properties"]["scenes"]["items"]["required"],
        json!(["on_screen_text", "voice_over", "visual"])
    );
    assert_eq!(schema["properties"]["hashtags"]["maxItems"], 5);
    assert_eq!(schema["properties"]["hashtags"]["minItems"], 1);
    assert_eq!(schema["properties"]["caption"]["maxLength"], 2200);
    assert_eq!(schema["additionalProperties"], false);
    let set = variants_schema(30, &studio_rules(), 3).unwrap();
    assert_eq!(set["properties"]["variants"]["minItems"], 3);
    assert!(script_schema(10, &studio_rules()).is_err());
}

#[test]
fn a_script_in_the_schema_shape_deserialises() {
    let json = serde_json::to_value(thirty_second_script()).unwrap();
    let schema = script_schema(30, &studio_rules()).unwrap();
    for key in schema["required"].as_array().unwrap() {
        assert!(json.get(key.as_str().unwrap()).is_some(), "{key}");
    }
    let back: ReelScript = serde_json::from_value(json).unwrap();
    assert_eq!(back, thirty_second_script());
}

#[test]
fn a_request_travels_as_json() {
    let json = json!({
        "sector": "creative_arts", "hook_type": "question", "duration_seconds": 30,
        "topic": "Why beginners' watercolours turn muddy", "language": "en"
    });
    let parsed: ReelRequest = serde_json::from_value(json.clone()).unwrap();
    assert_eq!(parsed, request(30));
    assert_eq!(serde_json::to_value(&parsed).unwrap(), json);
}
