//! The recipe's alerts and dashboard against a real Prometheus (Debian's `prometheus`) scraping
//! real controllers on the emulator: every alert expression and every dashboard query is
//! evaluated through the HTTP API and must return the series it is there for. Three
//! controllers, in three namespaces as a ServiceMonitor would label them: one in self-heal
//! that corrected drift, one observing drift while suspended, one whose runs all fail.

use crate::controller::Controller;
use crate::recipes::{ALERTS, RULES_FILE, alert_rules, controller_file, write_rule_groups};
use crate::support::*;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use workmail_reconcile::emulator::{Seed, SeedOrganization, UpdateSemantics};
use workmail_reconcile::model::attrs::Attribute::*;

/// How long Prometheus gets to start and to gather enough samples for every query.
const DEADLINE: Duration = Duration::from_secs(45);

/// What `$__rate_interval` becomes: at least four scrape intervals, as Grafana computes it;
/// ten, so that a loaded machine's late scrapes and runs still fall in it.
const RATE_INTERVAL: &str = "10s";

/// The job the ServiceMonitor gives the series: the Service's name.
const JOB: &str = "workmail-reconcile-controller";

/// A Prometheus server of our own: its own port and data directory, killed when dropped.
struct Prometheus {
    child: Child,
    address: String,
    _dir: tempfile::TempDir,
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One scrape target: the controller's address and the labels a ServiceMonitor adds.
struct Target<'a> {
    address: &'a str,
    namespace: &'a str,
    pod: &'a str,
}

impl Prometheus {
    /// Start Prometheus scraping `targets` every second and evaluating the recipe's rules
    /// every second.
    fn start(targets: &[Target<'_>]) -> Prometheus {
        let dir = tempfile::tempdir().expect("tempdir");
        write_rule_groups(dir.path(), |_| {});
        let static_configs: Vec<String> = targets
            .iter()
            .map(|t| {
                format!(
                    "      - targets: ['{}']\n        labels: {{namespace: {}, service: {JOB}, \
                     endpoint: http, container: controller, pod: {}}}\n",
                    t.address, t.namespace, t.pod
                )
            })
            .collect();
        let config = format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n\
             rule_files:\n  - {RULES_FILE}\nscrape_configs:\n  - job_name: {JOB}\n    \
             static_configs:\n{}",
            static_configs.concat()
        );
        std::fs::write(dir.path().join("prometheus.yml"), config).expect("config written");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let address = format!("127.0.0.1:{port}");
        let child = Command::new(crate::promtool::PROMETHEUS)
            .current_dir(dir.path())
            .arg("--config.file=prometheus.yml")
            .arg(format!("--storage.tsdb.path={}", dir.path().join("data").display()))
            .arg(format!("--web.listen-address={address}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("prometheus starts");
        Prometheus { child, address, _dir: dir }
    }

    /// `GET path` (already encoded): the status and the body; 0 while nothing listens.
    async fn get(&self, path: &str) -> (u16, String) {
        match crate::http_client::send(&self.address, "GET", path, &[], b"").await {
            Ok(answer) => (answer.status, answer.body),
            Err(_) => (0, String::new()),
        }
    }

    /// The `data` of an API answer, which must be a success.
    async fn api(&self, path: &str) -> Value {
        let (status, body) = self.get(path).await;
        let answer: Value = serde_json::from_str(&body)
            .unwrap_or_else(|e| panic!("GET {path}: {status} {e}: {body}"));
        assert_eq!(answer["status"], "success", "GET {path}: {body}");
        answer["data"].clone()
    }

    /// An instant query: each series' labels and value.
    async fn query(&self, expr: &str) -> Vec<(BTreeMap<String, String>, f64)> {
        let data = self.api(&format!("/api/v1/query?query={}", encode(expr))).await;
        assert_eq!(data["resultType"], "vector", "{expr}: {data}");
        data["result"]
            .as_array()
            .expect("result")
            .iter()
            .map(|series| {
                let labels = serde_json::from_value(series["metric"].clone()).expect("labels");
                let value = series["value"][1].as_str().and_then(|v| v.parse().ok());
                (labels, value.unwrap_or(f64::NAN))
            })
            .collect()
    }
}

/// `text` percent-encoded for a query string.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A dashboard query as Grafana sends it with every variable at "All".
fn substitute(expr: &str) -> String {
    expr.replace("$__rate_interval", RATE_INTERVAL)
        .replace("$namespace", ".+")
        .replace("$job", ".+")
        .replace("$instance", ".+")
}

/// The value of `label` of each series, with the series' value.
fn by(label: &str, results: &[(BTreeMap<String, String>, f64)]) -> BTreeMap<String, f64> {
    results
        .iter()
        .map(|(labels, value)| (labels.get(label).cloned().unwrap_or_default(), *value))
        .collect()
}

/// A legend with each `{{label}}` filled in from `labels`; `Err` names a label a series lacks.
fn legend(format: &str, labels: &BTreeMap<String, String>) -> Result<String, String> {
    let mut text = format.to_string();
    while let Some(start) = text.find("{{") {
        let end = text[start..].find("}}").map(|e| start + e).ok_or("unclosed {{")?;
        let name = text[start + 2..end].trim().to_string();
        let value = labels.get(&name).filter(|v| !v.is_empty()).ok_or_else(|| {
            format!("legend `{format}`: a series has no label `{name}`: {labels:?}")
        })?;
        text.replace_range(start..end + 2, value);
    }
    Ok(text)
}

/// alice and bob differ from the files, carol does not.
const DESIRED_ACME: &str = "organization: acme\nusers:\n  alice:\n    display_name: Alice Liddell\n  bob:\n    job_title: Architect\n  carol:\n    display_name: Carol\n";

fn globex() -> Seed {
    let globex = SeedOrganization::new(ORG2, Some("globex"), "globex.example");
    Seed::default().organization(
        [
            user("gus", &[(City, "Oslo")]),
            user("hal", &[(City, "Rome")]),
            user("ivy", &[(City, "Oslo")]),
        ]
        .into_iter()
        .fold(globex, |o, u| o.user(u)),
    )
}

/// gus and hal differ from the live values.
const DESIRED_GLOBEX: &str = "organization: globex\nusers:\n  gus:\n    city: Bergen\n  hal:\n    city: Turin\n  ivy:\n    city: Oslo\n";

#[tokio::test(flavor = "multi_thread")]
async fn a_real_prometheus_evaluates_every_alert_and_dashboard_query_against_real_controllers() {
    if !crate::promtool::available(crate::promtool::PROMETHEUS) {
        return;
    }
    // Self-heal, correcting alice and bob, under a rate limit of its own (--max-rps).
    let acme_emulator = emulator(
        Seed::default().organization(acme(vec![
            user("alice", &[(DisplayName, "Alice L")]),
            user("bob", &[(JobTitle, "Builder")]),
            user("carol", &[(DisplayName, "Carol")]),
        ])),
        UpdateSemantics::Replace,
    )
    .await;
    let healing_files = Files::new();
    healing_files.write("users/acme.yaml", DESIRED_ACME);
    let args = ["--max-rps", "50", "users", "--mode", "self-heal", "--interval", "1s"];
    let healing = Controller::start(&acme_emulator, healing_files.path(), &args).await;
    // Observe, suspended, with drift in globex.
    let globex_emulator = emulator(globex(), UpdateSemantics::Replace).await;
    let observing_files = Files::new();
    observing_files.write("users/globex.yaml", DESIRED_GLOBEX);
    observing_files.write("users/.workmail-reconcile-suspend", "");
    let args = ["users", "--mode", "observe", "--interval", "1s"];
    let observing = Controller::start(&globex_emulator, observing_files.path(), &args).await;
    // Every run fails: nothing listens at the endpoint.
    let refused = std::net::TcpListener::bind("127.0.0.1:0").expect("port").local_addr().unwrap();
    let failing_files = Files::new();
    failing_files.write("users/acme.yaml", DESIRED_ACME);
    let args = ["users", "--interval", "1s", "--operation-timeout", "1s"];
    let failing =
        Controller::start_at(&format!("http://{refused}"), failing_files.path(), &args).await;
    for controller in [&healing, &observing, &failing] {
        controller.wait_runs(1).await;
    }

    let address = |c: &Controller| c.url.trim_start_matches("http://").to_string();
    let (a, b, c) = (address(&healing), address(&observing), address(&failing));
    let prometheus = Prometheus::start(&[
        Target { address: &a, namespace: "workmail-reconcile", pod: "healing" },
        Target { address: &b, namespace: "team-b", pod: "observing" },
        Target { address: &c, namespace: "team-c", pod: "failing" },
    ]);
    // Up, every target scraped, and enough samples for a rate over the rate interval.
    let deadline = Instant::now() + DEADLINE;
    // Runs that succeeded (healing) and runs that found drift (observing) in the last interval.
    let rate = format!(
        "sum by (result) (rate(workmail_reconcile_runs_total{{result=~\"success|drift\"}}[{RATE_INTERVAL}])) > 0"
    );
    loop {
        let up = prometheus.get("/-/ready").await.0 == 200
            && prometheus.query("up == 1").await.len() == 3
            && prometheus.query(&rate).await.len() == 2;
        if up {
            break;
        }
        assert!(Instant::now() < deadline, "Prometheus did not scrape the controllers in time");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }

    // The dashboard's variables list the three controllers.
    let values = |label: &str, selector: &str| {
        let path = format!("/api/v1/label/{label}/values?match[]={}", encode(selector));
        let prometheus = &prometheus;
        async move {
            let data = prometheus.api(&path).await;
            serde_json::from_value::<BTreeSet<String>>(data).expect("values")
        }
    };
    assert_eq!(
        values("namespace", "workmail_reconcile_build_info").await,
        BTreeSet::from(["team-b", "team-c", "workmail-reconcile"].map(str::to_string))
    );
    assert_eq!(
        values("job", "workmail_reconcile_build_info").await,
        BTreeSet::from([JOB.to_string()])
    );
    assert_eq!(
        values("instance", "workmail_reconcile_build_info").await,
        BTreeSet::from([a.clone(), b.clone(), c.clone()])
    );

    // Every alert expression: the series it is there for, no other.
    let rules = alert_rules();
    let mut firing = BTreeMap::new();
    for rule in &rules {
        let name = rule["alert"].as_str().expect("alert").to_string();
        let expr = rule["expr"].as_str().expect("expr");
        let pods: BTreeSet<String> = prometheus
            .query(expr)
            .await
            .iter()
            .map(|(l, _)| l.get("pod").cloned().unwrap_or_default())
            .collect();
        firing.insert(name, pods);
    }
    let pods = |names: &[&str]| names.iter().map(|n| n.to_string()).collect::<BTreeSet<String>>();
    assert_eq!(
        firing,
        BTreeMap::from([
            ("WorkmailReconcileMetricsAbsent".to_string(), pods(&[])),
            ("WorkmailReconcileNotReady".to_string(), pods(&["failing"])),
            // The failing controller never succeeded: no last success, not one in 1970.
            ("WorkmailReconcileNoSuccess".to_string(), pods(&[])),
            ("WorkmailReconcileDriftNotCorrected".to_string(), pods(&["observing"])),
            ("WorkmailReconcileSuspended".to_string(), pods(&["observing"])),
        ])
    );
    // Prometheus evaluates the rules without error, and renders each pending alert's
    // annotations (the `for` keeps them from firing in the test's time).
    let groups = prometheus.api("/api/v1/rules?type=alert").await;
    let loaded: Vec<&Value> = groups["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .flat_map(|g| g["rules"].as_array().expect("rules"))
        .collect();
    assert_eq!(loaded.iter().map(|r| r["name"].as_str().unwrap()).collect::<Vec<_>>(), ALERTS);
    for rule in &loaded {
        assert_eq!(rule["health"], "ok", "{rule}");
    }
    let alerts = loop {
        let alerts = prometheus.api("/api/v1/alerts").await["alerts"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if alerts.len() >= 3 || Instant::now() > deadline {
            break alerts;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let names: BTreeSet<&str> =
        alerts.iter().map(|a| a["labels"]["alertname"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        BTreeSet::from([
            "WorkmailReconcileDriftNotCorrected",
            "WorkmailReconcileNotReady",
            "WorkmailReconcileSuspended"
        ])
    );
    for alert in &alerts {
        for (key, text) in alert["annotations"].as_object().expect("annotations") {
            let text = text.as_str().unwrap_or_default();
            assert!(
                !["<no value>", "error expanding", "error executing", "{{"]
                    .iter()
                    .any(|e| text.contains(e)),
                "{}: {key}: {text}",
                alert["labels"]["alertname"]
            );
        }
    }
    let drift = alerts
        .iter()
        .find(|a| a["labels"]["alertname"] == "WorkmailReconcileDriftNotCorrected")
        .unwrap();
    assert_eq!(
        drift["annotations"]["summary"],
        format!("WorkMail users differ from the files in organization globex ({ORG2})")
    );

    // Every dashboard query, as Grafana sends it: the series its legend names, each with the
    // labels the legend shows.
    let text = std::fs::read_to_string(controller_file("dashboard.json")).expect("dashboard");
    let dashboard: Value = serde_json::from_str(&text).expect("JSON");
    let mut checked = 0;
    for panel in dashboard["panels"].as_array().expect("panels") {
        let title = panel["title"].as_str().expect("title");
        for target in panel["targets"].as_array().expect("targets") {
            let expr = substitute(target["expr"].as_str().expect("expr"));
            let results = prometheus.query(&expr).await;
            let format = target["legendFormat"].as_str().unwrap_or_default();
            let legends: BTreeSet<String> = results
                .iter()
                .map(|(labels, _)| {
                    legend(format, labels).unwrap_or_else(|e| panic!("{title}: {e}"))
                })
                .collect();
            let by_pod = by("pod", &results);
            let reference = target["refId"].as_str().unwrap_or_default();
            let what = format!("{title} {reference}: `{expr}` gave {results:?}");
            match (title, reference) {
                ("Ready", _) => assert_eq!(
                    by_pod,
                    BTreeMap::from([
                        ("failing".into(), 0.0),
                        ("healing".into(), 1.0),
                        ("observing".into(), 1.0)
                    ]),
                    "{what}"
                ),
                ("Suspended", _) => assert_eq!(
                    by_pod,
                    BTreeMap::from([
                        ("failing".into(), 0.0),
                        ("healing".into(), 0.0),
                        ("observing".into(), 1.0)
                    ]),
                    "{what}"
                ),
                ("Since the last success", _) => {
                    assert_eq!(
                        by_pod.keys().collect::<Vec<_>>(),
                        ["healing", "observing"],
                        "{what}"
                    );
                    assert!(by_pod.values().all(|age| (0.0..60.0).contains(age)), "{what}");
                }
                ("Started", _) | ("Memory", _) => {
                    assert_eq!(by_pod.len(), 3, "{what}");
                    assert!(by_pod.values().all(|v| *v > 0.0), "{what}");
                }
                ("Mode, revision and version", "A") => {
                    assert_eq!(by("mode", &results).len(), 2, "{what}");
                    assert_eq!(results.len(), 3, "{what}");
                }
                ("Mode, revision and version", _) => {
                    let version = format!("version {}", env!("CARGO_PKG_VERSION"));
                    assert_eq!(legends, BTreeSet::from([version]), "{what}");
                }
                ("Runs by result", _) => {
                    // Every result is there from the start, so a first run of a kind shows.
                    let runs = by("result", &results);
                    let names: Vec<&str> = runs.keys().map(String::as_str).collect();
                    assert_eq!(
                        names,
                        ["blocked", "drift", "failure", "invalid", "success"],
                        "{what}"
                    );
                    assert!(runs["success"] > 0.0 && runs["drift"] > 0.0, "{what}");
                }
                ("Users by organization", reference) => {
                    let expected = match reference {
                        "A" => [("still differ", 0.0), ("still differ", 2.0)],
                        "B" => [("desired", 3.0), ("desired", 3.0)],
                        _ => [("in no file", 0.0), ("in no file", 0.0)],
                    };
                    let got = by("organization_alias", &results);
                    assert_eq!(
                        got,
                        BTreeMap::from([
                            ("acme".into(), expected[0].1),
                            ("globex".into(), expected[1].1)
                        ]),
                        "{what}"
                    );
                    assert!(
                        legends.contains(&format!("{}: acme ({ORG})", expected[0].0)),
                        "{what}: {legends:?}"
                    );
                }
                ("User updates by result", _) => {
                    for result in ["updated", "conflict", "failed"] {
                        for (alias, id) in [("acme", ORG), ("globex", ORG2)] {
                            assert!(
                                legends.contains(&format!("{result}: {alias} ({id})")),
                                "{what}: {legends:?}"
                            );
                        }
                    }
                }
                ("WorkMail API calls by outcome", _) => {
                    let outcomes = by("outcome", &results);
                    assert_eq!(
                        outcomes.keys().collect::<Vec<_>>(),
                        ["error", "ok", "throttled"],
                        "{what}"
                    );
                    assert!(outcomes["ok"] > 0.0, "{what}");
                }
                ("Adaptive rate limit", _) => {
                    assert_eq!(by_pod, BTreeMap::from([("healing".into(), 50.0)]), "{what}");
                }
                ("Run duration", _) => {
                    assert_eq!(results.len(), 1, "{what}");
                    assert!(results[0].1.is_finite(), "{what}");
                }
                ("WorkMail API calls by operation", _) => {
                    let operations: Vec<String> = by("operation", &results).into_keys().collect();
                    // Every operation the tool may call, from 0 at start.
                    let expected = [
                        "AssociateMemberToGroup",
                        "CreateAlias",
                        "DeleteAlias",
                        "DescribeUser",
                        "DisassociateMemberFromGroup",
                        "GetMailboxDetails",
                        "ListAliases",
                        "ListGroupMembers",
                        "ListGroups",
                        "ListGroupsForEntity",
                        "ListOrganizations",
                        "ListUsers",
                        "UpdateMailboxQuota",
                        "UpdateUser",
                    ];
                    assert_eq!(operations, expected, "{what}");
                }
                _ => panic!("no expectation for the panel {title}, query {reference}"),
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 18, "every query of the dashboard was checked");
}
