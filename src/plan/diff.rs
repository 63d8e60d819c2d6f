//! The diff: desired state + comparison → [`Plan`]. Pure: no I/O, no async.

use super::comparison::{ComparedOrganization, ComparedUser, Comparison, ReadError};
use super::model::{FieldChange, Plan, PlanError, PlannedOrganization, UnchangedUser, UserChange};
use crate::model::live::{ObservedUser, UserState};
use crate::spec::{DesiredOrganization, DesiredState, DesiredUser};
use std::collections::HashMap;
use std::collections::hash_map::Entry;

/// The per-field changes of one user: only managed fields, in table order.
pub(crate) fn field_changes(user: &DesiredUser, observed: &ObservedUser) -> Vec<FieldChange> {
    user.fields
        .iter()
        .filter_map(|(field, desired)| {
            // Compared by reference: values are copied only for the fields that differ.
            let same = match observed.attributes.get(&field) {
                Some(live) => desired.is(live),
                None => desired.is(&field.empty_value()),
            };
            (!same).then(|| FieldChange {
                field,
                before: observed.get(field),
                after: desired.to_api(),
            })
        })
        .collect()
}

/// Compute the plan. `comparison.organizations[i]` describes `desired.organizations[i]`. The
/// comparison is consumed: its changes move into the plan instead of being copied.
pub(crate) fn diff(desired: &DesiredState, comparison: Comparison) -> Plan {
    let duplicates = declared_twice(desired, &comparison);
    let mut plan = Plan::default();
    for (index, (organization, observed)) in
        desired.organizations.iter().zip(comparison.organizations).enumerate()
    {
        let duplicate = |user: usize| duplicates.get(&(index, user));
        diff_organization(organization, observed, duplicate, &mut plan);
    }
    plan
}

fn diff_organization<'d>(
    desired: &DesiredOrganization,
    observed: ComparedOrganization,
    duplicate: impl Fn(usize) -> Option<&'d String>,
    plan: &mut Plan,
) {
    let resolved = match observed.resolved {
        Ok(resolved) => resolved,
        Err(message) => {
            plan.organizations
                .push(PlannedOrganization { id: desired.reference.to_string(), alias: None });
            plan.errors.push(PlanError {
                organization_id: desired.reference.to_string(),
                user: None,
                source: desired.source.to_string(),
                message,
            });
            return;
        }
    };
    let organization_id = resolved.id.clone();
    // Files may name one organization by its alias and by its id: list it once.
    match plan.organizations.iter_mut().find(|o| o.id == resolved.id) {
        Some(listed) => listed.alias = listed.alias.take().or(resolved.alias),
        None => {
            plan.organizations.push(PlannedOrganization { id: resolved.id, alias: resolved.alias })
        }
    }

    // An organization id that does not exist fails every DescribeUser the same way: say it once.
    if !observed.users.is_empty()
        && observed.users.iter().all(|u| matches!(u, Err(ReadError::OrganizationNotFound)))
    {
        plan.errors.push(PlanError {
            organization_id: organization_id.clone(),
            user: None,
            source: desired.source.to_string(),
            message: format!("organization {organization_id} not found"),
        });
        return;
    }

    for (index, (user, result)) in desired.users.iter().zip(observed.users).enumerate() {
        plan_user(&organization_id, user, result, duplicate(index), plan);
    }
}

/// One declared user's place in the plan: a change, unchanged, or the error that keeps it out.
fn plan_user(
    organization_id: &str,
    user: &DesiredUser,
    result: Result<ComparedUser, ReadError>,
    duplicate: Option<&String>,
    plan: &mut Plan,
) {
    let error = |message: String| PlanError {
        organization_id: organization_id.to_string(),
        user: Some(user.key.clone()),
        source: user.source.to_string(),
        message,
    };
    let live = match result {
        Ok(live) => live,
        Err(e) => return plan.errors.push(error(e.to_string())),
    };
    if let Some(message) = duplicate {
        return plan.errors.push(error(message.clone()));
    }
    if live.state == UserState::Deleted {
        let message = format!("user {} is DELETED and cannot be managed", live.user_id);
        return plan.errors.push(error(message));
    }
    let source = user.source.to_string();
    if live.changes.is_empty() && live.mailbox.is_none() {
        plan.unchanged.push(UnchangedUser {
            organization_id: organization_id.to_string(),
            user: user.key.clone(),
            user_id: live.user_id,
            source,
        });
    } else if let Some(role) = live.unmanageable_role {
        plan.errors
            .push(error(format!("user has role {role} which the API does not let anyone update")));
    } else {
        plan.changes.push(UserChange {
            organization_id: organization_id.to_string(),
            user: user.key.clone(),
            user_id: live.user_id,
            source,
            fields: live.changes,
            mailbox: live.mailbox,
        });
    }
}

/// Declarations that resolve to one user — the same user id in the same resolved organization,
/// however the files spell the organization (alias, alias in other case, id) and the user
/// (name, email, id) — keyed by (organization index, user index). Every one of them is an error
/// naming the others, because which declaration should win is not ours to guess.
fn declared_twice(
    desired: &DesiredState,
    comparison: &Comparison,
) -> HashMap<(usize, usize), String> {
    // (organization id, user id) -> the first declaration; only repeats get a list of places,
    // so 100,000 distinct users cost one map of borrowed ids and nothing more.
    let mut first: HashMap<(&str, &str), (usize, usize)> = HashMap::new();
    let mut repeated: HashMap<(&str, &str), Vec<(usize, usize)>> = HashMap::new();
    for (org, observed) in comparison.organizations.iter().enumerate() {
        let Ok(resolved) = &observed.resolved else { continue };
        for (index, result) in observed.users.iter().enumerate() {
            let Ok(live) = result else { continue };
            let place = (org, index);
            match first.entry((resolved.id.as_str(), live.user_id.as_str())) {
                Entry::Vacant(entry) => {
                    entry.insert(place);
                }
                Entry::Occupied(entry) => {
                    repeated.entry(*entry.key()).or_insert_with(|| vec![*entry.get()]).push(place)
                }
            }
        }
    }
    let mut messages = HashMap::new();
    for ((_, user_id), places) in repeated {
        for &place in &places {
            let here = &desired.organizations[place.0].reference;
            let others: Vec<String> = places
                .iter()
                .filter(|&&other| other != place)
                .map(|&(org, index)| {
                    let organization = &desired.organizations[org];
                    let user = &organization.users[index];
                    if organization.reference == *here {
                        format!("`{}` at {}", user.key, user.source)
                    } else {
                        format!(
                            "`{}` of organization `{}` at {}",
                            user.key, organization.reference, user.source
                        )
                    }
                })
                .collect();
            messages.insert(
                place,
                format!("resolves to user {user_id}, the same user as {}", others.join(", ")),
            );
        }
    }
    messages
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::attrs::{AttrKind, AttrValue, Attribute};
    use crate::model::live::ResolvedOrganization;
    use crate::plan::{ComparedOrganization, ComparedUser};
    use crate::spec::{DesiredValue, OrganizationRef, SourceLocation};
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    const ORG: &str = "m-0123456789abcdef0123456789abcdef";

    fn any_value(attr: Attribute) -> BoxedStrategy<AttrValue> {
        match attr.kind() {
            AttrKind::Bool => any::<bool>().prop_map(AttrValue::Bool).boxed(),
            AttrKind::Role => prop_oneof![Just("USER"), Just("REMOTE_USER")]
                .prop_map(|r| AttrValue::Text(r.into()))
                .boxed(),
            AttrKind::IdpUserId => prop_oneof![
                Just(String::new()),
                Just("01234567-89ab-cdef-0123-456789abcdef".to_string())
            ]
            .prop_map(AttrValue::Text)
            .boxed(),
            AttrKind::Text => prop_oneof![Just(String::new()), "[a-c ]{0,3}", "\\PC{0,8}"]
                .prop_map(AttrValue::Text)
                .boxed(),
        }
    }

    /// A full set of live attributes.
    fn any_live() -> impl Strategy<Value = BTreeMap<Attribute, AttrValue>> {
        Attribute::ALL
            .map(any_value)
            .prop_map(|values| Attribute::ALL.into_iter().zip(values).collect())
    }

    /// A desired user managing a random subset of fields.
    fn any_desired() -> impl Strategy<Value = BTreeMap<Attribute, DesiredValue>> {
        Attribute::ALL.map(|a| proptest::option::of(any_value(a))).prop_map(|values| {
            Attribute::ALL
                .into_iter()
                .zip(values)
                .filter_map(|(a, v)| v.map(|v| (a, desired_from_api(&v))))
                .collect()
        })
    }

    fn desired_from_api(value: &AttrValue) -> DesiredValue {
        match value {
            AttrValue::Bool(b) => DesiredValue::Bool(*b),
            AttrValue::Text(s) if s.is_empty() => DesiredValue::Empty,
            AttrValue::Text(s) => DesiredValue::Text(s.clone()),
        }
    }

    fn state(users: &[BTreeMap<Attribute, DesiredValue>]) -> DesiredState {
        let source = |line| SourceLocation { file: "f.yaml".into(), line, column: 3 };
        DesiredState {
            excluded: Vec::new(),
            targeted: false,
            files: vec!["f.yaml".into()],
            organizations: vec![crate::spec::DesiredOrganization {
                reference: OrganizationRef::Id(ORG.into()),
                source: source(1),
                users: users
                    .iter()
                    .enumerate()
                    .map(|(i, fields)| DesiredUser {
                        mailbox: None,
                        key: format!("user{i}"),
                        source: source(i + 3),
                        fields: fields.clone().into_iter().collect(),
                    })
                    .collect(),
            }],
        }
    }

    /// What the observe step makes of these live users for the users of `desired`.
    fn comparison(desired: &DesiredState, lives: &[BTreeMap<Attribute, AttrValue>]) -> Comparison {
        Comparison {
            organizations: vec![ComparedOrganization {
                resolved: Ok(ResolvedOrganization { id: ORG.into(), alias: None }),
                users: lives
                    .iter()
                    .zip(&desired.organizations[0].users)
                    .enumerate()
                    .map(|(i, (attributes, user))| {
                        let live = ObservedUser {
                            user_id: format!("id-{i}"),
                            name: format!("user{i}"),
                            email: None,
                            state: UserState::Enabled,
                            attributes: attributes.clone().into_iter().collect(),
                        };
                        Ok(ComparedUser::new(user, &live))
                    })
                    .collect(),
            }],
        }
    }

    fn plan_of(
        desired: &[BTreeMap<Attribute, DesiredValue>],
        lives: &[BTreeMap<Attribute, AttrValue>],
    ) -> Plan {
        let desired = state(desired);
        diff(&desired, comparison(&desired, lives))
    }

    proptest! {
        #[test]
        fn a_state_planned_against_itself_has_no_changes(lives in proptest::collection::vec(any_live(), 1..8)) {
            let desired: Vec<_> = lives
                .iter()
                .map(|live| live.iter().map(|(a, v)| (*a, desired_from_api(v))).collect())
                .collect();
            let plan = plan_of(&desired, &lives);
            prop_assert!(plan.changes.is_empty());
            prop_assert!(plan.errors.is_empty());
            prop_assert_eq!(plan.unchanged.len(), lives.len());
        }

        #[test]
        fn applying_the_changes_leaves_nothing_to_do_and_unmanaged_fields_never_appear(
            pairs in proptest::collection::vec((any_desired(), any_live()), 1..8)
        ) {
            let (desired, mut lives): (Vec<_>, Vec<_>) = pairs.into_iter().unzip();
            let plan = plan_of(&desired, &lives);
            for change in &plan.changes {
                let index: usize = change.user.trim_start_matches("user").parse().expect("index");
                for field in &change.fields {
                    prop_assert!(desired[index].contains_key(&field.field), "unmanaged field planned");
                    prop_assert_eq!(&lives[index][&field.field], &field.before);
                    lives[index].insert(field.field, field.after.clone());
                }
            }
            let again = plan_of(&desired, &lives);
            prop_assert!(again.changes.is_empty(), "{:?}", again.changes);
            prop_assert_eq!(again.unchanged.len(), desired.len());
        }
    }

    /// Two organizations of the desired state (two spellings, or two organizations) with one
    /// user each, observed with these resolved ids and user ids.
    fn two_organizations(resolved: [&str; 2], user_ids: [&str; 2]) -> Plan {
        let mut desired = state(&[BTreeMap::from([(Attribute::City, DesiredValue::Empty)])]);
        let mut second = desired.organizations[0].clone();
        second.reference = OrganizationRef::Alias("ACME".into());
        second.users[0].key = "bob@acme.example".into();
        second.users[0].source.file = "g.yaml".into();
        desired.organizations.push(second);
        let organizations = resolved
            .iter()
            .zip(user_ids)
            .zip(&desired.organizations)
            .map(|((id, user_id), organization)| {
                let live = ObservedUser {
                    user_id: user_id.into(),
                    name: "bob".into(),
                    email: None,
                    state: UserState::Enabled,
                    attributes: [(Attribute::City, AttrValue::Text("Oslo".into()))]
                        .into_iter()
                        .collect(),
                };
                ComparedOrganization {
                    resolved: Ok(ResolvedOrganization { id: (*id).into(), alias: None }),
                    users: vec![Ok(ComparedUser::new(&organization.users[0], &live))],
                }
            })
            .collect();
        diff(&desired, Comparison { organizations })
    }

    #[test]
    fn one_user_under_two_spellings_of_its_organization_is_an_error_at_each_place() {
        let plan = two_organizations([ORG, ORG], ["u-1", "u-1"]);
        assert_eq!(plan.changes, []);
        let errors: Vec<(&str, Option<&str>, &str)> = plan
            .errors
            .iter()
            .map(|e| (e.source.as_str(), e.user.as_deref(), e.message.as_str()))
            .collect();
        assert_eq!(
            errors,
            [
                (
                    "f.yaml:3",
                    Some("user0"),
                    "resolves to user u-1, the same user as `bob@acme.example` of organization \
                     `ACME` at g.yaml:3"
                ),
                (
                    "g.yaml:3",
                    Some("bob@acme.example"),
                    "resolves to user u-1, the same user as `user0` of organization \
                     `m-0123456789abcdef0123456789abcdef` at f.yaml:3"
                ),
            ]
        );
        assert_eq!(plan.organizations.len(), 1, "one organization, listed once");
    }

    #[test]
    fn one_user_id_in_two_organizations_is_two_users() {
        let other = "m-fedcba9876543210fedcba9876543210";
        let plan = two_organizations([ORG, other], ["u-1", "u-1"]);
        assert_eq!(plan.errors, []);
        assert_eq!(plan.changes.len(), 2);
        assert_eq!(plan.organizations.len(), 2);
    }

    #[test]
    fn live_absent_equals_empty_and_strings_compare_exactly() {
        let mut live: BTreeMap<Attribute, AttrValue> = BTreeMap::new();
        live.insert(Attribute::Office, AttrValue::Text("HQ ".into()));
        let desired = BTreeMap::from([
            (Attribute::City, DesiredValue::Empty),
            (Attribute::Office, DesiredValue::Text("HQ".into())),
        ]);
        let plan = plan_of(&[desired], &[live]);
        let fields: Vec<Attribute> = plan.changes[0].fields.iter().map(|f| f.field).collect();
        assert_eq!(
            fields,
            vec![Attribute::Office],
            "absent city equals empty; trailing space differs"
        );
    }
}
