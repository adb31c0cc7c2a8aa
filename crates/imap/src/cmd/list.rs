//! LIST and LSUB (RFC 9051 §6.3.9, RFC 3501 §6.3.9): the user's folders and
//! the shared mailboxes they may open, with special-use attributes
//! (RFC 6154). LSUB lists the subscribed ones: what the user subscribed
//! to, plus the default folders and every folder of a mailbox automapped to
//! them (SPEC §2: it appears "without any setup").

use std::collections::BTreeSet;

use crate::DELIMITER;
use crate::names::{Entry, matches};
use crate::respond::{Status, quoted, status, untagged};
use crate::session::Session;

impl Session {
    pub(crate) async fn list(&mut self, tag: &str, reference: &str, pattern: &str, subscribed_only: bool) {
        let Some(user) = self.user() else { return };
        let command = if subscribed_only { "LSUB" } else { "LIST" };
        let delimiter = quoted(&DELIMITER.to_string());
        if pattern.is_empty() && !subscribed_only {
            // RFC 9051 §6.3.9: an empty pattern asks for the delimiter.
            self.conn.send(&untagged(&format!("LIST (\\Noselect) {delimiter} \"\"")));
            self.conn.send(&status(Some(tag), Status::Ok, None, "LIST completed"));
            return;
        }
        let entries = match self.entries(&user).await {
            Ok(entries) => entries,
            Err(err) => return self.name_error(tag, pattern, err.into()),
        };
        let subscriptions: BTreeSet<String> = match self.server.mail.subscriptions(user.principal).await {
            Ok(names) => names.into_iter().collect(),
            Err(err) => return self.store_error(tag, pattern, err),
        };
        let full_pattern = format!("{reference}{pattern}");
        if full_pattern.len() > 1024 {
            // The matcher's work grows with the pattern: refuse silly ones.
            self.fail(status(Some(tag), Status::Bad, None, "Pattern too long (at most 1024 octets)"));
            return;
        }
        for Entry { name, attributes, auto_subscribed } in entries {
            let candidate =
                if name.eq_ignore_ascii_case("INBOX") { "INBOX".to_string() } else { name.clone() };
            let pattern = match (full_pattern.get(..5), full_pattern.get(5..)) {
                (Some(head), Some(rest)) if head.eq_ignore_ascii_case("INBOX") => format!("INBOX{rest}"),
                _ => full_pattern.clone(),
            };
            if !matches(&pattern, &candidate) {
                continue;
            }
            if subscribed_only && !(auto_subscribed || subscriptions.contains(&name)) {
                continue;
            }
            let line =
                format!("{command} ({}) {delimiter} {}", attributes.join(" "), self.name_to_client(&name));
            self.conn.send(&untagged(&line));
        }
        self.conn.send(&status(Some(tag), Status::Ok, None, &format!("{command} completed")));
    }

    /// LIST-EXTENDED (RFC 5258): selection SUBSCRIBED / SPECIAL-USE, several
    /// patterns, RETURN (SUBSCRIBED CHILDREN SPECIAL-USE STATUS (...)) —
    /// children and special-use attributes are always given.
    pub(crate) async fn list_extended(&mut self, request: crate::list_extended::ListExtended) {
        use imap_codec::imap_types::status::StatusDataItemName as S;
        let Some(user) = self.user() else { return };
        let tag = request.tag.clone();
        let delimiter = quoted(&DELIMITER.to_string());
        if request.patterns.iter().any(|p| p.len() + request.reference.len() > 1024) {
            self.fail(status(Some(&tag), Status::Bad, None, "Pattern too long (at most 1024 octets)"));
            return;
        }
        let mut items = Vec::new();
        for item in &request.status_items {
            items.push(match item.as_str() {
                "MESSAGES" => S::Messages,
                "RECENT" => S::Recent,
                "UIDNEXT" => S::UidNext,
                "UIDVALIDITY" => S::UidValidity,
                "UNSEEN" => S::Unseen,
                "DELETED" => S::Deleted,
                "DELETED-STORAGE" => S::DeletedStorage,
                "SIZE" => S::Size,
                "HIGHESTMODSEQ" => S::HighestModSeq,
                _ => {
                    self.fail(status(Some(&tag), Status::Bad, None, &format!("Unknown STATUS item {item}")));
                    return;
                }
            });
        }
        let entries = match self.entries(&user).await {
            Ok(entries) => entries,
            Err(err) => return self.name_error(&tag, "", err.into()),
        };
        let subscriptions: BTreeSet<String> = match self.server.mail.subscriptions(user.principal).await {
            Ok(names) => names.into_iter().collect(),
            Err(err) => return self.store_error(&tag, "", err),
        };
        let only_subscribed = request.selection.iter().any(|s| s == "SUBSCRIBED");
        let only_special = request.selection.iter().any(|s| s == "SPECIAL-USE");
        let show_subscribed = only_subscribed || request.returns.iter().any(|r| r == "SUBSCRIBED");
        let patterns: Vec<String> = request
            .patterns
            .iter()
            .map(|p| {
                let full = self.name_from_client(format!("{}{p}", request.reference));
                match (full.get(..5), full.get(5..)) {
                    (Some(head), Some(rest)) if head.eq_ignore_ascii_case("INBOX") => format!("INBOX{rest}"),
                    _ => full,
                }
            })
            .collect();
        for Entry { name, mut attributes, auto_subscribed } in entries {
            if !patterns.iter().any(|p| matches(p, &name)) {
                continue;
            }
            let subscribed = auto_subscribed || subscriptions.contains(&name);
            if only_subscribed && !subscribed {
                continue;
            }
            if only_special && !attributes.iter().any(|a| crate::names::is_special_use_attribute(a)) {
                continue;
            }
            if show_subscribed && subscribed {
                attributes.push("\\Subscribed");
            }
            let selectable = !attributes.contains(&"\\Noselect");
            let line = format!("LIST ({}) {delimiter} {}", attributes.join(" "), self.name_to_client(&name));
            self.conn.send(&untagged(&line));
            if !items.is_empty() && selectable {
                // RFC 5819: STATUS after its LIST line; a failure is skipped silently.
                if let Ok(status_line) = self.status_line(&name, &items).await {
                    self.conn.send(&untagged(&status_line));
                }
            }
        }
        self.conn.send(&status(Some(&tag), Status::Ok, None, "LIST completed"));
    }
}
