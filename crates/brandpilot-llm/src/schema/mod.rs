//! The subset of JSON Schema Brandpilot uses for structured output, and two pure functions
//! over it: [`validate`] (does a JSON value satisfy a schema, and if not, where and why) and
//! [`to_gbnf`] (a llama.cpp grammar whose every sentence is JSON satisfying the schema, so a
//! local model can only produce valid answers).
//!
//! The subset: `type` (one name or an array of names), `properties`, `required`,
//! `additionalProperties` (a boolean or a schema), `enum`, `const`, `items`, `minItems`,
//! `maxItems`, `minLength`, `maxLength` (in characters), `minimum`, `maximum`, `anyOf`,
//! `oneOf`, and `$ref` to `#/$defs/…` or `#/definitions/…`; `description`, `title`,
//! `default`, `examples`, `$schema` and `$comment` are annotations and ignored. `$ref`,
//! `anyOf` and `oneOf` must be the only constraint of the schema object they appear in (the
//! drafts disagree on what siblings of `$ref` mean, and a grammar cannot intersect
//! alternatives with other constraints).
//!
//! This module must never silently ignore a keyword it does not implement: any other
//! keyword (`pattern`, `format`, `not`, `uniqueItems`, …) makes [`check`] and [`to_gbnf`]
//! fail with [`SchemaError::Unsupported`] and [`validate`] report it. It does no IO and knows
//! no provider.

mod check;
mod gbnf;
mod number_ranges;
mod property_order;
mod validate;

#[cfg(test)]
mod gbnf_tests;
#[cfg(test)]
mod recogniser;

pub use check::check;
pub use gbnf::{to_gbnf, to_gbnf_from_text};
pub use validate::validate;

use serde_json::{Map, Value};
use std::fmt;

/// One way a value fails its schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaViolation {
    /// Where in the value, as a JSON pointer (`/scenes/2/voice_over`); `""` is the whole
    /// value. For a missing required property it is where the property should be.
    pub path: String,
    pub message: String,
}

impl fmt::Display for SchemaViolation {
    /// `<path>: <message>`, with `(root)` for the empty pointer so that the line still reads
    /// as a location when a model is shown it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = if self.path.is_empty() {
            "(root)"
        } else {
            &self.path
        };
        write!(f, "{path}: {}", self.message)
    }
}

/// Why a schema cannot be used. `path` is a JSON pointer into the schema (`""` is its root).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SchemaError {
    /// A keyword outside the subset, or a subset keyword in a form it does not cover (a
    /// `$ref` that is not local, `items` as an array, `anyOf` beside other constraints).
    #[error(
        "the schema at {} uses `{keyword}` in a way Brandpilot's schema subset does not support",
        display_pointer(path)
    )]
    Unsupported { keyword: String, path: String },

    /// The schema is not a usable schema: a keyword with a value of the wrong kind, bounds
    /// that admit nothing, a `$ref` to a definition that does not exist.
    #[error("the schema at {} is malformed: {message}", display_pointer(path))]
    Malformed { path: String, message: String },
}

fn display_pointer(path: &str) -> &str {
    if path.is_empty() { "(root)" } else { path }
}

/// Keywords that only document a schema; they never constrain a value.
const ANNOTATIONS: &[&str] = &[
    "description",
    "title",
    "default",
    "examples",
    "$schema",
    "$comment",
];

/// Where definitions live; their contents are checked, they constrain nothing by themselves.
const DEFINITION_CONTAINERS: &[&str] = &["$defs", "definitions"];

/// The JSON types a schema's `type` can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum JsonType {
    Null,
    Boolean,
    Integer,
    Number,
    String,
    Array,
    Object,
}

impl JsonType {
    const ALL: [JsonType; 7] = [
        JsonType::Null,
        JsonType::Boolean,
        JsonType::Integer,
        JsonType::Number,
        JsonType::String,
        JsonType::Array,
        JsonType::Object,
    ];

    fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "null" => JsonType::Null,
            "boolean" => JsonType::Boolean,
            "integer" => JsonType::Integer,
            "number" => JsonType::Number,
            "string" => JsonType::String,
            "array" => JsonType::Array,
            "object" => JsonType::Object,
            _ => return None,
        })
    }

    /// Whether `value` is of this type. JSON Schema counts `1.0` as an integer.
    fn admits(self, value: &Value) -> bool {
        match (self, value) {
            (JsonType::Null, Value::Null)
            | (JsonType::Boolean, Value::Bool(_))
            | (JsonType::Number, Value::Number(_))
            | (JsonType::String, Value::String(_))
            | (JsonType::Array, Value::Array(_))
            | (JsonType::Object, Value::Object(_)) => true,
            (JsonType::Integer, Value::Number(number)) => {
                number.is_i64()
                    || number.is_u64()
                    || number.as_f64().is_some_and(|float| float.fract() == 0.0)
            }
            _ => false,
        }
    }
}

/// The types a checked schema object allows: its `type`, or every type when it has none.
fn declared_types(node: &Map<String, Value>) -> Vec<JsonType> {
    match node.get("type") {
        Some(Value::String(name)) => JsonType::from_name(name).into_iter().collect(),
        Some(Value::Array(names)) => names
            .iter()
            .filter_map(Value::as_str)
            .filter_map(JsonType::from_name)
            .collect(),
        _ => JsonType::ALL.to_vec(),
    }
}

/// A non-negative integer keyword of a checked schema (`minItems`, `maxLength`…).
fn count_keyword(node: &Map<String, Value>, keyword: &str) -> Option<u64> {
    node.get(keyword).and_then(Value::as_u64)
}

/// `required` of a checked schema.
fn required_names(node: &Map<String, Value>) -> Vec<&str> {
    node.get("required")
        .and_then(Value::as_array)
        .map(|names| names.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

/// The schema a local `$ref` points to, with its pointer; `None` for any other reference or
/// a missing definition.
fn resolve_ref<'a>(root: &'a Value, reference: &str) -> Option<(&'a Value, String)> {
    let rest = reference.strip_prefix("#/")?;
    let (container, name) = rest.split_once('/')?;
    if !DEFINITION_CONTAINERS.contains(&container) || name.is_empty() || name.contains('/') {
        return None;
    }
    let name = unescape_pointer_token(name);
    let target = root.get(container)?.get(&name)?;
    Some((
        target,
        format!("/{container}/{}", escape_pointer_token(&name)),
    ))
}

/// `~` and `/` escaped as a JSON pointer reference token (RFC 6901).
fn escape_pointer_token(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

fn unescape_pointer_token(token: &str) -> String {
    token.replace("~1", "/").replace("~0", "~")
}

/// `pointer` extended by one reference token.
fn child_pointer(pointer: &str, token: &str) -> String {
    format!("{pointer}/{}", escape_pointer_token(token))
}

/// Numeric equality for numbers (`1` equals `1.0`, as JSON Schema requires), structural
/// equality for everything else.
fn json_equal(left: &Value, right: &Value) -> bool {
    match (left, right) {
        (Value::Number(a), Value::Number(b)) => match (a.as_i64(), b.as_i64()) {
            (Some(a), Some(b)) => a == b,
            _ => match (a.as_u64(), b.as_u64()) {
                (Some(a), Some(b)) => a == b,
                _ => a.as_f64() == b.as_f64(),
            },
        },
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(a, b)| json_equal(a, b))
        }
        (Value::Object(a), Value::Object(b)) => {
            a.len() == b.len()
                && a.iter()
                    .all(|(key, value)| b.get(key).is_some_and(|other| json_equal(value, other)))
        }
        _ => left == right,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn violations_display_as_path_then_message() {
        let violation = SchemaViolation {
            path: "/scenes/2/voice_over".into(),
            message: "required property is missing".into(),
        };
        assert_eq!(
            violation.to_string(),
            "/scenes/2/voice_over: required property is missing"
        );
        let root = SchemaViolation {
            path: String::new(),
            message: "expected an object".into(),
        };
        assert_eq!(root.to_string(), "(root): expected an object");
    }

    #[test]
    fn local_refs_resolve_with_pointer_escapes_and_others_do_not() {
        let root = json!({
            "$defs": { "a/b": { "type": "string" }, "scene": { "type": "object" } },
            "definitions": { "old": { "type": "null" } },
        });
        let (target, pointer) = resolve_ref(&root, "#/$defs/a~1b").unwrap();
        assert_eq!(target, &json!({ "type": "string" }));
        assert_eq!(pointer, "/$defs/a~1b");
        assert!(resolve_ref(&root, "#/definitions/old").is_some());
        for unsupported in [
            "#/$defs/missing",
            "#",
            "#/properties/x",
            "other.json#/$defs/scene",
            "#/$defs/scene/properties",
        ] {
            assert!(resolve_ref(&root, unsupported).is_none(), "{unsupported}");
        }
    }

    #[test]
    fn numbers_compare_by_value() {
        assert!(json_equal(&json!(1), &json!(1.0)));
        assert!(json_equal(&json!({"a": [1, 2.0]}), &json!({"a": [1.0, 2]})));
        assert!(!json_equal(&json!(1), &json!("1")));
        assert!(!json_equal(&json!([1]), &json!([1, 1])));
    }
}
