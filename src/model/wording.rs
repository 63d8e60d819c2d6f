//! Counted nouns and lists of names in messages: one rule for every command's summaries.

/// `1 file`, `2 files`.
pub(crate) fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// `a, b, c`: the first `at_most` of `names` joined with commas, then ` and N more` for the rest.
pub(crate) fn first_names(names: &[String], at_most: usize) -> String {
    let (first, rest) = names.split_at(names.len().min(at_most));
    let more = if rest.is_empty() { String::new() } else { format!(" and {} more", rest.len()) };
    format!("{}{more}", first.join(", "))
}
