//! `controller` against the emulator: the real binary, its HTTP endpoints and signals, every
//! rule of docs/controller.md#the-controller. Tests wait for events (a run in `/status`, a
//! request in the emulator's journal, a log line, an exit), each within a deadline far longer
//! than any of them takes, never for a time; runs are kept short with `--interval 1s` or
//! triggered explicitly. The exact times (backoff, timeouts) are tested in process on a paused
//! clock.

use crate::support::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::ExitStatus;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
use workmail_reconcile::controller::WebhookSecret;
use workmail_reconcile::emulator::{Emulator, Faults, Seed, SeedUser, UpdateSemantics};
use workmail_reconcile::model::attrs::Attribute::*;

/// How long any condition may take to come true.
const DEADLINE: Duration = Duration::from_secs(60);

/// `future`, which the test fails if it has not come true within the [`DEADLINE`].
async fn within<T>(what: &str, future: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(DEADLINE, future)
        .await
        .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
}

/// A running controller.
pub(crate) struct Controller {
    child: tokio::process::Child,
    pub(crate) url: String,
    stderr: Arc<Mutex<String>>,
    /// Woken after each piece of stderr read.
    logged: Arc<tokio::sync::Notify>,
}

/// One HTTP answer.
pub(crate) type Answer = crate::http_client::Response;

impl Controller {
    /// Start `controller ARGS` against the endpoint `url`, in `dir`, listening on a free port.
    pub(crate) async fn start_at(url: &str, dir: &Path, args: &[&str]) -> Controller {
        let mut line: Vec<&str> = vec!["controller", "--listen", "127.0.0.1:0"];
        line.extend_from_slice(args);
        let mut cmd = tokio::process::Command::from(command(url, dir, &line));
        cmd.stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true);
        let mut child = cmd.spawn().expect("the controller starts");
        let stdout = child.stdout.take().expect("stdout");
        let mut first = String::new();
        let mut reader = tokio::io::BufReader::new(stdout);
        tokio::time::timeout(DEADLINE, reader.read_line(&mut first))
            .await
            .expect("the URL within the deadline")
            .expect("stdout readable");
        let url = first.trim().to_string();
        assert!(url.starts_with("http://127.0.0.1:"), "first line: {url:?}");
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut pipe = child.stderr.take().expect("stderr");
        let collected = Arc::clone(&stderr);
        let logged = Arc::new(tokio::sync::Notify::new());
        let wake = Arc::clone(&logged);
        tokio::spawn(async move {
            let mut buffer = [0u8; 4096];
            while let Ok(n) = pipe.read(&mut buffer).await {
                if n == 0 {
                    break;
                }
                collected.lock().expect("lock").push_str(&String::from_utf8_lossy(&buffer[..n]));
                wake.notify_waiters();
            }
        });
        Controller { child, url, stderr, logged }
    }

    pub(crate) async fn start(emu: &Emulator, dir: &Path, args: &[&str]) -> Controller {
        Controller::start_at(&emu.url(), dir, args).await
    }

    pub(crate) fn logs(&self) -> String {
        self.stderr.lock().expect("lock").clone()
    }

    /// Wait until the logs hold `text`.
    async fn wait_for_log(&self, text: &str) {
        let logged = async {
            loop {
                let read = self.logged.notified();
                let mut read = std::pin::pin!(read);
                // Registered before the check, so stderr read in between still wakes us.
                read.as_mut().enable();
                if self.logs().contains(text) {
                    return;
                }
                read.await;
            }
        };
        if tokio::time::timeout(DEADLINE, logged).await.is_err() {
            panic!("no `{text}` in the logs:\n{}", self.logs());
        }
    }

    /// One request on a fresh connection, read to the end.
    async fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Answer {
        let addr = crate::http_client::address(&self.url);
        crate::http_client::request(addr, method, path, headers, body).await
    }

    pub(crate) async fn get(&self, path: &str) -> Answer {
        self.request("GET", path, &[], b"").await
    }

    pub(crate) async fn status(&self) -> Value {
        let answer = self.get("/status").await;
        assert_eq!(answer.status, 200, "{answer:?}");
        serde_json::from_str(&answer.body).unwrap_or_else(|e| panic!("{e}: {}", answer.body))
    }

    /// Poll `/status` until `done` holds; the last status on timeout is in the panic.
    pub(crate) async fn wait_for(&self, what: &str, done: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + DEADLINE;
        loop {
            let status = self.status().await;
            if done(&status) {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}: {status:#}\n{}",
                self.logs()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Wait for the number of runs recorded to reach `n` (history keeps 10).
    pub(crate) async fn wait_runs(&self, n: usize) -> Value {
        self.wait_for(&format!("{n} runs"), |s| runs(s).len() >= n).await
    }

    fn signal(&self, signal: i32) {
        let pid = self.child.id().expect("running") as i32;
        // SAFETY: kill(2) with a pid of a child of ours and a valid signal number.
        assert_eq!(unsafe { libc::kill(pid, signal) }, 0);
    }

    async fn exit(&mut self) -> ExitStatus {
        tokio::time::timeout(DEADLINE, self.child.wait())
            .await
            .unwrap_or_else(|_| panic!("no exit:\n{}", self.logs()))
            .expect("wait")
    }
}

/// A way to an endpoint that holds every connection until it is opened: no call of a run is
/// answered before the test says so, however loaded the machine.
struct Gate {
    url: String,
    open: tokio::sync::watch::Sender<bool>,
    /// How many connections came to the gate.
    arrived: tokio::sync::watch::Receiver<usize>,
}

impl Gate {
    /// A closed gate to `url`.
    async fn to(url: &str) -> Gate {
        let target = crate::http_client::address(url).to_string();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let gate_url = format!("http://{}", listener.local_addr().expect("address"));
        let (open, opened) = tokio::sync::watch::channel(false);
        let (arriving, arrived) = tokio::sync::watch::channel(0);
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                arriving.send_modify(|n| *n += 1);
                let (mut opened, target) = (opened.clone(), target.clone());
                tokio::spawn(async move {
                    if opened.wait_for(|open| *open).await.is_err() {
                        return;
                    }
                    let Ok(mut server) = tokio::net::TcpStream::connect(&target).await else {
                        return;
                    };
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                });
            }
        });
        Gate { url: gate_url, open, arrived }
    }

    /// Wait until a call has come to the gate.
    async fn wait_for_a_call(&self) {
        let mut arrived = self.arrived.clone();
        within("a call at the gate", arrived.wait_for(|n| *n > 0)).await.expect("the gate runs");
    }

    /// Let every connection through, held or new.
    fn open(&self) {
        self.open.send_replace(true);
    }
}

/// The runs in `/status`, oldest first.
pub(crate) fn runs(status: &Value) -> Vec<Value> {
    let mut runs: Vec<Value> = status["history"].as_array().cloned().unwrap_or_default();
    runs.reverse();
    runs
}

fn field<'a>(runs: &'a [Value], key: &str) -> Vec<&'a str> {
    runs.iter().map(|r| r[key].as_str().unwrap_or("null")).collect()
}

/// Milliseconds between two RFC 3339 times.
fn millis_between(a: &Value, b: &Value) -> i64 {
    let at = |v: &Value| {
        humantime::parse_rfc3339(v.as_str().expect("a time"))
            .expect("RFC 3339")
            .duration_since(std::time::UNIX_EPOCH)
            .expect("after 1970")
            .as_millis() as i64
    };
    at(b) - at(a)
}

fn update_calls(emu: &Emulator) -> usize {
    calls(&emu.journal(), "UpdateUser").len()
}

/// A git-sync layout: `root/rev` is a link to `root/.worktrees/<commit>`, swapped by rename.
struct GitSync {
    root: tempfile::TempDir,
}

impl GitSync {
    fn new() -> GitSync {
        GitSync { root: tempfile::tempdir().expect("tempdir") }
    }

    fn link(&self) -> PathBuf {
        self.root.path().join("rev")
    }

    /// Publish `files` as `commit`: write the worktree, then swap the link atomically.
    fn publish(&self, commit: &str, files: &[(&str, &str)]) {
        let worktree = self.root.path().join(".worktrees").join(commit);
        for (name, text) in files {
            let path = worktree.join(name);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(path, text).expect("write");
        }
        let staged = self.root.path().join("rev.new");
        let _ = std::fs::remove_file(&staged);
        std::os::unix::fs::symlink(Path::new(".worktrees").join(commit), &staged).expect("link");
        std::fs::rename(&staged, self.link()).expect("swap");
    }
}

/// A controller in `mode`, every second, on a git-sync layout holding [`DESIRED`] as
/// [`COMMIT_A`].
async fn on_git_sync(emu: &Emulator, mode: &str) -> (GitSync, Controller) {
    let git = GitSync::new();
    git.publish(COMMIT_A, &[("acme.yaml", DESIRED)]);
    let source = git.link();
    let args = [source.to_str().expect("utf-8"), "--mode", mode, "--interval", "1s"];
    let ctl = Controller::start(emu, git.root.path(), &args).await;
    (git, ctl)
}

const COMMIT_A: &str = "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678";
const COMMIT_B: &str = "b2c3d4e5f60718293a4b5c6d7e8f901234567890";
const COMMIT_C: &str = "c3d4e5f60718293a4b5c6d7e8f90123456789012";

fn seed() -> Seed {
    Seed::default().organization(acme(vec![
        user("alice", &[(DisplayName, "Alice L"), (Office, "HQ")]),
        user("bob", &[(JobTitle, "Builder"), (Office, "HQ")]),
        user("carol", &[(DisplayName, "Carol")]),
    ]))
}

/// alice and bob differ from the seed; carol matches.
const DESIRED: &str = "organization: acme\nusers:\n  alice:\n    display_name: Alice Liddell\n  bob:\n    job_title: Architect\n  carol:\n    display_name: Carol\n";

async fn emulator_seeded() -> Emulator {
    emulator(seed(), UpdateSemantics::Replace).await
}

/// [`DESIRED`] as `users/acme.yaml` of a temporary directory.
fn desired_files() -> Files {
    let files = Files::new();
    files.write("users/acme.yaml", DESIRED);
    files
}

fn office(emu: &Emulator, name: &str) -> String {
    live(emu, name, Office).as_text().unwrap_or_default().to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn observe_reports_drift_in_status_and_never_writes() {
    let emu = emulator_seeded().await;
    let files = desired_files();
    let ctl = Controller::start(&emu, files.path(), &["users", "--redact", "job_title"]).await;
    let status = ctl.wait_runs(1).await;

    assert_eq!(status["mode"], "observe");
    assert_eq!(status["suspended"], false);
    let ready = &status["ready"];
    assert_eq!((&ready["status"], &ready["reason"]), (&Value::Bool(true), &"DriftDetected".into()));
    assert_eq!(
        ready["message"],
        "2 users differ from the files; not corrected: the mode is observe"
    );
    let revision = status["revision"]["attempted"].as_str().expect("a revision").to_string();
    assert!(revision.starts_with("sha256:") && revision.len() == 19, "{revision}");
    assert_eq!(status["revision"]["applied"], Value::Null);
    let last = &status["last_run"];
    assert_eq!(last, &status["history"][0]);
    assert_eq!((&last["trigger"], &last["result"]), (&"startup".into(), &"drift".into()));
    assert_eq!(last["revision"], revision.as_str());
    assert_eq!(
        last["summary"],
        serde_json::json!({"users": 3, "to_update": 2, "unchanged": 1, "errors": 0,
                           "updated": 0, "conflicts": 0, "failed": 0})
    );
    assert!(humantime::parse_rfc3339(last["started"].as_str().unwrap_or_default()).is_ok());
    assert!(last["duration_seconds"].as_f64().is_some_and(|d| d > 0.0));
    // The drift, per organization, with values redacted as asked.
    let drift = &status["drift"][0];
    assert_eq!((&drift["organization_id"], &drift["alias"]), (&ORG.into(), &"acme".into()));
    assert_eq!(drift["desired_users"], 3);
    assert_eq!(drift["users"][0]["user"], "alice");
    assert_eq!(
        drift["users"][0]["fields"],
        serde_json::json!([{"field": "display_name", "before": "Alice L", "after": "Alice Liddell"}])
    );
    let bob = &drift["users"][1]["fields"][0];
    assert_eq!(bob["field"], "job_title");
    for value in [&bob["before"], &bob["after"]] {
        assert!(value.as_str().is_some_and(|v| v.starts_with("(redacted hmac:")), "{value}");
    }
    assert!(!ctl.logs().contains("Architect") && !ctl.logs().contains("Builder"), "{}", ctl.logs());

    assert_eq!(update_calls(&emu), 0, "observe never writes");
    assert_eq!(ctl.get("/healthz").await.status, 200);
    assert_eq!(ctl.get("/readyz").await.status, 200);
    let page = ctl.get("/").await;
    assert_eq!(page.status, 200);
    assert!(page.head.contains("content-type: text/html; charset=utf-8"), "{}", page.head);
    // One info line per run, without values.
    let logs = ctl.logs();
    let line = logs.lines().find(|l| l.contains("run drift")).expect("a run line");
    for part in [
        &format!("revision=\"{revision}\"")[..],
        "trigger=\"startup\"",
        "result=\"drift\"",
        "users=3",
        "to_update=2",
        "next_run=",
        "duration_seconds=",
    ] {
        assert!(line.contains(part), "{part} in {line}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn readyz_is_503_until_a_run_has_completed_a_plan() {
    let emu = emulator_seeded().await;
    let gate = Gate::to(&emu.url()).await;
    let files = desired_files();
    let ctl = Controller::start_at(&gate.url, files.path(), &["users"]).await;
    // The first run waits at the gate for its calls.
    let ready = ctl.get("/readyz").await;
    assert_eq!(ready.status, 503, "{ready:?}");
    let status = ctl.status().await;
    assert_eq!(status["ready"]["reason"], "Progressing");
    assert_eq!(status["ready"]["status"], false);
    assert_eq!(status["last_run"], Value::Null);
    assert_eq!(ctl.get("/healthz").await.status, 200);
    gate.open();
    ctl.wait_runs(1).await;
    assert_eq!(ctl.get("/readyz").await.status, 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn self_heal_applies_on_every_run_and_audits_each_user_with_the_revision() {
    let emu = emulator_seeded().await;
    let git = GitSync::new();
    git.publish(COMMIT_A, &[("acme.yaml", DESIRED)]);
    let audit = git.root.path().join("audit.jsonl");
    let source = git.link();
    let args = [
        source.to_str().expect("utf-8"),
        "--mode",
        "self-heal",
        "--interval",
        "1s",
        "--audit-log",
        audit.to_str().expect("utf-8"),
    ];
    let ctl = Controller::start(&emu, git.root.path(), &args).await;
    let status = ctl.wait_runs(1).await;
    assert_eq!(status["last_run"]["result"], "success", "{status:#}");
    assert_eq!(status["revision"]["applied"], COMMIT_A);
    assert_eq!(status["ready"]["reason"], "ReconciliationSucceeded");
    assert_eq!(status["last_run"]["summary"]["updated"], 2);
    assert_eq!(live(&emu, "alice", DisplayName), text("Alice Liddell"));

    // Drift on the same revision is corrected by the next run.
    emu.edit_user(ORG, "alice", |u| {
        u.attributes.insert(DisplayName, text("Someone Else"));
    });
    // The audit line follows the write: wait for both.
    ctl.wait_for("the drift corrected", |_| {
        live(&emu, "alice", DisplayName) == text("Alice Liddell")
            && std::fs::read_to_string(&audit).is_ok_and(|log| log.lines().count() >= 3)
    })
    .await;
    let lines: Vec<Value> = std::fs::read_to_string(&audit)
        .expect("the audit log")
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON"))
        .collect();
    assert_eq!(lines.len(), 3, "{lines:?}");
    for line in &lines {
        assert_eq!(line["revision"], COMMIT_A);
        assert_eq!(line["outcome"], "updated");
    }
    assert_eq!(lines[2]["user"], "alice");
}

#[tokio::test(flavor = "multi_thread")]
async fn apply_on_change_applies_each_new_revision_and_only_reports_drift_between() {
    let emu = emulator_seeded().await;
    // A long interval: the runs after the first are started by a signal and by the new
    // revision alone, so each run's trigger is known.
    let git = GitSync::new();
    git.publish(COMMIT_A, &[("acme.yaml", DESIRED)]);
    let source = git.link();
    let args = [source.to_str().expect("utf-8"), "--mode", "apply-on-change", "--interval", "1h"];
    let ctl = Controller::start(&emu, git.root.path(), &args).await;
    let status = ctl.wait_runs(1).await;
    assert_eq!(status["last_run"]["result"], "success", "{status:#}");
    assert_eq!(status["revision"]["applied"], COMMIT_A);

    // Drift on the revision already applied: reported, not corrected.
    emu.edit_user(ORG, "alice", |u| {
        u.attributes.insert(DisplayName, text("Someone Else"));
    });
    let updates = update_calls(&emu);
    ctl.signal(libc::SIGHUP);
    let status = ctl.wait_for("drift reported", |s| s["last_run"]["result"] == "drift").await;
    assert_eq!(status["ready"]["reason"], "DriftDetected");
    assert_eq!(status["ready"]["status"], true);
    assert_eq!(status["last_run"]["trigger"], "signal");
    assert_eq!(status["revision"]["applied"], COMMIT_A);
    assert_eq!(update_calls(&emu), updates);
    assert_eq!(live(&emu, "alice", DisplayName), text("Someone Else"));

    // A new revision is applied within seconds, the drift with it.
    let next = DESIRED.replace("Architect", "Chief Architect");
    git.publish(COMMIT_B, &[("acme.yaml", &next)]);
    let status =
        ctl.wait_for("the new revision applied", |s| s["revision"]["applied"] == COMMIT_B).await;
    let applied = runs(&status).into_iter().find(|r| r["revision"] == COMMIT_B).expect("a run");
    assert_eq!((&applied["trigger"], &applied["result"]), (&"source".into(), &"success".into()));
    assert_eq!(live(&emu, "alice", DisplayName), text("Alice Liddell"));
    assert_eq!(live(&emu, "bob", JobTitle), text("Chief Architect"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_link_swapped_during_a_run_never_mixes_two_revisions() {
    let users: Vec<SeedUser> =
        (0..6).map(|i| user(&format!("user{i}"), &[(Office, "Old")])).collect();
    let emu = emulator(Seed::default().organization(acme(users)), UpdateSemantics::Replace).await;
    let gate = Gate::to(&emu.url()).await;
    let desired = |office: &str| {
        let users: String = (0..6).map(|i| format!("  user{i}:\n    office: {office}\n")).collect();
        format!("organization: acme\nusers:\n{users}")
    };
    let git = GitSync::new();
    git.publish(COMMIT_A, &[("acme.yaml", &desired("First"))]);
    let source = git.link();
    let args = [
        source.to_str().expect("utf-8"),
        "--mode",
        "self-heal",
        "--interval",
        "1h",
        "--max-changes",
        "100",
        "--concurrency",
        "1",
    ];
    let ctl = Controller::start_at(&gate.url, git.root.path(), &args).await;
    // Swap while the first run is under way: it has read its source and waits at the gate for
    // its first call.
    gate.wait_for_a_call().await;
    git.publish(COMMIT_B, &[("acme.yaml", &desired("Second"))]);
    gate.open();
    // The swap made exactly one more run, for the new revision.
    let status = ctl.wait_runs(2).await;
    let all = runs(&status);
    assert_eq!(field(&all, "revision"), [COMMIT_A, COMMIT_B]);
    assert_eq!(field(&all, "result"), ["success", "success"], "{status:#}");
    assert_eq!(field(&all, "trigger"), ["startup", "source"]);
    assert_eq!(status["revision"]["applied"], COMMIT_B);
    // Each run applied its own revision whole: every user, and only its values.
    let written: Vec<String> = calls(&emu.journal(), "UpdateUser")
        .iter()
        .map(|e| e.input["Office"].as_str().unwrap_or("none").to_string())
        .collect();
    let expected: Vec<&str> = [["First"; 6], ["Second"; 6]].concat();
    assert_eq!(written, expected, "a run applies one revision");
    let offices: Vec<String> = (0..6).map(|i| office(&emu, &format!("user{i}"))).collect();
    assert_eq!(offices, vec!["Second"; 6]);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_invalid_source_applies_nothing_not_even_the_last_good_revision() {
    let emu = emulator_seeded().await;
    let (git, ctl) = on_git_sync(&emu, "self-heal").await;
    ctl.wait_for("revision A applied", |s| s["revision"]["applied"] == COMMIT_A).await;

    emu.edit_user(ORG, "alice", |u| {
        u.attributes.insert(DisplayName, text("Someone Else"));
    });
    let updates_before_swap = update_calls(&emu);
    let broken = DESIRED.replace("display_name: Alice Liddell", "DisplayName: Alice Liddell");
    git.publish(COMMIT_B, &[("acme.yaml", &broken)]);
    // Two runs of the invalid revision (the swap's and the interval's): neither writes.
    let status = ctl
        .wait_for("two invalid runs", |s| {
            runs(s).iter().filter(|r| r["result"] == "invalid").count() >= 2
        })
        .await;
    assert_eq!(update_calls(&emu), updates_before_swap, "nothing applied");
    assert_eq!(live(&emu, "alice", DisplayName), text("Someone Else"));
    assert_eq!(status["revision"]["attempted"], COMMIT_B);
    assert_eq!(status["revision"]["applied"], COMMIT_A);
    assert_eq!(status["ready"]["reason"], "SourceInvalid");
    assert_eq!(status["ready"]["status"], false);
    // The first run of the new revision: started by the swap or by the interval, whichever
    // came first.
    let invalid = runs(&status).into_iter().find(|r| r["result"] == "invalid").expect("a run");
    assert_eq!(invalid["revision"], COMMIT_B);
    // The errors are logged with their place.
    let logs = ctl.logs();
    assert!(logs.contains("did you mean"), "{logs}");
    assert!(logs.contains(&format!("{COMMIT_B}/acme.yaml")) && logs.contains("line=4"), "{logs}");
    assert_eq!(ctl.get("/readyz").await.status, 200, "ready stays: a plan was completed before");

    // A valid revision again: applied, the drift with it.
    git.publish(COMMIT_C, &[("acme.yaml", DESIRED)]);
    ctl.wait_for("revision C applied", |s| s["revision"]["applied"] == COMMIT_C).await;
    assert_eq!(live(&emu, "alice", DisplayName), text("Alice Liddell"));
}

#[tokio::test(flavor = "multi_thread")]
async fn failures_are_retried_after_5_then_10_seconds_and_a_success_resets_the_backoff() {
    // An endpoint that refuses connections until an emulator listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("a free port")
        .local_addr()
        .expect("addr")
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let files = desired_files();
    let args = ["users", "--mode", "self-heal", "--interval", "1h", "--operation-timeout", "1s"];
    let ctl = Controller::start_at(&url, files.path(), &args).await;
    let status = ctl.wait_runs(2).await;
    let all = runs(&status);
    assert_eq!(field(&all, "result")[..2], ["failure", "failure"]);
    assert_eq!(field(&all, "trigger")[..2], ["startup", "retry"]);
    assert_eq!(status["ready"]["reason"], "ReconciliationFailed");
    let emu = Emulator::start(workmail_reconcile::emulator::EmulatorConfig {
        seed: seed(),
        listen: format!("127.0.0.1:{port}").parse().expect("an address"),
        ..Default::default()
    })
    .await
    .expect("the emulator starts on the refused port");
    let status = ctl.wait_for("a success", |s| s["last_run"]["result"] == "success").await;
    let all = runs(&status);
    assert_eq!(field(&all, "result")[..3], ["failure", "failure", "success"]);
    assert_eq!(field(&all, "trigger")[..3], ["startup", "retry", "retry"]);
    let first = millis_between(&all[0]["started"], &all[1]["started"]);
    let second = millis_between(&all[1]["started"], &all[2]["started"]);
    // Each wait starts when the run before it ends, so these are the least the runs are apart;
    // how long exactly is tested on a paused clock (controller::run_tests).
    assert!(first >= 5000, "first retry after {first} ms");
    assert!(second >= 10_000, "second retry after {second} ms");

    // Failing again after the success (a run asked for by SIGHUP): the backoff starts from
    // 5 s again.
    emu.stop().await;
    ctl.signal(libc::SIGHUP);
    let status = ctl
        .wait_for("a retry after the success", |s| {
            let all = runs(s);
            all.len() >= 5 && all[4]["trigger"] == "retry"
        })
        .await;
    let all = runs(&status);
    assert_eq!(field(&all, "trigger"), ["startup", "retry", "retry", "signal", "retry"]);
    assert_eq!(field(&all, "result"), ["failure", "failure", "success", "failure", "failure"]);
    let reset = millis_between(&all[3]["started"], &all[4]["started"]);
    assert!(reset >= 5000, "retry after a success's reset: {reset} ms");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_plan_over_the_safety_limit_is_blocked_and_applies_nothing() {
    let emu = emulator_seeded().await;
    let files = desired_files();
    let args = ["users", "--mode", "self-heal", "--max-changes", "1", "--interval", "1h"];
    let ctl = Controller::start(&emu, files.path(), &args).await;
    let status = ctl.wait_runs(1).await;
    assert_eq!(status["last_run"]["result"], "blocked");
    assert_eq!(status["ready"]["reason"], "UnsafePlan");
    assert_eq!(status["ready"]["status"], false);
    let message = status["ready"]["message"].as_str().unwrap_or_default();
    assert!(
        message.starts_with("refusing to apply: 2 users would change, more than --max-changes 1")
            && message.contains("run `workmail-reconcile apply --force` once"),
        "{message}"
    );
    assert_eq!(status["revision"]["applied"], Value::Null);
    assert_eq!(update_calls(&emu), 0);
    let metrics = ctl.get("/metrics").await.body;
    assert!(
        metrics.contains("workmail_reconcile_runs_total{result=\"blocked\",trigger=\"startup\"} 1"),
        "{metrics}"
    );
    assert!(metrics.contains("workmail_reconcile_ready 0\n"), "{metrics}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_suspend_file_stops_writing_but_not_planning() {
    let emu = emulator_seeded().await;
    let files = desired_files();
    let suspend = files.write("users/.workmail-reconcile-suspend", "");
    let args = ["users", "--mode", "self-heal", "--interval", "1s"];
    let ctl = Controller::start(&emu, files.path(), &args).await;
    let status = ctl.wait_runs(2).await;
    assert_eq!(status["suspended"], true);
    assert_eq!(field(&runs(&status), "result")[..2], ["drift", "drift"]);
    assert_eq!(status["ready"]["reason"], "Suspended");
    assert_eq!(status["ready"]["status"], true);
    assert_eq!(update_calls(&emu), 0);
    assert!(calls(&emu.journal(), "DescribeUser").len() >= 6, "runs still plan");
    let metrics = ctl.get("/metrics").await.body;
    assert!(metrics.contains("workmail_reconcile_suspended 1\n"), "{metrics}");

    std::fs::remove_file(suspend).expect("resume");
    let status = ctl.wait_for("applied", |s| s["last_run"]["result"] == "success").await;
    assert_eq!(status["suspended"], false);
    assert_eq!(live(&emu, "bob", JobTitle), text("Architect"));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_webhook_needs_a_good_signature_and_a_body_of_at_most_1_mib() {
    let emu = emulator_seeded().await;
    let files = desired_files();
    let secret_file = files.write("secret", "s3cret\n");
    let args = [
        "users",
        "--interval",
        "1h",
        "--webhook-secret-file",
        secret_file.to_str().expect("utf-8"),
    ];
    let ctl = Controller::start(&emu, files.path(), &args).await;
    ctl.wait_runs(1).await;
    let secret = WebhookSecret::new("s3cret");
    let body = br#"{"ref":"refs/heads/main"}"#;
    let post = |headers: Vec<(&'static str, String)>, body: Vec<u8>| {
        let ctl = &ctl;
        async move {
            let headers: Vec<(&str, &str)> =
                headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
            ctl.request("POST", "/trigger", &headers, &body).await
        }
    };
    let header = "x-hub-signature-256";
    for (headers, why) in [
        (vec![], "missing"),
        (vec![(header, "sha256=00".to_string())], "malformed"),
        (vec![(header, WebhookSecret::new("other").sign(body))], "another secret"),
        (vec![(header, secret.sign(b"another body"))], "another body"),
    ] {
        let answer = post(headers, body.to_vec()).await;
        assert_eq!(answer.status, 401, "{why}: {answer:?}");
    }
    let big = vec![b' '; 1024 * 1024 + 1];
    let answer = post(vec![(header, secret.sign(&big))], big).await;
    assert_eq!(answer.status, 413, "{answer:?}");
    // Exactly 1 MiB is accepted.
    let limit = vec![b' '; 1024 * 1024];
    assert_eq!(post(vec![(header, secret.sign(&limit))], limit).await.status, 202);
    let status = ctl.wait_runs(2).await;
    assert_eq!(runs(&status).len(), 2, "refused requests start no run");
    assert_eq!(status["last_run"]["trigger"], "webhook");
    let answer = post(vec![(header, secret.sign(body))], body.to_vec()).await;
    assert_eq!(answer.status, 202);
    let status = ctl.wait_runs(3).await;
    assert_eq!(field(&runs(&status), "trigger"), ["startup", "webhook", "webhook"]);
    let metrics = ctl.get("/metrics").await.body;
    assert!(
        metrics.contains("workmail_reconcile_runs_total{result=\"drift\",trigger=\"webhook\"} 2"),
        "{metrics}"
    );

    // Without a secret there is no webhook.
    let plain = Controller::start(&emu, files.path(), &["users", "--interval", "1h"]).await;
    let answer = plain.request("POST", "/trigger", &[(header, &secret.sign(body))], body).await;
    assert_eq!(answer.status, 404);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_empty_or_missing_webhook_secret_file_is_refused_at_start() {
    let emu = emulator_seeded().await;
    let files = desired_files();
    files.write("empty", "\n");
    for (file, message) in [
        ("empty", "--webhook-secret-file empty: the file is empty"),
        ("missing", "--webhook-secret-file missing: "),
    ] {
        let out =
            run(&emu, files.path(), &["controller", "users", "--webhook-secret-file", file]).await;
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        assert!(stderr(&out).contains(message), "{}", stderr(&out));
        assert!(stdout(&out).is_empty());
    }
    assert!(emu.journal().is_empty(), "refused before any call");
}

#[tokio::test(flavor = "multi_thread")]
async fn sighup_starts_a_run_now() {
    let emu = emulator_seeded().await;
    let files = desired_files();
    let ctl = Controller::start(&emu, files.path(), &["users", "--interval", "1h"]).await;
    ctl.wait_runs(1).await;
    ctl.signal(libc::SIGHUP);
    let status = ctl.wait_runs(2).await;
    assert_eq!(field(&runs(&status), "trigger"), ["startup", "signal"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_lets_the_updates_in_flight_finish_and_exits_0() {
    let users: Vec<SeedUser> =
        (0..30).map(|i| user(&format!("user{i:02}"), &[(Office, "Old")])).collect();
    let emu = emulator(Seed::default().organization(acme(users)), UpdateSemantics::Replace).await;
    let files = Files::new();
    let body: String = (0..30).map(|i| format!("  user{i:02}:\n    office: New\n")).collect();
    files.write("users/acme.yaml", &format!("organization: acme\nusers:\n{body}"));
    let args = [
        "users",
        "--mode",
        "self-heal",
        "--max-changes",
        "100",
        "--concurrency",
        "2",
        "--interval",
        "1h",
    ];
    let mut ctl = Controller::start(&emu, files.path(), &args).await;
    // Slow every call down once the plan is done, then stop during the updates.
    let planned = |j: &[_]| calls(j, "DescribeUser").len() >= 30;
    within("the plan", emu.journal_until(planned)).await;
    emu.set_faults(Faults { latency: Duration::from_millis(400), ..Faults::default() });
    within("two updates", emu.journal_until(|j| calls(j, "UpdateUser").len() >= 2)).await;
    ctl.signal(libc::SIGTERM);
    // Logged once no call can start any more; the emulator journals a call before it answers,
    // so every call journaled from now on was in flight then.
    ctl.wait_for_log("SIGTERM: stopping").await;
    let answered_before = emu.journal().len();
    let exit = ctl.exit().await;
    assert_eq!(exit.code(), Some(0), "{}", ctl.logs());
    let journal = emu.journal();
    let updates = calls(&journal, "UpdateUser");
    // Every update sent was answered (none cut off), and no call was started after the stop:
    // those answered after it are at most the four the run had started then (--concurrency 2
    // runs 2 × 2 calls at once: two in flight, two waiting for their turn).
    assert!(updates.iter().all(|e| e.outcome == workmail_reconcile::emulator::JournalOutcome::Ok));
    let late = journal.len() - answered_before;
    assert!(late <= 4, "{late} calls answered after the stop");
    let new = emu.users(ORG).iter().filter(|u| u.get(Office) == text("New")).count();
    assert_eq!(new, updates.len(), "each update sent finished");
    assert!(new < 30, "the stop came before every user was started: {new}");
    for u in emu.users(ORG) {
        assert!(
            u.get(Office) == text("New") || u.get(Office) == text("Old"),
            "untouched or correct"
        );
    }
    assert!(ctl.logs().contains("SIGTERM: stopping"), "{}", ctl.logs());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_second_signal_exits_at_once() {
    // An endpoint that accepts connections and never answers: a call stays in flight.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", silent.local_addr().expect("addr"));
    let files = desired_files();
    let mut ctl = Controller::start_at(&url, files.path(), &["users"]).await;
    let (_connection, _) =
        tokio::time::timeout(DEADLINE, silent.accept()).await.expect("a call").expect("accepted");
    ctl.signal(libc::SIGTERM);
    ctl.wait_for_log("SIGTERM: stopping").await;
    // The call in flight would hold a graceful stop for the 20 s attempt timeout, and the
    // 30 s drain limit would end it with 0: exit 1 is the forced stop, and no other.
    ctl.signal(libc::SIGINT);
    let exit = ctl.exit().await;
    assert_eq!(exit.code(), Some(1), "a forced stop is not a clean one: {}", ctl.logs());
    assert!(!ctl.logs().contains("calls were still in flight after 30s"), "{}", ctl.logs());
    assert!(ctl.logs().contains("SIGINT again: stopping at once"), "{}", ctl.logs());
}

/// Every metric line as `name{label names}`, without values, duplicates or histogram series.
fn metric_shapes(text: &str) -> std::collections::BTreeSet<String> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .filter_map(|line| {
            let series = line.rsplit_once(' ')?.0;
            let (name, labels) = series.split_once('{').unwrap_or((series, ""));
            if name.ends_with("_bucket") || name.ends_with("_sum") {
                return None;
            }
            let keys: Vec<&str> = labels
                .trim_end_matches('}')
                .split(',')
                .filter_map(|pair| pair.split_once('=').map(|(k, _)| k))
                .collect();
            Some(format!("{name}{{{}}}", keys.join(",")))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_have_every_name_and_label_and_count_what_happened() {
    // dan is in no file.
    let with_dan = Seed::default().organization(acme(vec![
        user("alice", &[(DisplayName, "Alice L"), (Office, "HQ")]),
        user("bob", &[(JobTitle, "Builder"), (Office, "HQ")]),
        user("carol", &[(DisplayName, "Carol")]),
        user("dan", &[]),
    ]));
    let emu = emulator(with_dan, UpdateSemantics::Replace).await;
    let files = desired_files();
    let args = ["users", "--mode", "self-heal", "--interval", "1h"];
    let ctl = Controller::start(&emu, files.path(), &args).await;
    ctl.wait_runs(1).await;
    let answer = ctl.get("/metrics").await;
    assert_eq!(answer.status, 200);
    assert!(
        answer.head.contains("content-type: text/plain; version=0.0.4; charset=utf-8"),
        "{}",
        answer.head
    );
    let shapes: Vec<String> = metric_shapes(&answer.body).into_iter().collect();
    assert_eq!(
        shapes,
        [
            "process_cpu_seconds_total{}",
            "process_max_fds{}",
            "process_open_fds{}",
            "process_resident_memory_bytes{}",
            "process_start_time_seconds{}",
            "process_virtual_memory_bytes{}",
            "workmail_reconcile_api_requests_total{operation,outcome}",
            "workmail_reconcile_build_info{version}",
            "workmail_reconcile_condition{type,status}",
            "workmail_reconcile_desired_users{organization,organization_alias}",
            "workmail_reconcile_drift_users{organization,organization_alias}",
            "workmail_reconcile_info{mode,revision}",
            "workmail_reconcile_last_success_timestamp_seconds{}",
            "workmail_reconcile_ready{}",
            "workmail_reconcile_run_duration_seconds_count{result}",
            "workmail_reconcile_runs_total{result,trigger}",
            "workmail_reconcile_suspended{}",
            "workmail_reconcile_unmanaged_users{organization,organization_alias}",
            "workmail_reconcile_user_updates_total{organization,result}",
        ],
        "{}",
        answer.body
    );
    let body = &answer.body;
    assert_eq!(ctl.status().await["drift"][0]["unmanaged"], serde_json::json!(["dan"]));
    let revision = ctl.status().await["revision"]["applied"].as_str().expect("applied").to_string();
    for line in [
        "workmail_reconcile_runs_total{result=\"success\",trigger=\"startup\"} 1".to_string(),
        // Every other result and trigger is there from the start, at 0.
        "workmail_reconcile_runs_total{result=\"invalid\",trigger=\"webhook\"} 0".into(),
        "workmail_reconcile_run_duration_seconds_count{result=\"success\"} 1".into(),
        "workmail_reconcile_run_duration_seconds_count{result=\"blocked\"} 0".into(),
        "workmail_reconcile_ready 1".into(),
        "workmail_reconcile_condition{type=\"Ready\",status=\"True\"} 1".into(),
        "workmail_reconcile_condition{type=\"Ready\",status=\"False\"} 0".into(),
        "workmail_reconcile_condition{type=\"Ready\",status=\"Unknown\"} 0".into(),
        "workmail_reconcile_suspended 0".into(),
        format!("workmail_reconcile_info{{mode=\"self-heal\",revision=\"{revision}\"}} 1"),
        format!("workmail_reconcile_build_info{{version=\"{}\"}} 1", env!("CARGO_PKG_VERSION")),
        // The run corrected both drifted users: none still differs.
        format!(
            "workmail_reconcile_drift_users{{organization=\"{ORG}\",organization_alias=\"acme\"}} 0"
        ),
        format!(
            "workmail_reconcile_desired_users{{organization=\"{ORG}\",organization_alias=\"acme\"}} 3"
        ),
        format!(
            "workmail_reconcile_unmanaged_users{{organization=\"{ORG}\",organization_alias=\"acme\"}} 1"
        ),
        format!(
            "workmail_reconcile_user_updates_total{{organization=\"{ORG}\",result=\"updated\"}} 2"
        ),
        format!(
            "workmail_reconcile_user_updates_total{{organization=\"{ORG}\",result=\"conflict\"}} 0"
        ),
        // 3 reads to plan, a fresh read before each of the 2 updates; one ListOrganizations.
        "workmail_reconcile_api_requests_total{operation=\"DescribeUser\",outcome=\"ok\"} 5".into(),
        "workmail_reconcile_api_requests_total{operation=\"DescribeUser\",outcome=\"throttled\"} 0"
            .into(),
        "workmail_reconcile_api_requests_total{operation=\"UpdateUser\",outcome=\"ok\"} 2".into(),
        "workmail_reconcile_api_requests_total{operation=\"UpdateUser\",outcome=\"error\"} 0"
            .into(),
        "workmail_reconcile_api_requests_total{operation=\"ListOrganizations\",outcome=\"ok\"} 1"
            .into(),
        "workmail_reconcile_api_requests_total{operation=\"ListUsers\",outcome=\"ok\"} 1".into(),
    ] {
        assert!(body.lines().any(|l| l == line || l == format!("{line}.0")), "{line} in\n{body}");
    }
    // No throttle seen: no limit on the rate, so no series (not a 0 that reads "0 calls/s").
    assert!(!body.contains("request_rate"), "{body}");
    // What the plan found, and what the run did about it.
    let drift = &ctl.status().await["drift"][0];
    assert_eq!(drift["users_still_differing"], 0);
    let outcomes: Vec<(&str, &str)> = drift["users"]
        .as_array()
        .expect("users")
        .iter()
        .map(|u| (u["user"].as_str().unwrap(), u["outcome"].as_str().unwrap()))
        .collect();
    assert_eq!(outcomes, [("alice", "updated"), ("bob", "updated")]);
    let success = body
        .lines()
        .find_map(|l| l.strip_prefix("workmail_reconcile_last_success_timestamp_seconds "))
        .and_then(|v| v.parse::<f64>().ok())
        .expect("a timestamp");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("now")
        .as_secs_f64();
    assert!((now - 120.0..=now).contains(&success), "{success}");
}

/// The value of the unlabelled series `name` in a `/metrics` body, if it has one.
fn sample(body: &str, name: &str) -> Option<f64> {
    body.lines().find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
}

/// The Ready condition's status whose series is 1, asserting that exactly one is.
fn condition_status(body: &str) -> &'static str {
    let ones: Vec<&'static str> = ["True", "False", "Unknown"]
        .into_iter()
        .filter(|status| {
            let series =
                format!("workmail_reconcile_condition{{type=\"Ready\",status=\"{status}\"}}");
            sample(body, &series) == Some(1.0)
        })
        .collect();
    assert_eq!(ones.len(), 1, "exactly one condition series is 1:\n{body}");
    ones[0]
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_pass_promtool_check_metrics_starting_succeeded_failing_and_after_writes() {
    if !crate::promtool::available(crate::promtool::PROMTOOL) {
        return;
    }
    let check = |state: &str, body: &str| {
        crate::promtool::check_metrics(body)
            .unwrap_or_else(|e| panic!("promtool check metrics, {state}:\n{e}\n{body}"));
    };
    // Starting: the first run's calls wait at the gate, so it is still planning.
    let emu = emulator_seeded().await;
    let gate = Gate::to(&emu.url()).await;
    let files = desired_files();
    let args = ["users", "--mode", "self-heal", "--interval", "1h"];
    let ctl = Controller::start_at(&gate.url, files.path(), &args).await;
    let starting = ctl.get("/metrics").await.body;
    assert_eq!(ctl.status().await["last_run"], Value::Null, "scraped before the first run ended");
    check("starting", &starting);
    assert_eq!(condition_status(&starting), "Unknown");
    assert_eq!(sample(&starting, "workmail_reconcile_last_success_timestamp_seconds"), None);
    assert!(sample(&starting, "process_start_time_seconds").is_some(), "{starting}");
    let zero = "workmail_reconcile_runs_total{result=\"success\",trigger=\"startup\"}";
    assert_eq!(sample(&starting, zero), Some(0.0), "{starting}");

    // Self-heal after writes: the drift found is corrected, so none still differs.
    gate.open();
    ctl.wait_runs(1).await;
    let written = ctl.get("/metrics").await.body;
    check("self-heal after writes", &written);
    assert_eq!(condition_status(&written), "True");
    assert_eq!(sample(&written, zero), Some(1.0));
    let drift = format!(
        "workmail_reconcile_drift_users{{organization=\"{ORG}\",organization_alias=\"acme\"}}"
    );
    assert_eq!(sample(&written, &drift), Some(0.0), "{written}");
    assert!(sample(&written, "workmail_reconcile_last_success_timestamp_seconds").is_some());

    // Succeeded with nothing to do.
    ctl.signal(libc::SIGHUP);
    ctl.wait_runs(2).await;
    let succeeded = ctl.get("/metrics").await.body;
    check("succeeded", &succeeded);
    assert_eq!(condition_status(&succeeded), "True");
    assert_eq!(update_calls(&emu), 2, "the second run wrote nothing");

    // Failing from the start: Ready False, and no last success at all (not one in 1970).
    let port =
        std::net::TcpListener::bind("127.0.0.1:0").expect("port").local_addr().unwrap().port();
    let refused = format!("http://127.0.0.1:{port}");
    let args = ["users", "--interval", "1h", "--operation-timeout", "1s"];
    let failing = Controller::start_at(&refused, files.path(), &args).await;
    failing.wait_runs(1).await;
    let body = failing.get("/metrics").await.body;
    check("failing", &body);
    assert_eq!(condition_status(&body), "False");
    assert_eq!(sample(&body, "workmail_reconcile_ready"), Some(0.0));
    assert_eq!(sample(&body, "workmail_reconcile_last_success_timestamp_seconds"), None, "{body}");
    assert!(!body.contains("workmail_reconcile_drift_users"), "no plan, no drift: {body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_source_that_is_a_file_is_refused_at_start() {
    let emu = emulator_seeded().await;
    let files = Files::new();
    files.write("acme.yaml", DESIRED);
    let out = run(&emu, files.path(), &["controller", "acme.yaml"]).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("SOURCE acme.yaml: is not a directory"), "{}", stderr(&out));
    assert!(emu.journal().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_silent_client_is_disconnected_and_the_others_are_served() {
    let emu = emulator_seeded().await;
    let files = desired_files();
    let ctl = Controller::start(&emu, files.path(), &["users", "--interval", "1h"]).await;
    let addr = ctl.url.trim_start_matches("http://").to_string();
    // Connected, and never a byte sent: closed at the header read timeout (10 s; exactly so
    // on a paused clock in controller::http's tests).
    let started = Instant::now();
    let mut silent = tokio::net::TcpStream::connect(&addr).await.expect("connect");
    assert_eq!(ctl.get("/healthz").await.status, 200, "others are served meanwhile");
    let mut buffer = [0u8; 64];
    let read = within("the close", silent.read(&mut buffer)).await;
    assert_eq!(read.expect("a clean close"), 0, "closed without an answer");
    let held = started.elapsed();
    assert!(held >= Duration::from_secs(9), "closed after {held:?}, before the timeout");
    assert_eq!(ctl.get("/healthz").await.status, 200);
}

/// Users in no file made error entries (`--unmanaged error`) are not declared users: the 10
/// declared users all changing is over the safety limit's share, so self-heal is blocked and
/// writes nothing, and /metrics and /status count 10 desired users, not 40.
#[tokio::test(flavor = "multi_thread")]
async fn users_in_no_file_are_not_desired_users_and_do_not_dilute_the_safety_limit() {
    let (seed, desired) = declared_and_in_no_file(10, 30);
    let emu = emulator(seed, UpdateSemantics::Patch).await;
    let files = Files::new();
    files.write("users/acme.yaml", &desired);
    let args = ["users", "--mode", "self-heal", "--unmanaged", "error", "--interval", "1h"];
    let ctl = Controller::start(&emu, files.path(), &args).await;
    let status = ctl.wait_runs(1).await;
    assert_eq!(status["last_run"]["result"], "blocked", "{status:#}");
    assert_eq!(status["ready"]["reason"], "UnsafePlan");
    let message = status["ready"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("10 of the 10 users declared"), "{message}");
    assert_eq!(update_calls(&emu), 0);
    assert_eq!(status["last_run"]["summary"]["users"], 10);
    assert_eq!(status["drift"][0]["desired_users"], 10);
    assert_eq!(status["drift"][0]["unmanaged"].as_array().map(Vec::len), Some(30));
    let metrics = ctl.get("/metrics").await.body;
    let line = format!(
        "workmail_reconcile_desired_users{{organization=\"{ORG}\",organization_alias=\"acme\"}} 10"
    );
    assert!(metrics.lines().any(|l| l == line), "{line} in\n{metrics}");
}

/// The log lines, text and JSON, escape what the service returned (terminal commands, line
/// breaks that would forge a line, bidirectional overrides): here the email address of a user
/// in no file, in the error entry `--unmanaged error` makes of it and logs.
#[tokio::test(flavor = "multi_thread")]
async fn log_lines_escape_text_of_the_service() {
    let seed = Seed::default().organization(acme(vec![
        user("alice", &[]),
        SeedUser::new("dan").email("dan@acme.example"),
    ]));
    let emu = emulator(seed, UpdateSemantics::Patch).await;
    // Terminal commands, and a line break that would forge a log line of its own.
    let hostile = "dan\u{1b}]0;pwned\u{7}\u{9b}2J\u{202e}\r\nforged ERROR line@acme.example";
    assert!(emu.edit_user(ORG, "dan", |dan| dan.email = Some(hostile.to_string())));
    let files = Files::new();
    files.write("users/acme.yaml", "organization: acme\nusers:\n  alice: {}\n");
    for format in ["text", "json"] {
        let args = ["users", "--unmanaged", "error", "--log-format", format];
        let ctl = Controller::start(&emu, files.path(), &args).await;
        ctl.wait_runs(1).await;
        let logs = ctl.logs();
        assert!(logs.contains("is in no file"), "{format}: {logs}");
        assert_eq!(
            crate::hostile_text::unsafe_chars(&logs),
            Vec::<char>::new(),
            "{format}: {logs:?}"
        );
        assert!(!logs.lines().any(|l| l.starts_with("forged")), "{format}: {logs}");
    }
}

/// The peak resident memory of process `pid` (`VmHWM` of /proc/PID/status), in bytes.
fn peak_resident_bytes(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).expect("VmHWM");
    let kib: u64 = line.split_whitespace().nth(1).and_then(|n| n.parse().ok()).expect("a number");
    kib * 1024
}

#[tokio::test(flavor = "multi_thread")]
async fn a_huge_file_in_source_is_refused_unread_by_the_run_and_the_watcher() {
    let emu = emulator_seeded().await;
    let files = desired_files();
    // 1 GiB, sparse: nothing on disk, but a gigabyte of memory for whoever reads it whole.
    let big = std::fs::File::create(files.path().join("users/big.yaml")).expect("create");
    big.set_len(1 << 30).expect("a sparse file");
    let ctl = Controller::start(&emu, files.path(), &["users", "--interval", "1h"]).await;
    let status = ctl.wait_runs(1).await;
    assert_eq!(status["last_run"]["result"], "invalid", "{status:#}");
    assert_eq!(status["ready"]["reason"], "SourceInvalid");
    let logs = ctl.logs();
    assert!(logs.contains("big.yaml") && logs.contains("1073741824 bytes"), "{logs}");
    // A new file changes the file list: the watcher hashes the files again, and a run follows.
    files.write("users/more.yaml", "organization: acme\nusers:\n  dave: {}\n");
    let status = ctl.wait_runs(2).await;
    assert_eq!(status["last_run"]["trigger"], "source", "{status:#}");
    assert_eq!(status["last_run"]["result"], "invalid", "{status:#}");
    let peak = peak_resident_bytes(ctl.child.id().expect("running"));
    assert!(peak < 256 << 20, "peak resident memory {} MiB", peak >> 20);
    assert!(emu.journal().is_empty(), "an invalid source makes no call");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_source_linked_into_git_sync_applies_each_new_commit() {
    // SOURCE `src -> rev/users`, git-sync's `rev -> .worktrees/<commit>`: the commit is the
    // revision, not `users`.
    let emu = emulator_seeded().await;
    let git = GitSync::new();
    git.publish(COMMIT_A, &[("users/acme.yaml", DESIRED)]);
    std::os::unix::fs::symlink("rev/users", git.root.path().join("src")).expect("link");
    let args = ["src", "--mode", "apply-on-change", "--interval", "1h"];
    let ctl = Controller::start(&emu, git.root.path(), &args).await;
    let status = ctl.wait_runs(1).await;
    assert_eq!(status["last_run"]["result"], "success", "{status:#}");
    assert_eq!(status["revision"]["applied"], COMMIT_A);

    let next = DESIRED.replace("Architect", "Chief Architect");
    git.publish(COMMIT_B, &[("users/acme.yaml", &next)]);
    let status =
        ctl.wait_for("the new commit applied", |s| s["revision"]["applied"] == COMMIT_B).await;
    let applied = runs(&status).into_iter().find(|r| r["revision"] == COMMIT_B).expect("a run");
    assert_eq!((&applied["trigger"], &applied["result"]), (&"source".into(), &"success".into()));
    assert_eq!(live(&emu, "bob", JobTitle), text("Chief Architect"));
}

#[tokio::test(flavor = "multi_thread")]
async fn webhook_bodies_that_never_come_leave_healthz_answering() {
    let emu = emulator_seeded().await;
    let files = desired_files();
    let secret_file = files.write("secret", "s3cret\n");
    let secret = secret_file.to_str().expect("utf-8");
    let args = ["users", "--interval", "1h", "--webhook-secret-file", secret];
    let ctl = Controller::start(&emu, files.path(), &args).await;
    ctl.wait_runs(1).await;
    let addr = ctl.url.trim_start_matches("http://").to_string();
    // More clients than the controller serves connections at once, each announcing a body it
    // never sends.
    let (sent, mut answers) = tokio::sync::mpsc::unbounded_channel();
    for _ in 0..300 {
        let mut stream = tokio::net::TcpStream::connect(&addr).await.expect("connect");
        let head = "POST /trigger HTTP/1.1\r\nhost: x\r\ncontent-length: 1000\r\n\
                    x-hub-signature-256: sha256=00\r\n\r\n";
        stream.write_all(head.as_bytes()).await.expect("write");
        let sent = sent.clone();
        tokio::spawn(async move {
            let mut first = [0u8; 12];
            let n = stream.read(&mut first).await.unwrap_or(0);
            let _ = sent.send(String::from_utf8_lossy(&first[..n]).into_owned());
            std::future::pending::<()>().await;
        });
    }
    // Most are refused at once (503), so the probes find connections free meanwhile.
    for _ in 0..200 {
        let first = tokio::time::timeout(DEADLINE, answers.recv()).await.expect("refused at once");
        assert_eq!(first.as_deref(), Some("HTTP/1.1 503"));
    }
    for path in ["/healthz", "/readyz", "/status", "/metrics"] {
        let answer = tokio::time::timeout(DEADLINE, ctl.get(path)).await.expect("answered");
        assert_eq!(answer.status, 200, "{path}: {answer:?}");
    }
}
