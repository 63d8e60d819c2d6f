//! The repository stands alone: no tracked file cites a document or a path outside it, and
//! every link to a heading of the README or a page of `docs/` (from code, help texts, the
//! schema, the man page, the README or the pages themselves) names a heading that exists.

use super::support::repo_root;
use std::collections::BTreeSet;

/// Tracked files that are copied from elsewhere as they are, and not checked.
const VENDORED: &str = "tests/data/workmail-api/";

/// Text that points outside the repository: the specification and engineering notes the
/// project was started from, and the directory they live in. Built from parts so that this
/// file does not match itself.
fn outside_references() -> Vec<String> {
    [("SPEC", " §"), ("SPEC", ".md"), ("ENGINEERING", ".md"), ("../", "shared"), ("/work", "/")]
        .iter()
        .map(|(a, b)| format!("{a}{b}"))
        .collect()
}

/// Every tracked file that is UTF-8 text, as (path, text); vendored and binary files left out.
fn tracked_text_files() -> Vec<(String, String)> {
    let output = std::process::Command::new("git")
        .args(["ls-files", "-z"])
        .current_dir(repo_root())
        .output()
        .expect("git runs");
    assert!(output.status.success(), "git ls-files: {}", String::from_utf8_lossy(&output.stderr));
    let list = String::from_utf8(output.stdout).expect("UTF-8 paths");
    let files: Vec<(String, String)> = list
        .split('\0')
        .filter(|path| !path.is_empty() && !path.starts_with(VENDORED))
        .filter_map(|path| {
            // A file deleted in the working tree but not yet in the index has nothing to check.
            let bytes = std::fs::read(repo_root().join(path)).ok()?;
            let text = String::from_utf8(bytes).ok().filter(|t| !t.contains('\0'))?;
            Some((path.to_string(), text))
        })
        .collect();
    assert!(files.len() > 50, "only {} tracked text files found", files.len());
    files
}

/// `path:line: text` for every line of `text` holding one of `needles`.
fn lines_containing(path: &str, text: &str, needles: &[String]) -> Vec<String> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| needles.iter().any(|n| line.contains(n.as_str())))
        .map(|(i, line)| format!("{path}:{}: {}", i + 1, line.trim()))
        .collect()
}

#[test]
fn self_contained_no_tracked_file_cites_anything_outside_the_repository() {
    let needles = outside_references();
    let found: Vec<String> = tracked_text_files()
        .iter()
        .flat_map(|(path, text)| lines_containing(path, text, &needles))
        .collect();
    assert!(
        found.is_empty(),
        "describe the rule or link the page of docs/ instead of:\n{}",
        found.join("\n")
    );
}

#[test]
fn self_contained_outside_references_are_found() {
    let needles = outside_references();
    let text = format!("ok\n// see {}3\nfine\n", needles[0]);
    assert_eq!(
        lines_containing("a.rs", &text, &needles),
        [format!("a.rs:2: // see {}3", needles[0])]
    );
    let path = format!("x {}workmail-api/service-2.json", needles[3]);
    assert_eq!(lines_containing("b.rs", &path, &needles).len(), 1);
    assert!(lines_containing("c.md", "BENCHMARKS.md §5 and spec: in YAML", &needles).is_empty());
}

/// GitHub's anchor for a heading: lowercase; letters, digits, `-` and `_` kept, spaces become
/// `-`, everything else (punctuation, backticks) dropped.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// The anchors of a markdown text's headings (fenced code skipped), with GitHub's `-1`, `-2`
/// suffixes for repeated headings.
fn anchors(markdown: &str) -> BTreeSet<String> {
    let mut anchors = BTreeSet::new();
    let mut fenced = false;
    for line in markdown.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        let Some(heading) = line.strip_prefix('#') else { continue };
        if fenced {
            continue;
        }
        let heading = heading.trim_start_matches('#');
        if !heading.starts_with(' ') {
            continue;
        }
        let base = slug(heading);
        let mut anchor = base.clone();
        let mut n = 0;
        while !anchors.insert(anchor.clone()) {
            n += 1;
            anchor = format!("{base}-{n}");
        }
    }
    anchors
}

/// The anchors that follow each `prefix` in `text` (`commands.md#exit-codes` gives
/// `exit-codes`), with their line numbers. The prefix must start a word: `commands.md#` is not
/// found in `subcommands.md#`.
fn linked_anchors(text: &str, prefix: &str) -> Vec<(usize, String)> {
    let mut linked = Vec::new();
    for (i, line) in text.lines().enumerate() {
        for (at, _) in line.match_indices(prefix) {
            let before = line[..at].chars().next_back();
            let word = |c: char| c.is_alphanumeric() || c == '-' || c == '_';
            if prefix.starts_with(word) && before.is_some_and(word) {
                continue;
            }
            let anchor: String = line[at + prefix.len()..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '-' || *c == '_')
                .collect();
            // A bare prefix (as this file's own string literals hold) links nowhere.
            if !anchor.is_empty() {
                linked.push((i + 1, anchor));
            }
        }
    }
    linked
}

/// The pages links may name a heading of, by file name (`README.md`, `commands.md`), with the
/// anchors of their headings: the README and every page of `docs/`.
fn doc_pages() -> std::collections::BTreeMap<String, BTreeSet<String>> {
    let mut paths = vec![repo_root().join("README.md")];
    for entry in std::fs::read_dir(repo_root().join("docs")).expect("docs/") {
        let path = entry.expect("a docs/ entry").path();
        if path.extension().is_some_and(|e| e == "md") {
            paths.push(path);
        }
    }
    paths
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).expect("a doc page");
            let name = path.file_name().expect("a file name").to_string_lossy().into_owned();
            (name, anchors(&text))
        })
        .collect()
}

/// `path:line: PAGE#anchor` for every link in `text` to a heading its page lacks: `PAGE#anchor`
/// for each page in `pages` (whatever directory precedes it), and `](#anchor)` when `text` is the
/// page `own` itself.
fn broken_links(
    path: &str,
    text: &str,
    own: Option<&str>,
    pages: &std::collections::BTreeMap<String, BTreeSet<String>>,
) -> Vec<String> {
    let mut prefixes: Vec<(String, &BTreeSet<String>, String)> =
        pages.iter().map(|(name, known)| (format!("{name}#"), known, name.clone())).collect();
    if let Some(known) = own.and_then(|name| pages.get(name)) {
        prefixes.push(("](#".to_string(), known, String::new()));
    }
    let mut broken = Vec::new();
    for (prefix, known, name) in prefixes {
        for (line, anchor) in linked_anchors(text, &prefix) {
            if !known.contains(&anchor) {
                broken.push((line, format!("{path}:{line}: {name}#{anchor}")));
            }
        }
    }
    broken.sort_by_key(|(line, _)| *line);
    broken.into_iter().map(|(_, message)| message).collect()
}

#[test]
fn self_contained_links_into_the_docs_name_existing_headings() {
    let pages = doc_pages();
    assert!(pages.len() >= 10, "only {} pages in README.md and docs/", pages.len());
    let headings: usize = pages.values().map(BTreeSet::len).sum();
    assert!(headings >= 90, "only {headings} headings in README.md and docs/");
    let mut broken = Vec::new();
    let mut links = 0;
    for (path, text) in tracked_text_files() {
        let name = path.rsplit('/').next().unwrap_or_default();
        let own = (path == "README.md" || path == format!("docs/{name}")).then_some(name);
        links += pages.keys().map(|p| linked_anchors(&text, &format!("{p}#")).len()).sum::<usize>();
        broken.extend(broken_links(&path, &text, own, &pages));
    }
    assert!(links >= 50, "only {links} links to headings of the docs found");
    assert!(broken.is_empty(), "links to headings the docs lack:\n{}", broken.join("\n"));
}

#[test]
fn self_contained_anchors_follow_github_rules() {
    assert_eq!(slug("Full-dataset UpdateUser"), "full-dataset-updateuser");
    assert_eq!(slug(" Microsoft 365 CSV export"), "microsoft-365-csv-export");
    assert_eq!(slug("`apply --plan`: saved plans"), "apply---plan-saved-plans");
    assert_eq!(slug("Retries and throttling"), "retries-and-throttling");
    let known = anchors("# Top\n## Logs\n```\n# not a heading\n```\n### Logs\n#hashtag\n");
    assert_eq!(
        known.into_iter().collect::<Vec<_>>(),
        ["logs", "logs-1", "top"].map(String::from).to_vec()
    );
    let pages: std::collections::BTreeMap<String, BTreeSet<String>> = [
        ("commands.md".to_string(), anchors("# Commands\n## Exit codes\n")),
        ("README.md".to_string(), anchors("# Top\n## Quickstart\n")),
    ]
    .into();
    // A broken link written out here would break the test above.
    let text = format!(
        "see docs/commands.md#exit-codes, {c}#exit-code, sub{c}#x.\n[x](#exit-codes) [q](../{r}#quickstart) [i]({r}#install)",
        c = "commands.md",
        r = "README.md"
    );
    let expected = |path: &str| {
        [format!("{path}:1: {}#exit-code", "commands.md"), format!("{path}:2: README.md#install")]
    };
    assert_eq!(broken_links("a.rs", &text, None, &pages), expected("a.rs"));
    assert_eq!(
        broken_links("docs/commands.md", &text, Some("commands.md"), &pages),
        expected("docs/commands.md")
    );
    let mut in_readme = expected("README.md").to_vec();
    in_readme.push("README.md:2: #exit-codes".to_string());
    assert_eq!(broken_links("README.md", &text, Some("README.md"), &pages), in_readme);
}
