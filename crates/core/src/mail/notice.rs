//! Messages the server writes itself — the quota warning of SPEC §3 and
//! automatic replies (RFC 3834) — with their summary built alongside, so
//! they need no parsing and can be stored in the transaction that causes them.

use chrono::Utc;
use mailroom_types::{DomainName, EmailAddress};

use super::model::{BodyPart, Envelope, EnvelopeAddress, MailboxUsage, MessageSummary};
use crate::directory::{QuotaSettings, Recipient, format_quota, format_size};

/// A plain-text message from the server.
pub(super) struct TextMessage<'a> {
    pub from_name: &'a str,
    pub from: &'a EmailAddress,
    pub to: &'a EmailAddress,
    pub subject: &'a str,
    /// Without angle brackets.
    pub message_id: String,
    /// More header fields after `Message-ID:`, in order. Values are the
    /// server's own or already cleaned of line breaks.
    pub fields: Vec<(&'static str, String)>,
    /// Lines end in CRLF whatever the text had.
    pub body: &'a str,
}

fn address(a: &EmailAddress, name: Option<&str>) -> EnvelopeAddress {
    EnvelopeAddress {
        name: name.map(str::to_string),
        mailbox: Some(a.local_part().to_string()),
        host: Some(a.domain().as_str().to_string()),
    }
}

/// The bytes and summary of a [`TextMessage`].
pub(super) fn text_message(m: TextMessage<'_>) -> (Vec<u8>, MessageSummary) {
    let now = Utc::now();
    let date = now.to_rfc2822();
    let name = m.from_name.replace(['\r', '\n', '"', '\\'], "");
    let subject = m.subject.replace(['\r', '\n'], " ");
    let message_id = format!("<{}>", m.message_id);
    let mut header = format!(
        "Date: {date}\r\nFrom: \"{name}\" <{}>\r\nTo: <{}>\r\nSubject: {subject}\r\nMessage-ID: {message_id}\r\n",
        m.from, m.to
    );
    for (field, value) in &m.fields {
        header.push_str(&format!("{field}: {value}\r\n"));
    }
    header.push_str(
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n",
    );
    let mut body = String::new();
    for line in m.body.lines() {
        body.push_str(line);
        body.push_str("\r\n");
    }
    let body_offset = header.len() as u32;
    let bytes = [header.into_bytes(), body.clone().into_bytes()].concat();
    let from = vec![address(m.from, Some(&name))];
    let mut headers = vec![("Subject".to_string(), subject.clone())];
    headers.extend(m.fields.iter().map(|(f, v)| (f.to_string(), v.clone())));
    let in_reply_to = m.fields.iter().find(|(f, _)| *f == "In-Reply-To").map(|(_, v)| v.clone());
    let summary = MessageSummary {
        envelope: Envelope {
            date: Some(date),
            subject: Some(subject),
            sender: from.clone(),
            reply_to: from.clone(),
            from,
            to: vec![address(m.to, None)],
            in_reply_to,
            message_id: Some(message_id),
            ..Default::default()
        },
        body: BodyPart {
            media_type: "text".into(),
            media_subtype: "plain".into(),
            params: vec![("charset".into(), "utf-8".into())],
            encoding: "8BIT".into(),
            header_offset: 0,
            body_offset,
            end_offset: bytes.len() as u32,
            lines: body.matches('\n').count() as u32,
            ..Default::default()
        },
        headers,
        header_problem: None,
        sent_date: Some(now.timestamp()),
        malformed: false,
        base_subject: Default::default(),
    };
    (bytes, summary)
}

/// The warning a mailbox gets once when it passes IssueWarningQuota.
pub(super) fn quota_warning(
    mailbox: &Recipient,
    domain: &DomainName,
    usage: MailboxUsage,
    quota: &QuotaSettings,
) -> (Vec<u8>, MessageSummary) {
    let to = &mailbox.primary_address;
    let body = format!(
        "The mailbox {} <{to}> holds {} and has passed its warning level of {}.\n\
         \n\
         When it reaches {} nobody can send from it any more, and at {} it stops\n\
         receiving mail. Delete or archive messages to make room.\n",
        mailbox.display_name,
        format_size(usage.bytes),
        format_quota(quota.issue_warning),
        format_quota(quota.prohibit_send),
        format_quota(quota.prohibit_send_receive),
    );
    let from = EmailAddress::from_parts(super::POSTMASTER, domain.clone());
    text_message(TextMessage {
        from_name: "Mailroom",
        from: &from,
        to,
        subject: "Your mailbox is almost full",
        message_id: format!("quota-warning.{}.{}@{}", mailbox.id, Utc::now().timestamp(), domain),
        fields: vec![("Auto-Submitted", "auto-generated".into())],
        body: &body,
    })
}
