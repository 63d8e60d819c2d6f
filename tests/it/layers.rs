//! The layers hold: every part of `src/` has a rule of its own naming the parts it may import,
//! so the plan stays pure, the emulator stays a server the client knows nothing of, the engine
//! never needs a terminal, and the CLI and the controller go through the engine's door
//! (`reconcile`) instead of reaching past it. Read from the sources, so a new `use` outside the
//! drawing, or a new part without a rule, fails here. docs/decisions.md draws the same table.

use std::path::{Path, PathBuf};

/// Every part of `src/` (a directory `x/` or a file `x.rs`, named `x`) and the parts it may
/// import. `lib.rs`, the crate root that declares them, is the only file without a rule.
const RULES: &[(&str, &[&str])] = &[
    ("main", &["cli"]),
    ("cli", &["reconcile", "render", "redaction", "export", "emulator", "controller", "model"]),
    ("controller", &["reconcile", "render", "redaction", "http", "model"]),
    ("reconcile", &["spec", "directory", "plan", "apply", "redaction", "model"]),
    ("export", &["reconcile", "spec", "directory", "model"]),
    ("apply", &["directory", "plan", "redaction", "model"]),
    ("render", &["plan", "apply", "redaction", "model"]),
    ("plan", &["spec", "model"]),
    ("spec", &["model"]),
    ("directory", &["model"]),
    ("emulator", &["spec", "http", "model"]),
    ("redaction", &["model"]),
    ("http", &[]),
    ("model", &[]),
];

/// The crate root: it declares the parts and imports none.
const ROOT: &str = "lib";

/// Macros exported at the crate root (`crate::name!`), each with the part that defines it: a
/// use of one counts as an import of that part.
const ROOT_MACROS: &[(&str, &str)] = &[("forward_mailbox_calls", "directory")];

/// A file of tests in process (`*_tests.rs`, declared under `#[cfg(test)]`) may also start the
/// emulator: it is compiled into no build a user runs.
const TEST_FILE_SUFFIX: &str = "_tests.rs";
const TEST_FILE_MAY_IMPORT: &str = "emulator";

/// The directory or the file of a part.
fn part_path(src: &Path, part: &str) -> PathBuf {
    let dir = src.join(part);
    if dir.is_dir() { dir } else { src.join(format!("{part}.rs")) }
}

fn rust_files(path: &Path) -> Vec<PathBuf> {
    if path.is_file() {
        return vec![path.to_path_buf()];
    }
    let mut files = Vec::new();
    for entry in std::fs::read_dir(path).expect("read src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files.sort();
    files
}

/// The first segment of every item of a `{…}` group (`text` starts after the `{`), across
/// lines, nested groups inside an item skipped; `self` is left out.
fn group_items(text: &str) -> Vec<String> {
    let mut items = vec![String::new()];
    let mut depth = 0;
    for c in text.chars() {
        match c {
            '}' if depth == 0 => break,
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => items.push(String::new()),
            c => items.last_mut().expect("an item").push(c),
        }
    }
    items
        .iter()
        .map(|item| {
            item.trim_start().chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect()
        })
        .filter(|name: &String| !name.is_empty() && name != "self")
        .collect()
}

/// The crate modules a source text names, each with its line: `crate::m` (or `prefix m` for
/// another root such as `workmail_reconcile::`) and every first segment of a `crate::{a, b::c}`
/// group, also one spread over several lines.
fn named_modules(text: &str, prefix: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(at) = text[from..].find(prefix) {
        let start = from + at;
        from = start + prefix.len();
        let before = text[..start].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue; // `mycrate::`, not `crate::`
        }
        let line = text[..start].matches('\n').count() + 1;
        let rest = &text[from..];
        if let Some(group) = rest.strip_prefix('{') {
            found.extend(group_items(group).into_iter().map(|name| (line, name)));
        } else {
            let name: String =
                rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            if !name.is_empty() {
                found.push((line, name));
            }
        }
    }
    found
}

/// The crate modules a source text names through `crate::`.
fn crate_modules(text: &str) -> Vec<(usize, String)> {
    named_modules(text, "crate::")
}

/// Every import in `src` outside the drawing: a part with no rule, or a part naming a module
/// its rule does not list.
fn crossings(src: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut parts: Vec<PathBuf> =
        std::fs::read_dir(src).expect("read src").map(|e| e.expect("entry").path()).collect();
    parts.sort();
    for path in parts {
        let name = path.file_name().expect("name").to_string_lossy().into_owned();
        let Some(part) = name.strip_suffix(".rs").or(path.is_dir().then_some(name.as_str())) else {
            continue;
        };
        if part == ROOT {
            continue;
        }
        let Some((_, allowed)) = RULES.iter().find(|(name, _)| *name == part) else {
            found.push(format!("src/{name} has no rule: add one to RULES with what it may import"));
            continue;
        };
        for file in rust_files(&path) {
            let text = std::fs::read_to_string(&file).expect("read source");
            let mut names = crate_modules(&text);
            if part == "main" {
                names.extend(named_modules(&text, "workmail_reconcile::"));
            }
            let test_file = file.to_string_lossy().ends_with(TEST_FILE_SUFFIX);
            for (line, name) in names {
                let module = ROOT_MACROS
                    .iter()
                    .find(|(macro_name, _)| *macro_name == name)
                    .map_or(name, |(_, part)| part.to_string());
                let test_import = test_file && module == TEST_FILE_MAY_IMPORT;
                if module != part && !allowed.contains(&module.as_str()) && !test_import {
                    let shown = file.strip_prefix(src).unwrap_or(&file).display().to_string();
                    found.push(format!("src/{shown}:{line} imports crate::{module}"));
                }
            }
        }
    }
    found
}

#[test]
fn the_checker_sees_plain_grouped_nested_and_multi_line_imports() {
    let text = "use crate::directory::Directory;\nuse crate::{attrs, cli::Exit};\n\
                let x = crate::plan::diff(a);\nuse crate::{\n    model::{live, attrs},\n    \
                spec::Spec,\n    self,\n};\nuse mycrate::apply;";
    let names: Vec<(usize, String)> = crate_modules(text);
    let expected =
        [(1, "directory"), (2, "attrs"), (2, "cli"), (3, "plan"), (4, "model"), (4, "spec")];
    assert_eq!(names, expected.map(|(l, n)| (l, n.to_string())));
}

#[test]
fn an_arrow_outside_the_drawing_and_a_part_without_a_rule_fail() {
    let dir = tempfile::tempdir().expect("tempdir");
    let src = dir.path();
    let write = |path: &str, text: &str| {
        let path = src.join(path);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    };
    write("lib.rs", "pub mod plan;\npub mod render;\npub mod extra;\n");
    write("plan/mod.rs", "use crate::model::attrs::Attribute;\nuse crate::spec::DesiredState;\n");
    write(
        "plan/diff.rs",
        "use super::Plan;\nuse crate::{\n    model::live,\n    render::text,\n};\n",
    );
    write("render/mod.rs", "use crate::plan::Plan;\ncrate::forward_mailbox_calls!(inner);\n");
    write("extra.rs", "use crate::model::live;\n");
    assert_eq!(
        crossings(src),
        [
            "src/extra.rs has no rule: add one to RULES with what it may import",
            "src/plan/diff.rs:2 imports crate::render",
            "src/render/mod.rs:2 imports crate::directory",
        ]
    );
}

#[test]
fn every_part_of_src_has_a_rule_and_imports_only_what_it_allows() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    for (part, _) in RULES {
        let files = rust_files(&part_path(&src, part));
        assert!(!files.is_empty(), "src/{part} has no Rust files: its rule checks nothing");
    }
    let found = crossings(&src);
    assert!(found.is_empty(), "layers crossed:\n{}", found.join("\n"));
}
