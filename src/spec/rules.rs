//! What each attribute may be set to, as one set of rules: validation applies them to the
//! files, the saved-plan reader to a plan read back, so neither accepts what the other refuses.

use crate::model::attrs::{
    AttrKind, AttrValue, Attribute, IDP_USER_ID_MAX_CHARS, IDP_USER_ID_PATTERN,
};
use crate::model::attrs::{Role, TEXT_MAX_CHARS};
use regex_lite::Regex;
use std::sync::LazyLock;

/// A value an attribute may not be set to.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum BadValue {
    #[error("`{}` is {len} characters long; at most {TEXT_MAX_CHARS} are allowed", attr.key())]
    TooLong { attr: Attribute, len: usize },
    #[error("`{}` `{value}` is not an identity provider user id", attr.key())]
    NotAnIdpUserId { attr: Attribute, value: String },
    #[error(
        "role `{0}` cannot be set: WorkMail only lets UpdateUser set {allowed}",
        allowed = Role::SETTABLE_NAMES.join(" or ")
    )]
    RoleNotSettable(Role),
    #[error("unknown role `{0}`")]
    UnknownRole(String),
    #[error("`{}` must be {}", attr.key(), expected(*attr))]
    WrongType { attr: Attribute },
}

/// What an attribute holds, in words.
pub(crate) fn expected(attr: Attribute) -> String {
    match attr.kind() {
        AttrKind::Bool => "true or false".to_string(),
        AttrKind::Role => Role::SETTABLE_NAMES.join(" or "),
        AttrKind::Text | AttrKind::IdpUserId => "a string".to_string(),
    }
}

/// How an identity provider user id is written.
pub(crate) const IDP_USER_ID_HELP: &str = "an IAM Identity Center user id is a UUID (8-4-4-4-12 hex \
    digits), optionally prefixed by 10 lowercase hex digits and `-`, at most 47 characters; \
    `\"\"` or null clears it";

/// Check the string `s` as a value of `attr` (`""` clears a text or IdP id; a role cannot be
/// cleared). A boolean attribute takes no string.
pub(crate) fn check_text(attr: Attribute, s: &str) -> Result<(), BadValue> {
    match attr.kind() {
        AttrKind::Text => {
            let len = s.chars().count();
            if len > TEXT_MAX_CHARS {
                return Err(BadValue::TooLong { attr, len });
            }
        }
        AttrKind::IdpUserId => {
            if !s.is_empty() && !is_idp_user_id(s) {
                return Err(BadValue::NotAnIdpUserId { attr, value: s.to_string() });
            }
        }
        AttrKind::Role => {
            let role = Role::parse(s);
            if role.is_known() && !role.is_settable() {
                return Err(BadValue::RoleNotSettable(role));
            }
            if !role.is_known() {
                return Err(BadValue::UnknownRole(s.to_string()));
            }
        }
        AttrKind::Bool => return Err(BadValue::WrongType { attr }),
    }
    Ok(())
}

/// Check `value` as a value `attr` may be set to: the type, then [`check_text`].
pub(crate) fn check_value(attr: Attribute, value: &AttrValue) -> Result<(), BadValue> {
    match (attr.kind(), value) {
        (AttrKind::Bool, AttrValue::Bool(_)) => Ok(()),
        (_, AttrValue::Text(s)) => check_text(attr, s),
        (_, AttrValue::Bool(_)) => Err(BadValue::WrongType { attr }),
    }
}

/// Whether `s` is an identity provider user id: [`IDP_USER_ID_PATTERN`], at most
/// [`IDP_USER_ID_MAX_CHARS`] characters.
fn is_idp_user_id(s: &str) -> bool {
    static PATTERN: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(IDP_USER_ID_PATTERN).expect("the IdP user id pattern compiles")
    });
    s.len() <= IDP_USER_ID_MAX_CHARS && PATTERN.is_match(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idp_user_ids() {
        assert!(is_idp_user_id("a1b2c3d4-e5f6-7890-abcd-ef1234567890"));
        assert!(is_idp_user_id("A1B2C3D4-E5F6-7890-ABCD-EF1234567890"));
        assert!(is_idp_user_id("0123456789-a1b2c3d4-e5f6-7890-abcd-ef1234567890"));
        assert!(is_idp_user_id("0123456789-A1B2C3D4-E5F6-4A5B-8C9D-0E1F2A3B4C5D"));
        // The prefix is lowercase only; groups have their exact lengths; nothing around.
        assert!(!is_idp_user_id("012345678A-a1b2c3d4-e5f6-7890-abcd-ef1234567890"));
        assert!(!is_idp_user_id("a1b2c3d4-e5f6-7890-abcd-ef123456789"));
        assert!(!is_idp_user_id("a1b2c3d4e5f67890abcdef1234567890"));
        assert!(!is_idp_user_id(" a1b2c3d4-e5f6-7890-abcd-ef1234567890"));
        assert!(!is_idp_user_id("a1b2c3d4-e5f6-7890-abcd-ef1234567890\n"));
        assert!(!is_idp_user_id(""));
    }

    #[test]
    fn each_kind_has_its_rule() {
        use Attribute::*;
        assert_eq!(check_text(City, &"x".repeat(256)), Ok(()));
        assert_eq!(
            check_text(City, &"é".repeat(257)),
            Err(BadValue::TooLong { attr: City, len: 257 })
        );
        assert_eq!(check_text(IdentityProviderUserId, ""), Ok(()));
        assert_eq!(
            check_text(IdentityProviderUserId, "x").map_err(|e| e.to_string()),
            Err("`identity_provider_user_id` `x` is not an identity provider user id".into())
        );
        assert_eq!(check_text(Role, "REMOTE_USER"), Ok(()));
        assert_eq!(
            check_text(Role, "SYSTEM_USER").map_err(|e| e.to_string()),
            Err("role `SYSTEM_USER` cannot be set: WorkMail only lets UpdateUser set USER or \
                 REMOTE_USER"
                .into())
        );
        assert_eq!(check_text(Role, ""), Err(BadValue::UnknownRole(String::new())));
        assert_eq!(
            check_value(HiddenFromGlobalAddressList, &AttrValue::from("true"))
                .map_err(|e| e.to_string()),
            Err("`hidden_from_global_address_list` must be true or false".into())
        );
        assert_eq!(
            check_value(City, &AttrValue::Bool(true)),
            Err(BadValue::WrongType { attr: City })
        );
        assert_eq!(check_value(HiddenFromGlobalAddressList, &AttrValue::Bool(false)), Ok(()));
    }
}
