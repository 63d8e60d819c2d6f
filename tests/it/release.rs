//! What a release relies on stays true: the workflow files, CI recipes and Kubernetes recipes
//! match the official schemas, `rust-version` covers every locked dependency, the release workflow builds the
//! targets the README's install section names, and CHANGELOG.md has a dated section for the
//! crate's version.

use super::support::repo_root;
use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;

/// The schema checker (PyPI package `check-jsonschema`).
const CHECK_JSONSCHEMA: &str = "check-jsonschema";

/// The Kubernetes schema checker (PyPI package `kubernetes-validate`). It skips, with a
/// warning, the kinds it has no schema for: Kustomization and the Prometheus Operator's
/// ServiceMonitor and PrometheusRule.
const KUBERNETES_VALIDATE: &str = "kubernetes-validate";

/// The oldest Rust that builds edition 2024.
const EDITION_2024_MINIMUM: RustVersion = RustVersion([1, 85, 0]);

fn read(relative: &str) -> String {
    std::fs::read_to_string(repo_root().join(relative))
        .unwrap_or_else(|e| panic!("{relative}: {e}"))
}

/// The `.yml` files of a repository directory whose names start with `prefix`, sorted.
fn yml_files(dir: &str, prefix: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(repo_root().join(dir))
        .unwrap_or_else(|e| panic!("{dir}: {e}"))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| {
            path.extension().is_some_and(|e| e == "yml")
                && path.file_name().is_some_and(|n| n.to_string_lossy().starts_with(prefix))
        })
        .collect();
    files.sort();
    files
}

/// Whether a missing tool must fail the test rather than skip it: on CI (`CI=true`, which
/// GitHub Actions and GitLab CI set), where .ci/run installs it.
pub(crate) fn required_by_ci(ci: Option<&str>) -> bool {
    ci.is_some_and(|v| v.eq_ignore_ascii_case("true") || v == "1")
}

/// Runs check-jsonschema with one of its bundled schemas; `None` when it is not installed.
fn check_jsonschema(builtin_schema: &str, files: &[PathBuf]) -> Option<Result<(), String>> {
    let mut command = Command::new(CHECK_JSONSCHEMA);
    command.arg("--builtin-schema").arg(builtin_schema).args(files);
    run_checker(command)
}

/// Runs kubernetes-validate in strict mode (unknown fields are errors); `None` when it is not
/// installed.
fn kubernetes_validate(files: &[PathBuf]) -> Option<Result<(), String>> {
    let mut command = Command::new(KUBERNETES_VALIDATE);
    command.args(["--strict", "--quiet", "--no-warn"]).args(files);
    run_checker(command)
}

/// Runs a checker: `Ok` when it exits 0, `Err` with its output otherwise, `None` when the
/// program is not installed.
fn run_checker(mut command: Command) -> Option<Result<(), String>> {
    let program = command.get_program().to_string_lossy().into_owned();
    let output = match command.output() {
        Ok(output) => output,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => return Some(Err(format!("{program} did not run: {e}"))),
    };
    if output.status.success() {
        Some(Ok(()))
    } else {
        Some(Err(format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )))
    }
}

#[test]
fn release_workflows_and_ci_recipes_match_the_official_schemas() {
    let workflows = yml_files(".github/workflows", "");
    let names: Vec<String> =
        workflows.iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
    assert!(
        names.contains(&"ci.yml".to_string()) && names.contains(&"release.yml".to_string()),
        "{names:?}"
    );
    let mut github = workflows;
    github.extend(yml_files("examples/ci", "github-actions-"));
    assert_eq!(github.len(), names.len() + 2, "both GitHub Actions recipes: {github:?}");
    let gitlab = vec![repo_root().join("examples/ci/gitlab-ci.yml")];

    for (schema, files) in [("vendor.github-workflows", &github), ("vendor.gitlab-ci", &gitlab)] {
        match check_jsonschema(schema, files) {
            Some(Ok(())) => {}
            Some(Err(report)) => panic!("{schema}:\n{report}"),
            None if required_by_ci(std::env::var("CI").ok().as_deref()) => panic!(
                "{CHECK_JSONSCHEMA} is not installed and CI=true: .ci/run installs it \
                 (pipx install check-jsonschema)"
            ),
            None => {
                eprintln!(
                    "skipped: {CHECK_JSONSCHEMA} is not installed \
                     (`pipx install check-jsonschema` or `python3 -m pip install check-jsonschema`)"
                );
                return;
            }
        }
    }
}

#[test]
fn release_schema_check_rejects_an_invalid_workflow() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = dir.path().join("bad.yml");
    // `runs-on` is required and `step` is not a job key.
    std::fs::write(&bad, "on: push\njobs:\n  build:\n    step:\n      - run: true\n")
        .expect("write");
    match check_jsonschema("vendor.github-workflows", &[bad]) {
        Some(result) => assert!(result.is_err(), "an invalid workflow passed"),
        None if required_by_ci(std::env::var("CI").ok().as_deref()) => {
            panic!("{CHECK_JSONSCHEMA} is not installed and CI=true")
        }
        None => eprintln!("skipped: {CHECK_JSONSCHEMA} is not installed"),
    }
}

/// The Kubernetes recipes: `examples/kubernetes/*.yaml` and the controller's directory.
fn kubernetes_recipes() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for dir in ["examples/kubernetes", "examples/kubernetes/controller"] {
        let entries =
            std::fs::read_dir(repo_root().join(dir)).unwrap_or_else(|e| panic!("{dir}: {e}"));
        files.extend(
            entries
                .map(|entry| entry.expect("directory entry").path())
                .filter(|path| path.extension().is_some_and(|e| e == "yaml")),
        );
    }
    files.sort();
    files
}

#[test]
fn release_kubernetes_recipes_match_the_kubernetes_schemas() {
    let files = kubernetes_recipes();
    assert!(files.len() >= 7, "{files:?}");
    match kubernetes_validate(&files) {
        Some(Ok(())) => {}
        Some(Err(report)) => panic!("{KUBERNETES_VALIDATE}:\n{report}"),
        None if required_by_ci(std::env::var("CI").ok().as_deref()) => panic!(
            "{KUBERNETES_VALIDATE} is not installed and CI=true: .ci/run installs it \
             (pipx install kubernetes-validate)"
        ),
        None => eprintln!(
            "skipped: {KUBERNETES_VALIDATE} is not installed \
             (`pipx install kubernetes-validate` or `python3 -m pip install kubernetes-validate`)"
        ),
    }
}

#[test]
fn release_kubernetes_schema_check_rejects_an_unknown_field() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = dir.path().join("bad.yaml");
    // `replica` is not a field of a Deployment's spec (`replicas` is).
    std::fs::write(
        &bad,
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec:\n  replica: 1\n  \
         selector: {matchLabels: {a: b}}\n  \
         template: {metadata: {labels: {a: b}}, spec: {containers: [{name: c, image: i}]}}\n",
    )
    .expect("write");
    match kubernetes_validate(&[bad]) {
        Some(result) => assert!(result.is_err(), "an invalid Deployment passed"),
        None if required_by_ci(std::env::var("CI").ok().as_deref()) => {
            panic!("{KUBERNETES_VALIDATE} is not installed and CI=true")
        }
        None => eprintln!("skipped: {KUBERNETES_VALIDATE} is not installed"),
    }
}

#[test]
fn release_a_missing_checker_fails_only_on_ci() {
    assert!(required_by_ci(Some("true")));
    assert!(required_by_ci(Some("TRUE")));
    assert!(required_by_ci(Some("1")));
    assert!(!required_by_ci(Some("false")));
    assert!(!required_by_ci(Some("")));
    assert!(!required_by_ci(None));
}

/// A `rust-version`: major.minor.patch, a missing part being 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct RustVersion([u64; 3]);

impl RustVersion {
    fn parse(text: &str) -> Result<RustVersion, String> {
        let parts: Vec<&str> = text.split('.').collect();
        if parts.is_empty() || parts.len() > 3 {
            return Err(format!("`{text}` is not major[.minor[.patch]]"));
        }
        let mut version = [0; 3];
        for (slot, part) in version.iter_mut().zip(&parts) {
            *slot = part.parse().map_err(|_| format!("`{text}` is not major[.minor[.patch]]"))?;
        }
        Ok(RustVersion(version))
    }
}

impl std::fmt::Display for RustVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let [major, minor, patch] = self.0;
        write!(f, "{major}.{minor}.{patch}")
    }
}

/// The packages of `cargo metadata` whose `rust_version` is newer than `declared`, as
/// `name version (needs X)`.
fn newer_than(metadata: &Value, declared: RustVersion) -> Vec<String> {
    let mut newer = Vec::new();
    for package in metadata["packages"].as_array().expect("packages") {
        let Some(needs) = package["rust_version"].as_str() else { continue };
        let needs = RustVersion::parse(needs).expect("a rust_version cargo accepted");
        if needs > declared {
            newer.push(format!("{} {} (needs {needs})", package["name"], package["version"]));
        }
    }
    newer.sort();
    newer
}

#[test]
fn release_rust_version_covers_every_locked_dependency() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let output = Command::new(cargo)
        .args(["metadata", "--locked", "--format-version", "1", "--manifest-path"])
        .arg(repo_root().join("Cargo.toml"))
        .output()
        .expect("cargo metadata runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let metadata: Value = serde_json::from_slice(&output.stdout).expect("metadata JSON");
    let root = metadata["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .find(|p| p["name"] == env!("CARGO_PKG_NAME"))
        .expect("this crate");
    let declared = RustVersion::parse(root["rust_version"].as_str().expect("rust-version set"))
        .expect("valid rust-version");
    assert!(declared >= EDITION_2024_MINIMUM, "edition 2024 needs {EDITION_2024_MINIMUM}");
    let newer = newer_than(&metadata, declared);
    assert!(
        newer.is_empty(),
        "Cargo.toml declares rust-version {declared}, but locked dependencies need more:\n{}",
        newer.join("\n")
    );
}

#[test]
fn release_rust_version_check_finds_a_newer_dependency() {
    let metadata = serde_json::json!({"packages": [
        {"name": "old", "version": "1.0.0", "rust_version": "1.70"},
        {"name": "none", "version": "1.0.0", "rust_version": null},
        {"name": "same", "version": "2.0.0", "rust_version": "1.94.1"},
        {"name": "new", "version": "3.1.0", "rust_version": "1.94.2"},
    ]});
    let declared = RustVersion::parse("1.94.1").unwrap();
    assert_eq!(newer_than(&metadata, declared), [r#""new" "3.1.0" (needs 1.94.2)"#]);
    assert_eq!(RustVersion::parse("1.85").unwrap(), RustVersion([1, 85, 0]));
    assert!(RustVersion::parse("1.x").is_err());
    assert!(RustVersion::parse("1.2.3.4").is_err());
}

/// `jobs.<job>.strategy.matrix.include[].<key>` of a workflow.
fn matrix_values(workflow: &Value, job: &str, key: &str) -> Vec<String> {
    workflow["jobs"][job]["strategy"]["matrix"]["include"]
        .as_array()
        .unwrap_or_else(|| panic!("jobs.{job}.strategy.matrix.include"))
        .iter()
        .map(|entry| entry[key].as_str().expect("a string").to_string())
        .collect()
}

fn yaml(relative: &str) -> Value {
    serde_saphyr::from_str(&read(relative)).unwrap_or_else(|e| panic!("{relative}: {e}"))
}

/// The text of a `## heading` section of a markdown file, up to the next `## `.
fn section<'a>(markdown: &'a str, heading: &str) -> &'a str {
    let start = markdown
        .find(&format!("\n## {heading}\n"))
        .unwrap_or_else(|| panic!("no `## {heading}` section"));
    let body = &markdown[start + heading.len() + 5..];
    &body[..body.find("\n## ").unwrap_or(body.len())]
}

#[test]
fn release_builds_every_target_the_install_section_offers() {
    let workflow = yaml(".github/workflows/release.yml");
    let targets = matrix_values(&workflow, "binaries", "target");
    assert_eq!(
        targets,
        [
            "x86_64-unknown-linux-musl",
            "aarch64-unknown-linux-musl",
            "x86_64-apple-darwin",
            "aarch64-apple-darwin"
        ]
    );
    let readme = read("README.md");
    let install = section(&readme, "Install");
    for target in &targets {
        assert!(install.contains(target), "README's Install section does not name {target}");
    }
    let platforms = matrix_values(&workflow, "image", "platform");
    assert_eq!(platforms, ["linux/amd64", "linux/arm64"]);
    // deny.toml checks the dependencies of every platform a binary is built for.
    let deny = read("deny.toml");
    for target in &targets {
        assert!(deny.contains(&format!("\"{target}\"")), "deny.toml [graph] targets: {target}");
    }
}

#[test]
fn release_workflow_grants_least_privilege() {
    let workflow = yaml(".github/workflows/release.yml");
    assert_eq!(workflow["permissions"], serde_json::json!({}), "nothing by default");
    let jobs = workflow["jobs"].as_object().expect("jobs");
    for (name, job) in jobs {
        let permissions = job["permissions"].as_object().unwrap_or_else(|| panic!("{name}"));
        for (scope, level) in permissions {
            let allowed = match (name.as_str(), scope.as_str()) {
                ("github-release", "contents") => "write",
                ("image" | "image-manifest", "packages") => "write",
                (_, "contents") => "read",
                _ => panic!("job {name} asks for {scope}: {level}"),
            };
            assert_eq!(level, allowed, "job {name}, {scope}");
        }
    }
    let ci = yaml(".github/workflows/ci.yml");
    assert_eq!(ci["permissions"], serde_json::json!({"contents": "read"}));
}

/// `YYYY-MM-DD`, as Keep a Changelog dates a release.
fn is_iso_date(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    parts.len() == 3
        && parts
            .iter()
            .zip([4, 2, 2])
            .all(|(part, digits)| part.len() == digits && part.bytes().all(|b| b.is_ascii_digit()))
}

#[test]
fn release_changelog_date_format() {
    assert!(is_iso_date("2026-12-02"));
    for bad in ["2026-12-2", "02-12-2026", "2026-12-02 (planned)", "TBD", "2026-1a-02"] {
        assert!(!is_iso_date(bad), "{bad}");
    }
}

#[test]
fn release_changelog_has_a_dated_section_for_the_crate_version() {
    let changelog = read("CHANGELOG.md");
    let version = env!("CARGO_PKG_VERSION");
    let sections: Vec<&str> = changelog.lines().filter(|l| l.starts_with("## ")).collect();
    assert_eq!(sections.first(), Some(&"## [Unreleased]"), "{sections:?}");
    let heading = format!("## [{version}] - ");
    let dated = sections
        .iter()
        .find_map(|s| s.strip_prefix(&heading))
        .unwrap_or_else(|| panic!("no `{heading}YYYY-MM-DD` in {sections:?}"));
    assert!(is_iso_date(dated), "`{dated}` is not YYYY-MM-DD");
    let repository = env!("CARGO_PKG_REPOSITORY");
    for link in [
        format!("[Unreleased]: {repository}/compare/v{version}...HEAD"),
        format!("[{version}]: {repository}/releases/tag/v{version}"),
    ] {
        assert!(changelog.lines().any(|l| l == link), "CHANGELOG.md has no `{link}`");
    }
}

#[test]
fn release_install_section_downloads_from_the_crate_repository() {
    let readme = read("README.md");
    let install = section(&readme, "Install");
    let repository = env!("CARGO_PKG_REPOSITORY");
    assert!(install.contains(&format!("{repository}/releases/")), "release downloads");
    assert!(install.contains(&format!("cargo install --locked --git {repository}")));
    let image = repository.replace("https://github.com/", "ghcr.io/");
    assert!(install.contains(&image), "the container image {image}");
    for file in ["SHA256SUMS", "sha256sum"] {
        assert!(install.contains(file), "checksum check: {file}");
    }
    let license = section(&readme, "License");
    for file in ["LICENSE-MIT", "LICENSE-APACHE"] {
        assert!(license.contains(file) && repo_root().join(file).exists(), "{file}");
    }
}

#[test]
fn release_archive_carries_the_reference_pages_the_readme_links() {
    let workflow = yaml(".github/workflows/release.yml");
    let steps = workflow["jobs"]["binaries"]["steps"].as_array().expect("binaries steps");
    let archive = steps
        .iter()
        .find(|step| step["name"].as_str() == Some("Archive"))
        .and_then(|step| step["run"].as_str())
        .expect("an Archive step");
    let tar_line = archive.lines().find(|l| l.trim_start().starts_with("tar ")).expect("tar");
    let archived: Vec<&str> = tar_line.split_whitespace().collect();
    let readme = read("README.md");
    for page in readme.split("](docs/").skip(1).filter_map(|rest| rest.split([')', '#']).next()) {
        assert!(repo_root().join("docs").join(page).exists(), "docs/{page}");
    }
    for file in ["workmail-reconcile", "README.md", "CHANGELOG.md", "LICENSE-MIT", "docs"] {
        assert!(archived.contains(&file), "the archive lacks {file}: {tar_line}");
    }
}
