//! Learning: what a profile says about the examples it was learned from.

use super::*;

#[test]
fn every_number_of_a_small_profile_matches_a_hand_count() {
    // A: "We paint." (2 words) "You smile!" (2); the 🎨 after the "!" is a sentence of no
    //    words and is dropped. 4 words of 2+5+3+5 = 15 characters, 1 emoji, 1 of 2
    //    sentences exclaims, "You" addresses the reader, "We" speaks as the brand.
    //    Syllables we, paint, you, smile: 1 each.
    // B: "Our studio opens at nine." (5) "Come early for coffee and a chat about colour." (9).
    //    14 words of 3+6+5+2+4+4+5+3+6+3+1+4+5+6 = 57 characters, "Our" speaks as the brand.
    //    Syllables (dictionary): our 1, stu-di-o 3, o-pens 2, at 1, nine 1, come 1, ear-ly 2,
    //    for 1, cof-fee 2, and 1, a 1, chat 1, a-bout 2, col-our 2 = 21.
    let profile = learn_voice(
        &examples(&[
            "We paint. You smile! 🎨",
            "Our studio opens at nine. Come early for coffee and a chat about colour.",
        ]),
        Language::En,
    )
    .unwrap();
    assert_eq!(profile.language, Language::En);
    assert_eq!(profile.example_count, 2);
    // Mean of the examples' means, 2 and 7. Each example spreads its weight of 1 over its
    // sentences: 2 (½), 2 (½), 5 (½), 9 (½). The 10th percentile (0.2 of 2) is reached at the
    // first 2, the 90th (1.8) only at 9.
    assert_eq!(
        profile.sentence_length,
        SentenceLength {
            mean: 4.5,
            low: 2.0,
            high: 9.0
        }
    );
    // (15/4 + 57/14) / 2 = (3.75 + 4.0714…) / 2 = 3.9107… → 3.91
    assert_eq!(profile.mean_word_length, 3.91);
    // A: 206.835 − 1.015 × 2 − 84.6 × 1 = 120.205
    // B: 206.835 − 1.015 × 7 − 84.6 × 21/14 = 206.835 − 7.105 − 126.9 = 72.83
    // (120.205 + 72.83) / 2 = 96.5175 → 96.52
    assert_eq!(profile.reading_ease, Some(96.52));
    // A has 1 emoji in 4 words (25 per 100), B none.
    assert_eq!(profile.emoji_text_share, 0.5);
    assert_eq!(profile.emoji_per_100_words, 12.5);
    // A: 1 of 2 sentences exclaims, B: 0 of 2.
    assert_eq!(profile.exclamation_rate, 0.25);
    assert_eq!(profile.question_rate, 0.0);
    // "You": 25 per 100 in A, 0 in B. "We"/"Our": 25 in A, 100/14 = 7.142… in B.
    assert_eq!(profile.second_person_per_100_words, 12.5);
    assert_eq!(profile.first_person_plural_per_100_words, 16.07);
    // No content word appears in both examples.
    assert!(profile.vocabulary.is_empty(), "{:?}", profile.vocabulary);
    assert_eq!(profile.vocabulary_per_100_words, 0.0);
    // Concise (4.5 ≤ 12), enthusiastic (0.25 ≥ 0.2), playful (half the texts have emoji),
    // conversational (12.5 "you" per 100), personal (16.07 "we"), plain (ease ≥ 70).
    assert_eq!(
        profile.tone,
        [
            "concise",
            "enthusiastic",
            "playful",
            "conversational",
            "personal",
            "plain"
        ]
    );
    assert!(profile.check().is_ok());
}

#[test]
fn short_punchy_emoji_posts_learn_a_short_emoji_rich_voice() {
    // Sentence lengths, three per post:
    //   4 6 3 | 7 3 4 | 2 3 8 | 4 4 6   (emoji alone after a "!" are not sentences)
    // Means 13/3, 14/3, 13/3, 14/3 → 54/12 = 4.5. Twelve sentences of weight ⅓ (total 4):
    // sorted 2 3 3 3 4 4 4 4 6 6 7 8; the 10th percentile (0.4) is reached at the first 3,
    // the 90th (3.6) at the 7 (cumulative 11/3).
    let profile = punchy_profile();
    assert_eq!(
        profile.sentence_length,
        SentenceLength {
            mean: 4.5,
            low: 3.0,
            high: 7.0
        }
    );
    assert_eq!(profile.emoji_text_share, 1.0, "every post has an emoji");
    assert!(profile.emoji_per_100_words > 0.0);
    // Exclaiming sentences: 2 of 3, 1 of 3, 1 of 3, 1 of 3 → (5/3) / 4 = 0.4166… → 0.42.
    assert_eq!(profile.exclamation_rate, 0.42);
    // "Rainy day?" is the only question: (1/3) / 4 = 0.0833… → 0.08.
    assert_eq!(profile.question_rate, 0.08);
    assert!(profile.second_person_per_100_words > 2.0);
    assert!(profile.first_person_plural_per_100_words > 2.0);
    for label in ["concise", "enthusiastic", "playful", "conversational"] {
        assert!(
            profile.tone.iter().any(|t| t == label),
            "{:?}",
            profile.tone
        );
    }
    assert!(!profile.tone.iter().any(|t| t == "formal"));
    // Words in at least two posts: paint (3 posts), saturday (3), watercolour (2), class (2),
    // brush (2), bring (2). Pronouns and stop words ("you", "our", "the") never are.
    let words: Vec<&str> = profile.vocabulary.iter().map(|e| e.word.as_str()).collect();
    for expected in [
        "paint",
        "saturday",
        "watercolour",
        "class",
        "brush",
        "bring",
    ] {
        assert!(words.contains(&expected), "{words:?}");
    }
    for never in ["you", "your", "our", "us", "the", "need"] {
        assert!(!words.contains(&never), "{words:?}");
    }
}

#[test]
fn a_formal_paragraph_learns_a_long_formal_voice() {
    let profile = learn_voice(&examples(&[FORMAL]), Language::En).unwrap();
    // 29 and 25 words: mean 27; two sentences of weight ½ put both percentiles at the ends.
    assert_eq!(
        profile.sentence_length,
        SentenceLength {
            mean: 27.0,
            low: 25.0,
            high: 29.0
        }
    );
    assert_eq!(profile.emoji_text_share, 0.0);
    assert_eq!(profile.emoji_per_100_words, 0.0);
    assert_eq!(profile.exclamation_rate, 0.0);
    assert_eq!(profile.second_person_per_100_words, 0.0);
    assert!(profile.mean_word_length > 6.0);
    assert!(profile.reading_ease.unwrap() < 30.0);
    assert!(
        profile.tone.contains(&"formal".to_owned()),
        "{:?}",
        profile.tone
    );
    assert!(profile.tone.contains(&"elaborate".to_owned()));
    assert!(!profile.tone.contains(&"enthusiastic".to_owned()));
    // One example: every content word of it qualifies, but only 25 are kept.
    assert_eq!(profile.vocabulary.len(), SIGNATURE_WORDS);
}

#[test]
fn weights_shift_the_profile_toward_the_heavier_examples() {
    // SHORT: two sentences of 2 words, one emoji. LONG: one sentence of 18 words, no emoji.
    const SHORT: &str = "Paint today! Join us! 🎨";
    const LONG: &str = "The studio provides materials for every participant in the evening \
        course for adult beginners who want to learn.";
    let learn = |short: f64, long: f64| {
        learn_voice(
            &[
                VoiceExample::weighted(SHORT, short),
                VoiceExample::weighted(LONG, long),
            ],
            Language::En,
        )
        .unwrap()
    };
    let even = learn(1.0, 1.0);
    let short_heavy = learn(3.0, 1.0);
    let long_heavy = learn(1.0, 3.0);
    // (2 + 18) / 2 = 10; (3 × 2 + 18) / 4 = 6; (2 + 3 × 18) / 4 = 14.
    assert_eq!(even.sentence_length.mean, 10.0);
    assert_eq!(short_heavy.sentence_length.mean, 6.0);
    assert_eq!(long_heavy.sentence_length.mean, 14.0);
    // The share of texts with emoji is the share of the weight SHORT holds.
    assert_eq!(even.emoji_text_share, 0.5);
    assert_eq!(short_heavy.emoji_text_share, 0.75);
    assert_eq!(long_heavy.emoji_text_share, 0.25);
    // Both exclamations are SHORT's (2 of 2 sentences): 1 × ½, ¾, ¼.
    assert_eq!(even.exclamation_rate, 0.5);
    assert_eq!(short_heavy.exclamation_rate, 0.75);
    assert_eq!(long_heavy.exclamation_rate, 0.25);
    // LONG's 18-word sentence is the top 10% of the weight only while it holds at least a
    // tenth of it: at 19 to 1 it holds a twentieth, and the 90th percentile is 2 words.
    assert_eq!(even.sentence_length.high, 18.0);
    assert_eq!(learn(19.0, 1.0).sentence_length.high, 2.0);
}

#[test]
fn only_the_proportions_of_the_weights_matter() {
    let learn = |weight: f64| {
        learn_voice(
            &[
                VoiceExample::weighted(PUNCHY[0], weight),
                VoiceExample::weighted(FORMAL, weight),
                VoiceExample::weighted(PUNCHY[1], weight * 2.0),
            ],
            Language::En,
        )
        .unwrap()
    };
    let ordinary = learn(1.0);
    assert_eq!(learn(0.001), ordinary);
    // Weights this large would overflow a plain weighted sum.
    assert_eq!(learn(1e300), ordinary);
}

#[test]
fn examples_weighing_zero_and_examples_without_words_are_left_out() {
    let alone = learn_voice(&examples(&[PUNCHY[0], PUNCHY[1]]), Language::En).unwrap();
    let with_ignored = learn_voice(
        &[
            VoiceExample::new(PUNCHY[0]),
            VoiceExample::weighted(FORMAL, 0.0),
            VoiceExample::new("🎉🎉 #sale @studio https://example.com"),
            VoiceExample::new(PUNCHY[1]),
        ],
        Language::En,
    )
    .unwrap();
    assert_eq!(with_ignored, alone);
    assert_eq!(with_ignored.example_count, 2);
}

#[test]
fn a_set_with_nothing_to_learn_from_is_refused() {
    for set in [
        vec![],
        vec![VoiceExample::weighted(PUNCHY[0], 0.0)],
        vec![VoiceExample::new(""), VoiceExample::new("🎨✨ #art")],
    ] {
        let error = learn_voice(&set, Language::En).unwrap_err();
        assert_eq!(error.code(), "insufficient_data", "{set:?}");
        assert!(
            error
                .to_string()
                .contains("at least one example with words"),
            "{error}"
        );
    }
    let error = learn_voice(
        &[
            VoiceExample::weighted(PUNCHY[0], 0.0),
            VoiceExample::weighted(PUNCHY[1], 0.0),
            VoiceExample::new("🎉"),
        ],
        Language::En,
    )
    .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("of 3 examples, 2 weigh 0 and 1 have no words"),
        "{error}"
    );
}

#[test]
fn negative_and_non_finite_weights_are_refused_naming_the_example() {
    for weight in [-1.0, f64::NAN, f64::INFINITY] {
        let error = learn_voice(
            &[
                VoiceExample::new(PUNCHY[0]),
                VoiceExample::weighted(PUNCHY[1], weight),
            ],
            Language::En,
        )
        .unwrap_err();
        assert_eq!(error.code(), "invalid_input");
        assert!(
            error.to_string().contains("example 2 has weight"),
            "{error}"
        );
    }
}

#[test]
fn signature_words_are_those_the_examples_share_with_plurals_grouped() {
    // watercolour: all three posts; class: the first ("class") and the second ("classes");
    // brush, spring and the rest: one post each, so not a habit. Stop words never count.
    let profile = learn_voice(
        &examples(&[
            "Our watercolour class starts Monday. Bring a brush.",
            "Two watercolour classes left this spring.",
            "Watercolour is patience. Come and see.",
        ]),
        Language::En,
    )
    .unwrap();
    assert_eq!(
        profile.vocabulary,
        [
            VocabularyEntry {
                word: "watercolour".into(),
                weight: 1.0
            },
            // 2 of 3 examples: 0.666… → 0.67.
            VocabularyEntry {
                word: "class".into(),
                weight: 0.67
            },
        ]
    );
    // Each text's signature words per 100 words, "class" counting 0.67 against
    // "watercolour"'s 1:
    //   8 words, 1 + 0.67 → 20.875;  6 words, 1 + 0.67 → 27.833…;  6 words, 1 → 16.666…
    // (20.875 + 27.8333 + 16.6667) / 3 = 21.7917 → 21.79
    assert_eq!(profile.vocabulary_per_100_words, 21.79);
}

#[test]
fn signature_word_weights_follow_the_example_weights() {
    // lemon: examples 1 and 2 (2 + 1 of 4); mango: 1 and 3 (3 of 4); peach: 2 and 3 (2 of 4).
    let profile = learn_voice(
        &[
            VoiceExample::weighted("Lemon and mango.", 2.0),
            VoiceExample::weighted("Lemon and peach.", 1.0),
            VoiceExample::weighted("Mango and peach.", 1.0),
        ],
        Language::En,
    )
    .unwrap();
    let entries: Vec<(&str, f64)> = profile
        .vocabulary
        .iter()
        .map(|entry| (entry.word.as_str(), entry.weight))
        .collect();
    // lemon and mango tie at 0.75 and on count (3 weighted uses each): alphabetical order.
    assert_eq!(entries, [("lemon", 0.75), ("mango", 0.75), ("peach", 0.5)]);
}

#[test]
fn the_signature_vocabulary_is_capped() {
    // Forty distinct content words, each in both examples.
    let words: Vec<String> = (0..40)
        .map(|i| format!("word{}", char::from(b'a' + (i % 26) as u8)).repeat(1 + i / 26))
        .collect();
    let text = words.join(" ");
    assert_eq!(text.split(' ').count(), 40);
    let profile = learn_voice(&examples(&[&text, &text]), Language::En).unwrap();
    assert_eq!(profile.vocabulary.len(), SIGNATURE_WORDS);
    assert!(profile.check().is_ok());
}

#[test]
fn pronouns_count_in_contractions_and_elisions_but_not_the_country() {
    // You're, in, We'll, paint, Let's, go: 6 words, one "you", two "we" → 16.67 and 33.33.
    let profile = learn_voice(
        &examples(&["You're in. We'll paint. Let's go."]),
        Language::En,
    )
    .unwrap();
    assert_eq!(profile.second_person_per_100_words, 16.67);
    assert_eq!(profile.first_person_plural_per_100_words, 33.33);
    // The same with curly apostrophes.
    let curly = learn_voice(
        &examples(&["You’re in. We’ll paint. Let’s go."]),
        Language::En,
    )
    .unwrap();
    assert_eq!(curly.second_person_per_100_words, 16.67);
    assert_eq!(curly.first_person_plural_per_100_words, 33.33);
    // "US" in capitals is the country.
    let country = learn_voice(&examples(&["Paints made in the US."]), Language::En).unwrap();
    assert_eq!(country.first_person_plural_per_100_words, 0.0);
}

#[test]
fn other_languages_learn_their_own_pronouns_and_no_reading_ease() {
    // Nous, vous, attendons, samedi | Votre, pinceau, est, prêt: 8 words in two sentences
    // (French spaces its "!"). "vous", "Votre" address the reader (2 → 25 per 100), "Nous"
    // speaks as the brand (1 → 12.5); one sentence of two exclaims.
    let french = learn_voice(
        &examples(&["Nous vous attendons samedi ! Votre pinceau est prêt."]),
        Language::Fr,
    )
    .unwrap();
    assert_eq!(
        french.reading_ease, None,
        "Flesch is calibrated for English"
    );
    assert_eq!(french.sentence_length.mean, 4.0);
    assert_eq!(french.second_person_per_100_words, 25.0);
    assert_eq!(french.first_person_plural_per_100_words, 12.5);
    assert_eq!(french.exclamation_rate, 0.5);
    // French elision: "t'attend" addresses the reader, and "l'atelier" is the word "atelier".
    let elided = learn_voice(
        &examples(&["L'atelier t'attend.", "L'atelier ouvre."]),
        Language::Fr,
    )
    .unwrap();
    // "L'atelier t'attend.": 2 words, "t'" addresses the reader → 50 per 100; the second
    // text none → 25. Both say "atelier", written without its article.
    assert_eq!(elided.second_person_per_100_words, 25.0);
    assert_eq!(elided.vocabulary.len(), 1);
    assert_eq!(elided.vocabulary[0].word, "atelier");

    // German: "Sie" in capitals is the polite "you"; "wir" is "we". 7 words: 1 each → 14.29.
    let german = learn_voice(
        &examples(&["Wir malen jeden Samstag. Kommen Sie vorbei!"]),
        Language::De,
    )
    .unwrap();
    assert_eq!(german.second_person_per_100_words, 14.29);
    assert_eq!(german.first_person_plural_per_100_words, 14.29);
    assert_eq!(german.language.code(), "de");
}

#[test]
fn a_learned_profile_always_passes_its_own_check() {
    let run_on = "word ".repeat(300);
    let sets: Vec<(Vec<VoiceExample>, Language)> = vec![
        (examples(PUNCHY), Language::En),
        (examples(&[FORMAL]), Language::En),
        (examples(&[FORMAL, PUNCHY[2]]), Language::En),
        // 300 words and no full stop: one sentence longer than a profile may describe.
        (examples(&[&run_on]), Language::En),
        // Six emoji to one word: 600 per 100 words.
        (examples(&["🎉🎉🎉🎉🎉🎉 yes"]), Language::En),
        // Tiny weights round to nothing; the profile must not say "never" and "sometimes".
        (
            vec![
                VoiceExample::new(FORMAL),
                VoiceExample::weighted("Yay 🎉", 0.000_1),
            ],
            Language::En,
        ),
        (
            examples(&["今日は絵を描きましょう！🎨 一緒に。"]),
            Language::En,
        ),
        (
            examples(&["¿Pintamos juntos? ¡Te esperamos el sábado con nuestro café!"]),
            Language::Es,
        ),
        (
            examples(&["Wij schilderen elke zaterdag. Kom jij ook?"]),
            Language::Nl,
        ),
    ];
    for (set, language) in sets {
        let profile = learn_voice(&set, language).unwrap();
        assert!(
            profile.check().is_ok(),
            "{:?}: {profile:?}",
            profile.check()
        );
        assert!(!profile.tone.is_empty());
    }
}
