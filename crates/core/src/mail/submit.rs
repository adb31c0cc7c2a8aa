//! Submission (SPEC §2, §3): who may send as which address, what the
//! message must say about the person, and where copies go. The protocol
//! (SMTP submission) asks [`Mail::authorize_submission`] once the message
//! is in, rewrites the header as the answer says, and hands the result to
//! [`Mail::store_submission`].

use mailroom_types::{EmailAddress, MailboxId, PrincipalId};

use super::outbound::{Outbound, OutgoingCopy};
use super::{
    DeliveryTarget, Flags, HeaderProblem, Mail, MessageSummary, NewActivity, SpecialUse, StorageLimitStatus,
    SystemFlag,
};
use crate::error::{CoreError, CoreResult};
use crate::permissions::SubmitAs;
use crate::store::{Delivered, FolderRef};

/// Why a submission is refused; each has its SMTP reply in the protocol.
#[derive(Debug, thiserror::Error)]
pub enum SubmitRefusal {
    /// The account was blocked, converted to a shared mailbox or removed
    /// since it signed in: its session sends nothing more (SPEC §2,
    /// "effective immediately").
    #[error("This account can no longer sign in or send mail; ask your administrator.")]
    SignedOut,
    /// SPEC §2: neither the address's owner nor Send As / Send on Behalf
    /// (`550 5.7.60`).
    #[error("You don't have permission to send the message on behalf of the specified user.")]
    NotPermitted { address: EmailAddress },
    /// SPEC §3: the mailbox sent from is past its ProhibitSendQuota (`554 5.2.2`).
    #[error(
        "The mailbox {address} is over its ProhibitSendQuota ({quota}); sending from it is refused until items are deleted or the quota is raised."
    )]
    OverSendQuota { address: EmailAddress, quota: String },
    /// A message needs a `From:` (RFC 5322 §3.6) to decide anything.
    #[error("The message has no From: header field; add one naming the sending address.")]
    NoFrom,
    /// Several `From:` fields or addresses: only one can be checked, so
    /// none is trusted.
    #[error("The message's From: must name exactly one address (it has several).")]
    SeveralFrom,
    /// The header's sender fields couldn't all be read, so "exactly one
    /// `From:`" can't be known (`552 5.3.4` / `550 5.6.0`).
    #[error("{}", header_problem_text(*.0))]
    Header(HeaderProblem),
    #[error(transparent)]
    Core(#[from] CoreError),
}

/// What was decided for one submitted message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Submission {
    /// The signed-in person.
    pub principal: PrincipalId,
    /// The address in `From:`.
    pub from: EmailAddress,
    pub authority: SubmitAs,
    /// `Sender:` as the server writes it on Send on Behalf: the person's
    /// display name and primary address. A `Sender:` the client wrote is
    /// always removed — it names who sent the message, which only the
    /// server knows (Send As shows no trace of the person).
    pub sender_header: Option<String>,
    /// The shared mailbox whose Sent Items get a copy (the mailbox's
    /// MessageCopyForSentAsEnabled / MessageCopyForSendOnBehalfEnabled).
    pub sent_items_copy: Option<MailboxId>,
    /// The mailbox of the address sent as or on behalf of (not the
    /// person's own): its trail records the sending.
    pub sent_from_mailbox: Option<MailboxId>,
}

impl Mail {
    /// Decides a submission from the signed-in `principal`, the envelope
    /// sender and the message's `From:` (SPEC §3: both are checked). Rights
    /// are read now: a grant made a second ago counts, a removal too.
    pub async fn authorize_submission(
        &self,
        principal: PrincipalId,
        envelope_from: Option<&EmailAddress>,
        summary: &MessageSummary,
    ) -> Result<Submission, SubmitRefusal> {
        // Asked for every message: a session signed in before the account
        // was blocked or converted doesn't go on sending.
        if !self.dir.still_signed_in(principal).await? {
            return Err(SubmitRefusal::SignedOut);
        }
        if let Some(problem) = summary.header_problem {
            // A From: the summary couldn't hold would go uncounted.
            return Err(SubmitRefusal::Header(problem));
        }
        if summary.field_count("From") > 1 || summary.envelope.from.len() > 1 {
            return Err(SubmitRefusal::SeveralFrom);
        }
        let from = summary
            .envelope
            .from
            .first()
            .and_then(|a| Some(format!("{}@{}", a.mailbox.as_deref()?, a.host.as_deref()?)))
            .and_then(|text| EmailAddress::parse(&text).ok())
            .ok_or(SubmitRefusal::NoFrom)?;
        let authority = self.dir.submission_authority(principal, &from).await?;
        if authority == SubmitAs::Refused {
            return Err(SubmitRefusal::NotPermitted { address: from });
        }
        // The envelope sender too: bounces must not go to an address the
        // person can't send as. `<>` claims nobody.
        if let Some(envelope) = envelope_from
            && *envelope != from
            && self.dir.submission_authority(principal, envelope).await? == SubmitAs::Refused
        {
            return Err(SubmitRefusal::NotPermitted { address: envelope.clone() });
        }
        let person = self.dir.recipient(principal).await?;
        let mailbox = match authority {
            SubmitAs::Own => person.mailbox_id(),
            SubmitAs::SendAs { recipient } | SubmitAs::OnBehalf { recipient } => {
                self.dir.recipient(recipient).await?.mailbox_id()
            }
            SubmitAs::Refused => None,
        };
        let mut sent_items_copy = None;
        if let Some(mailbox) = mailbox {
            let (_, status) = self.storage_status(mailbox).await?;
            if matches!(status, StorageLimitStatus::ProhibitSend | StorageLimitStatus::MailboxDisabled) {
                let settings = self.dir.mailbox_settings(mailbox).await?;
                return Err(SubmitRefusal::OverSendQuota {
                    address: from,
                    quota: crate::directory::format_quota(settings.quota.prohibit_send),
                });
            }
            let settings = self.dir.mailbox_settings(mailbox).await?;
            let copy = match authority {
                SubmitAs::SendAs { .. } => settings.message_copy_for_sent_as,
                SubmitAs::OnBehalf { .. } => settings.message_copy_for_send_on_behalf,
                SubmitAs::Own | SubmitAs::Refused => false,
            };
            sent_items_copy = copy.then_some(mailbox);
        }
        let sender_header = matches!(authority, SubmitAs::OnBehalf { .. })
            .then(|| sender_field(&person.display_name, &person.primary_address));
        let sent_from_mailbox = match authority {
            SubmitAs::SendAs { .. } | SubmitAs::OnBehalf { .. } => mailbox,
            SubmitAs::Own | SubmitAs::Refused => None,
        };
        Ok(Submission { principal, from, authority, sender_header, sent_items_copy, sent_from_mailbox })
    }

    /// Stores a submitted message (its header already rewritten): in the
    /// Inbox of each local recipient mailbox, in the shared mailbox's Sent
    /// Items, `\Seen`, when the decision says so, in `own_sent_items`'s Sent
    /// Items when the protocol files the sender's copy itself (the web app;
    /// a mail client APPENDs its own), and in the outbound queue for each
    /// `remote` recipient — one body, one durable transaction, before the
    /// protocol acknowledges.
    #[allow(clippy::too_many_arguments)]
    pub async fn store_submission(
        &self,
        bytes: Vec<u8>,
        summary: &MessageSummary,
        submission: &Submission,
        local: &[MailboxId],
        outbound: &Outbound,
        copies: Vec<OutgoingCopy>,
        own_sent_items: Option<MailboxId>,
    ) -> CoreResult<Vec<Delivered>> {
        let mut targets: Vec<DeliveryTarget> = local
            .iter()
            .copied()
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .map(|mailbox| DeliveryTarget {
                mailbox,
                folder: FolderRef::Special(SpecialUse::Inbox),
                flags: Flags::default(),
            })
            .collect();
        for mailbox in [submission.sent_items_copy, own_sent_items].into_iter().flatten() {
            targets.push(DeliveryTarget {
                mailbox,
                folder: FolderRef::Special(SpecialUse::Sent),
                flags: Flags::default().with(SystemFlag::Seen),
            });
        }
        let activity = submission_activity(submission, &targets, summary);
        let delivered = self.store_and_queue(bytes, summary, &targets, outbound, copies, activity).await?;
        for copy in &delivered {
            if let Err(err) = self.warn_if_over_quota(copy).await {
                tracing::warn!(mailbox = %copy.mailbox, error = %err, "quota warning not sent");
            }
        }
        Ok(delivered)
    }
}

/// A submission's trail: `Delivered` in each local recipient's mailbox,
/// and `Sent` (by the person) in the mailbox sent from when it is shared.
fn submission_activity(
    submission: &Submission,
    targets: &[DeliveryTarget],
    summary: &MessageSummary,
) -> Vec<NewActivity> {
    // The recipients' copies, not the sender's copies in Sent Items.
    let inboxes: Vec<DeliveryTarget> =
        targets.iter().filter(|t| t.folder == FolderRef::Special(SpecialUse::Inbox)).cloned().collect();
    let mut activity = super::activity::delivered(&inboxes, summary);
    if let Some(mailbox) = submission.sent_from_mailbox {
        let how = match submission.authority {
            SubmitAs::OnBehalf { .. } => "on behalf of",
            _ => "as",
        };
        // The To: field, not the envelope: Bcc recipients stay unnamed.
        let to = summary.field("to");
        activity.push(NewActivity {
            mailbox,
            actor: Some(submission.principal),
            action: super::ActivityAction::Sent,
            detail: format!("{how} {} to {to}", submission.from),
        });
    }
    activity
}

/// What a client is told about a header no sending rule could read whole.
pub fn header_problem_text(problem: HeaderProblem) -> &'static str {
    match problem {
        HeaderProblem::TooLarge => {
            "The message's From: or Sender: fields are too large to check (more than 64 KiB); send it with a normal header."
        }
        HeaderProblem::Unreadable => {
            "The message header can't be read as one: a line in it holds only spaces or a stray CR (RFC 5322 §2.2); send it with a valid header."
        }
    }
}

/// `Display Name <address>`, the display name quoted when it needs it
/// (RFC 5322 §3.4) and encoded when it isn't ASCII (RFC 2047).
fn sender_field(display_name: &str, address: &EmailAddress) -> String {
    let name = display_name.trim();
    if name.is_empty() {
        return format!("<{address}>");
    }
    if !name.is_ascii() {
        return format!("=?UTF-8?B?{}?= <{address}>", mailroom_types::base64::encode(name.as_bytes()));
    }
    let atoms =
        name.chars().all(|c| c.is_ascii_alphanumeric() || c == ' ' || "!#$%&'*+-/=?^_`{|}~".contains(c));
    if atoms {
        format!("{name} <{address}>")
    } else {
        let quoted = name.replace('\\', "\\\\").replace('"', "\\\"");
        format!("\"{quoted}\" <{address}>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sender_fields() {
        let a = EmailAddress::parse("alice@contoso.com").unwrap();
        assert_eq!(sender_field("Alice Jones", &a), "Alice Jones <alice@contoso.com>");
        assert_eq!(sender_field("Jones, Alice", &a), "\"Jones, Alice\" <alice@contoso.com>");
        assert_eq!(sender_field("", &a), "<alice@contoso.com>");
        assert_eq!(sender_field("Jürgen", &a), "=?UTF-8?B?SsO8cmdlbg==?= <alice@contoso.com>");
    }
}
