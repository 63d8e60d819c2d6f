//! `export --format groups-csv`: `Group Name,Group Email,Member`, one row per member user of
//! every group, Member being the member's User Name as `m365-csv` writes it; a group without a
//! member it can write keeps one row with an empty Member, so that the group itself moves.
//! Members that are groups, and users the template cannot take, are not written: they are
//! returned, one line each, to be named on stderr.

use super::ExportedOrganization;
use super::csv::rfc4180_writer;
use super::groups::ExportedGroup;
use super::m365::user_name;
use super::rewrite::AddressRewrite;
use super::spreadsheet::Cells;
use crate::model::live::MemberKind;
use std::collections::HashMap;
use std::io::Write;

/// The heading row.
const HEADINGS: [&str; 3] = ["Group Name", "Group Email", "Member"];

/// What a groups CSV holds, and what it does not.
#[derive(Debug, Default)]
pub(crate) struct GroupsWritten {
    pub groups: usize,
    /// Member rows written.
    pub members: usize,
    /// One line per member not written, with the reason.
    pub left_out: Vec<String>,
}

/// Write the heading row and the rows of `groups`, in their order.
pub(crate) fn write_groups_csv<W: Write>(
    export: &ExportedOrganization,
    groups: &[ExportedGroup],
    rewrite: AddressRewrite<'_>,
    cells: &mut Cells,
    out: W,
) -> std::io::Result<GroupsWritten> {
    let user_names: HashMap<&str, Result<String, String>> = export
        .users
        .iter()
        .map(|u| (u.user_id.as_str(), user_name(u, rewrite.domain).map_err(|s| s.reason)))
        .collect();
    let skipped: HashMap<&str, &str> =
        export.skipped.iter().map(|s| (s.name.as_str(), s.reason.as_str())).collect();
    let mut writer = rfc4180_writer(out);
    cells.write_record(&mut writer, HEADINGS)?;
    let mut written = GroupsWritten::default();
    for group in groups {
        let email = group.email.as_deref().map(|e| rewrite.address(e)).unwrap_or_default();
        let row = |member: &str| [group.name.as_str(), email.as_str(), member].map(str::to_string);
        let mut rows = 0;
        for member in &group.members {
            let why_not = match (&member.kind, user_names.get(member.member_id.as_str())) {
                (MemberKind::Group, _) => {
                    "a group: nested groups are not written; add it to the group by hand after \
                     both exist"
                        .to_string()
                }
                (MemberKind::User, Some(Ok(name))) => {
                    cells.write_record(&mut writer, row(name).iter().map(String::as_str))?;
                    rows += 1;
                    continue;
                }
                (MemberKind::User, Some(Err(reason))) => format!("not in the users' CSV: {reason}"),
                (MemberKind::User, None) => match skipped.get(member.name.as_str()) {
                    Some(reason) => format!("not exported: {reason}"),
                    None => "not among the organization's exported users".to_string(),
                },
            };
            written
                .left_out
                .push(format!("member {} of group {}: {why_not}", member.name, group.name));
        }
        if rows == 0 {
            cells.write_record(&mut writer, row("").iter().map(String::as_str))?;
        }
        written.groups += 1;
        written.members += rows;
    }
    writer.flush()?;
    Ok(written)
}
