//! The members' web app at `/mail`: a person's own mailbox and every shared
//! mailbox they hold Full Access to, read through the same door as IMAP
//! (`Mail::open_mailbox`, rights computed now), so a member removed by an
//! admin loses the mailbox at the next request, and a URL naming a mailbox
//! the person can't open answers `404` — the same as one that doesn't exist.
//!
//! Pages: the folder list with unread counts beside a message list (paged,
//! newest first or oldest first, unread / flagged filters, a search over
//! sender, recipients and subject), a message (headers, text, HTML cleaned by
//! [`sanitize`], attachments), the actions on it: read / unread, flag,
//! move, delete (to Deleted Items), archive — and writing mail (`compose`):
//! new, reply, reply all, forward, from any address the person may send as
//! — and the activity trail of a shared mailbox ([`activity`]): per message,
//! and as the mailbox's feed.

mod activity;
pub(crate) mod calendar;
mod compose;
mod list;
mod live;
pub(crate) mod message;
pub(crate) mod presence;
pub(crate) mod sanitize;
mod sidebar;

use http::StatusCode;
use mailroom_core::CoreError;
use mailroom_core::directory::Recipient;
use mailroom_core::mail::{OpenFolder, OpenMailbox, SpecialUse};
use mailroom_types::{FolderId, MailboxId, Uid};

use crate::pages::{Page, message_page, not_found};
use crate::{Caller, Response, redirect};

/// Messages a list page shows at once.
pub(crate) const PAGE_SIZE: usize = 50;

/// `/mail/...`.
pub(crate) async fn handle(page: &Page<'_>, rest: &[&str]) -> Response {
    let Caller::Browser { me, .. } = page.caller else { return redirect(crate::pages::SIGN_IN) };
    match (rest, page.post) {
        ([], false) => inbox(page, me, me.mailbox_id()).await,
        (["compose"], false) => compose::form(page, me).await,
        (["compose"], true) => compose::submit(page, me).await,
        ([mailbox], false) => match mailbox.parse() {
            Ok(id) => inbox(page, me, Some(MailboxId(id))).await,
            Err(_) => not_found(page.caller),
        },
        ([mailbox, "activity"], false) => match mailbox.parse() {
            Ok(id) => activity::feed(page, me, MailboxId(id)).await,
            Err(_) => not_found(page.caller),
        },
        ([mailbox, folder], false) => match location(mailbox, folder, None) {
            Some((m, f, _)) => list::page(page, me, m, f).await,
            None => not_found(page.caller),
        },
        ([mailbox, folder, "changes"], false) => match location(mailbox, folder, None) {
            Some((m, f, _)) => live::changes(page, me, m, f).await,
            None => not_found(page.caller),
        },
        ([mailbox, folder, uid], false) => match location(mailbox, folder, Some(uid)) {
            Some((m, f, Some(u))) => message::page(page, me, m, f, u).await,
            _ => not_found(page.caller),
        },
        ([mailbox, folder, uid, "part", index], false) => {
            match (location(mailbox, folder, Some(uid)), index.parse()) {
                (Some((m, f, Some(u))), Ok(index)) => message::attachment(page, me, m, f, u, index).await,
                _ => not_found(page.caller),
            }
        }
        ([mailbox, folder, uid, "presence"], false) => match location(mailbox, folder, Some(uid)) {
            Some((m, f, Some(u))) => presence::presence(page, me, (m, f, u)).await,
            _ => not_found(page.caller),
        },
        ([mailbox, folder, uid, "replying"], true) => match location(mailbox, folder, Some(uid)) {
            Some((m, f, Some(u))) => presence::replying(page, me, (m, f, u)).await,
            _ => not_found(page.caller),
        },
        ([mailbox, folder, uid, action], true) => match location(mailbox, folder, Some(uid)) {
            Some((m, f, Some(u))) => message::act(page, me, m, f, u, action).await,
            _ => not_found(page.caller),
        },
        _ => not_found(page.caller),
    }
}

/// `/mail/` (the person's own Inbox) and `/mail/{mailbox}` (that mailbox's).
async fn inbox(page: &Page<'_>, me: &Recipient, mailbox: Option<MailboxId>) -> Response {
    let Some(mailbox) = mailbox else { return not_found(page.caller) };
    let mail = page.web.mail();
    let opened = match mail.open_mailbox(me.id, mailbox).await {
        Ok(opened) => opened,
        Err(err) => return refused(page, err),
    };
    match special_folder(page, &opened, SpecialUse::Inbox).await {
        // A notice ("sent") survives the way to the Inbox.
        Some(inbox) => match page.query.get("notice") {
            "" => redirect(&list_href(mailbox, inbox.id())),
            notice => redirect(&format!(
                "{}?notice={}",
                list_href(mailbox, inbox.id()),
                crate::form::encode(notice)
            )),
        },
        None => not_found(page.caller),
    }
}

/// Mailbox, folder and message numbers from the URL.
fn location(mailbox: &str, folder: &str, uid: Option<&&str>) -> Option<(MailboxId, FolderId, Option<Uid>)> {
    let mailbox = MailboxId(mailbox.parse().ok()?);
    let folder = FolderId(folder.parse().ok()?);
    let uid = match uid {
        Some(u) => Some(Uid(u.parse().ok()?)),
        None => None,
    };
    Some((mailbox, folder, uid))
}

/// Opens a folder of a mailbox for the signed-in person, rights checked now.
/// Anything they can't open is "not found".
pub(crate) async fn open(
    page: &Page<'_>,
    me: &Recipient,
    mailbox: MailboxId,
    folder: FolderId,
) -> Result<OpenFolder, Response> {
    let mail = page.web.mail();
    let opened = mail.open_mailbox(me.id, mailbox).await.map_err(|err| refused(page, err))?;
    mail.open_folder(&opened, folder).await.map_err(|err| refused(page, err))
}

/// The folder of `mailbox` with a special use (Inbox, Deleted Items, ...).
pub(crate) async fn special_folder(
    page: &Page<'_>,
    opened: &OpenMailbox,
    which: SpecialUse,
) -> Option<OpenFolder> {
    let mail = page.web.mail();
    let folders = mail.folders_in(opened).await.ok()?;
    let folder = folders.iter().find(|f| f.special_use == Some(which))?;
    mail.open_folder(opened, folder.id).await.ok()
}

/// A refusal from `core` as a page: what the person may not open doesn't
/// exist for them (DESIGN.md rule 9: one mapping).
pub(crate) fn refused(page: &Page<'_>, err: CoreError) -> Response {
    match err {
        CoreError::NotFound { .. } | CoreError::NoAccess { .. } | CoreError::PermissionDenied => {
            not_found(page.caller)
        }
        CoreError::Storage => message_page(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Something went wrong",
            "The server couldn't read the mailbox; its log has the details.",
            Some(page.chrome("")),
        ),
        other => message_page(
            StatusCode::UNPROCESSABLE_ENTITY,
            "That didn't work",
            &other.to_string(),
            Some(page.chrome("")),
        ),
    }
}

pub(crate) fn list_href(mailbox: MailboxId, folder: FolderId) -> String {
    format!("/mail/{}/{}", mailbox.0, folder.0)
}

pub(crate) fn message_href(mailbox: MailboxId, folder: FolderId, uid: Uid) -> String {
    format!("/mail/{}/{}/{}", mailbox.0, folder.0, uid.0)
}
