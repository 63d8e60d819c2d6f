//! The unmanaged step: the live users of the planned organizations whom no file declares — a
//! new hire created in the console, say. Calls: one ListUsers per page of 100 users of each
//! planned organization, made alongside the DescribeUser calls of the observe step and under
//! the same limiter.
//!
//! A live user is declared when a declaration of its organization (planned or excluded, under
//! whichever spelling of the organization) names it by user id, user name or primary email
//! address, compared case-insensitively as WorkMail compares them, or when DescribeUser answered
//! a declaration with its user id. The first rule alone recognises a declaration whose
//! DescribeUser failed, so a failed read never makes a declared user look unmanaged.

use crate::directory::{Directory, DirectoryError, run_bounded};
use crate::model::live::{ListedUser, ResolvedOrganization};
use crate::plan::{Comparison, Plan, PlanError, UnmanagedUser};
use crate::spec::{DesiredState, DesiredUser, SourceLocation};
use std::collections::{HashMap, HashSet};

/// What a run does about live users whom no file declares.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum UnmanagedPolicy {
    /// List them in the plan; they change nothing else.
    #[default]
    Report,
    /// Do not look for them: no ListUsers call.
    Ignore,
    /// List them, and make each one an error entry of the plan.
    Error,
}

/// The keys of the declarations of one organization, case-folded, each with whether a listed
/// user was found that it names.
#[derive(Debug, Clone, Default)]
pub(crate) struct DeclaredKeys {
    keys: HashMap<String, bool>,
    users_named: usize,
}

impl DeclaredKeys {
    /// The keys of these declarations.
    pub(crate) fn new<'a>(users: impl IntoIterator<Item = &'a DesiredUser>) -> DeclaredKeys {
        let keys = users.into_iter().map(|u| (u.key.to_lowercase(), false)).collect();
        DeclaredKeys { keys, users_named: 0 }
    }

    /// Whether a declaration names `user` by its id, name or primary email address; the keys
    /// that do are marked as naming a listed user.
    fn names(&mut self, user: &ListedUser) -> bool {
        let mut named = false;
        let spellings = [Some(&user.user_id), Some(&user.name), user.email.as_ref()];
        for spelling in spellings.into_iter().flatten() {
            if let Some(found) = self.keys.get_mut(&spelling.to_lowercase()) {
                *found = true;
                named = true;
            }
        }
        self.users_named += usize::from(named);
        named
    }

    /// How many users [`DeclaredKeys::names`] found named.
    pub(crate) fn users_named(&self) -> usize {
        self.users_named
    }

    /// The keys that named no user so far, sorted: declarations of a user that does not exist
    /// (or was not listed), or keys that only DescribeUser can resolve.
    pub(crate) fn naming_nobody(&self) -> Vec<&str> {
        let mut keys: Vec<&str> =
            self.keys.iter().filter(|(_, named)| !**named).map(|(k, _)| k.as_str()).collect();
        keys.sort_unstable();
        keys
    }
}

/// The users of `organization_id` that the declarations of `keys` do not name and that can be
/// managed, read one page at a time so that an organization of 100,000 declared users is never
/// held in memory whole. Users beyond management (`DELETED`, roles `SYSTEM_USER` and
/// `RESOURCE`) go to `left_out` with the reason.
pub(crate) async fn list_undeclared<D: Directory>(
    directory: &D,
    organization_id: &str,
    keys: &mut DeclaredKeys,
    mut left_out: impl FnMut(ListedUser, String) + Send,
) -> Result<Vec<ListedUser>, DirectoryError> {
    let mut undeclared = Vec::new();
    directory
        .list_users_pages(organization_id, |page| {
            for user in page {
                match user.left_out_reason() {
                    Some(reason) => left_out(user, reason),
                    None if keys.names(&user) => {}
                    None => undeclared.push(user),
                }
            }
        })
        .await?;
    Ok(undeclared)
}

/// One planned organization's listing: the users no key names, or why they could not be listed.
#[derive(Debug)]
pub(crate) struct Listing {
    organization_id: String,
    /// Where the organization is first named, for its error entries.
    source: SourceLocation,
    undeclared: Result<Vec<ListedUser>, DirectoryError>,
}

/// List the undeclared users of every organization that `planned` resolved (each id once,
/// whatever spellings the files use), concurrently, at most `width` organizations at a time.
/// `planned[i]` and `excluded[i]` are the resolutions of `desired.organizations[i]` and
/// `desired.excluded[i]`.
pub(crate) async fn list_unmanaged<D: Directory + Clone + 'static>(
    directory: &D,
    desired: &DesiredState,
    planned: &[Result<ResolvedOrganization, String>],
    excluded: &[Result<ResolvedOrganization, String>],
    width: usize,
) -> Vec<Listing> {
    // (organization id, first source, declarations) in plan order.
    let mut organizations: Vec<(String, SourceLocation, Vec<&DesiredUser>)> = Vec::new();
    for (organization, resolution) in desired.organizations.iter().zip(planned) {
        let Ok(resolved) = resolution else { continue };
        match organizations.iter_mut().find(|(id, ..)| *id == resolved.id) {
            Some((.., users)) => users.extend(&organization.users),
            None => organizations.push((
                resolved.id.clone(),
                organization.source.clone(),
                organization.users.iter().collect(),
            )),
        }
    }
    for (organization, resolution) in desired.excluded.iter().zip(excluded) {
        let Ok(resolved) = resolution else { continue };
        if let Some((.., users)) = organizations.iter_mut().find(|(id, ..)| *id == resolved.id) {
            users.extend(&organization.users);
        }
    }
    let jobs: Vec<(String, SourceLocation, DeclaredKeys)> = organizations
        .into_iter()
        .map(|(id, source, users)| (id, source, DeclaredKeys::new(users)))
        .collect();
    run_bounded(
        jobs,
        width,
        |(organization_id, source, mut keys)| {
            let directory = directory.clone();
            async move {
                let undeclared =
                    list_undeclared(&directory, &organization_id, &mut keys, |_, _| {}).await;
                Listing { organization_id, source, undeclared }
            }
        },
        |_| {},
    )
    .await
}

/// Drop from the listings every user whose id DescribeUser answered for a declaration of its
/// organization: declared by a key that only DescribeUser resolves. Usually nothing is left to
/// drop, so only the few undeclared ids are held, not every described one.
pub(crate) fn drop_described(listings: &mut [Listing], comparison: &Comparison) {
    for listing in listings {
        let Ok(undeclared) = &mut listing.undeclared else { continue };
        if undeclared.is_empty() {
            continue;
        }
        let described: HashSet<String> = {
            let candidates: HashSet<&str> = undeclared.iter().map(|u| u.user_id.as_str()).collect();
            comparison
                .organizations
                .iter()
                .filter(|o| o.resolved.as_ref().is_ok_and(|r| r.id == listing.organization_id))
                .flat_map(|o| o.users.iter().flatten())
                .filter(|u| candidates.contains(u.user_id.as_str()))
                .map(|u| u.user_id.clone())
                .collect()
        };
        undeclared.retain(|u| !described.contains(&u.user_id));
    }
}

/// Put the listings into the plan: `plan.unmanaged` by organization in plan order, then by name;
/// with [`UnmanagedPolicy::Error`] an error entry per user too. A listing that failed is an
/// organization-level error entry (once: an organization that does not exist is reported by
/// the observe step already).
pub(crate) fn record(plan: &mut Plan, listings: Vec<Listing>, policy: UnmanagedPolicy) {
    let mut unmanaged = Vec::new();
    for listing in listings {
        let Listing { organization_id, source, undeclared } = listing;
        let organization_error = |message: String| PlanError {
            organization_id: organization_id.clone(),
            user: None,
            source: source.to_string(),
            message,
        };
        let mut users = match undeclared {
            Ok(users) => users,
            Err(DirectoryError::OrganizationNotFound) => {
                let reported = plan
                    .errors
                    .iter()
                    .any(|e| e.user.is_none() && e.organization_id == organization_id);
                if !reported {
                    plan.errors.push(organization_error(format!(
                        "organization {organization_id} not found"
                    )));
                }
                continue;
            }
            Err(error) => {
                plan.errors.push(organization_error(format!(
                    "cannot look for users in no file: ListUsers failed: {error}"
                )));
                continue;
            }
        };
        users.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.user_id.cmp(&b.user_id)));
        for user in users {
            if policy == UnmanagedPolicy::Error {
                let email = user.email.as_deref().map(|e| format!(" ({e})")).unwrap_or_default();
                plan.errors.push(PlanError {
                    organization_id: organization_id.clone(),
                    user: Some(user.name.clone()),
                    source: source.to_string(),
                    message: format!("user {}{email} is in no file", user.user_id),
                });
            }
            unmanaged.push(UnmanagedUser {
                organization_id: organization_id.clone(),
                user: user.name,
                user_id: user.user_id,
                email: user.email,
                state: user.state,
            });
        }
    }
    plan.unmanaged = Some(unmanaged);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::live::UserState;
    use crate::spec::DesiredFields;

    fn listed(id: &str, name: &str, email: Option<&str>) -> ListedUser {
        ListedUser {
            user_id: id.into(),
            name: name.into(),
            email: email.map(str::to_string),
            state: UserState::Enabled,
            role: "USER".into(),
        }
    }

    fn declared(key: &str) -> DesiredUser {
        DesiredUser {
            mailbox: None,
            key: key.into(),
            source: SourceLocation { file: "f.yaml".into(), line: 3, column: 3 },
            fields: DesiredFields::default(),
        }
    }

    fn listing(
        organization_id: &str,
        undeclared: Result<Vec<ListedUser>, DirectoryError>,
    ) -> Listing {
        Listing {
            organization_id: organization_id.into(),
            source: SourceLocation { file: "f.yaml".into(), line: 1, column: 15 },
            undeclared,
        }
    }

    #[test]
    fn record_sorts_by_name_and_makes_errors_only_when_asked() {
        let users = || Ok(vec![listed("u-2", "zoe", None), listed("u-1", "dan", Some("dan@x"))]);
        let mut report = Plan::default();
        record(&mut report, vec![listing("m-1", users())], UnmanagedPolicy::Report);
        let names: Vec<&str> = report.unmanaged.iter().flatten().map(|u| u.user.as_str()).collect();
        assert_eq!(names, ["dan", "zoe"]);
        assert_eq!(report.errors, []);
        assert_eq!(report.summary().unmanaged, Some(2));

        let mut error = Plan::default();
        record(&mut error, vec![listing("m-1", users())], UnmanagedPolicy::Error);
        let entry = |user: &str, message: &str| PlanError {
            organization_id: "m-1".into(),
            user: Some(user.into()),
            source: "f.yaml:1".into(),
            message: message.into(),
        };
        assert_eq!(
            error.errors,
            [
                entry("dan", "user u-1 (dan@x) is in no file"),
                entry("zoe", "user u-2 is in no file")
            ]
        );
        let summary = error.summary();
        assert_eq!((summary.users, summary.errors, summary.unmanaged), (0, 2, Some(2)));
    }

    #[test]
    fn record_reports_a_missing_organization_once() {
        let mut plan = Plan::default();
        plan.errors.push(PlanError {
            organization_id: "m-1".into(),
            user: None,
            source: "f.yaml:1".into(),
            message: "organization m-1 not found".into(),
        });
        let missing = || Err(DirectoryError::OrganizationNotFound);
        record(
            &mut plan,
            vec![listing("m-1", missing()), listing("m-2", missing())],
            UnmanagedPolicy::Report,
        );
        let errors: Vec<&str> = plan.errors.iter().map(|e| e.message.as_str()).collect();
        assert_eq!(errors, ["organization m-1 not found", "organization m-2 not found"]);
        assert_eq!(plan.unmanaged, Some(Vec::new()));
    }

    #[test]
    fn users_described_for_a_declaration_of_their_organization_are_declared() {
        use crate::plan::{ComparedOrganization, ComparedUser};
        let compared = |id: &str| ComparedUser {
            mailbox: None,
            user_id: id.into(),
            state: UserState::Enabled,
            unmanageable_role: None,
            changes: Vec::new(),
        };
        let organization = |id: &str, users| ComparedOrganization {
            resolved: Ok(ResolvedOrganization { id: id.into(), alias: None }),
            users,
        };
        let comparison = Comparison {
            organizations: vec![
                organization(
                    "m-1",
                    vec![Ok(compared("u-1")), Err(crate::plan::ReadError::Failed("x".into()))],
                ),
                // The same user id in another organization is another user.
                organization("m-2", vec![Ok(compared("u-2"))]),
            ],
        };
        let mut listings = vec![listing(
            "m-1",
            Ok(vec![listed("u-1", "alias-declared", None), listed("u-2", "dan", None)]),
        )];
        drop_described(&mut listings, &comparison);
        let left: Vec<&str> =
            listings[0].undeclared.iter().flatten().map(|u| u.name.as_str()).collect();
        assert_eq!(left, ["dan"]);
    }

    #[test]
    fn keys_name_a_user_by_id_name_or_email_in_any_case() {
        let users = [declared("Alice"), declared("BOB@acme.example"), declared("U-3")];
        let mut keys = DeclaredKeys::new(&users);
        assert_eq!(keys.naming_nobody(), ["alice", "bob@acme.example", "u-3"]);
        assert!(keys.names(&listed("u-1", "alice", None)));
        assert_eq!(keys.naming_nobody(), ["bob@acme.example", "u-3"]);
        assert!(keys.names(&listed("u-2", "robert", Some("bob@ACME.example"))));
        assert!(keys.names(&listed("u-3", "carol", None)));
        assert!(!keys.names(&listed("u-4", "dan", Some("alice.l@acme.example"))));
        assert_eq!(keys.naming_nobody(), Vec::<&str>::new());
        assert_eq!(keys.users_named(), 3);
    }
}
