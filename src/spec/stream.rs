//! Reads one file's YAML into what validation needs, holding one user's nodes at a time.
//!
//! As a tree of spanned nodes, the `users` mapping of a large organization would take many
//! times the size of its text. So the top-level mapping is read entry by entry, and so is the
//! value of `users`: each user's key and value become a small tree that is checked and
//! converted at once, then dropped. The rest of the file (`organization`, `defaults`, unknown
//! keys, a `users` that is not a mapping) is small and kept as nodes for [`validate_file`].

use super::error::{LoadError, SourceFile};
use super::located::Located;
use super::parse::parse;
use super::raw::{Node, Value, ValueVisitor};
use super::validate::{CheckedUsers, FileSpec, UsersCheck, validate_file};
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use std::fmt;

/// Parse and validate one file. Errors are appended to `errors`; `None` when the text is not
/// YAML or breaks a parser limit, which is then the file's only error.
pub(crate) fn read_file(source: &SourceFile, errors: &mut Vec<LoadError>) -> Option<FileSpec> {
    match parse(source, Located(MapOr(TopLevelReader { source }))) {
        Ok((root, loc)) => Some(validate_file(source, &loc, root, errors)),
        Err(error) => {
            errors.push(*error);
            None
        }
    }
}

/// A node read through [`MapOr`]: a mapping, as its reader made it, or any other value.
pub(crate) enum MapOrOther<M> {
    Map(M),
    Other(Value),
}

/// The top-level mapping, as read.
pub(crate) struct TopLevel {
    /// Every entry, in file order. The value of the first `users` key, when it is a mapping,
    /// stands here empty: its entries were checked as they were read, into `users`.
    pub entries: Vec<(Node, Node)>,
    pub users: Option<CheckedUsers>,
}

/// Reads a mapping's entries; what [`MapOr`] does with a mapping.
trait MapReader<'de> {
    type Output;
    fn read<A: MapAccess<'de>>(self, map: A) -> Result<Self::Output, A::Error>;
}

/// Reads a node: a mapping through `M`, entry by entry; anything else into a [`Value`].
struct MapOr<M>(M);

impl<'de, M: MapReader<'de>> DeserializeSeed<'de> for MapOr<M> {
    type Value = MapOrOther<M::Output>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

/// Visitor methods that build the [`Value`] exactly as a [`Node`] would.
macro_rules! as_value {
    ($($method:ident($($arg:ident: $ty:ty)?);)*) => {$(
        fn $method<E: de::Error>(self, $($arg: $ty)?) -> Result<Self::Value, E> {
            ValueVisitor.$method($($arg)?).map(MapOrOther::Other)
        }
    )*};
}

impl<'de, M: MapReader<'de>> Visitor<'de> for MapOr<M> {
    type Value = MapOrOther<M::Output>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        self.0.read(map).map(MapOrOther::Map)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        ValueVisitor.visit_seq(seq).map(MapOrOther::Other)
    }

    as_value! {
        visit_unit();
        visit_none();
        visit_bool(v: bool);
        visit_i64(v: i64);
        visit_u64(v: u64);
        visit_i128(v: i128);
        visit_u128(v: u128);
        visit_f64(v: f64);
        visit_str(v: &str);
        visit_string(v: String);
        visit_bytes(v: &[u8]);
    }
}

/// Keeps top-level entries as nodes, except the value of `users`, which [`UsersReader`] reads.
struct TopLevelReader<'s> {
    source: &'s SourceFile,
}

impl<'de> MapReader<'de> for TopLevelReader<'_> {
    type Output = TopLevel;

    fn read<A: MapAccess<'de>>(self, mut map: A) -> Result<TopLevel, A::Error> {
        let mut top = TopLevel { entries: Vec::new(), users: None };
        // Only the first `users` key counts; validation reports any later one as a duplicate.
        let mut users_read = false;
        while let Some(key) = map.next_key::<Node>()? {
            let value = if !users_read && matches!(&key.value, Value::Str(k) if k == "users") {
                users_read = true;
                let reader = UsersReader { check: UsersCheck::new(self.source) };
                let (users, loc) = map.next_value_seed(Located(MapOr(reader)))?;
                match users {
                    MapOrOther::Map(users) => {
                        top.users = Some(users);
                        Node { value: Value::Map(Vec::new()), loc }
                    }
                    MapOrOther::Other(value) => Node { value, loc },
                }
            } else {
                map.next_value::<Node>()?
            };
            top.entries.push((key, value));
        }
        Ok(top)
    }
}

/// Checks each entry of `users` as soon as it is read; only its result is kept.
struct UsersReader<'s> {
    check: UsersCheck<'s>,
}

impl<'de> MapReader<'de> for UsersReader<'_> {
    type Output = CheckedUsers;

    fn read<A: MapAccess<'de>>(mut self, mut map: A) -> Result<CheckedUsers, A::Error> {
        while let Some(key) = map.next_key::<Node>()? {
            let value = map.next_value::<Node>()?;
            self.check.entry(&key, &value);
        }
        Ok(self.check.finish())
    }
}
