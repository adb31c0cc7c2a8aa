//! The folder pane: the person's own mailbox, then each shared mailbox they
//! may open — automapped ones (and the one being read) with their folders
//! and unread counts, the others as a link that opens them on demand.

use mailroom_core::directory::Recipient;
use mailroom_core::mail::{Folder, OpenMailbox, SpecialUse};
use mailroom_core::permissions::MailboxAction;
use mailroom_types::{FolderId, MailboxId};

use super::list_href;
use crate::pages::Page;

#[derive(Debug)]
pub(crate) struct SideMailbox {
    pub label: String,
    pub address: String,
    /// Where a collapsed mailbox's link goes (its Inbox).
    pub href: String,
    pub folders: Vec<SideFolder>,
    /// A shared mailbox's activity feed, when its folders are shown.
    pub activity_href: Option<String>,
    /// A shared mailbox's Inbox filtered to what is assigned to the person
    /// and not handled yet, and how many: how an assignee is told.
    pub assigned: Option<(String, usize)>,
}

#[derive(Debug)]
pub(crate) struct SideFolder {
    pub name: String,
    pub href: String,
    pub unseen: u64,
    pub current: bool,
}

/// The pane for `me`, with `current` marked.
pub(crate) async fn build(
    page: &Page<'_>,
    me: &Recipient,
    current: (MailboxId, FolderId),
) -> Vec<SideMailbox> {
    let mail = page.web.mail();
    let mut out = Vec::new();
    let mut wanted: Vec<(Recipient, bool)> = Vec::new();
    if me.mailbox_id().is_some() {
        wanted.push((me.clone(), true));
    }
    let mut shared = mail.directory().accessible_mailboxes(me.id).await.unwrap_or_default();
    // Automapped first, as Outlook lists them; then the rest by name.
    shared.sort_by_key(|(r, access)| (!access.automapped, r.name.to_lowercase()));
    for (recipient, access) in shared {
        if !access.allows(MailboxAction::Open) {
            continue;
        }
        let expanded = access.automapped || recipient.mailbox_id() == Some(current.0);
        wanted.push((recipient, expanded));
    }
    for (recipient, expanded) in wanted {
        let Some(mailbox) = recipient.mailbox_id() else { continue };
        let label =
            if recipient.id == me.id { "My mailbox".to_string() } else { recipient.display_name.clone() };
        let href = format!("/mail/{}", mailbox.0);
        let mut folders = Vec::new();
        let mut assigned = None;
        if expanded && let Ok(opened) = mail.open_mailbox(me.id, mailbox).await {
            folders = side_folders(page, &opened, current).await;
            if recipient.kind == mailroom_core::directory::RecipientKind::SharedMailbox {
                assigned = assigned_to(page, me, &opened).await;
            }
        }
        // The team's views: a shared mailbox's, not a person's.
        let team = recipient.kind == mailroom_core::directory::RecipientKind::SharedMailbox;
        let activity_href = (team && !folders.is_empty()).then(|| format!("/mail/{}/activity", mailbox.0));
        out.push(SideMailbox {
            label,
            address: recipient.primary_address.to_string(),
            href,
            folders,
            activity_href,
            assigned,
        });
    }
    out
}

/// The link to the shared Inbox's messages assigned to `me` and open, and
/// their count (one counting query).
async fn assigned_to(page: &Page<'_>, me: &Recipient, opened: &OpenMailbox) -> Option<(String, usize)> {
    let inbox = super::special_folder(page, opened, SpecialUse::Inbox).await?;
    let filter = mailroom_core::mail::MessageFilter::AssignedTo(me.alias.clone());
    let (count, _) = page.web.mail().message_page(&inbox, filter, true, 0, 0).await.ok()?;
    Some((format!("{}?filter=mine", list_href(opened.mailbox(), inbox.id())), count))
}

async fn side_folders(
    page: &Page<'_>,
    opened: &OpenMailbox,
    current: (MailboxId, FolderId),
) -> Vec<SideFolder> {
    let mail = page.web.mail();
    // One listing for the mailbox, not one per folder.
    let mut folders = mail.open_folders(opened).await.unwrap_or_default();
    folders.sort_by_key(|f| {
        (f.folder().special_use.map_or(SpecialUse::ALL.len(), |s| s as usize), f.folder().name.to_lowercase())
    });
    let mut out = Vec::with_capacity(folders.len());
    for open in folders {
        let unseen = mail.unseen_count(&open).await.unwrap_or(0);
        let folder = open.folder();
        out.push(SideFolder {
            name: display_name(folder),
            href: list_href(opened.mailbox(), folder.id),
            unseen,
            current: opened.mailbox() == current.0 && folder.id == current.1,
        });
    }
    out
}

/// A folder as Outlook names it: the special ones by their use, others by
/// name — and Recoverable Items by what a member goes there to do.
pub(crate) fn display_name(folder: &Folder) -> String {
    match folder.special_use {
        Some(SpecialUse::Recoverable) => "Recover deleted items".to_string(),
        Some(use_) => use_.folder_name().to_string(),
        None => folder.name.clone(),
    }
}
