//! LIST and LSUB (RFC 9051 §6.3.9, RFC 3501 §6.3.9): the user's folders and
//! the shared mailboxes they may open, with special-use attributes
//! (RFC 6154). LSUB lists the subscribed ones: what the user subscribed
//! to, plus the default folders and every folder of a mailbox automapped to
//! them (SPEC §2: it appears "without any setup").
//!
//! Subscriptions are names, not folders (RFC 3501 §6.3.6): a subscribed
//! folder that is deleted stays subscribed until the user unsubscribes —
//! listed by LSUB without attributes and by `LIST (SUBSCRIBED)` as
//! `\NonExistent` (RFC 5258 §3.4).

use std::collections::BTreeSet;

use crate::DELIMITER;
use crate::names::{Entry, matches};
use crate::respond::{Status, quoted, status, untagged};
use crate::session::Session;

/// One name LIST or LSUB may show.
struct Row {
    name: String,
    /// The folder's attributes; none for a name without a folder.
    attributes: Vec<&'static str>,
    exists: bool,
    subscribed: bool,
}

/// Every name a listing chooses from: the folders the user sees and the
/// names they subscribed to; with [`Listing::with_parents`], also the names
/// above subscribed ones that LSUB and RECURSIVEMATCH report as parents.
struct Listing {
    rows: Vec<Row>,
    subscribed: BTreeSet<String>,
}

impl Listing {
    fn new(entries: Vec<Entry>, subscriptions: &BTreeSet<String>) -> Self {
        let mut rows: Vec<Row> = entries
            .into_iter()
            .map(|Entry { name, attributes, auto_subscribed, .. }| {
                let subscribed = auto_subscribed || subscriptions.contains(&name);
                Row { name, attributes, exists: true, subscribed }
            })
            .collect();
        let known: BTreeSet<&str> = rows.iter().map(|r| r.name.as_str()).collect();
        let missing: Vec<Row> = subscriptions
            .iter()
            .filter(|name| !known.contains(name.as_str()))
            .map(|name| Row { name: name.clone(), attributes: Vec::new(), exists: false, subscribed: true })
            .collect();
        rows.extend(missing);
        let subscribed = rows.iter().filter(|r| r.subscribed).map(|r| r.name.clone()).collect();
        Listing { rows, subscribed }
    }

    /// Adds the names above subscribed names that no pattern reaches, where
    /// a pattern reaches them (the only parents ever reported), as rows
    /// without a folder.
    fn with_parents(mut self, patterns: &[String]) -> Self {
        let mut known: BTreeSet<String> = self.rows.iter().map(|r| r.name.clone()).collect();
        let mut parents = Vec::new();
        for name in &self.subscribed {
            if patterns.iter().any(|p| matches(p, name)) {
                continue;
            }
            let mut parent = name.as_str();
            while let Some((above, _)) = parent.rsplit_once(DELIMITER) {
                parent = above;
                if !parent.is_empty()
                    && !known.contains(parent)
                    && patterns.iter().any(|p| matches(p, parent))
                {
                    known.insert(parent.to_string());
                    parents.push(Row {
                        name: parent.to_string(),
                        attributes: Vec::new(),
                        exists: false,
                        subscribed: false,
                    });
                }
            }
        }
        self.rows.extend(parents);
        self
    }

    /// Whether a subscribed name below `name` matches none of `patterns`:
    /// then `name` stands for it (LSUB's `\Noselect` parent, RFC 3501
    /// §6.3.9; CHILDINFO, RFC 5258 §3.5). Only the names below are read.
    fn hides_subscribed_child(&self, name: &str, patterns: &[String]) -> bool {
        let prefix = format!("{name}{DELIMITER}");
        self.subscribed
            .range(prefix.clone()..)
            .take_while(|s| s.starts_with(&prefix))
            .any(|s| !patterns.iter().any(|p| matches(p, s)))
    }
}

/// The pattern as matched: `INBOX` in any case is the Inbox.
fn canonical_pattern(full: String) -> String {
    match (full.get(..5), full.get(5..)) {
        (Some(head), Some(rest)) if head.eq_ignore_ascii_case("INBOX") => format!("INBOX{rest}"),
        _ => full,
    }
}

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
        let full_pattern = format!("{reference}{pattern}");
        if full_pattern.len() > 1024 {
            // The matcher's work grows with the pattern: refuse silly ones.
            self.fail(status(Some(tag), Status::Bad, None, "Pattern too long (at most 1024 octets)"));
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
        let patterns = [canonical_pattern(full_pattern)];
        let mut listing = Listing::new(entries, &subscriptions);
        if subscribed_only {
            listing = listing.with_parents(&patterns);
        }
        for row in &listing.rows {
            if !matches(&patterns[0], &row.name) {
                continue;
            }
            let attributes = if !subscribed_only {
                if !row.exists {
                    continue;
                }
                row.attributes.join(" ")
            } else if row.subscribed {
                row.attributes.join(" ")
            } else if listing.hides_subscribed_child(&row.name, &patterns) {
                // RFC 3501 §6.3.9: "LSUB % " shows the parent of a
                // subscribed child that `%` doesn't reach, as \Noselect.
                "\\Noselect".to_string()
            } else {
                continue;
            };
            let line = format!("{command} ({attributes}) {delimiter} {}", self.name_to_client(&row.name));
            self.conn.send(&untagged(&line));
        }
        self.conn.send(&status(Some(tag), Status::Ok, None, &format!("{command} completed")));
    }

    /// LIST-EXTENDED (RFC 5258): selection SUBSCRIBED / SPECIAL-USE /
    /// RECURSIVEMATCH, several patterns, RETURN (SUBSCRIBED CHILDREN
    /// SPECIAL-USE STATUS (...) MYRIGHTS) — children and special-use
    /// attributes are always given.
    pub(crate) async fn list_extended(&mut self, request: crate::list_extended::ListExtended) {
        let Some(user) = self.user() else { return };
        let tag = request.tag.clone();
        let delimiter = quoted(&DELIMITER.to_string());
        if request.patterns.iter().any(|p| p.len() + request.reference.len() > 1024) {
            self.fail(status(Some(&tag), Status::Bad, None, "Pattern too long (at most 1024 octets)"));
            return;
        }
        let mut items = Vec::new();
        // RFC 8474 §4.2: MAILBOXID in LIST-STATUS too.
        let mut mailbox_id = false;
        for item in &request.status_items {
            match crate::status_items::item(item) {
                Some(known) => items.push(known),
                None if item == "MAILBOXID" => mailbox_id = true,
                None => {
                    self.fail(status(Some(&tag), Status::Bad, None, &format!("Unknown STATUS item {item}")));
                    return;
                }
            }
        }
        let entries = match self.entries(&user).await {
            Ok(entries) => entries,
            Err(err) => return self.name_error(&tag, "", err.into()),
        };
        let subscriptions: BTreeSet<String> = match self.server.mail.subscriptions(user.principal).await {
            Ok(names) => names.into_iter().collect(),
            Err(err) => return self.store_error(&tag, "", err),
        };
        let only_subscribed = request.selects("SUBSCRIBED");
        let only_special = request.selects("SPECIAL-USE");
        let recursive = request.selects("RECURSIVEMATCH");
        let show_subscribed = only_subscribed || request.returns.iter().any(|r| r == "SUBSCRIBED");
        let my_rights = request.returns.iter().any(|r| r == "MYRIGHTS");
        let patterns: Vec<String> = request
            .patterns
            .iter()
            .map(|p| canonical_pattern(self.name_from_client(format!("{}{p}", request.reference))))
            .collect();
        let mut listing = Listing::new(entries, &subscriptions);
        if recursive && only_subscribed {
            listing = listing.with_parents(&patterns);
        }
        for row in &listing.rows {
            if !patterns.iter().any(|p| matches(p, &row.name)) {
                continue;
            }
            // RFC 5258 §3.5: with RECURSIVEMATCH, a name that stands for a
            // subscribed child the patterns don't reach says so.
            let child_info =
                recursive && only_subscribed && listing.hides_subscribed_child(&row.name, &patterns);
            if only_subscribed && !row.subscribed && !child_info {
                continue;
            }
            if !only_subscribed && !row.exists {
                continue;
            }
            let mut attributes = row.attributes.clone();
            if !row.exists {
                // RFC 5258 §3.4: \NonExistent implies \Noselect.
                attributes.push("\\NonExistent");
            }
            if only_special && !attributes.iter().any(|a| crate::names::is_special_use_attribute(a)) {
                continue;
            }
            if show_subscribed && row.subscribed {
                attributes.push("\\Subscribed");
            }
            let selectable = row.exists && !attributes.contains(&"\\Noselect");
            let mut line =
                format!("LIST ({}) {delimiter} {}", attributes.join(" "), self.name_to_client(&row.name));
            if child_info {
                line.push_str(" (\"CHILDINFO\" (\"SUBSCRIBED\"))");
            }
            self.conn.send(&untagged(&line));
            if (!items.is_empty() || mailbox_id) && selectable {
                // RFC 5819: STATUS after its LIST line; a failure is skipped silently.
                if let Ok(status_line) = self.status_line(&row.name, &items, mailbox_id).await {
                    self.conn.send(&untagged(&status_line));
                }
            }
            if my_rights && selectable {
                // RFC 8440: the MYRIGHTS response after its LIST line, as
                // the MYRIGHTS command would give it (RFC 4314 §3.5).
                if let Ok(target) = self.resolve(&user, &row.name).await {
                    let rights = crate::acl::letters(target.open.rights());
                    let line = format!("MYRIGHTS {} {rights}", self.name_to_client(&row.name));
                    self.conn.send(&untagged(&line));
                }
            }
        }
        self.conn.send(&status(Some(&tag), Status::Ok, None, "LIST completed"));
    }
}
