//! The emulated operations, run on validated input against the directory: organizations and
//! users here, addresses, groups and mailboxes in the submodules.

mod addresses;
mod groups;
mod mailbox;

use super::UpdateSemantics;
use super::journal::epoch_seconds;
use super::state::{
    DEFAULT_MAILBOX_QUOTA_MB, EmulatedDirectory, EmulatedUser, Entity, Organization, user_id_for,
};
use super::validation::model;
use super::wire::ApiError;
use crate::model::attrs::{AttrKind, AttrValue, Attribute};
use crate::model::live::{Role, UserState};
use aws_smithy_types::base64;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::time::SystemTime;

/// Page size when `MaxResults` is left out. The service does not document its default; 100 is
/// the model's maximum, so a client that forgets `MaxResults` still pages correctly.
const DEFAULT_MAX_RESULTS: usize = 100;

/// An operation the emulator serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Operation {
    ListOrganizations,
    DescribeOrganization,
    ListUsers,
    DescribeUser,
    UpdateUser,
    CreateUser,
    RegisterToWorkMail,
    ListMailDomains,
    ListAliases,
    CreateAlias,
    DeleteAlias,
    ListGroups,
    DescribeGroup,
    ListGroupMembers,
    ListGroupsForEntity,
    AssociateMemberToGroup,
    DisassociateMemberFromGroup,
    CreateGroup,
    GetMailboxDetails,
    UpdateMailboxQuota,
}

impl Operation {
    pub(crate) const ALL: [Operation; 20] = [
        Operation::ListOrganizations,
        Operation::DescribeOrganization,
        Operation::ListUsers,
        Operation::DescribeUser,
        Operation::UpdateUser,
        Operation::CreateUser,
        Operation::RegisterToWorkMail,
        Operation::ListMailDomains,
        Operation::ListAliases,
        Operation::CreateAlias,
        Operation::DeleteAlias,
        Operation::ListGroups,
        Operation::DescribeGroup,
        Operation::ListGroupMembers,
        Operation::ListGroupsForEntity,
        Operation::AssociateMemberToGroup,
        Operation::DisassociateMemberFromGroup,
        Operation::CreateGroup,
        Operation::GetMailboxDetails,
        Operation::UpdateMailboxQuota,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Operation::ListOrganizations => "ListOrganizations",
            Operation::DescribeOrganization => "DescribeOrganization",
            Operation::ListUsers => "ListUsers",
            Operation::DescribeUser => "DescribeUser",
            Operation::UpdateUser => "UpdateUser",
            Operation::CreateUser => "CreateUser",
            Operation::RegisterToWorkMail => "RegisterToWorkMail",
            Operation::ListMailDomains => "ListMailDomains",
            Operation::ListAliases => "ListAliases",
            Operation::CreateAlias => "CreateAlias",
            Operation::DeleteAlias => "DeleteAlias",
            Operation::ListGroups => "ListGroups",
            Operation::DescribeGroup => "DescribeGroup",
            Operation::ListGroupMembers => "ListGroupMembers",
            Operation::ListGroupsForEntity => "ListGroupsForEntity",
            Operation::AssociateMemberToGroup => "AssociateMemberToGroup",
            Operation::DisassociateMemberFromGroup => "DisassociateMemberFromGroup",
            Operation::CreateGroup => "CreateGroup",
            Operation::GetMailboxDetails => "GetMailboxDetails",
            Operation::UpdateMailboxQuota => "UpdateMailboxQuota",
        }
    }

    pub(crate) fn from_name(name: &str) -> Option<Operation> {
        Operation::ALL.into_iter().find(|op| op.name() == name)
    }

    /// Whether a successful call changes the directory (a drop after it leaves it `applied`).
    pub(crate) fn is_write(self) -> bool {
        match self {
            Operation::UpdateUser
            | Operation::CreateUser
            | Operation::RegisterToWorkMail
            | Operation::CreateAlias
            | Operation::DeleteAlias
            | Operation::AssociateMemberToGroup
            | Operation::DisassociateMemberFromGroup
            | Operation::CreateGroup
            | Operation::UpdateMailboxQuota => true,
            Operation::ListOrganizations
            | Operation::DescribeOrganization
            | Operation::ListUsers
            | Operation::DescribeUser
            | Operation::ListMailDomains
            | Operation::ListAliases
            | Operation::ListGroups
            | Operation::DescribeGroup
            | Operation::ListGroupMembers
            | Operation::ListGroupsForEntity
            | Operation::GetMailboxDetails => false,
        }
    }
}

/// What an operation runs against.
pub(crate) struct OperationContext<'a> {
    pub(crate) directory: &'a mut EmulatedDirectory,
    pub(crate) semantics: UpdateSemantics,
    /// Whether ListAliases lists the primary address among the aliases.
    pub(crate) list_aliases_include_primary: bool,
    pub(crate) now: SystemTime,
    /// The region of the request's credential scope, for ARNs.
    pub(crate) region: &'a str,
}

/// Runs `op` on input that passed [`validate_input`](super::validation::validate_input).
pub(crate) fn execute(
    op: Operation,
    input: &Value,
    ctx: OperationContext<'_>,
) -> Result<Value, ApiError> {
    match op {
        Operation::ListOrganizations => list_organizations(input, ctx.directory),
        Operation::DescribeOrganization => describe_organization(input, ctx.directory, ctx.region),
        Operation::ListUsers => list_users(input, ctx.directory),
        Operation::DescribeUser => describe_user(input, ctx.directory),
        Operation::UpdateUser => update_user(input, ctx),
        Operation::CreateUser => create_user(input, ctx),
        Operation::RegisterToWorkMail => register_to_workmail(input, ctx),
        Operation::ListMailDomains => addresses::list_mail_domains(input, ctx.directory),
        Operation::ListAliases => {
            addresses::list_aliases(input, ctx.directory, ctx.list_aliases_include_primary)
        }
        Operation::CreateAlias => addresses::create_alias(input, ctx.directory),
        Operation::DeleteAlias => addresses::delete_alias(input, ctx.directory),
        Operation::ListGroups => groups::list_groups(input, ctx.directory),
        Operation::DescribeGroup => groups::describe_group(input, ctx.directory),
        Operation::ListGroupMembers => groups::list_group_members(input, ctx.directory),
        Operation::ListGroupsForEntity => groups::list_groups_for_entity(input, ctx.directory),
        Operation::AssociateMemberToGroup => groups::associate_member(input, ctx.directory),
        Operation::DisassociateMemberFromGroup => groups::disassociate_member(input, ctx.directory),
        Operation::CreateGroup => groups::create_group(input, ctx),
        Operation::GetMailboxDetails => mailbox::get_mailbox_details(input, ctx.directory),
        Operation::UpdateMailboxQuota => mailbox::update_mailbox_quota(input, ctx.directory),
    }
}

pub(super) fn str_member<'a>(input: &'a Value, name: &str) -> Option<&'a str> {
    input.get(name).and_then(Value::as_str)
}

/// A required member; validation guarantees it, this keeps a defect from becoming a panic.
pub(super) fn required<'a>(input: &'a Value, name: &str) -> Result<&'a str, ApiError> {
    str_member(input, name)
        .ok_or_else(|| ApiError::invalid_parameter(format!("{name} is required")))
}

pub(super) fn organization<'a>(
    input: &Value,
    directory: &'a EmulatedDirectory,
) -> Result<&'a Organization, ApiError> {
    let id = required(input, "OrganizationId")?;
    directory.organization(id).ok_or_else(|| ApiError::organization_not_found(id))
}

pub(super) fn organization_mut<'a>(
    input: &Value,
    directory: &'a mut EmulatedDirectory,
) -> Result<&'a mut Organization, ApiError> {
    let id = required(input, "OrganizationId")?;
    directory.organization_mut(id).ok_or_else(|| ApiError::organization_not_found(id))
}

pub(super) fn timestamp(t: SystemTime) -> Value {
    json!(epoch_seconds::to_f64(t))
}

/// A page position, opaque to clients: base64 of the listing kind, a fingerprint of the request
/// that started the listing, and the last key returned. A token from another listing, or for
/// other filters, is refused like the service refuses a foreign token.
pub(super) struct PageToken;

impl PageToken {
    pub(super) fn encode(kind: &str, fingerprint: &str, last: &str) -> String {
        base64::encode(format!("v1\n{kind}\n{fingerprint}\n{last}"))
    }

    pub(super) fn decode(token: &str, kind: &str, fingerprint: &str) -> Result<String, ApiError> {
        let invalid = || ApiError::invalid_parameter("The NextToken is invalid or expired.");
        let bytes = base64::decode(token).map_err(|_| invalid())?;
        let text = String::from_utf8(bytes).map_err(|_| invalid())?;
        let mut parts = text.splitn(4, '\n');
        match (parts.next(), parts.next(), parts.next(), parts.next()) {
            (Some("v1"), Some(k), Some(f), Some(last)) if k == kind && f == fingerprint => {
                Ok(last.to_owned())
            }
            _ => Err(invalid()),
        }
    }
}

pub(super) fn fingerprint(parts: &[&Value]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part.to_string().as_bytes());
        hasher.update([0u8]);
    }
    hasher.finalize().iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// The cursor of a listing: the last key of the previous page, from `NextToken`, if any.
pub(super) fn page_start(
    input: &Value,
    kind: &str,
    print: &str,
) -> Result<Option<String>, ApiError> {
    str_member(input, "NextToken").map(|token| PageToken::decode(token, kind, print)).transpose()
}

/// One page from `rest`, the keyed items after the cursor in key order: at most `MaxResults`,
/// and the `NextToken` when more follow.
pub(super) fn take_page<T>(
    mut rest: impl Iterator<Item = (String, T)>,
    input: &Value,
    kind: &str,
    print: &str,
) -> (Vec<T>, Option<String>) {
    let mut page = Vec::new();
    let mut last = None;
    for (key, item) in rest.by_ref().take(max_results(input)) {
        page.push(item);
        last = Some(key);
    }
    let next = match (rest.next(), last) {
        (Some(_), Some(last)) => Some(PageToken::encode(kind, print, &last)),
        _ => None,
    };
    (page, next)
}

/// A listing's answer: `items` under `member`, and `NextToken` when there is one.
pub(super) fn listing(member: &str, items: Vec<Value>, next: Option<String>) -> Value {
    let mut out = json!({ member: items });
    if let Some(token) = next {
        out["NextToken"] = json!(token);
    }
    out
}

pub(super) fn max_results(input: &Value) -> usize {
    input
        .get("MaxResults")
        .and_then(Value::as_u64)
        .and_then(|n| usize::try_from(n).ok())
        .unwrap_or(DEFAULT_MAX_RESULTS)
}

fn list_organizations(input: &Value, directory: &EmulatedDirectory) -> Result<Value, ApiError> {
    let print = fingerprint(&[]);
    let start = match str_member(input, "NextToken") {
        Some(token) => {
            let last = PageToken::decode(token, "organizations", &print)?;
            directory.organizations.iter().position(|o| o.id == last).map_or(0, |i| i + 1)
        }
        None => 0,
    };
    let limit = max_results(input);
    let page: Vec<&Organization> = directory.organizations.iter().skip(start).take(limit).collect();
    let summaries: Vec<Value> = page
        .iter()
        .map(|o| {
            let mut s = json!({
                "OrganizationId": o.id,
                "DefaultMailDomain": o.default_mail_domain,
                "State": "Active",
            });
            if let Some(alias) = &o.alias {
                s["Alias"] = json!(alias);
            }
            s
        })
        .collect();
    let mut out = json!({ "OrganizationSummaries": summaries });
    if start + page.len() < directory.organizations.len()
        && let Some(last) = page.last()
    {
        out["NextToken"] = json!(PageToken::encode("organizations", &print, &last.id));
    }
    Ok(out)
}

fn describe_organization(
    input: &Value,
    directory: &EmulatedDirectory,
    region: &str,
) -> Result<Value, ApiError> {
    let org = organization(input, directory)?;
    let mut out = json!({
        "OrganizationId": org.id,
        "State": "Active",
        "DirectoryId": format!("d-{}", org.id.get(2..12).unwrap_or_default()),
        "DirectoryType": "WorkMailDirectory",
        "DefaultMailDomain": org.default_mail_domain,
        "CompletedDate": timestamp(org.completed_date),
        "ARN": org.arn(region),
        "InteroperabilityEnabled": false,
    });
    if let Some(alias) = &org.alias {
        out["Alias"] = json!(alias);
    }
    Ok(out)
}

/// The `Filters` of ListUsers. String prefixes ignore case (names, emails and hex ids are
/// case-insensitive in WorkMail); an empty prefix matches everything.
struct UserFilters<'a> {
    username: Option<&'a str>,
    display_name: Option<&'a str>,
    email: Option<&'a str>,
    state: Option<&'a str>,
    idp_user_id: Option<&'a str>,
}

pub(super) fn starts_with_ignore_case(value: &str, prefix: &str) -> bool {
    value.len() >= prefix.len()
        && value.is_char_boundary(prefix.len())
        && value[..prefix.len()].eq_ignore_ascii_case(prefix)
}

impl<'a> UserFilters<'a> {
    fn from_input(input: &'a Value) -> Self {
        let f = input.get("Filters");
        let get = |name: &str| f.and_then(|f| str_member(f, name));
        UserFilters {
            username: get("UsernamePrefix"),
            display_name: get("DisplayNamePrefix"),
            email: get("PrimaryEmailPrefix"),
            state: get("State"),
            idp_user_id: get("IdentityProviderUserIdPrefix"),
        }
    }

    fn matches(&self, user: &EmulatedUser) -> bool {
        let text = |a: Attribute| user.get(a).as_text().map(str::to_owned).unwrap_or_default();
        self.username.is_none_or(|p| starts_with_ignore_case(&user.name, p))
            && self
                .display_name
                .is_none_or(|p| starts_with_ignore_case(&text(Attribute::DisplayName), p))
            && self.email.is_none_or(|p| {
                user.email.as_deref().is_some_and(|e| starts_with_ignore_case(e, p))
            })
            && self.state.is_none_or(|s| s == user.state.as_str())
            && self.idp_user_id.is_none_or(|p| {
                starts_with_ignore_case(&text(Attribute::IdentityProviderUserId), p)
            })
    }
}

fn list_users(input: &Value, directory: &EmulatedDirectory) -> Result<Value, ApiError> {
    let org = organization(input, directory)?;
    let filters_json = input.get("Filters").cloned().unwrap_or(Value::Null);
    let print = fingerprint(&[&json!(org.id), &filters_json]);
    let filters = UserFilters::from_input(input);
    let after = match str_member(input, "NextToken") {
        Some(token) => Some(PageToken::decode(token, "users", &print)?),
        None => None,
    };
    let limit = max_results(input);
    // Keyed by id, so a page boundary stays put when users are added or edited meanwhile.
    let range = match &after {
        Some(last) => org.users.range::<String, _>((
            std::ops::Bound::Excluded(last.clone()),
            std::ops::Bound::Unbounded,
        )),
        None => org.users.range::<String, _>(..),
    };
    let mut matching = range.map(|(_, u)| u).filter(|u| filters.matches(u));
    let page: Vec<&EmulatedUser> = matching.by_ref().take(limit).collect();
    let more = matching.next().is_some();
    let users: Vec<Value> = page.iter().map(|u| listed_user(u)).collect();
    let mut out = json!({ "Users": users });
    if more && let Some(last) = page.last() {
        out["NextToken"] = json!(PageToken::encode("users", &print, &last.id));
    }
    Ok(out)
}

fn listed_user(user: &EmulatedUser) -> Value {
    let mut out = Map::new();
    out.insert("Id".into(), json!(user.id));
    out.insert("Name".into(), json!(user.name));
    if let Some(email) = &user.email {
        out.insert("Email".into(), json!(email));
    }
    for attr in [Attribute::DisplayName, Attribute::IdentityProviderUserId] {
        if let Some(AttrValue::Text(s)) = user.attributes.get(&attr) {
            out.insert(attr.member().into(), json!(s));
        }
    }
    out.insert("State".into(), json!(user.state.as_str()));
    out.insert("UserRole".into(), json!(user.role));
    insert_dates(&mut out, user, false);
    Value::Object(out)
}

fn insert_dates(out: &mut Map<String, Value>, user: &EmulatedUser, mailbox: bool) {
    if let Some(t) = user.enabled_date {
        out.insert("EnabledDate".into(), timestamp(t));
        if mailbox {
            out.insert("MailboxProvisionedDate".into(), timestamp(t));
        }
    }
    if let Some(t) = user.disabled_date {
        out.insert("DisabledDate".into(), timestamp(t));
    }
}

fn describe_user(input: &Value, directory: &EmulatedDirectory) -> Result<Value, ApiError> {
    let org = organization(input, directory)?;
    let ident = required(input, "UserId")?;
    let user = org.find_user(ident).ok_or_else(|| ApiError::entity_not_found(ident))?;
    let mut out = Map::new();
    out.insert("UserId".into(), json!(user.id));
    out.insert("Name".into(), json!(user.name));
    if let Some(email) = &user.email {
        out.insert("Email".into(), json!(email));
    }
    out.insert("State".into(), json!(user.state.as_str()));
    out.insert("UserRole".into(), json!(user.role));
    insert_dates(&mut out, user, true);
    for attr in Attribute::ALL {
        match (attr.kind(), user.get(attr)) {
            (AttrKind::Role, _) => {}
            // The service always reports the flag.
            (AttrKind::Bool, v) => {
                out.insert(attr.member().into(), serde_json::to_value(v).unwrap_or(json!(false)));
            }
            // ...and leaves empty strings out.
            (_, AttrValue::Text(s)) if !s.is_empty() => {
                out.insert(attr.member().into(), json!(s));
            }
            _ => {}
        }
    }
    Ok(Value::Object(out))
}

/// What a write of a user names: the organization, and the user (its `user_member`), once the
/// `Role`, if any, is one a request may assign (not `SYSTEM_USER` or `RESOURCE`).
fn user_write<'d, 'i>(
    input: &'i Value,
    directory: &'d mut EmulatedDirectory,
    user_member: &str,
) -> Result<(&'d mut Organization, &'i str), ApiError> {
    let organization = organization_mut(input, directory)?;
    if let Some(role) = str_member(input, "Role")
        && !Role::parse(role).is_settable()
    {
        return Err(ApiError::invalid_parameter(format!(
            "Role {role} cannot be assigned; allowed: {}.",
            Role::SETTABLE_NAMES.join(", ")
        )));
    }
    Ok((organization, required(input, user_member)?))
}

/// The new value of `attr` from a request member, if the member is present (JSON `null` counts
/// as absent, as the service's parser treats it).
fn member_value(input: &Value, attr: Attribute) -> Option<AttrValue> {
    match input.get(attr.member())? {
        Value::String(s) => Some(AttrValue::Text(s.clone())),
        Value::Bool(b) => Some(AttrValue::Bool(*b)),
        _ => None,
    }
}

fn update_user(input: &Value, ctx: OperationContext<'_>) -> Result<Value, ApiError> {
    let (org, ident) = user_write(input, ctx.directory, "UserId")?;
    let user = org.find_user_mut(ident).ok_or_else(|| ApiError::entity_not_found(ident))?;
    if user.state == UserState::Deleted {
        return Err(ApiError::entity_state(format!(
            "The user {} is in state DELETED and cannot be updated.",
            user.id
        )));
    }
    // System users are managed by WorkMail itself; the emulator refuses any change to them.
    if user.role == Role::SystemUser {
        return Err(ApiError::invalid_parameter(format!(
            "The user {} is a system user and cannot be updated.",
            user.id
        )));
    }
    for attr in Attribute::ALL {
        match (member_value(input, attr), ctx.semantics) {
            (Some(value), _) => user.set(attr, value),
            // Role cannot be cleared: a missing Role is "unchanged" in both modes.
            (None, UpdateSemantics::Replace) if attr != Attribute::Role => {
                user.set(attr, attr.empty_value())
            }
            (None, _) => {}
        }
    }
    user.normalize();
    Ok(json!({}))
}

fn create_user(input: &Value, ctx: OperationContext<'_>) -> Result<Value, ApiError> {
    let (org, name) = user_write(input, ctx.directory, "Name")?;
    let id = user_id_for(&org.id, name);
    if org.name_in_use(name) || org.users.contains_key(&id) {
        return Err(ApiError::client(
            "NameAvailabilityException",
            format!("User name {name} is already in use."),
        ));
    }
    let mut user = EmulatedUser {
        id: id.clone(),
        name: name.to_owned(),
        email: None,
        // A created user is unregistered (no mailbox) until RegisterToWorkMail.
        state: UserState::Disabled,
        role: str_member(input, "Role").map_or(Role::User, Role::parse),
        attributes: BTreeMap::new(),
        aliases: Vec::new(),
        mailbox_quota_mb: DEFAULT_MAILBOX_QUOTA_MB,
        enabled_date: None,
        disabled_date: Some(ctx.now),
    };
    // The members CreateUser takes come from the model, not a second list of names.
    let members = &model()?
        .shapes
        .get("CreateUserRequest")
        .ok_or_else(|| ApiError::internal("no CreateUserRequest shape"))?
        .members;
    for attr in Attribute::ALL {
        if attr != Attribute::Role
            && members.contains_key(attr.member())
            && let Some(value) = member_value(input, attr)
        {
            user.set(attr, value);
        }
    }
    user.normalize();
    org.insert_user(user);
    Ok(json!({ "UserId": id }))
}

/// Registers a user or a group: gives it its address (and a user a new mailbox with the
/// default quota) and enables it.
fn register_to_workmail(input: &Value, ctx: OperationContext<'_>) -> Result<Value, ApiError> {
    let now = ctx.now;
    let org = organization_mut(input, ctx.directory)?;
    let ident = required(input, "EntityId")?;
    let email = required(input, "Email")?;
    require_mail_domain(org, email)?;
    let entity = org.find_entity(ident).ok_or_else(|| ApiError::entity_not_found(ident))?;
    let id = entity.id().to_owned();
    if org.address_owner(email).is_some_and(|owner| owner != id) {
        return Err(ApiError::email_address_in_use(email));
    }
    let old = org.names_and_addresses(&id);
    let (state, address, enabled_date, disabled_date) = match &entity {
        Entity::User(id) => {
            let user = org.users.get_mut(id).ok_or_else(|| ApiError::entity_not_found(ident))?;
            if user.state == UserState::Disabled {
                user.mailbox_quota_mb = DEFAULT_MAILBOX_QUOTA_MB;
            }
            (&mut user.state, &mut user.email, &mut user.enabled_date, &mut user.disabled_date)
        }
        Entity::Group(id) => {
            let group = org.groups.get_mut(id).ok_or_else(|| ApiError::entity_not_found(ident))?;
            (&mut group.state, &mut group.email, &mut group.enabled_date, &mut group.disabled_date)
        }
    };
    match *state {
        UserState::Deleted => {
            return Err(ApiError::entity_state(format!(
                "The entity {id} is in state DELETED and cannot be registered."
            )));
        }
        UserState::Enabled => {
            return Err(ApiError::client(
                "EntityAlreadyRegisteredException",
                format!("The entity {id} is already registered."),
            ));
        }
        UserState::Disabled => {}
    }
    *address = Some(email.to_owned());
    *state = UserState::Enabled;
    *enabled_date = Some(now);
    *disabled_date = None;
    org.reindex(&id, &old);
    Ok(json!({}))
}

/// `MailDomainNotFoundException` unless `address` is in one of the organization's mail domains.
pub(super) fn require_mail_domain(org: &Organization, address: &str) -> Result<(), ApiError> {
    if org.has_domain_of(address) {
        return Ok(());
    }
    let domain = address.rsplit_once('@').map_or("", |(_, d)| d);
    Err(ApiError::client(
        "MailDomainNotFoundException",
        format!("The mail domain {domain} is not registered in the organization."),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_tokens_round_trip_and_refuse_foreign_ones() {
        let t = PageToken::encode("users", "abc", "id-1");
        assert_eq!(PageToken::decode(&t, "users", "abc").unwrap(), "id-1");
        assert!(PageToken::decode(&t, "users", "abd").is_err());
        assert!(PageToken::decode(&t, "organizations", "abc").is_err());
        assert!(PageToken::decode("not base64!", "users", "abc").is_err());
    }

    #[test]
    fn prefix_match_ignores_case_and_survives_multibyte() {
        assert!(starts_with_ignore_case("Alice", "al"));
        assert!(!starts_with_ignore_case("Al", "alice"));
        assert!(!starts_with_ignore_case("é", "\u{65}"));
        assert!(starts_with_ignore_case("x", ""));
    }
}
