//! Reading input files: every file the tool reads (desired state, saved plan, emulator seed) is
//! bounded in size whatever the path names — a huge file, a device, a FIFO, a link to one; the
//! YAML parser's limits name the one that fired; directories are read by extension in any case.
//!
//! The binary runs with its address space capped (`ulimit -v`) and a time limit: a reader that
//! is not bounded fails these tests (out of memory, or killed) instead of taking the machine's
//! memory or hanging.

#![cfg(unix)]

use crate::support::{Files, ORG, acme, emulator, user};
use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};
use workmail_reconcile::emulator::{Seed, UpdateSemantics};
use workmail_reconcile::model::attrs::Attribute::DisplayName;

/// Address space for a run that reads one desired-state file: the binary's own ~60 MiB plus
/// one file at the 64 MiB limit fit; reading `/dev/zero` or a 200 MiB file whole does not.
const CAP_MIB: u64 = 192;
/// A run waiting forever (on a FIFO) fails its test after this instead of hanging it.
const HANG: Duration = Duration::from_secs(60);

/// `cmd` to run through `sh` with its address space capped at `cap_mib`.
fn capped(cmd: &Command, cap_mib: u64) -> Command {
    let mut sh = Command::new("sh");
    sh.arg("-c")
        .arg(format!("ulimit -v {} && exec \"$0\" \"$@\"", cap_mib * 1024))
        .arg(cmd.get_program())
        .args(cmd.get_args())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::null());
    for (key, value) in cmd.get_envs() {
        if let Some(value) = value {
            sh.env(key, value);
        }
    }
    if let Some(dir) = cmd.get_current_dir() {
        sh.current_dir(dir);
    }
    sh
}

/// `cmd` run with its address space capped at `cap_mib`, killed after [`HANG`].
fn run_capped(cmd: &Command, cap_mib: u64) -> (Output, Duration) {
    let start = Instant::now();
    let output = assert_cmd::Command::from_std(capped(cmd, cap_mib))
        .timeout(HANG)
        .output()
        .expect("sh runs");
    (output, start.elapsed())
}

/// `workmail-reconcile ARGS` in `dir`.
fn binary(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_workmail-reconcile"));
    cmd.current_dir(dir).args(args);
    cmd
}

/// `validate ARGS` in `dir`, capped: exit code and stderr; stdout must be empty on failure.
fn validate(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let mut all = vec!["validate"];
    all.extend_from_slice(args);
    let (output, elapsed) = run_capped(&binary(dir, &all), CAP_MIB);
    // Printed for the record, not asserted: CI machines vary. Each is a fraction of a second.
    eprintln!("validate {args:?}: {elapsed:?}");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// `validate ARGS` that must pass: its stdout.
fn valid(dir: &Path, args: &[&str]) -> String {
    let (code, stdout, stderr) = validate(dir, args);
    assert_eq!((code, stderr.as_str()), (0, ""));
    stdout
}

/// `validate ARGS` that must fail: its stderr.
fn refused(dir: &Path, args: &[&str]) -> String {
    let (code, stdout, stderr) = validate(dir, args);
    assert_eq!((code, stdout.as_str()), (1, ""), "stderr:\n{stderr}");
    stderr
}

const VALID: &str = "organization: acme\nusers:\n  alice:\n    display_name: Alice\n";

/// A sparse file of `size` bytes: no disk used.
fn sparse(path: &Path, size: u64) {
    std::fs::File::create(path).and_then(|f| f.set_len(size)).expect("sparse file");
}

fn mkfifo(path: &Path) {
    let status = Command::new("mkfifo").arg(path).status().expect("mkfifo runs");
    assert!(status.success(), "mkfifo {}", path.display());
}

// ------------------------------------------------------------------ desired-state files

#[test]
fn validate_link_to_dev_zero_is_read_up_to_the_limit_and_refused() {
    let files = Files::new();
    std::os::unix::fs::symlink("/dev/zero", files.path().join("zero.yaml")).expect("symlink");
    insta::assert_snapshot!(refused(files.path(), &["zero.yaml"]), @r"
      × zero.yaml: more than 67108864 bytes (a character device, read up to the limit); at most 67108864 bytes
      │ (64 MiB) are allowed
      help: a device or a FIFO is read like a file, up to the same limit: name the desired-state files
            themselves

    error: 1 error in 1 file
    ");
}

#[test]
fn validate_directory_with_a_link_to_dev_zero_and_a_fifo_refuses_them_without_opening_them() {
    // What a pull request adding such a link does to the CI job: one error each, at once.
    let files = Files::new();
    files.write("users/acme.yaml", VALID);
    std::os::unix::fs::symlink("/dev/zero", files.path().join("users/zero.yaml")).expect("link");
    mkfifo(&files.path().join("users/pipe.yaml"));
    insta::assert_snapshot!(refused(files.path(), &["users"]), @r"
      × users/pipe.yaml: is a FIFO, not a regular file
      help: inside a directory only regular files (or links to them) are read; name a FIFO or a device on the
            command line to read it

      × users/zero.yaml: is a character device, not a regular file
      help: inside a directory only regular files (or links to them) are read; name a FIFO or a device on the
            command line to read it

    error: 2 errors in 2 files
    ");
    // A directory whose only such entry is refused has that one error, not "holds no file".
    std::fs::create_dir(files.path().join("only")).expect("mkdir");
    std::os::unix::fs::symlink("/dev/zero", files.path().join("only/zero.yaml")).expect("link");
    let stderr = refused(files.path(), &["only"]);
    assert!(stderr.ends_with("error: 1 error in 1 file\n"), "{stderr}");
    assert!(stderr.starts_with("  × only/zero.yaml: is a character device"), "{stderr}");
}

#[test]
fn validate_sparse_file_of_200_mib_is_refused_without_reading_it() {
    let files = Files::new();
    sparse(&files.path().join("big.yaml"), 200 * 1024 * 1024);
    insta::assert_snapshot!(refused(files.path(), &["big.yaml"]), @r"
      × big.yaml: file is 209715200 bytes; at most 67108864 bytes (64 MiB) are allowed
      help: split the users over several files

    error: 1 error in 1 file
    ");
}

#[test]
fn validate_fifo_without_a_writer_is_refused_at_once() {
    let files = Files::new();
    mkfifo(&files.path().join("users.yaml"));
    insta::assert_snapshot!(refused(files.path(), &["users.yaml"]), @r"
      × users.yaml: a FIFO that nothing was written to (it has no writer)

    error: 1 error in 1 file
    ");
}

/// `validate /dev/stdin` with `input` written to its pipe by another thread (what `<(…)` and
/// `cat file |` give): the code, stdout and stderr.
fn validate_pipe(input: Vec<u8>) -> (i32, String, String) {
    let files = Files::new();
    let mut child = capped(&binary(files.path(), &["validate", "/dev/stdin"]), CAP_MIB)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("sh runs");
    let mut stdin = child.stdin.take().expect("stdin");
    let writer = std::thread::spawn(move || {
        // Over the limit, the reader stops and exits: the rest cannot be written (EPIPE).
        let _ = std::io::Write::write_all(&mut stdin, &input);
    });
    let output = child.wait_with_output().expect("runs");
    writer.join().expect("writer");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn validate_pipe_with_a_writer_is_read() {
    let (code, stdout, stderr) = validate_pipe(VALID.as_bytes().to_vec());
    assert_eq!((code, stderr.as_str()), (0, ""));
    assert_eq!(stdout, "Valid: 1 file, 1 organization, 1 user.\n");
}

#[test]
fn validate_pipe_over_the_limit_is_refused_after_the_limit() {
    let (code, stdout, stderr) = validate_pipe(vec![b'#'; 64 * 1024 * 1024 + 4096]);
    assert_eq!((code, stdout.as_str()), (1, ""));
    insta::assert_snapshot!(stderr, @r"
      × /dev/stdin: more than 67108864 bytes (a FIFO, read up to the limit); at most 67108864 bytes (64 MiB) are
      │ allowed
      help: a device or a FIFO is read like a file, up to the same limit: name the desired-state files
            themselves

    error: 1 error in 1 file
    ");
}

#[test]
fn validate_non_utf8_file_names_file_line_and_column_of_the_first_invalid_byte() {
    let files = Files::new();
    let text = b"organization: acme\nusers:\n  alice:\n    display_name: \"Al\xe9xis\"\n";
    std::fs::write(files.path().join("latin1.yaml"), text).expect("write");
    insta::assert_snapshot!(refused(files.path(), &["latin1.yaml"]), @r"
      × latin1.yaml:4:22: not UTF-8 text (invalid byte 0xE9)
      help: desired-state files are UTF-8 text: convert the file (for example with `iconv -t UTF-8`), or move it
            out of the directory if it is not one

    error: 1 error in 1 file
    ");
}

#[test]
fn validate_directory_reads_yaml_and_yml_in_any_case() {
    let files = Files::new();
    files.write("users/a.yaml", VALID);
    files.write("users/b.YAML", "organization: acme\nusers:\n  bob: {}\n");
    files.write("users/c.Yml", "organization: acme\nusers:\n  carol: {}\n");
    files.write("users/notes.txt", "not desired state");
    assert_eq!(valid(files.path(), &["users"]), "Valid: 3 files, 1 organization, 3 users.\n");
}

// ------------------------------------------------------------------ YAML limits

#[test]
fn validate_block_shared_by_5000_users_is_valid() {
    let files = Files::new();
    let mut text = String::from(
        "organization: acme\nusers:\n  user0: &common\n    department: Engineering\n    company: \
         Acme\n    city: Berlin\n",
    );
    for i in 1..5_000 {
        text.push_str(&format!("  user{i}:\n    <<: *common\n    display_name: User {i}\n"));
    }
    files.write("acme.yaml", &text);
    assert_eq!(valid(files.path(), &["acme.yaml"]), "Valid: 1 file, 1 organization, 5000 users.\n");
}

#[test]
fn validate_aliases_expanding_past_the_limit_name_the_limit_found_and_allowed() {
    let files = Files::new();
    // One anchor of 1,000 scalars (1,002 events), used 200 times from a 5 kB file.
    let block = vec!["x"; 1_000].join(",");
    let uses = "      - *big\n".repeat(200);
    files.write(
        "bomb.yaml",
        &format!(
            "organization: acme\nusers:\n  alice:\n    display_name: &big [{block}]\n  bob:\n    \
             display_name:\n{uses}"
        ),
    );
    insta::assert_snapshot!(refused(files.path(), &["bomb.yaml"]));
}

#[test]
fn validate_second_document_is_refused_where_it_starts() {
    let files = Files::new();
    files.write("two.yaml", &format!("{VALID}---\norganization: globex\nusers: {{}}\n"));
    insta::assert_snapshot!(refused(files.path(), &["two.yaml"]), @r"
      × a desired-state file holds one YAML document; found a second at line 5, column 1
       ╭─[two.yaml:5:1]
     4 │     display_name: Alice
     5 │ ---
       · ─┬─
       ·  ╰── second document
     6 │ organization: globex
       ╰────
      help: remove the `---` line that starts the second document (and what follows), or move that document to a
            file of its own

    error: 1 error in 1 file
    ");
}

// ------------------------------------------------------------------ saved plans and seeds

/// `apply --plan PLAN --auto-approve` against a live emulator: refused before any call.
async fn apply_refuses(prepare: impl FnOnce(&Path), cap_mib: u64) -> String {
    let emu = emulator(
        Seed::default().organization(acme(vec![user("alice", &[(DisplayName, "A")])])),
        UpdateSemantics::Patch,
    )
    .await;
    let files = Files::new();
    prepare(files.path());
    let cmd = crate::support::command(
        &emu.url(),
        files.path(),
        &["apply", "--plan", "plan.json", "--auto-approve"],
    );
    let (output, elapsed) =
        tokio::task::spawn_blocking(move || run_capped(&cmd, cap_mib)).await.expect("join");
    eprintln!("apply --plan: {elapsed:?}");
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert!(emu.journal().is_empty(), "no call made for {ORG}");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn apply_saved_plan_over_the_limit_is_refused_before_any_call() {
    let sparse_plan = apply_refuses(|dir| sparse(&dir.join("plan.json"), 300 << 20), CAP_MIB);
    insta::assert_snapshot!(sparse_plan.await, @r"
      × plan.json: file is 314572800 bytes; at most 268435456 bytes (256 MiB) are allowed
    ");
    let link = |dir: &Path| {
        std::os::unix::fs::symlink("/dev/zero", dir.join("plan.json")).expect("link");
    };
    // Read up to the saved plan's limit (256 MiB): more room than for a desired-state file.
    insta::assert_snapshot!(apply_refuses(link, 512).await, @r"
      × plan.json: more than 268435456 bytes (a character device, read up to the limit); at most 268435456 bytes
      │ (256 MiB) are allowed
    ");
    let fifo = |dir: &Path| mkfifo(&dir.join("plan.json"));
    insta::assert_snapshot!(apply_refuses(fifo, CAP_MIB).await, @r"
      × plan.json: a FIFO that nothing was written to (it has no writer)
    ");
}

#[test]
fn emulator_seed_link_to_dev_zero_is_refused() {
    let files = Files::new();
    std::os::unix::fs::symlink("/dev/zero", files.path().join("seed.yaml")).expect("link");
    let (output, _) =
        run_capped(&binary(files.path(), &["emulator", "--seed", "seed.yaml"]), CAP_MIB);
    assert_eq!((output.status.code(), output.stdout.as_slice()), (Some(1), &b""[..]));
    insta::assert_snapshot!(String::from_utf8_lossy(&output.stderr), @r"
      × invalid seed: seed.yaml: more than 67108864 bytes (a character device, read up to the limit); at most
      │ 67108864 bytes (64 MiB) are allowed
    ");
}

#[test]
fn emulator_seed_not_utf8_names_file_line_and_column() {
    let files = Files::new();
    std::fs::write(files.path().join("seed.yaml"), b"organizations:\n  - alias: \xff\n")
        .expect("write");
    let (output, _) =
        run_capped(&binary(files.path(), &["emulator", "--seed", "seed.yaml"]), CAP_MIB);
    assert_eq!(output.status.code(), Some(1));
    insta::assert_snapshot!(String::from_utf8_lossy(&output.stderr), @r"
      × invalid seed: seed.yaml:2:12: not UTF-8 text (invalid byte 0xFF)
    ");
}
