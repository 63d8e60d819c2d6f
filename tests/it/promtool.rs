//! Prometheus' own programs as test oracles: `promtool` (`check metrics`, `check rules`,
//! `test rules`) and the `prometheus` server, both from Debian's `prometheus` package, which
//! .ci/run installs. Without them a test prints why it skips, except on CI (`CI=true`), where it
//! fails instead.

use super::release::required_by_ci;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

/// The rule and metrics checker.
pub const PROMTOOL: &str = "promtool";

/// The server.
pub const PROMETHEUS: &str = "prometheus";

/// Whether `program` runs (`--version`). When it does not: `false` with a note on stderr, or a
/// panic on CI, where .ci/run installs it.
pub fn available(program: &str) -> bool {
    match Command::new(program).arg("--version").output() {
        Ok(output) if output.status.success() => true,
        result => {
            let why = match result {
                Ok(output) => format!("`{program} --version` failed: {output:?}"),
                Err(e) => format!("{program} cannot be run: {e}"),
            };
            assert!(
                !required_by_ci(std::env::var("CI").ok().as_deref()),
                "{why}, and CI=true: .ci/run installs it (apt-get install prometheus)"
            );
            eprintln!("skipped: {why} (Debian: apt-get install prometheus)");
            false
        }
    }
}

/// Run `promtool ARGS` in `dir` with `stdin`: `Ok(output)` when it exits 0, `Err(output)`
/// otherwise, stdout and stderr together.
pub fn promtool(dir: &Path, args: &[&str], stdin: &str) -> Result<String, String> {
    let mut child = Command::new(PROMTOOL)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool starts");
    child.stdin.take().expect("stdin").write_all(stdin.as_bytes()).expect("stdin written");
    let output = child.wait_with_output().expect("promtool ends");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    if output.status.success() { Ok(text) } else { Err(text) }
}

/// `promtool check metrics` on a `/metrics` body: `Err` with its complaints unless it is clean
/// (exit 0, nothing printed).
pub fn check_metrics(text: &str) -> Result<(), String> {
    match promtool(Path::new("."), &["check", "metrics"], text) {
        Ok(out) if out.trim().is_empty() => Ok(()),
        Ok(out) | Err(out) => Err(out),
    }
}

#[test]
fn the_metrics_check_rejects_what_promtool_lints() {
    if !available(PROMTOOL) {
        return;
    }
    let counter = "# HELP foo Foo.\n# TYPE foo counter\nfoo 1\n";
    assert!(check_metrics(counter).unwrap_err().contains("\"_total\" suffix"));
    assert!(check_metrics("garbage{\n").is_err());
    assert_eq!(
        check_metrics("# HELP foo_total Foo.\n# TYPE foo_total counter\nfoo_total 1\n"),
        Ok(())
    );
}
