//! The awsJson1_1 wire format: error codes and how answers are written.

use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};

/// The content type of every awsJson1_1 request and answer.
pub(crate) const CONTENT_TYPE: &str = "application/x-amz-json-1.1";
/// The header carrying the request id.
pub(crate) const REQUEST_ID_HEADER: &str = "x-amzn-RequestId";

/// An error answer: status, `__type` code and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApiError {
    pub(crate) status: StatusCode,
    pub(crate) code: &'static str,
    pub(crate) message: String,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError { status, code, message: message.into() }
    }
    /// 400 with a modeled (or protocol) error code.
    pub(crate) fn client(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, code, message)
    }
    pub(crate) fn invalid_parameter(message: impl Into<String>) -> Self {
        ApiError::client("InvalidParameterException", message)
    }
    pub(crate) fn serialization(message: impl Into<String>) -> Self {
        ApiError::client("SerializationException", message)
    }
    pub(crate) fn organization_not_found(id: &str) -> Self {
        ApiError::client(
            "OrganizationNotFoundException",
            format!("The organization {id} does not exist."),
        )
    }
    pub(crate) fn entity_not_found(id: &str) -> Self {
        ApiError::client("EntityNotFoundException", format!("The entity {id} does not exist."))
    }
    pub(crate) fn entity_state(message: impl Into<String>) -> Self {
        ApiError::client("EntityStateException", message)
    }
    pub(crate) fn email_address_in_use(address: &str) -> Self {
        ApiError::client(
            "EmailAddressInUseException",
            format!("The email address {address} is already in use."),
        )
    }
    pub(crate) fn throttling() -> Self {
        ApiError::client("ThrottlingException", "Rate exceeded")
    }
    /// 403: the request is not authenticated.
    pub(crate) fn forbidden(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::FORBIDDEN, code, message)
    }
    /// 500 for the emulator's own defects; never expected.
    pub(crate) fn internal(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "InternalFailure", message)
    }
    /// An injected 5xx.
    pub(crate) fn server_error(status: u16) -> Self {
        if status == 503 {
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "ServiceUnavailable",
                "Service is unavailable. Try again later.",
            )
        } else {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalFailure",
                "The request processing has failed because of an unknown error, exception or failure.",
            )
        }
    }

    /// The answer, with the request id.
    pub(crate) fn into_response(self, request_id: &str) -> Response {
        let body = serde_json::json!({"__type": self.code, "Message": self.message});
        json_response(self.status, &body, request_id)
    }
}

/// A JSON answer with the protocol's content type and request id.
pub(crate) fn json_response(
    status: StatusCode,
    body: &serde_json::Value,
    request_id: &str,
) -> Response {
    let mut response = (status, body.to_string()).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
    if let Ok(id) = HeaderValue::from_str(request_id) {
        headers.insert(REQUEST_ID_HEADER, id);
    }
    response
}
