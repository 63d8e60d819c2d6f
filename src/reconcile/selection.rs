//! Which declared users a run covers: `--target` and `--exclude`.

use crate::spec::DesiredState;
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
    pub fn as_flags(&self) -> Vec<String> {
        let targets = self.targets.iter().map(|t| format!("--target {t}"));
        targets.chain(self.excludes.iter().map(|e| format!("--exclude {e}"))).collect()
    }

    /// Keep the selected users; organizations left without users are dropped.
    pub fn select(&self, mut desired: DesiredState) -> Result<DesiredState, SelectionError> {
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
        for organization in &mut desired.organizations {
            organization.users.retain(|u| {
                (self.targets.is_empty() || self.targets.iter().any(|t| matches(&u.key, t)))
                    && !self.excludes.iter().any(|e| matches(&u.key, e))
            });
        }
        desired.organizations.retain(|o| !o.users.is_empty());
        Ok(desired)
    }
}
