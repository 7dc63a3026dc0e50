//! Scoring: which drafts read like the brand, and why each component says so.

use super::*;

/// On-brand for the punchy studio: "Spring is here!" (3 words), "🌷 Paint with us this
/// Saturday." (5), "Your brush is waiting." (4); an emoji, an exclamation, "us" and "your",
/// and three signature words (paint, saturday, brush).
const ON_BRAND: &str = "Spring is here! 🌷 Paint with us this Saturday. Your brush is waiting.";

fn component(score: &VoiceScore, component: VoiceComponent) -> f64 {
    score
        .component(component)
        .unwrap_or_else(|| panic!("{component:?} missing from {score:?}"))
        .score
}

/// exp(−½ z²), the closeness at `z` tolerances from the brand's habit.
fn at_tolerances(z: f64) -> f64 {
    (-0.5 * z * z).exp()
}

#[test]
fn a_post_in_the_brands_habits_clearly_outscores_a_formal_paragraph() {
    let profile = punchy_profile();
    let on_brand = voice_consistency(&profile, ON_BRAND);
    let formal = voice_consistency(&profile, FORMAL);
    // On brand: all three sentences are within the brand's 3–7 words, so that component is
    // exactly 1; the rest sit close to the profile (see the learn tests for its numbers).
    assert_eq!(component(&on_brand, VoiceComponent::SentenceLength), 1.0);
    assert!(on_brand.score > 0.8, "{on_brand:#?}");
    // Formal: the brand puts an emoji in every post (share 1), so a text without one scores
    // (1 − 1) / 1 = 0; it uses none of the signature words; its 29- and 25-word sentences
    // are 11 and more tolerances of 2 words past the brand's 7. What is left (punctuation
    // and address, 0.15 each) cannot lift it above 0.3.
    assert_eq!(component(&formal, VoiceComponent::Emoji), 0.0);
    assert_eq!(component(&formal, VoiceComponent::Vocabulary), 0.0);
    assert!(component(&formal, VoiceComponent::SentenceLength) < 1e-6);
    assert!(formal.score < 0.35, "{formal:#?}");
    assert!(on_brand.score > formal.score + 0.45);
}

#[test]
fn a_formal_brand_prefers_the_formal_paragraph() {
    let profile = learn_voice(&examples(&[FORMAL]), Language::En).unwrap();
    let formal = voice_consistency(&profile, FORMAL);
    let punchy = voice_consistency(&profile, ON_BRAND);
    // The brand never uses emoji: a text with one scores 0 on that component.
    assert_eq!(component(&punchy, VoiceComponent::Emoji), 0.0);
    assert_eq!(component(&formal, VoiceComponent::Emoji), 1.0);
    assert!(
        formal.score > punchy.score + 0.45,
        "{formal:#?} {punchy:#?}"
    );
}

#[test]
fn a_text_scores_almost_one_against_the_profile_learned_from_it_alone() {
    // Learned from one text of at most nine sentences, the profile's sentence range is the
    // text's shortest to longest sentence (each sentence holds more than a tenth of the
    // weight), and every other number is the text's own, rounded to two decimals: each
    // component is within a rounding error of 1, and vocabulary gets full marks at half the
    // text's own rate.
    for text in PUNCHY.iter().copied().chain([
        FORMAL,
        ON_BRAND,
        "Nous vous attendons samedi ! Votre pinceau est prêt.",
    ]) {
        let profile = learn_voice(&[VoiceExample::new(text)], Language::En).unwrap();
        let score = voice_consistency(&profile, text);
        assert!(score.score > 0.99, "{text}: {score:#?}");
    }
}

#[test]
fn a_text_without_words_scores_zero_and_explains_nothing() {
    let profile = punchy_profile();
    for text in [
        "",
        "   ",
        "🎉🎉🎉",
        "#spring #watercolour @studio",
        "https://example.com",
    ] {
        let score = voice_consistency(&profile, text);
        assert_eq!(score.score, 0.0, "{text:?}");
        assert_eq!(score.words, 0);
        assert!(score.components.is_empty());
    }
}

#[test]
fn the_score_is_the_weighted_mean_of_the_components() {
    // "Dogs like long naps." against the plain profile: one sentence of 4 words (inside 3–7),
    // words of exactly 4 characters, no emoji (the brand uses none), no "!" or "?" (nor does
    // the brand), no "you" or "we" (nor the brand). No vocabulary, so five components.
    let profile = plain_profile();
    let calm = voice_consistency(&profile, "Dogs like long naps.");
    assert_eq!(calm.words, 4);
    assert_eq!(calm.score, 1.0, "{calm:#?}");
    let codes: Vec<VoiceComponent> = calm.components.iter().map(|c| c.component).collect();
    assert_eq!(codes, VoiceComponent::ALL[..5]);
    // Weights among the five: 0.25 / 0.85 and 0.15 / 0.85.
    assert!(close(calm.components[0].weight, 0.25 / 0.85));
    assert!(close(calm.components[1].weight, 0.15 / 0.85));
    assert!(close(calm.components.iter().map(|c| c.weight).sum(), 1.0));

    // The same with "!" and an emoji: emoji 0 (the brand uses none); punctuation: one
    // sentence exclaims, pooled with one of the brand's (none) → distance (1 − 0) / 2 = 0.5,
    // two tolerances of 0.25 → e^−2; questions still 1; the component is (e^−2 + 1) / 2.
    let excited = voice_consistency(&profile, "Dogs like long naps! 🐶");
    let punctuation = (at_tolerances(2.0) + 1.0) / 2.0;
    assert_eq!(component(&excited, VoiceComponent::Emoji), 0.0);
    assert!(close(
        component(&excited, VoiceComponent::Punctuation),
        punctuation
    ));
    let expected = (0.25 + 0.15 + 0.15 * 0.0 + 0.15 * punctuation + 0.15) / 0.85;
    assert!(close(excited.score, expected), "{excited:#?}");
}

#[test]
fn sentence_length_scores_each_sentence_against_the_brands_range() {
    // Range 8–12 around a mean of 10: the tolerance is max(¼ × 10, 2) = 2.5 words.
    let profile = VoiceProfile {
        sentence_length: SentenceLength {
            mean: 10.0,
            low: 8.0,
            high: 12.0,
        },
        ..plain_profile()
    };
    let ten = "Come and paint the river with us on a Saturday.";
    let fifteen = "Come and paint the river with us on a Saturday morning by the old bridge.";
    let score = voice_consistency(&profile, ten);
    assert_eq!(score.words, 10);
    assert_eq!(component(&score, VoiceComponent::SentenceLength), 1.0);
    // 15 words is 3 past the range: 1.2 tolerances.
    let both = voice_consistency(&profile, &format!("{ten} {fifteen}"));
    assert_eq!(both.words, 25);
    assert!(close(
        component(&both, VoiceComponent::SentenceLength),
        (1.0 + at_tolerances(1.2)) / 2.0
    ));
    let note = &both.component(VoiceComponent::SentenceLength).unwrap().note;
    assert!(note.contains("1 of 2 sentences run 8–12 words"), "{note}");
}

#[test]
fn readability_compares_word_length_and_in_english_reading_ease() {
    // Dutch has no reading ease, so word length alone: the brand's 5 characters, a
    // tolerance of max(0.1 × 5, 0.4) = 0.5.
    let profile = VoiceProfile {
        language: Language::Nl,
        mean_word_length: 5.0,
        ..plain_profile()
    };
    let five = voice_consistency(&profile, "Brood heeft zeven kaart.");
    assert_eq!(component(&five, VoiceComponent::Readability), 1.0);
    // Six characters a word: 2 tolerances away.
    let six = voice_consistency(&profile, "Broden hebben zeilen.");
    assert!(close(
        component(&six, VoiceComponent::Readability),
        at_tolerances(2.0)
    ));
    // In English a reading ease joins in: "Dogs like long naps." is 4 one-syllable words in
    // one sentence, 206.835 − 1.015 × 4 − 84.6 = 118.175. Against a brand at 103.175 (one
    // tolerance of 15 below) with the same word length: (1 + e^−½) / 2.
    let english = VoiceProfile {
        reading_ease: Some(103.175),
        ..plain_profile()
    };
    let score = voice_consistency(&english, "Dogs like long naps.");
    assert!(close(
        component(&score, VoiceComponent::Readability),
        (1.0 + at_tolerances(1.0)) / 2.0
    ));
}

#[test]
fn the_emoji_component_follows_how_often_and_how_many() {
    // Ten words, one emoji: 10 per 100 words.
    let with_emoji = "🎨 Paint the river at dusk with soft blue and grey.";
    let without = "Paint the river at dusk with soft blue and grey.";
    let profile = |share: f64, per_100_words: f64| VoiceProfile {
        emoji_text_share: share,
        emoji_per_100_words: per_100_words,
        ..plain_profile()
    };
    let emoji = |profile: &VoiceProfile, text: &str| {
        component(&voice_consistency(profile, text), VoiceComponent::Emoji)
    };
    // Half the texts, 5 per 100 overall: 10 per 100 in the texts that have any. Both
    // habits are equally likely, so both score 1, and 10 per 100 is exactly the habit.
    let half = profile(0.5, 5.0);
    assert_eq!(emoji(&half, with_emoji), 1.0);
    assert_eq!(emoji(&half, without), 1.0);
    // Emoji in 80% of texts: going without scores 0.2 / 0.8.
    let mostly = profile(0.8, 8.0);
    assert!(close(emoji(&mostly, without), 0.25));
    assert_eq!(emoji(&mostly, with_emoji), 1.0);
    // Emoji in 20%: using one scores 0.2 / 0.8 (at exactly the usual 10 per 100).
    let rarely = profile(0.2, 2.0);
    assert!(close(emoji(&rarely, with_emoji), 0.25));
    assert_eq!(emoji(&rarely, without), 1.0);
    // Far more than usual: 3 emoji in 10 words is 30 per 100, 20 past the usual 10 with a
    // tolerance of max(½ × 10, 2) = 5: four tolerances.
    let crowded = "🎨🎉✨ Paint the river at dusk with soft blue and grey.";
    assert!(close(emoji(&half, crowded), at_tolerances(4.0)));
    // A brand that never uses emoji.
    assert_eq!(emoji(&plain_profile(), with_emoji), 0.0);
    assert_eq!(emoji(&plain_profile(), without), 1.0);
}

#[test]
fn the_address_component_counts_you_and_we_per_100_words() {
    // 10 words, one "You". Against a brand at 0: pooled with 10 words of the brand's kind,
    // (100 × 1 − 10 × 0) / (10 + 10) = 5 per 100 away, with a tolerance of 1.5: 10/3
    // tolerances. "We" matches (0 and 0): the component is (e^−50/9 + 1) / 2.
    let text = "You can paint the river at dusk with soft blue.";
    let score = voice_consistency(&plain_profile(), text);
    assert_eq!(score.words, 10);
    assert!(close(
        component(&score, VoiceComponent::Address),
        ((-50.0f64 / 9.0).exp() + 1.0) / 2.0
    ));
    // A brand saying "you" 10 times in 100 words matches exactly.
    let chatty = VoiceProfile {
        second_person_per_100_words: 10.0,
        ..plain_profile()
    };
    let score = voice_consistency(&chatty, text);
    assert_eq!(component(&score, VoiceComponent::Address), 1.0);
}

#[test]
fn the_vocabulary_component_rewards_signature_words_up_to_a_point() {
    // "paint" weighs 1, "brush" half as much. The brand's texts use 60 per 100 words, so
    // full marks come at 30.
    let profile = VoiceProfile {
        vocabulary: vec![
            VocabularyEntry {
                word: "paint".into(),
                weight: 0.8,
            },
            VocabularyEntry {
                word: "brush".into(),
                weight: 0.4,
            },
        ],
        vocabulary_per_100_words: 60.0,
        ..plain_profile()
    };
    let vocabulary = |text: &str| {
        let score = voice_consistency(&profile, text);
        assert_eq!(score.words, 10, "{text}");
        component(&score, VoiceComponent::Vocabulary)
    };
    // Ten words each. One "paint": 10 per 100 → ⅓. One "brush" (or "Brushes"): 5 → ⅙.
    assert!(close(
        vocabulary("Paint the river at dusk with soft blue and grey."),
        1.0 / 3.0
    ));
    assert!(close(
        vocabulary("Brush the river at dusk with soft blue and grey."),
        1.0 / 6.0
    ));
    assert!(close(
        vocabulary("Brushes on the river at dusk with soft blue grey."),
        1.0 / 6.0
    ));
    // "paint" three times counts twice: 20 per 100 → ⅔, not 1.
    assert!(close(
        vocabulary("Paint, paint, paint the river at dusk with soft blue."),
        2.0 / 3.0
    ));
    // Both, twice each: (2 + 1) × 10 = 30 per 100 → full marks.
    assert_eq!(
        vocabulary("Paint and brush, paint and brush the soft blue river."),
        1.0
    );
    assert_eq!(
        vocabulary("Walk the river at dusk with soft blue and grey."),
        0.0
    );
    // Without a vocabulary the component does not apply.
    let score = voice_consistency(&plain_profile(), "Paint the river.");
    assert!(score.component(VoiceComponent::Vocabulary).is_none());
}

#[test]
fn a_word_a_person_adds_to_the_vocabulary_counts_at_once() {
    let mut profile = punchy_profile();
    let text = "Join our spring workshops. Bring a friend! 🌷";
    let before = component(
        &voice_consistency(&profile, text),
        VoiceComponent::Vocabulary,
    );
    profile.vocabulary.push(VocabularyEntry {
        word: "Workshop".into(),
        weight: 1.0,
    });
    assert!(profile.check().is_ok());
    let after = component(
        &voice_consistency(&profile, text),
        VoiceComponent::Vocabulary,
    );
    assert!(after > before, "{before} → {after}");
}

#[test]
fn heavier_examples_decide_which_draft_ranks_first() {
    let formal_second = "Our programme is delivered by accredited instructors with \
        considerable professional experience, and each cohort is limited to twelve \
        participants in order to guarantee individual attention throughout the course.";
    let learn = |punchy: f64, formal: f64| {
        let mut set: Vec<VoiceExample> = PUNCHY
            .iter()
            .map(|text| VoiceExample::weighted(text, punchy))
            .collect();
        set.push(VoiceExample::weighted(FORMAL, formal));
        set.push(VoiceExample::weighted(formal_second, formal));
        learn_voice(&set, Language::En).unwrap()
    };
    let prefers_punchy = learn(5.0, 1.0);
    let prefers_formal = learn(1.0, 10.0);
    let draft = "Enrolment requires the approval of the academic committee, which evaluates \
        each application according to established professional criteria.";
    let punchy = |profile: &VoiceProfile| voice_consistency(profile, ON_BRAND).score;
    let formal = |profile: &VoiceProfile| voice_consistency(profile, draft).score;
    assert!(punchy(&prefers_punchy) > formal(&prefers_punchy));
    assert!(formal(&prefers_formal) > punchy(&prefers_formal));
    assert!(punchy(&prefers_punchy) > punchy(&prefers_formal));
    assert!(formal(&prefers_formal) > formal(&prefers_punchy));
}

#[test]
fn notes_say_what_the_text_does_against_what_the_brand_does() {
    let profile = punchy_profile();
    let formal = voice_consistency(&profile, FORMAL);
    let note = |c| formal.component(c).unwrap().note.clone();
    assert!(note(VoiceComponent::SentenceLength).starts_with("0 of 2 sentences run 3–7 words"));
    assert!(note(VoiceComponent::SentenceLength).ends_with("these average 27"));
    assert!(note(VoiceComponent::Emoji).starts_with("no emoji; the brand uses emoji in 100%"));
    assert!(note(VoiceComponent::Punctuation).starts_with("0 of 2 sentences exclaim and 0 ask"));
    assert!(note(VoiceComponent::Vocabulary).starts_with("none of the brand's signature words"));
    let on_brand = voice_consistency(&profile, ON_BRAND);
    let vocabulary = &on_brand.component(VoiceComponent::Vocabulary).unwrap().note;
    // Listed in the vocabulary's order: paint and saturday (3 posts each), then brush.
    assert!(
        vocabulary.starts_with("3 signature words (paint, saturday, brush)"),
        "{vocabulary}"
    );
}

#[test]
fn scores_are_deterministic_and_compiling_changes_nothing() {
    let profile = punchy_profile();
    let compiled = CompiledVoice::new(&profile);
    assert_eq!(compiled.profile(), &profile);
    for text in [ON_BRAND, FORMAL, PUNCHY[3]] {
        let once = compiled.score(text);
        assert_eq!(compiled.score(text), once);
        assert_eq!(voice_consistency(&profile, text), once);
    }
}

#[test]
fn scores_stay_within_zero_and_one_whatever_the_text_or_profile() {
    let long = ON_BRAND.repeat(200);
    let texts = [
        ON_BRAND,
        FORMAL,
        long.as_str(),
        "!!!???",
        "a",
        "A. B. C. D. E. F. G. H. I. J.",
        "YOU YOU YOU YOU we we we us us",
        "🎉🎉🎉🎉🎉🎉🎉🎉🎉 ok",
        "今日は絵を描きましょう！🎨 一緒に。",
        "Привет! Рисуем вместе в субботу?",
        "مرحبا بكم في الاستوديو",
        "e\u{301}\u{301}\u{301} \u{200D}\u{FE0F} ‼️ 1️⃣",
        "word\n\n\n\nword\t\tword",
        "Réservez votre cours ! Nous vous attendons, pinceau à la main.",
        "¿Pintamos juntos? ¡Te esperamos el sábado!",
    ];
    let mut broken = plain_profile();
    broken.mean_word_length = f64::NAN;
    broken.sentence_length.mean = f64::INFINITY;
    broken.emoji_text_share = f64::NAN;
    broken.question_rate = -3.0;
    broken.vocabulary = vec![VocabularyEntry {
        word: "ok".into(),
        weight: f64::NAN,
    }];
    broken.vocabulary_per_100_words = f64::NAN;
    let profiles = [
        punchy_profile(),
        learn_voice(&examples(&[FORMAL]), Language::En).unwrap(),
        plain_profile(),
        learn_voice(
            &examples(&["Réservez votre cours ! Nous vous attendons."]),
            Language::Fr,
        )
        .unwrap(),
        broken,
    ];
    for profile in &profiles {
        let compiled = CompiledVoice::new(profile);
        for text in texts {
            let score = compiled.score(text);
            assert!((0.0..=1.0).contains(&score.score), "{text:?}: {score:#?}");
            for part in &score.components {
                assert!((0.0..=1.0).contains(&part.score), "{text:?}: {part:?}");
            }
            if !score.components.is_empty() {
                let weights: f64 = score.components.iter().map(|c| c.weight).sum();
                assert!((weights - 1.0).abs() < 1e-9);
            }
        }
    }
}
