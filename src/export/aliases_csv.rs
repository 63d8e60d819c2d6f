//! `export --format aliases-csv`: `User Name,Alias`, one row per alias of every user the
//! Microsoft 365 template takes (User Name exactly as `m365-csv` writes it), for adding the
//! addresses to the new mailboxes after the users exist.

use super::csv::rfc4180_writer;
use super::m365::user_name;
use super::rewrite::AddressRewrite;
use super::spreadsheet::Cells;
use super::{ExportedOrganization, SkippedUser};
use std::collections::HashSet;
use std::io::Write;

/// The heading row.
const HEADINGS: [&str; 2] = ["User Name", "Alias"];

/// What an aliases CSV holds, and what it does not.
#[derive(Debug, Default)]
pub(crate) struct AliasesWritten {
    /// Rows written (one per alias).
    pub aliases: usize,
    /// Users the template cannot take, whose aliases are not written either.
    pub left_out: Vec<SkippedUser>,
    /// Aliases not written because `--email-domain` made them the user's User Name or another
    /// of its aliases: one line each.
    pub merged: Vec<String>,
}

/// Write the heading row and one row per alias, users in the export's order.
pub(crate) fn write_aliases_csv<W: Write>(
    export: &ExportedOrganization,
    rewrite: AddressRewrite<'_>,
    cells: &mut Cells,
    out: W,
) -> std::io::Result<AliasesWritten> {
    let mut writer = rfc4180_writer(out);
    cells.write_record(&mut writer, HEADINGS)?;
    let mut written = AliasesWritten::default();
    for user in &export.users {
        let name = match user_name(user, rewrite.domain) {
            Ok(name) => name,
            Err(skipped) => {
                written.left_out.push(skipped);
                continue;
            }
        };
        let mut seen: HashSet<String> = HashSet::from([name.to_lowercase()]);
        for alias in user.mailbox.aliases.as_deref().unwrap_or_default() {
            let address = rewrite.address(alias);
            if !seen.insert(address.to_lowercase()) {
                written.merged.push(format!(
                    "alias {alias} of {} becomes {address} with --email-domain, an address the \
                     user has already",
                    user.name
                ));
                continue;
            }
            cells.write_record(&mut writer, [name.as_str(), address.as_str()])?;
            written.aliases += 1;
        }
    }
    writer.flush()?;
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::{EmailDomain, ExportedMailbox, ExportedUser};
    use crate::model::attrs::{AttrValue, Attribute};
    use crate::model::live::UserState;

    #[test]
    fn an_alias_the_rewrite_makes_the_user_name_is_not_written_but_said() {
        let user = ExportedUser {
            user_id: "u-1".into(),
            name: "alice".into(),
            email: Some("alice@acme-corp.example".into()),
            state: UserState::Enabled,
            attributes: vec![(Attribute::DisplayName, AttrValue::from("Alice"))],
            mailbox: ExportedMailbox {
                aliases: Some(vec!["alice@acme.example".into(), "al@acme.example".into()]),
                ..ExportedMailbox::default()
            },
        };
        let export = ExportedOrganization {
            reference: "acme".into(),
            organization_id: "m-1".into(),
            users: vec![user],
            skipped: Vec::new(),
            declared: 0,
        };
        let domain = EmailDomain::parse("contoso.com").expect("domain");
        let rewrite =
            AddressRewrite { domain: Some(&domain), default_domain: Some("acme.example") };
        let mut out = Vec::new();
        let written =
            write_aliases_csv(&export, rewrite, &mut Cells::new(false), &mut out).expect("written");
        assert_eq!(
            String::from_utf8(out).expect("UTF-8"),
            "User Name,Alias\r\nalice@contoso.com,al@contoso.com\r\n"
        );
        assert_eq!(written.aliases, 1);
        assert_eq!(
            written.merged,
            ["alias alice@acme.example of alice becomes alice@contoso.com with --email-domain, \
              an address the user has already"]
        );
    }
}
