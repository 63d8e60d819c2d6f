//! The mailbox writes of one user, after its UpdateUser: aliases (CreateAlias, then
//! DeleteAlias), groups (AssociateMemberToGroup, then DisassociateMemberFromGroup), quota
//! (UpdateMailboxQuota). Each is preceded by its own read, performs only what is still needed,
//! and after a failed write reads again before deciding: a retry after a lost answer may meet
//! "already there" or "already gone" for a write that in fact happened.

use crate::directory::{Directory, DirectoryError};
use crate::plan::{ListChange, QuotaChange};
use crate::redaction::{MailboxValues, Redaction};
use std::collections::HashSet;

/// Why a step ended the user's apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum StepError {
    /// The directory stopped (a connection failure elsewhere): nothing was sent.
    Halted,
    /// The step failed, for this reason.
    Failed(String),
}

impl StepError {
    fn read(operation: &str, error: DirectoryError) -> StepError {
        match error {
            DirectoryError::Halted => StepError::Halted,
            other => StepError::Failed(format!("{operation} failed: {other}")),
        }
    }
}

/// How far a step with several writes got, so that a step cut short by a failure or a stop
/// still says that it changed the user.
#[derive(Debug, Default)]
pub(super) struct PartStep {
    what: &'static str,
    total: usize,
    made: usize,
}

impl PartStep {
    /// A step of `total` writes of `what` (e.g. "alias") begins.
    fn begin(&mut self, what: &'static str, total: usize) {
        *self = PartStep { what, total, made: 0 };
    }

    /// One more of the step's writes is made.
    fn made_one(&mut self) {
        self.made += 1;
    }

    /// What the unfinished step had written, if anything.
    pub(super) fn written(&self) -> Option<String> {
        (self.made > 0 && self.made < self.total)
            .then(|| format!("{} of the {} {} writes", self.made, self.total, self.what))
    }
}

/// One write; after a failure, `landed` (a fresh read) tells whether it happened anyway — its
/// answer lost and the retry meeting the write's own result — before `failed` names the error.
async fn write_checked(
    write: impl Future<Output = Result<(), DirectoryError>>,
    landed: impl AsyncFnOnce() -> Result<bool, StepError>,
    failed: impl FnOnce(&DirectoryError) -> String,
) -> Result<(), StepError> {
    let Err(error) = write.await else { return Ok(()) };
    if error == DirectoryError::Halted {
        return Err(StepError::Halted);
    }
    if landed().await? {
        return Ok(());
    }
    Err(StepError::Failed(failed(&error)))
}

/// An address as the report shows it, and the service's message with the address redacted when
/// `--redact aliases` covers it (a service may quote what it refused).
fn shown_alias(redaction: &Redaction, alias: &str, error: &DirectoryError) -> (String, String) {
    let shown = redaction.mailbox_value(MailboxValues::Aliases, alias);
    (shown.clone(), error.to_string().replace(alias, &shown))
}

/// The user's addresses as ListAliases answers them, lower-cased (the primary one among them or
/// not: the plan never adds or removes it).
async fn live_aliases<D: Directory>(
    directory: &D,
    organization_id: &str,
    user_id: &str,
) -> Result<HashSet<String>, StepError> {
    let aliases = directory
        .list_aliases(organization_id, user_id)
        .await
        .map_err(|e| StepError::read("ListAliases", e))?;
    Ok(aliases.into_iter().map(|a| a.to_lowercase()).collect())
}

/// Add the planned aliases still missing, then remove the planned ones still present. `Ok`
/// with whether anything was written.
pub(super) async fn apply_aliases<D: Directory>(
    directory: &D,
    organization_id: &str,
    user_id: &str,
    planned: &ListChange,
    redaction: &Redaction,
    part: &mut PartStep,
) -> Result<bool, StepError> {
    let live = live_aliases(directory, organization_id, user_id).await?;
    let adds: Vec<&String> =
        planned.add.iter().filter(|a| !live.contains(&a.to_lowercase())).collect();
    let removes: Vec<&String> =
        planned.remove.iter().filter(|r| live.contains(&r.to_lowercase())).collect();
    part.begin("alias", adds.len() + removes.len());
    // Adds first: a new address that fails never leaves the user without the old one.
    for alias in &adds {
        let folded = alias.to_lowercase();
        write_checked(
            directory.create_alias(organization_id, user_id, alias),
            async || Ok(live_aliases(directory, organization_id, user_id).await?.contains(&folded)),
            |error| {
                let (shown, message) = shown_alias(redaction, alias, error);
                format!("CreateAlias {shown} failed: {message}")
            },
        )
        .await?;
        part.made_one();
    }
    for alias in &removes {
        let folded = alias.to_lowercase();
        write_checked(
            directory.delete_alias(organization_id, user_id, alias),
            async || {
                Ok(!live_aliases(directory, organization_id, user_id).await?.contains(&folded))
            },
            |error| {
                let (shown, message) = shown_alias(redaction, alias, error);
                format!("DeleteAlias {shown} failed: {message}")
            },
        )
        .await?;
        part.made_one();
    }
    Ok(!adds.is_empty() || !removes.is_empty())
}

/// The user's groups: lower-cased name → group id.
async fn live_groups<D: Directory>(
    directory: &D,
    organization_id: &str,
    user_id: &str,
) -> Result<Vec<(String, String)>, StepError> {
    let groups = directory
        .list_groups_for_entity(organization_id, user_id)
        .await
        .map_err(|e| StepError::read("ListGroupsForEntity", e))?;
    Ok(groups.into_iter().map(|g| (g.name.to_lowercase(), g.group_id)).collect())
}

fn member_of(groups: &[(String, String)], name: &str) -> Option<String> {
    let name = name.to_lowercase();
    groups.iter().find(|(n, _)| *n == name).map(|(_, id)| id.clone())
}

/// Join the planned groups not joined yet (by name, which AssociateMemberToGroup accepts),
/// then leave the planned ones still joined. `Ok` with whether anything was written.
pub(super) async fn apply_groups<D: Directory>(
    directory: &D,
    organization_id: &str,
    user_id: &str,
    planned: &ListChange,
    part: &mut PartStep,
) -> Result<bool, StepError> {
    let live = live_groups(directory, organization_id, user_id).await?;
    let joins: Vec<&String> =
        planned.add.iter().filter(|g| member_of(&live, g).is_none()).collect();
    let leaves: Vec<(&String, String)> =
        planned.remove.iter().filter_map(|g| Some((g, member_of(&live, g)?))).collect();
    part.begin("group", joins.len() + leaves.len());
    for group in &joins {
        write_checked(
            directory.associate_member_to_group(organization_id, group, user_id),
            async || {
                Ok(member_of(&live_groups(directory, organization_id, user_id).await?, group)
                    .is_some())
            },
            |error| format!("AssociateMemberToGroup {group} failed: {error}"),
        )
        .await?;
        part.made_one();
    }
    for (group, group_id) in &leaves {
        write_checked(
            directory.disassociate_member_from_group(organization_id, group_id, user_id),
            async || {
                Ok(member_of(&live_groups(directory, organization_id, user_id).await?, group)
                    .is_none())
            },
            |error| format!("DisassociateMemberFromGroup {group} failed: {error}"),
        )
        .await?;
        part.made_one();
    }
    Ok(!joins.is_empty() || !leaves.is_empty())
}

/// The user's quota, in MB.
pub(super) async fn live_quota<D: Directory>(
    directory: &D,
    organization_id: &str,
    user_id: &str,
) -> Result<u64, StepError> {
    directory
        .mailbox_details(organization_id, user_id)
        .await
        .map(|d| d.quota_mb)
        .map_err(|e| StepError::read("GetMailboxDetails", e))
}

/// Set the planned quota unless it is set already. `live` is the value just read. `Ok` with
/// whether anything was written.
pub(super) async fn apply_quota<D: Directory>(
    directory: &D,
    organization_id: &str,
    user_id: &str,
    planned: QuotaChange,
    live: u64,
    redaction: &Redaction,
) -> Result<bool, StepError> {
    let shown = |mb: u64| redaction.mailbox_value(MailboxValues::Quota, &mb.to_string());
    if live == planned.after {
        return Ok(false);
    }
    if live != planned.before {
        return Err(StepError::Failed(format!(
            "mailbox_quota_mb changed live during the apply (now {}, planned {} -> {}); not \
             written, plan again",
            shown(live),
            shown(planned.before),
            shown(planned.after)
        )));
    }
    let refused = |error: &DirectoryError| {
        let message = if redaction.covers_mailbox(MailboxValues::Quota) {
            "the service refused the value".to_string()
        } else {
            error.to_string()
        };
        format!("UpdateMailboxQuota failed: {message}")
    };
    write_checked(
        directory.update_mailbox_quota(organization_id, user_id, planned.after),
        async || Ok(live_quota(directory, organization_id, user_id).await? == planned.after),
        refused,
    )
    .await?;
    Ok(true)
}
