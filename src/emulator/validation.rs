//! Input checks driven by the API model: required members, length and value ranges, patterns
//! and enums, exactly as `service-2.json` declares them.
//!
//! `model.json` is the part of `tests/data/workmail-api/service-2.json` reachable from the emulated
//! operations, documentation stripped (a test compares the two).
//! Violations are answered like the service: one `InvalidParameterException` whose message lists
//! every violation in the AWS "validation error detected" style, naming members in lowerCamelCase.
//! A value of the wrong JSON type is a `SerializationException`, as the service's parser answers.

use super::wire::ApiError;
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::OnceLock;

const MODEL_JSON: &str = include_str!("model.json");

/// The subset of the model the emulator serves.
#[derive(Debug, Deserialize)]
pub(crate) struct Model {
    pub(crate) operations: BTreeMap<String, OperationModel>,
    pub(crate) shapes: BTreeMap<String, Shape>,
}

/// One operation's shapes.
#[derive(Debug, Deserialize)]
pub(crate) struct OperationModel {
    pub(crate) input: String,
    #[allow(dead_code)]
    pub(crate) output: String,
    #[allow(dead_code)]
    pub(crate) errors: Vec<String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct MemberRef {
    pub(crate) shape: String,
}

/// One shape with the constraints the emulator enforces.
#[derive(Debug, Deserialize)]
pub(crate) struct Shape {
    #[serde(rename = "type")]
    pub(crate) kind: String,
    #[serde(default)]
    pub(crate) members: BTreeMap<String, MemberRef>,
    #[serde(default)]
    pub(crate) required: Vec<String>,
    pub(crate) member: Option<MemberRef>,
    pub(crate) min: Option<f64>,
    pub(crate) max: Option<f64>,
    pub(crate) pattern: Option<String>,
    #[serde(rename = "enum")]
    pub(crate) enum_values: Option<Vec<String>>,
    #[serde(default)]
    pub(crate) sensitive: bool,
    /// The pattern compiled as a whole-value match (the service matches the whole value); `None`
    /// when there is no pattern or the regex engine cannot express it (a look-ahead in an
    /// output-only shape).
    #[serde(skip)]
    pub(crate) regex: Option<regex_lite::Regex>,
}

/// The parsed model, or why it could not be parsed (reported as `InternalFailure`, never a panic).
pub(crate) fn model() -> Result<&'static Model, ApiError> {
    static MODEL: OnceLock<Result<Model, String>> = OnceLock::new();
    MODEL
        .get_or_init(|| {
            let mut model: Model =
                serde_json::from_str(MODEL_JSON).map_err(|e| format!("model.json: {e}"))?;
            for shape in model.shapes.values_mut() {
                shape.regex = shape
                    .pattern
                    .as_deref()
                    .and_then(|p| regex_lite::Regex::new(&format!("^(?:{p})$")).ok());
            }
            Ok(model)
        })
        .as_ref()
        .map_err(|e| ApiError::internal(e.clone()))
}

/// Checks an operation's input object against its input shape.
pub(crate) fn validate_input(operation: &str, input: &Value) -> Result<(), ApiError> {
    let model = model()?;
    let op = model
        .operations
        .get(operation)
        .ok_or_else(|| ApiError::internal(format!("no model for {operation}")))?;
    let mut violations = Vec::new();
    walk(model, &op.input, input, "", &mut violations)?;
    if violations.is_empty() {
        return Ok(());
    }
    let n = violations.len();
    let plural = if n == 1 { "error" } else { "errors" };
    Err(ApiError::invalid_parameter(format!(
        "{n} validation {plural} detected: {}",
        violations.join("; ")
    )))
}

/// Checks one value against a named shape; `Err` holds the violations (used for seeds).
pub(crate) fn check_shape(shape: &str, path: &str, value: &Value) -> Result<(), String> {
    let model = model().map_err(|e| e.message)?;
    let mut violations = Vec::new();
    walk(model, shape, value, path, &mut violations).map_err(|e| e.message)?;
    if violations.is_empty() { Ok(()) } else { Err(violations.join("; ")) }
}

/// AWS names members in messages in lowerCamelCase: `UserId` → `userId`.
fn lower_camel(member: &str) -> String {
    let mut chars = member.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn join(path: &str, member: &str) -> String {
    if path.is_empty() { lower_camel(member) } else { format!("{path}.{}", lower_camel(member)) }
}

fn serialization(path: &str, expected: &str) -> ApiError {
    ApiError::serialization(format!("Expected {expected} for '{path}'"))
}

/// Walks `value` against `shape_name`; violations of constraints are collected, type mismatches
/// end the walk with a `SerializationException`. JSON `null` counts as absent.
fn walk(
    model: &Model,
    shape_name: &str,
    value: &Value,
    path: &str,
    violations: &mut Vec<String>,
) -> Result<(), ApiError> {
    let shape = model
        .shapes
        .get(shape_name)
        .ok_or_else(|| ApiError::internal(format!("no shape {shape_name}")))?;
    let expected = match shape.kind.as_str() {
        "structure" => "an object",
        "list" => "a list",
        "string" => "a string",
        "integer" | "long" => "an integer",
        "boolean" => "a boolean",
        "timestamp" => "a timestamp in epoch seconds",
        other => return Err(ApiError::internal(format!("unsupported shape type {other}"))),
    };
    let mut fail = |constraint: String| violations.push(violation(shape, path, value, &constraint));
    match (shape.kind.as_str(), value) {
        ("structure", Value::Object(map)) => walk_members(model, shape, map, path, violations)?,
        ("list", Value::Array(items)) => {
            check_range(items.len() as f64, shape, "have length", &mut fail);
            if let Some(member) = &shape.member {
                for (i, item) in items.iter().enumerate() {
                    walk(model, &member.shape, item, &format!("{path}.{}", i + 1), violations)?;
                }
            }
        }
        ("string", Value::String(s)) => check_string(shape, s, &mut fail),
        ("integer" | "long", Value::Number(n)) if n.is_i64() => {
            check_range(n.as_f64().unwrap_or_default(), shape, "have value", &mut fail);
        }
        ("boolean", Value::Bool(_)) | ("timestamp", Value::Number(_)) => {}
        _ => return Err(serialization(path, expected)),
    }
    Ok(())
}

/// A violated constraint, quoting the value unless the shape is sensitive, as the service does.
fn violation(shape: &Shape, path: &str, value: &Value, constraint: &str) -> String {
    let shown = match value {
        _ if shape.sensitive => "Value".to_owned(),
        Value::String(s) => format!("Value '{s}'"),
        other => format!("Value '{other}'"),
    };
    format!("{shown} at '{path}' failed to satisfy constraint: Member must {constraint}")
}

/// A structure's required members, then each member present.
fn walk_members(
    model: &Model,
    shape: &Shape,
    map: &serde_json::Map<String, Value>,
    path: &str,
    violations: &mut Vec<String>,
) -> Result<(), ApiError> {
    for required in &shape.required {
        if map.get(required).is_none_or(Value::is_null) {
            violations.push(format!(
                "Value null at '{}' failed to satisfy constraint: Member must not be null",
                join(path, required)
            ));
        }
    }
    for (name, member) in &shape.members {
        if let Some(v) = map.get(name).filter(|v| !v.is_null()) {
            walk(model, &member.shape, v, &join(path, name), violations)?;
        }
    }
    Ok(())
}

/// A string's length (in Unicode scalar values, as Smithy counts), enum and pattern.
fn check_string(shape: &Shape, s: &str, mut fail: impl FnMut(String)) {
    check_range(s.chars().count() as f64, shape, "have length", &mut fail);
    if let Some(allowed) = &shape.enum_values
        && !allowed.iter().any(|a| a == s)
    {
        fail(format!("satisfy enum value set: [{}]", allowed.join(", ")));
    }
    if let (Some(re), Some(pattern)) = (&shape.regex, &shape.pattern)
        && !re.is_match(s)
    {
        fail(format!("satisfy regular expression pattern: {pattern}"));
    }
}

fn check_range(n: f64, shape: &Shape, what: &str, mut report: impl FnMut(String)) {
    if let Some(min) = shape.min
        && n < min
    {
        report(format!("{what} greater than or equal to {min}"));
    }
    if let Some(max) = shape.max
        && n > max
    {
        report(format!("{what} less than or equal to {max}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_input_pattern_compiles() {
        let model = model().unwrap();
        let mut seen = Vec::new();
        fn collect(model: &Model, name: &str, seen: &mut Vec<String>) {
            if seen.iter().any(|s| s == name) {
                return;
            }
            seen.push(name.to_owned());
            let shape = &model.shapes[name];
            for m in shape.members.values() {
                collect(model, &m.shape, seen);
            }
            if let Some(m) = &shape.member {
                collect(model, &m.shape, seen);
            }
        }
        for op in model.operations.values() {
            collect(model, &op.input, &mut seen);
        }
        for name in &seen {
            let shape = &model.shapes[name];
            assert_eq!(shape.pattern.is_some(), shape.regex.is_some(), "pattern of {name}");
        }
        assert_eq!(model.operations.len(), super::super::operations::Operation::ALL.len());
    }

    #[test]
    fn messages_name_members_and_hide_sensitive_values() {
        let long = "x".repeat(257);
        let err = validate_input(
            "UpdateUser",
            &json!({"OrganizationId": "m-0123", "DisplayName": long, "Role": "ADMIN"}),
        )
        .unwrap_err();
        assert_eq!(err.code, "InvalidParameterException");
        let expected = [
            "5 validation errors detected: Value null at 'userId' failed to satisfy constraint: Member must not be null",
            "Value at 'displayName' failed to satisfy constraint: Member must have length less than or equal to 256",
            "Value 'm-0123' at 'organizationId' failed to satisfy constraint: Member must have length greater than or equal to 34",
            "Value 'm-0123' at 'organizationId' failed to satisfy constraint: Member must satisfy regular expression pattern: ^m-[0-9a-f]{32}$",
            "Value 'ADMIN' at 'role' failed to satisfy constraint: Member must satisfy enum value set: [USER, RESOURCE, SYSTEM_USER, REMOTE_USER]",
        ];
        assert_eq!(err.message, expected.join("; "));
    }

    #[test]
    fn wrong_types_are_serialization_errors_and_null_is_absent() {
        let err = validate_input(
            "ListUsers",
            &json!({"OrganizationId": "m-0123456789abcdef0123456789abcdef", "MaxResults": "5"}),
        )
        .unwrap_err();
        assert_eq!(err.code, "SerializationException");
        let ok = json!({"OrganizationId": "m-0123456789abcdef0123456789abcdef", "NextToken": null, "Filters": {"State": "ENABLED"}});
        validate_input("ListUsers", &ok).unwrap();
        let err = validate_input(
            "ListUsers",
            &json!({"OrganizationId": "m-0123456789abcdef0123456789abcdef", "MaxResults": 101}),
        )
        .unwrap_err();
        assert!(err.message.contains("'maxResults' failed to satisfy constraint: Member must have value less than or equal to 100"), "{}", err.message);
    }

    #[test]
    fn idp_id_for_update_accepts_empty_and_uuid() {
        let base = |v: &str| json!({"OrganizationId": "m-0123456789abcdef0123456789abcdef", "UserId": "alice", "IdentityProviderUserId": v});
        validate_input("UpdateUser", &base("")).unwrap();
        validate_input("UpdateUser", &base("12345678-1234-1234-1234-123456789012")).unwrap();
        validate_input("UpdateUser", &base("0123456789-12345678-1234-1234-1234-123456789012"))
            .unwrap();
        assert!(validate_input("UpdateUser", &base("nope")).is_err());
    }
}
