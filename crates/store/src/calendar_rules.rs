//! What both stores decide alike about calendar objects: the ETag a body
//! gets, and whether a write's precondition holds.

use mailroom_core::calendar::Precondition;
use sha2::{Digest, Sha256};

/// A strong ETag from the content: the same bytes give the same tag, on
/// either store.
pub(crate) fn etag_of(data: &str) -> String {
    let digest = Sha256::digest(data.as_bytes());
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("\"{hex}\"")
}

/// Whether `precondition` holds for an object whose current ETag is `current`
/// (`None`: there is no such object).
pub(crate) fn holds(precondition: &Precondition, current: Option<&str>) -> bool {
    match precondition {
        Precondition::None => true,
        Precondition::Exists => current.is_some(),
        Precondition::Absent => current.is_none(),
        Precondition::EtagIs(tag) => current == Some(tag.as_str()),
    }
}
