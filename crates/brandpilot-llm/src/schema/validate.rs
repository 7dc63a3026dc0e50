//! Checking a JSON value against a schema of the subset, reporting every violation with the
//! JSON pointer of where it is. The messages are written to be shown to a model asked to
//! correct its answer, so they say what was expected and what was found.

use super::{
    JsonType, SchemaViolation, check, child_pointer, count_keyword, declared_types, json_equal,
    required_names, resolve_ref,
};
use serde_json::{Map, Value};

/// Every way `value` fails `schema`; empty when it satisfies it.
///
/// A schema outside the subset (an unsupported keyword, a malformed bound) cannot judge any
/// value: the violations are then the schema's own problems, each at path `""` and naming
/// where in the schema it is, so that no keyword is ever silently skipped.
pub fn validate(schema: &Value, value: &Value) -> Vec<SchemaViolation> {
    let problems = check::problems(schema);
    if !problems.is_empty() {
        return problems
            .into_iter()
            .map(|problem| SchemaViolation {
                path: String::new(),
                message: format!("the value cannot be checked: {problem}"),
            })
            .collect();
    }
    let mut violations = Vec::new();
    validate_node(schema, schema, value, "", &mut violations);
    violations
}

/// The violations of `value` against `node`, a checked schema inside `root`.
pub(super) fn node_violations(
    root: &Value,
    node: &Value,
    value: &Value,
    path: &str,
) -> Vec<SchemaViolation> {
    let mut violations = Vec::new();
    validate_node(root, node, value, path, &mut violations);
    violations
}

fn violation(path: &str, message: String) -> SchemaViolation {
    SchemaViolation {
        path: path.to_owned(),
        message,
    }
}

fn validate_node(
    root: &Value,
    node: &Value,
    value: &Value,
    path: &str,
    out: &mut Vec<SchemaViolation>,
) {
    let Some(node) = node.as_object() else {
        return;
    };
    // `check` guarantees these three stand alone, with a resolvable `$ref` and no loop.
    if let Some(reference) = node.get("$ref").and_then(Value::as_str) {
        if let Some((target, _)) = resolve_ref(root, reference) {
            validate_node(root, target, value, path, out);
        }
        return;
    }
    if let Some(branches) = node.get("anyOf").and_then(Value::as_array) {
        let results = branch_results(root, branches, value, path);
        if !results.iter().any(Vec::is_empty) {
            out.push(violation(
                path,
                format!(
                    "matches none of the `anyOf` alternatives ({})",
                    summarise(&results)
                ),
            ));
        }
        return;
    }
    if let Some(branches) = node.get("oneOf").and_then(Value::as_array) {
        let results = branch_results(root, branches, value, path);
        let matching: Vec<String> = results
            .iter()
            .enumerate()
            .filter(|(_, violations)| violations.is_empty())
            .map(|(index, _)| (index + 1).to_string())
            .collect();
        match matching.len() {
            1 => {}
            0 => out.push(violation(
                path,
                format!(
                    "matches none of the `oneOf` alternatives ({})",
                    summarise(&results)
                ),
            )),
            _ => out.push(violation(
                path,
                format!(
                    "matches `oneOf` alternatives {} but must match exactly one",
                    matching.join(" and ")
                ),
            )),
        }
        return;
    }
    if node.contains_key("type") {
        let types = declared_types(node);
        if !types.iter().any(|kind| kind.admits(value)) {
            let expected: Vec<&str> = types.iter().map(|kind| with_article(*kind)).collect();
            out.push(violation(
                path,
                format!(
                    "expected {}, found {}",
                    expected.join(" or "),
                    describe(value)
                ),
            ));
            // Type-specific keywords say nothing useful about a value of the wrong type.
            return;
        }
    }
    if let Some(constant) = node.get("const")
        && !json_equal(constant, value)
    {
        out.push(violation(path, format!("must be {constant}")));
    }
    if let Some(allowed) = node.get("enum").and_then(Value::as_array)
        && !allowed.iter().any(|candidate| json_equal(candidate, value))
    {
        let listed: Vec<String> = allowed.iter().map(Value::to_string).collect();
        out.push(violation(
            path,
            format!("must be one of {}, found {value}", listed.join(", ")),
        ));
    }
    match value {
        Value::String(text) => validate_string(node, text, path, out),
        Value::Number(_) => validate_number(node, value, path, out),
        Value::Array(items) => validate_array(root, node, items, path, out),
        Value::Object(object) => validate_object(root, node, object, path, out),
        Value::Null | Value::Bool(_) => {}
    }
}

fn branch_results(
    root: &Value,
    branches: &[Value],
    value: &Value,
    path: &str,
) -> Vec<Vec<SchemaViolation>> {
    branches
        .iter()
        .map(|branch| node_violations(root, branch, value, path))
        .collect()
}

/// The first problem with each alternative, so the reader sees why none fitted.
fn summarise(results: &[Vec<SchemaViolation>]) -> String {
    results
        .iter()
        .enumerate()
        .filter_map(|(index, violations)| {
            let first = violations.first()?;
            Some(format!("alternative {}: {first}", index + 1))
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn with_article(kind: JsonType) -> &'static str {
    match kind {
        JsonType::Null => "null",
        JsonType::Boolean => "a boolean",
        JsonType::Integer => "an integer",
        JsonType::Number => "a number",
        JsonType::String => "a string",
        JsonType::Array => "an array",
        JsonType::Object => "an object",
    }
}

fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".to_owned(),
        Value::Bool(_) => "a boolean".to_owned(),
        Value::Number(number) => format!("the number {number}"),
        Value::String(_) => "a string".to_owned(),
        Value::Array(_) => "an array".to_owned(),
        Value::Object(_) => "an object".to_owned(),
    }
}

fn validate_string(
    node: &Map<String, Value>,
    text: &str,
    path: &str,
    out: &mut Vec<SchemaViolation>,
) {
    // Characters (Unicode scalar values), as JSON Schema counts them, not bytes.
    let length = text.chars().count() as u64;
    if let Some(minimum) = count_keyword(node, "minLength")
        && length < minimum
    {
        out.push(violation(
            path,
            format!("must be at least {minimum} characters long, found {length}"),
        ));
    }
    if let Some(maximum) = count_keyword(node, "maxLength")
        && length > maximum
    {
        out.push(violation(
            path,
            format!("must be at most {maximum} characters long, found {length}"),
        ));
    }
}

fn validate_number(
    node: &Map<String, Value>,
    value: &Value,
    path: &str,
    out: &mut Vec<SchemaViolation>,
) {
    let Some(number) = value.as_f64() else {
        return;
    };
    if let Some(minimum) = node
        .get("minimum")
        .filter(|bound| bound.as_f64().is_some_and(|bound| number < bound))
    {
        out.push(violation(
            path,
            format!("must be at least {minimum}, found {value}"),
        ));
    }
    if let Some(maximum) = node
        .get("maximum")
        .filter(|bound| bound.as_f64().is_some_and(|bound| number > bound))
    {
        out.push(violation(
            path,
            format!("must be at most {maximum}, found {value}"),
        ));
    }
}

fn validate_array(
    root: &Value,
    node: &Map<String, Value>,
    items: &[Value],
    path: &str,
    out: &mut Vec<SchemaViolation>,
) {
    let count = items.len() as u64;
    if let Some(minimum) = count_keyword(node, "minItems")
        && count < minimum
    {
        out.push(violation(
            path,
            format!("must have at least {minimum} items, found {count}"),
        ));
    }
    if let Some(maximum) = count_keyword(node, "maxItems")
        && count > maximum
    {
        out.push(violation(
            path,
            format!("must have at most {maximum} items, found {count}"),
        ));
    }
    if let Some(item_schema) = node.get("items") {
        for (index, item) in items.iter().enumerate() {
            let item_path = child_pointer(path, &index.to_string());
            validate_node(root, item_schema, item, &item_path, out);
        }
    }
}

fn validate_object(
    root: &Value,
    node: &Map<String, Value>,
    object: &Map<String, Value>,
    path: &str,
    out: &mut Vec<SchemaViolation>,
) {
    let properties = node.get("properties").and_then(Value::as_object);
    if let Some(properties) = properties {
        for (name, property_schema) in properties {
            if let Some(property) = object.get(name) {
                validate_node(
                    root,
                    property_schema,
                    property,
                    &child_pointer(path, name),
                    out,
                );
            }
        }
    }
    for name in required_names(node) {
        if !object.contains_key(name) {
            out.push(violation(
                &child_pointer(path, name),
                "required property is missing".to_owned(),
            ));
        }
    }
    let additional = node.get("additionalProperties");
    let is_declared =
        |name: &str| properties.is_some_and(|properties| properties.contains_key(name));
    for (name, property) in object {
        if is_declared(name) {
            continue;
        }
        match additional {
            Some(Value::Bool(false)) => {
                let allowed: Vec<&str> = properties
                    .map(|properties| properties.keys().map(String::as_str).collect())
                    .unwrap_or_default();
                let message = if allowed.is_empty() {
                    "property is not allowed: the object must be empty".to_owned()
                } else {
                    format!("property is not allowed (allowed: {})", allowed.join(", "))
                };
                out.push(violation(&child_pointer(path, name), message));
            }
            Some(schema @ Value::Object(_)) => {
                validate_node(root, schema, property, &child_pointer(path, name), out);
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// `(path, message)` pairs, for asserting on both at once.
    fn problems(schema: &Value, value: Value) -> Vec<(String, String)> {
        validate(schema, &value)
            .into_iter()
            .map(|violation| (violation.path, violation.message))
            .collect()
    }

    fn paths(schema: &Value, value: Value) -> Vec<String> {
        problems(schema, value)
            .into_iter()
            .map(|(path, _)| path)
            .collect()
    }

    fn passes(schema: &Value, value: Value) -> bool {
        let violations = validate(schema, &value);
        assert!(
            violations
                .iter()
                .all(|violation| !violation.message.is_empty()),
            "{violations:?}"
        );
        violations.is_empty()
    }

    #[test]
    fn type_accepts_its_own_kind_only() {
        let cases: [(&str, Value, Value); 7] = [
            ("object", json!({}), json!([])),
            ("array", json!([1]), json!({})),
            ("string", json!(""), json!(1)),
            ("number", json!(1.5), json!("1.5")),
            ("integer", json!(-3), json!(3.5)),
            ("boolean", json!(false), json!(0)),
            ("null", json!(null), json!(false)),
        ];
        for (name, good, bad) in cases {
            let schema = json!({ "type": name });
            assert!(passes(&schema, good.clone()), "{name} {good}");
            let found = problems(&schema, bad.clone());
            assert_eq!(found.len(), 1, "{name} {bad}");
            assert_eq!(found[0].0, "");
            assert!(found[0].1.starts_with("expected"), "{found:?}");
        }
        // Integers are numbers, and an integral float is an integer.
        assert!(passes(&json!({ "type": "number" }), json!(7)));
        assert!(passes(&json!({ "type": "integer" }), json!(2.0)));
    }

    #[test]
    fn a_type_array_accepts_any_listed_kind() {
        let schema = json!({ "type": ["string", "null"] });
        assert!(passes(&schema, json!("x")));
        assert!(passes(&schema, json!(null)));
        let found = problems(&schema, json!(3));
        assert_eq!(found.len(), 1);
        assert!(found[0].1.contains("a string or null"), "{found:?}");
    }

    #[test]
    fn properties_are_checked_where_they_are() {
        let schema = json!({
            "type": "object",
            "properties": { "scenes": { "type": "array", "items": {
                "type": "object", "properties": { "voice_over": { "type": "string" } } } } },
        });
        assert!(passes(
            &schema,
            json!({ "scenes": [{ "voice_over": "hi" }] })
        ));
        assert_eq!(
            paths(&schema, json!({ "scenes": [{}, {}, { "voice_over": 3 }] })),
            ["/scenes/2/voice_over"]
        );
    }

    #[test]
    fn a_missing_required_property_is_reported_where_it_belongs() {
        let schema = json!({
            "type": "object",
            "properties": { "title": { "type": "string" }, "body": { "type": "string" } },
            "required": ["title", "body"],
        });
        assert!(passes(&schema, json!({ "title": "a", "body": "b" })));
        let found = problems(&schema, json!({ "body": "b" }));
        assert_eq!(
            found,
            [(
                "/title".to_owned(),
                "required property is missing".to_owned()
            )]
        );
        assert_eq!(paths(&schema, json!({})), ["/title", "/body"]);
    }

    #[test]
    fn additional_properties_false_rejects_each_extra_and_names_the_allowed() {
        let schema = json!({
            "type": "object",
            "properties": { "a": {}, "b": {} },
            "additionalProperties": false,
        });
        assert!(passes(&schema, json!({ "a": 1 })));
        let found = problems(&schema, json!({ "a": 1, "c": 2, "d/e": 3 }));
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].0, "/c");
        assert!(found[0].1.contains("allowed: a, b"), "{found:?}");
        assert_eq!(found[1].0, "/d~1e", "pointer tokens are escaped");
        let empty = json!({ "type": "object", "additionalProperties": false });
        assert_eq!(paths(&empty, json!({ "x": 1 })), ["/x"]);
    }

    #[test]
    fn additional_properties_as_a_schema_checks_the_extras_and_true_allows_them() {
        let schema = json!({
            "type": "object",
            "properties": { "name": { "type": "string" } },
            "additionalProperties": { "type": "integer" },
        });
        assert!(passes(&schema, json!({ "name": "n", "likes": 3 })));
        assert_eq!(
            paths(&schema, json!({ "name": "n", "likes": "many" })),
            ["/likes"]
        );
        let open = json!({ "properties": { "a": {} }, "additionalProperties": true });
        assert!(passes(&open, json!({ "a": 1, "b": 2 })));
        let default_open = json!({ "properties": { "a": {} } });
        assert!(passes(&default_open, json!({ "b": 2 })));
    }

    #[test]
    fn enum_and_const_compare_json_values() {
        let schema = json!({ "enum": ["warm", "bold", 3, null, { "a": [1] }] });
        for good in [
            json!("warm"),
            json!(3.0),
            json!(null),
            json!({ "a": [1.0] }),
        ] {
            assert!(passes(&schema, good.clone()), "{good}");
        }
        let found = problems(&schema, json!("calm"));
        assert_eq!(found.len(), 1);
        assert!(found[0].1.contains("\"warm\"") && found[0].1.contains("\"calm\""));
        let constant = json!({ "properties": { "v": { "const": 2 } } });
        assert!(passes(&constant, json!({ "v": 2 })));
        assert_eq!(paths(&constant, json!({ "v": 3 })), ["/v"]);
    }

    #[test]
    fn string_lengths_count_characters() {
        let schema = json!({ "type": "string", "minLength": 2, "maxLength": 3 });
        assert!(passes(&schema, json!("ab")));
        assert!(
            passes(&schema, json!("☕☕☕")),
            "three characters, nine bytes"
        );
        let short = problems(&schema, json!("a"));
        assert!(short[0].1.contains("at least 2 characters"), "{short:?}");
        let long = problems(&schema, json!("abcd"));
        assert!(long[0].1.contains("at most 3 characters"), "{long:?}");
    }

    #[test]
    fn number_bounds_are_inclusive() {
        let schema = json!({ "type": "number", "minimum": 0, "maximum": 1 });
        for good in [json!(0), json!(0.5), json!(1.0)] {
            assert!(passes(&schema, good.clone()), "{good}");
        }
        let below = problems(&schema, json!(-0.1));
        assert!(below[0].1.contains("at least 0"), "{below:?}");
        let above = problems(&schema, json!(2));
        assert!(above[0].1.contains("at most 1"), "{above:?}");
    }

    #[test]
    fn item_counts_and_each_item_are_checked() {
        let schema = json!({
            "type": "array",
            "items": { "type": "string" },
            "minItems": 1,
            "maxItems": 2,
        });
        assert!(passes(&schema, json!(["a"])));
        let none = problems(&schema, json!([]));
        assert!(none[0].1.contains("at least 1 items"), "{none:?}");
        let many = problems(&schema, json!(["a", "b", "c"]));
        assert!(many[0].1.contains("at most 2 items"), "{many:?}");
        assert_eq!(paths(&schema, json!(["a", 2])), ["/1"]);
    }

    #[test]
    fn any_of_needs_one_match_and_says_why_none_fitted() {
        let schema = json!({ "anyOf": [{ "type": "string", "maxLength": 2 }, { "type": "null" }] });
        assert!(passes(&schema, json!("ab")));
        assert!(passes(&schema, json!(null)));
        let found = problems(&schema, json!("abc"));
        assert_eq!(found.len(), 1);
        assert!(found[0].1.contains("alternative 1"), "{found:?}");
        assert!(found[0].1.contains("at most 2 characters"), "{found:?}");
    }

    #[test]
    fn one_of_needs_exactly_one_match() {
        let schema =
            json!({ "oneOf": [{ "type": "integer" }, { "type": "number", "maximum": 10 }] });
        assert!(passes(&schema, json!(20)), "only the integer branch");
        assert!(passes(&schema, json!(2.5)), "only the number branch");
        let both = problems(&schema, json!(3));
        assert!(both[0].1.contains("1 and 2"), "{both:?}");
        let neither = problems(&schema, json!(10.5));
        assert!(neither[0].1.contains("none of the `oneOf`"), "{neither:?}");
    }

    #[test]
    fn refs_resolve_to_defs_and_definitions_recursively() {
        let schema = json!({
            "$ref": "#/$defs/node",
            "$defs": { "node": { "type": "object", "properties": {
                "label": { "$ref": "#/definitions/label" },
                "children": { "type": "array", "items": { "$ref": "#/$defs/node" } } } } },
            "definitions": { "label": { "type": "string", "minLength": 1 } },
        });
        assert!(passes(
            &schema,
            json!({ "label": "a", "children": [{ "label": "b" }] })
        ));
        assert_eq!(
            paths(
                &schema,
                json!({ "children": [{ "children": [{ "label": "" }] }] })
            ),
            ["/children/0/children/0/label"]
        );
    }

    #[test]
    fn annotations_constrain_nothing() {
        let schema = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": "t", "description": "d", "default": 5, "examples": ["x"], "$comment": "c",
        });
        assert!(passes(&schema, json!("anything")));
    }

    #[test]
    fn type_specific_keywords_ignore_other_types() {
        let schema = json!({ "minLength": 5, "maxItems": 0, "minimum": 10 });
        // Each value breaks only the keyword of its own type.
        for (value, expected) in [
            (json!(1), "at least 10"),
            (json!("abc"), "at least 5 characters"),
            (json!([1]), "at most 0 items"),
        ] {
            let found = problems(&schema, value.clone());
            assert_eq!(found.len(), 1, "{value}: {found:?}");
            assert!(found[0].1.contains(expected), "{value}: {found:?}");
        }
        for value in [json!({}), json!(true), json!(null)] {
            assert!(passes(&schema, value.clone()), "{value}");
        }
    }

    #[test]
    fn an_unsupported_keyword_is_reported_not_skipped() {
        let schema = json!({ "type": "object", "properties": { "email": {
            "type": "string", "format": "email" } } });
        // The value would pass every supported keyword; the schema still cannot judge it.
        let found = problems(&schema, json!({ "email": "not an email" }));
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].0, "");
        assert!(found[0].1.contains("`format`"), "{found:?}");
        assert!(found[0].1.contains("/properties/email"), "{found:?}");
    }
}
