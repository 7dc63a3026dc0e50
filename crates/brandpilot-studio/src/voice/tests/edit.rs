//! A person's edits: what `check` refuses and what it lets through, and the profile as JSON.

use super::*;

fn entry(word: &str, weight: f64) -> VocabularyEntry {
    VocabularyEntry {
        word: word.into(),
        weight,
    }
}

#[test]
fn check_refuses_edits_that_cannot_be_scored_naming_the_field() {
    type Edit = fn(&mut VoiceProfile);
    let edits: &[(&str, Edit)] = &[
        ("sentence_length", |p| p.sentence_length.mean = 0.0),
        ("sentence_length", |p| p.sentence_length.low = f64::NAN),
        ("sentence_length", |p| p.sentence_length.high = 500.0),
        ("sentence_length", |p| {
            p.sentence_length.low = 9.0;
            p.sentence_length.high = 4.0;
        }),
        ("mean_word_length", |p| p.mean_word_length = f64::NAN),
        ("mean_word_length", |p| p.mean_word_length = 0.0),
        ("reading_ease", |p| p.reading_ease = Some(f64::INFINITY)),
        ("reading_ease", |p| p.reading_ease = Some(400.0)),
        ("emoji_text_share", |p| p.emoji_text_share = 1.5),
        ("exclamation_rate", |p| p.exclamation_rate = -0.1),
        ("question_rate", |p| p.question_rate = f64::NAN),
        ("emoji_per_100_words", |p| p.emoji_per_100_words = -3.0),
        ("second_person_per_100_words", |p| {
            p.second_person_per_100_words = -1.0
        }),
        ("first_person_plural_per_100_words", |p| {
            p.first_person_plural_per_100_words = 101.0
        }),
        ("vocabulary_per_100_words", |p| {
            p.vocabulary_per_100_words = f64::NEG_INFINITY
        }),
        // "Never" and "3 per 100 words" cannot both be true.
        ("emoji_per_100_words", |p| {
            p.emoji_text_share = 0.0;
            p.emoji_per_100_words = 3.0;
        }),
        ("vocabulary", |p| p.vocabulary.push(entry("", 0.5))),
        ("vocabulary", |p| p.vocabulary.push(entry("  ", 0.5))),
        ("vocabulary", |p| p.vocabulary.push(entry("cure-all", 0.5))),
        ("vocabulary", |p| {
            p.vocabulary.push(entry("free trial", 0.5))
        }),
        ("vocabulary", |p| p.vocabulary.push(entry("🎨", 0.5))),
        ("vocabulary", |p| p.vocabulary.push(entry("workshop", 0.0))),
        ("vocabulary", |p| p.vocabulary.push(entry("workshop", -1.0))),
        ("vocabulary", |p| p.vocabulary.push(entry("workshop", 2.0))),
        ("vocabulary", |p| {
            p.vocabulary.push(entry("workshop", f64::NAN))
        }),
        // "Classes" is "class" again (the profile already has "class").
        ("vocabulary", |p| p.vocabulary.push(entry("Classes", 0.5))),
        ("vocabulary", |p| {
            p.vocabulary = (0..=MAX_VOCABULARY)
                .map(|i| entry(&format!("word{i}"), 0.5))
                .collect()
        }),
        // A vocabulary needs a rate to be judged against.
        ("vocabulary", |p| p.vocabulary_per_100_words = 0.0),
        ("tone", |p| p.tone.push(" ".into())),
        ("tone", |p| {
            p.tone.push("x".repeat(MAX_TONE_LABEL_CHARS + 1))
        }),
        ("tone", |p| {
            p.tone = (0..=MAX_TONE_LABELS)
                .map(|i| format!("label {i}"))
                .collect()
        }),
    ];
    let learned = punchy_profile();
    assert!(learned.vocabulary.iter().any(|e| e.word == "class"));
    for (field, edit) in edits {
        let mut profile = learned.clone();
        edit(&mut profile);
        let error = profile.check().expect_err(field);
        assert_eq!(error.code(), "invalid_voice_profile");
        match &error {
            StudioError::InvalidVoice { field: named, .. } => {
                assert_eq!(named, field, "{error}")
            }
            other => panic!("{field}: {other:?}"),
        }
    }
}

#[test]
fn check_lets_a_person_reword_and_reweigh_the_voice() {
    let mut profile = punchy_profile();
    profile.vocabulary.push(entry("Workshop", 0.4));
    profile.vocabulary.retain(|entry| entry.word != "bring");
    profile.tone.push("warm".into());
    profile.exclamation_rate = 0.0;
    profile.sentence_length.high = 12.0;
    profile.reading_ease = None;
    assert!(profile.check().is_ok(), "{:?}", profile.check());
    // A hand-written profile with no examples, no vocabulary and no tone is fine too.
    let bare = VoiceProfile {
        tone: Vec::new(),
        ..plain_profile()
    };
    assert!(bare.check().is_ok());
}

#[test]
fn tone_labels_follow_the_numbers() {
    // Sentences of 5 words are concise; nothing else stands out.
    assert_eq!(plain_profile().derived_tone(), ["concise"]);
    let middling = VoiceProfile {
        sentence_length: SentenceLength {
            mean: 15.0,
            low: 8.0,
            high: 22.0,
        },
        mean_word_length: 4.5,
        reading_ease: Some(60.0),
        ..plain_profile()
    };
    assert_eq!(middling.derived_tone(), ["neutral"]);
    let formal = VoiceProfile {
        sentence_length: SentenceLength {
            mean: 25.0,
            low: 18.0,
            high: 32.0,
        },
        mean_word_length: 5.5,
        reading_ease: Some(30.0),
        ..plain_profile()
    };
    assert_eq!(formal.derived_tone(), ["elaborate", "formal", "technical"]);
    let chatty = VoiceProfile {
        question_rate: 0.3,
        first_person_plural_per_100_words: 3.0,
        reading_ease: Some(80.0),
        ..plain_profile()
    };
    assert_eq!(
        chatty.derived_tone(),
        ["concise", "conversational", "personal", "plain"]
    );
}

#[test]
fn a_profile_travels_as_json_with_its_language_code() {
    let profile = punchy_profile();
    let json = serde_json::to_value(&profile).unwrap();
    assert_eq!(json["language"], "en");
    assert_eq!(json["sentence_length"]["low"], 3.0);
    let back: VoiceProfile = serde_json::from_value(json).unwrap();
    assert_eq!(back, profile);

    // A person's hand-written profile may leave out the vocabulary, the tone and the
    // reading ease, and name the language with a region.
    let written: VoiceProfile = serde_json::from_str(
        r#"{"language": "pt-BR", "example_count": 0,
            "sentence_length": {"mean": 9, "low": 4, "high": 15},
            "mean_word_length": 4.8, "emoji_per_100_words": 0, "emoji_text_share": 0,
            "exclamation_rate": 0.1, "question_rate": 0.1,
            "second_person_per_100_words": 3, "first_person_plural_per_100_words": 1}"#,
    )
    .unwrap();
    assert_eq!(written.language, Language::Pt);
    assert!(written.vocabulary.is_empty() && written.tone.is_empty());
    assert_eq!(written.reading_ease, None);
    assert!(written.check().is_ok());
    assert!(
        serde_json::from_str::<VoiceProfile>(r#"{"language": "klingon"}"#).is_err(),
        "an unsupported language is refused"
    );
}
