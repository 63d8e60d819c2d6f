//! A YAML document as a tree of spanned nodes, before any meaning is attached.
//!
//! serde-saphyr does the parsing (budgets, anchors, syntax errors); we deserialize into this
//! untyped tree instead of the final types so that validation can report every problem of a
//! file at once, with hints, instead of stopping at serde's first error.

use super::error::Pos;
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::{Location, Spanned};
use std::fmt;

/// One YAML node with where it is written (for an alias: where the alias is written).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node {
    pub value: Value,
    pub loc: Location,
}

/// The node's content. Scalars keep how YAML typed them: a plain `02134` arrives as
/// [`Value::Number`], a quoted `"02134"` as [`Value::Str`]; that difference is what lets us
/// tell the user to quote a value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Null,
    Bool(bool),
    /// An integer or a float; the original spelling is recovered from the source by span.
    Number,
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

impl Value {
    /// How an error message names this kind of node.
    pub(crate) fn kind_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Number => "a number",
            Value::Str(_) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }
}

impl Pos {
    /// Convert a serde-saphyr location into byte offsets of `text`.
    ///
    /// Locations carry byte offsets for string input; when they do not (or are unknown), the
    /// line and column are mapped back to a byte offset so a label can still be drawn.
    pub(crate) fn from_location(loc: &Location, text: &str) -> Pos {
        let line = usize::try_from(loc.line()).unwrap_or(0);
        let column = usize::try_from(loc.column()).unwrap_or(0);
        let span = loc.span();
        let offset = span
            .byte_offset()
            .and_then(|o| usize::try_from(o).ok())
            .filter(|o| *o <= text.len() && text.is_char_boundary(*o))
            .unwrap_or_else(|| offset_of(text, line, column));
        let len = span
            .byte_len()
            .and_then(|l| usize::try_from(l).ok())
            .filter(|l| offset + l <= text.len() && text.is_char_boundary(offset + l))
            .unwrap_or(0);
        Pos { offset, len, line: line.max(1), column: column.max(1) }
    }
}

/// The byte offset of a 1-based line and (character) column, clamped to the text.
pub(crate) fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let mut offset = 0;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            return offset + offset_in_line(l, column);
        }
        offset += l.len();
    }
    text.len()
}

/// The byte offset of a 1-based (character) column in one line, clamped to the line.
pub(crate) fn offset_in_line(line: &str, column: usize) -> usize {
    line.char_indices().nth(column.saturating_sub(1)).map_or(line.len(), |(b, _)| b)
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let spanned = Spanned::<Value>::deserialize(d)?;
        Ok(Node { value: spanned.value, loc: spanned.referenced })
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ValueVisitor)
    }
}

/// Builds a [`Value`] from whatever node the deserializer holds.
pub(crate) struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        Value::deserialize(d)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, _: i64) -> Result<Value, E> {
        Ok(Value::Number)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Value, E> {
        Ok(Value::Number)
    }
    fn visit_i128<E>(self, _: i128) -> Result<Value, E> {
        Ok(Value::Number)
    }
    fn visit_u128<E>(self, _: u128) -> Result<Value, E> {
        Ok(Value::Number)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Value, E> {
        Ok(Value::Number)
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::Str(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::Str(v))
    }
    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Value, E> {
        Ok(Value::Str(String::from_utf8_lossy(v).into_owned()))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Node>()? {
            items.push(item);
        }
        Ok(Value::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Node>()? {
            let value = map.next_value::<Node>()?;
            entries.push((key, value));
        }
        Ok(Value::Map(entries))
    }
}
