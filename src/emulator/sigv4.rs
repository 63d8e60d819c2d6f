//! SigV4 verification: recompute the request's signature with `aws-sigv4` from the configured
//! secret, the request's own `X-Amz-Date` and the headers it says it signed, and compare.
//!
//! Any region is accepted (the emulator serves them all); the service in the credential scope must
//! be `workmail`. Failures are 403 with the codes the service uses.

use super::wire::ApiError;
use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use http::HeaderMap;
use std::time::{Duration, SystemTime};

/// The signing name of WorkMail.
pub(crate) const SIGNING_NAME: &str = "workmail";
/// How far the request time may be from the emulator's clock, as AWS allows.
const MAX_SKEW: Duration = Duration::from_secs(15 * 60);
const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// What a verified request was signed for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Verified {
    pub(crate) region: String,
}

/// The parts of an `Authorization` header.
#[derive(Debug, PartialEq, Eq)]
struct Authorization<'a> {
    access_key_id: &'a str,
    date: &'a str,
    region: &'a str,
    service: &'a str,
    terminator: &'a str,
    signed_headers: Vec<&'a str>,
    signature: &'a str,
}

fn incomplete(message: impl Into<String>) -> ApiError {
    ApiError::forbidden("IncompleteSignatureException", message)
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::forbidden("InvalidSignatureException", message)
}

fn parse_authorization(value: &str) -> Result<Authorization<'_>, ApiError> {
    let (algorithm, rest) = value.split_once(' ').ok_or_else(|| {
        incomplete(format!("Authorization header requires a '{ALGORITHM}' signature."))
    })?;
    if algorithm != ALGORITHM {
        return Err(incomplete(format!("Unsupported signature algorithm '{algorithm}'.")));
    }
    let (mut credential, mut signed_headers, mut signature) = (None, None, None);
    for part in rest.split(',') {
        let (key, value) = part.trim().split_once('=').unwrap_or((part.trim(), ""));
        match key {
            "Credential" => credential = Some(value),
            "SignedHeaders" => signed_headers = Some(value),
            "Signature" => signature = Some(value),
            _ => {}
        }
    }
    let missing = |name: &str| {
        incomplete(format!(
            "Authorization header requires '{name}' parameter. Authorization={value}"
        ))
    };
    let credential = credential.ok_or_else(|| missing("Credential"))?;
    let signed_headers = signed_headers.ok_or_else(|| missing("SignedHeaders"))?;
    let signature = signature.ok_or_else(|| missing("Signature"))?;
    let scope: Vec<&str> = credential.split('/').collect();
    let [access_key_id, date, region, service, terminator] = scope[..] else {
        return Err(incomplete(format!(
            "Credential should have 5 parts separated by '/': {credential}"
        )));
    };
    Ok(Authorization {
        access_key_id,
        date,
        region,
        service,
        terminator,
        signed_headers: signed_headers.split(';').collect(),
        signature,
    })
}

/// Parses the basic ISO 8601 form of `X-Amz-Date` (`20240131T235959Z`).
fn parse_amz_date(s: &str) -> Option<SystemTime> {
    let b = s.as_bytes();
    if b.len() != 16 || !s.is_ascii() || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let (date, time) = (&s[..8], &s[9..15]);
    let rfc3339 = format!(
        "{}-{}-{}T{}:{}:{}Z",
        &date[..4],
        &date[4..6],
        &date[6..],
        &time[..2],
        &time[2..4],
        &time[4..]
    );
    humantime::parse_rfc3339(&rfc3339).ok()
}

/// Constant-time comparison, so the emulator does not teach timing attacks by example.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Verifies the request's SigV4 signature against the one accepted key pair.
pub(crate) fn verify(
    method: &str,
    path_and_query: &str,
    headers: &HeaderMap,
    body: &[u8],
    access_key_id: &str,
    secret_access_key: &str,
    now: SystemTime,
) -> Result<Verified, ApiError> {
    let auth = authorization(headers)?;
    check_scope(&auth, access_key_id)?;
    let time = request_time(headers, &auth, now)?;
    let signed = signed_headers(headers, &auth)?;
    let identity =
        Credentials::new(access_key_id, secret_access_key, signed.session_token, None, "emulator")
            .into();
    let mut settings = SigningSettings::default();
    // Only signed headers are passed in, so nothing needs excluding; excluding would drop a
    // header a non-SDK client chose to sign.
    settings.excluded_headers = None;
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(auth.region)
        .name(SIGNING_NAME)
        .time(time)
        .settings(settings)
        .build()
        .map_err(|e| ApiError::internal(format!("signing parameters: {e}")))?
        .into();
    let request = SignableRequest::new(
        method,
        path_and_query,
        signed.headers.into_iter(),
        SignableBody::Bytes(body),
    )
    .map_err(|e| invalid(format!("The request cannot be canonicalized: {e}")))?;
    let expected = sign(request, &params)
        .map_err(|e| invalid(format!("The request cannot be signed: {e}")))?;
    if !same(expected.signature(), auth.signature) {
        return Err(invalid(
            "The request signature we calculated does not match the signature you provided. \
             Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
        ));
    }
    Ok(Verified { region: auth.region.to_owned() })
}

/// The request's `Authorization` header, parsed.
fn authorization(headers: &HeaderMap) -> Result<Authorization<'_>, ApiError> {
    let Some(value) = headers.get(http::header::AUTHORIZATION) else {
        return Err(ApiError::forbidden(
            "MissingAuthenticationTokenException",
            "Missing Authentication Token",
        ));
    };
    let value =
        value.to_str().map_err(|_| incomplete("The Authorization header is not valid ASCII."))?;
    parse_authorization(value)
}

/// The credential scope: our access key, the WorkMail service, the SigV4 terminator.
fn check_scope(auth: &Authorization<'_>, access_key_id: &str) -> Result<(), ApiError> {
    if auth.access_key_id != access_key_id {
        return Err(ApiError::forbidden(
            "UnrecognizedClientException",
            "The security token included in the request is invalid.",
        ));
    }
    if auth.service != SIGNING_NAME {
        return Err(invalid(format!(
            "Credential should be scoped to correct service: '{SIGNING_NAME}'. "
        )));
    }
    if auth.terminator != "aws4_request" {
        return Err(invalid(format!(
            "Credential should be scoped with a valid terminator: 'aws4_request', not '{}'.",
            auth.terminator
        )));
    }
    Ok(())
}

/// The time the request was signed at (`X-Amz-Date`), which must match the credential scope's
/// date and be within [`MAX_SKEW`] of `now`.
fn request_time(
    headers: &HeaderMap,
    auth: &Authorization<'_>,
    now: SystemTime,
) -> Result<SystemTime, ApiError> {
    let amz_date = headers.get("x-amz-date").and_then(|v| v.to_str().ok()).ok_or_else(|| {
        incomplete("Authorization header requires existence of a valid 'X-Amz-Date' header.")
    })?;
    let time = parse_amz_date(amz_date).ok_or_else(|| {
        incomplete(format!("X-Amz-Date '{amz_date}' is not in the form YYYYMMDDTHHMMSSZ."))
    })?;
    if !amz_date.starts_with(auth.date) || auth.date.len() != 8 {
        return Err(invalid(format!(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{}' != '{}', from '{amz_date}'.",
            auth.date,
            &amz_date[..8]
        )));
    }
    let skew = now.duration_since(time).or_else(|e| Ok::<_, ()>(e.duration())).unwrap_or_default();
    if skew > MAX_SKEW {
        return Err(invalid(format!(
            "Signature expired or not yet valid: {amz_date} is more than 15 minutes from the server time."
        )));
    }
    Ok(time)
}

/// The headers a request signed, as the signer takes them.
struct SignedHeaders<'h> {
    /// Every value of each signed header but the session token, in the client's order.
    headers: Vec<(&'h str, &'h str)>,
    /// The session token, which the signer adds from the identity.
    session_token: Option<String>,
}

/// Exactly the headers the client signed, every value of each, `host` among them.
fn signed_headers<'h>(
    headers: &'h HeaderMap,
    auth: &Authorization<'h>,
) -> Result<SignedHeaders<'h>, ApiError> {
    if !auth.signed_headers.contains(&"host") {
        return Err(invalid(
            "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
        ));
    }
    let mut signed = Vec::new();
    let mut session_token = None;
    for &name in &auth.signed_headers {
        let mut any = false;
        for value in headers.get_all(name) {
            any = true;
            let value = value
                .to_str()
                .map_err(|_| invalid(format!("Signed header '{name}' is not valid ASCII.")))?;
            if name == "x-amz-security-token" {
                session_token = Some(value.to_owned());
            } else {
                signed.push((name, value));
            }
        }
        if !any {
            return Err(invalid(format!("Signed header '{name}' is missing from the request.")));
        }
    }
    Ok(SignedHeaders { headers: signed, session_token })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    #[test]
    fn amz_date_parses_to_epoch() {
        let t = parse_amz_date("20240229T120000Z").unwrap();
        assert_eq!(t.duration_since(UNIX_EPOCH).unwrap().as_secs(), 1_709_208_000);
        assert_eq!(parse_amz_date("19700101T000000Z"), Some(UNIX_EPOCH));
        assert!(parse_amz_date("2024-02-29T12:00:00Z").is_none());
        assert!(parse_amz_date("20241329T120000Z").is_none());
        assert!(parse_amz_date("20230229T120000Z").is_none(), "2023 is no leap year");
        assert!(parse_amz_date("2024022\u{e9}T1200Z").is_none());
    }

    #[test]
    fn authorization_header_parses() {
        let a = parse_authorization(
            "AWS4-HMAC-SHA256 Credential=AKID/20240229/eu-west-1/workmail/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc",
        )
        .unwrap();
        assert_eq!(
            a,
            Authorization {
                access_key_id: "AKID",
                date: "20240229",
                region: "eu-west-1",
                service: "workmail",
                terminator: "aws4_request",
                signed_headers: vec!["host", "x-amz-date"],
                signature: "abc",
            }
        );
        assert!(parse_authorization("Basic abc").is_err());
        assert!(
            parse_authorization("AWS4-HMAC-SHA256 Credential=a/b, SignedHeaders=host, Signature=x")
                .is_err()
        );
    }

    #[test]
    fn missing_or_garbage_authorization_is_refused_without_panic() {
        let now = SystemTime::now();
        let mut headers = HeaderMap::new();
        let err = verify("POST", "/", &headers, b"{}", "test", "test", now).unwrap_err();
        assert_eq!(err.code, "MissingAuthenticationTokenException");
        headers.insert("authorization", "AWS4-HMAC-SHA256 Credential=test/20240229/us-east-1/workmail/aws4_request, SignedHeaders=x-amz-date, Signature=00".parse().unwrap());
        headers.insert("x-amz-date", "20240229T120000Z".parse().unwrap());
        let err = verify("POST", "/", &headers, b"{}", "test", "test", now).unwrap_err();
        assert_eq!(err.code, "InvalidSignatureException");
    }
}
