//! The documentation stays true: the README's quickstart is the two documented commands and its
//! demo works, the README's command lines parse, its relative links resolve, and the shell
//! completions and man pages generate.

use super::recipes::{check_invocation, shell_invocations};
use super::support::repo_root;
use assert_cmd::Command;
use clap_complete::Shell;
use workmail_reconcile::cli::completions::completion_script;
use workmail_reconcile::cli::man::man_page;

fn readme() -> String {
    std::fs::read_to_string(repo_root().join("README.md")).expect("README.md")
}

/// Fenced code blocks of a markdown text: (info string, body).
fn code_blocks(markdown: &str) -> Vec<(String, String)> {
    let mut blocks = Vec::new();
    let mut current: Option<(String, String)> = None;
    for line in markdown.lines() {
        let trimmed = line.trim_start();
        match (&mut current, trimmed.strip_prefix("```")) {
            (None, Some(info)) => current = Some((info.trim().to_string(), String::new())),
            (Some(_), Some(_)) => blocks.extend(current.take()),
            (Some((_, body)), None) => {
                body.push_str(line);
                body.push('\n');
            }
            (None, None) => {}
        }
    }
    blocks
}

/// The commands of the first fenced block under the `## Quickstart` heading.
fn quickstart_commands(markdown: &str) -> Vec<String> {
    let start = markdown
        .lines()
        .position(|l| l.trim_start_matches('#').trim() == "Quickstart" && l.starts_with("## "))
        .expect("a `## Quickstart` heading");
    let section: Vec<&str> =
        markdown.lines().skip(start + 1).take_while(|l| !l.starts_with("## ")).collect();
    let (_, body) = code_blocks(&section.join("\n"))
        .into_iter()
        .next()
        .expect("a fenced code block under Quickstart");
    body.lines()
        .map(|l| l.trim().trim_start_matches("$ ").trim())
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect()
}

#[test]
fn docs_quickstart_is_exactly_the_two_commands() {
    assert_eq!(
        quickstart_commands(&readme()),
        ["cargo run --release -- demo", "cargo nextest run"]
    );
}

#[test]
fn docs_quickstart_extractor_can_fail() {
    let other = "# x\n## Quickstart\n\ntext\n\n```sh\n$ cargo run -- demo\n```\n## Next\n";
    assert_eq!(quickstart_commands(other), ["cargo run -- demo"]);
}

/// The quickstart's demo, through the built binary (no recursive cargo).
#[test]
fn docs_quickstart_demo_runs() {
    let output = Command::cargo_bin("workmail-reconcile")
        .expect("binary")
        .arg("demo")
        .env("NO_COLOR", "1")
        .output()
        .expect("demo runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains("Plan: 0 to update"), "{stdout}");
}

/// Every `workmail-reconcile …` line in the README's shell blocks parses with the real CLI.
#[test]
fn docs_readme_command_lines_use_existing_flags() {
    let mut checked = 0;
    let mut problems = Vec::new();
    for (info, body) in code_blocks(&readme()) {
        if !matches!(info.as_str(), "sh" | "bash" | "console" | "shell") {
            continue;
        }
        let script: String = body
            .lines()
            .map(|l| l.trim_start().strip_prefix("$ ").unwrap_or(l))
            .collect::<Vec<_>>()
            .join("\n");
        for invocation in shell_invocations(&script, "README.md") {
            checked += 1;
            if let Err(e) = check_invocation(&invocation.args) {
                problems.push(format!("{}: {e}", invocation.args.join(" ")));
            }
        }
    }
    assert!(checked >= 10, "only {checked} command lines found in README.md");
    assert!(problems.is_empty(), "README.md:\n{}", problems.join("\n"));
}

/// Relative links in the README and examples/iam/README.md point at files that exist.
#[test]
fn docs_relative_links_resolve() {
    for file in ["README.md", "examples/iam/README.md", "CHANGELOG.md"] {
        let path = repo_root().join(file);
        let text = std::fs::read_to_string(&path).expect("doc file");
        let dir = path.parent().expect("parent");
        let mut rest = text.as_str();
        while let Some(at) = rest.find("](") {
            rest = &rest[at + 2..];
            let target = &rest[..rest.find(')').unwrap_or(rest.len())];
            let target = target.split('#').next().unwrap_or_default();
            if target.is_empty() || target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            assert!(dir.join(target).exists(), "{file}: broken link {target}");
        }
    }
}

#[test]
fn completions_for_every_shell_cover_subcommands_and_flags() {
    for shell in [Shell::Bash, Shell::Zsh, Shell::Fish, Shell::PowerShell, Shell::Elvish] {
        let script = String::from_utf8(completion_script(shell)).expect("UTF-8");
        for word in
            ["plan", "apply", "validate", "export", "completions", "man", "detailed-exitcode"]
        {
            assert!(script.contains(word), "{shell}: no `{word}`");
        }
        for flag in ["auto-approve", "max-changes", "redact-all", "endpoint-url"] {
            assert!(script.contains(flag), "{shell}: no `{flag}`");
        }
    }
    let bash = String::from_utf8(completion_script(Shell::Bash)).unwrap();
    assert!(bash.contains("--detailed-exitcode"));
    assert!(
        bash.contains("complete -F _workmail__reconcile") && bash.contains(" workmail-reconcile\n")
    );
}

#[test]
fn completions_subcommand_prints_the_same_script() {
    let output = Command::cargo_bin("workmail-reconcile")
        .expect("binary")
        .args(["completions", "fish"])
        .output()
        .expect("runs");
    assert!(output.status.success());
    assert_eq!(output.stdout, completion_script(Shell::Fish));
    let bad = Command::cargo_bin("workmail-reconcile")
        .expect("binary")
        .args(["completions", "cmd"])
        .output()
        .expect("runs");
    assert_eq!(bad.status.code(), Some(1), "a usage error, never 2 (\"changes\")");
}

#[test]
fn man_pages_render_for_the_main_command_and_each_subcommand() {
    let main = String::from_utf8(man_page(None).expect("main page")).expect("UTF-8");
    assert!(main.starts_with(".ie") || main.contains(".TH workmail-reconcile 1"), "{main}");
    assert!(main.contains(".TH workmail-reconcile 1"));
    for word in
        ["plan", "apply", "\\-\\-endpoint\\-url", "EXIT STATUS", "\\-\\-detailed\\-exitcode"]
    {
        assert!(main.contains(word), "main page: no `{word}`");
    }
    let plan = String::from_utf8(man_page(Some("plan")).expect("plan page")).unwrap();
    assert!(plan.contains("workmail\\-reconcile\\-plan"), "{plan}");
    for flag in ["\\-\\-detailed\\-exitcode", "\\-\\-redact", "\\-\\-region"] {
        assert!(plan.contains(flag), "plan page: no `{flag}`");
    }
    assert_eq!(
        man_page(Some("frobnicate")).unwrap_err(),
        "no man page for `frobnicate`; expected one of: validate, plan, apply, export, demo, schema, emulator, completions, man"
    );
}

#[test]
fn man_subcommand_writes_every_page() {
    let dir = tempfile::tempdir().expect("tempdir");
    Command::cargo_bin("workmail-reconcile")
        .expect("binary")
        .args(["man", "--out-dir"])
        .arg(dir.path())
        .assert()
        .success();
    let mut pages: Vec<String> = std::fs::read_dir(dir.path())
        .expect("pages")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    pages.sort();
    for page in ["workmail-reconcile.1", "workmail-reconcile-plan.1", "workmail-reconcile-apply.1"]
    {
        assert!(pages.contains(&page.to_string()), "{pages:?}");
    }
    let stdout = Command::cargo_bin("workmail-reconcile")
        .expect("binary")
        .args(["man", "apply"])
        .output()
        .expect("runs")
        .stdout;
    assert!(String::from_utf8_lossy(&stdout).contains("\\-\\-auto\\-approve"));
}
