//! The command line's own contract, through the real binary: every usage error and bad value
//! exits 1 before any call (never 2, which `--detailed-exitcode` reserves for "changes"),
//! numeric flags refuse what is out of range, colors follow `--color` and `NO_COLOR`, `-q`
//! trims plan and apply to errors and summaries, and `--log-format json` turns diagnostics into
//! JSON lines.

use crate::support::*;
use std::process::Output;
use workmail_reconcile::emulator::{Emulator, Seed, UpdateSemantics};
use workmail_reconcile::model::attrs::Attribute::*;

const DESIRED: &str = "organization: acme
users:
  alice:
    display_name: Alice Liddell
    department: null
    first_name: Alice
  bob:
    display_name: Bob Builder
  ghost:
    display_name: Nobody
";

fn seed() -> Seed {
    Seed::default().organization(acme(vec![
        user("alice", &[(DisplayName, "Alice L"), (Department, "R&D")]),
        user("bob", &[(DisplayName, "Bob Builder")]),
    ]))
}

async fn setup() -> (Emulator, Files) {
    with_acme_file(seed(), UpdateSemantics::Patch, DESIRED).await
}

/// Run the binary with `env` added (or, for an empty value, removed) on top of the support
/// environment (which sets `NO_COLOR=1`).
async fn run_env(emu: &Emulator, files: &Files, env: &[(&str, &str)], args: &[&str]) -> Output {
    let mut cmd = command(&emu.url(), files.path(), args);
    for (key, value) in env {
        if value.is_empty() {
            cmd.env_remove(key);
        } else {
            cmd.env(key, value);
        }
    }
    tokio::task::spawn_blocking(move || cmd.output().expect("binary runs")).await.expect("join")
}

// --- usage errors and values ----------------------------------------------------------------

/// Bad command lines of every subcommand, each with a part of the message it must print.
const USAGE_ERRORS: &[(&str, &str)] = &[
    // The report of the issue, word for word.
    ("plan --detailed-exitcode --fromat json acme.yaml", "unexpected argument '--fromat' found"),
    ("plan --detailed-exitcode --fromat json acme.yaml", "a similar argument exists: '--format'"),
    ("plan acme.yaml --format yaml", "invalid value 'yaml' for '--format <FORMAT>'"),
    ("plan acme.yaml --format yaml", "[possible values: text, json, markdown]"),
    ("plan --detailed-exitcode", "the following required arguments were not provided"),
    // Every subcommand.
    ("validate", "the following required arguments were not provided"),
    ("validate acme.yaml --detailed-exitcode", "unexpected argument '--detailed-exitcode'"),
    ("plan acme.yaml --redact salary", "unknown field `salary`; expected one of:"),
    ("plan acme.yaml --redact-all --redact telephone", "cannot be used with"),
    ("plan acme.yaml --target", "a value is required for '--target <USER>'"),
    ("plan acme.yaml --detailed-exitcode=yes", "unexpected value 'yes' for '--detailed-exitcode'"),
    ("apply", "the following required arguments were not provided"),
    ("apply acme.yaml --plan plan.json", "cannot be used with"),
    ("apply acme.yaml --max-changes -3", "must be a whole number of users from 0 to"),
    ("apply acme.yaml --max-changes lots", "must be a whole number of users from 0 to"),
    ("apply acme.yaml --max-changes 1.5", "must be a whole number of users from 0 to"),
    ("apply acme.yaml --auto-aprove", "a similar argument exists: '--auto-approve'"),
    ("export", "--organization <ORG>"),
    ("export --organization acme --bogus", "unexpected argument '--bogus' found"),
    ("demo --auto-approve", "unexpected argument '--auto-approve' found"),
    ("schema extra", "unexpected argument 'extra' found"),
    ("completions tcsh", "invalid value 'tcsh' for '<SHELL>'"),
    ("completions", "the following required arguments were not provided"),
    ("man --out-dir", "a value is required for '--out-dir <DIR>'"),
    ("man plan --out-dir x", "cannot be used with"),
    ("emulator --listen nowhere", "invalid value 'nowhere' for '--listen <LISTEN>'"),
    ("emulator --update-semantics sometimes", "[possible values: patch, replace]"),
    ("emulator --credentials nocolon", "must be AKID:SECRET, both non-empty"),
    ("emulator --credentials :secret", "must be AKID:SECRET, both non-empty"),
    ("emulator --latency-ms -1", "must be a whole number of milliseconds from 0 to 600000"),
    ("emulator --latency-ms 600001", "must be a whole number of milliseconds from 0 to 600000"),
    ("emulator --latency-ms 1e3", "must be a whole number of milliseconds from 0 to 600000"),
    ("emulator --throttle-rate 1.5", "must be a probability from 0 to 1, got `1.5`"),
    ("emulator --throttle-rate -0.1", "must be a probability from 0 to 1, got `-0.1`"),
    ("emulator --server-error-rate nan", "must be a probability from 0 to 1, got `nan`"),
    ("emulator --drop-rate inf", "must be a probability from 0 to 1, got `inf`"),
    ("emulator --rng-seed -1", "must be a whole number from 0 to 18446744073709551615"),
    ("emulator --rng-seed 18446744073709551616", "must be a whole number from 0 to"),
    ("emulator --max-rps 1e-300", "from 0.1 to 100000, got `1e-300`"),
    ("frobnicate", "unrecognized subcommand 'frobnicate'"),
    ("", "Usage: workmail-reconcile [OPTIONS] <COMMAND>"),
    // Global flags, before or after the subcommand.
    ("--max-rps 1e-300 plan acme.yaml", "invalid value '1e-300' for '--max-rps <R>'"),
    (
        "--max-rps 1e-300 plan acme.yaml",
        "must be a number of requests per second from 0.1 to 100000",
    ),
    ("plan acme.yaml --max-rps -5", "from 0.1 to 100000, got `-5`"),
    ("plan acme.yaml --max-rps nan", "from 0.1 to 100000, got `nan`"),
    ("plan acme.yaml --max-rps inf", "from 0.1 to 100000, got `inf`"),
    ("plan acme.yaml --max-rps=-inf", "from 0.1 to 100000, got `-inf`"),
    ("plan acme.yaml --max-rps 0", "from 0.1 to 100000, got `0`"),
    ("plan acme.yaml --max-rps 0.09", "from 0.1 to 100000, got `0.09`"),
    ("plan acme.yaml --max-rps 100001", "from 0.1 to 100000, got `100001`"),
    ("plan acme.yaml --max-rps 1e309", "from 0.1 to 100000, got `1e309`"),
    ("plan acme.yaml --max-rps fast", "from 0.1 to 100000, got `fast`"),
    ("apply acme.yaml --max-rps", "a value is required for '--max-rps <R>'"),
    ("--concurrency 0 plan acme.yaml", "must be a whole number of calls from 1 to 256, got `0`"),
    ("plan acme.yaml --concurrency 257", "must be a whole number of calls from 1 to 256"),
    ("plan acme.yaml --concurrency -4", "must be a whole number of calls from 1 to 256"),
    ("plan acme.yaml --concurrency 2.5", "must be a whole number of calls from 1 to 256"),
    (
        "export --organization acme --concurrency nan",
        "must be a whole number of calls from 1 to 256",
    ),
    ("--color purple validate acme.yaml", "invalid value 'purple' for '--color <COLOR>'"),
    ("--log-format xml validate acme.yaml", "invalid value 'xml' for '--log-format <LOG_FORMAT>'"),
    ("validate acme.yaml -x", "unexpected argument '-x' found"),
];

#[tokio::test(flavor = "multi_thread")]
async fn cli_every_usage_error_exits_1_with_a_message_and_makes_no_call() {
    let (emu, files) = setup().await;
    let mut failures = Vec::new();
    for (line, expected) in USAGE_ERRORS {
        let args: Vec<&str> = line.split_whitespace().collect();
        let out = run(&emu, files.path(), &args).await;
        let err = stderr(&out);
        if out.status.code() != Some(1) || !err.contains(expected) || !out.stdout.is_empty() {
            failures.push(format!(
                "`{line}`: exit {:?}, expected {expected:?} on stderr:\n{err}\nstdout:\n{}",
                out.status.code(),
                stdout(&out)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n---\n"));
    assert!(emu.journal().is_empty(), "a usage error makes no call: {:?}", emu.journal());
}

#[tokio::test(flavor = "multi_thread")]
async fn cli_help_and_version_exit_0_on_stdout() {
    let (emu, files) = setup().await;
    for line in ["--help", "-h", "--version", "-V", "plan --help", "emulator --help", "help plan"] {
        let args: Vec<&str> = line.split_whitespace().collect();
        let out = run(&emu, files.path(), &args).await;
        assert_eq!(out.status.code(), Some(0), "`{line}`: {}", stderr(&out));
        assert!(!out.stdout.is_empty() && out.stderr.is_empty(), "`{line}`: {}", stderr(&out));
    }
    let help = run(&emu, files.path(), &["plan", "--help"]).await;
    // The ranges are in the help, too.
    assert!(stdout(&help).contains("from 0.1 to 100000"), "{}", stdout(&help));
    assert!(stdout(&help).contains("from 1 to 256"), "{}", stdout(&help));
}

#[tokio::test(flavor = "multi_thread")]
async fn cli_the_edges_of_every_range_are_accepted() {
    let (emu, files) = setup().await;
    for line in
        ["--max-rps 100000 --concurrency 256 plan acme.yaml", "--max-rps=1e5 plan acme.yaml"]
    {
        let args: Vec<&str> = line.split_whitespace().collect();
        let out = run(&emu, files.path(), &args).await;
        // ghost is not found: a plan with an error entry, exit 1 — but a plan it is.
        assert!(stdout(&out).contains("Plan: 1 to update, 1 unchanged, 1 error."), "`{line}`");
    }
    // The slowest pace, one call every 10 s: a plan of one call, by organization id (no
    // ListOrganizations), that the pace does not hold back.
    files.write(
        "alice.yaml",
        &format!("organization: {ORG}\nusers:\n  alice:\n    first_name: Alice\n"),
    );
    emu.clear_journal();
    let args =
        ["--max-rps", "0.1", "--concurrency", "1", "plan", "--unmanaged", "ignore", "alice.yaml"];
    let out = run(&emu, files.path(), &args).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("Plan: 1 to update, 0 unchanged, 0 errors."), "{}", stdout(&out));
    assert_eq!(emu.journal().len(), 1, "one call: {:?}", emu.journal());
    let out = run(&emu, files.path(), &["apply", "acme.yaml", "--max-changes", "0"]).await;
    assert_eq!(out.status.code(), Some(3), "0 refuses any change: {}", stderr(&out));
    assert!(stderr(&out).contains("error: "), "{}", stderr(&out));
}

// --- colors ---------------------------------------------------------------------------------

/// Escape codes made visible, for snapshots.
fn visible(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).replace('\x1b', "\\e")
}

/// Variables set (or, empty, removed) for one run.
type Env<'a> = &'a [(&'a str, &'a str)];

fn has_codes(bytes: &[u8]) -> bool {
    bytes.contains(&0x1b)
}

#[tokio::test(flavor = "multi_thread")]
async fn cli_color_always_colors_the_text_plan() {
    let (emu, files) = setup().await;
    let out =
        run_env(&emu, &files, &[("NO_COLOR", "")], &["plan", "acme.yaml", "--color", "always"])
            .await;
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    insta::assert_snapshot!(visible(&out.stdout));
}

#[tokio::test(flavor = "multi_thread")]
async fn cli_color_follows_the_flag_then_no_color_then_the_terminal() {
    let (emu, files) = setup().await;
    let plan = ["plan", "acme.yaml"];
    let cases: &[(Env, &[&str], bool, &str)] = &[
        (&[("NO_COLOR", "")], &["--color", "always"], true, "--color always"),
        (&[("NO_COLOR", "1")], &["--color", "always"], true, "--color always wins over NO_COLOR"),
        (&[("NO_COLOR", "")], &["--color", "never"], false, "--color never"),
        (&[("NO_COLOR", "")], &[], false, "auto on a pipe"),
        (&[("NO_COLOR", ""), ("CLICOLOR_FORCE", "1")], &["--color", "never"], false, "never wins"),
        (&[("NO_COLOR", "1")], &[], false, "NO_COLOR with auto"),
    ];
    for (env, flags, colored, what) in cases {
        let args: Vec<&str> = plan.iter().chain(flags.iter()).copied().collect();
        let out = run_env(&emu, &files, env, &args).await;
        assert_eq!(has_codes(&out.stdout), *colored, "{what}:\n{}", visible(&out.stdout));
        assert!(stdout(&out).contains("1 to update"), "{what}");
    }
    // JSON and markdown are documents: never colored.
    for format in ["json", "markdown"] {
        let args = ["plan", "acme.yaml", "--color", "always", "--format", format];
        let out = run_env(&emu, &files, &[], &args).await;
        assert!(!has_codes(&out.stdout), "{format}:\n{}", visible(&out.stdout));
        assert!(!out.stdout.is_empty());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn cli_color_colors_the_apply_report_and_diagnostics() {
    let (emu, files) = setup().await;
    let args = ["apply", "acme.yaml", "--auto-approve", "--color", "always"];
    let out = run_env(&emu, &files, &[], &args).await;
    assert_eq!(out.status.code(), Some(1), "ghost is an error: {}", stderr(&out));
    let report = visible(&out.stdout);
    assert!(
        report.contains(
            "\\e[1mApply:\\e[0m \\e[32m1 updated\\e[0m, 1 unchanged, 0 conflicts, 0 failed, \\e[1m\\e[31m1 error\\e[0m."
        ),
        "{report}"
    );
    assert!(
        report.contains("\\e[32mupdated: display_name, first_name, department\\e[0m"),
        "{report}"
    );

    // Diagnostics on stderr: colored when asked, plain otherwise.
    files.write("bad.yaml", "organization: acme\nusers:\n  alice:\n    salary: 3\n");
    let colored = run_env(&emu, &files, &[], &["validate", "bad.yaml", "--color", "always"]).await;
    assert!(has_codes(&colored.stderr), "{}", visible(&colored.stderr));
    let plain = run_env(&emu, &files, &[("NO_COLOR", "")], &["validate", "bad.yaml"]).await;
    assert!(!has_codes(&plain.stderr), "{}", visible(&plain.stderr));
    assert!(stderr(&plain).contains("unknown key `salary`"), "{}", stderr(&plain));
    // Usage errors too.
    let usage = run_env(&emu, &files, &[], &["validate", "--bogus", "--color", "always"]).await;
    assert!(has_codes(&usage.stderr), "{}", visible(&usage.stderr));
    let usage = run_env(&emu, &files, &[], &["validate", "--bogus", "--color", "never"]).await;
    assert!(!has_codes(&usage.stderr), "{}", visible(&usage.stderr));
}

/// On a real terminal (a pseudo-terminal from util-linux `script`), `auto` colors and `NO_COLOR`
/// turns it off. Skipped where `script` is missing.
#[tokio::test(flavor = "multi_thread")]
async fn cli_color_auto_colors_a_terminal_unless_no_color() {
    if std::process::Command::new("script").arg("--version").output().is_err() {
        eprintln!("skipped: script(1) is not installed");
        return;
    }
    let (emu, files) = setup().await;
    let binary = assert_cmd::cargo::cargo_bin("workmail-reconcile");
    for (no_color, colored) in [(None, true), (Some("1"), false)] {
        let line = format!("{} plan acme.yaml", binary.display());
        let mut cmd = std::process::Command::new("script");
        cmd.args(["-qec", &line, "/dev/null"])
            .current_dir(files.path())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("TERM", "xterm")
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ENDPOINT_URL", emu.url())
            .stdin(std::process::Stdio::null());
        if let Some(value) = no_color {
            cmd.env("NO_COLOR", value);
        }
        let out = tokio::task::spawn_blocking(move || cmd.output().expect("script runs"))
            .await
            .expect("join");
        let text = visible(&out.stdout);
        assert!(text.contains("Plan:"), "{text}");
        assert_eq!(text.contains("\\e[1mPlan:\\e[0m"), colored, "NO_COLOR={no_color:?}:\n{text}");
    }
}

// --- -q -------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread")]
async fn cli_quiet_plan_prints_only_errors_and_the_summary() {
    let (emu, files) = setup().await;
    let out = run(&emu, files.path(), &["plan", "acme.yaml", "-q"]).await;
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stdout(&out),
        "! ghost (acme.yaml:9): user not found\nPlan: 1 to update, 1 unchanged, 1 error.\n"
    );
    assert_eq!(stderr(&out), "");
    // JSON is the document asked for: whole, -q or not.
    let json = run(&emu, files.path(), &["plan", "acme.yaml", "-q", "--format", "json"]).await;
    let doc: serde_json::Value = serde_json::from_slice(&json.stdout).expect("JSON");
    assert_eq!(doc["changes"][0]["user"], "alice");
}

#[tokio::test(flavor = "multi_thread")]
async fn cli_quiet_apply_prints_only_errors_and_the_summaries() {
    let (emu, files) = setup().await;
    let out = run(&emu, files.path(), &["apply", "acme.yaml", "-q", "--auto-approve"]).await;
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "! ghost (acme.yaml:9): user not found\n\
         Plan: 1 to update, 1 unchanged, 1 error.\n\
         Apply: 1 updated, 1 unchanged, 0 conflicts, 0 failed, 1 error.\n"
    );
    assert_eq!(live(&emu, "alice", DisplayName), text("Alice Liddell"), "-q still applies");
    // Nothing left to do: the summary only.
    files.write("acme.yaml", "organization: acme\nusers:\n  bob:\n    display_name: Bob Builder\n");
    let again = run(&emu, files.path(), &["apply", "acme.yaml", "-q", "--auto-approve"]).await;
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
    assert_eq!(
        stdout(&again),
        "? 1 user in no file: alice\nPlan: 0 to update, 1 unchanged, 0 errors.\n"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn cli_quiet_apply_without_auto_approve_still_shows_the_plan_it_would_ask_about() {
    let (emu, files) = setup().await;
    let out = run(&emu, files.path(), &["apply", "acme.yaml", "-q"]).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("~ alice"), "{}", stdout(&out));
    assert!(stderr(&out).contains("confirmation needs a terminal"), "{}", stderr(&out));
}

// --- text error entries name their source ---------------------------------------------------

#[tokio::test(flavor = "multi_thread")]
async fn cli_error_entries_name_file_and_line_in_text_and_markdown() {
    let (emu, files) = setup().await;
    let text = run(&emu, files.path(), &["plan", "acme.yaml"]).await;
    assert!(
        stdout(&text).contains("\n  ! ghost (acme.yaml:9): user not found\n"),
        "{}",
        stdout(&text)
    );
    let md = run(&emu, files.path(), &["plan", "acme.yaml", "--format", "markdown"]).await;
    assert!(
        stdout(&md).contains("- ❗ <code>ghost</code> (<code>acme.yaml:9</code>): user not found"),
        "{}",
        stdout(&md)
    );
}

// --- --log-format json ----------------------------------------------------------------------

/// Every stderr line as JSON, the timestamp checked and removed.
fn json_lines(out: &Output) -> Vec<serde_json::Value> {
    stderr(out)
        .lines()
        .map(|line| {
            let mut value: serde_json::Value =
                serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: not JSON: {line}"));
            let timestamp = value["timestamp"].take();
            assert!(timestamp.as_str().is_some_and(|t| t.ends_with('Z')), "{line}");
            value.as_object_mut().expect("an object").remove("timestamp");
            value
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn cli_log_format_json_writes_input_errors_as_json_lines() {
    let (emu, files) = setup().await;
    files.write(
        "bad.yaml",
        "organization: acme\nusers:\n  alice:\n    salary: 3\n    job_title: 7\n",
    );
    for command in ["validate", "plan"] {
        let out = run(&emu, files.path(), &["--log-format", "json", command, "bad.yaml"]).await;
        assert_eq!(out.status.code(), Some(1));
        let lines = json_lines(&out);
        assert_eq!(lines.len(), 3, "{}", stderr(&out));
        assert_eq!(lines[0]["level"], "ERROR");
        assert_eq!(lines[0]["file"], "bad.yaml");
        assert_eq!((&lines[0]["line"], &lines[0]["column"]), (&4.into(), &5.into()));
        assert!(lines[0]["message"].as_str().is_some_and(|m| m.contains("salary")), "{}", lines[0]);
        assert!(lines[0]["help"].is_string(), "{}", lines[0]);
        assert_eq!(lines[1]["line"], 5);
        assert_eq!(
            lines[2],
            serde_json::json!({"level": "ERROR", "message": "2 errors in 1 file", "target": "workmail_reconcile"})
        );
    }
    // A file that cannot be read: no line, still JSON.
    let out = run(&emu, files.path(), &["--log-format", "json", "validate", "missing.yaml"]).await;
    let lines = json_lines(&out);
    assert_eq!(lines[0]["file"], "missing.yaml");
    assert!(lines[0].get("line").is_none(), "{}", lines[0]);
    assert!(emu.journal().is_empty(), "input errors are found before any call");
}

/// The one JSON line on stderr of a run that exited 1, and whether `key` holds `needle`.
fn one_json_error(out: &Output, key: &str, needle: &str) -> serde_json::Value {
    assert_eq!(out.status.code(), Some(1), "{}", stderr(out));
    let lines = json_lines(out);
    assert_eq!(lines.len(), 1, "{}", stderr(out));
    assert_eq!(lines[0]["level"], "ERROR");
    let held = lines[0][key].as_str().unwrap_or_default();
    assert!(held.contains(needle), "{key} should hold {needle:?}: {}", lines[0]);
    lines[0].clone()
}

#[tokio::test(flavor = "multi_thread")]
async fn cli_log_format_json_writes_fatal_and_usage_errors_as_json_lines() {
    let (emu, files) = setup().await;
    let fatal =
        run(&emu, files.path(), &["apply", "--plan", "nope.json", "--log-format", "json"]).await;
    let line =
        one_json_error(&fatal, "message", "nope.json: cannot read: No such file or directory");
    assert!(
        line["message"].as_str().is_some_and(|m| m.starts_with("nope.json: cannot read")),
        "{line}"
    );
    // The same error as text is miette's report.
    let text = run(&emu, files.path(), &["apply", "--plan", "nope.json"]).await;
    assert!(
        stderr(&text).starts_with("  × nope.json: cannot read: No such file or directory"),
        "{}",
        stderr(&text)
    );

    let usage =
        run(&emu, files.path(), &["plan", "--fromat", "json", "acme.yaml", "--log-format=json"])
            .await;
    let line = one_json_error(&usage, "help", "a similar argument exists: '--format'");
    assert_eq!(line["message"], "unexpected argument '--fromat' found");
    // A refusal by the safety limit, too.
    let refused = run(
        &emu,
        files.path(),
        &["apply", "acme.yaml", "--auto-approve", "--max-changes", "0", "--log-format", "json"],
    )
    .await;
    assert_eq!(refused.status.code(), Some(3));
    assert_eq!(json_lines(&refused)[0]["level"], "ERROR");
}
