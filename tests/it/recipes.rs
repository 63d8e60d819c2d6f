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

/// The recipe files that run the program: `examples/ci/*.yml`, `examples/kubernetes/*.yaml`
/// and the controller's Deployment.
fn recipe_files() -> Vec<PathBuf> {
    let mut files = vec![repo_root().join(CONTROLLER_DIR).join("deployment.yaml")];
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
        [
            "github-actions-apply.yml",
            "github-actions-plan.yml",
            "gitlab-ci.yml",
            "deployment.yaml",
            "cronjob.yaml",
        ]
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

/// The recipes do what docs/recipes.md promises: the commands each workflow is for.
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
    let controller = lines("examples/kubernetes/controller/deployment.yaml");
    assert_eq!(
        controller,
        ["controller /git/rev/users --mode self-heal --interval 10m --listen 0.0.0.0:8080 \
             --audit-log /dev/stderr --log-format json --color never"]
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

/// Whether `value` runs the program with subcommand `name`.
fn runs_subcommand(value: &Value, name: &str) -> bool {
    let mut found = Vec::new();
    yaml_invocations(value, "", &mut found);
    found.iter().any(|i| subcommand_of(&i.args).as_deref() == Some(name))
}

fn runs_apply(value: &Value) -> bool {
    runs_subcommand(value, "apply")
}

/// Each job of one recipe document that runs `apply`, with the lock that keeps two of them from
/// running at once: GitHub Actions a `concurrency` group (the job's, else the workflow's) that
/// is the same for every run and does not cancel a run in progress; GitLab a `resource_group`
/// (templates included, since jobs inherit them); Kubernetes a CronJob with
/// `concurrencyPolicy: Forbid`, and for the controller (which applies in every mode but
/// observe, and observe is one flag away) a Deployment of one replica replaced with
/// `strategy: Recreate`. The WorkMail API has no conditional write, so two applies at once
/// can both read, both write and both report success.
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
            if runs_subcommand(doc, "controller") {
                let name = doc["metadata"]["name"].as_str().unwrap_or("?").to_string();
                let kind = doc["kind"].as_str().unwrap_or("?");
                let replicas = &doc["spec"]["replicas"];
                let strategy = doc["spec"]["strategy"]["type"].as_str();
                if kind != "Deployment" || replicas != 1 || strategy != Some("Recreate") {
                    return Err(format!(
                        "{kind} `{name}` runs the controller without replicas: 1 and strategy: Recreate"
                    ));
                }
                locks.push((name, "replicas 1, strategy Recreate".to_string()));
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
            "examples/kubernetes/controller/deployment.yaml: workmail-reconcile-controller: replicas 1, strategy Recreate",
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
    let deployment = |spec: &str| {
        let text = format!(
            "kind: Deployment\nmetadata: {{name: ctl}}\nspec:\n  {spec}\n  template: {{spec: {{containers: [{{command: [/workmail-reconcile], args: [controller, /users, --mode, observe]}}]}}}}\n"
        );
        apply_locks(Runner::Kubernetes, &yaml(&text))
    };
    assert_eq!(
        deployment("replicas: 1\n  strategy: {type: Recreate}"),
        Ok(vec![("ctl".into(), "replicas 1, strategy Recreate".into())])
    );
    for unsafe_spec in [
        "replicas: 2\n  strategy: {type: Recreate}",
        "replicas: 1\n  strategy: {type: RollingUpdate}",
        "replicas: 1",
    ] {
        assert_eq!(
            deployment(unsafe_spec),
            Err("Deployment `ctl` runs the controller without replicas: 1 and strategy: Recreate"
                .into()),
            "{unsafe_spec}"
        );
    }
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

    // plan/export: everything but the writes. DescribeOrganization is in neither policy
    // because the code does not call it; if it ever does, `called` includes it and so must the
    // policies.
    let writes = crate::mailbox_apply::WRITES;
    assert!(writes.iter().all(|w| called.contains(*w)), "{called:?}");
    let mut read: BTreeSet<String> = called.clone();
    read.retain(|operation| !writes.contains(&operation.as_str()));
    assert_eq!(policy_actions("plan-policy.json"), read, "plan-policy.json");
    assert_eq!(policy_actions("apply-policy.json"), called, "apply-policy.json");
    assert!(!called.contains("DescribeOrganization"), "update the IAM README's note");
}

// --- the controller on Kubernetes ------------------------------------------------------------

/// The controller's recipe: kustomization, manifests and dashboard.
const CONTROLLER_DIR: &str = "examples/kubernetes/controller";

/// The flags of `workmail-reconcile controller` besides the global ones (docs/controller.md),
/// with the redaction flags it shares with plan and apply. Checked on their own because the
/// recipe must not run ahead of the documented interface; `check_invocation` checks the whole
/// line against the clap definitions as well.
const CONTROLLER_FLAGS: &[&str] = &[
    "--mode",
    "--interval",
    "--listen",
    "--webhook-secret-file",
    "--max-changes",
    "--audit-log",
    "--target",
    "--exclude",
    "--redact",
    "--redact-all",
    "--redact-key-file",
];

/// The metrics the controller exports and their labels (docs/controller.md). The alerts and
/// the dashboard may use no other name, so that a rename breaks this test instead of
/// silencing an alert.
const METRICS: &[(&str, &[&str])] = &[
    ("workmail_reconcile_runs_total", &["result", "trigger"]),
    ("workmail_reconcile_run_duration_seconds", &["result"]),
    ("workmail_reconcile_last_success_timestamp_seconds", &[]),
    ("workmail_reconcile_condition", &["type", "status"]),
    ("workmail_reconcile_ready", &[]),
    ("workmail_reconcile_suspended", &[]),
    ("workmail_reconcile_info", &["mode", "revision"]),
    ("workmail_reconcile_build_info", &["version"]),
    ("workmail_reconcile_drift_users", &["organization", "organization_alias"]),
    ("workmail_reconcile_desired_users", &["organization", "organization_alias"]),
    ("workmail_reconcile_unmanaged_users", &["organization", "organization_alias"]),
    ("workmail_reconcile_user_updates_total", &["organization", "result"]),
    ("workmail_reconcile_api_requests_total", &["operation", "outcome"]),
    ("workmail_reconcile_request_rate_limit_per_second", &[]),
    ("process_start_time_seconds", &[]),
    ("process_cpu_seconds_total", &[]),
    ("process_resident_memory_bytes", &[]),
    ("process_virtual_memory_bytes", &[]),
    ("process_open_fds", &[]),
    ("process_max_fds", &[]),
];

/// The one histogram: its series are `_bucket` (with `le`), `_sum` and `_count`.
const HISTOGRAM: &str = "workmail_reconcile_run_duration_seconds";

/// Labels Prometheus gives every series it scrapes through a ServiceMonitor.
const TARGET_LABELS: &[&str] =
    &["namespace", "job", "service", "pod", "container", "endpoint", "instance"];

pub(crate) fn controller_file(name: &str) -> PathBuf {
    repo_root().join(CONTROLLER_DIR).join(name)
}

/// The one document of `kind` among the files the kustomization lists.
fn controller_resource(kind: &str) -> Value {
    let kustomization = &documents(&controller_file("kustomization.yaml"))[0];
    let mut found: Vec<Value> = kustomization["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .flat_map(|file| documents(&controller_file(file.as_str().expect("file name"))))
        .filter(|doc| doc["kind"] == kind)
        .collect();
    assert_eq!(found.len(), 1, "one {kind} in {CONTROLLER_DIR}");
    found.remove(0)
}

/// The pod's containers by name, init containers included.
fn containers(pod: &Value) -> Vec<(String, Value)> {
    ["initContainers", "containers"]
        .iter()
        .flat_map(|key| pod[*key].as_array().into_iter().flatten())
        .map(|c| (c["name"].as_str().expect("container name").to_string(), c.clone()))
        .collect()
}

/// `--flag=value` arguments of a container (git-sync's style) as a map.
fn equals_flags(container: &Value) -> std::collections::BTreeMap<String, String> {
    container["args"]
        .as_array()
        .expect("args")
        .iter()
        .filter_map(|a| a.as_str()?.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The value after `flag` in `args` (`--flag value` or `--flag=value`).
fn flag_value<'a>(args: &'a [String], flag: &str) -> Option<&'a str> {
    args.iter().enumerate().find_map(|(i, a)| {
        if a == flag {
            args.get(i + 1).map(String::as_str)
        } else {
            a.strip_prefix(flag)?.strip_prefix('=')
        }
    })
}

/// The controller container's words after the program name.
fn controller_args(pod: &Value) -> Vec<String> {
    let (_, container) = containers(pod)
        .into_iter()
        .find(|(name, _)| name == "controller")
        .expect("a container named controller");
    let mut found = Vec::new();
    yaml_invocations(&container, "controller", &mut found);
    assert_eq!(found.len(), 1);
    found.remove(0).args
}

/// `Err` naming each flag of a controller command line that is neither a controller flag nor
/// a global one, and each positional argument but SOURCE.
fn check_controller_flags(args: &[String]) -> Result<(), String> {
    let mut root = Cli::command();
    root.build();
    // Whether the last flag of `word` takes a value, when every flag in it is a global one
    // (`--region`, `-vv`).
    let global = |word: &str| -> Option<bool> {
        let globals = || root.get_arguments().filter(|a| a.is_global_set());
        if let Some(name) = word.strip_prefix("--") {
            return globals().find(|a| a.get_long() == Some(name)).map(takes_value);
        }
        let shorts = word.strip_prefix('-')?;
        let mut takes = None;
        for c in shorts.chars() {
            takes = Some(globals().find(|a| a.get_short() == Some(c)).map(takes_value)?);
        }
        takes
    };
    let mut problems = Vec::new();
    let mut positionals = Vec::new();
    let mut words = args.iter();
    while let Some(word) = words.next() {
        let flag = word.split_once('=').map_or(word.as_str(), |(f, _)| f);
        if CONTROLLER_FLAGS.contains(&flag) {
            if !word.contains('=') {
                words.next();
            }
        } else if let Some(takes) = global(flag) {
            if takes && !word.contains('=') {
                words.next();
            }
        } else if word.starts_with('-') {
            problems.push(format!("`{flag}` is not a controller flag"));
        } else {
            positionals.push(word.clone());
        }
    }
    if positionals.len() != 2 || positionals[0] != "controller" {
        problems.push(format!("expected `controller SOURCE`, found {positionals:?}"));
    }
    if problems.is_empty() { Ok(()) } else { Err(problems.join("; ")) }
}

#[test]
fn controller_flag_checker_rejects_unknown_flags() {
    assert_eq!(
        check_controller_flags(&words(
            "controller /src --mode observe --interval=30s --region eu-west-1 -vv --log-format json"
        )),
        Ok(())
    );
    assert_eq!(
        check_controller_flags(&words("controller /src --force --mode observe")),
        Err("`--force` is not a controller flag".into())
    );
    assert_eq!(
        check_controller_flags(&words("controller /src /other")),
        Err("expected `controller SOURCE`, found [\"controller\", \"/src\", \"/other\"]".into())
    );
}

#[test]
fn kubernetes_controller_kustomization_lists_every_file_and_every_file_parses() {
    let kustomization = &documents(&controller_file("kustomization.yaml"))[0];
    assert_eq!(kustomization["kind"], "Kustomization");
    let mut listed: Vec<String> = kustomization["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .map(|f| f.as_str().expect("file name").to_string())
        .collect();
    let generator = &kustomization["configMapGenerator"][0];
    assert_eq!(generator["options"]["labels"]["grafana_dashboard"], "1");
    assert_eq!(generator["options"]["disableNameSuffixHash"], true);
    for file in generator["files"].as_array().expect("generator files") {
        let (_, path) = file.as_str().expect("file").split_once('=').expect("key=path");
        listed.push(path.to_string());
    }
    // Beside the resources: the kustomization itself, its README, and the unit tests of the
    // PrometheusRule's alerts.
    listed.extend(["kustomization.yaml", "README.md", RULES_TEST_FILE].map(str::to_string));
    listed.sort();
    let mut present: Vec<String> = std::fs::read_dir(repo_root().join(CONTROLLER_DIR))
        .expect("controller recipe directory")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    present.sort();
    assert_eq!(listed, present);

    // The namespace is the kustomization's alone: no resource names one.
    for file in present.iter().filter(|f| f.ends_with(".yaml")) {
        for doc in documents(&controller_file(file)) {
            assert!(doc["metadata"]["namespace"].is_null(), "{file} names a namespace");
        }
    }
    let dashboard: Value =
        serde_json::from_str(&std::fs::read_to_string(controller_file("dashboard.json")).unwrap())
            .expect("dashboard.json is JSON");
    assert_eq!(dashboard["uid"], "workmail-reconcile-controller");
}

#[test]
fn kubernetes_controller_runs_one_pod_with_probes_on_the_service_port() {
    let deployment = controller_resource("Deployment");
    assert_eq!(deployment["spec"]["replicas"], 1);
    assert_eq!(deployment["spec"]["strategy"]["type"], "Recreate");
    let pod = &deployment["spec"]["template"]["spec"];
    let pod_labels = &deployment["spec"]["template"]["metadata"]["labels"];
    assert_eq!(&deployment["spec"]["selector"]["matchLabels"], pod_labels);

    // The controller listens where the port named `http` points, the probes and the Service
    // use that name, and the ServiceMonitor scrapes it.
    let args = controller_args(pod);
    let listen: std::net::SocketAddr =
        flag_value(&args, "--listen").expect("--listen").parse().expect("an address");
    assert!(listen.ip().is_unspecified(), "the kubelet and Prometheus reach the pod's IP");
    let (_, controller) =
        containers(pod).into_iter().find(|(n, _)| n == "controller").expect("controller");
    let ports = controller["ports"].as_array().expect("ports");
    assert_eq!(ports.len(), 1);
    assert_eq!(ports[0]["name"], "http");
    assert_eq!(ports[0]["containerPort"], listen.port());
    assert_eq!(controller["livenessProbe"]["httpGet"]["path"], "/healthz");
    assert_eq!(controller["livenessProbe"]["httpGet"]["port"], "http");
    assert_eq!(controller["readinessProbe"]["httpGet"]["path"], "/readyz");
    assert_eq!(controller["readinessProbe"]["httpGet"]["port"], "http");

    let service = controller_resource("Service");
    assert_eq!(&service["spec"]["selector"], pod_labels);
    let service_ports = service["spec"]["ports"].as_array().expect("ports");
    assert_eq!(service_ports.len(), 1);
    assert_eq!(service_ports[0]["name"], "http");
    assert_eq!(service_ports[0]["targetPort"], "http");
    let monitor = controller_resource("ServiceMonitor");
    assert_eq!(monitor["apiVersion"], "monitoring.coreos.com/v1");
    assert_eq!(&monitor["spec"]["selector"]["matchLabels"], &service["metadata"]["labels"]);
    assert_eq!(monitor["spec"]["endpoints"][0]["port"], "http");
    assert_eq!(monitor["spec"]["endpoints"][0]["path"], "/metrics");

    // IRSA on the pod's service account.
    let account = controller_resource("ServiceAccount");
    assert_eq!(pod["serviceAccountName"], account["metadata"]["name"]);
    assert!(
        account["metadata"]["annotations"]["eks.amazonaws.com/role-arn"]
            .as_str()
            .is_some_and(|arn| arn.starts_with("arn:aws:iam::"))
    );

    // Every container non-root, read-only root, no privilege escalation, with resources.
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
    let all = containers(pod);
    let names: Vec<&str> = all.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["git-sync-init", "git-sync", "controller"]);
    for (name, container) in &all {
        assert_eq!(container["securityContext"]["readOnlyRootFilesystem"], true, "{name}");
        assert_eq!(container["securityContext"]["allowPrivilegeEscalation"], false, "{name}");
        assert!(container["resources"]["limits"]["memory"].is_string(), "{name}");
        assert!(container["resources"]["requests"]["cpu"].is_string(), "{name}");
        let mounts = container["volumeMounts"].as_array().expect("volumeMounts");
        assert!(mounts.iter().any(|m| m["name"] == "git" && m["mountPath"] == "/git"), "{name}");
    }
}

#[test]
fn kubernetes_controller_reads_the_revision_git_sync_publishes() {
    let deployment = controller_resource("Deployment");
    let pod = &deployment["spec"]["template"]["spec"];
    let all = containers(pod);
    let sync = |name: &str| {
        let (_, c) = all.iter().find(|(n, _)| n == name).expect(name);
        assert!(
            c["image"]
                .as_str()
                .is_some_and(|i| i.starts_with("registry.k8s.io/git-sync/git-sync:v4.")),
            "{name}: git-sync v4"
        );
        equals_flags(c)
    };
    let (init, sidecar) = (sync("git-sync-init"), sync("git-sync"));
    // The first checkout and the updates publish the same link of the same repository.
    for flag in ["--repo", "--ref", "--root", "--link"] {
        assert!(init.contains_key(flag), "{flag}");
        assert_eq!(init.get(flag), sidecar.get(flag), "{flag} differs between the git-syncs");
    }
    let one_time = |c: &str| {
        let (_, c) = all.iter().find(|(n, _)| n == c).unwrap();
        c["args"].as_array().unwrap().iter().any(|a| a == "--one-time")
    };
    assert!(one_time("git-sync-init") && !one_time("git-sync"));
    assert!(sidecar.contains_key("--period"));

    // SOURCE is a directory under the published link.
    let link = format!("{}/{}/", sidecar["--root"], sidecar["--link"]);
    let args = controller_args(pod);
    assert!(args[1].starts_with(&link), "SOURCE {} is not under {link}", args[1]);
    assert_eq!(check_controller_flags(&args), Ok(()));
    let mode = flag_value(&args, "--mode").expect("--mode");
    assert!(["observe", "apply-on-change", "self-heal"].contains(&mode), "{mode}");
}

/// The `workmail_reconcile_*` and `process_*` names in a PromQL expression.
fn metric_names(expr: &str) -> Vec<String> {
    let name =
        regex_lite::Regex::new(r"\b(?:workmail_reconcile|process)_[a-z0-9_]*").expect("regex");
    name.find_iter(expr).map(|m| m.as_str().to_string()).collect()
}

/// `Ok` when every metric of `expr` is one the controller exports and every label it selects,
/// groups or matches by is one those metrics (or the scrape) carry.
fn check_expr(expr: &str) -> Result<(), String> {
    let mut labels: BTreeSet<&str> = TARGET_LABELS.iter().copied().collect();
    let names = metric_names(expr);
    if names.is_empty() {
        return Err(format!("`{expr}` uses no workmail_reconcile metric"));
    }
    for name in &names {
        let base = [HISTOGRAM].iter().find_map(|h| {
            let suffix = name.strip_prefix(h)?;
            ["_bucket", "_sum", "_count"].contains(&suffix).then_some(*h)
        });
        let base = base.unwrap_or(name);
        let (_, own) = METRICS
            .iter()
            .find(|(metric, _)| *metric == base)
            .ok_or_else(|| format!("`{name}` is not a metric the controller exports"))?;
        labels.extend(own.iter());
        if name.ends_with("_bucket") {
            labels.insert("le");
        }
    }
    let grouping = regex_lite::Regex::new(r"\b(?:by|without|on|ignoring)\s*\(([^)]*)\)").unwrap();
    let selector = regex_lite::Regex::new(r"\{([^{}]*)\}").unwrap();
    let matcher = regex_lite::Regex::new(r"([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)").unwrap();
    let mut used: Vec<String> = Vec::new();
    for group in grouping.captures_iter(expr) {
        used.extend(group[1].split(',').map(|l| l.trim().to_string()).filter(|l| !l.is_empty()));
    }
    for braces in selector.captures_iter(expr) {
        used.extend(matcher.captures_iter(&braces[1]).map(|m| m[1].to_string()));
    }
    for label in used {
        if !labels.contains(label.as_str()) {
            return Err(format!("`{expr}`: no metric in it has the label `{label}`"));
        }
    }
    Ok(())
}

#[test]
fn metric_checker_rejects_unknown_names_and_labels() {
    assert_eq!(check_expr("workmail_reconcile_ready == 0"), Ok(()));
    assert_eq!(
        check_expr(
            "histogram_quantile(0.9, sum by (le) (rate(workmail_reconcile_run_duration_seconds_bucket[1h])))"
        ),
        Ok(())
    );
    assert_eq!(
        check_expr("sum by (result) (rate(workmail_reconcile_run_total[5m]))"),
        Err("`workmail_reconcile_run_total` is not a metric the controller exports".into())
    );
    assert_eq!(
        check_expr("workmail_reconcile_ready_bucket"),
        Err("`workmail_reconcile_ready_bucket` is not a metric the controller exports".into())
    );
    assert!(
        check_expr("sum by (organisation) (workmail_reconcile_drift_users)")
            .unwrap_err()
            .contains("the label `organisation`")
    );
    assert!(
        check_expr("workmail_reconcile_ready{mode=\"observe\"}")
            .unwrap_err()
            .contains("the label `mode`")
    );
    assert!(check_expr("up == 0").unwrap_err().contains("uses no workmail_reconcile metric"));
}

/// The alerting rules of the PrometheusRule.
pub(crate) fn alert_rules() -> Vec<Value> {
    let rule = controller_resource("PrometheusRule");
    assert_eq!(rule["apiVersion"], "monitoring.coreos.com/v1");
    rule["spec"]["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .flat_map(|g| g["rules"].as_array().expect("rules").clone())
        .collect()
}

/// The alert names, in the PrometheusRule's order.
pub(crate) const ALERTS: [&str; 5] = [
    "WorkmailReconcileMetricsAbsent",
    "WorkmailReconcileNotReady",
    "WorkmailReconcileNoSuccess",
    "WorkmailReconcileDriftNotCorrected",
    "WorkmailReconcileSuspended",
];

#[test]
fn kubernetes_controller_alerts_use_exported_metrics_and_say_what_to_do() {
    let rules = alert_rules();
    let names: Vec<&str> = rules.iter().map(|r| r["alert"].as_str().expect("alert")).collect();
    assert_eq!(names, ALERTS);
    for rule in &rules {
        let name = &rule["alert"];
        let expr = rule["expr"].as_str().expect("expr");
        check_expr(expr).unwrap_or_else(|e| panic!("{name}: {e}"));
        // kube-prometheus-stack's Alertmanager mutes `info` unless a warning fires beside it.
        let severity = rule["labels"]["severity"].as_str().expect("severity");
        assert!(["warning", "critical"].contains(&severity), "{name}: severity {severity}");
        for key in ["summary", "description", "runbook"] {
            assert!(
                rule["annotations"][key].as_str().is_some_and(|t| t.len() > 20),
                "{name}: annotation {key}"
            );
        }
    }

    // The thresholds follow the deployment's interval: three intervals without a success,
    // two intervals of drift.
    let deployment = controller_resource("Deployment");
    let args = controller_args(&deployment["spec"]["template"]["spec"]);
    let interval = humantime::parse_duration(flag_value(&args, "--interval").expect("--interval"))
        .expect("interval")
        .as_secs();
    let by_name = |n: &str| rules.iter().find(|r| r["alert"] == n).expect(n).clone();
    assert_eq!(
        by_name("WorkmailReconcileNoSuccess")["expr"],
        format!("time() - workmail_reconcile_last_success_timestamp_seconds > 3 * {interval}")
    );
    let drift = by_name("WorkmailReconcileDriftNotCorrected");
    assert_eq!(drift["for"], format!("{}m", 2 * interval / 60));
    let drift_expr = drift["expr"].as_str().unwrap();
    assert!(drift_expr.contains(
        "and on (namespace, job, instance) workmail_reconcile_info{mode!=\"self-heal\"}"
    ));
    let not_ready = by_name("WorkmailReconcileNotReady");
    assert!(
        not_ready["expr"]
            .as_str()
            .unwrap()
            .starts_with("workmail_reconcile_condition{type=\"Ready\",status=\"False\"} == 1 or ("),
        "{}",
        not_ready["expr"]
    );
    assert_eq!(not_ready["for"], "10m");
    let suspended = by_name("WorkmailReconcileSuspended");
    assert_eq!(suspended["expr"], "workmail_reconcile_suspended == 1");
    assert_eq!(
        (&suspended["for"], &suspended["labels"]["severity"]),
        (&"24h".into(), &"warning".into())
    );

    // MetricsAbsent selects the job the ServiceMonitor names after the Service.
    let service = controller_resource("Service");
    let service_name = service["metadata"]["name"].as_str().expect("Service name");
    assert_eq!(
        by_name("WorkmailReconcileMetricsAbsent")["expr"],
        format!("absent_over_time(workmail_reconcile_ready{{job=\"{service_name}\"}}[15m])")
    );
    assert!(
        controller_resource("ServiceMonitor")["spec"]["jobLabel"].is_null(),
        "job is the Service's name"
    );
    let kustomization = &documents(&controller_file("kustomization.yaml"))[0];
    assert!(kustomization["namePrefix"].is_null() && kustomization["nameSuffix"].is_null());
}

/// The name of the rules file the promtool unit tests load (their `rule_files`).
pub(crate) const RULES_FILE: &str = "workmail-reconcile-controller.rules.yml";

/// The `promtool test rules` file beside the PrometheusRule.
const RULES_TEST_FILE: &str = "prometheusrule_test.yml";

/// The PrometheusRule's `spec.groups` as a plain rules file in `dir` (JSON, which is YAML),
/// with `edit` applied to each rule first.
pub(crate) fn write_rule_groups(
    dir: &Path,
    edit: impl Fn(&mut serde_json::Map<String, Value>),
) -> PathBuf {
    let mut groups = controller_resource("PrometheusRule")["spec"]["groups"].clone();
    for group in groups.as_array_mut().expect("groups") {
        for rule in group["rules"].as_array_mut().expect("rules") {
            edit(rule.as_object_mut().expect("a rule is a mapping"));
        }
    }
    let path = dir.join(RULES_FILE);
    let text = serde_json::to_string_pretty(&serde_json::json!({ "groups": groups })).unwrap();
    std::fs::write(&path, text).expect("rules file written");
    path
}

/// `promtool test rules` on the unit tests beside the PrometheusRule, with its rules edited by
/// `edit`, annotations left out (promtool compares them word for word).
fn promtool_test_rules(
    edit: impl Fn(&mut serde_json::Map<String, Value>),
) -> Result<String, String> {
    let dir = tempfile::tempdir().expect("tempdir");
    write_rule_groups(dir.path(), |rule| {
        rule.remove("annotations");
        edit(rule);
    });
    std::fs::copy(controller_file(RULES_TEST_FILE), dir.path().join(RULES_TEST_FILE))
        .expect("test file copied");
    crate::promtool::promtool(dir.path(), &["test", "rules", RULES_TEST_FILE], "")
}

#[test]
fn kubernetes_controller_alerts_pass_promtool_check_rules_and_their_unit_tests() {
    if !crate::promtool::available(crate::promtool::PROMTOOL) {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    write_rule_groups(dir.path(), |_| {});
    let checked = crate::promtool::promtool(dir.path(), &["check", "rules", RULES_FILE], "")
        .unwrap_or_else(|e| panic!("promtool check rules:\n{e}"));
    assert!(checked.contains("SUCCESS: 5 rules found"), "{checked}");

    let tested =
        promtool_test_rules(|_| {}).unwrap_or_else(|e| panic!("promtool test rules:\n{e}"));
    assert!(tested.contains("SUCCESS"), "{tested}");

    // The unit tests see each alert fire, and each stay quiet.
    let text = std::fs::read_to_string(controller_file(RULES_TEST_FILE)).expect("test file");
    let tests: Value = serde_saphyr::from_str(&text).expect("the test file is YAML");
    assert_eq!(tests["rule_files"], serde_json::json!([RULES_FILE]));
    let checks: Vec<&Value> = tests["tests"]
        .as_array()
        .expect("tests")
        .iter()
        .flat_map(|t| t["alert_rule_test"].as_array().expect("alert_rule_test"))
        .collect();
    for alert in ALERTS {
        let expected = |firing: bool| {
            checks.iter().any(|c| {
                c["alertname"] == alert
                    && c["exp_alerts"].as_array().is_some_and(|a| a.is_empty() != firing)
            })
        };
        assert!(expected(true), "{alert}: no unit test sees it fire");
        assert!(expected(false), "{alert}: no unit test sees it stay quiet");
    }
}

#[test]
fn kubernetes_controller_alert_unit_tests_fail_for_a_wrong_rule() {
    if !crate::promtool::available(crate::promtool::PROMTOOL) {
        return;
    }
    // Matched on the job alone, the drift of a self-heal controller in another namespace
    // would join the mode of an observing one.
    let failed = promtool_test_rules(|rule| {
        if rule["alert"] == "WorkmailReconcileDriftNotCorrected" {
            let expr =
                rule["expr"].as_str().unwrap().replace("on (namespace, job, instance)", "on (job)");
            rule.insert("expr".into(), expr.into());
        }
    })
    .unwrap_err();
    assert!(failed.contains("name: two_namespaces"), "{failed}");
    // Info alerts are muted by kube-prometheus-stack's default routing.
    let failed = promtool_test_rules(|rule| {
        if rule["alert"] == "WorkmailReconcileSuspended" {
            rule.insert("labels".into(), serde_json::json!({"severity": "info"}));
        }
    })
    .unwrap_err();
    assert!(failed.contains("name: suspended"), "{failed}");
}

/// The matchers every query of the dashboard carries on every selector: its variables.
const DASHBOARD_MATCHERS: &str = r#"namespace=~"$namespace",job=~"$job",instance=~"$instance""#;

/// The Grafana units the dashboard may use (each one in Grafana's list of units).
const GRAFANA_UNITS: &[&str] = &["none", "short", "s", "opm", "reqps", "bytes", "dateTimeFromNow"];

/// `Err` when a metric of `expr` is selected without the dashboard's variables, or a range
/// is not `$__rate_interval`.
fn check_dashboard_expr(expr: &str) -> Result<(), String> {
    let selector =
        regex_lite::Regex::new(r"\b(?:workmail_reconcile|process)_[a-z0-9_]*(\{[^{}]*\})?")
            .expect("regex");
    for found in selector.captures_iter(expr) {
        let matchers = found.get(1).map_or("", |m| m.as_str());
        if !matchers.contains(DASHBOARD_MATCHERS) {
            return Err(format!("`{}` is not filtered by {DASHBOARD_MATCHERS}", &found[0]));
        }
    }
    let range = regex_lite::Regex::new(r"\[([^\]]*)\]").expect("regex");
    for found in range.captures_iter(expr) {
        if &found[1] != "$__rate_interval" {
            return Err(format!("`{expr}`: a range of {} instead of $__rate_interval", &found[1]));
        }
    }
    Ok(())
}

#[test]
fn dashboard_checker_rejects_unfiltered_selectors_and_fixed_windows() {
    let good = format!(
        "sum(rate(workmail_reconcile_runs_total{{{DASHBOARD_MATCHERS}}}[$__rate_interval]))"
    );
    assert_eq!(check_dashboard_expr(&good), Ok(()));
    assert!(
        check_dashboard_expr(&good.replace("$__rate_interval", "1h"))
            .unwrap_err()
            .contains("a range of 1h")
    );
    let unfiltered = "workmail_reconcile_ready{namespace=~\"$namespace\"}";
    assert!(check_dashboard_expr(unfiltered).unwrap_err().contains("is not filtered"));
    assert!(check_dashboard_expr("time() - process_start_time_seconds").is_err());
}

#[test]
fn kubernetes_controller_dashboard_uses_exported_metrics_variables_and_units() {
    let text = std::fs::read_to_string(controller_file("dashboard.json")).expect("dashboard");
    let dashboard: Value = serde_json::from_str(&text).expect("dashboard.json is JSON");

    // The variables the community dashboard linter asks for: a data source, and job and
    // instance as multi-value Prometheus queries on it (namespace too, for Kubernetes).
    let variables = dashboard["templating"]["list"].as_array().expect("variables");
    let names: Vec<&str> = variables.iter().map(|v| v["name"].as_str().expect("name")).collect();
    assert_eq!(names, ["datasource", "namespace", "job", "instance"]);
    assert_eq!(
        (&variables[0]["type"], &variables[0]["query"]),
        (&"datasource".into(), &"prometheus".into())
    );
    for (variable, label) in variables[1..].iter().zip(["Namespace", "Job", "Instance"]) {
        assert_eq!(variable["type"], "query", "{label}");
        assert_eq!(variable["label"], label);
        assert_eq!(variable["datasource"]["uid"], "${datasource}", "{label}");
        assert_eq!(
            (&variable["multi"], &variable["includeAll"]),
            (&true.into(), &true.into()),
            "{label}"
        );
        assert_eq!(variable["allValue"], ".+", "{label}");
        let query = variable["query"]["query"].as_str().expect("query");
        check_expr(query.trim_start_matches("label_values("))
            .unwrap_or_else(|e| panic!("{label}: {e}"));
    }

    let panels = dashboard["panels"].as_array().expect("panels");
    let mut ids = BTreeSet::new();
    let mut used = BTreeSet::new();
    for panel in panels {
        let title = panel["title"].as_str().expect("title");
        assert!(ids.insert(panel["id"].as_u64().expect("id")), "{title}: id used twice");
        assert!(panel["gridPos"]["w"].is_u64() && panel["gridPos"]["h"].is_u64(), "{title}");
        let unit = panel["fieldConfig"]["defaults"]["unit"].as_str().unwrap_or("");
        assert!(GRAFANA_UNITS.contains(&unit), "{title}: unit {unit:?}");
        let targets = panel["targets"].as_array().expect("targets");
        assert!(!targets.is_empty(), "{title}: no query");
        let mut metrics_here = BTreeSet::new();
        for target in targets {
            assert_eq!(target["datasource"]["uid"], "${datasource}", "{title}");
            let expr = target["expr"].as_str().expect("expr");
            check_expr(expr).unwrap_or_else(|e| panic!("{title}: {e}"));
            check_dashboard_expr(expr).unwrap_or_else(|e| panic!("{title}: {e}"));
            // An organization is named by its alias in legends, not only by its opaque id.
            let legend = target["legendFormat"].as_str().expect("legendFormat");
            if legend.contains("{{organization}}") {
                assert!(legend.contains("{{organization_alias}}"), "{title}: {legend}");
            }
            metrics_here.extend(metric_names(expr));
        }
        // The adaptive rate limit (often a thousand calls a second) gets an axis of its own,
        // not the one of the calls made (a few a second).
        if metrics_here.contains("workmail_reconcile_request_rate_limit_per_second") {
            assert_eq!(metrics_here.len(), 1, "{title}: {metrics_here:?}");
        }
        used.extend(metrics_here);
    }
    let titles: Vec<&str> = panels.iter().filter_map(|p| p["title"].as_str()).collect();
    assert_eq!(
        titles,
        [
            "Ready",
            "Suspended",
            "Since the last success",
            "Started",
            "Mode, revision and version",
            "Runs by result",
            "Users by organization",
            "User updates by result",
            "WorkMail API calls by outcome",
            "Adaptive rate limit",
            "Run duration",
            "WorkMail API calls by operation",
            "Memory",
        ]
    );
    // Every metric of the controller's own has a place on the dashboard, and no other is used.
    let exported: BTreeSet<String> = METRICS
        .iter()
        .map(|(m, _)| if *m == HISTOGRAM { format!("{m}_bucket") } else { m.to_string() })
        .collect();
    assert!(used.is_subset(&exported), "{:?}", used.difference(&exported));
    let missing: Vec<&String> = exported
        .iter()
        .filter(|m| m.starts_with("workmail_reconcile_") && !used.contains(*m))
        .collect();
    assert!(missing.is_empty(), "not on the dashboard: {missing:?}");
}

#[test]
fn kubernetes_controller_alert_unit_tests_feed_series_shaped_like_the_scrape() {
    let text = std::fs::read_to_string(controller_file(RULES_TEST_FILE)).expect("test file");
    let tests: Value = serde_saphyr::from_str(&text).expect("the test file is YAML");
    let label = regex_lite::Regex::new(r#"([a-zA-Z_][a-zA-Z0-9_]*)="[^"]*""#).expect("regex");
    let mut seen = 0;
    for test in tests["tests"].as_array().expect("tests") {
        for input in test["input_series"].as_array().expect("input_series") {
            let series = input["series"].as_str().expect("series");
            let (name, labels) = series.split_once('{').expect("labels");
            let (_, own) = METRICS
                .iter()
                .find(|(metric, _)| *metric == name)
                .unwrap_or_else(|| panic!("{series}: not a metric the controller exports"));
            let mut expected: BTreeSet<&str> = own.iter().copied().collect();
            expected.extend(TARGET_LABELS);
            let found: BTreeSet<&str> =
                label.captures_iter(labels).map(|c| c.get(1).unwrap().as_str()).collect();
            assert_eq!(found, expected, "{series}: the labels of the metric and the scrape");
            seen += 1;
        }
    }
    assert!(seen > 100, "{seen} series");
}
