//! Mailboxes: GetMailboxDetails and UpdateMailboxQuota. Only an ENABLED (registered) user has a
//! mailbox.

use super::{organization, organization_mut, required};
use crate::emulator::state::{EmulatedDirectory, MAX_MAILBOX_QUOTA_MB};
use crate::emulator::wire::ApiError;
use crate::model::live::UserState;
use serde_json::{Value, json};

/// The quota and size (always 0 MB: the emulator holds no mail) of a user's mailbox. A user
/// without one (DISABLED, DELETED) is `EntityNotFoundException`: the operation's only error for
/// an entity, and the mailbox indeed does not exist.
pub(super) fn get_mailbox_details(
    input: &Value,
    directory: &EmulatedDirectory,
) -> Result<Value, ApiError> {
    let org = organization(input, directory)?;
    let ident = required(input, "UserId")?;
    let user = org.find_user(ident).ok_or_else(|| ApiError::entity_not_found(ident))?;
    if !user.has_mailbox() {
        return Err(ApiError::client(
            "EntityNotFoundException",
            format!("The user {} has no mailbox: it is {}.", user.id, user.state.as_str()),
        ));
    }
    Ok(json!({ "MailboxQuota": user.mailbox_quota_mb, "MailboxSize": 0.0 }))
}

/// Sets an ENABLED user's quota, from 1 to 51,200 MB (the model says at least 1; WorkMail takes
/// at most 50 GB). A DISABLED or DELETED user is `EntityStateException`.
pub(super) fn update_mailbox_quota(
    input: &Value,
    directory: &mut EmulatedDirectory,
) -> Result<Value, ApiError> {
    let org = organization_mut(input, directory)?;
    let ident = required(input, "UserId")?;
    let quota = input.get("MailboxQuota").and_then(Value::as_i64).unwrap_or(0);
    let user = org.find_user_mut(ident).ok_or_else(|| ApiError::entity_not_found(ident))?;
    if user.state != UserState::Enabled {
        return Err(ApiError::entity_state(format!(
            "The user {} is {} and has no mailbox.",
            user.id,
            user.state.as_str()
        )));
    }
    let quota = u32::try_from(quota)
        .ok()
        .filter(|q| (1..=MAX_MAILBOX_QUOTA_MB).contains(q))
        .ok_or_else(|| {
            ApiError::invalid_parameter(format!(
                "The mailbox quota must be from 1 to {MAX_MAILBOX_QUOTA_MB} MB, got {quota}."
            ))
        })?;
    user.mailbox_quota_mb = quota;
    Ok(json!({}))
}
