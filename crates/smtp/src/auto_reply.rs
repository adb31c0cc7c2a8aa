//! The automatic reply as a message (RFC 3834 §3): from the mailbox, to the
//! original sender, `Auto-Submitted: auto-replied` so that other responders
//! stay quiet, threaded with `In-Reply-To` and `References`, text only.
//! Which replies go out is `core`'s decision ([`Mail::auto_replies`]).

use mailroom_core::mail::{AutoReply, Mail, MessageSummary};
use mailroom_types::{EmailAddress, MailboxId};

/// Builds the reply, CRLF throughout.
pub fn build(reply: &AutoReply, hostname: &str, id: &str) -> Vec<u8> {
    let subject = reply.subject.replace(['\r', '\n'], " ");
    let name = reply.from_name.replace(['\r', '\n', '"', '\\'], "");
    let mut out = format!("From: \"{name}\" <{}>\r\n", reply.from);
    out.push_str(&format!("To: <{}>\r\n", reply.to));
    out.push_str(&format!("Subject: Automatic reply: {subject}\r\n"));
    out.push_str(&format!("Date: {}\r\n", chrono::Utc::now().format("%a, %d %b %Y %H:%M:%S +0000")));
    out.push_str(&format!("Message-ID: <auto-{id}@{hostname}>\r\n"));
    if let Some(original) = reply.message_id.as_deref().map(angled) {
        out.push_str(&format!("In-Reply-To: {original}\r\n"));
        let mut references: Vec<String> =
            reply.references.as_deref().unwrap_or_default().split_whitespace().map(angled).collect();
        references.push(original);
        out.push_str(&format!("References: {}\r\n", references.join(" ")));
    }
    out.push_str("Auto-Submitted: auto-replied\r\n");
    out.push_str("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n");
    // Lines end in CRLF whatever the owner typed.
    for line in reply.text.lines() {
        out.push_str(line);
        out.push_str("\r\n");
    }
    out.into_bytes()
}

/// A message id in angle brackets (the parsed header keeps it bare).
fn angled(id: &str) -> String {
    let id = id.trim().trim_start_matches('<').trim_end_matches('>');
    format!("<{}>", id.replace(['\r', '\n', ' '], ""))
}

/// Works out and sends the automatic replies for a delivery, off the
/// session (the client has its 250 already); failures are logged.
pub fn spawn(
    mail: Mail,
    hostname: String,
    envelope_from: Option<EmailAddress>,
    summary: MessageSummary,
    mailboxes: Vec<MailboxId>,
    id: String,
) {
    tokio::spawn(async move {
        let replies = match mail.auto_replies(envelope_from.as_ref(), &summary, &mailboxes).await {
            Ok(replies) => replies,
            Err(err) => {
                tracing::error!(message = %id, error = %err, "automatic replies not worked out");
                return;
            }
        };
        for (n, reply) in replies.iter().enumerate() {
            let bytes = build(reply, &hostname, &format!("{id}.{n}"));
            let summary = mailroom_mime::summarize(&bytes);
            match mail.deliver_notice(&reply.to, bytes, &summary).await {
                Ok(()) => tracing::info!(from = %reply.from, to = %reply.to, "automatic reply sent"),
                Err(err) => {
                    tracing::error!(from = %reply.from, to = %reply.to, error = %err, "automatic reply failed")
                }
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_threaded_auto_reply() {
        let reply = AutoReply {
            from: EmailAddress::parse("info@contoso.com").unwrap(),
            from_name: "Info Desk".into(),
            to: EmailAddress::parse("ann@fabrikam.example").unwrap(),
            text: "We're closed today.\nBack tomorrow.".into(),
            subject: "Opening hours".into(),
            message_id: Some("m2@fabrikam.example".into()),
            references: Some("<m1@fabrikam.example>".into()),
        };
        let text = String::from_utf8(build(&reply, "mx.contoso.com", "x1")).unwrap();
        assert!(text.starts_with("From: \"Info Desk\" <info@contoso.com>\r\nTo: <ann@fabrikam.example>\r\nSubject: Automatic reply: Opening hours\r\n"), "{text}");
        assert!(text.contains("In-Reply-To: <m2@fabrikam.example>\r\nReferences: <m1@fabrikam.example> <m2@fabrikam.example>\r\n"), "{text}");
        assert!(text.contains("Auto-Submitted: auto-replied\r\n"), "{text}");
        assert!(text.ends_with("\r\n\r\nWe're closed today.\r\nBack tomorrow.\r\n"), "{text}");
    }
}
