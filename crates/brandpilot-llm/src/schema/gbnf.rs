//! A llama.cpp GBNF grammar from a schema of the subset: every sentence of the grammar is a
//! JSON text whose value satisfies the schema, so a local model sampling under it cannot
//! produce an invalid answer (short of running out of tokens).
//!
//! The grammar is deliberately stricter than the schema where that keeps generation short
//! and finite: whitespace between tokens is at most one space, or one newline and up to 16
//! spaces or tabs of indent; numbers have at most 16 digits before and after the point (and
//! two in an exponent); `\u` escapes never name a surrogate; an object with `properties`
//! never gets extra properties, even when `additionalProperties` is absent or `true`, and
//! its properties come in a fixed order (see [`super::property_order`]); an object or array
//! the schema leaves unconstrained holds JSON at most three containers deep. `oneOf` is
//! emitted like `anyOf`: a grammar cannot exclude a value that matches two alternatives.
//!
//! Rule names are derived from property paths (`scenes-item-voice-over`), so a reader can
//! find the rule for each part of the schema.

use super::number_ranges::{MAX_DIGITS, MAX_MAGNITUDE, decimal_range, integer_range};
use super::property_order::{PropertyOrder, declared_orders};
use super::validate::node_violations;
use super::{
    JsonType, SchemaError, check, child_pointer, count_keyword, declared_types, required_names,
    resolve_ref, unescape_pointer_token,
};
use serde_json::{Map, Value};
use std::collections::{BTreeSet, HashMap, HashSet};

/// The grammar for `schema`, with its root rule named `root`.
///
/// Properties are emitted with the required ones first, in the order of `required`, then
/// the optional ones alphabetically: a `serde_json::Value` here does not remember the order
/// keys were written in. Use [`to_gbnf_from_text`] when the schema's text is at hand.
pub fn to_gbnf(schema: &Value) -> Result<String, SchemaError> {
    check(schema)?;
    Generator::new(schema, PropertyOrder::RequiredFirst).grammar()
}

/// The grammar for the schema written in `schema_json`, emitting each object's properties in
/// the order they are written there.
pub fn to_gbnf_from_text(schema_json: &str) -> Result<String, SchemaError> {
    let not_json = |error: serde_json::Error| SchemaError::Malformed {
        path: String::new(),
        message: format!("the schema is not JSON: {error}"),
    };
    let schema: Value = serde_json::from_str(schema_json).map_err(not_json)?;
    let orders = declared_orders(schema_json).map_err(not_json)?;
    check(&schema)?;
    Generator::new(&schema, PropertyOrder::Declared(orders)).grammar()
}

/// Shared rules, emitted after the schema's own and only when used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Helper {
    Whitespace,
    String,
    StringChar,
    Integer,
    Number,
    AnyJson,
}

impl Helper {
    /// The rules this helper defines, as `(name, body)`.
    fn rules(self) -> Vec<(String, String)> {
        let rule = |name: &str, body: String| (name.to_owned(), body);
        match self {
            // One space, or one newline and a bounded indent: enough for pretty JSON, too
            // little for a model to loop on.
            Helper::Whitespace => vec![rule("ws", r#"( " " | "\n" [ \t]{0,16} )?"#.to_owned())],
            Helper::String => vec![rule("string", r#""\"" string-char* "\"""#.to_owned())],
            // No raw control characters; `\u` escapes stop short of surrogates so that every
            // string decodes to characters (an astral character is written as itself).
            Helper::StringChar => vec![rule(
                "string-char",
                concat!(
                    r#"[^"\\\x7F\x00-\x1F] | "\\" ( ["\\/bfnrt] | "u" "#,
                    r#"( [0-9a-cA-C] [0-9a-fA-F]{3} | [dD] [0-7] [0-9a-fA-F]{2} | "#,
                    r#"[eEfF] [0-9a-fA-F]{3} ) )"#
                )
                .to_owned(),
            )],
            Helper::Integer => vec![rule(
                "integer",
                format!(r#""-"? ( "0" | [1-9] [0-9]{{0,{}}} )"#, MAX_DIGITS - 1),
            )],
            Helper::Number => vec![rule(
                "number",
                format!(
                    r#""-"? ( "0" | [1-9] [0-9]{{0,{}}} ) ( "." [0-9]{{1,{MAX_DIGITS}}} )? ( [eE] [-+]? [0-9]{{1,2}} )?"#,
                    MAX_DIGITS - 1
                ),
            )],
            Helper::AnyJson => {
                // Containers nest at most three deep: `json-value-4` holds scalars only.
                let array =
                    |inner: &str| format!(r#""[" ws ( {inner} ( ws "," ws {inner} )* ws )? "]""#);
                let object = |inner: &str| {
                    format!(
                        r#""{{" ws ( string ws ":" ws {inner} ( ws "," ws string ws ":" ws {inner} )* ws )? "}}""#
                    )
                };
                let container = |inner: &str| format!("{} | {}", array(inner), object(inner));
                vec![
                    rule(
                        "json-value",
                        "json-scalar | json-array | json-object".to_owned(),
                    ),
                    rule("json-array", array("json-value-2")),
                    rule("json-object", object("json-value-2")),
                    rule(
                        "json-value-2",
                        format!("json-scalar | {}", container("json-value-3")),
                    ),
                    rule(
                        "json-value-3",
                        format!("json-scalar | {}", container("json-value-4")),
                    ),
                    rule("json-value-4", "json-scalar".to_owned()),
                    rule(
                        "json-scalar",
                        r#"string | number | "true" | "false" | "null""#.to_owned(),
                    ),
                ]
            }
        }
    }

    /// The helpers this one's rules refer to.
    fn needs(self) -> &'static [Helper] {
        match self {
            Helper::Whitespace | Helper::StringChar | Helper::Integer | Helper::Number => &[],
            Helper::String => &[Helper::StringChar],
            Helper::AnyJson => &[Helper::Whitespace, Helper::String, Helper::Number],
        }
    }
}

/// Names helpers define; schema rules never take them.
const HELPER_NAMES: &[&str] = &[
    "root",
    "ws",
    "string",
    "string-char",
    "integer",
    "number",
    "json-value",
    "json-array",
    "json-object",
    "json-value-2",
    "json-value-3",
    "json-value-4",
    "json-scalar",
];

/// Repetition counts above this are written with block rules: llama.cpp refuses a single
/// repetition of more than 2,000.
const REPETITION_LIMIT: u64 = 1000;
/// The size of one block when a repetition is split into blocks.
const BLOCK: u64 = 100;

struct Generator<'a> {
    root: &'a Value,
    order: PropertyOrder,
    /// `(name, body)` in the order rules were first referred to.
    rules: Vec<(String, String)>,
    taken: HashSet<String>,
    /// Rule name of each definition already generated (or being generated), by pointer.
    definitions: HashMap<String, String>,
    helpers: BTreeSet<Helper>,
}

impl<'a> Generator<'a> {
    fn new(root: &'a Value, order: PropertyOrder) -> Self {
        Self {
            root,
            order,
            rules: Vec::new(),
            taken: HELPER_NAMES.iter().map(|name| (*name).to_owned()).collect(),
            definitions: HashMap::new(),
            helpers: BTreeSet::new(),
        }
    }

    fn grammar(mut self) -> Result<String, SchemaError> {
        self.rules.push(("root".to_owned(), String::new()));
        let body = self.body(self.root, "", "")?;
        self.rules[0].1 = body;
        let mut pending: Vec<Helper> = self.helpers.iter().copied().collect();
        while let Some(helper) = pending.pop() {
            for needed in helper.needs() {
                if self.helpers.insert(*needed) {
                    pending.push(*needed);
                }
            }
        }
        let mut text = String::new();
        let helper_rules = self.helpers.iter().flat_map(|helper| helper.rules());
        for (name, body) in self.rules.iter().cloned().chain(helper_rules) {
            text.push_str(&format!("{name} ::= {body}\n"));
        }
        Ok(text)
    }

    fn helper(&mut self, helper: Helper, name: &'static str) -> String {
        self.helpers.insert(helper);
        name.to_owned()
    }

    /// A fresh rule name from a property path, e.g. `scenes-item-voice-over`.
    fn allocate(&mut self, hint: &str) -> String {
        let mut base = String::new();
        for character in hint.chars() {
            if character.is_ascii_alphanumeric() {
                base.push(character);
            } else if !base.ends_with('-') {
                base.push('-');
            }
        }
        let base = match base.trim_matches('-') {
            "" => "value".to_owned(),
            trimmed => trimmed.to_owned(),
        };
        let mut name = base.clone();
        let mut suffix = 2;
        while self.taken.contains(&name) {
            name = format!("{base}-{suffix}");
            suffix += 1;
        }
        self.taken.insert(name.clone());
        name
    }

    /// A rule for the schema `node` (at `pointer`), named after `hint`; a `$ref` yields the
    /// definition's rule.
    fn rule(&mut self, node: &Value, pointer: &str, hint: &str) -> Result<String, SchemaError> {
        if let Some(reference) = node.get("$ref").and_then(Value::as_str) {
            return self.definition(reference, pointer);
        }
        let name = self.allocate(hint);
        let index = self.rules.len();
        self.rules.push((name.clone(), String::new()));
        let body = self.body(node, pointer, &name)?;
        self.rules[index].1 = body;
        Ok(name)
    }

    fn definition(&mut self, reference: &str, pointer: &str) -> Result<String, SchemaError> {
        let Some((target, target_pointer)) = resolve_ref(self.root, reference) else {
            return Err(SchemaError::Unsupported {
                keyword: "$ref".to_owned(),
                path: pointer.to_owned(),
            });
        };
        if let Some(name) = self.definitions.get(&target_pointer) {
            return Ok(name.clone());
        }
        let definition_name = target_pointer.rsplit('/').next().unwrap_or("definition");
        let name = self.allocate(&unescape_pointer_token(definition_name));
        // Registered before its body is generated, so a recursive definition refers to it.
        self.definitions
            .insert(target_pointer.clone(), name.clone());
        let index = self.rules.len();
        self.rules.push((name.clone(), String::new()));
        let body = self.body(target, &target_pointer, &name)?;
        self.rules[index].1 = body;
        Ok(name)
    }

    /// The body of the rule for `node`; `prefix` names its children's rules.
    fn body(&mut self, node: &Value, pointer: &str, prefix: &str) -> Result<String, SchemaError> {
        let empty = Map::new();
        let map = node.as_object().unwrap_or(&empty);
        if let Some(reference) = map.get("$ref").and_then(Value::as_str) {
            return self.definition(reference, pointer);
        }
        for combinator in ["anyOf", "oneOf"] {
            if let Some(branches) = map.get(combinator).and_then(Value::as_array) {
                let mut names = Vec::new();
                for (index, branch) in branches.iter().enumerate() {
                    let branch_pointer =
                        child_pointer(&child_pointer(pointer, combinator), &index.to_string());
                    let hint = join(prefix, &format!("option-{}", index + 1));
                    names.push(self.rule(branch, &branch_pointer, &hint)?);
                }
                return Ok(names.join(" | "));
            }
        }
        if map.contains_key("const") || map.contains_key("enum") {
            return self.literals(node, map, pointer);
        }
        let mut alternatives = Vec::new();
        for kind in declared_types(map) {
            alternatives.push(self.typed(kind, map, pointer, prefix)?);
        }
        Ok(alternatives.join(" | "))
    }

    /// `const` or `enum` as alternatives of their JSON text, keeping only the values that
    /// also satisfy the schema's other keywords.
    fn literals(
        &mut self,
        node: &Value,
        map: &Map<String, Value>,
        pointer: &str,
    ) -> Result<String, SchemaError> {
        let candidates: Vec<&Value> = match (map.get("const"), map.get("enum")) {
            (Some(constant), _) => vec![constant],
            (None, Some(Value::Array(values))) => values.iter().collect(),
            (None, _) => Vec::new(),
        };
        let literals: Vec<String> = candidates
            .into_iter()
            .filter(|candidate| node_violations(self.root, node, candidate, "").is_empty())
            .map(|candidate| gbnf_literal(&candidate.to_string()))
            .collect();
        if literals.is_empty() {
            return Err(SchemaError::Malformed {
                path: pointer.to_owned(),
                message: "no value of `enum` or `const` satisfies the schema's other keywords"
                    .to_owned(),
            });
        }
        Ok(literals.join(" | "))
    }

    fn typed(
        &mut self,
        kind: JsonType,
        map: &Map<String, Value>,
        pointer: &str,
        prefix: &str,
    ) -> Result<String, SchemaError> {
        Ok(match kind {
            JsonType::Null => "\"null\"".to_owned(),
            JsonType::Boolean => "( \"true\" | \"false\" )".to_owned(),
            JsonType::String => self.string(map, pointer, prefix)?,
            JsonType::Integer => self.integer(map, pointer)?,
            JsonType::Number => self.number(map, pointer)?,
            JsonType::Array => self.array(map, pointer, prefix)?,
            JsonType::Object => self.object(map, pointer, prefix)?,
        })
    }

    fn string(
        &mut self,
        map: &Map<String, Value>,
        pointer: &str,
        prefix: &str,
    ) -> Result<String, SchemaError> {
        let minimum = count_keyword(map, "minLength").unwrap_or(0);
        let maximum = count_keyword(map, "maxLength");
        if minimum == 0 && maximum.is_none() {
            return Ok(self.helper(Helper::String, "string"));
        }
        let character = self.helper(Helper::StringChar, "string-char");
        let characters = self.repeat(&character, minimum, maximum, pointer, prefix, "maxLength")?;
        if characters.is_empty() {
            return Ok(r#""\"\"""#.to_owned());
        }
        Ok(format!(r#""\"" {characters} "\"""#))
    }

    fn integer(&mut self, map: &Map<String, Value>, pointer: &str) -> Result<String, SchemaError> {
        if !map.contains_key("minimum") && !map.contains_key("maximum") {
            return Ok(self.helper(Helper::Integer, "integer"));
        }
        // An integer is at least `ceil(minimum)` and at most `floor(maximum)`.
        let low = bound(map, "minimum", f64::ceil, pointer)?;
        let high = bound(map, "maximum", f64::floor, pointer)?;
        if low > high {
            return Err(SchemaError::Malformed {
                path: pointer.to_owned(),
                message: "no integer lies between `minimum` and `maximum`".to_owned(),
            });
        }
        Ok(integer_range(low, high))
    }

    fn number(&mut self, map: &Map<String, Value>, pointer: &str) -> Result<String, SchemaError> {
        if !map.contains_key("minimum") && !map.contains_key("maximum") {
            return Ok(self.helper(Helper::Number, "number"));
        }
        for keyword in ["minimum", "maximum"] {
            // A fractional bound would need digit-by-digit comparison of the fraction too;
            // the integral bounds our schemas use (0..1, 1..5) are covered exactly.
            if let Some(value) = map.get(keyword).and_then(Value::as_f64)
                && value.fract() != 0.0
            {
                return Err(SchemaError::Unsupported {
                    keyword: keyword.to_owned(),
                    path: pointer.to_owned(),
                });
            }
        }
        let low = bound(map, "minimum", f64::ceil, pointer)?;
        let high = bound(map, "maximum", f64::floor, pointer)?;
        Ok(decimal_range(low, high))
    }

    fn array(
        &mut self,
        map: &Map<String, Value>,
        pointer: &str,
        prefix: &str,
    ) -> Result<String, SchemaError> {
        let item = match map.get("items") {
            Some(items) => self.rule(
                items,
                &child_pointer(pointer, "items"),
                &join(prefix, "item"),
            )?,
            None => self.helper(Helper::AnyJson, "json-value"),
        };
        let ws = self.helper(Helper::Whitespace, "ws");
        let minimum = count_keyword(map, "minItems").unwrap_or(0);
        let maximum = count_keyword(map, "maxItems");
        if maximum == Some(0) {
            return Ok(format!(r#""[" {ws} "]""#));
        }
        let separated = format!(r#"( {ws} "," {ws} {item} )"#);
        let more = self.repeat(
            &separated,
            minimum.saturating_sub(1),
            maximum.map(|maximum| maximum - 1),
            pointer,
            &join(prefix, "items"),
            "maxItems",
        )?;
        let items = [item.as_str(), more.as_str()]
            .iter()
            .filter(|part| !part.is_empty())
            .copied()
            .collect::<Vec<_>>()
            .join(" ");
        Ok(if minimum == 0 {
            format!(r#""[" {ws} ( {items} {ws} )? "]""#)
        } else {
            format!(r#""[" {ws} {items} {ws} "]""#)
        })
    }

    fn object(
        &mut self,
        map: &Map<String, Value>,
        pointer: &str,
        prefix: &str,
    ) -> Result<String, SchemaError> {
        let ws = self.helper(Helper::Whitespace, "ws");
        let properties = map
            .get("properties")
            .and_then(Value::as_object)
            .filter(|properties| !properties.is_empty());
        let Some(properties) = properties else {
            return Ok(match map.get("additionalProperties") {
                Some(Value::Bool(false)) => format!(r#""{{" {ws} "}}""#),
                Some(schema @ Value::Object(_)) => {
                    let value = self.rule(
                        schema,
                        &child_pointer(pointer, "additionalProperties"),
                        &join(prefix, "value"),
                    )?;
                    let string = self.helper(Helper::String, "string");
                    let member = format!(r#"{string} {ws} ":" {ws} {value}"#);
                    format!(r#""{{" {ws} ( {member} ( {ws} "," {ws} {member} )* {ws} )? "}}""#)
                }
                _ => self.helper(Helper::AnyJson, "json-object"),
            });
        };
        let required = required_names(map);
        let names = self.order.arrange(pointer, properties, &required);
        let mut members = Vec::with_capacity(names.len());
        for name in &names {
            let property_pointer = child_pointer(&child_pointer(pointer, "properties"), name);
            let value = self.rule(&properties[*name], &property_pointer, &join(prefix, name))?;
            let key = gbnf_literal(&Value::from(*name).to_string());
            members.push((
                format!(r#"{key} {ws} ":" {ws} {value}"#),
                required.contains(name),
            ));
        }
        // Whichever property comes first needs no comma before it, so there is one
        // alternative per property that can come first: each up to the first required one.
        let first_required = members.iter().position(|(_, required)| *required);
        let last_start = first_required.unwrap_or(members.len() - 1);
        let alternatives: Vec<String> = (0..=last_start)
            .map(|start| {
                let mut sequence = members[start].0.clone();
                for (member, required) in &members[start + 1..] {
                    if *required {
                        sequence.push_str(&format!(r#" {ws} "," {ws} {member}"#));
                    } else {
                        sequence.push_str(&format!(r#" ( {ws} "," {ws} {member} )?"#));
                    }
                }
                sequence
            })
            .collect();
        let inner = if alternatives.len() == 1 {
            alternatives.into_iter().next().unwrap_or_default()
        } else {
            format!("( {} )", alternatives.join(" | "))
        };
        Ok(if first_required.is_some() {
            format!(r#""{{" {ws} {inner} {ws} "}}""#)
        } else {
            format!(r#""{{" {ws} ( {inner} {ws} )? "}}""#)
        })
    }

    /// `element` repeated `minimum` to `maximum` times (unbounded when `None`). Counts
    /// beyond what llama.cpp accepts in one repetition go through block rules of [`BLOCK`]
    /// repetitions each.
    fn repeat(
        &mut self,
        element: &str,
        minimum: u64,
        maximum: Option<u64>,
        pointer: &str,
        prefix: &str,
        keyword: &str,
    ) -> Result<String, SchemaError> {
        if maximum == Some(0) {
            return Ok(String::new());
        }
        let largest = maximum.unwrap_or(minimum);
        if largest <= REPETITION_LIMIT {
            return Ok(format!("{element}{}", quantifier(minimum, maximum)));
        }
        if largest / BLOCK > REPETITION_LIMIT {
            return Err(SchemaError::Unsupported {
                keyword: keyword.to_owned(),
                path: pointer.to_owned(),
            });
        }
        let mut parts = Vec::new();
        let (full_blocks, rest) = (minimum / BLOCK, minimum % BLOCK);
        if full_blocks > 0 {
            let name = self.allocate(&join(prefix, "block"));
            self.rules
                .push((name.clone(), format!("{element}{{{BLOCK}}}")));
            parts.push(format!(
                "{name}{}",
                quantifier(full_blocks, Some(full_blocks))
            ));
        }
        if rest > 0 {
            parts.push(format!("{element}{}", quantifier(rest, Some(rest))));
        }
        match maximum {
            None => parts.push(format!("{element}*")),
            Some(maximum) => {
                let optional = maximum - minimum;
                let (optional_blocks, optional_rest) = (optional / BLOCK, optional % BLOCK);
                if optional_blocks > 0 {
                    let name = self.allocate(&join(prefix, "optional-block"));
                    self.rules
                        .push((name.clone(), format!("{element}{{0,{BLOCK}}}")));
                    parts.push(format!("{name}{}", quantifier(0, Some(optional_blocks))));
                }
                if optional_rest > 0 {
                    parts.push(format!("{element}{}", quantifier(0, Some(optional_rest))));
                }
            }
        }
        Ok(parts.join(" "))
    }
}

/// `*`, `+`, `?` or `{m}`, `{m,}`, `{m,n}`.
fn quantifier(minimum: u64, maximum: Option<u64>) -> String {
    match (minimum, maximum) {
        (0, None) => "*".to_owned(),
        (1, None) => "+".to_owned(),
        (0, Some(1)) => "?".to_owned(),
        (1, Some(1)) => String::new(),
        (minimum, None) => format!("{{{minimum},}}"),
        (minimum, Some(maximum)) if minimum == maximum => format!("{{{minimum}}}"),
        (minimum, Some(maximum)) => format!("{{{minimum},{maximum}}}"),
    }
}

/// A numeric bound rounded with `round` (`ceil` for a minimum, `floor` for a maximum), or
/// the most a generated number can reach when there is none. A bound no 16-digit number can
/// meet cannot be honoured.
fn bound(
    map: &Map<String, Value>,
    keyword: &str,
    round: fn(f64) -> f64,
    pointer: &str,
) -> Result<i128, SchemaError> {
    let limit = i128::from(MAX_MAGNITUDE);
    let Some(value) = map.get(keyword) else {
        return Ok(if keyword == "minimum" { -limit } else { limit });
    };
    let exact = value
        .as_i64()
        .map(i128::from)
        .or_else(|| value.as_u64().map(i128::from));
    let rounded = match exact {
        Some(exact) => exact,
        None => {
            let float = round(value.as_f64().unwrap_or(0.0));
            // Beyond ±1e17 only the sign matters: clamp before converting.
            float.clamp(-1e17, 1e17) as i128
        }
    };
    let unreachable = if keyword == "minimum" {
        rounded > limit
    } else {
        rounded < -limit
    };
    if unreachable {
        return Err(SchemaError::Unsupported {
            keyword: keyword.to_owned(),
            path: pointer.to_owned(),
        });
    }
    Ok(rounded.clamp(-limit, limit))
}

/// `child` appended to a rule-name prefix.
fn join(prefix: &str, child: &str) -> String {
    if prefix.is_empty() {
        child.to_owned()
    } else {
        format!("{prefix}-{child}")
    }
}

/// `text` as a GBNF string literal.
fn gbnf_literal(text: &str) -> String {
    let mut literal = String::with_capacity(text.len() + 2);
    literal.push('"');
    for character in text.chars() {
        match character {
            '"' => literal.push_str("\\\""),
            '\\' => literal.push_str("\\\\"),
            '\n' => literal.push_str("\\n"),
            '\r' => literal.push_str("\\r"),
            '\t' => literal.push_str("\\t"),
            control if control.is_control() && (control as u32) < 0x100 => {
                literal.push_str(&format!("\\x{:02X}", control as u32));
            }
            other => literal.push(other),
        }
    }
    literal.push('"');
    literal
}
