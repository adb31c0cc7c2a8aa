//! One message: its headers, its text or cleaned HTML, its attachments —
//! and what a member does with it: read / unread, flag / unflag, move,
//! archive, delete (to Deleted Items; from there to Recoverable Items). In
//! Recoverable Items a message says who deleted it, from where and when, and
//! can be restored or — by a member who may purge — deleted permanently.
//!
//! Opening a message marks it read for the mailbox, as IMAP does (`\Seen`
//! is shared by the members of a shared mailbox, as in Exchange). In a
//! shared mailbox the page ends with what the team did with the message:
//! its activity trail.

use std::collections::HashMap;

use askama::Template;
use http::{HeaderValue, StatusCode, header};
use mailroom_core::directory::Recipient;
use mailroom_core::mail::{Flags, SpecialUse, StoredMessage, SystemFlag};
use mailroom_core::store::FlagChange;
use mailroom_mime::readable::{Attachment, readable};
use mailroom_types::{FolderId, MailboxId, Uid};

use super::sidebar::{self, SideMailbox};
use super::{list_href, message_href, open, refused, special_folder};
use crate::pages::{Chrome, Page, html, not_found};
use crate::{Response, answer, redirect};

/// Images a browser shows itself; anything else (SVG included: it can hold
/// script) is downloaded, never rendered by us.
const SHOWN_IMAGES: [&str; 4] = ["image/png", "image/jpeg", "image/gif", "image/webp"];

/// Messages larger than this are parsed and cleaned on a blocking thread.
pub(crate) const LARGE: u64 = 256 * 1024;

#[derive(Debug)]
struct Shown {
    name: String,
    href: String,
    size: String,
}

#[derive(Template)]
#[template(path = "app_message.html")]
struct MessagePage {
    chrome: Chrome,
    sidebar: Vec<SideMailbox>,
    back: String,
    action_base: String,
    subject: String,
    from: String,
    to: String,
    cc: String,
    date: String,
    flagged: bool,
    /// A draft: opened again to be finished, not answered.
    draft: bool,
    /// Cleaned HTML, shown as markup.
    html_body: Option<String>,
    text_body: Option<String>,
    remote_images_blocked: bool,
    images_href: String,
    attachments: Vec<Shown>,
    /// Other folders of the mailbox, for "Move to".
    folders: Vec<(i64, String)>,
    /// `MAILBOX/FOLDER/UID`, for reply and forward.
    original: String,
    /// In Recoverable Items: what its note says, and what may be done.
    deleted: Option<DeletedNote>,
    /// In a shared mailbox: what the team did with the message, newest first.
    trail: Vec<super::activity::TrailLine>,
    /// In a shared mailbox (not in Recoverable Items): who it is assigned
    /// to and whether it is handled, and whom it can be assigned to.
    assignment: Option<AssignmentBox>,
}

/// The assignment line and form of a shared mailbox's message.
#[derive(Debug)]
struct AssignmentBox {
    /// "Assigned to Alice Jones", "Not assigned".
    status: String,
    handled: bool,
    /// (principal id, display name, chosen) of each member.
    members: Vec<(i64, String, bool)>,
}

/// Who `flags` name as assignees, by display name, and the members to choose from.
async fn assignment_box(page: &Page<'_>, mailbox: MailboxId, flags: &Flags) -> AssignmentBox {
    use mailroom_core::mail::assignment;
    let members = page.web.mail().directory().full_access_members(mailbox).await.unwrap_or_default();
    let aliases = assignment::assignees(flags);
    let chosen = |alias: &str| aliases.iter().any(|a| a.eq_ignore_ascii_case(alias));
    let names: Vec<String> = aliases
        .iter()
        .map(|a| {
            members
                .iter()
                .find(|m| m.alias.eq_ignore_ascii_case(a))
                .map_or_else(|| a.clone(), |m| m.display_name.clone())
        })
        .collect();
    AssignmentBox {
        status: if names.is_empty() {
            "Not assigned".to_string()
        } else {
            format!("Assigned to {}", names.join(", "))
        },
        handled: assignment::is_handled(flags),
        members: members.iter().map(|m| (m.id.0, m.display_name.clone(), chosen(&m.alias))).collect(),
    }
}

/// A message of Recoverable Items, as its page shows it.
#[derive(Debug)]
struct DeletedNote {
    /// "Deleted from Inbox by Alice Jones on 2026-12-07 10:32 UTC."
    text: String,
    /// Only a member who may purge gets "Delete permanently".
    can_purge: bool,
}

/// The note of message `uid` of Recoverable Items.
async fn deleted_note(page: &Page<'_>, open: &mailroom_core::mail::OpenFolder, uid: Uid) -> DeletedNote {
    let mail = page.web.mail();
    let items = mail.recoverable(open).await.unwrap_or_default();
    let text = match items.into_iter().find(|r| r.item.uid == uid) {
        Some(r) => {
            let who = match r.item.deleted_by {
                Some(id) => mail.directory().recipient(id).await.ok().map(|p| p.display_name),
                None => None,
            };
            let from = if r.item.deleted_from_name.is_empty() {
                String::new()
            } else {
                format!(" from {}", r.item.deleted_from_name)
            };
            let by = who.map(|w| format!(" by {w}")).unwrap_or_default();
            format!("Deleted{from}{by} on {} UTC.", super::list::date(r.item.deleted_at))
        }
        None => "Deleted.".to_string(),
    };
    DeletedNote { text, can_purge: open.rights().expunge }
}

/// Finds message `uid` of an opened folder, or `None`.
async fn find(page: &Page<'_>, open: &mailroom_core::mail::OpenFolder, uid: Uid) -> Option<StoredMessage> {
    page.web.mail().messages_by_uid(open, &[uid]).await.ok()?.pop()
}

/// The body id of message `uid` of a folder opened for the person (rights
/// checked now), without reading it; anything missing or not theirs is the
/// answer instead.
pub(crate) async fn opened_message_meta(
    page: &Page<'_>,
    me: &Recipient,
    (mailbox, folder, uid): (MailboxId, FolderId, Uid),
) -> Result<mailroom_types::BlobId, Response> {
    let open = open(page, me, mailbox, folder).await?;
    Ok(find(page, &open, uid).await.ok_or_else(|| not_found(page.caller))?.blob)
}

/// The folder opened for the person (rights checked now), message `uid` of
/// it and its bytes; anything missing or not theirs is the answer instead.
pub(crate) async fn opened_message(
    page: &Page<'_>,
    me: &Recipient,
    (mailbox, folder, uid): (MailboxId, FolderId, Uid),
) -> Result<(mailroom_core::mail::OpenFolder, StoredMessage, Vec<u8>), Response> {
    let open = open(page, me, mailbox, folder).await?;
    let message = find(page, &open, uid).await.ok_or_else(|| not_found(page.caller))?;
    let body = page.web.mail().body(&open, &message).await.map_err(|err| refused(page, err))?;
    Ok((open, message, body))
}

pub(crate) async fn page(
    page: &Page<'_>,
    me: &Recipient,
    mailbox: MailboxId,
    folder: FolderId,
    uid: Uid,
) -> Response {
    let mail = page.web.mail();
    let (open, message, body) = match opened_message(page, me, (mailbox, folder, uid)).await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let summary = match mail.summary(&open, &message).await {
        Ok(summary) => summary,
        Err(err) => return refused(page, err),
    };
    let field = |name: &str| {
        summary
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let here = message_href(mailbox, folder, uid);
    let remote = page.query.get("images") == "show";
    let cache = page.web.cleaned.clone();
    let (blob, base) = (message.blob, here.clone());
    // Parsing and cleaning a large message is CPU work: off the async
    // threads, as SMTP does for large deliveries.
    let render = move || {
        let content = readable(&body);
        let part_href = |a: &Attachment| format!("{base}/part/{}", a.part);
        let cid_urls: HashMap<String, String> = content
            .attachments
            .iter()
            .filter(|a| SHOWN_IMAGES.contains(&a.content_type.as_str()))
            .filter_map(|a| a.content_id.clone().map(|cid| (cid, part_href(a))))
            .collect();
        let cleaned = content.html.as_deref().map(|h| {
            cache.get_or_clean((blob, remote, base.clone()), || super::sanitize::clean(h, cid_urls, remote))
        });
        // A part the HTML shows in place isn't listed; every other one is.
        let attachments = content
            .attachments
            .iter()
            .filter(|a| {
                !a.content_id
                    .as_ref()
                    .is_some_and(|cid| cleaned.as_ref().is_some_and(|c| c.shown_cids.contains(cid)))
            })
            .map(|a| Shown { name: a.name.clone(), href: part_href(a), size: size(a.size) })
            .collect::<Vec<_>>();
        (content.text, cleaned, attachments)
    };
    // Marked read (a durable write) while it is cleaned, not after.
    let mark_read = async {
        if !message.flags.has(SystemFlag::Seen) && open.rights().keep_seen {
            let seen = Flags::default().with(SystemFlag::Seen);
            if let Err(err) = mail.store_flags(&open, &[uid], FlagChange::Add, &seen, None).await {
                tracing::warn!(error = %err, "could not mark a message read");
            }
        }
    };
    let (text, cleaned, attachments) = if message.size > LARGE {
        match tokio::join!(tokio::task::spawn_blocking(render), mark_read).0 {
            Ok(rendered) => rendered,
            Err(err) => {
                tracing::error!(error = %err, "a message couldn't be rendered");
                return refused(page, mailroom_core::CoreError::Storage);
            }
        }
    } else {
        mark_read.await;
        render()
    };
    // Nothing is moved into Recoverable Items but by a delete.
    let folders = mail
        .folders_in(open.opened())
        .await
        .unwrap_or_default()
        .iter()
        .filter(|f| f.id != folder && f.special_use != Some(SpecialUse::Recoverable))
        .map(|f| (f.id.0, sidebar::display_name(f)))
        .collect();
    let deleted = if open.is_recoverable() { Some(deleted_note(page, &open, uid).await) } else { None };
    // The team's part of the page: a shared mailbox's, not a person's
    // (a delegate of a colleague's mailbox sees no trail of their reading).
    let shared = mail
        .directory()
        .recipient(mailbox.principal())
        .await
        .is_ok_and(|owner| owner.kind == mailroom_core::directory::RecipientKind::SharedMailbox);
    let assignment = if shared && !open.is_recoverable() {
        Some(assignment_box(page, mailbox, &message.flags).await)
    } else {
        None
    };
    let trail = if shared {
        let query = mailroom_core::mail::ActivityQuery {
            blob: Some(message.blob),
            limit: super::activity::FEED_PAGE,
            ..Default::default()
        };
        let entries = mail.activity(open.opened(), &query).await.unwrap_or_default();
        super::activity::lines(page, me, &entries).await
    } else {
        Vec::new()
    };
    let subject = field("subject");
    let message_page = MessagePage {
        chrome: page.chrome("mail"),
        sidebar: sidebar::build(page, me, (mailbox, folder)).await,
        back: list_href(mailbox, folder),
        action_base: here.clone(),
        subject: if subject.is_empty() { "(no subject)".into() } else { subject },
        from: field("from"),
        to: field("to"),
        cc: field("cc"),
        date: super::list::date(message.internal_date),
        flagged: message.flags.has(SystemFlag::Flagged),
        draft: super::compose::is_own_draft(me, &open, &message),
        remote_images_blocked: cleaned.as_ref().is_some_and(|c| c.remote_images_blocked),
        html_body: cleaned.map(|c| c.html.clone()),
        text_body: text,
        images_href: format!("{here}?images=show"),
        attachments,
        folders,
        original: format!("{}/{}/{}", mailbox.0, folder.0, uid.0),
        deleted,
        trail,
        assignment,
    };
    let mut response = html(StatusCode::OK, &message_page);
    if remote {
        // The reader asked for the sender's images: this page may load them.
        response.headers_mut().insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(crate::pages::CSP_REMOTE_IMAGES),
        );
    }
    response
}

/// `…/part/N`: an attachment, as a download; a picture of a kind browsers
/// show safely is shown (inline images of HTML mail).
pub(crate) async fn attachment(
    page: &Page<'_>,
    me: &Recipient,
    mailbox: MailboxId,
    folder: FolderId,
    uid: Uid,
    index: usize,
) -> Response {
    let body = match opened_message(page, me, (mailbox, folder, uid)).await {
        Ok((_, _, body)) => body,
        Err(response) => return response,
    };
    // Only a part the reader lists may be fetched (not a body part by number).
    let listed = readable(&body).attachments.into_iter().any(|a| a.part == index);
    let Some(part) = listed.then(|| mailroom_mime::readable::part(&body, index)).flatten() else {
        return not_found(page.caller);
    };
    let shown = SHOWN_IMAGES.contains(&part.content_type.as_str());
    let kind = if shown { part.content_type.clone() } else { "application/octet-stream".to_string() };
    let mut response = answer(StatusCode::OK, "application/octet-stream", part.bytes);
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&kind) {
        headers.insert(header::CONTENT_TYPE, value);
    }
    let disposition = if shown { "inline" } else { "attachment" };
    if let Ok(value) = HeaderValue::from_str(&format!("{disposition}; {}", filename_parameter(&part.name))) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    // Whatever the bytes are, they run nothing here.
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("default-src 'none'; sandbox"));
    response
}

/// `filename="…"` (ASCII, quotes and controls replaced) and `filename*`
/// (RFC 6266 / RFC 8187) for the real name.
fn filename_parameter(name: &str) -> String {
    let ascii: String = name
        .chars()
        .map(|c| if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' { c } else { '_' })
        .collect();
    format!("filename=\"{ascii}\"; filename*=UTF-8''{}", crate::form::ext_value(name))
}

pub(crate) fn size(bytes: usize) -> String {
    mailroom_core::directory::format_size(bytes as u64).split(" (").next().unwrap_or_default().to_string()
}

/// POST `…/{action}`.
pub(crate) async fn act(
    page: &Page<'_>,
    me: &Recipient,
    mailbox: MailboxId,
    folder: FolderId,
    uid: Uid,
    action: &str,
) -> Response {
    let mail = page.web.mail();
    let open = match open(page, me, mailbox, folder).await {
        Ok(open) => open,
        Err(response) => return response,
    };
    if find(page, &open, uid).await.is_none() {
        return not_found(page.caller);
    }
    // In Recoverable Items a message is restored or purged, nothing else
    // (a "delete" there would move it to Deleted Items).
    if open.is_recoverable() && !matches!(action, "restore" | "purge") {
        return not_found(page.caller);
    }
    let here = message_href(mailbox, folder, uid);
    let list = list_href(mailbox, folder);
    let flag = |f: SystemFlag| Flags::default().with(f);
    let outcome = match action {
        "read" => mail
            .store_flags(&open, &[uid], FlagChange::Add, &flag(SystemFlag::Seen), None)
            .await
            .map(|_| &list),
        "unread" => mail
            .store_flags(&open, &[uid], FlagChange::Remove, &flag(SystemFlag::Seen), None)
            .await
            .map(|_| &list),
        "flag" => mail
            .store_flags(&open, &[uid], FlagChange::Add, &flag(SystemFlag::Flagged), None)
            .await
            .map(|_| &here),
        "unflag" => mail
            .store_flags(&open, &[uid], FlagChange::Remove, &flag(SystemFlag::Flagged), None)
            .await
            .map(|_| &here),
        "delete" | "archive" | "move" => {
            let target = match action {
                "delete" => special_folder(page, open.opened(), SpecialUse::Trash).await,
                "archive" => special_folder(page, open.opened(), SpecialUse::Archive).await,
                _ => match page.form.get("to").parse() {
                    Ok(id) => mail.open_folder(open.opened(), FolderId(id)).await.ok(),
                    Err(_) => None,
                },
            };
            let Some(target) = target else { return not_found(page.caller) };
            if target.id() == open.id() && action == "delete" {
                // Deleting from Deleted Items expunges, as Outlook does: the
                // message goes on to Recoverable Items.
                mail.delete_messages(&open, &[uid]).await.map(|_| &list)
            } else if target.id() == open.id() {
                Ok(&here)
            } else {
                mail.move_messages(&open, &[uid], &target).await.map(|_| &list)
            }
        }
        // Back where it was deleted from: the page shows it there.
        "restore" => match mail.restore(&open, &[uid]).await {
            Ok(restored) => match restored.first() {
                Some(back) => return redirect(&message_href(mailbox, back.folder, back.new_uid)),
                None => return not_found(page.caller),
            },
            Err(err) => Err(err),
        },
        // Recoverable Items' expunge destroys; core refuses a NoPurge member.
        "purge" if open.is_recoverable() => mail.delete_messages(&open, &[uid]).await.map(|_| &list),
        // Nobody (an empty choice), or a member by id; core checks membership.
        "assign" => {
            let member = match page.form.get("to") {
                "" => None,
                id => match id.parse() {
                    Ok(id) => Some(mailroom_types::PrincipalId(id)),
                    Err(_) => return not_found(page.caller),
                },
            };
            mail.assign(&open, &[uid], member).await.map(|_| &here)
        }
        "handled" => mail.set_handled(&open, &[uid], true).await.map(|_| &here),
        "reopen" => mail.set_handled(&open, &[uid], false).await.map(|_| &here),
        _ => return not_found(page.caller),
    };
    match outcome {
        Ok(to) => redirect(to),
        Err(err) => refused(page, err),
    }
}
