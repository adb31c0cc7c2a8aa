//! SORT and UID SORT (RFC 5256 §3), with SORT=DISPLAY (RFC 5957): the
//! messages a search finds, in the order of the sort keys, ties by message
//! sequence number. Strings compare by i;ascii-casemap; addresses by the
//! first address's local part (or, for DISPLAYFROM/DISPLAYTO, its display
//! name, else its address); SUBJECT by the base subject (RFC 5256 §2.1);
//! DATE by the `Date:` field in UTC, else the arrival time.

use std::cmp::Ordering;

use imap_codec::imap_types::extensions::sort::{SortCriterion, SortKey};
use imap_codec::imap_types::search::SearchKey;
use mailroom_core::mail::EnvelopeAddress;

use super::search::Hit;
use crate::base_subject;
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

/// One sort key's value for one message.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
enum Value<'a> {
    Number(i64),
    Text(std::borrow::Cow<'a, str>),
}

fn value<'a>(hit: &'a Hit, key: &SortKey) -> Value<'a> {
    let envelope = &hit.summary.envelope;
    match key {
        SortKey::Arrival => Value::Number(hit.internal_date),
        SortKey::Date => Value::Number(sent_date(hit)),
        SortKey::Size => Value::Number(hit.size as i64),
        SortKey::Subject => Value::Text(base_subject::of_summary(&hit.summary).0.as_str().into()),
        SortKey::From => Value::Text(mailbox_key(&envelope.from).into()),
        SortKey::To => Value::Text(mailbox_key(&envelope.to).into()),
        SortKey::Cc => Value::Text(mailbox_key(&envelope.cc).into()),
        SortKey::DisplayFrom => Value::Text(display_key(&envelope.from).into()),
        SortKey::DisplayTo => Value::Text(display_key(&envelope.to).into()),
    }
}

/// Orders `hits` by `criteria`, ties by sequence number (RFC 5256 §3).
/// Each message's keys are computed once, not at every comparison.
pub(crate) fn sort_hits(hits: &mut Vec<Hit>, criteria: &[SortCriterion]) {
    let order: Vec<usize> = {
        let keys: Vec<Vec<Value>> =
            hits.iter().map(|h| criteria.iter().map(|c| value(h, &c.key)).collect()).collect();
        let mut order: Vec<usize> = (0..hits.len()).collect();
        order.sort_by(|&a, &b| {
            for (criterion, (x, y)) in criteria.iter().zip(keys[a].iter().zip(&keys[b])) {
                let order = if criterion.reverse { y.cmp(x) } else { x.cmp(y) };
                if order != Ordering::Equal {
                    return order;
                }
            }
            hits[a].seq.cmp(&hits[b].seq)
        });
        order
    };
    let mut taken: Vec<Option<Hit>> = hits.drain(..).map(Some).collect();
    hits.extend(order.into_iter().filter_map(|at| taken[at].take()));
}

impl Session {
    pub(crate) async fn sort(
        &mut self,
        tag: &str,
        criteria: &[SortCriterion],
        charset: &str,
        search: &[SearchKey<'static>],
        by_uid: bool,
        sort_return: Option<crate::esearch::ReturnOptions>,
    ) {
        if sort_return.is_some_and(|o| o.update) && self.context_tag_in_use(tag) {
            // RFC 5267 §4.3: a tag live in another context is refused.
            self.fail(status(Some(tag), Status::Bad, None, "Tag reuse: a live search already has this tag"));
            return;
        }
        let Some(mut hits) = self.matching(tag, Some(charset), search, true).await else { return };
        sort_hits(&mut hits, criteria);
        let found: Vec<u32> = hits.iter().map(|h| if by_uid { h.uid.0 } else { h.seq }).collect();
        let line = match sort_return {
            // ESORT (RFC 5267 §3.2): the ESEARCH answer, in sorted order.
            Some(options) => crate::esearch::answer(tag, by_uid, &options, &found, None),
            None if found.is_empty() => "SORT".to_string(),
            None => format!("SORT {}", found.iter().map(u32::to_string).collect::<Vec<_>>().join(" ")),
        };
        self.conn.send(&untagged(&line));
        if sort_return.is_some_and(|o| o.update) {
            let result = hits.iter().map(|h| h.uid).collect();
            self.start_context(tag, by_uid, search, Some(criteria.to_vec()), result).await;
        }
        let command = if by_uid { "UID SORT" } else { "SORT" };
        self.conn.send(&status(Some(tag), Status::Ok, None, &format!("{command} completed")));
    }
}
