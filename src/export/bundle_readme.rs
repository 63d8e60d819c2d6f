//! The `README.txt` of `--format m365-bundle`: what the three CSV files are, and in which order
//! and with which standard Microsoft 365 / Exchange Online tools to import them.

/// What the README says of the bundle it describes.
#[derive(Debug, Clone)]
pub(crate) struct BundleFacts<'a> {
    pub organization_id: &'a str,
    pub users: usize,
    pub aliases: usize,
    pub groups: usize,
    /// `--email-domain`, if given.
    pub email_domain: Option<String>,
    /// Cells `--spreadsheet-safe` prefixed with `'`; `None` without the flag.
    pub spreadsheet_safe: Option<usize>,
}

/// The README text, CRLF line ends (it is opened on Windows more often than not).
pub(crate) fn bundle_readme(facts: &BundleFacts<'_>) -> String {
    let domain = match &facts.email_domain {
        Some(domain) => format!(
            "User Name, and every alias and group address on the WorkMail default domain, were \
             rewritten onto {domain} (--email-domain); addresses on the organization's other \
             domains were kept."
        ),
        None => "Addresses are the WorkMail ones, unchanged.".to_string(),
    };
    let safe = match facts.spreadsheet_safe {
        None => "Every value is written exactly as WorkMail holds it (a telephone +1 555 0100 \
                 stays +1 555 0100). Do not open the files in a spreadsheet and save them again: \
                 import them as they are."
            .to_string(),
        Some(changed) => format!(
            "Written with --spreadsheet-safe: {changed} cells that began with =, +, -, @, a tab \
             or a carriage return got a leading ' so that a spreadsheet shows them as text. \
             Those cells are no longer exact (+1 555 0100 became '+1 555 0100): remove the ' \
             before importing, or export again without --spreadsheet-safe for the import."
        ),
    };
    let text = format!(
        r#"Moving WorkMail organization {org} to Microsoft 365
================================================================

This directory was written by `workmail-reconcile export --format m365-bundle`:

  users.csv    {users} users, the admin center's "Add multiple users" template
  aliases.csv  {aliases} aliases: User Name,Alias
  groups.csv   {groups} groups: Group Name,Group Email,Member (one row per member)

{domain}
{safe}

Import them in this order; each step needs the one before it.

0. Domains. In the Microsoft 365 admin center, Settings > Domains, add and verify
   every domain that appears in the three files (or pass --email-domain with the
   tenant's onmicrosoft.com domain). Do not move the MX records yet.

1. Users: users.csv. Admin center > Users > Active users > Add multiple users,
   "upload a CSV with user information", choose users.csv. Assign each user a
   license that includes Exchange Online, so that a mailbox is created. One upload
   takes a limited number of rows (250 at the time of writing): split a bigger file,
   keeping the heading row in every part. Wait until the mailboxes exist
   (Get-Mailbox -ResultSize Unlimited lists them) before step 2.

2. Aliases: aliases.csv, with Exchange Online PowerShell:

     Connect-ExchangeOnline
     Import-Csv aliases.csv | ForEach-Object {{
       Set-Mailbox -Identity $_.'User Name' -EmailAddresses @{{add = "smtp:$($_.Alias)"}}
     }}

3. Groups: groups.csv, as distribution groups, in the same session:

     $rows = Import-Csv groups.csv
     $rows | Group-Object 'Group Name' | ForEach-Object {{
       $first = $_.Group[0]
       $group = @{{ Name = $first.'Group Name' }}
       if ($first.'Group Email') {{ $group.PrimarySmtpAddress = $first.'Group Email' }}
       New-DistributionGroup @group
     }}
     $rows | Where-Object {{ $_.Member }} | ForEach-Object {{
       Add-DistributionGroupMember -Identity $_.'Group Name' -Member $_.Member
     }}

   A group whose only row has an empty Member is created without members. Groups
   that were members of other groups are not in the file (the export named them):
   add them with Add-DistributionGroupMember once both groups exist.

4. Check, then move mail. Compare Get-Mailbox / Get-DistributionGroupMember with
   the files, migrate the mail itself (for example an IMAP migration), and only
   then point the domains' MX records at Exchange Online.

Not in these files: passwords (users get new ones), mail, calendars and contacts,
resources (rooms and equipment), mobile device and access rules, and the users
and members the export named on stderr as left out.
"#,
        org = facts.organization_id,
        users = facts.users,
        aliases = facts.aliases,
        groups = facts.groups,
    );
    text.replace('\n', "\r\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_readme_gives_the_order_and_the_tools() {
        let facts = BundleFacts {
            organization_id: "m-1",
            users: 3,
            aliases: 2,
            groups: 1,
            email_domain: Some("contoso.com".into()),
            spreadsheet_safe: None,
        };
        let text = bundle_readme(&facts);
        let at = |needle: &str| text.find(needle).unwrap_or_else(|| panic!("{needle}"));
        assert!(at("Add multiple users") < at("Set-Mailbox"));
        assert!(at("Set-Mailbox") < at("New-DistributionGroup"));
        assert!(at("New-DistributionGroup") < at("Add-DistributionGroupMember"));
        assert!(text.contains("3 users") && text.contains("onto contoso.com"));
        assert!(!text.replace("\r\n", "").contains('\n'), "CRLF only");
    }
}
