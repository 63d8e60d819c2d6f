//! `export --format m365-csv`: the Microsoft 365 admin center's "Add multiple users" template
//! (Users > Active users > Add multiple users), its headings in its order, one row per user the
//! template can take. The template requires User Name and Display Name: a user without an email
//! address or a display name is left out, and returned so that it can be reported.

use super::csv::rfc4180_writer;
use super::spreadsheet::Cells;
use super::{ExportedOrganization, ExportedUser, SkippedUser};
use crate::model::attrs::Attribute;
use std::fmt;
use std::io::Write;

/// Where a template column's value comes from.
#[derive(Clone, Copy)]
enum ColumnSource {
    /// The primary email address, its domain replaced by `--email-domain` when given.
    UserName,
    Attribute(Attribute),
    /// WorkMail has no such attribute: the cell stays empty.
    Nothing,
}

/// The template's columns in its order, each with its source.
const COLUMNS: [(&str, ColumnSource); 16] = [
    ("User Name", ColumnSource::UserName),
    ("First Name", ColumnSource::Attribute(Attribute::FirstName)),
    ("Last Name", ColumnSource::Attribute(Attribute::LastName)),
    ("Display Name", ColumnSource::Attribute(Attribute::DisplayName)),
    ("Job Title", ColumnSource::Attribute(Attribute::JobTitle)),
    ("Department", ColumnSource::Attribute(Attribute::Department)),
    ("Office Number", ColumnSource::Attribute(Attribute::Office)),
    ("Office Phone", ColumnSource::Attribute(Attribute::Telephone)),
    ("Mobile Phone", ColumnSource::Nothing),
    ("Fax", ColumnSource::Nothing),
    ("Alternate email address", ColumnSource::Nothing),
    ("Address", ColumnSource::Attribute(Attribute::Street)),
    ("City", ColumnSource::Attribute(Attribute::City)),
    ("State or Province", ColumnSource::Nothing),
    ("ZIP or Postal Code", ColumnSource::Attribute(Attribute::ZipCode)),
    ("Country or Region", ColumnSource::Attribute(Attribute::Country)),
];

/// The template's headings, in its order.
const M365_HEADINGS: [&str; 16] = {
    let mut headings = [""; 16];
    let mut i = 0;
    while i < COLUMNS.len() {
        headings[i] = COLUMNS[i].0;
        i += 1;
    }
    headings
};

/// A DNS domain name for `--email-domain` (`contoso.onmicrosoft.com`): two or more labels of
/// ASCII letters, digits and inner hyphens, each at most 63 characters, at most 253 in all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailDomain(String);

impl EmailDomain {
    /// Check `s`, saying what is wrong and what is allowed.
    pub(crate) fn parse(s: &str) -> Result<EmailDomain, String> {
        let problem = if s.is_empty() {
            Some("it is empty".to_string())
        } else if let Some(rest) = s.strip_prefix('@') {
            Some(format!("write it without the @ (`{rest}`)"))
        } else if s.contains('@') {
            Some("it contains an @; give only the part after it".to_string())
        } else if !s.is_ascii() {
            Some(
                "it has non-ASCII characters; write an internationalized domain in its xn-- form"
                    .to_string(),
            )
        } else if s.len() > 253 {
            Some(format!("it has {} characters, at most 253 are allowed", s.len()))
        } else if !s.contains('.') {
            Some("it has a single label; a domain has at least two, like contoso.com".to_string())
        } else {
            s.split('.').find_map(label_problem)
        };
        match problem {
            None => Ok(EmailDomain(s.to_string())),
            Some(problem) => Err(format!(
                "`{s}` is not a domain name: {problem} (expected a domain such as \
                 contoso.onmicrosoft.com: labels of letters, digits and inner hyphens, \
                 separated by dots)"
            )),
        }
    }
}

fn label_problem(label: &str) -> Option<String> {
    if label.is_empty() {
        Some("it has an empty label (two dots in a row, or a dot at either end)".to_string())
    } else if label.len() > 63 {
        Some(format!("the label `{label}` has {} characters, at most 63 are allowed", label.len()))
    } else if let Some(c) = label.chars().find(|c| !c.is_ascii_alphanumeric() && *c != '-') {
        Some(format!("the label `{label}` has the character `{}`", c.escape_default()))
    } else if label.starts_with('-') || label.ends_with('-') {
        Some(format!("the label `{label}` starts or ends with a hyphen"))
    } else {
        None
    }
}

impl fmt::Display for EmailDomain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The User Name of `user`, or why the template cannot take the user.
pub(super) fn user_name(
    user: &ExportedUser,
    domain: Option<&EmailDomain>,
) -> Result<String, SkippedUser> {
    let email = user.email.as_deref().filter(|e| !e.trim().is_empty());
    let has_display_name = !user.text(Attribute::DisplayName).trim().is_empty();
    let missing = match (email.is_some(), has_display_name) {
        (true, true) => None,
        (false, true) => Some("no email address"),
        (true, false) => Some("no display name"),
        (false, false) => Some("no email address and no display name"),
    };
    let left_out = |reason: String| SkippedUser { name: user.name.clone(), reason };
    if let Some(missing) = missing {
        return Err(left_out(format!(
            "{missing}; the Microsoft 365 template requires User Name and Display Name"
        )));
    }
    let email = email.unwrap_or_default();
    match domain {
        None => Ok(email.to_string()),
        Some(domain) => match email.rsplit_once('@') {
            Some((local, _)) => Ok(format!("{local}@{domain}")),
            None => Err(left_out(format!(
                "its email address has no @, so --email-domain {domain} cannot replace its domain"
            ))),
        },
    }
}

/// Write the template's heading row and a row per user it can take; return the users left out
/// (in the order of `export`), each with the reason.
pub(crate) fn write_m365_csv<W: Write>(
    export: &ExportedOrganization,
    domain: Option<&EmailDomain>,
    cells: &mut Cells,
    out: W,
) -> std::io::Result<Vec<SkippedUser>> {
    let mut writer = rfc4180_writer(out);
    cells.write_record(&mut writer, M365_HEADINGS)?;
    let mut left_out = Vec::new();
    for user in &export.users {
        let user_name = match user_name(user, domain) {
            Ok(user_name) => user_name,
            Err(skipped) => {
                left_out.push(skipped);
                continue;
            }
        };
        let row = COLUMNS.iter().map(|(_, source)| match source {
            ColumnSource::UserName => user_name.as_str(),
            ColumnSource::Attribute(attr) => user.text(*attr),
            ColumnSource::Nothing => "",
        });
        cells.write_record(&mut writer, row)?;
    }
    writer.flush()?;
    Ok(left_out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::attrs::AttrValue;
    use crate::model::live::UserState;

    fn user(name: &str, email: Option<&str>, display_name: &str) -> ExportedUser {
        ExportedUser {
            user_id: format!("u-{name}"),
            name: name.into(),
            email: email.map(str::to_string),
            state: UserState::Enabled,
            attributes: vec![(Attribute::DisplayName, AttrValue::from(display_name))],
            mailbox: Default::default(),
        }
    }

    #[test]
    fn m365_headings_are_the_template_in_its_order() {
        assert_eq!(
            M365_HEADINGS.join(","),
            "User Name,First Name,Last Name,Display Name,Job Title,Department,Office Number,\
             Office Phone,Mobile Phone,Fax,Alternate email address,Address,City,\
             State or Province,ZIP or Postal Code,Country or Region"
        );
    }

    #[test]
    fn email_domain_accepts_domain_names() {
        for ok in ["contoso.com", "contoso.onmicrosoft.com", "a-b.x1.io", "xn--bcher-kva.example"] {
            assert_eq!(EmailDomain::parse(ok).map(|d| d.to_string()), Ok(ok.to_string()));
        }
    }

    #[test]
    fn email_domain_rejects_what_is_not_a_domain_and_says_why() {
        let why = |s: &str| EmailDomain::parse(s).expect_err(s);
        assert!(why("@contoso.com").contains("write it without the @ (`contoso.com`)"));
        assert!(why("bob@contoso.com").contains("contains an @"));
        assert!(why("").contains("it is empty"));
        assert!(why("contoso").contains("single label"));
        assert!(why("contoso..com").contains("empty label"));
        assert!(why("contoso.com.").contains("empty label"));
        assert!(why("-contoso.com").contains("starts or ends with a hyphen"));
        assert!(why("con toso.com").contains("the label `con toso` has the character ` `"));
        assert!(why("contoso.com\n").contains("has the character `\\n`"));
        assert!(why("bücher.example").contains("xn-- form"));
        assert!(why(&format!("{}.com", "a".repeat(64))).contains("64 characters, at most 63"));
        let long = vec!["a".repeat(63); 4].join(".");
        assert!(why(&long).contains("255 characters, at most 253"));
        assert_eq!(
            why("contoso"),
            "`contoso` is not a domain name: it has a single label; a domain has at least two, \
             like contoso.com (expected a domain such as contoso.onmicrosoft.com: labels of \
             letters, digits and inner hyphens, separated by dots)"
        );
    }

    #[test]
    fn user_name_replaces_the_domain_after_the_last_at() {
        let domain = EmailDomain::parse("contoso.com").expect("domain");
        let alice = user("alice", Some("alice@acme.example"), "Alice");
        assert_eq!(user_name(&alice, None), Ok("alice@acme.example".to_string()));
        assert_eq!(user_name(&alice, Some(&domain)), Ok("alice@contoso.com".to_string()));
        let quoted = user("q", Some("\"a@b\"@acme.example"), "Q");
        assert_eq!(user_name(&quoted, Some(&domain)), Ok("\"a@b\"@contoso.com".to_string()));
        let bare = user("bare", Some("bare"), "Bare");
        assert_eq!(user_name(&bare, None), Ok("bare".to_string()));
        assert!(user_name(&bare, Some(&domain)).expect_err("no @").reason.contains("has no @"));
    }

    #[test]
    fn user_name_needs_an_email_and_a_display_name() {
        let reason = |u: ExportedUser| user_name(&u, None).expect_err("left out").reason;
        let suffix = "; the Microsoft 365 template requires User Name and Display Name";
        assert_eq!(reason(user("a", None, "A")), format!("no email address{suffix}"));
        assert_eq!(reason(user("b", Some(" "), "B")), format!("no email address{suffix}"));
        assert_eq!(reason(user("c", Some("c@x.io"), "")), format!("no display name{suffix}"));
        assert_eq!(reason(user("d", Some("d@x.io"), "  ")), format!("no display name{suffix}"));
        assert_eq!(
            reason(user("e", None, "")),
            format!("no email address and no display name{suffix}")
        );
    }
}
