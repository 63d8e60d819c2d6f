//! A file a command writes is never one it reads: the README's adopt command run twice, and
//! every other `--out` or `--audit-log` onto an input, under any spelling of its path. Each is
//! refused with exit 1 before any call, naming the file and saying what to do, and the file is
//! left as it was.

use crate::support::*;
use workmail_reconcile::emulator::{Emulator, Seed, UpdateSemantics};
use workmail_reconcile::model::attrs::Attribute::*;

/// acme: alice (declared below) and dan and eve (in no file).
fn seed() -> Seed {
    Seed::default().organization(acme(vec![
        user("alice", &[(DisplayName, "Alice L")]),
        user("dan", &[(DisplayName, "Dan")]),
        user("eve", &[(DisplayName, "Eve")]),
    ]))
}

const DESIRED: &str = "organization: acme\nusers:\n  alice:\n    display_name: Alice Liddell\n";

/// `args` exits 1 with `expected` (whitespace aside) on stderr, no call was made, and every
/// file of `files` is as it was.
async fn refused(emu: &Emulator, files: &Files, args: &[&str], expected: &[&str]) {
    let before = snapshot(files);
    emu.clear_journal();
    let out = run(emu, files.path(), args).await;
    assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr(&out));
    let said = unwrapped(&stderr(&out));
    for words in expected {
        assert!(said.contains(&unwrapped(words)), "{args:?}: `{words}` in\n{}", stderr(&out));
    }
    assert!(emu.journal().is_empty(), "{args:?}: no call");
    assert_eq!(snapshot(files), before, "{args:?}: no file changed");
}

/// Every file under `files`, with its text.
fn snapshot(files: &Files) -> Vec<(String, String)> {
    let mut all = Vec::new();
    let mut stack = vec![files.path().to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                all.push((path.display().to_string(), text));
            }
        }
    }
    all.sort();
    all
}

/// The README's adopt command, run twice: the first run writes the users in no file; the second
/// would read the file it writes as declarations and empty it. It is refused, and the way on
/// (a new file) adopts nothing twice.
#[tokio::test(flavor = "multi_thread")]
async fn the_adopt_command_run_twice_never_empties_the_file_it_wrote() {
    let emu = emulator(seed(), UpdateSemantics::Patch).await;
    let files = Files::new();
    files.write("users/acme.yaml", DESIRED);
    let adopt = [
        "export",
        "--organization",
        "acme",
        "--skip-declared",
        "users/",
        "--out",
        "users/acme-new.yaml",
    ];
    let out = run(&emu, files.path(), &adopt).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let adopted = files.read("users/acme-new.yaml");
    assert!(adopted.contains("  dan:\n") && adopted.contains("  eve:\n"), "{adopted}");
    refused(
        &emu,
        &files,
        &adopt,
        &[
            "--out users/acme-new.yaml is one of the desired-state files --skip-declared reads",
            "writing it would replace the users it declares; nothing was exported",
            "write to a new file: the users users/acme-new.yaml declares are declared already",
        ],
    )
    .await;
    // Other spellings of the same file: `..`, `./`, a symbolic link, a hard link.
    std::fs::create_dir(files.path().join("elsewhere")).expect("mkdir");
    std::os::unix::fs::symlink("../users/acme-new.yaml", files.path().join("elsewhere/link.yaml"))
        .expect("symlink");
    std::fs::hard_link(files.path().join("users/acme-new.yaml"), files.path().join("hard.yaml"))
        .expect("hard link");
    for out in [
        "users/../users/acme-new.yaml",
        "./users/acme-new.yaml",
        "elsewhere/link.yaml",
        "hard.yaml",
    ] {
        let mut args = adopt.to_vec();
        *args.last_mut().expect("--out FILE") = out;
        refused(&emu, &files, &args, &["is one of the desired-state files --skip-declared reads"])
            .await;
    }
    // A file named on its own is read too.
    let args = [
        "export",
        "--organization",
        "acme",
        "--skip-declared",
        "users/acme.yaml",
        "./users/../users/acme.yaml",
    ];
    let mut args = args.to_vec();
    args.extend(["--out", "users/acme.yaml"]);
    refused(&emu, &files, &args, &["--out users/acme.yaml is one of the desired-state files"])
        .await;
    // The way on: a new file, which leaves out everyone declared, the adopted users included.
    let mut args = adopt.to_vec();
    *args.last_mut().expect("--out FILE") = "users/acme-newer.yaml";
    let out = run(&emu, files.path(), &args).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(files.read("users/acme-newer.yaml").ends_with("users: {}\n"));
    assert_eq!(files.read("users/acme-new.yaml"), adopted);
}

/// The other commands that write a file: `plan --out` and `--audit-log` onto a desired-state
/// file, onto another file read (the saved plan, the redaction key, the webhook secret), or as
/// a new `*.yaml` inside a directory read (the next run would read it).
#[tokio::test(flavor = "multi_thread")]
async fn no_command_writes_a_file_it_reads() {
    let emu = emulator(seed(), UpdateSemantics::Patch).await;
    let files = Files::new();
    files.write("users/acme.yaml", DESIRED);
    files.write("key.bin", "0123456789abcdef0123456789abcdef");
    files.write("secret", "webhook secret");
    refused(
        &emu,
        &files,
        &["plan", "users", "--out", "users/../users/acme.yaml"],
        &[
            "--out users/../users/acme.yaml (the same file as users/acme.yaml) is one of the \
             desired-state files PATH reads",
            "nothing was planned",
            "save the plan to a file of its own, such as plan.json",
        ],
    )
    .await;
    refused(
        &emu,
        &files,
        &["plan", "users", "--out", "users/plan.yaml"],
        &["--out users/plan.yaml is inside users, which PATH reads", "the next run would read it"],
    )
    .await;
    refused(
        &emu,
        &files,
        &["plan", "users", "--redact-all", "--redact-key-file", "key.bin", "--out", "key.bin"],
        &["--out key.bin is the file --redact-key-file key.bin reads"],
    )
    .await;
    refused(
        &emu,
        &files,
        &["apply", "users/acme.yaml", "--auto-approve", "--audit-log", "users/acme.yaml"],
        &["--audit-log users/acme.yaml is one of the desired-state files PATH reads"],
    )
    .await;
    refused(
        &emu,
        &files,
        &["apply", "users", "--auto-approve", "--audit-log", "users/audit.yml"],
        &["--audit-log users/audit.yml is inside users, which PATH reads"],
    )
    .await;
    let out = run(&emu, files.path(), &["plan", "users", "--out", "plan.json"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    refused(
        &emu,
        &files,
        &["apply", "--plan", "plan.json", "--auto-approve", "--audit-log", "./plan.json"],
        &["--audit-log ./plan.json is the file --plan plan.json reads"],
    )
    .await;
    refused(
        &emu,
        &files,
        &["controller", "users", "--audit-log", "users/audit.yaml"],
        &["--audit-log users/audit.yaml is inside users, which SOURCE reads", "not started"],
    )
    .await;
    refused(
        &emu,
        &files,
        &["controller", "users", "--webhook-secret-file", "secret", "--audit-log", "secret"],
        &["--audit-log secret is the file --webhook-secret-file secret reads"],
    )
    .await;
    // Files of their own are fine, hidden ones inside the directory too (never read).
    let line = ["apply", "users", "--auto-approve", "--audit-log", "users/.audit.yaml"];
    let out = run(&emu, files.path(), &line).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(ok_calls(&emu.journal(), "UpdateUser").len(), 1);
}
