//! Shared test helpers: an emulator per test, desired-state files in a temporary directory,
//! and the real binary run against them.

#![allow(dead_code)]

use assert_cmd::cargo::CommandCargoExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use workmail_reconcile::emulator::{
    Emulator, EmulatorConfig, Faults, JournalEntry, JournalOutcome, Seed, SeedOrganization,
    SeedUser, UpdateSemantics,
};
use workmail_reconcile::model::attrs::{AttrValue, Attribute};

/// The organization most tests use; its alias is `acme`.
pub const ORG: &str = "m-0123456789abcdef0123456789abcdef";
/// A second organization, alias `globex`.
pub const ORG2: &str = "m-fedcba9876543210fedcba9876543210";

/// The repository root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A seeded `acme` organization.
pub fn acme(users: Vec<SeedUser>) -> SeedOrganization {
    users
        .into_iter()
        .fold(SeedOrganization::new(ORG, Some("acme"), "acme.example"), |o, u| o.user(u))
}

/// An enabled user with an email and some attributes.
pub fn user(name: &str, attrs: &[(Attribute, &str)]) -> SeedUser {
    attrs.iter().fold(SeedUser::new(name).email(&format!("{name}@acme.example")), |u, (a, v)| {
        u.attr(*a, *v)
    })
}

/// Start an emulator with this seed and semantics.
pub async fn emulator(seed: Seed, semantics: UpdateSemantics) -> Emulator {
    emulator_with(seed, semantics, Faults::default()).await
}

/// Start an emulator with faults.
pub async fn emulator_with(seed: Seed, semantics: UpdateSemantics, faults: Faults) -> Emulator {
    Emulator::start(EmulatorConfig { seed, semantics, faults, ..EmulatorConfig::default() })
        .await
        .expect("emulator starts")
}

/// An emulator seeded with `seed`, and a directory holding `acme.yaml` with `desired`: the
/// setup of most command tests.
pub async fn with_acme_file(
    seed: Seed,
    semantics: UpdateSemantics,
    desired: &str,
) -> (Emulator, Files) {
    let emu = emulator(seed, semantics).await;
    let files = Files::new();
    files.write("acme.yaml", desired);
    (emu, files)
}

/// A temporary directory of desired-state files.
pub struct Files {
    pub dir: tempfile::TempDir,
}

impl Files {
    pub fn new() -> Files {
        Files { dir: tempfile::tempdir().expect("tempdir") }
    }
    /// Write `name` (relative) with `text`, returning its path.
    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(&path, text).expect("write");
        path
    }
    /// The text of `name` (relative).
    pub fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.path().join(name)).expect("read")
    }
    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

/// The binary, pointed at `url` with the emulator's credentials, run in `dir`, no terminal.
pub fn command(url: &str, dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::cargo_bin("workmail-reconcile").expect("binary");
    cmd.current_dir(dir)
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", dir)
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ENDPOINT_URL", url)
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::null());
    cmd
}

/// Run the binary without blocking the emulator's runtime.
pub async fn run(emu: &Emulator, dir: &Path, args: &[&str]) -> Output {
    let mut cmd = command(&emu.url(), dir, args);
    tokio::task::spawn_blocking(move || cmd.output().expect("binary runs")).await.expect("join")
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// `text` without whitespace or miette's wrapping marks: an error's words, however wrapped.
pub fn unwrapped(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace() && *c != '│').collect()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Journal entries of one operation.
pub fn calls<'a>(journal: &'a [JournalEntry], operation: &str) -> Vec<&'a JournalEntry> {
    journal.iter().filter(|e| e.operation == operation).collect()
}

/// Journal entries of one operation that were answered normally.
pub fn ok_calls<'a>(journal: &'a [JournalEntry], operation: &str) -> Vec<&'a JournalEntry> {
    journal.iter().filter(|e| e.operation == operation && e.outcome == JournalOutcome::Ok).collect()
}

/// The live value of an attribute.
pub fn live(emu: &Emulator, name: &str, attr: Attribute) -> AttrValue {
    emu.user(ORG, name).unwrap_or_else(|| panic!("user {name} exists")).get(attr)
}

pub fn text(s: &str) -> AttrValue {
    AttrValue::Text(s.to_string())
}

/// acme with `declared` users whose job title differs from the file (`d00`, `d01`, …) and
/// `in_no_file` more (`n00`, …), and the file that declares the first ones.
pub fn declared_and_in_no_file(declared: usize, in_no_file: usize) -> (Seed, String) {
    let mut users: Vec<SeedUser> =
        (0..declared).map(|i| user(&format!("d{i:02}"), &[(Attribute::JobTitle, "Old")])).collect();
    users.extend((0..in_no_file).map(|i| user(&format!("n{i:02}"), &[])));
    let mut desired = String::from("organization: acme\nusers:\n");
    for i in 0..declared {
        desired.push_str(&format!("  d{i:02}:\n    job_title: New\n"));
    }
    (Seed::default().organization(acme(users)), desired)
}
