//! `export --format csv`: one row per exported user with every attribute, RFC 4180 (CRLF
//! line ends, a field quoted when it holds a comma, a quote or a line break), UTF-8 without a
//! byte-order mark. Values are written exactly as the directory holds them, so each one reads
//! back unchanged.

use super::ExportedOrganization;
use super::spreadsheet::Cells;
use crate::model::attrs::Attribute;
use std::io::Write;

/// The columns before the attributes; `role` is the attribute of that name.
const IDENTITY_COLUMNS: [&str; 5] = ["user_id", "name", "email", "state", "role"];

/// The attribute columns after the identity columns: every attribute but `role`, in table order.
fn attribute_columns() -> impl Iterator<Item = Attribute> {
    Attribute::ALL.into_iter().filter(|attr| *attr != Attribute::Role)
}

/// The header row: `user_id,name,email,state,role`, then every other attribute key in table order.
fn csv_header() -> Vec<&'static str> {
    IDENTITY_COLUMNS.into_iter().chain(attribute_columns().map(Attribute::key)).collect()
}

/// A writer of RFC 4180 records (CRLF), shared by both CSV formats.
pub(super) fn rfc4180_writer<W: Write>(out: W) -> ::csv::Writer<W> {
    ::csv::WriterBuilder::new().terminator(::csv::Terminator::CRLF).from_writer(out)
}

/// Write the header row and one row per user of `export`, in its order, as they are produced.
pub fn write_csv<W: Write>(export: &ExportedOrganization, out: W) -> std::io::Result<()> {
    write_csv_cells(export, &mut Cells::new(false), out)
}

/// [`write_csv`], each cell through `cells` (`--spreadsheet-safe` or exact).
pub(crate) fn write_csv_cells<W: Write>(
    export: &ExportedOrganization,
    cells: &mut Cells,
    out: W,
) -> std::io::Result<()> {
    let mut writer = rfc4180_writer(out);
    cells.write_record(&mut writer, csv_header())?;
    for user in &export.users {
        let identity = [
            user.user_id.as_str(),
            user.name.as_str(),
            user.email.as_deref().unwrap_or(""),
            user.state.as_str(),
            user.text(Attribute::Role),
        ];
        let row = identity.into_iter().chain(attribute_columns().map(|a| user.text(a)));
        cells.write_record(&mut writer, row)?;
    }
    writer.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::ExportedUser;
    use crate::model::attrs::AttrValue;
    use crate::model::live::UserState;

    #[test]
    fn csv_header_is_the_identity_columns_then_the_attribute_table() {
        assert_eq!(
            csv_header().join(","),
            "user_id,name,email,state,role,display_name,first_name,last_name,initials,\
             telephone,street,job_title,city,company,zip_code,department,country,office,\
             hidden_from_global_address_list,identity_provider_user_id"
        );
    }

    #[test]
    fn csv_quotes_only_what_needs_it_and_ends_lines_with_crlf() {
        let export = ExportedOrganization {
            declared: 0,
            reference: "acme".into(),
            organization_id: "m-1".into(),
            users: vec![ExportedUser {
                user_id: "u-1".into(),
                name: "alice".into(),
                email: None,
                state: UserState::Disabled,
                attributes: vec![
                    (Attribute::DisplayName, AttrValue::from("Liddell, Alice \"Al\"")),
                    (Attribute::Street, AttrValue::from("1 Main St\r\nFloor 2")),
                    (Attribute::ZipCode, AttrValue::from("02134")),
                    (Attribute::HiddenFromGlobalAddressList, AttrValue::Bool(true)),
                    (Attribute::Role, AttrValue::from("USER")),
                ],
                mailbox: Default::default(),
            }],
            skipped: Vec::new(),
        };
        let mut out = Vec::new();
        write_csv(&export, &mut out).expect("written");
        let text = String::from_utf8(out).expect("UTF-8");
        let row = text.split_once("\r\n").expect("header line").1;
        assert_eq!(
            row,
            "u-1,alice,,DISABLED,USER,\"Liddell, Alice \"\"Al\"\"\",,,,,\"1 Main St\r\nFloor 2\",\
             ,,,02134,,,,true,\r\n"
        );
    }
}
