//! `workmail-reconcile validate` and `schema` on the corpus in `tests/corpus` and on the
//! desired-state examples in `examples/users`.

use crate::support::repo_root;
use assert_cmd::Command;
use std::time::Instant;

/// Run the real binary from the repository root (so paths in output are relative).
fn run(args: &[&str]) -> (i32, String, String) {
    let output = Command::cargo_bin("workmail-reconcile")
        .expect("binary is built")
        .current_dir(repo_root())
        .env("NO_COLOR", "1")
        .args(args)
        .output()
        .expect("binary runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Validate one bad corpus entry: exit 1, nothing on stdout, the full stderr as a snapshot.
fn bad(name: &str) -> String {
    let (code, stdout, stderr) = run(&["validate", &format!("tests/corpus/bad/{name}")]);
    assert_eq!(code, 1, "exit code for {name}; stderr:\n{stderr}");
    assert_eq!(stdout, "");
    stderr
}

macro_rules! bad_case {
    ($test:ident, $file:literal) => {
        #[test]
        fn $test() {
            insta::assert_snapshot!(bad($file));
        }
    };
}

bad_case!(validate_unknown_key_pascal_case_hints_snake_case, "unknown-key-pascal-case.yaml");
bad_case!(validate_role_system_user_cannot_be_set, "role-system-user.yaml");
bad_case!(validate_value_of_257_characters, "value-too-long.yaml");
bad_case!(validate_duplicate_user_key_names_both_lines, "duplicate-user-key.yaml");
bad_case!(validate_yaml_syntax_error, "yaml-syntax-error.yaml");
bad_case!(validate_string_where_boolean_belongs, "string-for-boolean.yaml");
bad_case!(validate_missing_organization, "missing-organization.yaml");
bad_case!(validate_users_as_list, "users-as-list.yaml");
bad_case!(validate_malformed_idp_user_id, "malformed-idp-id.yaml");
bad_case!(validate_unquoted_number_and_boolean_hint_to_quote, "unquoted-number.yaml");
bad_case!(validate_empty_file, "empty-file.yaml");
bad_case!(validate_hidden_from_global_address_list_null, "hidden-null.yaml");
bad_case!(validate_same_user_in_two_files, "same-user-two-files");
bad_case!(validate_several_errors_in_one_file_all_reported, "several-errors.yaml");

#[test]
fn validate_alias_bomb_is_refused() {
    // Timing is measured and printed for the record, not asserted: CI machines vary.
    let start = Instant::now();
    let stderr = bad("alias-bomb.yaml");
    eprintln!("alias bomb refused in {:?}", start.elapsed());
    insta::assert_snapshot!(stderr);
}

#[test]
fn validate_whole_bad_corpus_reports_every_file() {
    // One run over the directory: every file's errors, plus the users that several corpus
    // files declare in the same organization `acme` (cross-file duplicates).
    let (code, _, stderr) = run(&["validate", "tests/corpus/bad"]);
    assert_eq!(code, 1);
    let last = stderr.lines().last().unwrap_or_default();
    assert_eq!(last, "error: 40 errors in 16 files");
}

#[test]
fn validate_good_corpus() {
    let (code, stdout, stderr) = run(&["validate", "tests/corpus/good"]);
    assert_eq!((code, stderr.as_str()), (0, ""));
    insta::assert_snapshot!(stdout, @"Valid: 2 files, 2 organizations, 7 users.");
}

#[test]
fn validate_examples() {
    let (code, stdout, stderr) = run(&["validate", "examples/users"]);
    assert_eq!((code, stderr.as_str()), (0, ""));
    insta::assert_snapshot!(stdout, @"Valid: 3 files, 2 organizations, 9 users.");
}

#[test]
fn validate_missing_path() {
    let (code, stdout, stderr) = run(&["validate", "tests/corpus/does-not-exist.yaml"]);
    assert_eq!((code, stdout.as_str()), (1, ""));
    insta::assert_snapshot!(stderr);
}

const SCHEMA_FILE: &str = "schema/workmail-users.schema.json";

/// The committed schema, parsed.
fn committed_schema() -> serde_json::Value {
    let text = std::fs::read_to_string(repo_root().join(SCHEMA_FILE)).expect("the schema exists");
    serde_json::from_str(&text).expect("the committed schema is JSON")
}

/// Byte for byte: `schema > schema/workmail-users.schema.json` must leave the file unchanged, so
/// a regenerated copy shows no diff in git when nothing changed.
#[test]
fn validate_committed_schema_is_up_to_date() {
    let committed = std::fs::read(repo_root().join(SCHEMA_FILE)).expect("the schema exists");
    assert!(
        committed == workmail_reconcile::spec::json_schema_text().into_bytes(),
        "{SCHEMA_FILE} is stale; regenerate it with:\n  cargo run -- schema > {SCHEMA_FILE}"
    );
    let output = Command::cargo_bin("workmail-reconcile")
        .expect("binary is built")
        .arg("schema")
        .output()
        .expect("binary runs");
    assert_eq!(output.status.code(), Some(0));
    assert!(output.stdout == committed, "`schema` does not print {SCHEMA_FILE} byte for byte");
}

/// The desired-state examples: every `*.yaml` under `examples/users/`, at any depth.
fn example_files() -> Vec<std::path::PathBuf> {
    fn walk(dir: &std::path::Path, files: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("readable directory") {
            let path = entry.expect("readable").path();
            if path.is_dir() {
                walk(&path, files);
            } else if path.extension().is_some_and(|e| e == "yaml") {
                files.push(path);
            }
        }
    }
    let mut files = Vec::new();
    walk(&repo_root().join("examples/users"), &mut files);
    files.sort();
    assert_eq!(files.len(), 3, "{files:?}");
    files
}

#[test]
fn validate_examples_match_the_committed_schema_and_start_with_the_modeline() {
    let validator = jsonschema::validator_for(&committed_schema()).expect("the schema compiles");
    for file in example_files() {
        let text = std::fs::read_to_string(&file).expect("readable");
        let first = text.lines().next().unwrap_or_default();
        let target = first
            .strip_prefix("# yaml-language-server: $schema=")
            .unwrap_or_else(|| panic!("{} must start with the schema modeline", file.display()));
        // The path is relative to the file, as the YAML language server resolves it.
        let resolved = file.parent().expect("parent").join(target).canonicalize();
        assert!(
            resolved.ok() == repo_root().join(SCHEMA_FILE).canonicalize().ok(),
            "{}: $schema={target} is not {SCHEMA_FILE} seen from the file",
            file.display()
        );
        let value: serde_json::Value = serde_saphyr::from_str(&text).expect("YAML");
        let errors: Vec<String> = validator.iter_errors(&value).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{}: {errors:?}", file.display());
    }
}

#[test]
fn validate_schema_rejects_what_the_loader_rejects() {
    let validator = jsonschema::validator_for(&committed_schema()).expect("the schema compiles");
    for (name, yaml) in [
        ("unknown key", "organization: acme\nusers:\n  alice:\n    DisplayName: A\n"),
        ("system role", "organization: acme\nusers:\n  alice:\n    role: SYSTEM_USER\n"),
        (
            "null boolean",
            "organization: acme\nusers:\n  alice:\n    hidden_from_global_address_list: null\n",
        ),
        ("list of users", "organization: acme\nusers:\n  - alice\n"),
        ("bad idp id", "organization: acme\nusers:\n  alice:\n    identity_provider_user_id: x\n"),
        ("d- alias", "organization: d-acme\nusers: {}\n"),
        ("no organization", "users: {}\n"),
        ("bad user key", "organization: acme\nusers:\n  'a b': {}\n"),
    ] {
        let value: serde_json::Value = serde_saphyr::from_str(yaml).expect("YAML");
        assert!(!validator.is_valid(&value), "schema accepts {name}");
        assert!(
            workmail_reconcile::spec::load_str("x.yaml", yaml).is_err(),
            "loader accepts {name}"
        );
    }
}

/// A path that names nothing is said as it is, not counted as a file read; with other errors,
/// both are said.
#[test]
fn validate_a_path_that_does_not_exist_is_no_file_read() {
    let (code, stdout, stderr) = run(&["validate", "missing.yaml"]);
    assert_eq!((code, stdout.as_str()), (1, ""));
    assert!(stderr.starts_with("  × missing.yaml does not exist\n"), "{stderr}");
    assert!(stderr.ends_with("\nerror: 1 path does not exist\n"), "{stderr}");
    let (code, _, stderr) =
        run(&["validate", "missing.yaml", "tests/corpus/bad/several-errors.yaml", "gone/"]);
    assert_eq!(code, 1);
    assert!(stderr.contains("  × gone/ does not exist\n"), "{stderr}");
    let last = stderr.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("error: ") && last.ends_with(" in 1 file; 2 paths do not exist"),
        "{stderr}"
    );
    // A directory without a desired-state file is no file read either.
    let empty = tempfile::tempdir().expect("tempdir");
    let empty = empty.path().to_str().expect("UTF-8");
    let (code, _, stderr) = run(&["validate", empty, "missing.yaml"]);
    assert_eq!(code, 1);
    assert!(stderr.contains(&format!("  × {empty}: directory holds no *.yaml or *.yml file\n")));
    assert!(
        stderr
            .ends_with("\nerror: 1 path does not exist; 1 directory holds no desired-state file\n"),
        "{stderr}"
    );
}
