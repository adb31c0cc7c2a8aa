//! Lists that follow the mailbox as it changes: `GET …/changes?after=SEQ`
//! waits (up to [`WAIT`]) on the change feed — every process's changes,
//! IMAP's and the CLI's included — for one that concerns this folder or who
//! may open it, and answers `{"changed": …, "after": …}`. The page's script
//! asks again and again, and on a change fetches the page anew and swaps
//! its list in, so new mail, flags and expunges made by other members show
//! within the feed's latency, without a reload. A change of who may open
//! what is checked here again: only a person who lost the mailbox hears of
//! it. Asking doesn't count as using the session (it still ends when idle),
//! and the server's shutdown ends every wait at once.
//!
//! A long poll rather than Server-Sent Events: each answer is whole, so it
//! goes through the listener's ordinary limits and deadlines; a member whose
//! access was taken away gets `404` at the next ask, and the page reloads
//! into "not found".

use std::time::Duration;

use http::StatusCode;
use mailroom_core::change::{Change, FeedRead};
use mailroom_core::directory::Recipient;
use mailroom_types::{FolderId, MailboxId};
use serde_json::json;

use super::open;
use crate::pages::Page;
use crate::{Response, answer};

/// How long one ask waits for a change; well under the listener's idle
/// limits, so a quiet mailbox costs a request every half minute.
const WAIT: Duration = Duration::from_secs(25);

/// `GET /mail/{mailbox}/{folder}/changes?after=SEQ`.
pub(crate) async fn changes(
    page: &Page<'_>,
    me: &Recipient,
    mailbox: MailboxId,
    folder: FolderId,
) -> Response {
    if let Err(response) = open(page, me, mailbox, folder).await {
        return response;
    }
    let Some(feed) = page.web.changes.clone() else {
        return reply(false, 0);
    };
    let mut after = page.query.get("after").parse::<u64>().unwrap_or_else(|_| feed.head());
    let deadline = tokio::time::Instant::now() + WAIT;
    let mut shutdown = page.web.shutdown.clone();
    loop {
        match feed.read_after(after).await {
            Ok(FeedRead::Resync { head }) => return reply(true, head),
            Ok(FeedRead::Changes(records)) => {
                let shown = records.iter().any(|r| shows(&r.change, mailbox, folder));
                let access = records.iter().any(|r| r.change.affects_access());
                if let Some(last) = records.last() {
                    after = last.seq;
                }
                // Who may open what changed: ask again; only a person who
                // lost the mailbox is told (404, and the page reloads).
                if access && let Err(response) = open(page, me, mailbox, folder).await {
                    return response;
                }
                if shown {
                    return reply(true, after);
                }
            }
            Err(err) => {
                tracing::warn!(error = %err, "the change feed couldn't be read for a web list");
                return reply(true, feed.head());
            }
        }
        let stopping = async {
            match shutdown.as_mut() {
                Some(rx) => {
                    let _ = rx.wait_for(|stop| *stop).await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            waited = tokio::time::timeout_at(deadline, feed.wait_after(after)) => {
                if waited.is_err() {
                    return reply(false, after);
                }
            }
            () = stopping => return reply(false, after),
        }
    }
}

/// A change the open list shows: a message added, changed or gone in this
/// folder, or the folders of this mailbox (the pane).
fn shows(change: &Change, mailbox: MailboxId, folder: FolderId) -> bool {
    match change {
        Change::FoldersChanged { mailbox: m } => *m == mailbox,
        other => other.folder() == Some(folder),
    }
}

fn reply(changed: bool, after: u64) -> Response {
    answer(StatusCode::OK, "application/json", json!({ "changed": changed, "after": after }).to_string())
}
