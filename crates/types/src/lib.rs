//! Identifiers and validated value objects shared by every Mailroom crate.
//!
//! Nothing here does I/O or knows about a protocol. The types exist so that the
//! rest of the code cannot mix up a mailbox with a principal, or pass an
//! unvalidated string where an email address is meant (DESIGN.md house rule 3).

mod address;
pub mod base64;
mod blob;
mod ids;
mod secret;

pub use address::{AddressError, DomainName, EmailAddress};
pub use blob::BlobId;
pub use ids::{CalendarId, FolderId, MailboxId, ModSeq, PrincipalId, Uid};
pub use secret::Secret;
