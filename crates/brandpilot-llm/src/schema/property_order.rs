//! The order a grammar emits an object's properties in.
//!
//! Order matters to a model: it writes `reasoning` before `answer` only if the grammar asks
//! for them in that order. But a `serde_json::Value` in this workspace does not keep the
//! order keys were written in: that needs serde_json's `preserve_order` feature, and turning
//! it on here would turn it on for every crate linked into the same binary (feature
//! unification), changing the key order of every JSON value they serialise or store,
//! differently in a full build and in a one-crate test build. So this module recovers the
//! order without it: from the schema's text when there is one (the keys are read in the order
//! they appear), and otherwise from `required`, which is an array and so keeps its order.

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::fmt;

use super::{child_pointer, escape_pointer_token};

/// Where a grammar gets its property order from.
pub(super) enum PropertyOrder {
    /// Required properties in the order of `required`, then the optional ones in the order
    /// the map yields them (alphabetical in this workspace).
    RequiredFirst,
    /// The order keys appear in the schema text, by the JSON pointer of each object.
    Declared(HashMap<String, Vec<String>>),
}

impl PropertyOrder {
    /// The names of `properties` (the `properties` of the schema object at `pointer`) in
    /// the order the grammar emits them.
    pub(super) fn arrange<'a>(
        &self,
        pointer: &str,
        properties: &'a Map<String, Value>,
        required: &[&str],
    ) -> Vec<&'a str> {
        let mut arranged: Vec<&'a str> = Vec::with_capacity(properties.len());
        let mut push = |name: &str| {
            if let Some((key, _)) = properties.get_key_value(name)
                && !arranged.contains(&key.as_str())
            {
                arranged.push(key.as_str());
            }
        };
        match self {
            PropertyOrder::RequiredFirst => required.iter().for_each(|name| push(name)),
            PropertyOrder::Declared(orders) => {
                let properties_pointer = child_pointer(pointer, "properties");
                if let Some(order) = orders.get(&properties_pointer) {
                    order.iter().for_each(|name| push(name));
                }
            }
        }
        // Whatever the order source missed keeps the map's order, so nothing is dropped.
        properties.keys().for_each(|name| push(name));
        arranged
    }
}

/// For every object in the JSON `text`, its keys in the order they are written, by the JSON
/// pointer of the object.
pub(super) fn declared_orders(text: &str) -> serde_json::Result<HashMap<String, Vec<String>>> {
    let mut orders = HashMap::new();
    let mut deserializer = serde_json::Deserializer::from_str(text);
    KeyOrder {
        pointer: String::new(),
        orders: &mut orders,
    }
    .deserialize(&mut deserializer)?;
    deserializer.end()?;
    Ok(orders)
}

/// Walks one JSON value, recording the key order of each object inside it.
struct KeyOrder<'a> {
    pointer: String,
    orders: &'a mut HashMap<String, Vec<String>>,
}

impl<'de> DeserializeSeed<'de> for KeyOrder<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for KeyOrder<'_> {
    type Value = ();

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("any JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }

    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }

    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut sequence: A) -> Result<(), A::Error> {
        let mut index = 0usize;
        loop {
            let element = KeyOrder {
                pointer: format!("{}/{index}", self.pointer),
                orders: &mut *self.orders,
            };
            if sequence.next_element_seed(element)?.is_none() {
                return Ok(());
            }
            index += 1;
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut keys = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            let value = KeyOrder {
                pointer: format!("{}/{}", self.pointer, escape_pointer_token(&key)),
                orders: &mut *self.orders,
            };
            map.next_value_seed(value)?;
            keys.push(key);
        }
        self.orders.insert(self.pointer, keys);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_are_recorded_in_written_order_by_pointer() {
        let text = r#"{"zeta": 1, "alpha": {"b/c": [{"y": 0, "x": 0}], "a": null}}"#;
        let orders = declared_orders(text).unwrap();
        assert_eq!(orders[""], ["zeta", "alpha"]);
        assert_eq!(orders["/alpha"], ["b/c", "a"]);
        assert_eq!(orders["/alpha/b~1c/0"], ["y", "x"]);
        assert!(declared_orders("{\"a\": 1} trailing").is_err());
    }

    #[test]
    fn declared_order_wins_and_required_first_is_the_fallback() {
        let schema = json!({ "properties": { "answer": {}, "reasoning": {}, "sources": {} } });
        let properties = schema["properties"].as_object().unwrap();
        let text = r#"{"properties": {"reasoning": {}, "answer": {}, "sources": {}}}"#;
        let declared = PropertyOrder::Declared(declared_orders(text).unwrap());
        assert_eq!(
            declared.arrange("", properties, &[]),
            ["reasoning", "answer", "sources"]
        );
        assert_eq!(
            PropertyOrder::RequiredFirst.arrange("", properties, &["sources", "reasoning"]),
            ["sources", "reasoning", "answer"]
        );
    }
}
