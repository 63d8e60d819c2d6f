//! What a usable region and endpoint URL look like, checked before anything is sent: a
//! mistyped one otherwise surfaces only as a failure of every call.

/// Accept a region name: lower-case letters, digits and hyphens, starting with a letter, as
/// AWS names them (`us-east-1`) and as SigV4 signs them.
pub(crate) fn check_region(region: &str) -> Result<(), String> {
    let well_formed = (1..=63).contains(&region.len())
        && region.starts_with(|c: char| c.is_ascii_lowercase())
        && !region.ends_with('-')
        && !region.contains("--")
        && region.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if well_formed {
        Ok(())
    } else {
        Err(format!(
            "invalid AWS region `{region}`: a region is lower-case letters, digits and hyphens, \
             like us-east-1 (WorkMail is offered in us-east-1, us-west-2 and eu-west-1)"
        ))
    }
}

/// Accept an endpoint URL: `http` or `https`, a host, an optional port and path, nothing else.
pub(crate) fn check_endpoint_url(url: &str) -> Result<(), String> {
    const EXPECTED: &str = "expected http://HOST[:PORT] or https://HOST[:PORT]";
    let invalid = |why: &str| Err(format!("invalid endpoint URL `{url}`: {why}; {EXPECTED}"));
    let uri: http::Uri = match url.parse() {
        Ok(uri) => uri,
        Err(e) => return invalid(&e.to_string()),
    };
    match uri.scheme_str() {
        Some(scheme)
            if scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https") => {}
        Some(scheme) => return invalid(&format!("the scheme `{scheme}` is not http or https")),
        None => return invalid("no scheme"),
    }
    let Some(authority) = uri.authority() else { return invalid("no host") };
    if authority.host().is_empty() {
        return invalid("no host");
    }
    // `http` accepts any digits as a port (and then reports none), so read it from the text.
    if let Some((_, port)) = authority.as_str().rsplit_once(authority.host())
        && let Some(port) = port.strip_prefix(':')
        && !port.parse::<u16>().is_ok_and(|p| p > 0)
    {
        return invalid(&if port.is_empty() {
            "the port after `:` is missing".to_string()
        } else {
            format!("the port {port} is not from 1 to 65535")
        });
    }
    if authority.as_str().contains('@') {
        return invalid("credentials in the URL are not used; use the AWS credential chain");
    }
    if uri.query().is_some() {
        return invalid("a query string is not allowed");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_as_aws_names_them_are_accepted() {
        for region in ["us-east-1", "eu-west-1", "us-gov-west-1", "ap-southeast-5", "local", "x"] {
            assert_eq!(check_region(region), Ok(()), "{region}");
        }
    }

    #[test]
    fn malformed_regions_are_refused_with_an_example() {
        for region in ["", "US-EAST-1", "us east 1", "us-east-1-", "-us", "us--east", "1us", "é"] {
            let err = check_region(region).expect_err(region);
            assert!(err.contains("like us-east-1"), "{region}: {err}");
        }
    }

    #[test]
    fn endpoint_urls_need_an_http_scheme_and_a_host() {
        for url in [
            "http://127.0.0.1:4566",
            "https://workmail.us-east-1.amazonaws.com",
            "HTTP://h/p",
            "http://[::1]:4566/",
        ] {
            assert_eq!(check_endpoint_url(url), Ok(()), "{url}");
        }
        for (url, why) in [
            ("localhost:4566", "no scheme"),
            ("127.0.0.1", "no scheme"),
            ("ftp://host", "the scheme `ftp` is not http or https"),
            ("http://", "invalid endpoint URL"),
            ("http://:80", "no host"),
            ("http://a b", "invalid endpoint URL"),
            ("http://host:99999", "the port 99999 is not from 1 to 65535"),
            ("http://host:0", "the port 0 is not from 1 to 65535"),
            ("http://host:", "the port after `:` is missing"),
            ("http://user:pw@host", "credentials in the URL"),
            ("http://host/?x=1", "a query string"),
            ("", "invalid endpoint URL"),
        ] {
            let err = check_endpoint_url(url).expect_err(url);
            assert!(err.contains(why), "{url}: {err}");
            assert!(err.contains("expected http://HOST[:PORT]"), "{url}: {err}");
        }
    }
}
