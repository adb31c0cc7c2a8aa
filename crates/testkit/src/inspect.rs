//! Reading what a data directory's store holds, through the store's own
//! API (the same one the server uses), to assert what was delivered.

use std::path::Path;
use std::sync::Arc;

use mailroom_core::Directory;
use mailroom_core::mail::{MessageSummary, StoredMessage};
use mailroom_core::store::MailStore;
use mailroom_store::{SQLITE_FILE, SqliteStore};
use mailroom_types::{BlobId, EmailAddress};

/// One stored message with its bytes.
#[derive(Debug, Clone)]
pub struct Delivered {
    pub meta: StoredMessage,
    pub bytes: Vec<u8>,
    pub summary: MessageSummary,
}

impl Delivered {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }

    /// The message without the `Received:` header the server added first.
    pub fn without_trace(&self) -> &[u8] {
        let mut rest = self.bytes.as_slice();
        assert!(rest.starts_with(b"Received: "), "no Received header first: {}", self.text());
        // The header ends at the first line that doesn't start with whitespace.
        loop {
            let at = rest.iter().position(|&b| b == b'\n').expect("header line end");
            rest = &rest[at + 1..];
            if !rest.starts_with(b"\t") && !rest.starts_with(b" ") {
                return rest;
            }
        }
    }

    pub fn blob(&self) -> BlobId {
        self.meta.blob
    }
}

/// The messages of `folder` (e.g. "Inbox") of the mailbox at `address`.
pub fn folder_messages(data: &Path, address: &str, folder: &str) -> Vec<Delivered> {
    let runtime = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
    runtime.block_on(async {
        let store = Arc::new(SqliteStore::open(&data.join(SQLITE_FILE)).expect("open store"));
        let dir = Directory::new(store.clone());
        let address = EmailAddress::parse(address).expect("address");
        let recipient = dir.resolve_address(&address).await.expect("lookup").expect("recipient exists");
        let mailbox = recipient.mailbox_id().expect("a mailbox");
        let folders = store.folders(mailbox).await.expect("folders");
        let folder = folders.iter().find(|f| f.name == folder).expect("folder exists");
        let mut out = Vec::new();
        for meta in store.messages(folder.id).await.expect("messages") {
            let bytes = store.read_blob(meta.blob).await.expect("body readable");
            let summary = store.summary(meta.blob).await.expect("summary readable");
            assert_eq!(bytes.len() as u64, meta.size, "stored size matches the body");
            out.push(Delivered { meta, bytes, summary });
        }
        out
    })
}

/// Shorthand for the Inbox.
pub fn inbox(data: &Path, address: &str) -> Vec<Delivered> {
    folder_messages(data, address, "Inbox")
}

/// The outbound queue: each queued recipient with the bytes that will be sent.
pub fn queued_messages(data: &Path) -> Vec<(String, Vec<u8>)> {
    let runtime = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
    runtime.block_on(async {
        let store = SqliteStore::open(&data.join(SQLITE_FILE)).expect("open store");
        let mut out = Vec::new();
        for entry in store.queued(None).await.expect("queue") {
            let bytes = store.read_blob(entry.blob).await.expect("queued body readable");
            out.push((entry.recipient.to_string(), bytes));
        }
        out
    })
}

/// The activity of the default calendar of the mailbox at `address`, oldest
/// first: (who, what, resource name).
pub fn calendar_activity(data: &Path, address: &str) -> Vec<(String, String, String)> {
    use mailroom_core::store::{CalendarStore, DirectoryStore};
    let runtime = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
    runtime.block_on(async {
        let store = Arc::new(SqliteStore::open(&data.join(SQLITE_FILE)).expect("open store"));
        let address = EmailAddress::parse(address).expect("address");
        let recipient =
            store.recipient_by_address(&address).await.expect("lookup").expect("recipient exists");
        let mailbox = recipient.mailbox_id().expect("a mailbox");
        let calendar = store
            .calendar(mailbox, mailroom_core::calendar::DEFAULT_CALENDAR)
            .await
            .expect("calendar read")
            .expect("every mailbox has a default calendar");
        let mut out = Vec::new();
        for entry in store.calendar_activity(calendar.id, 1000).await.expect("activity").into_iter().rev() {
            let actor = store.recipient(entry.actor).await.expect("lookup").expect("actor exists");
            out.push((actor.primary_address.to_string(), entry.action.as_str().to_string(), entry.name));
        }
        out
    })
}
