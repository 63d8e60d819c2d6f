//! The managed attributes of one declared user, packed in a single allocation.
//!
//! A directory of 100,000 users declares over a million values. Held as a map of owned strings
//! they cost ~40 bytes of entry plus a 32-byte allocation each — about 0.9 KB per user, most of
//! the memory of a plan. Packed, a user costs its value bytes plus a few bytes per field.

use super::model::DesiredValue;
use crate::model::attr_map::AttrMap;
use crate::model::attrs::{AttrValue, Attribute};
use std::fmt;

/// Tags of the packed encoding: per field, in attribute order, the attribute's index (one byte),
/// a tag, and for text a little-endian `u32` length and the UTF-8 bytes.
const EMPTY: u8 = 0;
const FALSE: u8 = 1;
const TRUE: u8 = 2;
const TEXT: u8 = 3;

/// A desired value, borrowed from [`DesiredFields`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DesiredValueRef<'a> {
    /// `null` or `""`: the live value must be empty.
    Empty,
    /// A non-empty string.
    Text(&'a str),
    /// `hidden_from_global_address_list`.
    Bool(bool),
}

impl DesiredValueRef<'_> {
    /// Whether the API value `value` is this value (without building the API form).
    pub(crate) fn is(&self, value: &AttrValue) -> bool {
        match (self, value) {
            (DesiredValueRef::Empty, AttrValue::Text(s)) => s.is_empty(),
            (DesiredValueRef::Text(desired), AttrValue::Text(s)) => desired == s,
            (DesiredValueRef::Bool(desired), AttrValue::Bool(b)) => desired == b,
            _ => false,
        }
    }

    /// The value as the API carries it (`""` for empty).
    pub(crate) fn to_api(self) -> AttrValue {
        match self {
            DesiredValueRef::Empty => AttrValue::Text(String::new()),
            DesiredValueRef::Text(s) => AttrValue::Text(s.to_string()),
            DesiredValueRef::Bool(b) => AttrValue::Bool(b),
        }
    }

    /// An owned copy.
    pub(crate) fn into_owned(self) -> DesiredValue {
        match self {
            DesiredValueRef::Empty => DesiredValue::Empty,
            DesiredValueRef::Text(s) => DesiredValue::Text(s.to_string()),
            DesiredValueRef::Bool(b) => DesiredValue::Bool(b),
        }
    }
}

/// The managed attributes of a user and their desired values; an attribute not here is
/// unmanaged.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct DesiredFields {
    packed: Box<[u8]>,
}

impl DesiredFields {
    /// Attribute and value pairs, in attribute order.
    pub(crate) fn iter(&self) -> Fields<'_> {
        Fields { rest: &self.packed }
    }

    /// The managed attributes, in order.
    #[cfg(test)]
    fn keys(&self) -> impl Iterator<Item = Attribute> + '_ {
        self.iter().map(|(attr, _)| attr)
    }

    /// The desired value of `attr`, if managed.
    #[cfg(test)]
    pub(crate) fn get(&self, attr: Attribute) -> Option<DesiredValueRef<'_>> {
        self.iter().find_map(|(a, value)| (a == attr).then_some(value))
    }

    /// Whether `attr` is managed.
    #[cfg(test)]
    pub(crate) fn contains_key(&self, attr: Attribute) -> bool {
        self.get(attr).is_some()
    }

    /// Number of managed attributes.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.iter().count()
    }
}

impl FromIterator<(Attribute, DesiredValue)> for DesiredFields {
    /// Later pairs win over earlier ones for the same attribute, as with a map.
    fn from_iter<I: IntoIterator<Item = (Attribute, DesiredValue)>>(iter: I) -> Self {
        let sorted: AttrMap<DesiredValue> = iter.into_iter().collect();
        let mut packed = Vec::new();
        for (attr, value) in &sorted {
            packed.push(*attr as u8);
            match value {
                DesiredValue::Empty => packed.push(EMPTY),
                DesiredValue::Bool(false) => packed.push(FALSE),
                DesiredValue::Bool(true) => packed.push(TRUE),
                DesiredValue::Text(text) => {
                    // Values are at most a few hundred characters (validated); a longer one
                    // would be cut at 4 GiB, which no file can hold (64 MiB limit).
                    let len = u32::try_from(text.len()).unwrap_or(u32::MAX);
                    packed.push(TEXT);
                    packed.extend_from_slice(&len.to_le_bytes());
                    packed.extend_from_slice(&text.as_bytes()[..len as usize]);
                }
            }
        }
        DesiredFields { packed: packed.into_boxed_slice() }
    }
}

impl<const N: usize> From<[(Attribute, DesiredValue); N]> for DesiredFields {
    fn from(pairs: [(Attribute, DesiredValue); N]) -> Self {
        pairs.into_iter().collect()
    }
}

impl fmt::Debug for DesiredFields {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

/// Iterator over [`DesiredFields`].
pub(crate) struct Fields<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Fields<'a> {
    type Item = (Attribute, DesiredValueRef<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        let (&index, rest) = self.rest.split_first()?;
        let (&tag, rest) = rest.split_first()?;
        let attr = *Attribute::ALL.get(usize::from(index))?;
        let (value, rest) = match tag {
            EMPTY => (DesiredValueRef::Empty, rest),
            FALSE => (DesiredValueRef::Bool(false), rest),
            TRUE => (DesiredValueRef::Bool(true), rest),
            _ => {
                let (len, rest) = rest.split_first_chunk::<4>()?;
                let len = u32::from_le_bytes(*len) as usize;
                let (bytes, rest) = rest.split_at_checked(len)?;
                // Written from a `&str` by `from_iter`, so always UTF-8.
                (DesiredValueRef::Text(std::str::from_utf8(bytes).ok()?), rest)
            }
        };
        self.rest = rest;
        Some((attr, value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    fn any_value() -> impl Strategy<Value = DesiredValue> {
        prop_oneof![
            Just(DesiredValue::Empty),
            any::<bool>().prop_map(DesiredValue::Bool),
            "\\PC{1,40}".prop_map(DesiredValue::Text),
        ]
    }

    proptest! {
        /// Packing keeps exactly what a map of the same pairs holds.
        #[test]
        fn holds_what_a_map_holds(
            pairs in prop::collection::vec((0..Attribute::ALL.len(), any_value()), 0..40)
        ) {
            let pairs: Vec<_> = pairs.into_iter().map(|(i, v)| (Attribute::ALL[i], v)).collect();
            let packed: DesiredFields = pairs.iter().cloned().collect();
            let map: BTreeMap<_, _> = pairs.into_iter().collect();
            let unpacked: Vec<_> = packed.iter().map(|(a, v)| (a, v.into_owned())).collect();
            let expected: Vec<_> = map.into_iter().collect();
            prop_assert_eq!(packed.len(), expected.len());
            prop_assert_eq!(unpacked, expected);
        }
    }

    #[test]
    fn views_compare_with_api_values() {
        let fields = DesiredFields::from([
            (Attribute::City, DesiredValue::Empty),
            (Attribute::Office, DesiredValue::Text("HQ".into())),
            (Attribute::HiddenFromGlobalAddressList, DesiredValue::Bool(true)),
        ]);
        let city = fields.get(Attribute::City).expect("managed");
        assert!(city.is(&AttrValue::Text(String::new())));
        assert!(!city.is(&AttrValue::Bool(false)));
        assert_eq!(fields.get(Attribute::Office), Some(DesiredValueRef::Text("HQ")));
        assert_eq!(
            fields.get(Attribute::HiddenFromGlobalAddressList).map(|v| v.to_api()),
            Some(AttrValue::Bool(true))
        );
        assert!(!fields.contains_key(Attribute::Company));
        assert_eq!(
            fields.keys().collect::<Vec<_>>(),
            [Attribute::City, Attribute::Office, Attribute::HiddenFromGlobalAddressList]
        );
    }
}
