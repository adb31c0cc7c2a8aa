//! Automatic replies (SPEC §3, RFC 3834): who gets one, with which text,
//! and only once per sender per enabled period. The reply is a message
//! ([`super::notice`]) stored in the transaction that accepts the original,
//! with a claim that makes it the only one for its period — so a crash
//! after the `250` neither loses it nor, after a retry, sends it twice.

use mailroom_types::{EmailAddress, MailboxId};

use super::notice::{TextMessage, text_message};
use super::{Mail, MessageSummary, OutgoingCopy};
use crate::directory::{AutoReplyState, ExternalAudience};
use crate::error::CoreResult;
use crate::store::Claim;

/// One automatic reply to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AutoReply {
    /// The mailbox that answers, as `From:`.
    pub from: EmailAddress,
    pub from_name: String,
    /// Who it goes to: the original envelope sender (RFC 3834 §4).
    pub to: EmailAddress,
    /// The text the owner set (internal or external).
    pub text: String,
    /// The original's Subject, Message-ID and References, for threading.
    pub subject: String,
    pub message_id: Option<String>,
    pub references: Option<String>,
}

/// Senders that are software, never people (RFC 3834 §2).
fn automated_sender(sender: &EmailAddress) -> bool {
    let local = sender.local_part().to_ascii_lowercase();
    local == "mailer-daemon" || local.starts_with("owner-") || local.ends_with("-request")
}

/// Whether `address` is among the message's To/Cc recipients (RFC 3834 §2:
/// a reply only when the mailbox was addressed, not when the mail came
/// through a list or a Bcc — which also keeps one message to a large group
/// from drawing a reply from every member).
fn addressed(summary: &MessageSummary, addresses: &[String]) -> bool {
    summary
        .headers
        .iter()
        .filter(|(name, _)| {
            ["to", "cc", "resent-to", "resent-cc"].contains(&name.to_ascii_lowercase().as_str())
        })
        .any(|(_, value)| {
            let value = value.to_ascii_lowercase();
            addresses.iter().any(|a| value.contains(a.as_str()))
        })
}

/// RFC 3834 §2 and SPEC §3: mail that must never get an automatic reply.
fn never_answered(summary: &MessageSummary) -> Option<&'static str> {
    let header = |name: &str| {
        let value = summary.field(name);
        (summary.field_count(name) > 0).then(|| value.to_ascii_lowercase())
    };
    if header("Auto-Submitted").is_some_and(|v| v != "no") {
        return Some("auto-submitted");
    }
    if header("Precedence").is_some_and(|v| matches!(v.as_str(), "bulk" | "list" | "junk")) {
        return Some("bulk or list precedence");
    }
    if header("List-Id").is_some() || header("List-Unsubscribe").is_some() {
        return Some("mailing list");
    }
    None
}

/// A short fingerprint of a text (FNV-1a): a changed reply text is a new period.
fn fingerprint(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, b| (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

/// RFC 3834 §3.1.7: a message id in angle brackets (the parsed header keeps it bare).
fn angled(id: &str) -> String {
    let id = id.trim().trim_start_matches('<').trim_end_matches('>');
    format!("<{}>", id.replace(['\r', '\n', ' ', '<', '>'], ""))
}

impl AutoReply {
    /// The reply as a message (RFC 3834 §3): from the mailbox, to the
    /// original sender, `Auto-Submitted: auto-replied` so that other
    /// responders stay quiet, threaded with `In-Reply-To` and `References`.
    pub fn message(&self) -> (Vec<u8>, MessageSummary) {
        let mut fields = Vec::new();
        if let Some(original) = self.message_id.as_deref().map(angled) {
            let mut references: Vec<String> =
                self.references.as_deref().unwrap_or_default().split_whitespace().map(angled).collect();
            references.push(original.clone());
            fields.push(("In-Reply-To", original));
            fields.push(("References", references.join(" ")));
        }
        fields.push(("Auto-Submitted", "auto-replied".to_string()));
        let random: String = crate::auth::random_bytes(8).iter().map(|b| format!("{b:02x}")).collect();
        text_message(TextMessage {
            from_name: &self.from_name,
            from: &self.from,
            to: &self.to,
            subject: &format!("Automatic reply: {}", self.subject),
            message_id: format!("auto-{random}@{}", self.from.domain()),
            fields,
            body: &self.text,
        })
    }
}

impl Mail {
    /// The automatic replies a delivery to `mailboxes` calls for, from
    /// `envelope_from` (the null sender gets none), as messages to store
    /// with it: each with the claim that keeps it to one per sender, per
    /// mailbox, per enabled period.
    pub async fn auto_reply_copies(
        &self,
        envelope_from: Option<&EmailAddress>,
        summary: &MessageSummary,
        mailboxes: &[MailboxId],
    ) -> CoreResult<Vec<OutgoingCopy>> {
        let mut copies = Vec::new();
        for (reply, claim) in self.auto_replies(envelope_from, summary, mailboxes).await? {
            let (bytes, summary) = reply.message();
            let (local, outbound) = match self.notice_route(&reply.to).await? {
                Some(route) => route,
                None => continue,
            };
            copies.push(OutgoingCopy { bytes, summary, outbound, local, claim: Some(claim) });
        }
        Ok(copies)
    }

    /// The replies and their claims (those already taken left out).
    async fn auto_replies(
        &self,
        envelope_from: Option<&EmailAddress>,
        summary: &MessageSummary,
        mailboxes: &[MailboxId],
    ) -> CoreResult<Vec<(AutoReply, Claim)>> {
        let Some(sender) = envelope_from else { return Ok(Vec::new()) };
        let mut replies = Vec::new();
        if automated_sender(sender) {
            return Ok(replies);
        }
        if let Some(reason) = never_answered(summary) {
            tracing::debug!(sender = %sender, reason, "no automatic reply");
            return Ok(replies);
        }
        let now = chrono::Utc::now();
        let internal = self.dir.is_accepted_domain(sender.domain()).await?;
        for &mailbox in mailboxes {
            let config = self.dir.auto_reply(mailbox).await?;
            let active = match config.state {
                AutoReplyState::Disabled => false,
                AutoReplyState::Enabled => true,
                AutoReplyState::Scheduled => {
                    config.start_time.is_none_or(|start| start <= now)
                        && config.end_time.is_none_or(|end| now < end)
                }
            };
            if !active {
                continue;
            }
            let owner = self.dir.recipient(mailbox.principal()).await?;
            // Never to the mailbox itself (any of its addresses).
            if owner.primary_address == *sender || owner.secondary_addresses.contains(sender) {
                continue;
            }
            let own: Vec<String> = std::iter::once(&owner.primary_address)
                .chain(&owner.secondary_addresses)
                .map(|a| a.to_string().to_ascii_lowercase())
                .collect();
            if !addressed(summary, &own) {
                continue;
            }
            let text = if internal {
                config.internal_message.clone()
            } else {
                match config.external_audience {
                    ExternalAudience::All => config.external_message.clone(),
                    // Known senders are the mailbox's contacts; until
                    // contacts exist nobody is known (documented).
                    ExternalAudience::Known | ExternalAudience::None => String::new(),
                }
            };
            if text.trim().is_empty() {
                continue;
            }
            // One reply per sender per enabled period: the period is the
            // configuration as set (turning replies off and on with other
            // dates or texts starts a new one).
            let period = format!(
                "{}|{:?}|{:?}|{:x}|{:x}",
                config.state.as_str(),
                config.start_time.map(|t| t.timestamp()),
                config.end_time.map(|t| t.timestamp()),
                fingerprint(&config.internal_message),
                fingerprint(&config.external_message)
            );
            let claim = Claim::AutoReply { mailbox, sender: sender.to_string(), period };
            if self.store.claimed(&claim).await? {
                continue;
            }
            let header = |name: &str| {
                summary
                    .headers
                    .iter()
                    .find(|(n, _)| n.eq_ignore_ascii_case(name))
                    .map(|(_, v)| v.trim().to_string())
            };
            replies.push((
                AutoReply {
                    from: owner.primary_address.clone(),
                    from_name: owner.display_name.clone(),
                    to: sender.clone(),
                    text,
                    // Bounded: the sender chose them.
                    subject: summary.envelope.subject.clone().unwrap_or_default().chars().take(200).collect(),
                    message_id: header("Message-ID").filter(|id| id.len() <= 250),
                    references: header("References").map(|r| {
                        let ids: Vec<&str> = r.split_whitespace().collect();
                        ids[ids.len().saturating_sub(10)..].join(" ")
                    }),
                },
                claim,
            ));
        }
        Ok(replies)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_threaded_auto_reply() {
        let reply = AutoReply {
            from: EmailAddress::parse("info@contoso.com").unwrap(),
            from_name: "Info \"Desk\"".into(),
            to: EmailAddress::parse("ann@fabrikam.example").unwrap(),
            text: "We're closed today.\nBack tomorrow.".into(),
            subject: "Opening\r\nhours".into(),
            message_id: Some("m2@fabrikam.example".into()),
            references: Some("<m1@fabrikam.example>".into()),
        };
        let (bytes, summary) = reply.message();
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(text.contains("\r\nFrom: \"Info Desk\" <info@contoso.com>\r\nTo: <ann@fabrikam.example>\r\nSubject: Automatic reply: Opening  hours\r\n"), "{text}");
        assert!(text.contains("\r\nIn-Reply-To: <m2@fabrikam.example>\r\nReferences: <m1@fabrikam.example> <m2@fabrikam.example>\r\nAuto-Submitted: auto-replied\r\n"), "{text}");
        assert!(text.ends_with("\r\n\r\nWe're closed today.\r\nBack tomorrow.\r\n"), "{text}");
        // The summary built alongside says what a parser would.
        assert_eq!(summary.envelope.subject.as_deref(), Some("Automatic reply: Opening  hours"));
        assert_eq!(summary.envelope.in_reply_to.as_deref(), Some("<m2@fabrikam.example>"));
        assert_eq!(summary.body.end_offset as usize, bytes.len());
        assert_eq!(&bytes[summary.body.body_offset as usize..], b"We're closed today.\r\nBack tomorrow.\r\n");
        assert!(summary.headers.iter().any(|(n, v)| n == "Auto-Submitted" && v == "auto-replied"));
    }
}
