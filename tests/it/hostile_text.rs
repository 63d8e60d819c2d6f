//! Text the tool does not control — file names, lines of a file, names and messages a
//! non-conforming endpoint returns — never reaches a terminal, a log or a written comment with
//! characters a terminal or a reader would act on (ESC sequences that retitle the window or
//! clear the screen, BEL, CR, C1 controls, bidirectional overrides): they are escaped, in every
//! format.

use crate::support::*;
use workmail_reconcile::emulator::{Seed, SeedUser, UpdateSemantics};
use workmail_reconcile::model::attrs::Attribute::*;

/// A window title change, a bell and a screen clear.
const ESCAPES: &str = "\u{1b}]0;pwned\u{7}\u{1b}[2J";

/// The characters of `text` a terminal would act on, but the line feed that ends each line.
pub fn unsafe_chars(text: &str) -> Vec<char> {
    text.chars()
        .filter(|c| {
            *c != '\n'
                && (c.is_control()
                    || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}'))
        })
        .collect()
}

/// Both streams of `output` hold nothing a terminal would act on.
fn assert_safe(what: &str, output: &std::process::Output) {
    for (stream, text) in [("stdout", stdout(output)), ("stderr", stderr(output))] {
        assert_eq!(unsafe_chars(&text), Vec::<char>::new(), "{what}: {stream}:\n{text:?}");
    }
}

/// Give `name` of acme the name `to`, which the emulator's checks would refuse in a seed.
pub fn rename(emu: &workmail_reconcile::emulator::Emulator, name: &str, to: &str) {
    assert!(emu.edit_user(ORG, name, |user| user.name = to.to_string()), "{name} exists");
}

#[tokio::test(flavor = "multi_thread")]
async fn input_errors_escape_file_names_and_quoted_lines() {
    let emu = emulator(Seed::default(), UpdateSemantics::Patch).await;
    let files = Files::new();
    let name = format!("users/evil{ESCAPES}.yaml");
    files.write(
        &name,
        &format!("organization: acme\nusers:\n  alice:\n    display_name: \"x{ESCAPES}\"\n"),
    );
    files.write(
        "users/key.yaml",
        &format!("organization: acme\nusers:\n  bob:\n    o{ESCAPES}: x\n"),
    );
    for args in [
        vec!["validate", "users"],
        vec!["plan", "users"],
        vec!["--log-format", "json", "validate", "users"],
        vec!["export", "--organization", "acme", "--skip-declared", "users"],
    ] {
        let out = run(&emu, files.path(), &args).await;
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert_safe(&format!("{args:?}"), &out);
        let errors = stderr(&out);
        // Shown escaped, so the reader still sees which file and, in the snippet, what line.
        let shown: &[&str] = match args[0] {
            "--log-format" => &["evil\\\\u{1b}]0;pwned\\\\u{7}\\\\u{1b}[2J.yaml"],
            _ => {
                &["evil\\u{1b}]0;pwned\\u{7}\\u{1b}[2J.yaml", "o\\u{1b}]0;pwned\\u{7}\\u{1b}[2J: x"]
            }
        };
        for shown in shown {
            assert!(errors.contains(shown), "{args:?}: {shown} in\n{errors}");
        }
    }
    assert!(emu.journal().is_empty(), "input errors are found before any call");
}

#[tokio::test(flavor = "multi_thread")]
async fn plans_and_the_apply_report_escape_values_and_names() {
    // DEL, a C1 CSI, NEL, a line separator and a right-to-left override: serde_json leaves them
    // all raw.
    let hostile = "a\u{7f}b\u{9b}2Jc\u{85}d\u{2028}e\u{202e}f";
    let seed = Seed::default().organization(acme(vec![user("alice", &[(DisplayName, hostile)])]));
    let emu = emulator(seed, UpdateSemantics::Patch).await;
    let files = Files::new();
    files.write("acme.yaml", "organization: acme\nusers:\n  alice:\n    display_name: Alice\n");
    for format in ["text", "json", "markdown"] {
        let out = run(&emu, files.path(), &["plan", "acme.yaml", "--format", format]).await;
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        assert_safe(format, &out);
        if format == "json" {
            let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
            assert_eq!(doc["changes"][0]["fields"][0]["before"], hostile, "the same value");
        }
    }
    let out = run(&emu, files.path(), &["apply", "acme.yaml", "--auto-approve", "-vv"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_safe("apply -vv", &out);
    assert!(stdout(&out).contains("\"a\\u007fb\\u009b2Jc"), "{}", stdout(&out));
}

/// A user that could not be managed, named by a non-conforming endpoint with escapes and line
/// breaks, is listed escaped: in the YAML export's `# Left out` comment (a CR or NEL there
/// would end the comment and declare users of its own), on stderr for the CSV formats, and the
/// exported file still validates and plans clean.
#[tokio::test(flavor = "multi_thread")]
async fn export_escapes_names_of_the_service_in_comments_and_on_stderr() {
    let seed = Seed::default().organization(acme(vec![
        user("alice", &[(DisplayName, "Alice \u{7f}\u{9b}31m")]),
        SeedUser::new("postmaster").email("postmaster@acme.example").role("SYSTEM_USER"),
        SeedUser::new("room").email("room@acme.example").role("RESOURCE"),
    ]));
    let emu = emulator(seed, UpdateSemantics::Patch).await;
    // Names no conforming endpoint would return.
    rename(&emu, "postmaster", &format!("post{ESCAPES}master\rusers: {{}}\u{85}x: 1"));
    rename(&emu, "room", &format!("room{ESCAPES}"));
    let files = Files::new();
    let out =
        run(&emu, files.path(), &["export", "--organization", "acme", "--out", "acme.yaml"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_safe("export yaml", &out);
    let written = files.read("acme.yaml");
    assert_eq!(unsafe_chars(&written), Vec::<char>::new(), "{written:?}");
    assert!(
        written.contains(
            "#   post\\u{1b}]0;pwned\\u{7}\\u{1b}[2Jmaster\\rusers: {}\\u{85}x: 1: role SYSTEM_USER cannot be updated through the API\n"
        ),
        "{written}"
    );
    let validated = run(&emu, files.path(), &["validate", "acme.yaml"]).await;
    assert_eq!(validated.status.code(), Some(0), "{}", stderr(&validated));
    let planned = run(&emu, files.path(), &["plan", "acme.yaml", "--detailed-exitcode"]).await;
    assert_eq!(planned.status.code(), Some(0), "plans clean: {}", stdout(&planned));
    for format in ["csv", "m365-csv"] {
        let out =
            run(&emu, files.path(), &["export", "--organization", "acme", "--format", format])
                .await;
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        assert_eq!(unsafe_chars(&stderr(&out)), Vec::<char>::new(), "{format}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("left out: room\\u{1b}]0;pwned\\u{7}\\u{1b}[2J: role RESOURCE"),
            "{format}: {}",
            stderr(&out)
        );
    }
}
