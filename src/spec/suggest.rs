//! "Did you mean …?" for misspelled keys and values.

/// The candidate closest to `found`, if any is close enough to be a plausible typo.
///
/// First, a match that ignores case, `_` and `-` (so `DisplayName`, `display-name` and
/// `DISPLAY_NAME` all find `display_name`); then the smallest edit distance, accepted when it
/// is at most a third of the word (a typo, not a different word).
pub(crate) fn did_you_mean<'a>(found: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let folded = fold(found);
    if let Some(c) = candidates.iter().find(|c| fold(c) == folded) {
        return Some(c);
    }
    let (best, distance) = candidates
        .iter()
        .map(|c| (*c, strsim::levenshtein(&folded, &fold(c))))
        .min_by_key(|(_, d)| *d)?;
    let limit = (folded.chars().count().max(best.len()) / 3).max(1);
    (distance <= limit).then_some(best)
}

/// Lowercase, without `_`, `-` and spaces.
fn fold(s: &str) -> String {
    s.chars().filter(|c| !matches!(c, '_' | '-' | ' ')).flat_map(char::to_lowercase).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEYS: [&str; 4] =
        ["display_name", "first_name", "zip_code", "hidden_from_global_address_list"];

    #[test]
    fn pascal_case_and_kebab_case_find_the_snake_case_key() {
        assert_eq!(did_you_mean("DisplayName", &KEYS), Some("display_name"));
        assert_eq!(did_you_mean("zip-code", &KEYS), Some("zip_code"));
        assert_eq!(did_you_mean("FIRST_NAME", &KEYS), Some("first_name"));
    }

    #[test]
    fn typos_are_found_unrelated_words_are_not() {
        assert_eq!(did_you_mean("dispaly_name", &KEYS), Some("display_name"));
        assert_eq!(did_you_mean("zipcod", &KEYS), Some("zip_code"));
        assert_eq!(did_you_mean("manager", &KEYS), None);
        assert_eq!(did_you_mean("", &KEYS), None);
    }
}
