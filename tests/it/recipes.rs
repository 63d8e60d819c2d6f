//! The recipes under `examples/` stay true to the code: every `workmail-reconcile` command line in
//! the CI and Kubernetes files parses with the real clap definitions, every job that applies is
//! serialized with the others, and the IAM policies grant exactly the WorkMail operations
//! `src/directory/sdk.rs` calls.

use super::support::repo_root;
use clap::CommandFactory;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use workmail_reconcile::cli::Cli;

/// The binary's name as scripts spell it.
const BIN: &str = "workmail-reconcile";

/// Subcommands the docs may show before they exist on this branch (another branch adds them).
/// Invocations of such a subcommand are checked only once the subcommand exists.
const PENDING_SUBCOMMANDS: &[&str] = &["emulator"];

/// One `workmail-reconcile …` command line found in a recipe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    /// Where it was found, for the failure message.
    pub origin: String,
    /// The words after the program name, quotes removed.
    pub args: Vec<String>,
}

/// Whether `word` names the program: `workmail-reconcile`, `./target/release/workmail-reconcile`,
/// `/workmail-reconcile` (the container's entrypoint).
fn is_program(word: &str) -> bool {
    word == BIN || word.ends_with(&format!("/{BIN}"))
}

/// Shell control operators after which a new command starts.
fn is_operator(word: &str) -> bool {
    matches!(word, "|" | "||" | "&&" | ";" | "&" | "|&" | "(" | ")" | "{" | "}" | "!")
}

/// Words that keep the shell at command position (`then workmail-reconcile …`).
fn is_keyword(word: &str) -> bool {
    matches!(word, "then" | "do" | "else" | "if" | "while" | "until" | "time" | "exec")
}

/// A word that ends an invocation's arguments: an operator, a redirection or a comment.
fn ends_arguments(word: &str) -> bool {
    is_operator(word)
        || word.starts_with('#')
        || word.starts_with('>')
        || word.starts_with('<')
        || word.starts_with("2>")
        || word.starts_with("1>")
        || word.starts_with("&>")
}

/// `NAME=value` in front of a command.
fn is_assignment(word: &str) -> bool {
    word.split_once('=').is_some_and(|(name, _)| {
        !name.is_empty()
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !name.starts_with(|c: char| c.is_ascii_digit())
    })
}

fn unquote(word: &str) -> String {
    let w = word.trim_end_matches(';');
    for q in ['"', '\''] {
        if let Some(inner) = w.strip_prefix(q).and_then(|w| w.strip_suffix(q)) {
            return inner.to_string();
        }
    }
    w.to_string()
}

/// Every invocation of the program in a shell script: words split on whitespace, one logical
/// line at a time (`\` continues a line), the program recognised only at command position (so
/// `install workmail-reconcile /usr/local/bin` is not an invocation).
pub fn shell_invocations(script: &str, origin: &str) -> Vec<Invocation> {
    let mut found = Vec::new();
    let joined = script.replace("\\\r\n", " ").replace("\\\n", " ");
    for (number, line) in joined.lines().enumerate() {
        let words: Vec<&str> = line.split_whitespace().collect();
        let mut at_command = true;
        let mut i = 0;
        while i < words.len() {
            let word = words[i];
            if word.starts_with('#') {
                break;
            }
            if at_command && is_program(word) {
                let mut args = Vec::new();
                i += 1;
                while i < words.len() && !ends_arguments(words[i]) {
                    args.push(unquote(words[i]));
                    let last = words[i].ends_with(';');
                    i += 1;
                    if last {
                        break;
                    }
                }
                found.push(Invocation { origin: format!("{origin}, line {}", number + 1), args });
                at_command = false;
                continue;
            }
            if is_operator(word) || word.ends_with(';') {
                at_command = true;
            } else if at_command && (is_keyword(word) || is_assignment(word)) {
                // still at command position
            } else {
                at_command = false;
            }
            i += 1;
        }
    }
    found
}

/// Keys whose string values are shell scripts or command lines: GitHub Actions `run`, GitLab
/// `script`/`before_script`/`after_script`, Kubernetes `command`/`args`.
const SCRIPT_KEYS: &[&str] = &["run", "script", "before_script", "after_script", "command", "args"];

/// Every invocation in a parsed YAML document. A mapping with a `command` and/or `args` list (a
/// Kubernetes container) is one command line: the lists joined, no shell involved.
pub fn yaml_invocations(value: &Value, origin: &str, found: &mut Vec<Invocation>) {
    match value {
        Value::Object(map) => {
            let list = |key: &str| -> Option<Vec<String>> {
                map.get(key)?
                    .as_array()?
                    .iter()
                    .map(|v| v.as_str().map(str::to_string))
                    .collect::<Option<Vec<_>>>()
            };
            let (command, args) = (list("command"), list("args"));
            if command.is_some() || args.is_some() {
                let words: Vec<String> = command.into_iter().chain(args).flatten().collect();
                if let Some((program, rest)) = words.split_first()
                    && is_program(program)
                {
                    found.push(Invocation {
                        origin: format!("{origin}, {program} container"),
                        args: rest.to_vec(),
                    });
                }
            }
            for (key, child) in map {
                let here = format!("{origin} → {key}");
                if SCRIPT_KEYS.contains(&key.as_str()) {
                    match child {
                        Value::String(script) => found.extend(shell_invocations(script, &here)),
                        Value::Array(items) if key != "command" && key != "args" => {
                            for item in items {
                                if let Value::String(script) = item {
                                    found.extend(shell_invocations(script, &here));
                                }
                            }
                        }
                        _ => {}
                    }
                }
                yaml_invocations(child, &here, found);
            }
        }
        Value::Array(items) => {
            for item in items {
                yaml_invocations(item, origin, found);
            }
        }
        _ => {}
    }
}

fn takes_value(arg: &clap::Arg) -> bool {
    arg.get_action().takes_values()
}

/// Check `args` against the clap definitions: every subcommand and flag must exist (global flags
/// included, before or after the subcommand), and then the whole line must parse with
/// [`Cli`] itself (values of enum flags, required arguments, conflicts). `Err` says what is wrong.
pub fn check_invocation(args: &[String]) -> Result<(), String> {
    let mut root = Cli::command();
    root.build();
    let mut current = root.clone();
    let mut path = vec![BIN.to_string()];
    let mut only_positionals = false;
    let mut help_or_version = false;
    let mut words = args.iter();
    while let Some(word) = words.next() {
        if only_positionals {
            continue;
        }
        if word == "--" {
            only_positionals = true;
        } else if let Some(long) = word.strip_prefix("--") {
            let (name, inline) = match long.split_once('=') {
                Some((name, value)) => (name, Some(value)),
                None => (long, None),
            };
            let arg = current
                .get_arguments()
                .find(|a| {
                    a.get_long() == Some(name)
                        || a.get_all_aliases().is_some_and(|aliases| aliases.contains(&name))
                })
                .ok_or_else(|| format!("`{}` has no flag --{name}", path.join(" ")))?;
            help_or_version |= matches!(name, "help" | "version");
            match (takes_value(arg), inline) {
                (true, None) => {
                    words.next().ok_or_else(|| format!("--{name} needs a value"))?;
                }
                (false, Some(_)) => return Err(format!("--{name} takes no value")),
                _ => {}
            }
        } else if word.len() > 1 && word.starts_with('-') {
            let shorts: Vec<char> = word[1..].chars().collect();
            for (i, c) in shorts.iter().enumerate() {
                let arg = current
                    .get_arguments()
                    .find(|a| a.get_short() == Some(*c))
                    .ok_or_else(|| format!("`{}` has no flag -{c}", path.join(" ")))?;
                help_or_version |= matches!(c, 'h' | 'V');
                if takes_value(arg) {
                    if i + 1 == shorts.len() {
                        words.next().ok_or_else(|| format!("-{c} needs a value"))?;
                    }
                    break;
                }
            }
        } else if current.has_subcommands() {
            let Some(sub) = current.find_subcommand(word).cloned() else {
                if PENDING_SUBCOMMANDS.contains(&word.as_str()) {
                    return Ok(());
                }
                let known: Vec<&str> = current.get_subcommands().map(|s| s.get_name()).collect();
                return Err(format!(
                    "`{}` has no subcommand `{word}` (expected one of: {})",
                    path.join(" "),
                    known.join(", ")
                ));
            };
            path.push(sub.get_name().to_string());
            current = sub;
        } else if current.get_positionals().next().is_none() {
            return Err(format!("`{}` takes no argument `{word}`", path.join(" ")));
        }
    }
    if current.has_subcommands() && !help_or_version {
        return Err(format!("`{}` without a subcommand", path.join(" ")));
    }
    // The flags exist; now the real parser checks values and combinations.
    let argv = std::iter::once(BIN.to_string()).chain(args.iter().cloned());
    match Cli::command().try_get_matches_from(argv) {
        Ok(_) => Ok(()),
        Err(e)
            if matches!(
                e.kind(),
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion
            ) =>
        {
            Ok(())
        }
        Err(e) => Err(e.render().to_string().lines().next().unwrap_or_default().to_string()),
    }
}

/// The recipe files: `examples/ci/*.yml` and `examples/kubernetes/*.yaml`.
fn recipe_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for (dir, ext) in [("examples/ci", "yml"), ("examples/kubernetes", "yaml")] {
        let entries = std::fs::read_dir(repo_root().join(dir)).expect("recipe directory");
        for entry in entries {
            let path = entry.expect("directory entry").path();
            if path.extension().is_some_and(|e| e == ext) {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

fn relative(path: &Path) -> String {
    path.strip_prefix(repo_root()).unwrap_or(path).display().to_string()
}

/// Every YAML document of `path` (multi-document files allowed), as JSON values.
fn documents(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).expect("readable recipe");
    let docs: Vec<Value> = serde_saphyr::from_multiple(&text)
        .unwrap_or_else(|e| panic!("{} is not valid YAML: {e}", relative(path)));
    docs.into_iter().filter(|d| !d.is_null()).collect()
}

fn invocations_of(path: &Path) -> Vec<Invocation> {
    let mut found = Vec::new();
    for (i, doc) in documents(path).iter().enumerate() {
        yaml_invocations(doc, &format!("{} (document {})", relative(path), i + 1), &mut found);
    }
    found
}

fn words(line: &str) -> Vec<String> {
    line.split_whitespace().map(str::to_string).collect()
}

#[test]
fn recipes_invoke_only_existing_subcommands_and_flags() {
    let files = recipe_files();
    let names: Vec<String> =
        files.iter().map(|f| f.file_name().unwrap().to_string_lossy().into_owned()).collect();
    assert_eq!(
        names,
        ["github-actions-apply.yml", "github-actions-plan.yml", "gitlab-ci.yml", "cronjob.yaml"]
    );
    let mut problems = Vec::new();
    for file in &files {
        let found = invocations_of(file);
        assert!(!found.is_empty(), "{}: no workmail-reconcile invocation found", relative(file));
        for invocation in found {
            if let Err(e) = check_invocation(&invocation.args) {
                problems.push(format!("{}: {}: {e}", invocation.origin, invocation.args.join(" ")));
            }
        }
    }
    assert!(problems.is_empty(), "invalid invocations:\n{}", problems.join("\n"));
}

/// The recipes do what the README promises: the commands each workflow is for.
#[test]
fn recipes_contain_the_documented_command_lines() {
    let lines = |file: &str| -> Vec<String> {
        invocations_of(&repo_root().join(file)).into_iter().map(|i| i.args.join(" ")).collect()
    };
    let plan = lines("examples/ci/github-actions-plan.yml");
    assert!(plan.contains(&"validate users/".to_string()), "{plan:?}");
    assert!(
        plan.contains(
            &"plan users/ --format markdown --detailed-exitcode --redact telephone".to_string()
        ),
        "{plan:?}"
    );
    let apply = lines("examples/ci/github-actions-apply.yml");
    assert!(
        apply.contains(&"apply users/ --auto-approve --audit-log audit.jsonl".to_string()),
        "{apply:?}"
    );
    assert!(apply.iter().any(|l| l.starts_with("plan users/ --detailed-exitcode")), "{apply:?}");
    let gitlab = lines("examples/ci/gitlab-ci.yml");
    for wanted in ["validate", "plan", "apply"] {
        assert!(gitlab.iter().any(|l| l.starts_with(wanted)), "{wanted} missing: {gitlab:?}");
    }
    let kubernetes = lines("examples/kubernetes/cronjob.yaml");
    assert_eq!(
        kubernetes,
        [
            "apply /git/current/users --auto-approve --audit-log /dev/stderr --log-format json --color never"
        ]
    );
}

#[test]
fn github_plan_workflow_posts_one_sticky_comment_and_uses_oidc() {
    let doc = &documents(&repo_root().join("examples/ci/github-actions-plan.yml"))[0];
    assert_eq!(doc["permissions"]["id-token"], "write");
    assert_eq!(doc["permissions"]["pull-requests"], "write");
    let text = serde_json::to_string(doc).unwrap();
    assert!(text.contains("<!-- workmail-reconcile-plan -->"));
    assert!(text.contains("aws-actions/configure-aws-credentials"));
    assert!(text.contains("role-to-assume"));
}

#[test]
fn kubernetes_cronjob_runs_non_root_with_a_read_only_root_and_irsa() {
    let docs = documents(&repo_root().join("examples/kubernetes/cronjob.yaml"));
    let kinds: Vec<&str> = docs.iter().filter_map(|d| d["kind"].as_str()).collect();
    assert_eq!(kinds, ["Namespace", "ServiceAccount", "CronJob"]);
    let account = &docs[1];
    assert!(
        account["metadata"]["annotations"]["eks.amazonaws.com/role-arn"]
            .as_str()
            .is_some_and(|arn| arn.starts_with("arn:aws:iam::"))
    );
    let pod = &docs[2]["spec"]["jobTemplate"]["spec"]["template"]["spec"];
    assert_eq!(pod["serviceAccountName"], "workmail-reconcile");
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
    let containers: Vec<&Value> = ["initContainers", "containers"]
        .iter()
        .flat_map(|k| pod[*k].as_array().into_iter().flatten())
        .collect();
    assert_eq!(containers.len(), 2);
    for container in containers {
        let name = &container["name"];
        assert_eq!(container["securityContext"]["readOnlyRootFilesystem"], true, "{name}");
        assert_eq!(container["securityContext"]["allowPrivilegeEscalation"], false, "{name}");
        assert!(container["resources"]["limits"]["memory"].is_string(), "{name}");
        assert!(container["resources"]["requests"]["cpu"].is_string(), "{name}");
    }
}

// --- one apply at a time ---------------------------------------------------------------------

/// The CI system or scheduler a recipe is written for: each has its own way to serialize jobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Runner {
    GitHubActions,
    GitLab,
    Kubernetes,
}

fn runner_of(path: &Path) -> Runner {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    if name.starts_with("github-") {
        Runner::GitHubActions
    } else if name.starts_with("gitlab") {
        Runner::GitLab
    } else {
        Runner::Kubernetes
    }
}

/// The subcommand of an invocation (`--region x apply users/` → `apply`), by the real parser.
fn subcommand_of(args: &[String]) -> Option<String> {
    let argv = std::iter::once(BIN.to_string()).chain(args.iter().cloned());
    Cli::command().try_get_matches_from(argv).ok()?.subcommand_name().map(str::to_string)
}

fn runs_apply(value: &Value) -> bool {
    let mut found = Vec::new();
    yaml_invocations(value, "", &mut found);
    found.iter().any(|i| subcommand_of(&i.args).as_deref() == Some("apply"))
}

/// Each job of one recipe document that runs `apply`, with the lock that keeps two of them from
/// running at once: GitHub Actions a `concurrency` group (the job's, else the workflow's) that
/// is the same for every run and does not cancel a run in progress; GitLab a `resource_group`
/// (templates included, since jobs inherit them); Kubernetes a CronJob with
/// `concurrencyPolicy: Forbid`. The WorkMail API has no conditional write, so two applies at
/// once can both read, both write and both report success.
fn apply_locks(runner: Runner, doc: &Value) -> Result<Vec<(String, String)>, String> {
    let mut locks = Vec::new();
    match runner {
        Runner::GitHubActions => {
            let jobs = doc["jobs"].as_object().into_iter().flatten();
            for (name, job) in jobs.filter(|(_, job)| runs_apply(job)) {
                let concurrency = if job["concurrency"].is_null() {
                    &doc["concurrency"]
                } else {
                    &job["concurrency"]
                };
                let group = match concurrency {
                    Value::String(group) => Some(group.as_str()),
                    other => other["group"].as_str(),
                }
                .ok_or_else(|| format!("job `{name}` runs apply without a concurrency group"))?;
                if group.contains("${{") {
                    return Err(format!(
                        "job `{name}`: concurrency group `{group}` differs between runs"
                    ));
                }
                if !matches!(concurrency.get("cancel-in-progress"), None | Some(Value::Bool(false)))
                {
                    return Err(format!(
                        "job `{name}`: cancel-in-progress would stop an apply half-way"
                    ));
                }
                locks.push((name.clone(), format!("concurrency {group}")));
            }
        }
        Runner::GitLab => {
            let jobs = doc.as_object().into_iter().flatten();
            for (name, job) in jobs.filter(|(_, job)| job.is_object() && runs_apply(job)) {
                let group = job["resource_group"]
                    .as_str()
                    .ok_or_else(|| format!("job `{name}` runs apply without a resource_group"))?;
                if group.contains('$') {
                    return Err(format!(
                        "job `{name}`: resource_group `{group}` differs between pipelines"
                    ));
                }
                locks.push((name.clone(), format!("resource_group {group}")));
            }
        }
        Runner::Kubernetes => {
            if runs_apply(doc) {
                let name = doc["metadata"]["name"].as_str().unwrap_or("?").to_string();
                let kind = doc["kind"].as_str().unwrap_or("?");
                let policy = doc["spec"]["concurrencyPolicy"].as_str();
                if kind != "CronJob" || policy != Some("Forbid") {
                    return Err(format!(
                        "{kind} `{name}` runs apply without concurrencyPolicy: Forbid"
                    ));
                }
                locks.push((name, "concurrencyPolicy Forbid".to_string()));
            }
        }
    }
    Ok(locks)
}

#[test]
fn recipes_run_one_apply_at_a_time() {
    let mut found = Vec::new();
    for file in recipe_files() {
        for doc in documents(&file) {
            let locks = apply_locks(runner_of(&file), &doc)
                .unwrap_or_else(|e| panic!("{}: {e}", relative(&file)));
            for (job, lock) in locks {
                found.push(format!("{}: {job}: {lock}", relative(&file)));
            }
        }
    }
    // Within each system one lock for every job that applies: the push-triggered apply and the
    // scheduled drift correction queue behind each other.
    assert_eq!(
        found,
        [
            "examples/ci/github-actions-apply.yml: apply: concurrency workmail-apply",
            "examples/ci/github-actions-apply.yml: drift-apply: concurrency workmail-apply",
            "examples/ci/gitlab-ci.yml: apply: resource_group workmail-production",
            "examples/ci/gitlab-ci.yml: drift-apply: resource_group workmail-production",
            "examples/kubernetes/cronjob.yaml: workmail-reconcile-drift: concurrencyPolicy Forbid",
        ]
    );
}

#[test]
fn apply_lock_checker_rejects_unserialized_applies() {
    let yaml = |text: &str| -> Value { serde_saphyr::from_str(text).expect("YAML") };
    let github = |concurrency: &str| {
        let text = format!(
            "{concurrency}\njobs:\n  go:\n    steps:\n      - run: workmail-reconcile --region x apply users/ --auto-approve\n  look:\n    steps:\n      - run: workmail-reconcile plan users/\n"
        );
        apply_locks(Runner::GitHubActions, &yaml(&text))
    };
    assert_eq!(github("concurrency: one"), Ok(vec![("go".into(), "concurrency one".into())]));
    assert_eq!(
        github("concurrency:\n  group: one\n  cancel-in-progress: false"),
        Ok(vec![("go".into(), "concurrency one".into())])
    );
    assert_eq!(github("on: push"), Err("job `go` runs apply without a concurrency group".into()));
    assert_eq!(
        github("concurrency:\n  group: one\n  cancel-in-progress: true"),
        Err("job `go`: cancel-in-progress would stop an apply half-way".into())
    );
    assert_eq!(
        github("concurrency: apply-${{ github.ref }}"),
        Err("job `go`: concurrency group `apply-${{ github.ref }}` differs between runs".into())
    );
    let gitlab = "apply:\n  script:\n    - workmail-reconcile apply users/ --auto-approve\nplan:\n  script:\n    - workmail-reconcile plan users/\n";
    assert_eq!(
        apply_locks(Runner::GitLab, &yaml(gitlab)),
        Err("job `apply` runs apply without a resource_group".into())
    );
    let cronjob = "kind: CronJob\nmetadata: {name: drift}\nspec:\n  concurrencyPolicy: Allow\n  jobTemplate: {spec: {template: {spec: {containers: [{command: [/workmail-reconcile], args: [apply, /users, --auto-approve]}]}}}}\n";
    assert_eq!(
        apply_locks(Runner::Kubernetes, &yaml(cronjob)),
        Err("CronJob `drift` runs apply without concurrencyPolicy: Forbid".into())
    );
    let plan_only = cronjob.replace("[apply, /users, --auto-approve]", "[plan, /users]");
    assert_eq!(apply_locks(Runner::Kubernetes, &yaml(&plan_only)), Ok(vec![]));
}

// --- the checker itself can fail ------------------------------------------------------------

#[test]
fn extractor_finds_invocations_and_the_checker_rejects_bogus_ones() {
    let script = "set -e\n\
        install -m 0755 workmail-reconcile /usr/local/bin/\n\
        code=0\n\
        NO_COLOR=1 workmail-reconcile plan users/ --format markdown \\\n  --bogus > plan.md || code=$?\n\
        ./target/release/workmail-reconcile --region eu-west-1 apply users/ --auto-approve; echo done\n\
        # workmail-reconcile frobnicate (a comment)\n\
        if true; then workmail-reconcile frobnicate; fi\n";
    let found = shell_invocations(script, "test");
    let lines: Vec<String> = found.iter().map(|i| i.args.join(" ")).collect();
    assert_eq!(
        lines,
        [
            "plan users/ --format markdown --bogus",
            "--region eu-west-1 apply users/ --auto-approve",
            "frobnicate",
        ]
    );
    assert_eq!(found[0].origin, "test, line 4");
    assert_eq!(
        check_invocation(&found[0].args).unwrap_err(),
        "`workmail-reconcile plan` has no flag --bogus"
    );
    assert_eq!(check_invocation(&found[1].args), Ok(()));
    assert!(check_invocation(&found[2].args).unwrap_err().contains("no subcommand `frobnicate`"));
}

#[test]
fn checker_knows_global_flags_values_and_short_flags() {
    for ok in [
        "--version",
        "plan users/ --region eu-west-1 -vv --color never --redact=telephone,office",
        "apply --plan plan.json --auto-approve",
        "completions zsh",
        "export --organization acme --out acme.yaml",
        "validate -q examples/users",
    ] {
        assert_eq!(check_invocation(&words(ok)), Ok(()), "{ok}");
    }
    for (bad, expected) in [
        ("plan users/ --format yaml", "invalid value 'yaml'"),
        ("plan users/ --redact salary", "unknown field `salary`"),
        ("apply users/ --plan plan.json", "cannot be used with"),
        ("validate -x users/", "has no flag -x"),
        ("demo --auto-approve", "`workmail-reconcile demo` has no flag --auto-approve"),
        ("schema extra", "takes no argument `extra`"),
        ("--region eu-west-1", "without a subcommand"),
        ("plan users/ --detailed-exitcode=yes", "--detailed-exitcode takes no value"),
    ] {
        let err = check_invocation(&words(bad)).unwrap_err();
        assert!(err.contains(expected), "{bad}: {err}");
    }
}

#[test]
fn kubernetes_style_command_and_args_are_one_command_line() {
    let doc: Value = serde_json::json!({
        "containers": [
            {"command": ["/workmail-reconcile"], "args": ["plan", "/desired", "--bogus"]},
            {"args": ["--repo=https://example.com/x", "--one-time"]}
        ]
    });
    let mut found = Vec::new();
    yaml_invocations(&doc, "doc", &mut found);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].args, ["plan", "/desired", "--bogus"]);
    assert!(check_invocation(&found[0].args).unwrap_err().contains("--bogus"));
}

// --- IAM ------------------------------------------------------------------------------------

/// `describe_user` → `DescribeUser`.
fn pascal_case(snake: &str) -> String {
    snake
        .split('_')
        .map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// The WorkMail operations called in `source`: `self.client.<op>()`, whitespace and line breaks
/// between the parts allowed.
fn client_operations(source: &str) -> BTreeSet<String> {
    let compact: String = source.chars().filter(|c| !c.is_whitespace()).collect();
    compact
        .split("self.client.")
        .skip(1)
        .filter_map(|rest| {
            let name: String =
                rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            rest[name.len()..].starts_with('(').then(|| pascal_case(&name))
        })
        .collect()
}

/// The `workmail:` actions of a policy, checking its shape on the way: Version 2012-10-17, only
/// Allow, `ListOrganizations` alone on `"*"`, everything else scoped to organization ARNs.
fn policy_actions(file: &str) -> BTreeSet<String> {
    let path = repo_root().join("examples/iam").join(file);
    let text = std::fs::read_to_string(&path).expect("policy file");
    let policy: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{file}: {e}"));
    assert_eq!(policy["Version"], "2012-10-17", "{file}");
    let mut actions = BTreeSet::new();
    for statement in policy["Statement"].as_array().expect("Statement list") {
        assert_eq!(statement["Effect"], "Allow", "{file}");
        let listed: Vec<String> = match &statement["Action"] {
            Value::String(a) => vec![a.clone()],
            Value::Array(a) => a.iter().map(|v| v.as_str().expect("action").to_string()).collect(),
            other => panic!("{file}: Action {other}"),
        };
        let names: BTreeSet<String> = listed
            .iter()
            .map(|a| a.strip_prefix("workmail:").unwrap_or_else(|| panic!("{file}: {a}")).into())
            .collect();
        let resources: Vec<String> = match &statement["Resource"] {
            Value::String(r) => vec![r.clone()],
            Value::Array(r) => {
                r.iter().map(|v| v.as_str().expect("resource").to_string()).collect()
            }
            other => panic!("{file}: Resource {other}"),
        };
        if resources == ["*"] {
            assert_eq!(names, BTreeSet::from(["ListOrganizations".to_string()]), "{file}");
        } else {
            assert!(!names.contains("ListOrganizations"), "{file}: needs Resource \"*\"");
            for resource in &resources {
                assert!(
                    resource.starts_with("arn:aws:workmail:")
                        && resource.contains(":organization/m-"),
                    "{file}: {resource} is not an organization ARN"
                );
            }
        }
        for name in names {
            assert!(actions.insert(name), "{file}: action listed twice");
        }
    }
    actions
}

#[test]
fn operation_scanner_maps_calls_to_action_names() {
    let source = "let a = self\n    .client\n    .describe_user()\n; self.client.list_users().x; \
                  self.client.limiter; client.update_user()";
    assert_eq!(
        client_operations(source),
        BTreeSet::from(["DescribeUser".to_string(), "ListUsers".to_string()])
    );
    assert_eq!(pascal_case("list_organizations"), "ListOrganizations");
}

#[test]
fn iam_policies_grant_exactly_the_operations_the_directory_module_calls() {
    let source = std::fs::read_to_string(repo_root().join("src/directory/sdk.rs")).expect("sdk.rs");
    let called = client_operations(&source);
    // Guard against a scanner that silently finds nothing.
    assert!(called.contains("UpdateUser") && called.contains("DescribeUser"), "{called:?}");

    // plan/export: everything but the one write. DescribeOrganization is in neither policy
    // because the code does not call it; if it ever does, `called` includes it and so must the
    // policies.
    let mut read: BTreeSet<String> = called.clone();
    read.remove("UpdateUser");
    assert_eq!(policy_actions("plan-policy.json"), read, "plan-policy.json");
    assert_eq!(policy_actions("apply-policy.json"), called, "apply-policy.json");
    assert!(!called.contains("DescribeOrganization"), "update the IAM README's note");
}
