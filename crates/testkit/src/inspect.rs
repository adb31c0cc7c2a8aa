//! Reading what a data directory holds, to assert what was delivered —
//! through the product: the factory `serve` and the CLI use, and `core`'s
//! door (each mailbox opened by its own principal), never the store's
//! tables behind the server's back. Works on a stopped server's data too.

use std::path::Path;

use mailroom_core::mail::{Mail, MessageSummary, StoredMessage};
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

    /// The message without what the server put on top of it: its
    /// `Authentication-Results:` field (inbound mail checked) and its
    /// `Received:` field.
    pub fn without_trace(&self) -> &[u8] {
        /// `message` past its first field (continuation lines included).
        fn past_field(mut rest: &[u8]) -> &[u8] {
            loop {
                let at = rest.iter().position(|&b| b == b'\n').expect("header line end");
                rest = &rest[at + 1..];
                if !rest.starts_with(b"\t") && !rest.starts_with(b" ") {
                    return rest;
                }
            }
        }
        let mut rest = self.bytes.as_slice();
        if rest.starts_with(b"Authentication-Results: ") {
            rest = past_field(rest);
        }
        assert!(rest.starts_with(b"Received: "), "no Received header first: {}", self.text());
        past_field(rest)
    }

    pub fn blob(&self) -> BlobId {
        self.meta.blob
    }
}

fn services(data: &Path) -> (Mail, mailroom_core::calendar::Calendars) {
    let config = mailroom_server::Config::load(data, None).expect("mailroom.toml");
    mailroom_server::open_services(data, &config).expect("open the store")
}

fn runtime() -> tokio::runtime::Runtime {
    // IO and timers: a PostgreSQL store is reached over the network.
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime")
}

/// The messages of `folder` (e.g. "Inbox") of the mailbox at `address`.
pub fn folder_messages(data: &Path, address: &str, folder: &str) -> Vec<Delivered> {
    runtime().block_on(async {
        let (mail, _) = services(data);
        let address = EmailAddress::parse(address).expect("address");
        let recipient =
            mail.directory().resolve_address(&address).await.expect("lookup").expect("recipient exists");
        let mailbox = recipient.mailbox_id().expect("a mailbox");
        // The mailbox opened as its owner would open it.
        let open = mail.open_mailbox(recipient.id, mailbox).await.expect("the owner opens it");
        let folder =
            mail.find_folder(&open, |f| f.name == folder).await.expect("folders").expect("folder exists");
        let mut out = Vec::new();
        for meta in mail.messages(&folder).await.expect("messages").iter().cloned() {
            let bytes = mail.body(&folder, &meta).await.expect("body readable");
            let summary = mail.summary(&folder, &meta).await.expect("summary readable");
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
    runtime().block_on(async {
        let (mail, _) = services(data);
        let mut out = Vec::new();
        for entry in mail.queue(None).await.expect("queue") {
            let bytes = mail.queued_message(&entry).await.expect("queued body readable");
            out.push((entry.recipient.to_string(), bytes));
        }
        out
    })
}

/// The activity of the default calendar of the mailbox at `address`, oldest
/// first: (who, what, resource name).
pub fn calendar_activity(data: &Path, address: &str) -> Vec<(String, String, String)> {
    runtime().block_on(async {
        let (mail, calendars) = services(data);
        let address = EmailAddress::parse(address).expect("address");
        let recipient =
            mail.directory().resolve_address(&address).await.expect("lookup").expect("recipient exists");
        let calendar = calendars
            .open(recipient.id, &recipient, mailroom_core::calendar::DEFAULT_CALENDAR)
            .await
            .expect("every mailbox has a default calendar, opened by its owner");
        let mut out = Vec::new();
        for entry in calendars.activity(&calendar, 1000).await.expect("activity").into_iter().rev() {
            let actor = mail.directory().recipient(entry.actor).await.expect("actor exists");
            out.push((actor.primary_address.to_string(), entry.action.as_str().to_string(), entry.name));
        }
        out
    })
}
