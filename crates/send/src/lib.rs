//! Sending what a signed-in person wrote, whichever protocol carried it
//! (SMTP submission, the web app): the one pipeline both call, so the rules
//! can't differ between them.
//!
//! 1. `core` decides from the person, the envelope sender and `From:`
//!    (own address, Send As, Send on Behalf — SPEC §2; rights read now).
//! 2. The header is rewritten as that decision says: a client's `Sender:`
//!    removed, the server's written on Send on Behalf; `Date:` and
//!    `Message-ID:` added when missing (RFC 6409 §8).
//! 3. Local recipients' forwarding (with [`srs`] for other domains) and
//!    colleagues' automatic replies are worked out.
//! 4. Everything is stored in one transaction — local inboxes, the shared
//!    mailbox's Sent Items when it asks for a copy, the outbound queue —
//!    before the protocol answers.

pub mod srs;

use std::collections::BTreeMap;

use mailroom_core::CoreError;
use mailroom_core::mail::{
    FORWARDED_BY, Mail, MessageSummary, Outbound, OutgoingCopy, RecipientRoute, Submission, SubmitRefusal,
    Submitter,
};
use mailroom_mime::{edit_header, has_field, summarize};
use mailroom_types::{DomainName, EmailAddress, MailboxId, PrincipalId};

/// What the server adds to what it sends: its name (in `Message-ID:`) and
/// the SRS key.
#[derive(Clone, Copy, Debug)]
pub struct Sending<'a> {
    pub hostname: &'a str,
    pub srs_secret: &'a [u8],
}

/// One message to send.
#[derive(Debug)]
pub struct Outgoing<'a> {
    pub principal: PrincipalId,
    /// `None`: the null sender.
    pub envelope_from: Option<&'a EmailAddress>,
    /// Local recipients' mailboxes (groups expanded).
    pub local: &'a [MailboxId],
    /// Recipients in other domains (the outbound queue).
    pub remote: &'a [EmailAddress],
    pub message: Vec<u8>,
    pub summary: MessageSummary,
    /// The protocol's id for it (`Message-ID:` when the message has none).
    pub id: &'a str,
    /// File the sender's own copy in this mailbox's Sent Items, in the same
    /// transaction (the web app; a mail client files its own by APPEND).
    pub own_sent_items: Option<MailboxId>,
}

/// What was sent.
#[derive(Debug)]
pub struct Sent {
    pub submission: Submission,
    /// Copies stored here (inboxes, Sent Items).
    pub copies: usize,
    pub size: usize,
}

/// Why nothing was sent.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// `core` refused it; the message says why, in words for the person.
    #[error(transparent)]
    Refused(#[from] SubmitRefusal),
    /// A storage failure: nothing was stored, nothing acknowledged.
    #[error(transparent)]
    Failed(#[from] CoreError),
}

/// Sends `outgoing` (steps 1–4 above). Nothing is stored unless all of it is.
pub async fn send(mail: &Mail, sending: Sending<'_>, outgoing: Outgoing<'_>) -> Result<Sent, SendError> {
    let Outgoing { principal, envelope_from, local, remote, message, summary, id, own_sent_items } = outgoing;
    let submission = mail.authorize_submission(principal, envelope_from, &summary).await?;
    let mut add = Vec::new();
    if let Some(sender) = &submission.sender_header {
        add.push(format!("Sender: {sender}"));
    }
    if !has_field(&message, "Date") {
        add.push(format!("Date: {}", chrono::Utc::now().format("%a, %d %b %Y %H:%M:%S +0000")));
    }
    if !has_field(&message, "Message-ID") {
        add.push(format!("Message-ID: <{id}@{}>", sending.hostname));
    }
    // Parsed again only when the header changed.
    let (message, summary) = if add.is_empty() && !has_field(&message, "Sender") {
        (message, summary)
    } else {
        let edited = edit_header(&message, &["Sender"], &add);
        let summary = summarize(&edited);
        (edited, summary)
    };
    let size = message.len();
    // Local recipients' forwarding applies to submitted mail too.
    let plan = mail.plan_inbound(local, &Default::default()).await?;
    let mut copies = forward_copies(sending.srs_secret, &message, envelope_from, &plan.forward, &[]);
    // Colleagues' automatic replies, stored with the message.
    copies.extend(mail.auto_reply_copies(envelope_from, &summary, &plan.keep).await?);
    let outbound = Outbound { envelope_from: envelope_from.cloned(), recipients: remote.to_vec() };
    let stored = mail
        .store_submission(message, &summary, &submission, &plan.keep, &outbound, copies, own_sent_items)
        .await?;
    Ok(Sent { submission, copies: stored.len(), size })
}

/// Why a message's recipients can't all be sent to.
#[derive(Debug, PartialEq, Eq)]
pub enum RouteRefusal {
    /// More recipients than one message may have (SMTP's `max_recipients`).
    TooMany { max: usize },
    /// This recipient can't be sent to, and why.
    Recipient(EmailAddress, RecipientRoute),
}

/// Where the recipients of a message a signed-in person sends go, as SMTP
/// submission decides them: local mailboxes and addresses in other domains,
/// each once (an address given twice — To and Cc — gets one copy), at most
/// `max` distinct recipients; or why not.
pub async fn route(
    mail: &Mail,
    principal: PrincipalId,
    recipients: &[EmailAddress],
    max: usize,
) -> Result<Result<(Vec<MailboxId>, Vec<EmailAddress>), RouteRefusal>, CoreError> {
    let mut distinct: Vec<&EmailAddress> = Vec::new();
    for rcpt in recipients {
        if !distinct.contains(&rcpt) {
            distinct.push(rcpt);
        }
    }
    if distinct.len() > max {
        return Ok(Err(RouteRefusal::TooMany { max }));
    }
    let (mut local, mut remote) = (Vec::new(), Vec::new());
    for rcpt in distinct {
        match mail.route_recipient(Submitter::SignedIn(principal), rcpt, None).await? {
            RecipientRoute::Deliver(mailboxes) => local.extend(mailboxes),
            RecipientRoute::Queue(address) => {
                if !remote.contains(&address) {
                    remote.push(address);
                }
            }
            refused => return Ok(Err(RouteRefusal::Recipient(rcpt.clone(), refused))),
        }
    }
    local.sort();
    local.dedup();
    Ok(Ok((local, remote)))
}

/// The copies that forwarding sends to other domains: one per forwarding
/// mailbox, marked with who forwarded it (so a copy that comes back isn't
/// forwarded again), from an SRS address of that mailbox's domain, under
/// that domain's ARC set from `seals` when it has one.
pub fn forward_copies(
    secret: &[u8],
    message: &[u8],
    from: Option<&EmailAddress>,
    forward: &[(EmailAddress, EmailAddress)],
    seals: &[(DomainName, String)],
) -> Vec<OutgoingCopy> {
    let mut by_mailbox: BTreeMap<String, (EmailAddress, Vec<EmailAddress>)> = BTreeMap::new();
    for (to, by) in forward {
        by_mailbox.entry(by.to_string()).or_insert_with(|| (by.clone(), Vec::new())).1.push(to.clone());
    }
    let day = chrono::Utc::now().timestamp() / 86_400;
    by_mailbox
        .into_values()
        .map(|(by, to)| {
            let marker = srs::forwarded_by(&by, secret, day);
            let mut copy = format!("{FORWARDED_BY}: {marker}\r\n").into_bytes();
            // The ARC set of the forwarding mailbox's domain, when the
            // message was checked on arrival (RFC 8617 §5.1).
            if let Some((_, set)) = seals.iter().find(|(domain, _)| domain == by.domain()) {
                copy.extend_from_slice(set.as_bytes());
            }
            copy.extend_from_slice(message);
            let summary = summarize(&copy);
            // SRS keeps the original sender's SPF valid; an address too long
            // to rewrite leaves from the forwarding mailbox itself (its
            // bounces come back there). The null sender stays null.
            let sender = from.map(|f| srs::rewrite(f, by.domain(), secret, day).unwrap_or_else(|| by.clone()));
            tracing::info!(mailbox = %by, to = ?to.iter().map(|t| t.to_string()).collect::<Vec<_>>(), "forwarding");
            let outbound = Outbound { envelope_from: sender, recipients: to };
            OutgoingCopy::remote(copy, summary, outbound)
        })
        .collect()
}
