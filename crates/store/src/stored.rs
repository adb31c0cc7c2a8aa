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
