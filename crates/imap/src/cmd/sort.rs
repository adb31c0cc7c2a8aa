//! SORT and UID SORT (RFC 5256 §3), with SORT=DISPLAY (RFC 5957): the
//! messages a search finds, in the order of the sort keys, ties by message
//! sequence number. Strings compare by i;ascii-casemap; addresses by the
//! first address's local part (or, for DISPLAYFROM/DISPLAYTO, its display
//! name, else its address); SUBJECT by the base subject (RFC 5256 §2.1);
//! DATE by the `Date:` field in UTC, else the arrival time.

use std::cmp::Ordering;

use imap_codec::imap_types::extensions::sort::{SortCriterion, SortKey};
use imap_codec::imap_types::search::SearchKey;
use mailroom_core::mail::{EnvelopeAddress, MessageSummary};

use super::search::Hit;
use crate::base_subject::base_subject;
use crate::respond::{Status, status, untagged};
use crate::session::Session;

/// The sent date RFC 5256 orders by: `Date:` in UTC, or the arrival time
/// when there is none it can read.
pub(crate) fn sent_date(hit: &Hit) -> i64 {
    hit.summary.sent_date.unwrap_or(hit.internal_date)
}

/// The first real address of a list (group markers skipped).
fn first_address(list: &[EnvelopeAddress]) -> Option<&EnvelopeAddress> {
    list.iter().find(|a| a.mailbox.is_some() && a.host.is_some())
}

/// RFC 5256 §3: "the addr-mailbox of the first address", for FROM/TO/CC.
fn mailbox_key(list: &[EnvelopeAddress]) -> String {
    first_address(list).and_then(|a| a.mailbox.clone()).unwrap_or_default().to_ascii_uppercase()
}

/// RFC 5957 §3: the display name of the first address (decoded at
/// delivery), or else its address.
fn display_key(list: &[EnvelopeAddress]) -> String {
    let Some(address) = first_address(list) else { return String::new() };
    let key = match address.name.as_deref().filter(|n| !n.trim().is_empty()) {
        Some(name) => name.to_string(),
        None => {
            format!("{}@{}", address.mailbox.as_deref().unwrap_or(""), address.host.as_deref().unwrap_or(""))
        }
    };
    key.to_ascii_uppercase()
}

fn compare(a: &Hit, b: &Hit, key: &SortKey) -> Ordering {
    fn envelope(h: &Hit) -> &mailroom_core::mail::Envelope {
        &h.summary.envelope
    }
    match key {
        SortKey::Arrival => a.internal_date.cmp(&b.internal_date),
        SortKey::Date => sent_date(a).cmp(&sent_date(b)),
        SortKey::Size => a.size.cmp(&b.size),
        SortKey::Subject => subject_key(&a.summary).cmp(&subject_key(&b.summary)),
        SortKey::From => mailbox_key(&envelope(a).from).cmp(&mailbox_key(&envelope(b).from)),
        SortKey::To => mailbox_key(&envelope(a).to).cmp(&mailbox_key(&envelope(b).to)),
        SortKey::Cc => mailbox_key(&envelope(a).cc).cmp(&mailbox_key(&envelope(b).cc)),
        SortKey::DisplayFrom => display_key(&envelope(a).from).cmp(&display_key(&envelope(b).from)),
        SortKey::DisplayTo => display_key(&envelope(a).to).cmp(&display_key(&envelope(b).to)),
    }
}

fn subject_key(summary: &MessageSummary) -> String {
    base_subject(summary.field("Subject")).0
}

/// Orders `hits` by `criteria`, ties by sequence number (RFC 5256 §3).
pub(crate) fn sort_hits(hits: &mut [Hit], criteria: &[SortCriterion]) {
    hits.sort_by(|a, b| {
        for criterion in criteria {
            let order = compare(a, b, &criterion.key);
            let order = if criterion.reverse { order.reverse() } else { order };
            if order != Ordering::Equal {
                return order;
            }
        }
        a.seq.cmp(&b.seq)
    });
}

impl Session {
    pub(crate) async fn sort(
        &mut self,
        tag: &str,
        criteria: &[SortCriterion],
        charset: &str,
        search: &[SearchKey<'static>],
        by_uid: bool,
    ) {
        let Some(mut hits) = self.matching(tag, Some(charset), search, true).await else { return };
        sort_hits(&mut hits, criteria);
        let numbers: Vec<String> =
            hits.iter().map(|h| if by_uid { h.uid.0 } else { h.seq }).map(|n| n.to_string()).collect();
        let line =
            if numbers.is_empty() { "SORT".to_string() } else { format!("SORT {}", numbers.join(" ")) };
        self.conn.send(&untagged(&line));
        let command = if by_uid { "UID SORT" } else { "SORT" };
        self.conn.send(&status(Some(tag), Status::Ok, None, &format!("{command} completed")));
    }
}
