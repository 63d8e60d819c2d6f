//! A [`DeserializeSeed`]'s value together with where its YAML node is written.
//!
//! `serde_saphyr::Spanned<T>` gives a node's location only for `T: Deserialize`, but streaming
//! the `users` mapping takes a seed (its visitor carries the validator's state). `Spanned<T>`
//! asks the deserializer for the newtype struct `__yaml_spanned`; serde-saphyr answers with the
//! map `{<marker>: true, value: T, referenced: Location, defined: Location}`, the locations taken
//! before the value is read (`src/spanned.rs` and `src/de/spanned_deser.rs` of serde-saphyr 2.2).
//! We ask the same and read `value` with the seed. That exchange is serde-saphyr's internal
//! protocol, not its API: should a release change it, we return an error (never a wrong
//! position), and the tests of this file and of `validate.rs` fail.

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_saphyr::Location;
use std::fmt;

/// The newtype name serde-saphyr answers with a node's locations.
const SPANNED: &str = "__yaml_spanned";
/// The first key of serde-saphyr's answer; any other map is not that answer.
const MARKER: &str = "__serde_saphyr_private_spanned";

/// Deserializes with the inner seed and returns its value with the node's location (for an
/// alias: where the alias is written, as [`super::raw::Node`] has it).
pub(crate) struct Located<S>(pub S);

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for Located<S> {
    type Value = (S::Value, Location);

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_newtype_struct(SPANNED, LocatedVisitor(self.0))
    }
}

struct LocatedVisitor<S>(S);

impl<'de, S: DeserializeSeed<'de>> Visitor<'de> for LocatedVisitor<S> {
    type Value = (S::Value, Location);

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a YAML node with its location")
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        if map.next_key::<String>()?.as_deref() != Some(MARKER) {
            return Err(de::Error::custom("serde-saphyr did not report the node's location"));
        }
        map.next_value::<IgnoredAny>()?;
        let mut seed = Some(self.0);
        let mut value = None;
        let mut referenced = None;
        while let Some(field) = map.next_key::<String>()? {
            match field.as_str() {
                "value" => match seed.take() {
                    Some(seed) => value = Some(map.next_value_seed(seed)?),
                    None => return Err(de::Error::duplicate_field("value")),
                },
                "referenced" => referenced = Some(map.next_value::<Location>()?),
                // A location only reads as one: it refuses `IgnoredAny`.
                "defined" => {
                    map.next_value::<Location>()?;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        match (value, referenced) {
            (Some(value), Some(referenced)) => Ok((value, referenced)),
            _ => Err(de::Error::custom("serde-saphyr did not report the node's location")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Located;
    use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
    use serde_saphyr::Location;
    use std::marker::PhantomData;

    /// The location of the value of a mapping's second key, found through [`Located`].
    struct SecondValue;

    impl<'de> Visitor<'de> for SecondValue {
        type Value = Location;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a mapping of two keys")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Location, A::Error> {
            map.next_entry::<IgnoredAny, IgnoredAny>()?;
            map.next_key::<IgnoredAny>()?;
            let (_, loc) = map.next_value_seed(Located(PhantomData::<IgnoredAny>))?;
            Ok(loc)
        }
    }

    fn second_value(text: &str) -> (u64, u64) {
        let loc =
            serde_saphyr::with_deserializer_from_str(text, |de| de.deserialize_map(SecondValue))
                .expect("valid YAML");
        (loc.line(), loc.column())
    }

    #[test]
    fn a_seed_gets_the_location_of_its_node_or_of_its_alias() {
        assert_eq!(second_value("a: 1\nb:\n  - x\n"), (3, 3));
        assert_eq!(second_value("a: &x [1]\nb:   *x\n"), (2, 6));
        let root = serde_saphyr::with_deserializer_from_str("\n\n  c: 1\n", |de| {
            Located(PhantomData::<IgnoredAny>).deserialize(de)
        });
        let (_, loc) = root.expect("valid YAML");
        assert_eq!((loc.line(), loc.column()), (3, 3));
    }
}
