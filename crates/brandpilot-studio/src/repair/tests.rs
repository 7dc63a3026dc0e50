//! Model-free repairs end to end: each test starts from a draft a small model could write,
//! repairs it, and checks the text a marketer would read and whether it now passes.

use super::*;
use crate::channels::{Channel, CountMethod, Field, FieldText};
use crate::rules::{BrandRules, EmojiPolicy, RequiredDisclaimer, Substitution};
use crate::validate::tests::studio_rules;
use crate::validate::{RuleStatus, Severity};

fn repair(rules: &BrandRules, channel: Channel, fields: &[FieldText]) -> RepairOutcome {
    repair_variant(rules, channel, fields, Language::En)
}

fn texts(outcome: &RepairOutcome, field: Field) -> Vec<&str> {
    outcome
        .fields
        .iter()
        .filter(|e| e.field == field)
        .map(|e| e.text.as_str())
        .collect()
}

#[test]
fn a_banned_word_is_replaced_keeping_its_case_and_inflection() {
    let rules = BrandRules {
        substitutions: vec![
            Substitution {
                banned: "cheap".into(),
                replacement: "affordable".into(),
            },
            Substitution {
                banned: "guarantee".into(),
                replacement: "promise".into(),
            },
        ],
        ..BrandRules::default()
    };
    let post = "Cheap brushes, CHEAP paper, cheap fun. Guaranteed joy, we guarantee it. Book your free trial class.";
    let outcome = repair(
        &rules,
        Channel::LinkedinPost,
        &[FieldText::new(Field::Post, post)],
    );
    assert_eq!(
        texts(&outcome, Field::Post),
        [
            "Affordable brushes, AFFORDABLE paper, affordable fun. Promised joy, we promise it. Book your free trial class."
        ]
    );
    assert_eq!(
        outcome.report.status(RuleId::BannedWord),
        Some(RuleStatus::Passed)
    );
    assert!(outcome.actions.contains(&RepairAction {
        rule: RuleId::BannedWord,
        field: Some(FieldRef {
            field: Field::Post,
            index: 0
        }),
        kind: RepairKind::ReplacedWord {
            from: "Guaranteed".into(),
            to: "Promised".into()
        },
    }));
    assert_eq!(outcome.actions.len(), 5);
}

#[test]
fn a_replacement_inside_a_hashtag_stays_one_tag() {
    let rules = BrandRules {
        substitutions: vec![Substitution {
            banned: "cheap".into(),
            replacement: "low cost".into(),
        }],
        ..BrandRules::default()
    };
    let outcome = repair(
        &rules,
        Channel::XPost,
        &[FieldText::new(
            Field::Post,
            "Book your free trial class. #cheap #art",
        )],
    );
    assert_eq!(
        texts(&outcome, Field::Post),
        ["Book your free trial class. #lowcost #art"]
    );
}

#[test]
fn a_missing_disclaimer_goes_after_the_copy_and_before_the_hashtags() {
    let draft = "Always wanted to paint? Our spring watercolour course starts Monday. Book your free trial class today.\n\n#InkAndWater #watercolour";
    let outcome = repair(
        &studio_rules(),
        Channel::InstagramCaption,
        &[FieldText::new(Field::Caption, draft)],
    );
    assert_eq!(
        texts(&outcome, Field::Caption),
        [
            "Always wanted to paint? Our spring watercolour course starts Monday. Book your free trial class today.\n\n\
          Materials included while stocks last.\n\n#InkAndWater #watercolour"
        ]
    );
    assert!(outcome.passed(), "{:#?}", outcome.needs_model);
    assert_eq!(
        outcome.actions,
        [RepairAction {
            rule: RuleId::Disclaimer,
            field: Some(FieldRef {
                field: Field::Caption,
                index: 0
            }),
            kind: RepairKind::AppendedDisclaimer {
                text: "Materials included while stocks last.".into()
            },
        }]
    );
}

#[test]
fn an_overlong_x_post_is_cut_at_a_sentence_keeping_its_cta_and_room_for_the_disclaimer() {
    let rules = BrandRules {
        required_disclaimers: vec![RequiredDisclaimer {
            text: "Terms apply.".into(),
            channels: vec![Channel::XPost],
        }],
        ..BrandRules::default()
    };
    // Each sentence is 57 characters plus a space; five of them and the CTA make 317.
    let sentence = "Paint with us this spring, six evenings in a small group. ";
    let draft = format!("{}Book your free trial class.", sentence.repeat(5));
    let outcome = repair(
        &rules,
        Channel::XPost,
        &[FieldText::new(Field::Post, &draft)],
    );
    // 280 − "\n\nTerms apply." (14) leaves 266: four sentences (231) + " " + the CTA (27) = 259.
    let expected = format!(
        "{}Book your free trial class.\n\nTerms apply.",
        sentence.repeat(4)
    );
    assert_eq!(texts(&outcome, Field::Post), [expected.as_str()]);
    assert!(outcome.passed(), "{:#?}", outcome.needs_model);
    assert!(outcome.actions.iter().any(|a| matches!(
        a.kind,
        RepairKind::CutToLength {
            from_chars: 317,
            to_chars: 259,
            boundary: Boundary::Sentence
        }
    )));
}

#[test]
fn a_search_ad_headline_is_cut_at_a_word_without_an_ellipsis() {
    let fields = [
        FieldText::new(Field::Headline, "Watercolour Classes in Leeds"),
        FieldText::new(Field::Headline, "Book Your Free Trial Class Now Today"),
        FieldText::new(Field::Headline, "Beginners Welcome"),
        FieldText::new(
            Field::Description,
            "Six relaxed evenings in a small group, all materials included.",
        ),
        FieldText::new(
            Field::Description,
            "Book your free trial class and paint your first landscape.",
        ),
    ];
    let outcome = repair(&BrandRules::default(), Channel::GoogleSearchAd, &fields);
    assert_eq!(
        texts(&outcome, Field::Headline)[1],
        "Book Your Free Trial Class Now"
    );
    assert!(outcome.passed(), "{:#?}", outcome.needs_model);
}

#[test]
fn banned_tags_go_required_tags_come_and_surplus_tags_go_last_first() {
    let draft = "Book your free trial class.\n\nMaterials included while stocks last.\n\n\
        #watercolour #art #painting #springcourse #follow4follow #artclass";
    let outcome = repair(
        &studio_rules(),
        Channel::InstagramCaption,
        &[FieldText::new(Field::Caption, draft)],
    );
    assert_eq!(
        texts(&outcome, Field::Caption),
        [
            "Book your free trial class.\n\nMaterials included while stocks last.\n\n\
          #watercolour #art #painting #springcourse #InkAndWater"
        ]
    );
    let kinds: Vec<&RepairKind> = outcome.actions.iter().map(|a| &a.kind).collect();
    assert_eq!(
        kinds,
        [
            &RepairKind::DroppedHashtag {
                tag: "#follow4follow".into()
            },
            &RepairKind::AddedHashtag {
                tag: "#InkAndWater".into()
            },
            &RepairKind::DroppedHashtag {
                tag: "#artclass".into()
            },
        ]
    );
    assert!(outcome.passed(), "{:#?}", outcome.needs_model);
}

#[test]
fn emoji_beyond_the_policy_are_removed_keeping_the_first_ones() {
    let draft = "🎨 Paint with us! 🖌️ Book your free trial class 👩‍🎨 today 🎉\n\nMaterials included while stocks last. #InkAndWater";
    let outcome = repair(
        &studio_rules(),
        Channel::InstagramCaption,
        &[FieldText::new(Field::Caption, draft)],
    );
    assert_eq!(
        texts(&outcome, Field::Caption),
        [
            "🎨 Paint with us! 🖌️ Book your free trial class today\n\nMaterials included while stocks last. #InkAndWater"
        ]
    );
    assert_eq!(outcome.report.metrics.emoji, 2);
    let mut no_emoji = studio_rules();
    no_emoji.emoji = EmojiPolicy::None;
    let outcome = repair(
        &no_emoji,
        Channel::InstagramCaption,
        &[FieldText::new(Field::Caption, draft)],
    );
    assert_eq!(outcome.report.metrics.emoji, 0);
    assert!(outcome.passed(), "{:#?}", outcome.needs_model);
}

#[test]
fn a_reel_hashtag_list_is_cleaned_completed_and_capped() {
    let mut fields: Vec<FieldText> = [
        "watercolour",
        "#art class",
        "#follow4follow",
        "#a",
        "#b",
        "#c",
        "#d",
    ]
    .into_iter()
    .map(|tag| FieldText::new(Field::Hashtags, tag))
    .collect();
    fields.insert(
        0,
        FieldText::new(
            Field::Caption,
            "Book your free trial class. Materials included while stocks last.",
        ),
    );
    let outcome = repair(&studio_rules(), Channel::ReelScript, &fields);
    assert_eq!(
        texts(&outcome, Field::Hashtags),
        ["#watercolour", "#a", "#b", "#c", "#InkAndWater"]
    );
    assert!(outcome.actions.iter().any(|a| a.kind
        == RepairKind::FixedHashtag {
            from: "watercolour".into(),
            to: "#watercolour".into()
        }));
    assert_eq!(
        outcome.report.status(RuleId::HashtagFormat),
        Some(RuleStatus::Passed)
    );
    assert_eq!(
        outcome.report.status(RuleId::HashtagCount),
        Some(RuleStatus::Passed)
    );
}

#[test]
fn what_needs_rewriting_is_left_for_the_model_and_listed_for_its_prompt() {
    let draft = "Guaranteed results with our cheap course. Learn more. #InkAndWater";
    // Without a CTA library, which action fits is the model's to write.
    let rules = BrandRules {
        cta_library: Vec::new(),
        ..studio_rules()
    };
    let outcome = repair(
        &rules,
        Channel::LinkedinPost,
        &[FieldText::new(Field::Post, draft)],
    );
    assert_eq!(
        texts(&outcome, Field::Post),
        ["Guaranteed results with our affordable course. Learn more. #InkAndWater"]
    );
    let rules: Vec<RuleId> = outcome.needs_model.iter().map(|v| v.rule).collect();
    assert_eq!(rules, [RuleId::BannedClaim, RuleId::Cta]);
    assert!(
        outcome
            .needs_model
            .iter()
            .all(|v| v.severity == Severity::Error && !v.auto_repairable)
    );
    let prompt = describe_for_prompt(&outcome.needs_model);
    let lines: Vec<&str> = prompt.lines().collect();
    assert_eq!(lines.len(), 2);
    assert!(
        lines[0].starts_with("1. [banned_claim] post 1: \"Guaranteed results\" is a claim"),
        "{}",
        lines[0]
    );
    assert!(
        lines[1].starts_with("2. [cta] \"Learn more\" is a vague call to action"),
        "{}",
        lines[1]
    );
}

#[test]
fn a_disclaimer_longer_than_the_post_is_left_to_a_person() {
    let rules = BrandRules {
        required_disclaimers: vec![RequiredDisclaimer {
            text: "Legal. ".repeat(45),
            channels: vec![Channel::XPost],
        }],
        ..BrandRules::default()
    };
    let outcome = repair(
        &rules,
        Channel::XPost,
        &[FieldText::new(Field::Post, "Book your free trial class.")],
    );
    assert_eq!(
        texts(&outcome, Field::Post),
        ["Book your free trial class."]
    );
    assert_eq!(outcome.needs_model.len(), 1);
    assert_eq!(outcome.needs_model[0].rule, RuleId::Disclaimer);
    assert!(!outcome.report.rule(RuleId::Disclaimer).unwrap().violations[0].auto_repairable);
}

#[test]
fn surplus_empty_and_foreign_entries_are_dropped() {
    let mut fields: Vec<FieldText> = (1..=17)
        .map(|n| FieldText::new(Field::Headline, format!("Watercolour Class {n}")))
        .collect();
    fields.push(FieldText::new(
        Field::Description,
        "Six relaxed evenings in a small group. Book your free trial class.",
    ));
    fields.push(FieldText::new(Field::Description, "  "));
    fields.push(FieldText::new(
        Field::Description,
        "Beginners welcome, all materials included.",
    ));
    fields.push(FieldText::new(Field::Subject, "Not an ad field"));
    let outcome = repair(&BrandRules::default(), Channel::GoogleSearchAd, &fields);
    assert_eq!(texts(&outcome, Field::Headline).len(), 15);
    assert_eq!(texts(&outcome, Field::Headline)[14], "Watercolour Class 15");
    assert_eq!(texts(&outcome, Field::Description).len(), 2);
    assert!(texts(&outcome, Field::Subject).is_empty());
    let dropped = outcome
        .actions
        .iter()
        .filter(|a| matches!(a.kind, RepairKind::DroppedEntry { .. }))
        .count();
    assert_eq!(dropped, 4);
    assert_eq!(
        outcome.report.status(RuleId::FieldCount),
        Some(RuleStatus::Passed)
    );
}

#[test]
fn a_passing_variant_is_left_alone_and_repair_is_idempotent() {
    let draft = "Always wanted to paint? Book your free trial class today.\n\n\
        Materials included while stocks last.\n\n#InkAndWater #watercolour #art #painting #springcourse #artclass #follow4follow 🎨🎨🎨";
    let once = repair(
        &studio_rules(),
        Channel::InstagramCaption,
        &[FieldText::new(Field::Caption, draft)],
    );
    assert!(once.passed(), "{:#?}", once.needs_model);
    assert!(!once.actions.is_empty());
    let twice = repair(&studio_rules(), Channel::InstagramCaption, &once.fields);
    assert_eq!(twice.fields, once.fields);
    assert!(twice.actions.is_empty(), "{:#?}", twice.actions);
}

#[test]
fn an_empty_variant_is_reported_not_invented() {
    let outcome = repair(&studio_rules(), Channel::Email, &[]);
    assert!(outcome.fields.is_empty());
    assert!(!outcome.passed());
    assert!(
        outcome
            .needs_model
            .iter()
            .any(|v| v.rule == RuleId::FieldCount)
    );
}

#[test]
fn cut_to_limit_prefers_sentences_then_words_then_characters() {
    let method = CountMethod::Characters;
    assert_eq!(cut_to_limit("Short.", 10, method, None, true), None);
    let two = "First sentence here. Second one is longer.";
    assert_eq!(
        cut_to_limit(two, 25, method, None, true),
        Some(Cut {
            text: "First sentence here.".into(),
            boundary: Boundary::Sentence
        })
    );
    assert_eq!(
        cut_to_limit(
            "One long sentence without any stop at all",
            20,
            method,
            None,
            true
        ),
        Some(Cut {
            text: "One long sentence…".into(),
            boundary: Boundary::Word
        })
    );
    assert_eq!(
        cut_to_limit("Supercalifragilistic", 10, method, None, true),
        Some(Cut {
            text: "Supercali…".into(),
            boundary: Boundary::Character
        })
    );
    assert_eq!(
        cut_to_limit("Supercalifragilistic", 10, method, None, false),
        Some(Cut {
            text: "Supercalif".into(),
            boundary: Boundary::Character
        })
    );
}

#[test]
fn cut_to_limit_keeps_a_closing_call_to_action() {
    let text = "We paint on Mondays.\nWe paint on Tuesdays.\nWe paint on Wednesdays.\nBook your free trial class.";
    let cut = cut_to_limit(text, 60, CountMethod::Characters, Some(Language::En), true).unwrap();
    assert_eq!(
        cut.text,
        "We paint on Mondays.\n\nBook your free trial class."
    );
    assert!(cut.text.chars().count() <= 60);
    // Without the CTA rule, the first sentences are kept.
    let plain = cut_to_limit(text, 60, CountMethod::Characters, None, true).unwrap();
    assert_eq!(plain.text, "We paint on Mondays.\nWe paint on Tuesdays.");
}

#[test]
fn cut_to_limit_counts_as_the_platform_does() {
    // On X a link weighs 23 however long it is, so this fits 40 without a cut.
    let text = "See https://example.com/a/very/long/path/indeed now";
    assert_eq!(
        cut_to_limit(text, 40, CountMethod::XWeighted, None, true),
        None
    );
    assert!(cut_to_limit(text, 40, CountMethod::Characters, None, true).is_some());
}

#[test]
fn case_is_matched_from_the_banned_text() {
    assert_eq!(match_case("cheap", "affordable"), "affordable");
    assert_eq!(match_case("Cheap", "affordable"), "Affordable");
    assert_eq!(match_case("CHEAP", "affordable"), "AFFORDABLE");
    assert_eq!(match_case("Risk Free", "low risk"), "Low risk");
    assert_eq!(match_case("RISK-FREE", "low risk"), "LOW RISK");
    assert_eq!(match_case("iPhone", "phone"), "phone");
}

/// Random drafts built from the pieces that break text code: banned words and their
/// inflections, hashtags good and bad, emoji sequences, links, CJK, accents, punctuation
/// runs, line breaks and very long words.
fn odd_draft(rng: &mut crate::experiment::SplitMix64, words: usize) -> String {
    use crate::experiment::RandomSource;
    const PIECES: &[&str] = &[
        "Cheap",
        "cheaper",
        "CURE",
        "cured",
        "secure",
        "guaranteed results",
        "risk-free",
        "Book your free trial class.",
        "Learn more!",
        "#InkAndWater",
        "#follow4follow",
        "#1",
        "#summer-sale",
        "#café",
        "C#",
        "🎨",
        "👩‍🎨",
        "🇫🇷",
        "1️⃣",
        "https://secure.example.com/cure?x=1",
        "mail@example.com",
        "東京で水彩画",
        "Crème brûlée",
        "Straße",
        "—",
        "…",
        "!!!",
        "\n",
        "\n\n",
        "  ",
        "don't",
        "Materials included while stocks last.",
        "Terms apply.",
        "a",
        "the",
        "Supercalifragilisticexpialidocious",
        "e.g.",
        "Dr.",
        "3.50",
        "?",
        "\t",
        "’",
        "'",
        "#",
        "##",
        "& more",
        "painting",
        "course",
        "Leeds",
        "spring",
        "evenings",
        ".",
    ];
    let mut draft = String::new();
    for _ in 0..words {
        let piece = PIECES[(rng.next_u64() % PIECES.len() as u64) as usize];
        draft.push_str(piece);
        if !rng.next_u64().is_multiple_of(3) {
            draft.push(' ');
        }
    }
    draft
}

#[test]
fn odd_drafts_never_crash_and_repairs_respect_hard_limits_and_settle() {
    use crate::experiment::RandomSource;
    let rules = {
        let mut rules = studio_rules();
        rules.required_disclaimers.push(RequiredDisclaimer {
            text: "Terms apply.".into(),
            channels: vec![],
        });
        rules
    };
    let compiled = CompiledRules::new(&rules);
    let mut rng = crate::experiment::SplitMix64::new(2026);
    for round in 0..80 {
        for channel in Channel::ALL {
            let spec = channels::spec(channel);
            let mut fields = Vec::new();
            for field in spec.fields {
                let entries = field.min_entries + (rng.next_u64() % 3) as usize;
                for _ in 0..entries {
                    let length = (rng.next_u64() % 80) as usize;
                    fields.push(FieldText::new(field.field, odd_draft(&mut rng, length)));
                }
            }
            let report = compiled.validate_variant(channel, &fields, Language::En);
            assert_eq!(report.rules.len(), RuleId::VARIANT_RULES.len());
            let outcome = compiled.repair_variant(channel, &fields, Language::En);
            for entry in &outcome.fields {
                let Some(field) = spec.field(entry.field) else {
                    panic!("{channel:?} kept a foreign field")
                };
                if let Some(max) = field.max_chars {
                    let length = channels::count_chars(entry.text.trim(), field.count);
                    assert!(
                        length <= max,
                        "round {round} {channel:?} {:?}: {length} > {max}\n{}",
                        entry.field,
                        entry.text
                    );
                }
            }
            assert_ne!(
                outcome.report.status(RuleId::Length),
                Some(crate::validate::RuleStatus::Failed),
                "{channel:?}"
            );
            for rule in [
                RuleId::BannedWord,
                RuleId::HashtagBanned,
                RuleId::Emoji,
                RuleId::HashtagRequired,
            ] {
                let result = outcome.report.rule(rule).unwrap();
                assert!(
                    result.violations.iter().all(|v| !v.auto_repairable),
                    "round {round} {channel:?}: a repairable {rule:?} survived repair: {:#?}\n{:#?}\nfrom {:#?}\nby {:#?}",
                    result.violations,
                    outcome.fields,
                    fields,
                    outcome.actions
                );
            }
        }
    }
}

#[test]
fn a_missing_call_to_action_becomes_the_brands_own_before_the_hashtags() {
    let rules = BrandRules {
        cta_library: vec!["Book your free trial class".into()],
        ..BrandRules::default()
    };
    let outcome = repair(
        &rules,
        Channel::LinkedinPost,
        &[FieldText::new(
            Field::Post,
            "Spring watercolour starts in March with twelve live lessons\n\n#watercolour",
        )],
    );
    assert_eq!(
        texts(&outcome, Field::Post),
        [
            "Spring watercolour starts in March with twelve live lessons. Book your free trial class.\n\n#watercolour"
        ]
    );
    assert_eq!(outcome.report.status(RuleId::Cta), Some(RuleStatus::Passed));
    assert!(outcome.actions.iter().any(|a| a.rule == RuleId::Cta
        && a.kind
            == RepairKind::AddedCta {
                text: "Book your free trial class".into(),
                replaced: None
            }));
}

#[test]
fn a_vague_call_to_action_is_replaced_and_a_specific_one_is_left_alone() {
    let rules = BrandRules {
        cta_library: vec!["Book your free trial class".into()],
        ..BrandRules::default()
    };
    let vague = repair(
        &rules,
        Channel::XPost,
        &[FieldText::new(
            Field::Post,
            "Twelve live lessons this spring. Learn more!",
        )],
    );
    assert_eq!(
        texts(&vague, Field::Post),
        ["Twelve live lessons this spring. Book your free trial class!"]
    );
    assert_eq!(vague.report.status(RuleId::Cta), Some(RuleStatus::Passed));
    let specific = "Twelve live lessons this spring. Grab a seat in the March group.";
    let kept = repair(
        &rules,
        Channel::XPost,
        &[FieldText::new(Field::Post, specific)],
    );
    assert_eq!(texts(&kept, Field::Post), [specific]);
    assert!(kept.actions.iter().all(|a| a.rule != RuleId::Cta));
}

#[test]
fn without_a_cta_library_a_missing_call_to_action_is_left_for_the_model() {
    let outcome = repair(
        &BrandRules::default(),
        Channel::XPost,
        &[FieldText::new(
            Field::Post,
            "Twelve live lessons this spring.",
        )],
    );
    assert_eq!(
        texts(&outcome, Field::Post),
        ["Twelve live lessons this spring."]
    );
    let cta = outcome
        .needs_model
        .iter()
        .find(|v| v.rule == RuleId::Cta)
        .expect("a CTA is still missing");
    assert!(!cta.auto_repairable);
}
