//! The layers hold: each part of `src/` imports only the parts below it, so the plan stays pure,
//! the emulator stays a server the client knows nothing of, and the engine never needs a
//! terminal. Read from the sources, so a new `use` that crosses a layer fails here.

use std::path::{Path, PathBuf};

/// A part of `src/` (a directory or a file) and the modules of this crate it must not import.
const RULES: &[(&str, &[&str])] = &[
    ("plan", &["directory", "emulator", "cli", "reconcile", "apply", "render", "export"]),
    ("spec", &["directory", "emulator", "cli", "plan", "apply", "reconcile", "live"]),
    ("emulator", &["plan", "apply", "reconcile", "cli", "directory", "export", "render"]),
    ("directory", &["emulator", "cli", "plan", "apply", "reconcile", "render"]),
    ("reconcile", &["cli", "emulator"]),
    ("render", &["directory", "emulator", "cli", "reconcile", "apply"]),
    ("model/live.rs", &["directory", "emulator", "cli", "plan", "spec", "apply", "reconcile"]),
    ("model/rate_cap.rs", &["directory", "emulator", "cli", "plan", "spec", "apply", "reconcile"]),
];

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
    files
}

/// The crate modules a source text names, each with its line: `crate::m` and every first
/// segment of a `crate::{a, b::c}` group.
fn crate_modules(text: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let mut rest = line;
        while let Some(at) = rest.find("crate::") {
            rest = &rest[at + "crate::".len()..];
            if let Some(group) = rest.strip_prefix('{') {
                for item in group.split([',', '}']) {
                    let item = item.trim();
                    let name: String =
                        item.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                    if !name.is_empty() && name != "self" {
                        found.push((index + 1, name));
                    }
                }
            } else {
                let name: String =
                    rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                found.push((index + 1, name));
            }
        }
    }
    found
}

#[test]
fn the_checker_sees_plain_grouped_and_nested_imports() {
    let text = "use crate::directory::Directory;\nuse crate::{attrs, cli::Exit};\nlet x = crate::plan::diff(a);";
    let names: Vec<(usize, String)> = crate_modules(text);
    let expected = [(1, "directory"), (2, "attrs"), (2, "cli"), (3, "plan")];
    assert_eq!(names, expected.map(|(l, n)| (l, n.to_string())));
}

#[test]
fn no_part_of_src_imports_a_layer_above_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut crossings = Vec::new();
    for (part, forbidden) in RULES {
        let files = rust_files(&src.join(part));
        assert!(!files.is_empty(), "src/{part} has no Rust files: the rule checks nothing");
        for file in files {
            let text = std::fs::read_to_string(&file).expect("read source");
            for (line, module) in crate_modules(&text) {
                if forbidden.contains(&module.as_str()) {
                    let shown = file.strip_prefix(&src).unwrap_or(&file).display().to_string();
                    crossings.push(format!("src/{shown}:{line} imports crate::{module}"));
                }
            }
        }
    }
    assert!(crossings.is_empty(), "layers crossed:\n{}", crossings.join("\n"));
}
