//! The activity trail in the web app: under a message of a shared mailbox,
//! what the team did with it ("Alice Jones replied · 2026-12-07 10:32"), and
//! the mailbox's feed at `/mail/{mailbox}/activity`, newest first, a page
//! at a time. Both read `Mail::activity`, which needs the right to read the
//! mailbox's messages.

use askama::Template;
use http::StatusCode;
use mailroom_core::directory::Recipient;
use mailroom_core::mail::{ActivityAction, ActivityEntry, ActivityQuery, OpenMailbox};
use mailroom_types::{MailboxId, PrincipalId};

use super::refused;
use super::sidebar::{self, SideMailbox};
use crate::Response;
use crate::pages::{Chrome, Page, html};

/// Entries the feed shows at once, and a message's page at most.
pub(crate) const FEED_PAGE: usize = 50;

/// One entry as people read it.
#[derive(Debug)]
pub(crate) struct TrailLine {
    /// "Alice Jones replied", "Arrived from a@fabrikam.com".
    pub text: String,
    /// `YYYY-MM-DD HH:MM`, UTC.
    pub when: String,
    /// The message's subject (the feed shows it; a message's page doesn't).
    pub subject: String,
}

/// Entries as sentences, naming each member once (`me` is "You").
pub(crate) async fn lines(page: &Page<'_>, me: &Recipient, entries: &[ActivityEntry]) -> Vec<TrailLine> {
    let mut names: std::collections::HashMap<PrincipalId, String> = Default::default();
    let mut out = Vec::with_capacity(entries.len());
    for entry in entries {
        let who = match entry.actor {
            None => None,
            Some(id) if id == me.id => Some("You".to_string()),
            Some(id) => Some(match names.get(&id) {
                Some(name) => name.clone(),
                None => {
                    let name = match page.web.mail().directory().recipient(id).await {
                        Ok(r) => r.display_name,
                        Err(_) => "A former member".to_string(),
                    };
                    names.insert(id, name.clone());
                    name
                }
            }),
        };
        out.push(TrailLine {
            text: sentence(who.as_deref(), entry.action, &entry.detail),
            when: super::list::date(entry.at),
            subject: if entry.subject.is_empty() {
                "(no subject)".to_string()
            } else {
                entry.subject.clone()
            },
        });
    }
    out
}

/// "Alice Jones moved it to Projects"; with nobody acting, what happened:
/// "Arrived from …", "Purged when its retention period ended".
fn sentence(who: Option<&str>, action: ActivityAction, detail: &str) -> String {
    let detail = if detail.is_empty() { String::new() } else { format!(" {detail}") };
    match (who, action) {
        (None, ActivityAction::Delivered) => format!("Arrived{detail}"),
        (None, other) => {
            let verb = other.verb();
            let mut first = verb.chars();
            let capital = first.next().map(|c| c.to_uppercase().collect::<String>()).unwrap_or_default();
            format!("{capital}{}{detail}", first.as_str())
        }
        (Some(who), ActivityAction::Replied) => format!("{who} replied{detail}"),
        (Some(who), other) => format!("{who} {} it{detail}", other.verb()),
    }
}

#[derive(Template)]
#[template(path = "app_activity.html")]
struct FeedPage {
    chrome: Chrome,
    sidebar: Vec<SideMailbox>,
    mailbox_label: String,
    lines: Vec<TrailLine>,
    /// The next page's link, when there may be one.
    older: Option<String>,
}

/// `GET /mail/{mailbox}/activity[?before=ID]`: the mailbox's feed.
pub(crate) async fn feed(page: &Page<'_>, me: &Recipient, mailbox: MailboxId) -> Response {
    let mail = page.web.mail();
    let opened: OpenMailbox = match mail.open_mailbox(me.id, mailbox).await {
        Ok(opened) => opened,
        Err(err) => return refused(page, err),
    };
    let before_id = page.query.get("before").parse::<i64>().ok().filter(|id| *id > 0);
    let query = ActivityQuery { before_id, limit: FEED_PAGE, ..ActivityQuery::default() };
    let entries = match mail.activity(&opened, &query).await {
        Ok(entries) => entries,
        Err(err) => return refused(page, err),
    };
    let older = (entries.len() == FEED_PAGE)
        .then(|| entries.last().map(|e| format!("/mail/{}/activity?before={}", mailbox.0, e.id)))
        .flatten();
    // A shared mailbox's feed; a person's mailbox has none to show (an
    // administrator searches any mailbox's trail with the cmdlet).
    let label = match mail.directory().recipient(mailbox.principal()).await {
        Ok(owner) if owner.kind == mailroom_core::directory::RecipientKind::SharedMailbox => {
            owner.display_name
        }
        Ok(_) => return crate::pages::not_found(page.caller),
        Err(err) => return refused(page, err),
    };
    // The mailbox shown open in the folder pane, none of its folders current.
    let current = (mailbox, mailroom_types::FolderId(0));
    html(
        StatusCode::OK,
        &FeedPage {
            chrome: page.chrome("mail"),
            sidebar: sidebar::build(page, me, current).await,
            mailbox_label: label,
            lines: lines(page, me, &entries).await,
            older,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_read_as_sentences() {
        assert_eq!(sentence(Some("Alice Jones"), ActivityAction::Replied, ""), "Alice Jones replied");
        assert_eq!(sentence(Some("Bob"), ActivityAction::Moved, "to Projects"), "Bob moved it to Projects");
        assert_eq!(sentence(None, ActivityAction::Delivered, "from a@b.example"), "Arrived from a@b.example");
        assert_eq!(
            sentence(None, ActivityAction::Purged, "when its retention period ended"),
            "Purged when its retention period ended"
        );
        assert_eq!(sentence(Some("You"), ActivityAction::Read, ""), "You read it");
    }
}
