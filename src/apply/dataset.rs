//! The UpdateUser request: the full dataset, as the API asks ("the dataset expected when
//! performing another DescribeUser call"). Every updatable attribute is sent — the fresh live
//! value overlaid with the planned values — so the request is correct whether the service treats
//! a left-out member as unchanged or as cleared, and harmless when retried after a lost answer.

use crate::directory::UpdateRequest;
use crate::model::attrs::Attribute;
use crate::model::live::ObservedUser;
use crate::plan::FieldChange;

/// Build the request for `fresh` with `changes` applied. `Role` is sent only when it changes,
/// because the API refuses `SYSTEM_USER` and `RESOURCE` even when unchanged.
pub(crate) fn full_dataset(
    organization_id: &str,
    fresh: &ObservedUser,
    changes: &[FieldChange],
) -> UpdateRequest {
    let attributes = Attribute::ALL
        .into_iter()
        .filter_map(|attr| {
            let planned = changes.iter().find(|c| c.field == attr).map(|c| c.after.clone());
            let live = fresh.get(attr);
            match (attr, planned) {
                (Attribute::Role, Some(after)) if after != live => Some((attr, after)),
                (Attribute::Role, _) => None,
                (_, Some(after)) => Some((attr, after)),
                (_, None) => Some((attr, live)),
            }
        })
        .collect();
    UpdateRequest {
        organization_id: organization_id.to_string(),
        user_id: fresh.user_id.clone(),
        attributes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::attr_map::AttrMap;
    use crate::model::attrs::AttrValue;
    use crate::model::live::UserState;

    fn fresh() -> ObservedUser {
        let mut attributes: AttrMap<AttrValue> =
            Attribute::ALL.into_iter().map(|a| (a, a.empty_value())).collect();
        attributes.insert(Attribute::Office, AttrValue::Text("HQ".into()));
        attributes.insert(Attribute::Role, AttrValue::Text("USER".into()));
        ObservedUser {
            user_id: "u-1".into(),
            name: "alice".into(),
            email: None,
            state: UserState::Enabled,
            attributes,
        }
    }

    #[test]
    fn carries_every_attribute_but_an_unchanged_role() {
        let changes = [FieldChange {
            field: Attribute::DisplayName,
            before: AttrValue::Text(String::new()),
            after: AttrValue::Text("Alice".into()),
        }];
        let request = full_dataset("m-1", &fresh(), &changes);
        assert_eq!(request.attributes.len(), 15);
        assert!(!request.attributes.contains_key(&Attribute::Role));
        assert_eq!(request.attributes[&Attribute::DisplayName], AttrValue::Text("Alice".into()));
        assert_eq!(request.attributes[&Attribute::Office], AttrValue::Text("HQ".into()));
        assert_eq!(
            request.attributes[&Attribute::HiddenFromGlobalAddressList],
            AttrValue::Bool(false)
        );
    }

    #[test]
    fn sends_role_only_when_it_changes() {
        let change = |after: &str| FieldChange {
            field: Attribute::Role,
            before: AttrValue::Text("USER".into()),
            after: AttrValue::Text(after.into()),
        };
        let request = full_dataset("m-1", &fresh(), &[change("REMOTE_USER")]);
        assert_eq!(request.attributes[&Attribute::Role], AttrValue::Text("REMOTE_USER".into()));
        let request = full_dataset("m-1", &fresh(), &[change("USER")]);
        assert!(!request.attributes.contains_key(&Attribute::Role));
    }
}
