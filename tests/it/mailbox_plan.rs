//! The mailbox keys (`aliases`, `groups`, `mailbox_quota_mb`) in `validate` and `plan` against
//! the emulator: offline errors, the diff, the calls made (from the journal).

use crate::support::*;

/// Every offline error of the mailbox keys, all in one run, each at its file:line:column, and
/// no call to the directory.
#[tokio::test(flavor = "multi_thread")]
async fn mailbox_offline_errors_are_all_reported_in_one_run_before_any_call() {
    let emu = emulator(workmail_reconcile::emulator::Seed::default(), Default::default()).await;
    let files = Files::new();
    files.write(
        "a.yaml",
        "organization: acme\n\
         defaults:\n  \
           aliases: [x@acme.example]\n\
         users:\n  \
           alice@acme.example:\n    \
             aliases: [a.l@acme.example, not-an-address, A.L@acme.example, alice@ACME.example]\n    \
             groups: [engineering, Engineering]\n    \
             mailbox_quota_mb: 0\n  \
           bob:\n    \
             aliases: b@acme.example\n    \
             groups: [[x]]\n    \
             mailbox_quota_mb: \"10240\"\n    \
             display_name: [a]\n  \
           carol:\n    \
             aliases: [shared@acme.example]\n    \
             mailbox_quota_mb: -5\n",
    );
    files.write(
        "b.yaml",
        "organization: ACME\nusers:\n  dave:\n    aliases:\n      - Shared@acme.example\n",
    );
    for command in ["validate", "plan"] {
        let out = run(&emu, files.path(), &[command, "a.yaml", "b.yaml"]).await;
        assert_eq!(out.status.code(), Some(1), "{command}");
        let err = stderr(&out);
        let words = unwrapped(&err);
        for expected in [
            "a.yaml:3:12]",  // non-empty aliases in defaults
            "a.yaml:6:33]",  // not an address
            "a.yaml:6:49]",  // the same alias twice
            "a.yaml:6:67]",  // the user's own key
            "a.yaml:7:27]",  // a group twice
            "a.yaml:8:23]",  // quota 0
            "a.yaml:10:14]", // a string where a list belongs
            "a.yaml:11:14]", // a list where a string belongs
            "a.yaml:12:23]", // a quoted quota
            "a.yaml:13:19]", // a list where a string belongs (attribute)
            "a.yaml:16:23]", // negative quota
            "b.yaml:5:9]",   // one alias for two users
        ] {
            assert!(err.contains(expected), "{command}: {expected} missing:\n{err}");
        }
        assert!(words.contains("isalsodeclaredforuser`carol`ata.yaml:15:15"), "{err}");
        assert!(err.contains("error: 12 errors in 2 files"), "{err}");
    }
    assert!(emu.journal().is_empty(), "no call before the files are valid");
}
