//! A folder's message list: newest first (or oldest first), [`PAGE_SIZE`] a
//! page read from the store as a page (`Mail::message_page`), filtered to
//! unread or flagged ones, or searched: every word typed, as a word prefix,
//! in the subject, the people or the text (`Mail::search_text`, the store's
//! full-text index).

use askama::Template;
use chrono::DateTime;
use http::StatusCode;
use mailroom_core::directory::Recipient;
use mailroom_core::mail::{MessageFilter, MessageSummary, StoredMessage, SystemFlag, TextQuery};
use mailroom_types::{FolderId, MailboxId};

use super::sidebar::{self, SideMailbox};
use super::{PAGE_SIZE, message_href, open, refused};
use crate::form::encode;
use crate::pages::{Chrome, Page, html};
use crate::{Response, redirect};

#[derive(Debug)]
pub(crate) struct Row {
    pub href: String,
    pub from: String,
    pub subject: String,
    pub date: String,
    pub unread: bool,
    pub flagged: bool,
    /// "Handled", "Assigned to alice" (by alias): what the team set.
    pub state: String,
}

#[derive(Template)]
#[template(path = "app_list.html")]
struct ListPage {
    chrome: Chrome,
    sidebar: Vec<SideMailbox>,
    heading: String,
    mailbox_label: String,
    base: String,
    query: String,
    filter: &'static str,
    oldest_first: bool,
    rows: Vec<Row>,
    total: usize,
    page: usize,
    pages: usize,
    /// The query string a pager link keeps (search, filter, order).
    keep: String,
    notice: Option<&'static str>,
    /// In Recoverable Items: how long deleted messages stay.
    kept_note: Option<String>,
    /// The search index is still being built (after an import).
    search_incomplete: bool,
    /// The search matched more than it shows (the newest).
    search_truncated: bool,
    /// Where the change feed stood when the page was made: the script asks
    /// for changes after it.
    changes_after: u64,
}

pub(crate) async fn page(page: &Page<'_>, me: &Recipient, mailbox: MailboxId, folder: FolderId) -> Response {
    let mail = page.web.mail();
    // Taken before reading, so nothing committed while the page is made is missed.
    let changes_after = page.web.changes.as_ref().map_or(0, |feed| feed.head());
    let open = match open(page, me, mailbox, folder).await {
        Ok(open) => open,
        Err(response) => return response,
    };
    let filter = match page.query.get("filter") {
        "unread" => "unread",
        "flagged" => "flagged",
        "mine" => "mine",
        "unassigned" => "unassigned",
        "handled" => "handled",
        _ => "",
    };
    let message_filter = match filter {
        "unread" => MessageFilter::Unread,
        "flagged" => MessageFilter::Flagged,
        "mine" => MessageFilter::AssignedTo(me.alias.clone()),
        "unassigned" => MessageFilter::Unassigned,
        "handled" => MessageFilter::Handled,
        _ => MessageFilter::All,
    };
    let query = page.query.get("q").trim().to_string();
    let oldest_first = page.query.get("sort") == "oldest";
    let asked = page.query.get("page").parse::<usize>().unwrap_or(1).max(1);
    let offset = (asked - 1).saturating_mul(PAGE_SIZE);
    let base = super::list_href(mailbox, folder);
    let keep = keep_query(&query, filter, oldest_first);
    let (mut search_incomplete, mut search_truncated) = (false, false);
    let (total, shown) = if query.is_empty() {
        // The store pages the folder: a list costs its 50 rows, not the folder.
        match mail.message_page(&open, message_filter.clone(), !oldest_first, offset, PAGE_SIZE).await {
            Ok(page) => page,
            Err(err) => return refused(page, err),
        }
    } else {
        let words = TextQuery::parse(&query);
        let found = match mail.search_text(&open, &words, crate::message_text).await {
            Ok(found) => found,
            Err(err) => return refused(page, err),
        };
        search_incomplete = found.incomplete;
        search_truncated = found.truncated;
        let found = found.uids;
        let mut messages = match mail.messages_by_uid(&open, &found).await {
            Ok(m) => m,
            Err(err) => return refused(page, err),
        };
        messages.retain(|m| message_filter.matches(&m.flags));
        // Newest first: by arrival, then UID (which grows with arrival).
        messages.sort_by_key(|m| (m.internal_date, m.uid));
        if !oldest_first {
            messages.reverse();
        }
        let total = messages.len();
        (total, messages.into_iter().skip(offset).take(PAGE_SIZE).collect())
    };
    let pages = total.div_ceil(PAGE_SIZE).max(1);
    if asked > pages {
        return redirect(&format!("{base}?{keep}page={pages}"));
    }
    let shown: Vec<&StoredMessage> = shown.iter().collect();
    let summaries = match mail.summaries(&open, &shown).await {
        Ok(s) => s,
        Err(err) => return refused(page, err),
    };
    let rows =
        shown.iter().zip(summaries).map(|(m, summary)| row(mailbox, folder, m, summary.as_deref())).collect();
    let owner = mail.directory().recipient(mailbox.principal()).await.ok();
    let mailbox_label = match owner {
        Some(owner) if owner.id == me.id => "My mailbox".to_string(),
        Some(owner) => owner.display_name,
        None => String::new(),
    };
    let heading = super::sidebar::display_name(open.folder());
    let kept_note = if open.is_recoverable() {
        let settings = mail.directory().mailbox_settings(mailbox).await.ok();
        let period =
            settings.map(|s| retention_text(s.retain_deleted_items_for.seconds())).unwrap_or_default();
        Some(format!(
            "Messages deleted from this mailbox stay here for {period}, then they are gone for good. Open one to restore it."
        ))
    } else {
        None
    };
    html(
        StatusCode::OK,
        &ListPage {
            chrome: page.chrome("mail"),
            sidebar: sidebar::build(page, me, (mailbox, folder)).await,
            heading,
            mailbox_label,
            base,
            query,
            filter,
            oldest_first,
            rows,
            total,
            page: asked,
            pages,
            keep,
            changes_after,
            search_incomplete,
            search_truncated,
            kept_note,
            notice: match page.query.get("notice") {
                "sent" => Some("Your message was sent."),
                "draft" => Some("Your draft was saved."),
                _ => None,
            },
        },
    )
}

/// A retention period in words: "14 days", "1 day", "30 seconds".
fn retention_text(seconds: u64) -> String {
    let (count, unit) = match seconds {
        s if s >= 86_400 && s % 86_400 == 0 => (s / 86_400, "day"),
        s if s >= 3600 && s % 3600 == 0 => (s / 3600, "hour"),
        s if s >= 60 && s % 60 == 0 => (s / 60, "minute"),
        s => (s, "second"),
    };
    format!("{count} {unit}{}", if count == 1 { "" } else { "s" })
}

fn keep_query(query: &str, filter: &str, oldest_first: bool) -> String {
    let mut keep = String::new();
    if !query.is_empty() {
        keep.push_str(&format!("q={}&", encode(query)));
    }
    if !filter.is_empty() {
        keep.push_str(&format!("filter={filter}&"));
    }
    if oldest_first {
        keep.push_str("sort=oldest&");
    }
    keep
}

fn row(mailbox: MailboxId, folder: FolderId, m: &StoredMessage, summary: Option<&MessageSummary>) -> Row {
    let field = |name: &str| summary.map(|s| s.field(name).to_string()).unwrap_or_default();
    let subject = field("subject");
    Row {
        href: message_href(mailbox, folder, m.uid),
        from: short_sender(&field("from")),
        subject: if subject.is_empty() { "(no subject)".to_string() } else { subject },
        date: date(m.internal_date),
        unread: !m.flags.has(SystemFlag::Seen),
        flagged: m.flags.has(SystemFlag::Flagged),
        state: team_state(&m.flags),
    }
}

/// What a row says of assignment and handled state: empty for neither.
fn team_state(flags: &mailroom_core::mail::Flags) -> String {
    use mailroom_core::mail::assignment;
    if assignment::is_handled(flags) {
        return "Handled".to_string();
    }
    match assignment::assignees(flags).as_slice() {
        [] => String::new(),
        aliases => format!("Assigned to {}", aliases.join(", ")),
    }
}

/// `Alice Jones <alice@contoso.com>` → `Alice Jones`; a bare address stays.
pub(crate) fn short_sender(from: &str) -> String {
    match from.split_once('<') {
        Some((name, _)) if !name.trim().is_empty() => name.trim().trim_matches('"').to_string(),
        _ => from.trim_matches(['<', '>', ' ']).to_string(),
    }
}

/// Unix seconds as `2026-12-06 14:05` (UTC).
pub(crate) fn date(seconds: i64) -> String {
    DateTime::from_timestamp(seconds, 0).map(|t| t.format("%Y-%m-%d %H:%M").to_string()).unwrap_or_default()
}
