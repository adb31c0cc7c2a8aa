//! Writing mail: new, reply, reply all, forward — from the person's own
//! address or any address they may send as (Send As) or for (Send on
//! Behalf), offered in a From chooser and decided by `core` when sent,
//! through the same pipeline as SMTP submission (`mailroom_send`): the same
//! refusals, the same `Sender:` rules, the same Sent Items copies and
//! outbound queue. A reply to a message in a shared mailbox is written from
//! that mailbox when the person may send as it. A draft is saved to the
//! person's Drafts.
//!
//! The message is built here from what the form holds: addresses are
//! parsed and written back bare (so no header can be injected), the
//! subject is RFC 2047-encoded when it isn't ASCII, the text is
//! quoted-printable (RFC 2045 §6.7) in UTF-8.

use askama::Template;
use http::StatusCode;
use mailroom_core::directory::Recipient;
use mailroom_core::mail::{Flags, RecipientRoute, SpecialUse, SystemFlag};
use mailroom_core::permissions::SubmitAs;
use mailroom_types::{EmailAddress, FolderId, MailboxId, Uid};

use super::sidebar::{self, SideMailbox};
use super::{list_href, open, refused, special_folder};
use crate::pages::{Chrome, Errors, Page, Values, html, not_found};
use crate::problem::Problem;
use crate::session::random_token;
use crate::{Response, redirect};

#[derive(Template)]
#[template(path = "app_compose.html")]
struct ComposePage {
    chrome: Chrome,
    sidebar: Vec<SideMailbox>,
    heading: &'static str,
    /// (address, label) for the From chooser.
    identities: Vec<(String, String)>,
    values: Values,
    errors: Errors,
}

/// Where a reply or forward comes from: `in=MAILBOX/FOLDER/UID`.
fn original_of(text: &str) -> Option<(MailboxId, FolderId, Uid)> {
    let mut parts = text.split('/');
    let m = MailboxId(parts.next()?.parse().ok()?);
    let f = FolderId(parts.next()?.parse().ok()?);
    let u = Uid(parts.next()?.parse().ok()?);
    Some((m, f, u))
}

/// The From chooser: own address first, then what `core` says may be sent as.
async fn identities(page: &Page<'_>, me: &Recipient) -> Vec<(String, String, SubmitAs)> {
    let mut out = vec![(
        me.primary_address.to_string(),
        format!("{} <{}>", me.display_name, me.primary_address),
        SubmitAs::Own,
    )];
    for (recipient, how) in page.web.mail().directory().send_identities(me.id).await.unwrap_or_default() {
        let label = match how {
            SubmitAs::OnBehalf { .. } => {
                format!(
                    "{} <{}> — on behalf, as {}",
                    recipient.display_name, recipient.primary_address, me.display_name
                )
            }
            _ => format!("{} <{}>", recipient.display_name, recipient.primary_address),
        };
        out.push((recipient.primary_address.to_string(), label, how));
    }
    out
}

/// `GET /mail/compose` (`?in=…&mode=reply|all|forward`).
pub(crate) async fn form(page: &Page<'_>, me: &Recipient) -> Response {
    let choices = identities(page, me).await;
    let mut values = Values::default();
    values.set("from", me.primary_address.to_string());
    let mode = page.query.get("mode");
    let mut heading = "New message";
    if let Some((mailbox, folder, uid)) = original_of(page.query.get("in")) {
        let open = match open(page, me, mailbox, folder).await {
            Ok(open) => open,
            Err(response) => return response,
        };
        let mail = page.web.mail();
        let Some(message) = mail.messages_by_uid(&open, &[uid]).await.ok().and_then(|mut m| m.pop()) else {
            return not_found(page.caller);
        };
        let (body, summary) = match (mail.body(&open, &message).await, mail.summary(&open, &message).await) {
            (Ok(b), Ok(s)) => (b, s),
            (Err(err), _) | (_, Err(err)) => return refused(page, err),
        };
        let field = |name: &str| summary.field(name).to_string();
        // From the shared mailbox the message is in, when the person may.
        if mailbox.principal() != me.id
            && let Some((address, _, _)) = choices.iter().find(|(_, _, how)| match how {
                SubmitAs::SendAs { recipient } | SubmitAs::OnBehalf { recipient } => {
                    *recipient == mailbox.principal()
                }
                _ => false,
            })
        {
            values.set("from", address.clone());
        }
        let subject = field("subject");
        let text = mailroom_mime::readable::plain_text(&body).unwrap_or_default();
        let from = field("from");
        let when = super::list::date(message.internal_date);
        match mode {
            "forward" => {
                heading = "Forward";
                values.set("subject", prefixed("Fw: ", &subject));
                values.set(
                    "body",
                    format!(
                        "\n\n---------- Forwarded message ----------\nFrom: {from}\nDate: {when} UTC\nSubject: {subject}\nTo: {}\n\n{text}",
                        field("to")
                    ),
                );
            }
            _ => {
                heading = if mode == "all" { "Reply all" } else { "Reply" };
                let reply_to = if field("reply-to").is_empty() { from.clone() } else { field("reply-to") };
                values.set("to", addresses_in(&reply_to).join(", "));
                if mode == "all" {
                    let chosen = values.get("from").to_string();
                    let others: Vec<String> = addresses_in(&format!("{}, {}", field("to"), field("cc")))
                        .into_iter()
                        .filter(|a| {
                            !a.eq_ignore_ascii_case(&chosen)
                                && !a.eq_ignore_ascii_case(&me.primary_address.to_string())
                        })
                        .collect();
                    values.set("cc", others.join(", "));
                }
                values.set("subject", prefixed("Re: ", &subject));
                let quoted: String = text.lines().map(|l| format!("> {l}\n")).collect();
                values.set("body", format!("\n\nOn {when} UTC, {from} wrote:\n{quoted}"));
                // The summary keeps ids as written or bare; a header wants `<…>`.
                let angled = |id: &str| {
                    let id = id.trim();
                    if id.is_empty() || id.starts_with('<') { id.to_string() } else { format!("<{id}>") }
                };
                let message_id = angled(&field("message-id"));
                let references: Vec<String> = field("references").split_whitespace().map(angled).collect();
                values.set("in_reply_to", message_id.clone());
                values.set("references", format!("{} {message_id}", references.join(" ")).trim().to_string());
            }
        }
        values.set("in", page.query.get("in"));
    }
    show(page, me, heading, choices, values, Errors::default()).await
}

async fn show(
    page: &Page<'_>,
    me: &Recipient,
    heading: &'static str,
    choices: Vec<(String, String, SubmitAs)>,
    values: Values,
    errors: Errors,
) -> Response {
    let status = errors.0.as_ref().map_or(StatusCode::OK, |p| p.status);
    let current = me.mailbox_id().map(|m| (m, FolderId(0))).unwrap_or((MailboxId(0), FolderId(0)));
    html(
        status,
        &ComposePage {
            chrome: page.chrome("mail"),
            sidebar: sidebar::build(page, me, current).await,
            heading,
            identities: choices.into_iter().map(|(a, l, _)| (a, l)).collect(),
            values,
            errors,
        },
    )
}

/// `POST /mail/compose`: send, or save as a draft.
pub(crate) async fn submit(page: &Page<'_>, me: &Recipient) -> Response {
    let form = page.form;
    let mut values = Values::default();
    values
        .keep_typed(form, &["from", "to", "cc", "bcc", "subject", "body", "in", "in_reply_to", "references"]);
    let choices = identities(page, me).await;
    let draft = form.get("action") == "draft";
    match build_and_send(page, me, draft).await {
        Ok(to) => redirect(&to),
        Err(problem) => {
            let heading = if values.get("in").is_empty() { "New message" } else { "Reply or forward" };
            show(page, me, heading, choices, values, Errors(Some(problem))).await
        }
    }
}

async fn build_and_send(page: &Page<'_>, me: &Recipient, draft: bool) -> Result<String, Problem> {
    let form = page.form;
    let mail = page.web.mail();
    let from =
        EmailAddress::parse(form.get("from").trim()).map_err(|e| Problem::field("from", e.to_string()))?;
    // The name of whoever owns the address (not the chooser's label): Send
    // As from any address of info@ goes out as "Info", never as the person.
    let from_name = match mail.directory().resolve_address(&from).await? {
        Some(owner) => owner.display_name,
        None => String::new(),
    };
    let mut recipients = Vec::new();
    let mut lists = Vec::new();
    for field in ["to", "cc", "bcc"] {
        let mut list = Vec::new();
        for text in split_addresses(form.get(field)) {
            let address = EmailAddress::parse(&text)
                .map_err(|_| Problem::field(field, format!("\"{text}\" isn't an email address.")))?;
            recipients.push((field, address.clone()));
            list.push(address);
        }
        lists.push(list);
    }
    let id = random_token();
    let message = build(
        &from_name,
        &from,
        &lists[0],
        &lists[1],
        form.get("subject"),
        form.get("body"),
        form.get("in_reply_to"),
        form.get("references"),
        &format!("<{}@{}>", &id[..32], page.web.config.client.hostname),
    );
    let summary = mailroom_mime::summarize(&message);
    if draft {
        let mailbox = me.mailbox_id().ok_or_else(Problem::not_found)?;
        let opened = mail.open_mailbox(me.id, mailbox).await?;
        let drafts =
            special_folder(page, &opened, SpecialUse::Drafts).await.ok_or_else(Problem::not_found)?;
        let flags = Flags::default().with(SystemFlag::Draft).with(SystemFlag::Seen);
        mail.append(&drafts, message, &summary, flags, chrono::Utc::now().timestamp()).await?;
        return Ok(format!("{}?notice=draft", list_href(mailbox, drafts.id())));
    }
    if recipients.is_empty() {
        return Err(Problem::field("to", "Add at least one recipient."));
    }
    let addresses: Vec<EmailAddress> = recipients.iter().map(|(_, a)| a.clone()).collect();
    let max = match page.web.config.max_recipients {
        0 => 500,
        n => n,
    };
    let (local, remote) = match mailroom_send::route(mail, me.id, &addresses, max).await? {
        Ok(routed) => routed,
        Err(mailroom_send::RouteRefusal::TooMany { max }) => {
            return Err(Problem::field("to", format!("A message may have at most {max} recipients.")));
        }
        Err(mailroom_send::RouteRefusal::Recipient(address, route)) => {
            let field = recipients.iter().find(|(_, a)| *a == address).map_or("to", |(f, _)| *f);
            let message = match route {
                RecipientRoute::MailboxFull => {
                    format!("The mailbox {address} is full; it can't receive mail now.")
                }
                _ => format!("There is no mailbox {address} here. Check the address."),
            };
            return Err(Problem::field(field, message));
        }
    };
    let secret = page.web.config.srs_secret.as_ref().map(|s| s.expose().as_slice()).unwrap_or_default();
    let sending = mailroom_send::Sending { hostname: &page.web.config.client.hostname, srs_secret: secret };
    let outgoing = mailroom_send::Outgoing {
        principal: me.id,
        envelope_from: Some(&from),
        local: &local,
        remote: &remote,
        message,
        summary,
        id: &id[..32],
        // The web app is the client: it files the sender's copy, in the same transaction.
        own_sent_items: me.mailbox_id(),
    };
    match mailroom_send::send(mail, sending, outgoing).await {
        Ok(sent) => {
            tracing::info!(
                principal = %me.id, message = &id[..32], peer = %page.peer, from = %sent.submission.from,
                authority = ?sent.submission.authority, copies = sent.copies, queued = remote.len(),
                "message sent from the web app"
            );

            // Back where the person wrote from.
            let back = match original_of(form.get("in")) {
                Some((m, f, _)) => list_href(m, f),
                None => "/mail/".to_string(),
            };
            Ok(format!("{back}{}notice=sent", if back.contains('?') { "&" } else { "?" }))
        }
        Err(mailroom_send::SendError::Refused(refusal)) => Err(Problem::field("from", refusal.to_string())),
        Err(mailroom_send::SendError::Failed(err)) => Err(err.into()),
    }
}

/// `Re: ` once, not `Re: Re: `.
fn prefixed(prefix: &str, subject: &str) -> String {
    let bare = prefix.trim();
    // `get`, not a slice: the first bytes may be inside a character (Привет).
    if subject.get(..bare.len()).is_some_and(|start| start.eq_ignore_ascii_case(bare)) {
        subject.to_string()
    } else {
        format!("{prefix}{subject}")
    }
}

/// The addresses in a header value (`Name <a@b>, c@d`), bare.
fn addresses_in(text: &str) -> Vec<String> {
    split_addresses(text).into_iter().filter(|a| EmailAddress::parse(a).is_ok()).collect()
}

/// A list as people type it — commas or semicolons, with or without names.
fn split_addresses(text: &str) -> Vec<String> {
    text.split([',', ';'])
        .map(|item| {
            let item = item.trim();
            match (item.rfind('<'), item.rfind('>')) {
                (Some(open), Some(close)) if open < close => item[open + 1..close].trim().to_string(),
                _ => item.to_string(),
            }
        })
        .filter(|a| !a.is_empty())
        .collect()
}

/// The message, RFC 5322 with a UTF-8 text part.
#[allow(clippy::too_many_arguments)]
fn build(
    from_name: &str,
    from: &EmailAddress,
    to: &[EmailAddress],
    cc: &[EmailAddress],
    subject: &str,
    body: &str,
    in_reply_to: &str,
    references: &str,
    message_id: &str,
) -> Vec<u8> {
    let join = |list: &[EmailAddress]| fold(&list.iter().map(|a| a.to_string()).collect::<Vec<_>>(), ",");
    let mut head = format!("From: {} <{from}>\r\n", phrase(from_name));
    if !to.is_empty() {
        head.push_str(&format!("To: {}\r\n", join(to)));
    }
    if !cc.is_empty() {
        head.push_str(&format!("Cc: {}\r\n", join(cc)));
    }
    head.push_str(&format!("Subject: {}\r\n", encoded_word(subject)));
    head.push_str(&format!("Date: {}\r\n", chrono::Utc::now().format("%a, %d %b %Y %H:%M:%S +0000")));
    head.push_str(&format!("Message-ID: {message_id}\r\n"));
    // Message ids only: `<…>` tokens, nothing else gets into the header.
    let ids = |text: &str| -> String {
        text.split_whitespace()
            .filter(|t| t.starts_with('<') && t.ends_with('>') && t.bytes().all(|b| b.is_ascii_graphic()))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let ids = |text: &str| -> Vec<String> {
        ids(text).split(' ').filter(|t| !t.is_empty()).map(str::to_string).collect()
    };
    if !ids(in_reply_to).is_empty() {
        head.push_str(&format!("In-Reply-To: {}\r\n", fold(&ids(in_reply_to), "")));
    }
    if !ids(references).is_empty() {
        head.push_str(&format!("References: {}\r\n", fold(&ids(references), "")));
    }
    head.push_str("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n");
    let mut message = head.into_bytes();
    message.extend_from_slice(quoted_printable(body).as_bytes());
    message
}

/// Items of a header value, `sep`arated, folded (RFC 5322 §2.2.3) so no
/// line grows past 78 characters where it can be helped.
fn fold(items: &[String], sep: &str) -> String {
    let mut out = String::new();
    let mut line = 12; // the field name before it
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(sep);
            if line + item.len() + 2 > 78 {
                out.push_str("\r\n ");
                line = 1;
            } else {
                out.push(' ');
                line += sep.len() + 1;
            }
        }
        out.push_str(item);
        line += item.len();
    }
    out
}

/// A display name as an RFC 5322 phrase: quoted, or encoded when not ASCII.
fn phrase(name: &str) -> String {
    let clean: String = name.chars().filter(|c| !c.is_control()).collect();
    if clean.is_ascii() {
        format!("\"{}\"", clean.replace('\\', "\\\\").replace('"', "\\\""))
    } else {
        encoded_word(&clean)
    }
}

/// RFC 2047 `=?utf-8?b?…?=` when the text isn't plain ASCII; controls dropped.
fn encoded_word(text: &str) -> String {
    let clean: String = text.chars().filter(|c| !c.is_control()).collect();
    if clean.is_ascii() {
        return clean;
    }
    // Words of at most 45 octets of UTF-8 (60 base64 characters), split on
    // character boundaries, each its own encoded word (RFC 2047 §5).
    let mut words = Vec::new();
    let mut chunk = String::new();
    for c in clean.chars() {
        if chunk.len() + c.len_utf8() > 45 {
            words.push(std::mem::take(&mut chunk));
        }
        chunk.push(c);
    }
    words.push(chunk);
    words
        .iter()
        .map(|w| format!("=?utf-8?b?{}?=", mailroom_mime::encode_base64(w.as_bytes())))
        .collect::<Vec<_>>()
        .join("\r\n ")
}

/// Quoted-printable (RFC 2045 §6.7) with CRLF line ends and soft breaks
/// before 76 characters.
fn quoted_printable(text: &str) -> String {
    let mut out = String::new();
    for line in text.replace("\r\n", "\n").split('\n') {
        let mut width = 0;
        let bytes = line.as_bytes();
        for (i, &b) in bytes.iter().enumerate() {
            let last = i + 1 == bytes.len();
            let literal = (b == b' ' || b == b'\t') && !last || (33..=126).contains(&b) && b != b'=';
            let piece = if literal { (b as char).to_string() } else { format!("={b:02X}") };
            if width + piece.len() > 75 {
                out.push_str("=\r\n");
                width = 0;
            }
            width += piece.len();
            out.push_str(&piece);
        }
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_built_without_injection() {
        let from = EmailAddress::parse("info@contoso.com").expect("address");
        let to = vec![EmailAddress::parse("c@fabrikam.com").expect("address")];
        let message = build(
            "Info \"Desk\"",
            &from,
            &to,
            &[],
            "Re: Café\r\nBcc: evil@example.com",
            "Grüße =\r\nline two",
            "<a@b>\r\nX-Injected: 1",
            "",
            "<id@host>",
        );
        let text = String::from_utf8(message.clone()).expect("ascii");
        assert!(
            text.starts_with("From: \"Info \\\"Desk\\\"\" <info@contoso.com>\r\nTo: c@fabrikam.com\r\n"),
            "{text}"
        );
        assert!(!text.contains("\r\nBcc:") && !text.contains("X-Injected"), "{text}");
        assert!(text.contains("Subject: =?utf-8?b?"), "{text}");
        assert!(text.contains("In-Reply-To: <a@b>\r\n"), "{text}");
        let summary = mailroom_mime::summarize(&message);
        assert_eq!(summary.field("subject"), "Re: CaféBcc: evil@example.com");
        assert_eq!(
            mailroom_mime::readable::readable(&message).text.as_deref().map(str::trim_end),
            Some("Grüße =\r\nline two")
        );
    }

    #[test]
    fn address_lists_as_people_type_them() {
        assert_eq!(split_addresses("Alice <a@x.com>; b@y.com, ,"), vec!["a@x.com", "b@y.com"]);
        assert_eq!(prefixed("Re: ", "RE: hello"), "RE: hello");
        assert_eq!(prefixed("Re: ", "hello"), "Re: hello");
        assert_eq!(prefixed("Re: ", "Привет"), "Re: Привет", "no panic inside a character");
        assert_eq!(prefixed("Fw: ", "É"), "Fw: É");
        let many: Vec<String> = (0..20).map(|i| format!("person{i}@fabrikam.com")).collect();
        assert!(fold(&many, ",").split("\r\n").all(|l| l.len() <= 78));
        let long = "x".repeat(200);
        assert!(quoted_printable(&long).lines().all(|l| l.len() <= 76));
    }
}
