//! A refused operation: the HTTP status, the message the CLI would print
//! (core's words, unchanged), and the form field it concerns. Pages show it
//! next to that field; the API sends it as `application/problem+json`
//! (RFC 9457).

use http::StatusCode;
use mailroom_core::CoreError;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub status: StatusCode,
    /// The input field it concerns, when one does.
    pub field: Option<&'static str>,
    pub message: String,
    /// For `405`: the methods the resource has (the `Allow` header).
    pub allow: Option<&'static str>,
}

impl Problem {
    /// Input that was refused: `422` naming the field.
    pub fn field(field: &'static str, message: impl Into<String>) -> Self {
        Problem {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            field: Some(field),
            message: message.into(),
            allow: None,
        }
    }

    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Problem { status, field: None, message: message.into(), allow: None }
    }

    pub fn not_found() -> Self {
        Problem::new(StatusCode::NOT_FOUND, "There is no such page or object.")
    }

    /// DESIGN.md rule 9: each class of core error maps to HTTP here, once.
    /// A refusal of input concerns `field` unless the error names another
    /// (an address in use concerns the address, a taken name the name).
    pub fn from_core(err: CoreError, field: &'static str) -> Self {
        let status = match &err {
            CoreError::PermissionDenied | CoreError::NoAccess { .. } | CoreError::NoPurge { .. } => {
                StatusCode::FORBIDDEN
            }
            CoreError::NotFound { .. } => StatusCode::NOT_FOUND,
            CoreError::Storage => StatusCode::INTERNAL_SERVER_ERROR,
            CoreError::MailboxFull { .. } | CoreError::RecoverableItemsFull { .. } => {
                StatusCode::INSUFFICIENT_STORAGE
            }
            _ => StatusCode::UNPROCESSABLE_ENTITY,
        };
        let field = match &err {
            CoreError::PermissionDenied | CoreError::Storage => None,
            _ if field.is_empty() => None,
            CoreError::AddressInUse { .. }
            | CoreError::DomainNotAccepted { .. }
            | CoreError::InvalidAddress(_)
            | CoreError::AliasInUse { .. }
                if field == "name" =>
            {
                Some("address")
            }
            CoreError::NameInUse { .. } => Some("name"),
            _ => Some(field),
        };
        Problem { status, field, message: err.to_string(), allow: None }
    }

    /// The RFC 9457 body.
    pub fn to_json(&self) -> String {
        let mut body = serde_json::json!({
            "type": "about:blank",
            "title": self.status.canonical_reason().unwrap_or("Error"),
            "status": self.status.as_u16(),
            "detail": self.message,
        });
        if let Some(field) = self.field {
            body["field"] = serde_json::Value::from(field);
        }
        body.to_string()
    }
}

impl From<CoreError> for Problem {
    fn from(err: CoreError) -> Self {
        Problem::from_core(err, "")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_errors_keep_their_words_and_find_their_field() {
        let taken = Problem::from_core(CoreError::NameInUse { name: "Info".into() }, "address");
        assert_eq!(taken.field, Some("name"));
        assert_eq!(taken.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(taken.message, "The name \"Info\" is already being used. Please try another name.");
        let denied = Problem::from_core(CoreError::PermissionDenied, "name");
        assert_eq!(denied.status, StatusCode::FORBIDDEN);
        assert_eq!(denied.field, None);
        let json: serde_json::Value = serde_json::from_str(&taken.to_json()).expect("json");
        assert_eq!(json["status"], 422);
        assert_eq!(json["field"], "name");
        assert_eq!(json["detail"], taken.message);
    }
}
