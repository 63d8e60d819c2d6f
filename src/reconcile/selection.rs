//! Which declared users a run covers: `--target` and `--exclude`.

use crate::spec::{DesiredOrganization, DesiredState};
use thiserror::Error;

/// The users to keep, by key as declared. Keys compare case-insensitively, as WorkMail names do.
/// Empty `targets` means every user.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    /// Only these users (when not empty).
    pub targets: Vec<String>,
    /// Never these users.
    pub excludes: Vec<String>,
}

/// A target or exclude that names no declared user: a typo would otherwise plan the wrong set.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{flag} {key}: no declared user has this key")]
pub struct SelectionError {
    /// `--target` or `--exclude`.
    pub flag: &'static str,
    pub key: String,
}

impl Selection {
    /// The selection as the flags that would make it, `--target A --exclude B`.
    pub(crate) fn as_flags(&self) -> Vec<String> {
        let targets = self.targets.iter().map(|t| format!("--target {t}"));
        targets.chain(self.excludes.iter().map(|e| format!("--exclude {e}"))).collect()
    }

    /// Keep the selected users; organizations left without users are dropped. Excluded users
    /// are kept aside in [`DesiredState::excluded`], and a target sets [`DesiredState::targeted`].
    pub(crate) fn select(&self, mut desired: DesiredState) -> Result<DesiredState, SelectionError> {
        let matches = |key: &str, wanted: &str| key.eq_ignore_ascii_case(wanted);
        for (flag, list) in [("--target", &self.targets), ("--exclude", &self.excludes)] {
            for wanted in list {
                let found = desired
                    .organizations
                    .iter()
                    .any(|o| o.users.iter().any(|u| matches(&u.key, wanted)));
                if !found {
                    return Err(SelectionError { flag, key: wanted.clone() });
                }
            }
        }
        desired.targeted = !self.targets.is_empty();
        for organization in &mut desired.organizations {
            if desired.targeted {
                // Users left out by a target are out of view, and forgotten.
                organization.users.retain(|u| self.targets.iter().any(|t| matches(&u.key, t)));
            }
            if self.excludes.is_empty() {
                continue;
            }
            let (excluded, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut organization.users)
                .into_iter()
                .partition(|u| self.excludes.iter().any(|e| matches(&u.key, e)));
            organization.users = kept;
            if !excluded.is_empty() {
                // Excluded users stay declared: kept aside so they never look unmanaged.
                desired.excluded.push(DesiredOrganization {
                    reference: organization.reference.clone(),
                    source: organization.source.clone(),
                    users: excluded,
                });
            }
        }
        if desired.targeted {
            // Out of view: an organization without a targeted user is not planned. Without a
            // target every declared organization is, `users: {}` included, so that its users
            // in no file are listed.
            desired.organizations.retain(|o| !o.users.is_empty());
        }
        Ok(desired)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(organizations: &[crate::spec::DesiredOrganization]) -> Vec<Vec<&str>> {
        organizations.iter().map(|o| o.users.iter().map(|u| u.key.as_str()).collect()).collect()
    }

    #[test]
    fn excluded_users_are_kept_aside_and_a_target_is_recorded() {
        let desired = crate::spec::load_str(
            "f.yaml",
            "organization: acme\nusers:\n  alice: {}\n  bob: {}\n  carol: {}\n",
        )
        .expect("valid");
        let select = |targets: &[&str], excludes: &[&str]| {
            let selection = Selection {
                targets: targets.iter().map(|t| t.to_string()).collect(),
                excludes: excludes.iter().map(|e| e.to_string()).collect(),
            };
            selection.select(desired.clone()).expect("selects")
        };

        let all = select(&[], &[]);
        assert_eq!(
            (keys(&all.organizations), all.excluded.len(), all.targeted),
            (vec![vec!["alice", "bob", "carol"]], 0, false)
        );

        let excluded = select(&[], &["BOB"]);
        assert_eq!(keys(&excluded.organizations), [["alice", "carol"]]);
        assert_eq!(keys(&excluded.excluded), [["bob"]]);
        assert_eq!(excluded.excluded[0].reference, excluded.organizations[0].reference);
        assert!(!excluded.targeted);

        // Excluding every user leaves the organization planned, with no user to describe.
        let none = select(&[], &["alice", "bob", "carol"]);
        assert_eq!(keys(&none.organizations), [Vec::<&str>::new()]);
        assert_eq!(keys(&none.excluded), [["alice", "bob", "carol"]]);

        let targeted = select(&["carol"], &[]);
        assert_eq!((keys(&targeted.organizations), targeted.targeted), (vec![vec!["carol"]], true));
        assert!(targeted.excluded.is_empty(), "users left out by a target are forgotten");
    }
}
