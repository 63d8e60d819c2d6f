//! Shared by the benchmark binaries in `examples/bench_*.rs`: synthetic directories, desired
//! state files for them, and process CPU / memory readings. Not a library API.

#![allow(dead_code)] // each binary uses a different part

use std::fmt::Write as _;
use std::time::Duration;
use workmail_reconcile::emulator::{Seed, SeedOrganization, SeedUser};
use workmail_reconcile::model::attrs::Attribute;

/// The id of the `index`-th synthetic organization.
pub fn organization_id(index: usize) -> String {
    format!("m-{index:032x}")
}

/// The name of user `index` of organization `org`.
pub fn user_name(org: usize, index: usize) -> String {
    format!("o{org}u{index:06}")
}

/// The live display name of a user; the desired one differs for every `1/change_every`-th user.
pub fn live_display_name(org: usize, index: usize) -> String {
    format!("User {org}/{index}")
}

/// Whether user `index` gets a change when `change_fraction` of users change.
pub fn changes(index: usize, change_fraction: f64) -> bool {
    if change_fraction <= 0.0 {
        return false;
    }
    let every = (1.0 / change_fraction).round().max(1.0) as usize;
    index.is_multiple_of(every)
}

/// The attributes of a realistic directory entry besides the display name (and the company and
/// country, which files give in `defaults`): what a user of user `index` has live and declared.
pub fn profile(index: usize) -> [(Attribute, String); 7] {
    const TITLES: [&str; 4] = ["Engineer", "Account Manager", "Analyst", "Designer"];
    const DEPARTMENTS: [&str; 4] = ["Engineering", "Sales", "Finance", "Product"];
    const CITIES: [&str; 4] = ["Oslo", "Bergen", "Trondheim", "Stavanger"];
    [
        (Attribute::FirstName, format!("First{index}")),
        (Attribute::LastName, format!("Last{index}")),
        (Attribute::JobTitle, TITLES[index % 4].to_string()),
        (Attribute::Department, DEPARTMENTS[index / 4 % 4].to_string()),
        (Attribute::Telephone, format!("+47 {:08}", 20_000_000 + index)),
        (Attribute::Office, format!("B{}-{:03}", index % 7, index % 500)),
        (Attribute::City, CITIES[index / 16 % 4].to_string()),
    ]
}

/// `orgs` organizations of `users` registered users each, with a display name, the attributes of
/// [`profile`], a company and a country.
pub fn seed(orgs: usize, users: usize) -> Seed {
    let mut seed = Seed::default();
    for org in 0..orgs {
        let mut organization =
            SeedOrganization::new(&organization_id(org), None, &format!("org{org}.example"));
        for index in 0..users {
            let name = user_name(org, index);
            let mut user = SeedUser::new(&name)
                .email(&format!("{name}@org{org}.example"))
                .attr(Attribute::DisplayName, live_display_name(org, index))
                .attr(Attribute::Company, "Acme Corp")
                .attr(Attribute::Country, "Norway");
            for (attr, value) in profile(index) {
                user = user.attr(attr, value);
            }
            organization = organization.user(user);
        }
        seed = seed.organization(organization);
    }
    seed
}

/// The desired-state file of organization `org`: every user with its display name (changed for
/// `change_fraction` of them) and [`profile`], the company and country from `defaults`. `keys` overrides the user keys
/// (user ids, say); by default the user names.
pub fn desired_yaml(
    org: usize,
    users: usize,
    change_fraction: f64,
    keys: Option<&[String]>,
) -> String {
    let mut text = format!(
        "organization: {}\ndefaults:\n  company: Acme Corp\n  country: Norway\nusers:\n",
        organization_id(org)
    );
    for index in 0..users {
        let key = keys.map_or_else(|| user_name(org, index), |k| k[index].clone());
        let mut display = live_display_name(org, index);
        if changes(index, change_fraction) {
            display.push_str(" (renamed)");
        }
        let _ = writeln!(text, "  {key}:\n    display_name: \"{display}\"");
        for (attr, value) in profile(index) {
            let _ = writeln!(text, "    {}: \"{value}\"", attr.key());
        }
    }
    text
}

/// A client configuration for an emulator at `url` (same as `Emulator::sdk_config`).
pub fn sdk_config_for(url: &str) -> aws_sdk_workmail::Config {
    use aws_sdk_workmail::config::{BehaviorVersion, Credentials, Region};
    aws_sdk_workmail::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "bench"))
        .endpoint_url(url)
        .build()
}

/// User + system CPU time of this process so far, from `/proc/self/stat` (clock ticks of
/// 10 ms on Linux: good to ±10 ms, so measure seconds of work).
pub fn process_cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name, which is in parentheses and may contain spaces.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line: 12 and 13 after the name.
    let ticks: u64 =
        fields.get(11..13).map_or(0, |f| f.iter().filter_map(|v| v.parse::<u64>().ok()).sum());
    Duration::from_millis(ticks * 10)
}

/// Peak resident memory of this process (`VmHWM`), in MiB.
pub fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// Machine facts for the header of every table.
pub fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!("{cores} cores; loopback emulator; noisy shared machine")
}
