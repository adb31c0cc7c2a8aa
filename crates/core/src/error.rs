//! The one error type of the domain core.
//!
//! Messages are what an administrator or user sees. Where Exchange has a
//! well-known wording, the message uses it (SPEC §1), so admins recognise it
//! and search engines find the explanation. Storage failures carry no detail
//! for the client; the cause is logged where it happened (DESIGN.md rule 9).

use mailroom_types::{AddressError, DomainName, EmailAddress};

use crate::store::StoreError;

pub type CoreResult<T> = Result<T, CoreError>;

#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    /// The actor is not an administrator (SPEC §1, Admin roles).
    #[error("You don't have permission to access this page or perform this action.")]
    PermissionDenied,

    #[error("The operation couldn't be performed because object '{identity}' couldn't be found.")]
    NotFound { identity: String },

    #[error(
        "The operation couldn't be performed because '{identity}' matches multiple entries: {candidates}. Use an email address to identify the recipient."
    )]
    Ambiguous { identity: String, candidates: String },

    /// SPEC §1, Address uniqueness: the wording Exchange admins know.
    #[error(
        "The proxy address \"{prefix}:{address}\" is already being used by the proxy addresses of \"{holder}\". Choose another proxy address."
    )]
    AddressInUse { prefix: &'static str, address: EmailAddress, holder: String },

    #[error("The name \"{name}\" is already being used. Please try another name.")]
    NameInUse { name: String },

    #[error("The alias \"{alias}\" is already being used by \"{holder}\". Please try another alias.")]
    AliasInUse { alias: String, holder: String },

    #[error(
        "The email address \"{address}\" isn't correct: \"{domain}\" isn't an accepted domain for your organization. Add it first with 'mailroom domain add {domain}'."
    )]
    DomainNotAccepted { address: EmailAddress, domain: DomainName },

    #[error("The domain \"{0}\" is already an accepted domain.")]
    DomainExists(DomainName),

    /// SPEC §1: only people inside the organisation can hold permissions.
    #[error(
        "\"{0}\" is outside your organization. Only users and security groups of this organization can hold permissions on a mailbox."
    )]
    ExternalTrustee(EmailAddress),

    #[error("\"{trustee}\" can't hold this permission: {reason}")]
    InvalidTrustee { trustee: String, reason: String },

    #[error(
        "The group \"{member}\" can't be added to \"{group}\" because \"{group}\" is already a member of \"{member}\" (directly or through nested groups)."
    )]
    GroupCycle { group: String, member: String },

    #[error(
        "A password is required to convert \"{mailbox}\" to a user mailbox: give the new password with it."
    )]
    PasswordRequired { mailbox: String },

    #[error(transparent)]
    InvalidAddress(#[from] AddressError),

    /// SPEC §3: past ProhibitSendReceive nothing more goes into the mailbox.
    #[error("The mailbox \"{mailbox}\" is full: it is over its ProhibitSendReceive quota.")]
    MailboxFull { mailbox: String },

    /// SPEC §2: a mailbox's items are for its owner and its Full Access holders.
    #[error(
        "You don't have Full Access to the mailbox \"{mailbox}\". An administrator can grant it (Add-MailboxPermission -AccessRights FullAccess)."
    )]
    NoAccess { mailbox: String },

    /// A member whose Full Access is NoPurge deletes, but never destroys:
    /// what they delete stays in Recoverable Items.
    #[error(
        "Your Full Access to this mailbox doesn't include purging (NoPurge): deleted messages stay in its Recoverable Items until their retention period ends. A member without NoPurge, or the mailbox's owner, can purge them."
    )]
    NoPurge {
        /// The mailbox, for the log.
        mailbox: String,
    },

    /// Recoverable Items is at its `RecoverableItemsQuota`: a delete would
    /// have to destroy something to keep its messages, so it is refused.
    #[error(
        "Recoverable Items of the mailbox \"{mailbox}\" is full (RecoverableItemsQuota): nothing more can be deleted until messages there are restored, purged or expire. An administrator can raise the quota (Set-Mailbox -RecoverableItemsQuota)."
    )]
    RecoverableItemsFull { mailbox: String },

    /// Any other refused input; the message names what to fix.
    #[error("{0}")]
    Invalid(String),

    #[error(
        "The operation couldn't be completed because of a storage error. The server log has the details."
    )]
    Storage,
}

impl From<StoreError> for CoreError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::AddressTaken { address, holder, primary } => {
                CoreError::AddressInUse { prefix: if primary { "SMTP" } else { "smtp" }, address, holder }
            }
            StoreError::NameTaken { name } => CoreError::NameInUse { name },
            StoreError::AliasTaken { alias, holder } => CoreError::AliasInUse { alias, holder },
            StoreError::DomainExists(domain) => CoreError::DomainExists(domain),
            // The core checks for cycles with names first; this is the race.
            StoreError::WouldCycle => CoreError::Invalid(
                "That membership would put a group inside itself (directly or through nested groups).".into(),
            ),
            StoreError::NotFound(identity) => CoreError::NotFound { identity },
            StoreError::Backend(cause) => {
                tracing::error!(error = %cause, "store operation failed");
                CoreError::Storage
            }
        }
    }
}
