//! Reading back what a store wrote, the same way for both backends: a
//! value that can't be what was written is reported as corrupt data.

use mailroom_core::store::{StoreError, StoreResult};
use mailroom_types::BlobId;

/// Stored data that isn't what a store writes.
pub(crate) fn corrupt(what: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(format!("stored data is not valid: {what}").into())
}

/// A body's content address as stored (32 octets).
pub(crate) fn blob_id(bytes: Vec<u8>) -> StoreResult<BlobId> {
    let array: [u8; 32] = bytes.try_into().map_err(|_| corrupt("blob id length"))?;
    Ok(BlobId(array))
}

/// The decoded `Subject:` of a message from its stored header fields (a
/// JSON list of (name, value) pairs), or `""`: a trail entry names its
/// message by it. Read here, not by the database's JSON functions, which
/// refuse some of what mail holds (PostgreSQL's `jsonb` a `\u0000`).
pub(crate) fn subject_of_headers(json: &str) -> String {
    let headers: Vec<(String, String)> = serde_json::from_str(json).unwrap_or_default();
    subject_in(&headers)
}

/// [`subject_of_headers`] from a whole stored summary.
pub(crate) fn subject_of_summary(json: &str) -> String {
    let summary: serde_json::Value = serde_json::from_str(json).unwrap_or_default();
    let headers: Vec<(String, String)> =
        summary.get("headers").and_then(|h| serde_json::from_value(h.clone()).ok()).unwrap_or_default();
    subject_in(&headers)
}

fn subject_in(headers: &[(String, String)]) -> String {
    let subject =
        headers.iter().find(|(name, _)| name.eq_ignore_ascii_case("subject")).map(|(_, v)| v.trim());
    text(subject.unwrap_or_default())
}

/// Text a trail entry keeps, without NUL characters, which PostgreSQL's
/// text can't hold (a broken header can decode to one).
pub(crate) fn text(value: &str) -> String {
    value.replace('\0', "")
}
