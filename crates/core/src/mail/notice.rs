//! Messages the server writes itself (the quota warning of SPEC §3), with
//! their summary built alongside so they need no parsing.

use chrono::Utc;
use mailroom_types::DomainName;

use super::model::{BodyPart, Envelope, EnvelopeAddress, MailboxUsage, MessageSummary};
use crate::directory::{QuotaSettings, Recipient, format_quota, format_size};

fn address(local: &str, host: &str, name: Option<&str>) -> EnvelopeAddress {
    EnvelopeAddress {
        name: name.map(str::to_string),
        mailbox: Some(local.to_string()),
        host: Some(host.to_string()),
    }
}

/// The warning a mailbox gets once when it passes IssueWarningQuota.
pub(super) fn quota_warning(
    mailbox: &Recipient,
    domain: &DomainName,
    usage: MailboxUsage,
    quota: &QuotaSettings,
) -> (Vec<u8>, MessageSummary) {
    let now = Utc::now();
    let date = now.to_rfc2822();
    let subject = "Your mailbox is almost full";
    let message_id = format!("<quota-warning.{}.{}@{}>", mailbox.id, now.timestamp(), domain);
    let to = &mailbox.primary_address;
    let header = format!(
        "Date: {date}\r\nFrom: Mailroom <postmaster@{domain}>\r\nTo: {to}\r\nSubject: {subject}\r\n\
         Message-ID: {message_id}\r\nAuto-Submitted: auto-generated\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
    );
    let body = format!(
        "The mailbox {} <{to}> holds {} and has passed its warning level of {}.\r\n\
         \r\n\
         When it reaches {} nobody can send from it any more, and at {} it stops\r\n\
         receiving mail. Delete or archive messages to make room.\r\n",
        mailbox.display_name,
        format_size(usage.bytes),
        format_quota(quota.issue_warning),
        format_quota(quota.prohibit_send),
        format_quota(quota.prohibit_send_receive),
    );
    let body_offset = header.len() as u32;
    let bytes = [header.into_bytes(), body.clone().into_bytes()].concat();
    let from = vec![address("postmaster", domain.as_str(), Some("Mailroom"))];
    let summary = MessageSummary {
        envelope: Envelope {
            date: Some(date),
            subject: Some(subject.into()),
            sender: from.clone(),
            reply_to: from.clone(),
            from,
            to: vec![address(to.local_part(), to.domain().as_str(), None)],
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
        headers: vec![("Subject".into(), subject.into()), ("Auto-Submitted".into(), "auto-generated".into())],
        header_problem: None,
        sent_date: Some(now.timestamp()),
        malformed: false,
    };
    (bytes, summary)
}
