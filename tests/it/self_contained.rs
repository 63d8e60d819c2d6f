//! The repository stands alone: no tracked file cites a document or a path outside it, and
//! every link to a heading of `docs/reference.md` (from code, help texts, the schema, the
//! README or the reference itself) names a heading that exists.

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
        "describe the rule or link docs/reference.md instead of:\n{}",
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

/// The anchors that follow each `prefix` in `text` (`reference.md#exit-codes` gives
/// `exit-codes`), with their line numbers.
fn linked_anchors(text: &str, prefix: &str) -> Vec<(usize, String)> {
    let mut linked = Vec::new();
    for (i, line) in text.lines().enumerate() {
        for (at, _) in line.match_indices(prefix) {
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

/// `path:line: #anchor` for every link in `text` after `prefix` to an anchor not in `known`.
fn broken_links(path: &str, text: &str, prefix: &str, known: &BTreeSet<String>) -> Vec<String> {
    linked_anchors(text, prefix)
        .into_iter()
        .filter(|(_, anchor)| !known.contains(anchor))
        .map(|(line, anchor)| format!("{path}:{line}: #{anchor}"))
        .collect()
}

#[test]
fn self_contained_links_into_the_reference_name_existing_headings() {
    let reference =
        std::fs::read_to_string(repo_root().join("docs/reference.md")).expect("docs/reference.md");
    let known = anchors(&reference);
    assert!(known.len() > 50, "only {} headings in docs/reference.md", known.len());
    let mut broken = broken_links("docs/reference.md", &reference, "](#", &known);
    let mut links = 0;
    for (path, text) in tracked_text_files() {
        links += linked_anchors(&text, "reference.md#").len();
        broken.extend(broken_links(&path, &text, "reference.md#", &known));
    }
    assert!(links >= 10, "only {links} links into docs/reference.md found");
    assert!(broken.is_empty(), "links to headings docs/reference.md lacks:\n{}", broken.join("\n"));
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
    let known = anchors("## Exit codes\n");
    // A broken link written out here would break the test above.
    let text =
        format!("see reference.md#exit-codes, {}#exit-code.\n[x](#exit-codes)", "reference.md");
    assert_eq!(
        broken_links("a.rs", &text, "reference.md#", &known),
        ["a.rs:1: #exit-code".to_string()]
    );
    assert!(broken_links("a.md", &text, "](#", &known).is_empty());
}
