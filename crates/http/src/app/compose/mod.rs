//! Writing mail: new, reply, reply all, forward — from the person's own
//! address or any address they may send as (Send As) or for (Send on
//! Behalf), offered in a From chooser and decided by `core` when sent,
//! through the same pipeline as SMTP submission (`mailroom_send`): the same
//! refusals, the same `Sender:` rules, the same Sent Items copies and
//! outbound queue. A reply to a message in a shared mailbox is written from
//! that mailbox when the person may send as it.
//!
//! Files come with the form (`multipart/form-data`, up to the configured
//! message size), and a forward keeps the original's attachments unless
//! they are unticked ([`attachments`]). A draft is saved to the person's
//! Drafts and opened again from there; saving or sending it replaces it.
//! A send refused while files were uploaded keeps them in a draft, since
//! a browser can't fill a file input again.

mod attachments;
mod mime;

use askama::Template;
use http::StatusCode;
use mailroom_core::directory::Recipient;
use mailroom_core::mail::{Flags, RecipientRoute, SpecialUse, SystemFlag};
use mailroom_core::permissions::SubmitAs;
use mailroom_types::{EmailAddress, FolderId, MailboxId, Uid};

use self::attachments::{KeptFile, Source};
use self::mime::{FileToAttach, Written};
use super::sidebar::{self, SideMailbox};
use super::{list_href, open, refused, special_folder};
use crate::pages::{Chrome, Errors, Page, Values, html};
use crate::problem::Problem;
use crate::session::random_token;
use crate::{Response, redirect};

/// The fields the form sends back as typed when it is refused.
const TYPED: [&str; 12] = [
    "from",
    "to",
    "cc",
    "bcc",
    "subject",
    "body",
    "in",
    "mode",
    "in_reply_to",
    "references",
    "draft",
    "opened_at",
];

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
    /// Attachments of the message forwarded or the draft, to keep or not.
    kept: Vec<KeptFile>,
    /// The most a message may be, in words.
    max_size: String,
    /// Where an open reply or forward tells the server it is being
    /// written (the collision guard); empty for a new message.
    replying: String,
}

/// A message named in the form: `MAILBOX/FOLDER/UID`.
fn location_of(text: &str) -> Option<(MailboxId, FolderId, Uid)> {
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

/// `GET /mail/compose` (`?in=…&mode=reply|all|forward`, or `?draft=…`).
pub(crate) async fn form(page: &Page<'_>, me: &Recipient) -> Response {
    let choices = identities(page, me).await;
    let mut values = Values::default();
    values.set("from", me.primary_address.to_string());
    let mode = page.query.get("mode");
    let mut heading = "New message";
    let mut kept = Vec::new();
    if let Some(draft) = location_of(page.query.get("draft")) {
        let (open, message, body) = match crate::app::message::opened_message(page, me, draft).await {
            Ok(found) => found,
            Err(response) => return response,
        };
        // Only the person's own drafts are opened (and later replaced) here.
        if !is_own_draft(me, &open, &message) {
            return crate::pages::not_found(page.caller);
        }
        heading = "Draft";
        let (summary, text, files) = off_thread(body, Source::Draft).await;
        let field = |name: &str| summary.field(name).to_string();
        if let Some(from) = addresses_in(&field("from")).into_iter().next() {
            values.set("from", from);
        }
        for name in ["to", "cc", "bcc"] {
            values.set(name, addresses_in(&field(name)).join(", "));
        }
        values.set("subject", field("subject"));
        values.set("body", text.trim_end().to_string());
        values.set("in_reply_to", field("in-reply-to"));
        values.set("references", field("references"));
        values.set("draft", page.query.get("draft"));
        kept = files;
    } else if let Some((mailbox, folder, uid)) = location_of(page.query.get("in")) {
        let (open, message, body) =
            match crate::app::message::opened_message(page, me, (mailbox, folder, uid)).await {
                Ok(found) => found,
                Err(response) => return response,
            };
        let summary = match page.web.mail().summary(&open, &message).await {
            Ok(s) => s,
            Err(err) => return refused(page, err),
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
        let (_, text, files) = off_thread(body, Source::Original).await;
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
                // Outlook forwards the attachments too.
                kept = files;
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
        values.set("mode", mode);
        // Replies others send from now on are news to this one's writer.
        values.set("opened_at", chrono::Utc::now().timestamp().to_string());
    }
    show(page, me, heading, choices, values, Errors::default(), kept).await
}

async fn show(
    page: &Page<'_>,
    me: &Recipient,
    heading: &'static str,
    choices: Vec<(String, String, SubmitAs)>,
    values: Values,
    errors: Errors,
    kept: Vec<KeptFile>,
) -> Response {
    let status = errors.0.as_ref().map_or(StatusCode::OK, |p| p.status);
    let replying = location_of(values.get("in"))
        .map(|(m, f, u)| format!("{}/replying", super::message_href(m, f, u)))
        .unwrap_or_default();
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
            kept,
            max_size: crate::app::message::size(page.web.config.max_message_size()),
            replying,
        },
    )
}

/// `POST /mail/compose`: send, or save as a draft.
pub(crate) async fn submit(page: &Page<'_>, me: &Recipient) -> Response {
    let form = page.form;
    let mut values = Values::default();
    values.keep_typed(form, &TYPED);
    let draft = form.get("action") == "draft";
    let (files, problem, all_gathered) = match attachments::gather(page, me).await {
        Ok(files) => match build_and_send(page, me, draft, &files).await {
            Ok(to) => {
                discard_draft(page, me, location_of(form.get("draft"))).await;
                return redirect(&to);
            }
            Err(problem) => (files, problem, true),
        },
        // A kept file is gone or too large: the uploads are still kept.
        Err(problem) => (attachments::uploads(page), problem, false),
    };
    // The person must be able to try again without choosing the files
    // again: what was uploaded is kept in a draft, which replaces the one
    // being edited when it holds all of that one's files too.
    if !form.files(attachments::FIELD).is_empty() {
        match stash(page, me, &files).await {
            Ok((reference, kept)) => {
                if all_gathered {
                    discard_draft(page, me, location_of(form.get("draft"))).await;
                }
                values.set("draft", reference);
                return refuse(page, me, values, problem, kept).await;
            }
            Err(err) => tracing::warn!(error = %err.message, "uploads couldn't be kept in a draft"),
        }
    }
    let kept = attachments::still_offered(page, me).await;
    refuse(page, me, values, problem, kept).await
}

/// The form again, with what was typed and the reason it was refused.
async fn refuse(
    page: &Page<'_>,
    me: &Recipient,
    values: Values,
    problem: Problem,
    kept: Vec<KeptFile>,
) -> Response {
    let heading = if !values.get("draft").is_empty() {
        "Draft"
    } else if values.get("in").is_empty() {
        "New message"
    } else {
        "Reply or forward"
    };
    let choices = identities(page, me).await;
    show(page, me, heading, choices, values, Errors(Some(problem)), kept).await
}

/// The addresses of a form field; a malformed one is named at its field.
fn parsed_addresses(form: &crate::form::Form, field: &'static str) -> Result<Vec<EmailAddress>, Problem> {
    split_addresses(form.get(field))
        .into_iter()
        .map(|text| {
            EmailAddress::parse(&text)
                .map_err(|_| Problem::field(field, format!("\"{text}\" isn't an email address.")))
        })
        .collect()
}

/// The message the form describes, with `files`.
async fn written(
    page: &Page<'_>,
    from: &EmailAddress,
    lists: [&[EmailAddress]; 3],
    files: &[FileToAttach],
    id: &str,
) -> Result<Vec<u8>, Problem> {
    let form = page.form;
    // The name of whoever owns the address (not the chooser's label): Send
    // As from any address of info@ goes out as "Info", never as the person.
    let from_name = match page.web.mail().directory().resolve_address(from).await? {
        Some(owner) => owner.display_name,
        None => String::new(),
    };
    // The files and the message to be made of them (base64 lines: 78
    // octets per 57), on the memory budget before it is made.
    let files_total: usize = files.iter().map(|f| f.data.len()).sum();
    let text = form.get("body").len().saturating_mul(3).saturating_add(64 * 1024);
    page.cover(files_total.saturating_add(files_total / 57 * 78).saturating_add(text))?;
    let message_id = format!("<{id}@{}>", page.web.config.client.hostname);
    let boundary = random_token();
    let message = mime::build(&Written {
        from_name: &from_name,
        from,
        to: lists[0],
        cc: lists[1],
        bcc: lists[2],
        subject: form.get("subject"),
        body: form.get("body"),
        in_reply_to: form.get("in_reply_to"),
        references: form.get("references"),
        message_id: &message_id,
        files,
        boundary: &boundary[..24],
    });
    let max = page.web.config.max_message_size();
    if message.len() > max {
        return Err(Problem::field(
            attachments::FIELD,
            format!(
                "With its attachments the message is {}; the most that may be sent is {}. Remove an attachment.",
                crate::app::message::size(message.len()),
                crate::app::message::size(max)
            ),
        ));
    }
    Ok(message)
}

/// Saves `message` to the person's Drafts; where it went.
async fn save_draft(
    page: &Page<'_>,
    me: &Recipient,
    message: Vec<u8>,
) -> Result<(MailboxId, FolderId, Uid), Problem> {
    let mail = page.web.mail();
    let mailbox = me.mailbox_id().ok_or_else(Problem::not_found)?;
    let opened = mail.open_mailbox(me.id, mailbox).await?;
    let drafts = special_folder(page, &opened, SpecialUse::Drafts).await.ok_or_else(Problem::not_found)?;
    let (message, summary) = summarize(message).await?;
    let flags = Flags::default().with(SystemFlag::Draft).with(SystemFlag::Seen);
    let saved = mail.append(&drafts, message, &summary, flags, chrono::Utc::now().timestamp()).await?;
    Ok((mailbox, drafts.id(), saved.uid))
}

/// A large message is parsed off the async threads (moved there and back,
/// not copied).
async fn summarize(message: Vec<u8>) -> Result<(Vec<u8>, mailroom_core::mail::MessageSummary), Problem> {
    if message.len() < crate::app::message::LARGE as usize {
        let summary = mailroom_mime::summarize(&message);
        return Ok((message, summary));
    }
    tokio::task::spawn_blocking(move || {
        let summary = mailroom_mime::summarize(&message);
        (message, summary)
    })
    .await
    .map_err(|_| Problem::from(mailroom_core::CoreError::Storage))
}

/// A message's summary, text (made from its HTML if need be) and the
/// attachments a form offers to keep — read off the async threads when the
/// message is large (MIME decoding is CPU work).
async fn off_thread(
    message: impl AsRef<[u8]> + Send + 'static,
    source: Source,
) -> (mailroom_core::mail::MessageSummary, String, Vec<KeptFile>) {
    let large = message.as_ref().len() as u64 > crate::app::message::LARGE;
    let read = move || {
        let bytes = message.as_ref();
        let text = mailroom_mime::readable::plain_text(bytes).unwrap_or_default();
        (mailroom_mime::summarize(bytes), text, attachments::listed(bytes, source))
    };
    if large { tokio::task::spawn_blocking(read).await.unwrap_or_default() } else { read() }
}

/// Keeps what the refused form carried in a draft: its reference and files.
async fn stash(
    page: &Page<'_>,
    me: &Recipient,
    files: &[FileToAttach],
) -> Result<(String, Vec<KeptFile>), Problem> {
    let form = page.form;
    // What doesn't parse is left out of the draft (the form still shows it).
    let lenient = |field: &'static str| -> Vec<EmailAddress> {
        split_addresses(form.get(field)).iter().filter_map(|a| EmailAddress::parse(a).ok()).collect()
    };
    let from = EmailAddress::parse(form.get("from").trim()).unwrap_or_else(|_| me.primary_address.clone());
    let (to, cc, bcc) = (lenient("to"), lenient("cc"), lenient("bcc"));
    let id = random_token();
    let message = written(page, &from, [&to, &cc, &bcc], files, &id[..32]).await?;
    let message = bytes::Bytes::from(message);
    let (_, _, kept) = off_thread(message.clone(), Source::Draft).await;
    let (m, f, u) = save_draft(page, me, message.into()).await?;
    Ok((format!("{}/{}/{}", m.0, f.0, u.0), kept))
}

/// A message the form may open as a draft and replace: flagged `\Draft`,
/// in the Drafts folder of the person's own mailbox.
pub(crate) fn is_own_draft(
    me: &Recipient,
    open: &mailroom_core::mail::OpenFolder,
    message: &mailroom_core::mail::StoredMessage,
) -> bool {
    Some(open.mailbox()) == me.mailbox_id()
        && open.folder().special_use == Some(SpecialUse::Drafts)
        && message.flags.has(SystemFlag::Draft)
}

/// Removes the draft the form was editing, now replaced or sent.
async fn discard_draft(page: &Page<'_>, me: &Recipient, draft: Option<(MailboxId, FolderId, Uid)>) {
    let Some((mailbox, folder, uid)) = draft else { return };
    let Ok(open) = open(page, me, mailbox, folder).await else { return };
    let mail = page.web.mail();
    // Never anything but a draft in the person's Drafts: a crafted `draft=`
    // naming an Inbox message deletes nothing.
    let Some(message) = mail.messages_by_uid(&open, &[uid]).await.ok().and_then(|mut m| m.pop()) else {
        return;
    };
    if !is_own_draft(me, &open, &message) {
        return;
    }
    // Replaced, not deleted by the person: gone for good where they may purge.
    if let Err(err) = mail.discard_replaced(&open, &[uid]).await {
        tracing::warn!(error = %err, "a replaced draft couldn't be removed");
    }
}

async fn build_and_send(
    page: &Page<'_>,
    me: &Recipient,
    draft: bool,
    files: &[FileToAttach],
) -> Result<String, Problem> {
    let form = page.form;
    let mail = page.web.mail();
    let from =
        EmailAddress::parse(form.get("from").trim()).map_err(|e| Problem::field("from", e.to_string()))?;
    let (to, cc, bcc) =
        (parsed_addresses(form, "to")?, parsed_addresses(form, "cc")?, parsed_addresses(form, "bcc")?);
    let id = random_token();
    if draft {
        let message = written(page, &from, [&to, &cc, &bcc], files, &id[..32]).await?;
        let (mailbox, drafts, _) = save_draft(page, me, message).await?;
        return Ok(format!("{}?notice=draft", list_href(mailbox, drafts)));
    }
    let recipients: Vec<(&'static str, EmailAddress)> = [("to", &to), ("cc", &cc), ("bcc", &bcc)]
        .into_iter()
        .flat_map(|(field, list)| list.iter().map(move |a| (field, a.clone())))
        .collect();
    if recipients.is_empty() {
        return Err(Problem::field("to", "Add at least one recipient."));
    }
    if form.get("action") != "send-anyway"
        && matches!(form.get("mode"), "reply" | "all")
        && let Some(original) = location_of(form.get("in"))
        && let Some(warning) = answered_since(page, me, original, form.get("opened_at")).await
    {
        return Err(Problem { status: StatusCode::CONFLICT, ..Problem::field("confirm", warning) });
    }
    let message = written(page, &from, [&to, &cc, &[]], files, &id[..32]).await?;
    let (message, summary) = summarize(message).await?;
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
                attachments = files.len(), "message sent from the web app"
            );
            if let Some(original) = location_of(form.get("in")) {
                mark_answered(page, me, original, form.get("mode")).await;
            }
            // Back where the person wrote from.
            let back = match location_of(form.get("in")) {
                Some((m, f, _)) => list_href(m, f),
                None => "/mail/".to_string(),
            };
            Ok(format!("{back}{}notice=sent", if back.contains('?') { "&" } else { "?" }))
        }
        Err(mailroom_send::SendError::Refused(refusal)) => Err(Problem::field("from", refusal.to_string())),
        Err(mailroom_send::SendError::Failed(err)) => Err(err.into()),
    }
}

/// The collision guard's question, when another member replied to the
/// message since this reply was opened (`opened_at`, Unix seconds): "Bob
/// Smith already replied at 10:32 UTC — send anyway?". Read from the
/// activity trail, so a reply from any client counts.
async fn answered_since(
    page: &Page<'_>,
    me: &Recipient,
    (mailbox, folder, uid): (MailboxId, FolderId, Uid),
    opened_at: &str,
) -> Option<String> {
    let since = opened_at.trim().parse::<i64>().ok()?;
    let open = open(page, me, mailbox, folder).await.ok()?;
    let mail = page.web.mail();
    // The message was sent or not on this answer alone: a failed look
    // sends (the reply is on the trail either way).
    let latest = match mail.replied_by_another_since(&open, uid, since).await {
        Ok(found) => found?,
        Err(err) => {
            tracing::warn!(error = %err, "the collision guard couldn't read the trail");
            return None;
        }
    };
    let who = match latest.actor {
        Some(id) => {
            mail.directory().recipient(id).await.map(|r| r.display_name).unwrap_or_else(|_| "Someone".into())
        }
        None => "Someone".into(),
    };
    let when = chrono::DateTime::from_timestamp(latest.at, 0)
        .map(|t| t.format("%H:%M").to_string())
        .unwrap_or_default();
    Some(format!("{who} already replied at {when} UTC — send anyway?"))
}

/// Marks the message answered (`\Answered`) or forwarded (`$Forwarded`,
/// RFC 5550), as mail clients do once the answer is sent: the mailbox's
/// other members see it, and it goes on the mailbox's activity trail. The
/// message was sent already, so a failure here is only logged.
async fn mark_answered(
    page: &Page<'_>,
    me: &Recipient,
    (mailbox, folder, uid): (MailboxId, FolderId, Uid),
    mode: &str,
) {
    let mut flags = Flags::default();
    match mode {
        "reply" | "all" => flags = flags.with(SystemFlag::Answered),
        "forward" => {
            flags.keywords.insert(mailroom_core::mail::activity::FORWARDED_KEYWORD.to_string());
        }
        _ => return,
    }
    let Ok(open) = open(page, me, mailbox, folder).await else { return };
    let change = mailroom_core::store::FlagChange::Add;
    if let Err(err) = page.web.mail().store_flags(&open, &[uid], change, &flags, None).await {
        tracing::warn!(error = %err, "the answered message couldn't be marked so");
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_lists_as_people_type_them() {
        assert_eq!(split_addresses("Alice <a@x.com>; b@y.com, ,"), vec!["a@x.com", "b@y.com"]);
        assert_eq!(prefixed("Re: ", "RE: hello"), "RE: hello");
        assert_eq!(prefixed("Re: ", "hello"), "Re: hello");
        assert_eq!(prefixed("Re: ", "Привет"), "Re: Привет", "no panic inside a character");
        assert_eq!(prefixed("Fw: ", "É"), "Fw: É");
    }
}
