//! Who may claim the organisation's addresses on the open port (port 25).
//!
//! Mail from the organisation's own people comes through submission, signed
//! in, where Send As and Send on Behalf are checked (SPEC §2). A message
//! arriving *anonymously* that names one of our accepted domains as its
//! envelope sender, its `From:` or its `Sender:` would show in a member's
//! Inbox exactly like a real Send As — so it is refused, as Exchange's
//! anonymous connector refuses authoritative-domain senders, unless the
//! protocol could prove the message is ours coming back:
//!
//! - an envelope sender that is an SRS address we signed (a forwarded copy,
//!   or its bounce, returning), or the mailbox named by a loop marker we
//!   signed (a forwarded copy whose original sender was too long to rewrite
//!   leaves from the forwarding mailbox itself).
//!
//! The loop marker names a mailbox, not a message, so it is never taken as
//! proof for the visible `From:`/`Sender:`: a forwarded copy of internal mail
//! that an outside system sends back is refused (its bounce reaches the
//! sender). DKIM signatures by our own key are the proof that will let such
//! a message pass; [`OwnOrigin`] is where the protocol reports them.
//!
//! The same check fails closed on a header too large to be summarised
//! whole: a `From:` the summary couldn't hold can't be checked.

use std::collections::BTreeSet;

use mailroom_types::{DomainName, EmailAddress};

use super::{Mail, MessageSummary};
use crate::error::CoreError;

/// What the protocol verified about a message's origin before asking.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OwnOrigin {
    /// The envelope sender is an SRS address of ours whose keyed hash and
    /// age check out.
    pub envelope_is_our_srs: bool,
    /// Mailboxes (lower case) named by loop markers whose keyed hash checks
    /// out: copies this server forwarded through them.
    pub forwarded_by: BTreeSet<String>,
}

/// Why an anonymous message is refused.
#[derive(Debug, thiserror::Error)]
pub enum SenderRefusal {
    /// `550 5.7.1`: an address of ours, from outside.
    #[error(
        "{address} is an address of this organisation; its mail is sent through submission (port 587) with the sender's account, not anonymously"
    )]
    OwnAddress {
        /// Where the address stood: "envelope sender", "From:" or "Sender:".
        field: &'static str,
        address: String,
    },
    /// `552 5.3.4`: the header is larger than any real message's, so its
    /// sender fields can't all be read.
    #[error("The message header is too large (more than 256 KiB of fields)")]
    HeaderTooLarge,
    /// `550 5.7.1`: two `From:` (or `Sender:`) fields, which RFC 5322
    /// §3.6 doesn't allow and clients show differently.
    #[error("The message has more than one {field}: field (RFC 5322 §3.6 allows one)")]
    SeveralFields { field: &'static str },
    #[error(transparent)]
    Core(#[from] CoreError),
}

impl Mail {
    /// Decides whether a message received without sign-in may be delivered
    /// as far as its senders go (see the module documentation).
    pub async fn check_anonymous_sender(
        &self,
        envelope_from: Option<&EmailAddress>,
        summary: &MessageSummary,
        origin: &OwnOrigin,
    ) -> Result<(), SenderRefusal> {
        if summary.header_truncated {
            return Err(SenderRefusal::HeaderTooLarge);
        }
        // RFC 5322 §3.6: one From: and at most one Sender:. The summary's
        // envelope reads the first of each; a second one could name us and
        // be what a client shows.
        for field in ["From", "Sender"] {
            if summary.headers.iter().filter(|(name, _)| name.eq_ignore_ascii_case(field)).count() > 1 {
                return Err(SenderRefusal::SeveralFields { field });
            }
        }
        if let Some(envelope) = envelope_from
            && self.dir.is_accepted_domain(envelope.domain()).await?
        {
            let came_back = origin.envelope_is_our_srs
                || origin.forwarded_by.contains(&envelope.to_string().to_ascii_lowercase());
            if !came_back {
                let address = envelope.to_string();
                return Err(SenderRefusal::OwnAddress { field: "envelope sender", address });
            }
        }
        for (field, addresses) in [("From:", &summary.envelope.from), ("Sender:", &summary.envelope.sender)] {
            for address in addresses {
                // By the domain alone: a local part that isn't a valid
                // address of ours still shows our domain to the reader.
                let Some(host) = &address.host else { continue };
                let Ok(domain) = DomainName::parse(host.trim().trim_matches(['[', ']'])) else { continue };
                if self.dir.is_accepted_domain(&domain).await? {
                    let local = address.mailbox.as_deref().unwrap_or_default();
                    return Err(SenderRefusal::OwnAddress { field, address: format!("{local}@{domain}") });
                }
            }
        }
        Ok(())
    }
}
