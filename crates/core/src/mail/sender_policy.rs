//! Who may claim the organisation's addresses on the open port (port 25).
//!
//! Mail from the organisation's own people comes through submission, signed
//! in, where Send As and Send on Behalf are checked (SPEC §2). A message
//! arriving *anonymously* that names one of our accepted domains as its
//! envelope sender, in its `From:` or `Sender:` (address or display name)
//! would show in a member's Inbox exactly like a real Send As — so it is
//! refused, as Exchange's anonymous connector refuses authoritative-domain
//! senders, unless the protocol could prove it is ours:
//!
//! - it comes from a host the admin trusts to send as the organisation
//!   (`[smtp] trusted_relays`: a scanner, a web form, an application);
//! - its envelope sender is an SRS address we signed (a forwarded copy, or its
//!   bounce, returning), or the mailbox named by a loop marker we signed (a
//!   forwarded copy whose original sender was too long to rewrite leaves
//!   from the forwarding mailbox itself).
//!
//! The loop marker names a mailbox, not a message, so it is never taken as
//! proof for the visible `From:`/`Sender:`: a forwarded copy of internal mail
//! that an outside system sends back is refused (its bounce reaches the
//! sender). DKIM signatures by our own key are the proof that will let such
//! a message pass; [`OwnOrigin`] is where the protocol reports them.
//!
//! The check fails closed on a header whose sender fields can't all be read
//! (two `From:` fields, a header the parser would end early, `From:` fields
//! too large to hold).
//!
//! Not covered: a domain of ours written in another form (an IDN as its
//! `xn--` A-label or the reverse) is compared as written.

use std::collections::BTreeSet;

use mailroom_types::{DomainName, EmailAddress};

use super::{EnvelopeAddress, HeaderProblem, Mail, MessageSummary};
use crate::error::CoreError;

/// What the protocol verified about a message's origin before asking.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OwnOrigin {
    /// The client's address is one the admin trusts to send as us.
    pub trusted_relay: bool,
    /// The envelope sender is an SRS address of ours whose keyed hash and
    /// age check out.
    pub envelope_is_our_srs: bool,
    /// Mailboxes (lower case) named by loop markers whose keyed hash and age
    /// check out: copies this server forwarded through them.
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
        /// Where it stood: "envelope sender", "From:", "Sender:".
        field: &'static str,
        address: String,
    },
    /// `550 5.7.1`: two `From:` (or `Sender:`) fields, which RFC 5322
    /// §3.6 doesn't allow and clients show differently.
    #[error("The message has more than one {field}: field (RFC 5322 §3.6 allows one)")]
    SeveralFields { field: &'static str },
    /// `552 5.3.4` / `550 5.6.0`: the sender fields couldn't all be read.
    #[error("{}", super::submit::header_problem_text(*.0))]
    Header(HeaderProblem),
    #[error(transparent)]
    Core(#[from] CoreError),
}

/// Text as a reader would take it: the fullwidth forms of ASCII
/// (U+FF01–U+FF5E), the small and fullwidth commercial at, and the full
/// stops IDNA maps to `.` (U+3002, U+FF0E, U+FF61), as their ASCII selves.
fn fold(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\u{3002}' | '\u{FF61}' => '.',
            '\u{FE6B}' => '@',
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            c => c,
        })
        .collect()
}

/// A host name as a reader would take it (folded, brackets and spaces gone).
fn as_domain(host: &str) -> Option<DomainName> {
    DomainName::parse(fold(host).trim().trim_matches(['[', ']'])).ok()
}

/// The domains an address-list entry shows: its address's, and any
/// `…@domain` its display name or (quoted) local part spells out
/// (`"info@contoso.com" <x@elsewhere>`, `<"info@contoso.com"@elsewhere>`).
fn shown_domains(entry: &EnvelopeAddress) -> Vec<(String, DomainName)> {
    let mut shown = Vec::new();
    if let Some(domain) = entry.host.as_deref().and_then(as_domain) {
        let local = entry.mailbox.as_deref().unwrap_or_default();
        shown.push((format!("{local}@{domain}"), domain));
    }
    for text in [&entry.name, &entry.mailbox].into_iter().flatten() {
        let folded = fold(text);
        for (at, _) in folded.match_indices('@') {
            let host: String = folded[at + 1..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || matches!(c, '.' | '-'))
                .collect();
            if let Some(domain) = as_domain(host.trim_end_matches('.')) {
                shown.push((text.trim().to_string(), domain));
            }
        }
    }
    shown
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
        if let Some(problem) = summary.header_problem {
            return Err(SenderRefusal::Header(problem));
        }
        // RFC 5322 §3.6: one From: and at most one Sender:. The summary's
        // envelope reads the first of each; a second one could name us and
        // be what a client shows.
        for field in ["From", "Sender"] {
            if summary.field_count(field) > 1 {
                return Err(SenderRefusal::SeveralFields { field });
            }
        }
        if origin.trusted_relay {
            return Ok(());
        }
        let ours: Vec<DomainName> = self.dir.accepted_domains().await?.into_iter().map(|d| d.name).collect();
        if let Some(envelope) = envelope_from
            && ours.contains(envelope.domain())
        {
            let came_back = origin.envelope_is_our_srs
                || origin.forwarded_by.contains(&envelope.to_string().to_ascii_lowercase());
            if !came_back {
                let address = envelope.to_string();
                return Err(SenderRefusal::OwnAddress { field: "envelope sender", address });
            }
        }
        for (field, entries) in [("From:", &summary.envelope.from), ("Sender:", &summary.envelope.sender)] {
            for entry in entries {
                if let Some((address, _)) = shown_domains(entry).into_iter().find(|(_, d)| ours.contains(d)) {
                    return Err(SenderRefusal::OwnAddress { field, address });
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: Option<&str>, mailbox: &str, host: &str) -> EnvelopeAddress {
        EnvelopeAddress {
            name: name.map(String::from),
            mailbox: Some(mailbox.into()),
            host: Some(host.into()),
        }
    }

    fn domains(entry: &EnvelopeAddress) -> Vec<String> {
        shown_domains(entry).into_iter().map(|(_, d)| d.to_string()).collect()
    }

    #[test]
    fn every_domain_an_entry_shows() {
        assert_eq!(domains(&entry(None, "info", "Contoso.COM.")), ["contoso.com"]);
        assert_eq!(
            domains(&entry(None, "info", "contoso\u{3002}com")),
            ["contoso.com"],
            "ideographic full stop"
        );
        assert_eq!(domains(&entry(None, "x", "[contoso.com]")), ["contoso.com"]);
        assert_eq!(
            domains(&entry(Some("info@contoso.com"), "x", "evil.example")),
            ["evil.example", "contoso.com"],
            "a display name that spells out an address"
        );
        assert_eq!(domains(&entry(Some("Info Desk (contoso.com)"), "x", "evil.example")), ["evil.example"]);
        assert_eq!(
            domains(&entry(None, "\"info@contoso.com\"", "evil.example")),
            ["evil.example", "contoso.com"],
            "a quoted local part that spells out an address"
        );
        assert_eq!(
            domains(&entry(Some("info\u{FE6B}ｃｏｎｔｏｓｏ．ｃｏｍ"), "x", "evil.example")),
            ["evil.example", "contoso.com"],
            "fullwidth letters and a small commercial at"
        );
        assert!(domains(&EnvelopeAddress::default()).is_empty(), "a group's end marker");
    }
}
