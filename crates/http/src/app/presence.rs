//! The collision guard (SPEC §5): who is writing a reply to a message of a
//! shared mailbox right now, so the others see "Alice Jones is replying"
//! while they read it, and a reply that another member sent since one's
//! own draft was opened asks before it goes.
//!
//! While a reply or forward is open in the web app, its page tells the
//! server every two seconds (`POST …/{uid}/replying`); a message's page
//! asks every second who is (`GET …/{uid}/presence`) and shows them. A
//! writer counts until [`FRESH`] after their last beat. This is kept in the
//! memory of the node serving the page, as the session is; with several
//! nodes behind a balancer two members must be on one node to see each
//! other (their replies, on the activity trail, are seen everywhere).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use http::StatusCode;
use mailroom_core::directory::Recipient;
use mailroom_types::{BlobId, FolderId, MailboxId, PrincipalId, Uid};
use serde_json::json;

use super::message::opened_message_meta;
use crate::pages::Page;
use crate::{Response, answer};

/// How long after its last beat a writer still counts: a page closed, a
/// laptop shut, and the others stop seeing them within this.
const FRESH: Duration = Duration::from_secs(6);
/// Messages being replied to at once, at most: past it, the stale beats
/// go, then the message beaten longest ago.
const MAX_MESSAGES: usize = 10_000;
/// Replies one person may be writing at once, as far as the guard knows.
const PER_MEMBER: usize = 20;

/// Takes `who` off `key`, and the message off when nobody is left.
fn forget(
    writing: &mut HashMap<(MailboxId, BlobId), HashMap<PrincipalId, Instant>>,
    key: (MailboxId, BlobId),
    who: PrincipalId,
) {
    if let Some(people) = writing.get_mut(&key) {
        people.remove(&who);
        if people.is_empty() {
            writing.remove(&key);
        }
    }
}

/// Who is replying to which message (by mailbox and body).
#[derive(Debug, Default)]
pub(crate) struct Presence {
    writing: Mutex<HashMap<(MailboxId, BlobId), HashMap<PrincipalId, Instant>>>,
}

impl Presence {
    fn beat(&self, key: (MailboxId, BlobId), who: PrincipalId) {
        let now = Instant::now();
        let mut writing = self.writing.lock().unwrap_or_else(|e| e.into_inner());
        // One person writes a few replies at once, not hundreds: beyond
        // PER_MEMBER their oldest beat goes, so nobody can fill the table.
        let mine: Vec<((MailboxId, BlobId), Instant)> = writing
            .iter()
            .filter_map(|(k, people)| people.get(&who).map(|at| (*k, *at)))
            .filter(|(k, _)| *k != key)
            .collect();
        if mine.len() >= PER_MEMBER
            && let Some((oldest, _)) = mine.iter().min_by_key(|(_, at)| *at)
        {
            forget(&mut writing, *oldest, who);
        }
        if writing.len() >= MAX_MESSAGES && !writing.contains_key(&key) {
            writing.retain(|_, people| {
                people.retain(|_, at| now.duration_since(*at) < FRESH);
                !people.is_empty()
            });
            // Still full of fresh beats: the message beaten longest ago goes.
            if writing.len() >= MAX_MESSAGES
                && let Some(oldest) =
                    writing.iter().min_by_key(|(_, people)| people.values().max().copied()).map(|(k, _)| *k)
            {
                writing.remove(&oldest);
            }
        }
        writing.entry(key).or_default().insert(who, now);
    }

    /// Who is replying to the message now, but `me`.
    fn writers(&self, key: (MailboxId, BlobId), me: PrincipalId) -> Vec<PrincipalId> {
        let now = Instant::now();
        let writing = self.writing.lock().unwrap_or_else(|e| e.into_inner());
        let mut out: Vec<PrincipalId> = writing
            .get(&key)
            .map(|people| {
                people
                    .iter()
                    .filter(|(who, at)| **who != me && now.duration_since(**at) < FRESH)
                    .map(|(w, _)| *w)
                    .collect()
            })
            .unwrap_or_default();
        out.sort();
        out
    }
}

/// `POST /mail/{mailbox}/{folder}/{uid}/replying`: the writer's beat.
pub(crate) async fn replying(page: &Page<'_>, me: &Recipient, at: (MailboxId, FolderId, Uid)) -> Response {
    match opened_message_meta(page, me, at).await {
        Ok(blob) => {
            page.web.presence.beat((at.0, blob), me.id);
            answer(StatusCode::NO_CONTENT, "text/plain", Vec::new())
        }
        Err(response) => response,
    }
}

/// `GET /mail/{mailbox}/{folder}/{uid}/presence`: `{"replying": [names]}`.
pub(crate) async fn presence(page: &Page<'_>, me: &Recipient, at: (MailboxId, FolderId, Uid)) -> Response {
    let blob = match opened_message_meta(page, me, at).await {
        Ok(blob) => blob,
        Err(response) => return response,
    };
    let mut names = Vec::new();
    for id in page.web.presence.writers((at.0, blob), me.id) {
        if let Ok(person) = page.web.mail().directory().recipient(id).await {
            names.push(person.display_name);
        }
    }
    let body = json!({ "replying": names }).to_string();
    let mut response = answer(StatusCode::OK, "application/json", body.into_bytes());
    response.headers_mut().insert(http::header::CACHE_CONTROL, http::HeaderValue::from_static("no-store"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writers_are_the_others_while_fresh() {
        let presence = Presence::default();
        let key = (MailboxId(7), BlobId([1; 32]));
        presence.beat(key, PrincipalId(1));
        presence.beat(key, PrincipalId(2));
        assert_eq!(presence.writers(key, PrincipalId(1)), [PrincipalId(2)]);
        assert_eq!(presence.writers(key, PrincipalId(3)), [PrincipalId(1), PrincipalId(2)]);
        assert!(presence.writers((MailboxId(8), BlobId([1; 32])), PrincipalId(3)).is_empty(), "per mailbox");
        // A beat from long ago doesn't count.
        presence
            .writing
            .lock()
            .unwrap()
            .get_mut(&key)
            .unwrap()
            .insert(PrincipalId(2), Instant::now() - FRESH);
        assert!(presence.writers(key, PrincipalId(1)).is_empty());
    }

    #[test]
    fn one_person_cant_fill_the_table() {
        let presence = Presence::default();
        let key = |n: u8| (MailboxId(1), BlobId([n; 32]));
        for n in 0..100 {
            presence.beat(key(n), PrincipalId(9));
        }
        let held = presence.writing.lock().unwrap().len();
        assert_eq!(held, PER_MEMBER, "only their latest replies count");
        assert_eq!(presence.writers(key(99), PrincipalId(1)), [PrincipalId(9)]);
        assert!(presence.writers(key(0), PrincipalId(1)).is_empty(), "the oldest went");
    }
}
