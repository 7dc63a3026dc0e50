//! Tests of [`super::to_gbnf`] through the test-only recogniser: documents valid for a
//! schema are sentences of its grammar, invalid ones are not, and random sentences of the
//! grammar are always JSON that [`super::validate`] accepts.

use super::number_ranges::{decimal_range, integer_range};
use super::recogniser::Grammar;
use super::{SchemaError, to_gbnf, to_gbnf_from_text, validate};
use serde_json::{Value, json};

fn grammar_of(schema: &Value) -> Grammar {
    let text = to_gbnf(schema).unwrap_or_else(|error| panic!("{schema}: {error}"));
    Grammar::parse(&text).unwrap_or_else(|error| panic!("{error}\n{text}"))
}

/// Asserts the grammar of `schema` accepts each of `good` and rejects each of `bad`, and
/// that the good ones really are valid (so the test itself is not wrong).
fn assert_language(schema: &Value, good: &[&str], bad: &[&str]) {
    let grammar = grammar_of(schema);
    for text in good {
        let value: Value = serde_json::from_str(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(
            validate(schema, &value),
            [],
            "test document {text} is invalid"
        );
        assert!(
            grammar.accepts(text),
            "rejected {text}\n{}",
            to_gbnf(schema).unwrap()
        );
    }
    for text in bad {
        assert!(
            !grammar.accepts(text),
            "accepted {text}\n{}",
            to_gbnf(schema).unwrap()
        );
    }
}

/// Asserts random sentences of the grammar of `schema` are JSON satisfying it.
fn assert_sentences_are_valid(schema: &Value) {
    let grammar = grammar_of(schema);
    for seed in 0..200 {
        let sentence = grammar.generate(seed);
        let value: Value = serde_json::from_str(&sentence)
            .unwrap_or_else(|error| panic!("sentence {sentence:?} is not JSON: {error}"));
        let violations = validate(schema, &value);
        assert!(violations.is_empty(), "{sentence}: {violations:?}");
    }
}

fn video_script() -> Value {
    json!({
        "type": "object",
        "properties": {
            "title": { "type": "string", "minLength": 1, "maxLength": 12 },
            "tone": { "enum": ["warm", "bold", "playful"] },
            "scenes": {
                "type": "array",
                "minItems": 1,
                "maxItems": 3,
                "items": {
                    "type": "object",
                    "properties": {
                        "voice_over": { "type": "string" },
                        "seconds": { "type": "integer", "minimum": 1, "maximum": 30 },
                        "caption": { "type": ["string", "null"] },
                    },
                    "required": ["voice_over", "seconds"],
                    "additionalProperties": false,
                },
            },
            "score": { "type": "number", "minimum": 0, "maximum": 1 },
        },
        "required": ["title", "tone", "scenes"],
        "additionalProperties": false,
    })
}

#[test]
fn nested_objects_arrays_enums_and_optional_properties() {
    let schema = video_script();
    assert_language(
        &schema,
        &[
            r#"{"title":"Oat","tone":"warm","scenes":[{"voice_over":"Hi","seconds":5}]}"#,
            r#"{"title":"Oat","tone":"bold","scenes":[{"voice_over":"","seconds":30,"caption":null},{"voice_over":"b","seconds":1,"caption":"c"}],"score":0.75}"#,
            "{\n  \"title\": \"Oat\",\n  \"tone\": \"playful\",\n  \"scenes\": [\n    {\"voice_over\": \"x\", \"seconds\": 12}\n  ],\n  \"score\": 1\n}",
        ],
        &[
            // Missing required property.
            r#"{"title":"Oat","scenes":[{"voice_over":"Hi","seconds":5}]}"#,
            r#"{"title":"Oat","tone":"warm","scenes":[{"seconds":5}]}"#,
            // Wrong enum value.
            r#"{"title":"Oat","tone":"calm","scenes":[{"voice_over":"Hi","seconds":5}]}"#,
            // Too many and too few items.
            r#"{"title":"Oat","tone":"warm","scenes":[{"voice_over":"a","seconds":5},{"voice_over":"b","seconds":5},{"voice_over":"c","seconds":5},{"voice_over":"d","seconds":5}]}"#,
            r#"{"title":"Oat","tone":"warm","scenes":[]}"#,
            // Extra property.
            r#"{"title":"Oat","tone":"warm","scenes":[{"voice_over":"Hi","seconds":5}],"extra":1}"#,
            r#"{"title":"Oat","tone":"warm","scenes":[{"voice_over":"Hi","seconds":5,"x":1}]}"#,
            // Out of bounds: length, integer range, number range.
            r#"{"title":"","tone":"warm","scenes":[{"voice_over":"Hi","seconds":5}]}"#,
            r#"{"title":"Thirteen char","tone":"warm","scenes":[{"voice_over":"Hi","seconds":5}]}"#,
            r#"{"title":"Oat","tone":"warm","scenes":[{"voice_over":"Hi","seconds":31}]}"#,
            r#"{"title":"Oat","tone":"warm","scenes":[{"voice_over":"Hi","seconds":0}]}"#,
            r#"{"title":"Oat","tone":"warm","scenes":[{"voice_over":"Hi","seconds":5}],"score":1.5}"#,
            // Unescaped quote inside a string.
            r#"{"title":"O"at","tone":"warm","scenes":[{"voice_over":"Hi","seconds":5}]}"#,
            // Trailing comma, and properties out of the grammar's order.
            r#"{"title":"Oat","tone":"warm","scenes":[{"voice_over":"Hi","seconds":5},]}"#,
            r#"{"tone":"warm","title":"Oat","scenes":[{"voice_over":"Hi","seconds":5}]}"#,
        ],
    );
    assert_sentences_are_valid(&schema);
}

#[test]
fn every_combination_of_optional_properties_gets_its_commas_right() {
    let schema = json!({
        "type": "object",
        "properties": { "a": { "const": 1 }, "b": { "const": 2 }, "c": { "const": 3 } },
        "required": ["b"],
    });
    // Required first (`b`), then the optional ones alphabetically.
    assert_language(
        &schema,
        &[
            r#"{"b":2}"#,
            r#"{"b":2,"a":1}"#,
            r#"{"b":2,"c":3}"#,
            r#"{"b":2,"a":1,"c":3}"#,
        ],
        &[
            r#"{}"#,
            r#"{"a":1}"#,
            r#"{"c":3}"#,
            r#"{"b":2,}"#,
            r#"{,"b":2}"#,
            r#"{"b":2"a":1}"#,
            r#"{"a":1,"b":2}"#,
        ],
    );
    let all_optional = json!({
        "type": "object",
        "properties": { "a": { "const": 1 }, "b": { "const": 2 } },
    });
    assert_language(
        &all_optional,
        &[r#"{}"#, r#"{"a":1}"#, r#"{"b":2}"#, r#"{"a":1,"b":2}"#],
        &[r#"{,}"#, r#"{"a":1,}"#, r#"{"b":2,"a":1}"#],
    );
}

#[test]
fn strings_take_escapes_but_no_raw_control_characters_or_lone_surrogates() {
    let schema = json!({ "type": "string", "maxLength": 4 });
    assert_language(
        &schema,
        &[
            r#""""#,
            r#""a\"b""#,
            r#""\\\/\n""#,
            r#""\u00e9☕""#,
            "\"😀 é\"",
        ],
        &[
            "\"a\nb\"",
            "\"tab\there\"",
            r#""a"b""#,
            r#""\q""#,
            r#""\ud83d""#,
            r#""abcde""#,
            // Four characters in the value, but `\u00e9` is one: five here.
            r#""\u00e9abcd""#,
        ],
    );
    assert_sentences_are_valid(&json!({ "type": "string" }));
    assert_sentences_are_valid(&json!({ "type": "string", "minLength": 2, "maxLength": 5 }));
}

#[test]
fn long_strings_are_bounded_through_block_rules() {
    let schema = json!({ "type": "string", "minLength": 1205, "maxLength": 1500 });
    let text = to_gbnf(&schema).unwrap();
    let grammar = Grammar::parse(&text).unwrap();
    let quoted = |length: usize| format!("\"{}\"", "x".repeat(length));
    for length in [1205, 1206, 1300, 1499, 1500] {
        assert!(grammar.accepts(&quoted(length)), "{length}");
    }
    for length in [0, 1204, 1501] {
        assert!(!grammar.accepts(&quoted(length)), "{length}");
    }
    assert!(matches!(
        to_gbnf(&json!({ "type": "string", "maxLength": 200_000 })),
        Err(SchemaError::Unsupported { keyword, .. }) if keyword == "maxLength"
    ));
}

#[test]
fn numbers_are_json_numbers_with_bounded_digits() {
    let schema = json!({ "type": "object", "properties": {
        "n": { "type": "number" }, "i": { "type": "integer" } }, "required": ["n", "i"] });
    assert_language(
        &schema,
        &[
            r#"{"n":0,"i":0}"#,
            r#"{"n":-12.5e-3,"i":-7}"#,
            r#"{"n":1E+10,"i":1234567890123456}"#,
        ],
        &[
            r#"{"n":01,"i":1}"#,
            r#"{"n":1.,"i":1}"#,
            r#"{"n":.5,"i":1}"#,
            r#"{"n":+1,"i":1}"#,
            r#"{"n":1,"i":1.5}"#,
            r#"{"n":1,"i":12345678901234567}"#,
            r#"{"n":1.12345678901234567,"i":1}"#,
            r#"{"n":NaN,"i":1}"#,
        ],
    );
    assert_sentences_are_valid(&schema);
}

#[test]
fn integer_ranges_admit_exactly_their_members() {
    let bounds: [i128; 16] = [
        -1050, -130, -100, -11, -10, -9, -1, 0, 1, 9, 10, 99, 100, 109, 990, 1050,
    ];
    for &low in &bounds {
        for &high in bounds.iter().filter(|&&high| high >= low) {
            let grammar = Grammar::parse(&format!("root ::= {}\n", integer_range(low, high)))
                .unwrap_or_else(|error| panic!("{low}..={high}: {error}"));
            for number in -1100i128..=1100 {
                assert_eq!(
                    grammar.accepts(&number.to_string()),
                    (low..=high).contains(&number),
                    "{number} in {low}..={high}"
                );
            }
            for never in ["-0", "007", "00", "+1", ""] {
                assert!(!grammar.accepts(never), "{never} in {low}..={high}");
            }
        }
    }
}

#[test]
fn decimal_ranges_admit_exactly_their_members() {
    let bounds: [i128; 9] = [-20, -3, -1, 0, 1, 2, 5, 10, 101];
    for &low in &bounds {
        for &high in bounds.iter().filter(|&&high| high >= low) {
            let grammar = Grammar::parse(&format!("root ::= {}\n", decimal_range(low, high)))
                .unwrap_or_else(|error| panic!("{low}..={high}: {error}"));
            let mut candidates = vec!["-0.5".to_owned(), "0.001".to_owned()];
            for whole in (low - 2)..=(high + 2) {
                for fraction in ["", ".0", ".00", ".5", ".01", ".999"] {
                    candidates.push(format!("{whole}{fraction}"));
                }
            }
            for candidate in candidates {
                let value: f64 = candidate.parse().unwrap();
                let inside = (low as f64) <= value && value <= (high as f64);
                assert_eq!(
                    grammar.accepts(&candidate),
                    inside,
                    "{candidate} in {low}..={high}"
                );
            }
        }
    }
}

#[test]
fn enums_and_consts_are_their_json_text() {
    let schema = json!({ "type": "object", "properties": {
        "channel": { "enum": ["e-mail", "say \"hi\"", 3, null, true, { "k": [1] }] },
        "version": { "const": "v2" },
        "narrowed": { "type": "string", "enum": ["kept", 4] },
    }, "required": ["channel", "version"] });
    assert_language(
        &schema,
        &[
            r#"{"channel":"e-mail","version":"v2"}"#,
            r#"{"channel":"say \"hi\"","version":"v2"}"#,
            r#"{"channel":{"k":[1]},"version":"v2","narrowed":"kept"}"#,
            r#"{"channel":null,"version":"v2"}"#,
        ],
        &[
            r#"{"channel":"email","version":"v2"}"#,
            r#"{"channel":3,"version":"v1"}"#,
            // 4 is listed but is not a string.
            r#"{"channel":3,"version":"v2","narrowed":4}"#,
        ],
    );
    assert!(matches!(
        to_gbnf(&json!({ "type": "string", "enum": [1, 2] })),
        Err(SchemaError::Malformed { .. })
    ));
}

#[test]
fn refs_any_of_and_recursion_become_shared_rules() {
    let schema = json!({
        "$defs": {
            "node": { "type": "object", "properties": {
                "label": { "$ref": "#/$defs/label" },
                "children": { "type": "array", "maxItems": 2, "items": { "$ref": "#/$defs/node" } },
            }, "required": ["label"] },
            "label": { "anyOf": [{ "type": "string", "maxLength": 3 }, { "type": "integer" }] },
        },
        "$ref": "#/$defs/node",
    });
    assert_language(
        &schema,
        &[
            r#"{"label":"a"}"#,
            r#"{"label":7,"children":[{"label":"b","children":[]},{"label":"c"}]}"#,
        ],
        &[
            r#"{"label":"long"}"#,
            r#"{"label":true}"#,
            r#"{"label":1,"children":[{"label":1},{"label":2},{"label":3}]}"#,
        ],
    );
    assert_sentences_are_valid(&schema);
    let text = to_gbnf(&schema).unwrap();
    assert_eq!(text.matches("\nnode ::=").count(), 1, "{text}");
    assert!(text.starts_with("root ::= node\n"), "{text}");
}

#[test]
fn objects_without_properties_are_any_object_or_a_map() {
    assert_language(
        &json!({ "type": "object" }),
        &[r#"{}"#, r#"{"a":[1,{"b":null}],"c":"d"}"#],
        &[r#"[]"#, r#"{"a":}"#, r#"{"a":[[[[1]]]]}"#],
    );
    assert_language(
        &json!({ "type": "object", "additionalProperties": { "type": "integer" } }),
        &[r#"{}"#, r#"{"likes":3,"shares":0}"#],
        &[r#"{"likes":"3"}"#],
    );
    assert_language(
        &json!({ "type": "object", "additionalProperties": false }),
        &[r#"{}"#],
        &[r#"{"a":1}"#],
    );
    assert_language(
        &json!({}),
        &[r#"null"#, r#"[1,"a"]"#, r#"{"a":{}}"#],
        &[r#"nul"#],
    );
    assert_sentences_are_valid(&json!({ "type": "object" }));
}

#[test]
fn extra_properties_are_never_emitted_even_when_allowed() {
    let schema = json!({ "type": "object", "properties": { "a": { "type": "integer" } },
        "additionalProperties": true });
    assert_language(&schema, &[r#"{"a":1}"#, r#"{}"#], &[r#"{"a":1,"b":2}"#]);
}

#[test]
fn whitespace_between_tokens_is_bounded() {
    let schema = json!({ "type": "array", "items": { "type": "integer" } });
    let indent = |spaces: usize| format!("[\n{}1\n]", " ".repeat(spaces));
    assert_language(
        &schema,
        &["[1, 2]", "[ 1 , 2 ]", &indent(16), "[\n\t\t1,\n\t\t2\n]"],
        &[" [1]", "[1]\n", "[  1]", "[\n\n1]", &indent(17), "[\r\n1]"],
    );
}

#[test]
fn text_schemas_keep_their_written_property_order() {
    let text = r#"{
        "type": "object",
        "properties": {
            "reasoning": { "type": "string" },
            "answer": { "type": "string" },
            "confidence": { "type": "number" }
        },
        "required": ["answer", "reasoning"]
    }"#;
    let grammar = Grammar::parse(&to_gbnf_from_text(text).unwrap()).unwrap();
    assert!(grammar.accepts(r#"{"reasoning":"r","answer":"a","confidence":0.5}"#));
    assert!(!grammar.accepts(r#"{"answer":"a","reasoning":"r"}"#));
    // From a `Value` the order comes from `required`.
    let from_value = grammar_of(&serde_json::from_str(text).unwrap());
    assert!(from_value.accepts(r#"{"answer":"a","reasoning":"r","confidence":0.5}"#));
    assert!(!from_value.accepts(r#"{"reasoning":"r","answer":"a"}"#));
    assert!(matches!(
        to_gbnf_from_text("{not json"),
        Err(SchemaError::Malformed { .. })
    ));
}

#[test]
fn rule_names_follow_property_paths_and_are_valid_identifiers() {
    let schema = json!({ "type": "object", "properties": {
        "scenes": { "type": "array", "items": { "type": "object", "properties": {
            "voice_over": { "type": "string" }, "Überschrift!": { "type": "string" } } } },
        "ws": { "type": "string" },
    } });
    let text = to_gbnf(&schema).unwrap();
    let names: Vec<&str> = text
        .lines()
        .filter_map(|line| line.split_once(" ::= ").map(|(name, _)| name))
        .collect();
    assert!(names.contains(&"scenes-item-voice-over"), "{names:?}");
    assert!(names.contains(&"scenes-item-berschrift"), "{names:?}");
    // A property named like a helper rule gets a name of its own.
    assert!(names.contains(&"ws-2"), "{names:?}");
    for name in names {
        assert!(
            name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'),
            "{name}"
        );
    }
}

#[test]
fn keywords_the_grammar_cannot_honour_are_refused() {
    for (schema, keyword) in [
        (
            json!({ "type": "string", "pattern": "^[a-z]+$" }),
            "pattern",
        ),
        (json!({ "type": "string", "format": "date-time" }), "format"),
        (json!({ "not": { "type": "null" } }), "not"),
        (
            json!({ "if": { "type": "string" }, "then": { "maxLength": 3 } }),
            "if",
        ),
        (
            json!({ "type": "object", "patternProperties": { "^x": {} } }),
            "patternProperties",
        ),
        (
            json!({ "type": "array", "uniqueItems": true }),
            "uniqueItems",
        ),
        (json!({ "type": "integer", "multipleOf": 5 }), "multipleOf"),
        (
            json!({ "type": "number", "exclusiveMinimum": 0 }),
            "exclusiveMinimum",
        ),
        (
            json!({ "type": "number", "exclusiveMaximum": 1 }),
            "exclusiveMaximum",
        ),
        (json!({ "type": "number", "minimum": 0.5 }), "minimum"),
        (json!({ "type": "integer", "minimum": 1e30 }), "minimum"),
    ] {
        match to_gbnf(&schema) {
            Err(SchemaError::Unsupported { keyword: found, .. }) => assert_eq!(found, keyword),
            other => panic!("{schema}: {other:?}"),
        }
    }
    // A fractional bound on an integer is rounded inward instead: exactly representable.
    assert_language(
        &json!({ "type": "integer", "minimum": 0.5, "maximum": 3.7 }),
        &["1", "3"],
        &["0", "4"],
    );
}
