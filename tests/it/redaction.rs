//! `--redact`: values stay out of every output and log line; markers are keyed hashes that
//! compare within a run, differ across runs, and compare across runs only with a key file.

use crate::support::*;
use workmail_reconcile::emulator::{Emulator, Seed, UpdateSemantics};
use workmail_reconcile::model::attrs::Attribute::*;

const PHONE_BEFORE: &str = "+1 555 0100";
const PHONE_AFTER: &str = "+1 555 0199";

async fn setup() -> (Emulator, Files) {
    let seed = Seed::default().organization(acme(vec![
        user("alice", &[(Telephone, PHONE_BEFORE), (Office, "Old Lab"), (City, "Paris")]),
        user("bob", &[(Telephone, PHONE_BEFORE), (Office, "Old Lab")]),
    ]));
    let desired = format!(
        "organization: acme\nusers:\n  alice:\n    telephone: \"{PHONE_AFTER}\"\n    \
         office: New Lab\n    city: \"\"\n  bob:\n    office: New Lab\n    telephone: \"\"\n"
    );
    with_acme_file(seed, UpdateSemantics::Patch, &desired).await
}

/// The `before`/`after` markers of every planned field, from the JSON plan.
fn markers(plan_json: &str) -> Vec<(String, String, String)> {
    let doc: serde_json::Value = serde_json::from_str(plan_json).expect("JSON plan");
    let mut found = Vec::new();
    for change in doc["changes"].as_array().expect("changes") {
        for field in change["fields"].as_array().expect("fields") {
            let text = |key: &str| field[key].as_str().expect("a marker").to_string();
            let (user, key) = (change["user"].as_str(), field["field"].as_str());
            let name = format!("{}.{}", user.expect("user"), key.expect("field"));
            found.push((name, text("before"), text("after")));
        }
    }
    found
}

#[tokio::test(flavor = "multi_thread")]
async fn debug_logs_honour_redaction() {
    let (emu, files) = setup().await;
    for format in ["text", "json"] {
        let args = ["-vv", "--log-format", format, "plan", "--redact", "telephone", "acme.yaml"];
        let out = run(&emu, files.path(), &args).await;
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let logs = stderr(&out);
        assert!(logs.contains("planned change"), "-vv logs the planned changes:\n{logs}");
        assert!(logs.contains("New Lab"), "unredacted fields are still logged at -vv:\n{logs}");
        // A part of both numbers too, with its space: a bare "555" can be a timestamp's digits.
        for phone in [PHONE_BEFORE, PHONE_AFTER, "555 01"] {
            assert!(!logs.contains(phone), "{format}: {phone} leaked:\n{logs}");
            assert!(!stdout(&out).contains(phone), "{format}: {phone} leaked on stdout");
        }
        assert!(logs.contains("(redacted hmac:"), "{logs}");
    }
    // Every value, every log level the flags offer, plan and apply.
    for args in [
        &["-vvv", "plan", "--redact-all", "acme.yaml"][..],
        &["-vvv", "apply", "--redact-all", "--auto-approve", "acme.yaml"],
    ] {
        let out = run(&emu, files.path(), args).await;
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        for value in [PHONE_BEFORE, PHONE_AFTER, "Old Lab", "New Lab"] {
            assert!(!stderr(&out).contains(value), "{args:?}: {value} in the logs");
            assert!(!stdout(&out).contains(value), "{args:?}: {value} on stdout");
        }
    }
    assert_eq!(live(&emu, "alice", Telephone), text(PHONE_AFTER), "the apply did happen");
}

#[tokio::test(flavor = "multi_thread")]
async fn json_debug_logs_carry_values_not_their_display() {
    let (emu, files) = setup().await;
    let args = ["-vv", "--log-format", "json", "plan", "--redact", "telephone", "acme.yaml"];
    let out = run(&emu, files.path(), &args).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let planned: Vec<serde_json::Value> = stderr(&out)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|l| l["message"] == "planned change")
        .collect();
    let of = |user: &str, field: &str| {
        planned
            .iter()
            .find(|l| l["user"] == user && l["field"] == field)
            .unwrap_or_else(|| panic!("{user}.{field} in {planned:?}"))
    };
    let office = of("alice", "office");
    assert_eq!((&office["before"], &office["after"]), (&"Old Lab".into(), &"New Lab".into()));
    assert_eq!(of("alice", "city")["after"], "", "the empty value is the empty string");
    let phone = of("alice", "telephone");
    assert!(phone["before"].as_str().is_some_and(|m| m.starts_with("(redacted hmac:")), "{phone}");
}

#[tokio::test(flavor = "multi_thread")]
async fn markers_compare_within_a_run_and_not_across_runs() {
    let (emu, files) = setup().await;
    let args = ["plan", "--format", "json", "--redact-all", "acme.yaml"];
    let first = markers(&stdout(&run(&emu, files.path(), &args).await));
    let second = markers(&stdout(&run(&emu, files.path(), &args).await));
    let marker = |run: &[(String, String, String)], name: &str| {
        run.iter().find(|(n, ..)| n == name).cloned().expect(name)
    };
    // Within one run: alice's and bob's offices are the same values, so the same markers, and
    // alice's city and bob's telephone are both "" after.
    let (alice_office, bob_office) = (marker(&first, "alice.office"), marker(&first, "bob.office"));
    assert_eq!((&alice_office.1, &alice_office.2), (&bob_office.1, &bob_office.2));
    assert_ne!(alice_office.1, alice_office.2, "a change shows as two different markers");
    let empty = marker(&first, "bob.telephone").2;
    assert_eq!(marker(&first, "alice.city").2, empty);
    assert!(empty.starts_with("(redacted hmac:") && empty.len() == 24, "{empty}");
    // Across runs without a key file: nothing compares, not even the empty value, which is
    // never the well-known SHA-256 of "" either.
    assert_eq!(first.len(), second.len());
    for ((name, before, after), (_, before2, after2)) in first.iter().zip(&second) {
        assert_ne!(before, before2, "{name}");
        assert_ne!(after, after2, "{name}");
    }
    assert_ne!(empty, marker(&second, "bob.telephone").2);
    for run in [&first, &second] {
        for (name, before, after) in run {
            for marker in [before, after] {
                assert!(!marker.contains("e3b0c442"), "{name}: the plain hash of \"\"");
                assert!(!marker.contains("sha256"), "{name}: {marker}");
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_key_file_makes_markers_stable_across_runs() {
    let (emu, files) = setup().await;
    files.write("redaction.key", "a shared team secret of some length\n");
    let args = [
        "plan",
        "--format",
        "json",
        "--redact-all",
        "--redact-key-file",
        "redaction.key",
        "acme.yaml",
    ];
    let first = stdout(&run(&emu, files.path(), &args).await);
    let second = stdout(&run(&emu, files.path(), &args).await);
    assert!(first.contains("(redacted hmac:"), "{first}");
    assert_eq!(first, second);
    // Another key, other markers.
    files.write("other.key", "another team secret, also long\n");
    let other_args =
        ["plan", "--format", "json", "--redact-all", "--redact-key-file", "other.key", "acme.yaml"];
    let other = stdout(&run(&emu, files.path(), &other_args).await);
    assert_ne!(markers(&first), markers(&other));
}

#[tokio::test(flavor = "multi_thread")]
async fn unusable_key_files_are_refused_before_any_call() {
    let (emu, files) = setup().await;
    files.write("short.key", "too short\n");
    files.write("empty.key", "");
    let cases = [
        ("short.key", "holds 9 bytes; a key needs at least 16"),
        ("empty.key", "holds 0 bytes; a key needs at least 16"),
        ("missing.key", "cannot read the redaction key file missing.key"),
    ];
    for (file, message) in cases {
        let args = ["plan", "--redact", "telephone", "--redact-key-file", file, "acme.yaml"];
        let out = run(&emu, files.path(), &args).await;
        assert_eq!(out.status.code(), Some(1), "{file}: {}", stderr(&out));
        assert!(stderr(&out).contains(message), "{file}: {}", stderr(&out));
    }
    #[cfg(unix)]
    {
        let args = ["plan", "--redact-all", "--redact-key-file", "/dev/zero", "acme.yaml"];
        let out = run(&emu, files.path(), &args).await;
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        assert!(stderr(&out).contains("longer than 4096 bytes"), "{}", stderr(&out));
    }
    assert!(emu.journal().is_empty(), "no call before the key is read");
    // A key file without anything to redact would be accepted and ignored: a usage error.
    let out =
        run(&emu, files.path(), &["plan", "--redact-key-file", "short.key", "acme.yaml"]).await;
    let mistyped = run(&emu, files.path(), &["plan", "--fromat", "json", "acme.yaml"]).await;
    assert_eq!(out.status.code(), mistyped.status.code(), "{}", stderr(&out));
    assert!(stderr(&out).contains("--redact"), "{}", stderr(&out));
}
