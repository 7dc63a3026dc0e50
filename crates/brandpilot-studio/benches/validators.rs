//! Validator throughput on realistic variants: a mix of channels (a LinkedIn post, an
//! Instagram caption with hashtags and emoji, an X post, an e-mail, a 15-headline search
//! ad, a Meta ad, a 400-word blog article) judged against a brand with a realistic rule set.
//! Issue 7 asks for at least 10,000 variants a second on one core; criterion reports the
//! throughput in elements (variants) per second.

use brandpilot_studio::channels::{Channel, Field, FieldText};
use brandpilot_studio::language::Language;
use brandpilot_studio::rules::{
    BrandRules, EmojiPolicy, HashtagRules, ReadingLevel, RequiredDisclaimer, Substitution,
};
use brandpilot_studio::{CompiledRules, validate_variant};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;

fn rules() -> BrandRules {
    BrandRules {
        audience: "Adults who always wanted to paint".into(),
        banned_words: [
            "cheap",
            "cure",
            "miracle",
            "guarantee",
            "best",
            "revolutionary",
            "instant",
            "effortless",
            "secret",
            "hack",
            "lifetime",
            "unlimited",
            "perfect",
            "amazing",
            "ultimate",
            "genius",
            "magic",
            "flawless",
            "painless",
            "overnight",
        ]
        .map(String::from)
        .to_vec(),
        banned_claims: [
            "clinically proven",
            "guaranteed results",
            "risk free",
            "no experience needed ever",
            "double your income",
        ]
        .map(String::from)
        .to_vec(),
        substitutions: vec![
            Substitution {
                banned: "cheap".into(),
                replacement: "affordable".into(),
            },
            Substitution {
                banned: "best".into(),
                replacement: "favourite".into(),
            },
            Substitution {
                banned: "instant".into(),
                replacement: "quick".into(),
            },
            Substitution {
                banned: "amazing".into(),
                replacement: "lovely".into(),
            },
            Substitution {
                banned: "risk free".into(),
                replacement: "with a full refund".into(),
            },
        ],
        required_disclaimers: vec![
            RequiredDisclaimer {
                text: "Materials included while stocks last.".into(),
                channels: vec![
                    Channel::InstagramCaption,
                    Channel::Email,
                    Channel::LinkedinPost,
                ],
            },
            RequiredDisclaimer {
                text: "Terms apply.".into(),
                channels: vec![Channel::MetaAd],
            },
        ],
        hashtags: HashtagRules {
            min: 1,
            max: 5,
            required: vec!["#InkAndWater".into()],
            banned: vec!["#follow4follow".into(), "#like4like".into()],
        },
        emoji: EmojiPolicy::Few { max: 3 },
        reading_level: ReadingLevel {
            max_grade: Some(9.0),
            min_reading_ease: Some(50.0),
        },
        cta_library: [
            "Book your free trial class",
            "Reserve your seat",
            "Join the spring cohort",
            "Download the colour guide",
            "Visit the studio on Saturday",
        ]
        .map(String::from)
        .to_vec(),
    }
}

fn variants() -> Vec<(Channel, Vec<FieldText>)> {
    let article = "Watercolour looks hard because it moves. Water carries pigment where it wants, and \
        beginners fight it. The trick is to plan where the water goes before the brush touches the paper. "
        .repeat(6)
        + "Start with three colours: a warm red, a cool blue and a bright yellow. Mix on the paper, not the palette. \
        Let each layer dry. Change your water often. Our spring course spends six evenings on exactly these habits, \
        in a small group with a patient teacher. Reserve your seat for the spring cohort today. \
        Materials included while stocks last.";
    vec![
        (
            Channel::LinkedinPost,
            vec![FieldText::new(
                Field::Post,
                "Most adults who sign up for our watercolour course tell us the same thing: they stopped drawing at \
                 school and never picked it up again.\n\nSo we built a course for exactly them. Six relaxed evenings, \
                 a small group, a patient teacher and all the materials on the table when you arrive. No talent \
                 test, no homework, no pressure.\n\nBy the last evening, every student takes home a finished \
                 landscape they painted themselves. Last spring, Ana framed hers for her kitchen.\n\nThe spring \
                 cohort starts on Monday 14 April in our Leeds studio.\n\nReserve your seat before Friday.\n\n\
                 Materials included while stocks last.\n\n#InkAndWater #watercolour #leeds",
            )],
        ),
        (
            Channel::InstagramCaption,
            vec![FieldText::new(
                Field::Caption,
                "🎨 Always wanted to paint? Our spring watercolour course starts Monday. Six relaxed evenings, \
                 a small group and a patient teacher. Book your free trial class today. 🖌️\n\n\
                 Materials included while stocks last.\n\n#InkAndWater #watercolour #springcourse #leedsart",
            )],
        ),
        (
            Channel::XPost,
            vec![FieldText::new(
                Field::Post,
                "Never held a brush? Good. Our spring watercolour course is six evenings for total beginners, \
                 materials included. Book your free trial class: https://example.com/spring #InkAndWater",
            )],
        ),
        (
            Channel::Email,
            vec![
                FieldText::new(Field::Subject, "Your first watercolour, in six evenings"),
                FieldText::new(
                    Field::Body,
                    "Hi Sam,\n\nYou told us you always wanted to paint. This spring we run a six-evening \
                     watercolour course for complete beginners in our Leeds studio: a small group, a patient \
                     teacher, tea and every material on the table when you arrive.\n\nEach evening covers one \
                     habit: mixing on the paper, keeping water clean, letting layers dry, and planning where the \
                     light goes. By the last evening you take home a finished landscape.\n\nBook your free trial \
                     class this week and see if it suits you.\n\nMaterials included while stocks last.\n\nMaya, \
                     Ink & Water studio",
                ),
            ],
        ),
        (
            Channel::GoogleSearchAd,
            [
                "Watercolour Classes in Leeds", "Beginner Watercolour Course", "Six Relaxed Evenings",
                "Small Groups, Patient Tutor", "All Materials Included", "Book a Free Trial Class",
                "Spring Cohort Starts Monday", "Paint Your First Landscape", "No Experience Required",
                "Evening Art Classes Leeds", "Learn Watercolour Basics", "Friendly Studio Atmosphere",
                "Reserve Your Seat Today", "Adults Welcome", "Tea and Paper on Us",
            ]
            .into_iter()
            .map(|headline| FieldText::new(Field::Headline, headline))
            .chain(
                [
                    "Six relaxed evenings of watercolour for adult beginners. Book a free trial class.",
                    "Small groups and a patient teacher. Every material is on the table when you arrive.",
                    "Paint a finished landscape by the last evening. Reserve your seat for spring.",
                    "Our Leeds studio welcomes total beginners. Join the spring cohort this April.",
                ]
                .into_iter()
                .map(|description| FieldText::new(Field::Description, description)),
            )
            .collect(),
        ),
        (
            Channel::MetaAd,
            vec![
                FieldText::new(
                    Field::PrimaryText,
                    "Always wanted to paint? Six relaxed evenings of watercolour for beginners in Leeds. \
                     Book your free trial class. Terms apply.",
                ),
                FieldText::new(Field::Headline, "Spring watercolour course"),
                FieldText::new(Field::Description, "Leeds, from 14 April"),
            ],
        ),
        (
            Channel::BlogArticle,
            vec![
                FieldText::new(Field::Title, "Why watercolour feels hard, and three habits that fix it"),
                FieldText::new(Field::Body, article),
            ],
        ),
    ]
}

fn bench_validators(c: &mut Criterion) {
    let rules = rules();
    rules
        .check()
        .expect("the benchmark brand's rules are coherent");
    let variants = variants();
    let compiled = CompiledRules::new(&rules);
    // The variants are realistic drafts: say how many pass, and what fails in the others,
    // so the numbers below are known to cover real verdicts.
    for (channel, fields) in &variants {
        let report = compiled.validate_variant(*channel, fields, Language::En);
        assert_eq!(report.rules.len(), 15, "{channel:?}");
        let failed: Vec<&str> = report
            .failed_rules()
            .into_iter()
            .map(|rule| rule.code())
            .collect();
        eprintln!(
            "{:>18}: {}",
            channel.code(),
            if failed.is_empty() {
                "passes".to_owned()
            } else {
                format!("fails {failed:?}")
            }
        );
    }
    let mut group = c.benchmark_group("validators");
    group.throughput(Throughput::Elements(variants.len() as u64));
    group.bench_function("validate_variant (rules compiled per call)", |b| {
        b.iter(|| {
            for (channel, fields) in &variants {
                black_box(validate_variant(
                    black_box(&rules),
                    *channel,
                    fields,
                    Language::En,
                ));
            }
        })
    });
    group.bench_function("CompiledRules::validate_variant", |b| {
        b.iter(|| {
            for (channel, fields) in &variants {
                black_box(compiled.validate_variant(*channel, black_box(fields), Language::En));
            }
        })
    });
    group.bench_function("CompiledRules::repair_variant", |b| {
        b.iter(|| {
            for (channel, fields) in &variants {
                black_box(compiled.repair_variant(*channel, black_box(fields), Language::En));
            }
        })
    });
    group.finish();
}

criterion_group!(benches, bench_validators);
criterion_main!(benches);
