//! The static check of a schema against the subset: every keyword known, every keyword's
//! value of the right kind, bounds that admit something, every `$ref` resolvable, and no
//! `$ref` loop that never enters an object or array. [`super::validate`] and
//! [`super::to_gbnf`] rely on it having passed, so they can read keywords without
//! re-checking them.

use super::{
    ANNOTATIONS, DEFINITION_CONTAINERS, JsonType, SchemaError, child_pointer, resolve_ref,
};
use serde_json::{Map, Value};

/// Whether `schema` stays within the subset; the first problem found otherwise.
pub fn check(schema: &Value) -> Result<(), SchemaError> {
    match problems(schema).into_iter().next() {
        Some(problem) => Err(problem),
        None => Ok(()),
    }
}

/// Every problem of `schema`, in the order the walk meets them.
pub(super) fn problems(schema: &Value) -> Vec<SchemaError> {
    let mut problems = Vec::new();
    walk(schema, schema, "", &mut problems);
    for container in DEFINITION_CONTAINERS {
        let Some(Value::Object(definitions)) = schema.get(*container) else {
            continue;
        };
        for name in definitions.keys() {
            let pointer = child_pointer(&child_pointer("", container), name);
            if refers_back_unguarded(schema, &definitions[name], &pointer, &mut Vec::new()) {
                problems.push(malformed(
                    &pointer,
                    "it refers back to itself through `$ref`, `anyOf` or `oneOf` without \
                     entering an object or array, a loop no value can end",
                ));
            }
        }
    }
    problems
}

fn malformed(path: &str, message: impl Into<String>) -> SchemaError {
    SchemaError::Malformed {
        path: path.to_owned(),
        message: message.into(),
    }
}

fn unsupported(path: &str, keyword: &str) -> SchemaError {
    SchemaError::Unsupported {
        keyword: keyword.to_owned(),
        path: path.to_owned(),
    }
}

fn walk(root: &Value, node: &Value, pointer: &str, problems: &mut Vec<SchemaError>) {
    let Value::Object(node) = node else {
        problems.push(malformed(pointer, "a schema must be a JSON object"));
        return;
    };
    let constraints: Vec<&str> = node
        .keys()
        .map(String::as_str)
        .filter(|key| !ANNOTATIONS.contains(key) && !DEFINITION_CONTAINERS.contains(key))
        .collect();
    for combinator in ["$ref", "anyOf", "oneOf"] {
        if constraints.contains(&combinator) && constraints.len() > 1 {
            problems.push(unsupported(pointer, combinator));
        }
    }
    for (keyword, value) in node {
        let here = child_pointer(pointer, keyword);
        match keyword.as_str() {
            keyword if ANNOTATIONS.contains(&keyword) => {}
            "$defs" | "definitions" => match value {
                Value::Object(definitions) => {
                    for (name, definition) in definitions {
                        walk(root, definition, &child_pointer(&here, name), problems);
                    }
                }
                _ => problems.push(malformed(pointer, format!("`{keyword}` must be an object"))),
            },
            "type" => check_type(value, pointer, problems),
            "properties" => match value {
                Value::Object(properties) => {
                    for (name, property) in properties {
                        walk(root, property, &child_pointer(&here, name), problems);
                    }
                }
                _ => problems.push(malformed(pointer, "`properties` must be an object")),
            },
            "required" => check_required(node, value, pointer, problems),
            "additionalProperties" => match value {
                Value::Bool(_) => {}
                Value::Object(_) => walk(root, value, &here, problems),
                _ => problems.push(malformed(
                    pointer,
                    "`additionalProperties` must be a boolean or a schema",
                )),
            },
            "enum" => match value {
                Value::Array(values) if !values.is_empty() => {}
                _ => problems.push(malformed(pointer, "`enum` must be a non-empty array")),
            },
            "const" => {}
            "items" => match value {
                Value::Object(_) => walk(root, value, &here, problems),
                // The draft-4 tuple form: each position its own schema.
                Value::Array(_) => problems.push(unsupported(pointer, "items")),
                _ => problems.push(malformed(pointer, "`items` must be a schema")),
            },
            "minItems" | "maxItems" | "minLength" | "maxLength" => {
                if value.as_u64().is_none() {
                    problems.push(malformed(
                        pointer,
                        format!("`{keyword}` must be a non-negative integer"),
                    ));
                }
            }
            "minimum" | "maximum" => {
                if !value.is_number() {
                    problems.push(malformed(pointer, format!("`{keyword}` must be a number")));
                }
            }
            "anyOf" | "oneOf" => match value {
                Value::Array(branches) if !branches.is_empty() => {
                    for (index, branch) in branches.iter().enumerate() {
                        walk(
                            root,
                            branch,
                            &child_pointer(&here, &index.to_string()),
                            problems,
                        );
                    }
                }
                _ => problems.push(malformed(
                    pointer,
                    format!("`{keyword}` must be a non-empty array of schemas"),
                )),
            },
            "$ref" => check_ref(root, value, pointer, problems),
            other => problems.push(unsupported(pointer, other)),
        }
    }
    check_bounds(node, pointer, problems);
}

fn check_type(value: &Value, pointer: &str, problems: &mut Vec<SchemaError>) {
    let names: Vec<&Value> = match value {
        Value::String(_) => vec![value],
        Value::Array(names) if !names.is_empty() => names.iter().collect(),
        _ => {
            problems.push(malformed(
                pointer,
                "`type` must be a type name or a non-empty array of them",
            ));
            return;
        }
    };
    for name in names {
        match name.as_str() {
            Some(name) if JsonType::from_name(name).is_some() => {}
            _ => problems.push(malformed(
                pointer,
                format!("`type` names no JSON type: {name}"),
            )),
        }
    }
}

fn check_required(
    node: &Map<String, Value>,
    value: &Value,
    pointer: &str,
    problems: &mut Vec<SchemaError>,
) {
    let Value::Array(names) = value else {
        problems.push(malformed(pointer, "`required` must be an array of names"));
        return;
    };
    let properties = node.get("properties").and_then(Value::as_object);
    for name in names {
        let Some(name) = name.as_str() else {
            problems.push(malformed(pointer, "`required` must be an array of names"));
            continue;
        };
        // Allowed by JSON Schema, but in our schemas it is always a typo, and a grammar would
        // have no schema to generate the property's value from.
        if !properties.is_some_and(|properties| properties.contains_key(name)) {
            problems.push(malformed(
                pointer,
                format!("`required` names `{name}`, which `properties` does not define"),
            ));
        }
    }
}

fn check_ref(root: &Value, value: &Value, pointer: &str, problems: &mut Vec<SchemaError>) {
    let Some(reference) = value.as_str() else {
        problems.push(malformed(pointer, "`$ref` must be a string"));
        return;
    };
    if resolve_ref(root, reference).is_some() {
        return;
    }
    let names_a_definition = DEFINITION_CONTAINERS.iter().any(|container| {
        reference
            .strip_prefix(&format!("#/{container}/"))
            .is_some_and(|name| !name.is_empty() && !name.contains('/'))
    });
    if names_a_definition {
        problems.push(malformed(
            pointer,
            format!("`$ref` points to `{reference}`, which is not defined"),
        ));
    } else {
        problems.push(unsupported(pointer, "$ref"));
    }
}

fn check_bounds(node: &Map<String, Value>, pointer: &str, problems: &mut Vec<SchemaError>) {
    for (low, high) in [("minItems", "maxItems"), ("minLength", "maxLength")] {
        if let (Some(low_value), Some(high_value)) = (
            node.get(low).and_then(Value::as_u64),
            node.get(high).and_then(Value::as_u64),
        ) && low_value > high_value
        {
            problems.push(malformed(
                pointer,
                format!("`{low}` is greater than `{high}`, so nothing is allowed"),
            ));
        }
    }
    if let (Some(minimum), Some(maximum)) = (
        node.get("minimum").and_then(Value::as_f64),
        node.get("maximum").and_then(Value::as_f64),
    ) && minimum > maximum
    {
        problems.push(malformed(
            pointer,
            "`minimum` is greater than `maximum`, so nothing is allowed",
        ));
    }
}

/// Whether `node` reaches the definition at `target` through `$ref`, `anyOf` and `oneOf`
/// alone. Such a loop never consumes input: a validator would recurse forever and a grammar
/// would be left-recursive.
fn refers_back_unguarded(
    root: &Value,
    node: &Value,
    target: &str,
    visited: &mut Vec<String>,
) -> bool {
    if let Some(reference) = node.get("$ref").and_then(Value::as_str) {
        let Some((definition, pointer)) = resolve_ref(root, reference) else {
            return false;
        };
        if pointer == target {
            return true;
        }
        if visited.contains(&pointer) {
            return false;
        }
        visited.push(pointer);
        return refers_back_unguarded(root, definition, target, visited);
    }
    ["anyOf", "oneOf"].iter().any(|combinator| {
        node.get(*combinator)
            .and_then(Value::as_array)
            .is_some_and(|branches| {
                branches
                    .iter()
                    .any(|branch| refers_back_unguarded(root, branch, target, visited))
            })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn unsupported_keyword(schema: Value) -> (String, String) {
        match check(&schema) {
            Err(SchemaError::Unsupported { keyword, path }) => (keyword, path),
            other => panic!("expected Unsupported for {schema}, got {other:?}"),
        }
    }

    fn is_malformed(schema: Value) -> bool {
        matches!(check(&schema), Err(SchemaError::Malformed { .. }))
    }

    #[test]
    fn the_whole_subset_passes() {
        let schema = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": "Video script",
            "description": "A short video",
            "$comment": "used by the generate use case",
            "type": "object",
            "properties": {
                "title": { "type": "string", "minLength": 1, "maxLength": 80, "examples": ["x"] },
                "tone": { "enum": ["warm", "bold"], "default": "warm" },
                "version": { "const": 1 },
                "score": { "type": "number", "minimum": 0, "maximum": 1 },
                "scenes": { "type": "array", "items": { "$ref": "#/$defs/scene" },
                            "minItems": 1, "maxItems": 8 },
                "note": { "anyOf": [{ "type": "string" }, { "type": "null" }] },
                "cta": { "oneOf": [{ "$ref": "#/definitions/cta" }, { "type": "boolean" }] },
                "tags": { "type": "object", "additionalProperties": { "type": "integer" } },
            },
            "required": ["title", "scenes"],
            "additionalProperties": false,
            "$defs": { "scene": { "type": ["object", "null"], "properties": {
                "voice_over": { "type": "string" } }, "required": ["voice_over"] } },
            "definitions": { "cta": { "type": "string" } },
        });
        assert_eq!(check(&schema), Ok(()));
    }

    #[test]
    fn keywords_outside_the_subset_are_named_with_their_location() {
        let cases = [
            (json!({ "type": "string", "pattern": "^a" }), "pattern", ""),
            (
                json!({ "properties": { "at": { "format": "date" } } }),
                "format",
                "/properties/at",
            ),
            (json!({ "not": { "type": "null" } }), "not", ""),
            (json!({ "if": {}, "then": {} }), "if", ""),
            (json!({ "patternProperties": {} }), "patternProperties", ""),
            (
                json!({ "items": { "uniqueItems": true } }),
                "uniqueItems",
                "/items",
            ),
            (json!({ "multipleOf": 2 }), "multipleOf", ""),
            (json!({ "exclusiveMinimum": 0 }), "exclusiveMinimum", ""),
            (
                json!({ "$defs": { "a": { "exclusiveMaximum": 1 } } }),
                "exclusiveMaximum",
                "/$defs/a",
            ),
            (json!({ "allOf": [] }), "allOf", ""),
            (json!({ "x-vendor": true }), "x-vendor", ""),
        ];
        for (schema, keyword, path) in cases {
            assert_eq!(
                unsupported_keyword(schema),
                (keyword.to_owned(), path.to_owned())
            );
        }
    }

    #[test]
    fn forms_outside_the_subset_are_unsupported() {
        assert_eq!(
            unsupported_keyword(json!({ "items": [{ "type": "string" }] })).0,
            "items"
        );
        assert_eq!(
            unsupported_keyword(json!({ "$ref": "https://example.com/s.json" })).0,
            "$ref"
        );
        assert_eq!(
            unsupported_keyword(json!({ "$ref": "#/properties/a" })).0,
            "$ref"
        );
        assert_eq!(
            unsupported_keyword(json!({
                "$defs": { "a": { "type": "string" } },
                "properties": { "x": { "$ref": "#/$defs/a", "maxLength": 3 } },
            })),
            ("$ref".to_owned(), "/properties/x".to_owned())
        );
        assert_eq!(
            unsupported_keyword(json!({ "type": "string", "anyOf": [{ "maxLength": 2 }] })).0,
            "anyOf"
        );
        // Annotations beside a `$ref` are fine.
        assert_eq!(
            check(&json!({ "$defs": { "a": {} }, "$ref": "#/$defs/a", "description": "d" })),
            Ok(())
        );
    }

    #[test]
    fn malformed_schemas_are_refused() {
        for schema in [
            json!("string"),
            json!({ "type": "date" }),
            json!({ "type": [] }),
            json!({ "properties": [] }),
            json!({ "properties": { "a": {} }, "required": ["b"] }),
            json!({ "required": "a" }),
            json!({ "enum": [] }),
            json!({ "minLength": -1 }),
            json!({ "maxItems": 1.5 }),
            json!({ "minimum": "0" }),
            json!({ "minLength": 3, "maxLength": 2 }),
            json!({ "minItems": 3, "maxItems": 2 }),
            json!({ "minimum": 3, "maximum": 2 }),
            json!({ "anyOf": [] }),
            json!({ "oneOf": [true] }),
            json!({ "additionalProperties": "no" }),
            json!({ "$ref": "#/$defs/missing" }),
            json!({ "items": true }),
        ] {
            assert!(is_malformed(schema.clone()), "{schema}");
        }
    }

    #[test]
    fn a_ref_loop_that_enters_no_structure_is_refused_but_recursion_through_one_is_fine() {
        let looping = json!({
            "$ref": "#/$defs/a",
            "$defs": {
                "a": { "anyOf": [{ "$ref": "#/$defs/b" }, { "type": "string" }] },
                "b": { "oneOf": [{ "$ref": "#/$defs/a" }] },
            },
        });
        assert!(matches!(
            check(&looping),
            Err(SchemaError::Malformed { path, .. }) if path == "/$defs/a"
        ));
        let tree = json!({
            "$ref": "#/$defs/node",
            "$defs": { "node": { "type": "object", "properties": {
                "children": { "type": "array", "items": { "$ref": "#/$defs/node" } } } } },
        });
        assert_eq!(check(&tree), Ok(()));
    }

    #[test]
    fn every_problem_is_listed() {
        let schema = json!({
            "properties": { "a": { "pattern": "x" }, "b": { "format": "uri" } },
            "minLength": "one",
        });
        assert_eq!(problems(&schema).len(), 3);
    }
}
