//! The mailbox part of a plan (docs/reconciliation.md#aliases-groups-and-quota): aliases,
//! groups and quota, compared ignoring case. Pure: the reads are the caller's.

use crate::model::live::{GroupMembership, GroupSummary, UserState};
use crate::spec::{DesiredAlias, did_you_mean};
use std::collections::HashSet;

/// The plan's key of the aliases.
pub(crate) const ALIASES: &str = "aliases";
/// The plan's key of the groups.
pub(crate) const GROUPS: &str = "groups";
/// The plan's key of the quota.
pub(crate) const QUOTA: &str = "mailbox_quota_mb";

/// A list key that differs: the live and desired lists (sorted by lower-case value) and what
/// apply adds and removes to go from one to the other.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListChange {
    pub before: Vec<String>,
    pub after: Vec<String>,
    pub add: Vec<String>,
    pub remove: Vec<String>,
}

/// The quota that differs, in MB.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuotaChange {
    pub before: u64,
    pub after: u64,
}

/// The mailbox keys of one user that differ; a key that is `None` needs nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MailboxChange {
    pub aliases: Option<ListChange>,
    pub groups: Option<ListChange>,
    pub quota: Option<QuotaChange>,
}

impl MailboxChange {
    /// Whether nothing differs.
    pub(crate) fn is_empty(&self) -> bool {
        self.aliases.is_none() && self.groups.is_none() && self.quota.is_none()
    }

    /// The keys that differ, in plan order.
    pub(crate) fn keys(&self) -> Vec<&'static str> {
        let mut keys = Vec::new();
        if self.aliases.is_some() {
            keys.push(ALIASES);
        }
        if self.groups.is_some() {
            keys.push(GROUPS);
        }
        if self.quota.is_some() {
            keys.push(QUOTA);
        }
        keys
    }

    /// `Some` only when something differs: what a plan keeps.
    pub(crate) fn boxed(self) -> Option<Box<MailboxChange>> {
        (!self.is_empty()).then(|| Box::new(self))
    }
}

/// `values` sorted by lower-case value (then as written, for a stable order).
pub(crate) fn sorted(mut values: Vec<String>) -> Vec<String> {
    values.sort_by(|a, b| a.to_lowercase().cmp(&b.to_lowercase()).then_with(|| a.cmp(b)));
    values
}

/// `live` made into the list it means: each value once, ignoring case.
fn distinct(live: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut seen = HashSet::new();
    live.into_iter().filter(|v| seen.insert(v.to_lowercase())).collect()
}

/// The change from `live` to `desired`, both lists of distinct values compared ignoring case;
/// `None` when they hold the same values.
fn list_change(live: Vec<String>, desired: Vec<String>) -> Option<ListChange> {
    let live_set: HashSet<String> = live.iter().map(|v| v.to_lowercase()).collect();
    let desired_set: HashSet<String> = desired.iter().map(|v| v.to_lowercase()).collect();
    let add: Vec<String> =
        desired.iter().filter(|v| !live_set.contains(&v.to_lowercase())).cloned().collect();
    let remove: Vec<String> =
        live.iter().filter(|v| !desired_set.contains(&v.to_lowercase())).cloned().collect();
    if add.is_empty() && remove.is_empty() {
        return None;
    }
    Some(ListChange {
        before: sorted(live),
        after: sorted(desired),
        add: sorted(add),
        remove: sorted(remove),
    })
}

/// The aliases to change. `answered` is ListAliases' answer, which may list the primary
/// address or not: it is ignored either way. An alias declared equal to the primary address
/// is an error (the file names the user by name or id, or it would have been found offline).
pub(crate) fn alias_change(
    primary: Option<&str>,
    answered: Vec<String>,
    desired: &[DesiredAlias],
) -> Result<Option<ListChange>, String> {
    let is_primary = |a: &str| primary.is_some_and(|p| p.eq_ignore_ascii_case(a));
    if let Some(alias) = desired.iter().find(|a| is_primary(&a.address)) {
        return Err(format!(
            "alias {} is the user's primary address, which is never an alias: remove it from \
             `aliases`",
            alias.address
        ));
    }
    let live = distinct(answered.into_iter().filter(|a| !is_primary(a)));
    Ok(list_change(live, desired.iter().map(|a| a.address.clone()).collect()))
}

/// The group of the organization that `reference` (a name or primary address, ignoring case)
/// names; `DELETED` groups name nothing.
pub(crate) fn find_group<'g>(
    groups: &'g [GroupSummary],
    reference: &str,
) -> Option<&'g GroupSummary> {
    groups.iter().filter(|g| g.state != UserState::Deleted).find(|g| {
        g.name.eq_ignore_ascii_case(reference)
            || g.email.as_deref().is_some_and(|e| e.eq_ignore_ascii_case(reference))
    })
}

/// The groups to join and leave, by name. `groups` is the organization's listing, `member_of`
/// the user's memberships. Every declared group that does not exist is named in the error,
/// with a did-you-mean when one is close.
pub(crate) fn group_change(
    groups: &[GroupSummary],
    member_of: Vec<GroupMembership>,
    desired: &[String],
) -> Result<Option<ListChange>, String> {
    let mut missing = Vec::new();
    let mut wanted: Vec<&GroupSummary> = Vec::new();
    for reference in desired {
        match find_group(groups, reference) {
            Some(group) if wanted.iter().any(|w| w.group_id == group.group_id) => {}
            Some(group) => wanted.push(group),
            None => missing.push(reference),
        }
    }
    if !missing.is_empty() {
        let names: Vec<&str> = groups
            .iter()
            .filter(|g| g.state != UserState::Deleted)
            .map(|g| g.name.as_str())
            .collect();
        let messages: Vec<String> = missing
            .iter()
            .map(|m| match did_you_mean(m, &names) {
                Some(close) => format!("group \"{m}\" not found (did you mean \"{close}\"?)"),
                None => format!("group \"{m}\" not found"),
            })
            .collect();
        return Err(messages.join("; "));
    }
    let live_ids: HashSet<&str> = member_of.iter().map(|m| m.group_id.as_str()).collect();
    let wanted_ids: HashSet<&str> = wanted.iter().map(|g| g.group_id.as_str()).collect();
    let add: Vec<String> = wanted
        .iter()
        .filter(|g| !live_ids.contains(g.group_id.as_str()))
        .map(|g| g.name.clone())
        .collect();
    let remove: Vec<String> = member_of
        .iter()
        .filter(|m| !wanted_ids.contains(m.group_id.as_str()))
        .map(|m| m.name.clone())
        .collect();
    if add.is_empty() && remove.is_empty() {
        return Ok(None);
    }
    Ok(Some(ListChange {
        before: sorted(distinct(member_of.into_iter().map(|m| m.name))),
        after: sorted(wanted.iter().map(|g| g.name.clone()).collect()),
        add: sorted(add),
        remove: sorted(distinct(remove)),
    }))
}

/// The quota to change, if it differs.
pub(crate) fn quota_change(live: u64, desired: u64) -> Option<QuotaChange> {
    (live != desired).then_some(QuotaChange { before: live, after: desired })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alias(a: &str) -> DesiredAlias {
        DesiredAlias { address: a.into(), line: 1, column: 1 }
    }

    fn group(id: &str, name: &str, email: Option<&str>) -> GroupSummary {
        GroupSummary {
            group_id: id.into(),
            name: name.into(),
            email: email.map(Into::into),
            state: UserState::Enabled,
        }
    }

    #[test]
    fn aliases_ignore_case_duplicates_and_the_primary_whether_listed_or_not() {
        let desired = [alias("A.L@acme.example"), alias("new@acme.example")];
        for answered in [
            vec!["a.l@acme.example".to_string(), "old@acme.example".into()],
            vec![
                "alice@acme.example".into(),
                "a.l@ACME.example".into(),
                "old@acme.example".into(),
                "OLD@acme.example".into(),
            ],
        ] {
            let change = alias_change(Some("Alice@acme.example"), answered, &desired)
                .expect("valid")
                .expect("differs");
            assert_eq!(change.add, ["new@acme.example"]);
            assert_eq!(change.remove, ["old@acme.example"]);
            assert_eq!(change.after, ["A.L@acme.example", "new@acme.example"]);
        }
        assert_eq!(
            alias_change(Some("alice@acme.example"), vec!["alice@acme.example".into()], &[]),
            Ok(None)
        );
        assert!(
            alias_change(Some("alice@acme.example"), vec![], &[alias("ALICE@acme.example")])
                .is_err()
        );
    }

    #[test]
    fn groups_by_name_or_address_shown_by_name_with_a_hint_for_unknown_ones() {
        let groups = [
            group("g-1", "engineering", Some("eng@acme.example")),
            group("g-2", "sales", None),
            group("g-3", "all-staff", Some("all@acme.example")),
        ];
        let member_of = vec![GroupMembership { group_id: "g-2".into(), name: "sales".into() }];
        let change = group_change(
            &groups,
            member_of.clone(),
            &["ENG@acme.example".into(), "All-Staff".into()],
        )
        .expect("valid")
        .expect("differs");
        assert_eq!(change.add, ["all-staff", "engineering"]);
        assert_eq!(change.remove, ["sales"]);
        assert_eq!(change.before, ["sales"]);
        assert_eq!(change.after, ["all-staff", "engineering"]);
        assert_eq!(group_change(&groups, member_of.clone(), &["SALES".into()]), Ok(None));
        assert_eq!(
            group_change(&groups, member_of, &["enginering".into(), "nothing-like-it".into()]),
            Err("group \"enginering\" not found (did you mean \"engineering\"?); group \"nothing-like-it\" not found".into())
        );
    }
}
