//! A small map from [`Attribute`] to a value: a sorted vector, not a tree.
//!
//! A user holds at most 16 attributes, and a directory may hold 100,000 users: a `BTreeMap`
//! allocates a 288-byte node per user whatever its size, this allocates exactly the entries.

use crate::model::attrs::Attribute;
use std::ops::Index;

/// Attributes and their values, kept sorted by attribute (the table order of [`Attribute`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttrMap<V> {
    entries: Vec<(Attribute, V)>,
}

impl<V> Default for AttrMap<V> {
    fn default() -> Self {
        AttrMap { entries: Vec::new() }
    }
}

impl<V> AttrMap<V> {
    /// An empty map.
    fn new() -> Self {
        Self::default()
    }

    fn position(&self, attr: Attribute) -> Result<usize, usize> {
        self.entries.binary_search_by_key(&attr, |(a, _)| *a)
    }

    /// The value of `attr`, if present.
    pub(crate) fn get(&self, attr: &Attribute) -> Option<&V> {
        self.position(*attr).ok().map(|i| &self.entries[i].1)
    }

    /// Set `attr` to `value`, returning the value it replaces.
    pub(crate) fn insert(&mut self, attr: Attribute, value: V) -> Option<V> {
        match self.position(attr) {
            Ok(i) => Some(std::mem::replace(&mut self.entries[i].1, value)),
            Err(i) => {
                self.entries.insert(i, (attr, value));
                None
            }
        }
    }

    /// Number of attributes present.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries.len()
    }

    /// Attribute and value pairs, in attribute order.
    #[cfg(test)]
    fn iter(&self) -> impl Iterator<Item = (&Attribute, &V)> {
        self.entries.iter().map(|(a, v)| (a, v))
    }
}

impl<V> FromIterator<(Attribute, V)> for AttrMap<V> {
    /// Later pairs win over earlier ones for the same attribute, as with `BTreeMap`.
    fn from_iter<I: IntoIterator<Item = (Attribute, V)>>(iter: I) -> Self {
        let mut map = AttrMap::new();
        map.extend(iter);
        map
    }
}

impl<V> Extend<(Attribute, V)> for AttrMap<V> {
    fn extend<I: IntoIterator<Item = (Attribute, V)>>(&mut self, iter: I) {
        for (attr, value) in iter {
            self.insert(attr, value);
        }
        self.entries.shrink_to_fit();
    }
}

impl<V, const N: usize> From<[(Attribute, V); N]> for AttrMap<V> {
    fn from(pairs: [(Attribute, V); N]) -> Self {
        pairs.into_iter().collect()
    }
}

impl<V> IntoIterator for AttrMap<V> {
    type Item = (Attribute, V);
    type IntoIter = std::vec::IntoIter<(Attribute, V)>;
    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

impl<'a, V> IntoIterator for &'a AttrMap<V> {
    type Item = (&'a Attribute, &'a V);
    type IntoIter = std::iter::Map<
        std::slice::Iter<'a, (Attribute, V)>,
        fn(&'a (Attribute, V)) -> (&'a Attribute, &'a V),
    >;
    fn into_iter(self) -> Self::IntoIter {
        self.entries.iter().map(|(a, v)| (a, v))
    }
}

impl<V> Index<&Attribute> for AttrMap<V> {
    type Output = V;
    /// Panics when `attr` is absent, like `BTreeMap`'s index; for tests and known-present keys.
    fn index(&self, attr: &Attribute) -> &V {
        match self.get(attr) {
            Some(value) => value,
            None => panic!("attribute {attr:?} is not in the map"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    proptest! {
        /// Behaves as a `BTreeMap` under the same inserts.
        #[test]
        fn matches_a_btreemap(ops in prop::collection::vec((0..Attribute::ALL.len(), any::<u8>()), 0..64)) {
            let mut ours = AttrMap::new();
            let mut reference = BTreeMap::new();
            for (index, value) in ops {
                let attr = Attribute::ALL[index];
                prop_assert_eq!(ours.insert(attr, value), reference.insert(attr, value));
                prop_assert_eq!(ours.len(), reference.len());
            }
            let pairs: Vec<_> = ours.iter().map(|(a, v)| (*a, *v)).collect();
            let expected: Vec<_> = reference.iter().map(|(a, v)| (*a, *v)).collect();
            prop_assert_eq!(pairs, expected);
            for attr in Attribute::ALL {
                prop_assert_eq!(ours.get(&attr), reference.get(&attr));
            }
        }
    }

    #[test]
    fn later_pairs_win_when_collecting() {
        let map: AttrMap<u8> =
            [(Attribute::City, 1), (Attribute::Company, 2), (Attribute::City, 3)].into();
        assert_eq!(map.len(), 2);
        assert_eq!(map[&Attribute::City], 3);
    }
}
