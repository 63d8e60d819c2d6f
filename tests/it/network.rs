//! Endpoints that fail: hung, closed, unresolvable, malformed, refusing the credentials. Each
//! run ends with one sentence naming the endpoint, the operation and the cause, within its
//! timeouts, and never with the SDK's debug dump; and the emulator works with nothing but an
//! endpoint URL and its keys. What bounds a run is checked by what the endpoints saw (the
//! attempts a hung endpoint was sent), not by how long the run took.

use crate::support::*;
use std::path::Path;
use std::process::Output;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use workmail_reconcile::emulator::{Emulator, Faults, Seed, UpdateSemantics};
use workmail_reconcile::model::attrs::Attribute::*;

/// A TCP endpoint that accepts connections and never answers, and the count of connections
/// it accepted (one per attempt: an attempt that timed out leaves its connection); it stops
/// with the test's runtime.
async fn hung_endpoint() -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    let accepted = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&accepted);
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            counted.fetch_add(1, Ordering::SeqCst);
            held.push(socket);
        }
    });
    (url, accepted)
}

/// A port nothing listens on: bound, then closed.
fn closed_endpoint() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    drop(listener);
    url
}

/// `count` users of the organization by id (no ListOrganizations), each with a change.
fn desired(files: &Files, count: usize) {
    let body: String = (0..count).map(|i| format!("  user{i:02}:\n    office: New\n")).collect();
    files.write("acme.yaml", &format!("organization: {ORG}\nusers:\n{body}"));
}

/// An emulator whose organization has no users, and a file declaring `count` of them.
async fn empty_organization(count: usize) -> (Emulator, Files) {
    let emu = emulator(Seed::default().organization(acme(vec![])), UpdateSemantics::Patch).await;
    let files = Files::new();
    desired(&files, count);
    (emu, files)
}

/// Run a prepared command without blocking the emulator's runtime, timing it.
async fn output_timed(mut cmd: std::process::Command) -> (Output, Duration) {
    let started = Instant::now();
    let out = tokio::task::spawn_blocking(move || cmd.output().expect("binary runs"))
        .await
        .expect("join");
    (out, started.elapsed())
}

/// Run the binary against `url` in `dir`, timing it.
async fn run_timed(url: &str, dir: &Path, args: &[&str]) -> (Output, Duration) {
    output_timed(command(url, dir, args)).await
}

/// Everything the binary said, for the checks that hold on both streams.
fn said(out: &Output) -> String {
    format!("{}{}", stdout(out), stderr(out))
}

/// `text` without whitespace and the box-drawing of miette's report, so that a sentence is found
/// wherever the report wrapped it.
fn squash(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace() && !matches!(c, '│' | '×')).collect()
}

/// Whether stderr holds `sentence`, however it was wrapped.
fn says(out: &Output, sentence: &str) -> bool {
    squash(&stderr(out)).contains(&squash(sentence))
}

/// No Rust `Debug` dump of an SDK error anywhere in the output.
fn assert_no_debug_dump(out: &Output) {
    let all = said(out);
    for dump in ["DispatchFailure", "ConnectorError", "TimeoutError", "{ source:", "Some("] {
        assert!(!all.contains(dump), "`{dump}` in the output:\n{all}");
    }
}

/// The exit code clap gives a mistyped flag: every bad flag value must be the same usage error.
async fn usage_error_code(dir: &Path) -> Option<i32> {
    let (out, _) = run_timed("", dir, &["plan", "--fromat", "json", "acme.yaml"]).await;
    out.status.code()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hung_endpoint_times_out_with_one_sentence_naming_it() {
    let (url, attempts) = hung_endpoint().await;
    let files = Files::new();
    desired(&files, 3);
    let args = ["--attempt-timeout", "200ms", "--operation-timeout", "1s", "plan", "acme.yaml"];
    let (out, took) = run_timed(&url, files.path(), &args).await;
    assert_eq!(out.status.code(), Some(1), "{}", said(&out));
    assert_eq!(stdout(&out), "", "no partial plan");
    let errors = stderr(&out);
    let sentence = format!(
        "DescribeUser to the WorkMail endpoint {url} timed out: no answer within \
         --attempt-timeout 200ms per attempt, gave up after 1s (--operation-timeout 1s); \
         nothing was planned"
    );
    assert!(says(&out, &sentence), "{errors}");
    assert_eq!(errors.matches("timed out").count(), 1, "one sentence, not one per user:\n{errors}");
    assert_no_debug_dump(&out);
    assert!(took >= Duration::from_secs(1), "waited for the operation timeout: {took:?}");
    // Bounded by the operation timeout: 1s / 200ms = 5 attempts time out for each of the 3
    // users, and a sixth may start before the second is over; the retries alone would make 12.
    let attempts = attempts.load(Ordering::SeqCst);
    assert!((3..=18).contains(&attempts), "{attempts} attempts");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hung_endpoint_costs_one_operation_timeout_not_one_per_user() {
    // 40 users two at a time: without the stop after the first failure this run would take
    // 20 × the operation timeout (10 s) and send 200 attempts or more; it takes one: two calls
    // of at most 500ms / 100ms = 5 attempts that time out, and a sixth started, each.
    let (url, attempts) = hung_endpoint().await;
    let files = Files::new();
    desired(&files, 40);
    let args = [
        "--concurrency",
        "2",
        "--attempt-timeout",
        "100ms",
        "--operation-timeout",
        "500ms",
        "plan",
        "acme.yaml",
    ];
    let (out, _) = run_timed(&url, files.path(), &args).await;
    assert_eq!(out.status.code(), Some(1), "{}", said(&out));
    assert_eq!(stderr(&out).matches("timed out").count(), 1, "{}", stderr(&out));
    let attempts = attempts.load(Ordering::SeqCst);
    assert!((1..=12).contains(&attempts), "one operation timeout, not twenty: {attempts} attempts");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_closed_port_is_one_sentence_naming_the_endpoint_and_the_refusal() {
    let url = closed_endpoint();
    let files = Files::new();
    desired(&files, 5);
    for command in [&["plan", "acme.yaml"][..], &["apply", "--auto-approve", "acme.yaml"]] {
        let args = [&["--operation-timeout", "2s"][..], command].concat();
        let (out, _) = run_timed(&url, files.path(), &args).await;
        assert_eq!(out.status.code(), Some(1), "{}", said(&out));
        let errors = stderr(&out);
        let consequence = if command[0] == "plan" {
            "nothing was planned"
        } else {
            "nothing was applied: every user is untouched"
        };
        let sentence = format!(
            "cannot reach the WorkMail endpoint {url} (DescribeUser): connection refused \
             (retried until --operation-timeout 2s ran out); {consequence}"
        );
        assert!(says(&out, &sentence), "{errors}");
        assert_eq!(errors.matches("connection refused").count(), 1, "{errors}");
        assert_eq!(stdout(&out), "", "nothing planned, nothing to show");
        // The sentence says the operation timeout ended the retries.
        assert_no_debug_dump(&out);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_closed_port_with_default_timeouts_is_refused_after_the_retries() {
    let url = closed_endpoint();
    let files = Files::new();
    let (out, _) = run_timed(&url, files.path(), &["export", "--organization", "acme"]).await;
    assert_eq!(out.status.code(), Some(1), "{}", said(&out));
    let sentence = format!(
        "cannot reach the WorkMail endpoint {url} (ListOrganizations): connection refused; \
         nothing was exported"
    );
    assert!(says(&out, &sentence), "{}", stderr(&out));
    // After twelve attempts, backing off at most 26 s in all: the run ends by itself.
    assert_no_debug_dump(&out);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unresolvable_host_is_named_with_a_hint() {
    // `.invalid` never resolves (RFC 2606).
    let url = "http://workmail.invalid:4566";
    let files = Files::new();
    desired(&files, 2);
    let (out, _) =
        run_timed(url, files.path(), &["--operation-timeout", "3s", "plan", "acme.yaml"]).await;
    assert_eq!(out.status.code(), Some(1), "{}", said(&out));
    let errors = stderr(&out);
    assert!(
        says(&out, &format!("cannot reach the WorkMail endpoint {url} (DescribeUser)")),
        "{errors}"
    );
    assert!(
        says(&out, "the host name cannot be resolved (check --region and --endpoint-url)"),
        "{errors}"
    );
    assert_no_debug_dump(&out);
}

#[tokio::test(flavor = "multi_thread")]
async fn refused_credentials_stop_the_run_with_one_sentence() {
    let (emu, files) = empty_organization(6).await;
    // One call at a time, so that the journal shows the stop: the first refusal is the last call.
    let mut cmd = command(&emu.url(), files.path(), &["--concurrency", "1", "plan", "acme.yaml"]);
    cmd.env("AWS_ACCESS_KEY_ID", "AKIDNOTKNOWN");
    let (out, _) = output_timed(cmd).await;
    assert_eq!(out.status.code(), Some(1), "{}", said(&out));
    let sentence = format!(
        "the WorkMail endpoint {} cannot be called with these credentials (DescribeUser): \
         UnrecognizedClientException",
        emu.url()
    );
    assert!(says(&out, &sentence), "{}", stderr(&out));
    assert_eq!(calls(&emu.journal(), "DescribeUser").len(), 1, "the first refusal stops the run");
    assert_no_debug_dump(&out);
}

#[tokio::test(flavor = "multi_thread")]
async fn apply_stopped_by_a_dead_endpoint_writes_nothing_and_says_who_is_untouched() {
    let users = (0..5).map(|i| user(&format!("user{i:02}"), &[(Office, "Old")])).collect();
    let emu = emulator(Seed::default().organization(acme(users)), UpdateSemantics::Patch).await;
    let files = Files::new();
    desired(&files, 5);
    let out = run(&emu, files.path(), &["plan", "--out", "plan.json", "acme.yaml"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", said(&out));
    // Every connection is now closed without an answer.
    emu.set_faults(Faults { drop_rate: 1.0, drop_after_write_fraction: 0.0, ..Faults::default() });
    emu.clear_journal();
    let args = ["--concurrency", "1", "apply", "--auto-approve", "--plan", "plan.json"];
    let out = run(&emu, files.path(), &args).await;
    assert_eq!(out.status.code(), Some(1), "{}", said(&out));
    let report = stdout(&out);
    assert!(
        report.contains(
            "4 users not attempted after the connection failure, untouched: user01, user02, \
             user03, user04\n"
        ),
        "{report}"
    );
    let failed = format!(
        "failed: fresh read failed: cannot reach the WorkMail endpoint {} (DescribeUser)",
        emu.url()
    );
    assert!(report.contains(&failed), "the user whose read failed is listed: {report}");
    assert!(report.contains("; the user is untouched\n"), "{report}");
    assert!(
        report.ends_with(
            "Apply: 0 updated, 0 unchanged, 0 conflicts, 1 failed, 0 errors, 4 not attempted.\n"
        ),
        "{report}"
    );
    let sentence = format!("cannot reach the WorkMail endpoint {} (DescribeUser)", emu.url());
    assert!(says(&out, &sentence), "{}", stderr(&out));
    assert!(says(&out, "apply stopped there"), "{}", stderr(&out));
    assert_no_debug_dump(&out);
    let journal = emu.journal();
    assert!(calls(&journal, "UpdateUser").is_empty(), "nothing is written after the failure");
    assert_eq!(calls(&journal, "DescribeUser").len(), 12, "one user's read, retried 12 times");
    for i in 0..5 {
        assert_eq!(live(&emu, &format!("user{i:02}"), Office), text("Old"));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_endpoints_regions_and_timeouts_are_usage_errors_before_any_call() {
    let files = Files::new();
    desired(&files, 1);
    let usage = usage_error_code(files.path()).await;
    assert_ne!(usage, Some(0));
    let cases: [(&[&str], &str); 9] = [
        (&["--endpoint-url", "localhost:4566"], "invalid endpoint URL `localhost:4566`: no scheme"),
        (&["--endpoint-url", "ftp://h"], "the scheme `ftp` is not http or https"),
        (&["--endpoint-url", "http://"], "invalid endpoint URL `http://`"),
        (&["--region", "US EAST 1"], "invalid AWS region `US EAST 1`"),
        (&["--attempt-timeout", "0s"], "`0s` is out of range"),
        (&["--attempt-timeout", "2h"], "`2h` is out of range"),
        (&["--attempt-timeout", "20"], "`20` is not a duration"),
        (&["--operation-timeout=-1s"], "`-1s` is not a duration"),
        (&["--operation-timeout", "soon"], "expected a duration from 10ms to 1h"),
    ];
    for (flags, message) in cases {
        let args = [flags, &["plan", "acme.yaml"]].concat();
        // An unused port: no call may be made, and none could succeed.
        let (out, _) = run_timed(&closed_endpoint(), files.path(), &args).await;
        assert_eq!(out.status.code(), usage, "{flags:?}: {}", said(&out));
        assert!(stderr(&out).contains(message), "{flags:?}: {}", stderr(&out));
        assert_no_debug_dump(&out);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_settings_from_the_environment_are_errors_before_any_call() {
    let (emu, files) = empty_organization(1).await;
    let cases = [
        ("AWS_ENDPOINT_URL", "127.0.0.1:4566", "AWS_ENDPOINT_URL: invalid endpoint URL"),
        ("AWS_ENDPOINT_URL_WORKMAIL", "http//x", "AWS_ENDPOINT_URL_WORKMAIL: invalid endpoint URL"),
    ];
    for (variable, value, message) in cases {
        let mut cmd = command(&emu.url(), files.path(), &["plan", "acme.yaml"]);
        cmd.env(variable, value);
        let (out, _) = output_timed(cmd).await;
        assert_eq!(out.status.code(), Some(1), "{variable}: {}", said(&out));
        assert!(stderr(&out).contains(message), "{variable}: {}", stderr(&out));
    }
    // A region from the environment is checked like the flag's, but only by the commands that
    // connect: `validate` stays offline and indifferent to it.
    for variable in ["AWS_REGION", "AWS_DEFAULT_REGION"] {
        let mut cmd = command(&emu.url(), files.path(), &["plan", "acme.yaml"]);
        cmd.env_remove("AWS_REGION").env(variable, "Us-East-1");
        let (out, _) = output_timed(cmd).await;
        assert_eq!(out.status.code(), Some(1), "{variable}: {}", said(&out));
        let message = "invalid AWS region `Us-East-1`: a region is lower-case letters, digits and \
                       hyphens, like us-east-1";
        assert!(says(&out, message), "{variable}: {}", stderr(&out));
        assert!(says(&out, "it comes from AWS_REGION, AWS_DEFAULT_REGION or the AWS profile"));
        let mut cmd = command(&emu.url(), files.path(), &["validate", "acme.yaml"]);
        cmd.env(variable, "Us-East-1");
        let (out, _) = output_timed(cmd).await;
        assert_eq!(out.status.code(), Some(0), "{variable}: {}", said(&out));
    }
    assert!(emu.journal().is_empty(), "no call was made");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_emulator_needs_only_an_endpoint_url_and_its_keys() {
    // No region, no AWS files (HOME is empty), nothing but PATH, HOME and the keys: every
    // networked command works, without asking the instance metadata service for a region.
    let emu = emulator(
        Seed::default().organization(acme(vec![user("alice", &[(Office, "Old")])])),
        UpdateSemantics::Patch,
    )
    .await;
    let files = Files::new();
    files.write("acme.yaml", "organization: acme\nusers:\n  alice:\n    office: New\n");
    let home = tempfile::tempdir().expect("home");
    let url = emu.url();
    // Where the SDK would ask the instance metadata service: a region lookup there would be
    // an attempt, and a wait for its timeout.
    let (metadata, metadata_asked) = hung_endpoint().await;
    let commands: [&[&str]; 3] = [
        &["plan", "acme.yaml"],
        &["apply", "--auto-approve", "acme.yaml"],
        &["export", "--organization", "acme"],
    ];
    for args in commands {
        let args = [&["-v", "--endpoint-url", &url][..], args].concat();
        let mut cmd = command("", files.path(), &args);
        cmd.env_remove("AWS_REGION").env_remove("AWS_ENDPOINT_URL").env("HOME", home.path());
        cmd.env("AWS_EC2_METADATA_SERVICE_ENDPOINT", &metadata);
        let (out, _) = output_timed(cmd).await;
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", said(&out));
        let errors = stderr(&out).to_lowercase();
        for imds in ["imds", "instance metadata", "169.254.169.254"] {
            assert!(!errors.contains(imds), "{args:?} mentions {imds}:\n{errors}");
        }
        assert_eq!(metadata_asked.load(Ordering::SeqCst), 0, "{args:?}: no metadata lookup");
    }
    assert_eq!(live(&emu, "alice", Office), text("New"));
}

/// Throttles are told by their error code, for every operation the directory sends: the limiter
/// counts exactly the emulator's `ThrottlingException` answers, and not its other refusals.
#[tokio::test(flavor = "multi_thread")]
async fn every_operation_counts_throttles_by_their_error_code() {
    use workmail_reconcile::directory::UpdateRequest;
    use workmail_reconcile::directory::{Directory, DirectoryError, Limiter, SdkDirectory};
    use workmail_reconcile::emulator::JournalOutcome;
    let faults = Faults { throttle_rate: 0.5, rng_seed: 3, ..Faults::default() };
    let seed = Seed::default().organization(acme(vec![user("alice", &[(Office, "A")])]));
    let emu = emulator_with(seed, UpdateSemantics::Patch, faults).await;
    let directory = SdkDirectory::new(emu.sdk_config(), Limiter::new(4, None));
    for i in 0..6 {
        directory.list_organizations().await.expect("ListOrganizations");
        directory.list_users(ORG).await.expect("ListUsers");
        let alice = directory.describe_user(ORG, "alice").await.expect("DescribeUser");
        let office = text(&format!("Room {i}"));
        let request = UpdateRequest {
            organization_id: ORG.into(),
            user_id: alice.user_id,
            attributes: [(Office, office)].into_iter().collect(),
        };
        directory.update_user(&request).await.expect("UpdateUser");
        assert!(matches!(
            directory.describe_user(ORG, "nobody").await,
            Err(DirectoryError::UserNotFound)
        ));
    }
    let journal = emu.journal();
    let throttled = |op: &str| {
        journal
            .iter()
            .filter(|e| e.operation == op && e.outcome == JournalOutcome::Throttled)
            .count()
    };
    for op in ["ListOrganizations", "ListUsers", "DescribeUser", "UpdateUser"] {
        assert!(throttled(op) > 0, "{op} was throttled at least once");
    }
    let all = journal.iter().filter(|e| e.outcome == JournalOutcome::Throttled).count();
    assert_eq!(directory.limiter().stats().throttled, all as u64);
}
