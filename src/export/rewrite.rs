//! `--email-domain` for the routing CSVs: a user's primary address always gets the new domain
//! (as User Name in the Microsoft 365 template); another address — an alias, a group's address —
//! only when it is on the WorkMail organization's default mail domain, the one the tenant's
//! domain stands in for. Addresses on the organization's other domains stay as they are.

use super::ExportError;
use super::m365::EmailDomain;
use crate::directory::Directory;

/// The organization's default mail domain, from ListOrganizations (one listing); `None` when the
/// listing does not say.
pub(crate) async fn default_mail_domain<D: Directory>(
    directory: &D,
    organization_id: &str,
) -> Result<Option<String>, ExportError> {
    let organizations = directory.list_organizations().await.map_err(ExportError::Organizations)?;
    Ok(organizations
        .into_iter()
        .find(|o| o.id == organization_id)
        .and_then(|o| o.default_mail_domain))
}

/// How addresses are rewritten: not at all, or onto `domain` from `default_domain`.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct AddressRewrite<'a> {
    pub domain: Option<&'a EmailDomain>,
    /// The organization's default mail domain; `None` when unknown (then nothing but User Name
    /// is rewritten).
    pub default_domain: Option<&'a str>,
}

impl AddressRewrite<'_> {
    /// `address` with the new domain when it is on the default domain (ignoring case).
    pub(crate) fn address(&self, address: &str) -> String {
        let (Some(domain), Some(default)) = (self.domain, self.default_domain) else {
            return address.to_string();
        };
        match address.rsplit_once('@') {
            Some((local, on)) if on.eq_ignore_ascii_case(default) => format!("{local}@{domain}"),
            _ => address.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_addresses_on_the_default_domain_move() {
        let domain = EmailDomain::parse("contoso.com").expect("domain");
        let rewrite =
            AddressRewrite { domain: Some(&domain), default_domain: Some("acme.example") };
        assert_eq!(rewrite.address("a.liddell@ACME.example"), "a.liddell@contoso.com");
        assert_eq!(rewrite.address("alice@acme-corp.example"), "alice@acme-corp.example");
        assert_eq!(rewrite.address("\"a@b\"@acme.example"), "\"a@b\"@contoso.com");
        assert_eq!(rewrite.address("no-at"), "no-at");
        let unchanged = AddressRewrite { domain: None, default_domain: Some("acme.example") };
        assert_eq!(unchanged.address("a@acme.example"), "a@acme.example");
    }
}
