//! docs/reconciliation.md#safety-limits: refuse, before any write, an apply that would change more users
//! than the team expects.

use crate::plan::Plan;
use std::collections::BTreeMap;
use thiserror::Error;

/// By default an organization declaring at least this many users…
const DEFAULT_MIN_USERS: usize = 10;
/// …may not have more than this share of them changed in one apply.
const DEFAULT_MAX_SHARE: f64 = 0.30;

/// The limits in force.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct SafetyLimits {
    /// `--max-changes N`: at most N users changed in the whole run.
    pub max_changes: Option<usize>,
    /// `--force`: no limit at all.
    pub force: bool,
}

/// Why an apply was refused.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum SafetyRefusal {
    #[error(
        "refusing to apply: {changes} users would change, more than --max-changes {max}; nothing was changed (raise --max-changes or pass --force)"
    )]
    MaxChanges { changes: usize, max: usize },
    #[error(
        "refusing to apply: {changes} of the {declared} users declared for organization {organization} would change, more than {percent}%; nothing was changed (pass --max-changes N or --force if this is intended)",
        percent = (DEFAULT_MAX_SHARE * 100.0) as u32
    )]
    Share { organization: String, changes: usize, declared: usize },
}

/// Check the plan against the limits.
pub(crate) fn check_safety(plan: &Plan, limits: SafetyLimits) -> Result<(), SafetyRefusal> {
    if limits.force {
        return Ok(());
    }
    let changes = plan.changes.len();
    if let Some(max) = limits.max_changes {
        // An explicit limit replaces the default share rule.
        return if changes > max {
            Err(SafetyRefusal::MaxChanges { changes, max })
        } else {
            Ok(())
        };
    }
    let mut per_org: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for c in &plan.changes {
        let entry = per_org.entry(&c.organization_id).or_default();
        entry.0 += 1;
        entry.1 += 1;
    }
    for u in &plan.unchanged {
        per_org.entry(&u.organization_id).or_default().1 += 1;
    }
    // Users in no file are not declared, even as error entries (`--unmanaged error`): counted,
    // they would dilute the share until a mass change passed.
    for e in plan.declared_user_errors() {
        per_org.entry(&e.organization_id).or_default().1 += 1;
    }
    for (organization, (changes, declared)) in per_org {
        if declared >= DEFAULT_MIN_USERS && changes as f64 > declared as f64 * DEFAULT_MAX_SHARE {
            let organization = match plan.alias_of(organization) {
                Some(alias) => format!("{alias} ({organization})"),
                None => organization.to_string(),
            };
            return Err(SafetyRefusal::Share { organization, changes, declared });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{UnchangedUser, UserChange};

    fn plan(changed: usize, unchanged: usize) -> Plan {
        let change = |i: usize| UserChange {
            mailbox: None,
            organization_id: "m-1".into(),
            user: format!("u{i}"),
            user_id: format!("id{i}"),
            source: "f.yaml:1".into(),
            fields: Vec::new(),
        };
        let same = |i: usize| UnchangedUser {
            organization_id: "m-1".into(),
            user: format!("s{i}"),
            user_id: format!("sid{i}"),
            source: "f.yaml:1".into(),
        };
        Plan {
            changes: (0..changed).map(change).collect(),
            unchanged: (0..unchanged).map(same).collect(),
            ..Plan::default()
        }
    }

    #[test]
    fn default_share_applies_from_ten_declared_users() {
        assert_eq!(check_safety(&plan(3, 7), SafetyLimits::default()), Ok(()));
        assert_eq!(
            check_safety(&plan(4, 6), SafetyLimits::default()),
            Err(SafetyRefusal::Share { organization: "m-1".into(), changes: 4, declared: 10 })
        );
        // Below ten declared users there is no share limit.
        assert_eq!(check_safety(&plan(9, 0), SafetyLimits::default()), Ok(()));
    }

    #[test]
    fn users_in_no_file_are_not_declared_even_as_error_entries() {
        use crate::model::live::UserState;
        use crate::plan::{PlanError, UnmanagedUser};
        let mut plan = plan(4, 6);
        // Thirty users in no file, each an error entry (`--unmanaged error`).
        for i in 0..30 {
            plan.unmanaged.get_or_insert_default().push(UnmanagedUser {
                organization_id: "m-1".into(),
                user: format!("n{i}"),
                user_id: format!("nid{i}"),
                email: None,
                state: UserState::Enabled,
            });
            plan.errors.push(PlanError {
                organization_id: "m-1".into(),
                user: Some(format!("n{i}")),
                source: "f.yaml:1".into(),
                message: format!("user nid{i} is in no file"),
            });
        }
        // A declared user's error entry still counts.
        plan.errors.push(PlanError {
            organization_id: "m-1".into(),
            user: Some("ghost".into()),
            source: "f.yaml:9".into(),
            message: "user not found".into(),
        });
        assert_eq!(
            check_safety(&plan, SafetyLimits::default()),
            Err(SafetyRefusal::Share { organization: "m-1".into(), changes: 4, declared: 11 })
        );
        assert_eq!(plan.summary().users, 11);
    }

    #[test]
    fn max_changes_and_force() {
        let limits = SafetyLimits { max_changes: Some(2), force: false };
        assert_eq!(
            check_safety(&plan(3, 0), limits),
            Err(SafetyRefusal::MaxChanges { changes: 3, max: 2 })
        );
        assert_eq!(
            check_safety(&plan(8, 2), SafetyLimits { max_changes: Some(8), force: false }),
            Ok(())
        );
        assert_eq!(
            check_safety(&plan(8, 2), SafetyLimits { max_changes: None, force: true }),
            Ok(())
        );
    }
}
