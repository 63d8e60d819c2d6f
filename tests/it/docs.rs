//! The documentation stays true: the README's quickstart is the two documented commands and its
//! demo works, the walks through the examples on the emulator (the README's, the controller
//! page's) run as written, the command lines of the README and the docs/ pages parse and those
//! writing local files work on a fresh account, their relative links resolve, the README stays a
//! front door and no page grows past what a reader takes in, and the shell completions and man
//! pages generate.

use super::recipes::{check_invocation, shell_invocations};
use super::support::repo_root;
use assert_cmd::Command;
use clap_complete::Shell;
use workmail_reconcile::cli::completions::{INSTALL_HELP, completion_script};
use workmail_reconcile::cli::man::man_page;

fn readme() -> String {
    doc("README.md")
}

/// A documentation file of the repository, by its path in it.
fn doc(path: &str) -> String {
    std::fs::read_to_string(repo_root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The pages of `docs/`, as their paths in the repository (`docs/commands.md`), sorted.
fn docs_pages() -> Vec<String> {
    let mut pages: Vec<String> = std::fs::read_dir(repo_root().join("docs"))
        .expect("docs/")
        .map(|e| e.expect("a docs/ entry").file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".md"))
        .map(|name| format!("docs/{name}"))
        .collect();
    pages.sort();
    assert!(pages.len() >= 10, "only {} pages in docs/: {pages:?}", pages.len());
    pages
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

/// The fenced code blocks of the `## {heading}` section, in order.
fn section_blocks(markdown: &str, heading: &str) -> Vec<(String, String)> {
    let start = markdown
        .lines()
        .position(|l| l.starts_with("## ") && l.trim_start_matches('#').trim() == heading)
        .unwrap_or_else(|| panic!("a `## {heading}` heading"));
    let section: Vec<&str> =
        markdown.lines().skip(start + 1).take_while(|l| !l.starts_with("## ")).collect();
    code_blocks(&section.join("\n"))
}

/// The command lines of a shell block: `$ ` prompts, blank lines and comment lines dropped.
fn command_lines(body: &str) -> Vec<String> {
    body.lines()
        .map(|l| l.trim().trim_start_matches("$ ").trim())
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect()
}

/// The commands of the first fenced block under the `## Quickstart` heading.
fn quickstart_commands(markdown: &str) -> Vec<String> {
    let blocks = section_blocks(markdown, "Quickstart");
    let (_, body) = blocks.first().expect("a fenced code block under Quickstart");
    command_lines(body)
}

#[test]
fn docs_quickstart_is_exactly_the_two_commands() {
    assert_eq!(
        quickstart_commands(&readme()),
        ["cargo run --release -- demo", "cargo nextest run"]
    );
}

/// What the README says CI runs is what `.ci/run` runs: its test command, flags and all, and
/// no claim that CI runs the quickstart's bare `cargo nextest run` "exactly".
#[test]
fn docs_readme_says_the_test_command_ci_runs() {
    let ci = std::fs::read_to_string(repo_root().join(".ci/run")).expect(".ci/run");
    let tests: Vec<&str> =
        ci.lines().map(str::trim).filter(|l| l.starts_with("cargo nextest run")).collect();
    let [tests] = tests.as_slice() else { panic!(".ci/run runs nextest once: {tests:?}") };
    let readme = readme();
    let quickstart: String = readme
        .lines()
        .skip_while(|l| *l != "## Quickstart")
        .take_while(|l| *l != "## Install")
        .collect::<Vec<_>>()
        .join(" ");
    let said = quickstart.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(said.contains(&format!("`{tests}`")), "the quickstart names `{tests}`:\n{said}");
    assert!(!said.contains("runs exactly this"), "{said}");
}

#[test]
fn docs_quickstart_extractor_can_fail() {
    let other = "# x\n## Quickstart\n\ntext\n\n```sh\n$ cargo run -- demo\n```\n## Next\n";
    assert_eq!(quickstart_commands(other), ["cargo run -- demo"]);
}

/// The stdout of the quickstart's demo, through the built binary (no recursive cargo), which
/// must succeed.
fn demo_stdout() -> String {
    let output = Command::cargo_bin("workmail-reconcile")
        .expect("binary")
        .arg("demo")
        .env("NO_COLOR", "1")
        .output()
        .expect("demo runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    stdout
}

/// The quickstart's demo.
#[test]
fn docs_quickstart_demo_runs() {
    let stdout = demo_stdout();
    assert!(stdout.contains("Plan: 0 to update"), "{stdout}");
}

/// The binary under test, the one `cargo install --locked --path .` installs.
fn binary() -> std::path::PathBuf {
    assert_cmd::cargo::cargo_bin("workmail-reconcile")
}

/// `PATH` with the binary's directory first, as after `cargo install` (rustup puts
/// `~/.cargo/bin` on `PATH`), and the system directories for `sh` and `mkdir`.
fn path_with_binary() -> std::ffi::OsString {
    let dir = binary().parent().expect("the binary's directory").to_path_buf();
    std::env::join_paths([dir, "/usr/bin".into(), "/bin".into()]).expect("PATH")
}

/// `workmail-reconcile emulator …` run in the background; stopped when dropped.
struct BackgroundEmulator {
    child: std::process::Child,
    url: String,
}

impl BackgroundEmulator {
    /// Starts the emulator with `args`, listening on a free port instead of the address the
    /// README names (which may be taken on the machine running the tests).
    fn start(args: &[&str], home: &std::path::Path) -> BackgroundEmulator {
        let mut args: Vec<&str> = args.to_vec();
        if let Some(at) = args.iter().position(|a| *a == "--listen") {
            args[at + 1] = "127.0.0.1:0";
        } else {
            args.extend(["--listen", "127.0.0.1:0"]);
        }
        let log = home.join("emulator.log");
        let mut started =
            BackgroundEmulator { child: spawn_logged(&args, &[], home, &log), url: String::new() };
        started.url = first_line(&mut started.child);
        if started.url.is_empty() {
            // Nothing on stdout: the emulator exited; its stderr says why.
            let why = std::fs::read_to_string(&log).unwrap_or_default();
            panic!("`workmail-reconcile {}` did not start: {why}", args.join(" "));
        }
        assert!(started.url.starts_with("http://127.0.0.1:"), "first line: {:?}", started.url);
        started
    }
}

impl Drop for BackgroundEmulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `workmail-reconcile ARGS` in the clone, on a fresh account (HOME, PATH and `env` only), stdout
/// piped and stderr to `log` — a file, not a pipe: a pipe nobody reads could fill and stall it.
fn spawn_logged<S: AsRef<std::ffi::OsStr>>(
    args: &[S],
    env: &[(String, String)],
    home: &std::path::Path,
    log: &std::path::Path,
) -> std::process::Child {
    std::process::Command::new(binary())
        .args(args)
        .current_dir(repo_root())
        .env_clear()
        .env("PATH", path_with_binary())
        .env("HOME", home)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::fs::File::create(log).expect("a log file"))
        .spawn()
        .expect("the binary starts")
}

/// The first line `child` prints, trimmed: the URL of a server started on port 0 (empty when
/// it exited first).
fn first_line(child: &mut std::process::Child) -> String {
    let stdout = child.stdout.take().expect("piped stdout");
    let mut line = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line)
        .expect("stdout readable");
    line.trim().to_string()
}

/// A quickstart command that ran: its line, exit code, stdout and stderr.
struct Ran {
    line: String,
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Runs the quickstart after its first block as a newcomer on a fresh machine would: every line
/// in order, in the clone's directory, with an empty HOME (no AWS configuration files), no
/// region and nothing else in the environment but what the README's `export` lines set. Lines
/// other than `cargo install`, `export` and `workmail-reconcile …` are errors, so the README
/// cannot grow a step this does not run.
fn run_quickstart_walkthrough(markdown: &str) -> Result<Vec<Ran>, String> {
    let steps = quickstart_walkthrough_lines(markdown).into_iter().map(|l| (l, repo_root()));
    run_walkthrough(steps.collect())
}

/// The lines of the quickstart after its first block (which the demo test runs).
fn quickstart_walkthrough_lines(markdown: &str) -> Vec<String> {
    let blocks = section_blocks(markdown, "Quickstart");
    blocks.iter().skip(1).flat_map(|(_, body)| command_lines(body)).collect()
}

/// Runs `steps` as [`run_quickstart_walkthrough`] says, each `workmail-reconcile` line in the
/// directory given with it.
fn run_walkthrough(steps: Vec<(String, std::path::PathBuf)>) -> Result<Vec<Ran>, String> {
    let home = tempfile::tempdir().expect("tempdir");
    let mut env: Vec<(String, String)> = Vec::new();
    let mut installed = false;
    let mut emulator: Option<(String, BackgroundEmulator)> = None;
    let mut ran = Vec::new();
    for (line, workdir) in steps {
        let words: Vec<&str> =
            line.split_whitespace().take_while(|w| !w.starts_with('#')).collect();
        match words.as_slice() {
            ["cargo", "install", "--locked", "--path", "."] => installed = true,
            ["export", assignments @ ..] => {
                for assignment in assignments {
                    let (name, value) = assignment
                        .split_once('=')
                        .ok_or_else(|| format!("`{line}`: {assignment} is not NAME=value"))?;
                    env.push((name.to_string(), value.to_string()));
                }
            }
            ["workmail-reconcile", args @ ..] => {
                if !installed {
                    return Err(format!("`{line}` comes before the binary is installed"));
                }
                if args.first() == Some(&"emulator") {
                    let listen = args
                        .iter()
                        .position(|a| *a == "--listen")
                        .map(|at| args[at + 1].to_string())
                        .ok_or_else(|| format!("`{line}` names no --listen address"))?;
                    let started = BackgroundEmulator::start(args, home.path());
                    emulator = Some((format!("http://{listen}"), started));
                    continue;
                }
                let mut command = std::process::Command::new(binary());
                command
                    .args(args)
                    .current_dir(&workdir)
                    .env_clear()
                    .env("PATH", path_with_binary())
                    .env("HOME", home.path())
                    .stdin(std::process::Stdio::null());
                for (name, value) in &env {
                    let value = match &emulator {
                        Some((readme_url, running)) => value.replace(readme_url, &running.url),
                        None => value.clone(),
                    };
                    command.env(name, value);
                }
                let output = command.output().expect("the binary runs");
                ran.push(Ran {
                    line: line.clone(),
                    code: output.status.code(),
                    stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
                    stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
                });
            }
            _ => return Err(format!("`{line}` is not a step this test knows how to run")),
        }
    }
    Ok(ran)
}

/// The demo says what it plans (five declared users, and the system user no plan lists), and
/// the commands its closing hint prints run as printed, as a newcomer would copy them after
/// installing the binary: the emulator, the keys, the plan of the example files.
#[test]
fn docs_demo_says_what_it_plans_and_its_hint_runs_as_printed() {
    let stdout = demo_stdout();
    let said = stdout.split_whitespace().collect::<Vec<_>>().join(" ");
    for words in [
        "the 5 users the file below declares, 4 of them drifted from it, and postmaster (role \
         SYSTEM_USER), which no file can manage, so no plan lists it.",
        "Plan: 4 to update, 1 unchanged, 0 errors.",
        "Plan: 0 to update, 5 unchanged, 0 errors.",
    ] {
        assert!(said.contains(words), "`{words}` in\n{stdout}");
    }
    let hint: Vec<&str> = stdout
        .lines()
        .skip_while(|l| !l.starts_with("Next,"))
        .filter_map(|l| l.strip_prefix("  "))
        .collect();
    assert_eq!(hint.len(), 3, "the hint's commands:\n{stdout}");
    let markdown = format!(
        "## Quickstart\n```sh\n```\n```sh\ncargo install --locked --path .\n{}\n```\n",
        hint.join("\n")
    );
    let ran = run_quickstart_walkthrough(&markdown).unwrap_or_else(|e| panic!("the hint: {e}"));
    let [plan] = ran.as_slice() else { panic!("one plan in the hint: {hint:?}") };
    assert_eq!(plan.code, Some(0), "{}{}", plan.stdout, plan.stderr);
    assert_eq!(plan.stderr, "");
    assert!(
        plan.stdout.ends_with("Plan: 6 to update, 3 unchanged, 0 errors.\n"),
        "{}",
        plan.stdout
    );
}

/// The newcomer's path: install, start the emulator seeded with `examples/emulator-seed.yaml`,
/// validate, plan (the seeded differences), apply, plan again (nothing left).
#[test]
fn docs_quickstart_examples_run_as_written() {
    let ran = run_quickstart_walkthrough(&readme()).unwrap_or_else(|e| panic!("README.md: {e}"));
    let summary: Vec<(&str, Option<i32>, &str)> = ran
        .iter()
        .map(|r| (r.line.as_str(), r.code, r.stdout.lines().last().unwrap_or_default()))
        .collect();
    assert_eq!(
        summary,
        [
            (
                "workmail-reconcile validate examples/users",
                Some(0),
                "Valid: 3 files, 2 organizations, 9 users."
            ),
            (
                "workmail-reconcile plan examples/users",
                Some(0),
                "Plan: 6 to update, 3 unchanged, 0 errors."
            ),
            (
                "workmail-reconcile apply examples/users --auto-approve",
                Some(0),
                "Apply: 6 updated, 3 unchanged, 0 conflicts, 0 failed, 0 errors."
            ),
            (
                "workmail-reconcile plan examples/users --detailed-exitcode",
                Some(0),
                "Plan: 0 to update, 9 unchanged, 0 errors."
            ),
        ],
        "{}",
        ran.iter().map(|r| format!("$ {}\n{}{}", r.line, r.stdout, r.stderr)).collect::<String>()
    );
    for r in &ran {
        assert_eq!(r.stderr, "", "`{}` wrote to stderr", r.line);
    }
    insta::assert_snapshot!("quickstart_examples_plan", ran[1].stdout);
}

/// The README's rehearsal of leaving WorkMail runs as written on the quickstart's emulator, in
/// a directory of its own: the snapshot plans clean, the bundle holds its four files with the
/// tenant's domain, and what the files cannot carry is named on stderr.
#[test]
fn docs_leaving_workmail_runs_as_written() {
    let markdown = readme();
    let out = tempfile::tempdir().expect("tempdir");
    let quickstart = quickstart_walkthrough_lines(&markdown).into_iter().map(|l| (l, repo_root()));
    let leaving: Vec<String> = section_blocks(&markdown, "Leaving WorkMail")
        .iter()
        .flat_map(|(_, body)| command_lines(body))
        .collect();
    assert!(leaving.iter().any(|l| l.contains("m365-bundle")), "{leaving:?}");
    // Step 1 says the snapshot plans clean: `--detailed-exitcode` exits 2 if it does not.
    let clean = "workmail-reconcile plan acme-snapshot.yaml --detailed-exitcode".to_string();
    let steps = quickstart
        .chain(leaving.iter().chain([&clean]).map(|l| (l.clone(), out.path().to_path_buf())));
    let ran = run_walkthrough(steps.collect()).unwrap_or_else(|e| panic!("README.md: {e}"));
    let transcript =
        ran.iter().map(|r| format!("$ {}\n{}{}", r.line, r.stdout, r.stderr)).collect::<String>();
    assert!(ran.iter().all(|r| r.code == Some(0)), "{transcript}");
    let bundle = ran.iter().find(|r| r.line.contains("m365-bundle")).expect("the bundle ran");
    assert!(bundle.stderr.contains("left out:"), "step 3 of the README:\n{}", bundle.stderr);

    let snapshot = out.path().join("acme-snapshot.yaml");
    let text = std::fs::read_to_string(&snapshot).expect("the snapshot");
    assert!(text.contains("aliases:") && text.contains("groups:"), "{text}");
    let dir = out.path().join("acme-m365");
    for file in ["users.csv", "aliases.csv", "groups.csv", "README.txt"] {
        assert!(dir.join(file).is_file(), "{file} in the bundle");
    }
    let aliases = std::fs::read_to_string(dir.join("aliases.csv")).expect("aliases.csv");
    assert!(aliases.contains("@contoso.onmicrosoft.com"), "{aliases}");
}

#[test]
fn docs_quickstart_walkthrough_refuses_steps_it_cannot_run() {
    let walk = |steps: &str| {
        let markdown = format!("## Quickstart\n```sh\ncargo run -- demo\n```\n```sh\n{steps}```\n");
        run_quickstart_walkthrough(&markdown).err()
    };
    assert_eq!(
        walk("curl -fsSL https://example.com/install.sh | sh\n").as_deref(),
        Some(
            "`curl -fsSL https://example.com/install.sh | sh` is not a step this test knows how to run"
        )
    );
    assert_eq!(
        walk("workmail-reconcile validate examples/users\ncargo install --locked --path .\n")
            .as_deref(),
        Some("`workmail-reconcile validate examples/users` comes before the binary is installed")
    );
    assert_eq!(
        walk("cargo install --locked --path .\nworkmail-reconcile emulator --seed s.yaml\n")
            .as_deref(),
        Some("`workmail-reconcile emulator --seed s.yaml` names no --listen address")
    );
    assert_eq!(walk("cargo install --locked --path .\n").as_deref(), None);
}

/// The `workmail-reconcile …` lines in the shell blocks of `markdown`, each checked against the
/// real CLI: how many there are, and the problems found.
fn check_command_lines(markdown: &str, path: &str) -> (usize, Vec<String>) {
    let mut checked = 0;
    let mut problems = Vec::new();
    for (info, body) in code_blocks(markdown) {
        if !matches!(info.as_str(), "sh" | "bash" | "console" | "shell") {
            continue;
        }
        let script: String = body
            .lines()
            .map(|l| l.trim_start().strip_prefix("$ ").unwrap_or(l))
            .collect::<Vec<_>>()
            .join("\n");
        for invocation in shell_invocations(&script, path) {
            checked += 1;
            if let Err(e) = check_invocation(&invocation.args) {
                problems.push(format!("{path}: {}: {e}", invocation.args.join(" ")));
            }
        }
    }
    (checked, problems)
}

/// Every `workmail-reconcile …` line in the shell blocks of the README and the docs/ pages
/// parses with the real CLI.
#[test]
fn docs_readme_command_lines_use_existing_flags() {
    let (checked, mut problems) = check_command_lines(&readme(), "README.md");
    assert!(checked >= 10, "only {checked} command lines found in README.md");
    let mut in_pages = 0;
    for page in docs_pages() {
        let (checked, found) = check_command_lines(&doc(&page), &page);
        in_pages += checked;
        problems.extend(found);
    }
    assert!(in_pages >= 12, "only {in_pages} command lines found in the docs/ pages");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Relative links in the README, the docs/ pages, CHANGELOG.md and examples/iam/README.md
/// resolve.
#[test]
fn docs_relative_links_resolve() {
    let mut files: Vec<String> = [
        "README.md",
        "examples/iam/README.md",
        "examples/kubernetes/controller/README.md",
        "CHANGELOG.md",
    ]
    .map(String::from)
    .to_vec();
    files.extend(docs_pages());
    for file in &files {
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

/// The README is a front door, at most 350 lines, and each page of docs/ at most 700.
#[test]
fn docs_readme_and_pages_stay_short() {
    let lines = readme().lines().count();
    assert!(lines <= 350, "README.md has {lines} lines; move detail to a docs/ page");
    for page in docs_pages() {
        let lines = doc(&page).lines().count();
        assert!(lines <= 700, "{page} has {lines} lines; split it by topic");
    }
}

/// The README's commands that write local files (`schema`, `completions`, `man`) and the
/// install lines of `completions --help`, run by `sh` as written on a fresh account: an empty
/// HOME and an empty working directory, so no directory they write into exists beforehand.
#[test]
fn docs_local_commands_work_on_a_fresh_account() {
    let home = tempfile::tempdir().expect("tempdir");
    let cwd = tempfile::tempdir().expect("tempdir");
    let mut lines: Vec<String> = code_blocks(&readme())
        .into_iter()
        .filter(|(info, _)| info == "sh")
        .flat_map(|(_, body)| command_lines(&body))
        .filter(|l| {
            ["schema", "completions", "man"]
                .iter()
                .any(|sub| l.contains(&format!("workmail-reconcile {sub} ")))
        })
        .collect();
    assert_eq!(lines.len(), 3, "{lines:?}");
    let help: Vec<String> = INSTALL_HELP
        .lines()
        .filter_map(|l| l.split_once(": ").map(|(_, command)| command.trim().to_string()))
        .filter(|command| command.starts_with("mkdir -p "))
        .collect();
    assert_eq!(help.len(), 3, "bash, zsh and fish: {help:?}");
    lines.extend(help);
    for line in &lines {
        let output = std::process::Command::new("sh")
            .args(["-c", line])
            .current_dir(cwd.path())
            .env_clear()
            .env("PATH", path_with_binary())
            .env("HOME", home.path())
            .output()
            .expect("sh runs");
        assert!(
            output.status.success() && output.stderr.is_empty(),
            "`{line}`: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let read = |path: std::path::PathBuf| {
        std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    };
    assert_eq!(
        read(cwd.path().join("schema/workmail-users.schema.json")),
        read(repo_root().join("schema/workmail-users.schema.json"))
    );
    let home = home.path();
    for (file, shell) in [
        (".local/share/bash-completion/completions/workmail-reconcile", Shell::Bash),
        (".zfunc/_workmail-reconcile", Shell::Zsh),
        (".config/fish/completions/workmail-reconcile.fish", Shell::Fish),
    ] {
        assert!(read(home.join(file)) == completion_script(shell), "{file}");
    }
    assert!(read(home.join(".local/share/man/man1/workmail-reconcile-plan.1")).len() > 1000);
}

/// The bash script completes, in bash: subcommands, and each subcommand's own flags (which
/// clap_complete's script alone never completes for a binary whose name has a hyphen).
#[test]
fn bash_completion_completes_subcommands_and_their_flags() {
    let script = tempfile::NamedTempFile::new().expect("temp file");
    std::fs::write(script.path(), completion_script(Shell::Bash)).expect("write");
    let complete = |line: &str| {
        let words: Vec<&str> = line.split(' ').collect();
        let program = format!(
            "source {}\nCOMP_WORDS=({})\nCOMP_CWORD={}\n_workmail__reconcile workmail-reconcile \
             '{}' '{}'\necho \"${{COMPREPLY[*]}}\"",
            script.path().display(),
            words.join(" "),
            words.len() - 1,
            words[words.len() - 1],
            words[words.len() - 2],
        );
        let output =
            std::process::Command::new("bash").args(["-c", &program]).output().expect("bash runs");
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8(output.stdout).expect("UTF-8").trim().to_string()
    };
    assert_eq!(complete("workmail-reconcile pl"), "plan");
    assert_eq!(complete("workmail-reconcile plan --deta"), "--detailed-exitcode");
    assert_eq!(complete("workmail-reconcile apply --auto"), "--auto-approve");
    assert_eq!(complete("workmail-reconcile export --email"), "--email-domain");
    assert_eq!(complete("workmail-reconcile --endpoint"), "--endpoint-url");
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
        "no man page for `frobnicate`; expected one of: validate, plan, apply, export, demo, schema, controller, emulator, completions, man"
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

/// A GET on a fresh connection: the status code and the body.
fn http_get(url: &str) -> (u16, String) {
    let answer = crate::http_client::blocking_get(url);
    (answer.status, answer.body)
}

/// `workmail-reconcile controller …` run in the background as docs/controller.md shows it, listening
/// on a free port; killed when dropped.
struct BackgroundController {
    child: std::process::Child,
    url: String,
}

impl BackgroundController {
    fn start(args: &[String], env: &[(String, String)], home: &std::path::Path) -> Self {
        let mut args = args.to_vec();
        let at = args.iter().position(|a| a == "--listen").expect("--listen");
        args[at + 1] = "127.0.0.1:0".to_string();
        let log = home.join("controller.log");
        let mut started = BackgroundController {
            child: spawn_logged(&args, env, home, &log),
            url: String::new(),
        };
        started.url = first_line(&mut started.child);
        assert!(started.url.starts_with("http://127.0.0.1:"), "first line: {:?}", started.url);
        started
    }

    /// `/status` once its history holds `runs` runs.
    fn status_after(&self, runs: usize) -> serde_json::Value {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            let (code, body) = http_get(&format!("{}/status", self.url));
            assert_eq!(code, 200, "{body}");
            let status: serde_json::Value = serde_json::from_str(&body).expect("JSON");
            if status["history"].as_array().is_some_and(|h| h.len() >= runs) {
                return status;
            }
            assert!(std::time::Instant::now() < deadline, "no run {runs}: {status:#}");
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }

    fn signal(&self, signal: i32) {
        // SAFETY: kill(2) on our own child with a valid signal number.
        assert_eq!(unsafe { libc::kill(self.child.id() as i32, signal) }, 0);
    }
}

impl Drop for BackgroundController {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether `command_line` matches `pkill -f`'s `pattern`, as far as the README's patterns go:
/// the pieces between `.*` occur in order.
fn pkill_matches(command_line: &str, pattern: &str) -> bool {
    let mut rest = command_line;
    pattern.split(".*").all(|piece| match rest.find(piece) {
        Some(at) => {
            rest = &rest[at + piece.len()..];
            true
        }
        None => false,
    })
}

/// docs/controller.md's "Try it on the emulator", as written: the emulator seeded with
/// the examples, the controller in observe mode reporting the quickstart's six users as drift,
/// the two curl lines, Ctrl-C, the restart in self-heal mode applying them, and the SIGHUP that
/// starts the next run at once, which finds nothing to do.
#[test]
fn docs_controller_walkthrough_runs_as_written() {
    let blocks = section_blocks(&doc("docs/controller.md"), "Try it on the emulator");
    assert_eq!(blocks.len(), 5, "emulator, controller, curl, self-heal, SIGHUP: {blocks:?}");
    let lines: Vec<String> = blocks.iter().flat_map(|(_, b)| command_lines(b)).collect();
    let home = tempfile::tempdir().expect("tempdir");
    let mut env: Vec<(String, String)> = Vec::new();
    let mut emulator: Option<(String, BackgroundEmulator)> = None;
    // The running controller: the URL the README gives it, the process, its command line.
    let mut controller: Option<(String, BackgroundController, String)> = None;
    // The runs the running controller has been asked for: its first, then one per SIGHUP.
    let mut runs = 0;
    let mut stopped = Vec::new();
    let mut fetched = Vec::new();
    for line in &lines {
        let words: Vec<String> = line.split_whitespace().map(str::to_string).collect();
        let swap = |text: &str| -> String {
            let mut text = text.to_string();
            if let Some((readme_url, running)) = &emulator {
                text = text.replace(readme_url.as_str(), &running.url);
            }
            if let Some((readme_url, running, _)) = &controller {
                text = text.replace(readme_url.as_str(), &running.url);
            }
            text
        };
        if let Some(pattern) = line.strip_prefix("pkill -HUP -f ") {
            let (_, running, command_line) = controller.as_ref().expect("a controller to signal");
            let pattern = pattern.trim_matches('\'');
            assert!(pkill_matches(command_line, pattern), "`{line}` misses `{command_line}`");
            running.signal(libc::SIGHUP);
            runs += 1;
            continue;
        }
        match words.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
            ["workmail-reconcile", "emulator", args @ ..] => {
                let at = args.iter().position(|a| *a == "--listen").expect("--listen");
                let mut all = vec!["emulator"];
                all.extend(args);
                emulator = Some((
                    format!("http://{}", args[at + 1]),
                    BackgroundEmulator::start(&all, home.path()),
                ));
            }
            ["export", assignments @ ..] => {
                for assignment in assignments {
                    let (k, v) = assignment.split_once('=').expect("NAME=value");
                    env.push((k.to_string(), v.to_string()));
                }
            }
            ["workmail-reconcile", ..] => {
                assert!(line.contains(" controller "), "`{line}`: not a step this test runs");
                let args: Vec<String> = words[1..].iter().map(|w| swap(w)).collect();
                // "Stop the controller with Ctrl-C" before it is started again.
                if let Some((_, mut running, _)) = controller.take() {
                    running.signal(libc::SIGINT);
                    stopped.push(running.child.wait().expect("wait").code());
                }
                let at = args.iter().position(|a| a == "--listen").expect("--listen");
                let readme_url = format!("http://{}", args[at + 1]);
                let running = BackgroundController::start(&args, &env, home.path());
                controller = Some((readme_url, running, line.clone()));
                runs = 1;
            }
            ["curl", "-s", url, rest @ ..] => {
                let running = controller.as_ref().expect("a controller before curl");
                running.1.status_after(runs);
                let (code, body) = http_get(&swap(url));
                assert_eq!(code, 200, "`{line}`: {body}");
                let body = match rest {
                    [] => body,
                    ["|", "grep", pattern] => {
                        let pattern = pattern.trim_matches('\'').trim_start_matches('^');
                        body.lines()
                            .filter(|l| l.starts_with(pattern))
                            .collect::<Vec<_>>()
                            .join("\n")
                    }
                    _ => panic!("`{line}`: not a step this test runs"),
                };
                fetched.push(body);
            }
            _ => panic!("`{line}` is not a step this test knows how to run"),
        }
    }
    assert_eq!(fetched.len(), 3, "two looks at the observing controller, one at the healing one");
    let status: serde_json::Value = serde_json::from_str(&fetched[0]).expect("curl /status: JSON");
    assert_eq!(status["mode"], "observe");
    assert_eq!(status["last_run"]["result"], "drift", "{status:#}");
    assert_eq!(status["ready"]["reason"], "DriftDetected");
    assert_eq!(status["last_run"]["summary"]["to_update"], 6);
    assert_eq!(status["last_run"]["summary"]["updated"], 0);
    let drift: Vec<&str> = fetched[1].lines().collect();
    assert_eq!(drift.len(), 2, "one drift gauge per organization: {drift:?}");
    assert!(drift.iter().all(|l| l.starts_with("workmail_reconcile_drift_users{organization=")));
    // "Stop the controller with Ctrl-C": exit 0.
    assert_eq!(stopped, [Some(0)]);
    // In self-heal mode the first run applied the six users; the run SIGHUP started found
    // nothing to do.
    let healed: serde_json::Value = serde_json::from_str(&fetched[2]).expect("JSON");
    assert_eq!(healed["mode"], "self-heal");
    let history = healed["history"].as_array().expect("history");
    assert_eq!(history.len(), 2, "{healed:#}");
    assert_eq!(history[1]["result"], "success", "{healed:#}");
    assert_eq!(history[1]["summary"]["updated"], 6);
    assert_eq!(history[0]["trigger"], "signal", "{healed:#}");
    assert_eq!(history[0]["result"], "success", "{healed:#}");
    assert_eq!(history[0]["summary"]["to_update"], 0);
    assert_eq!(history[0]["summary"]["updated"], 0);
}
