//! The IMAP command path on arbitrary bytes: the fragmentizer frames them
//! (with a size limit); our readers of what imap-codec lacks (RFC 4314 ACL,
//! LIST-EXTENDED, NOTIFY, STATUS MAILBOXID, MULTIAPPEND, SEARCH RETURN, the saved result
//! `$`, the OBJECTID/SAVEDATE search keys, FETCH items) and imap-codec's
//! command decoder read each message, in the session's order. Nothing may panic, and the fragmentizer must
//! never hand over more than its limit.
#![no_main]

use imap_codec::CommandCodec;
use imap_codec::decode::Decoder;
use imap_codec::fragmentizer::Fragmentizer;
use libfuzzer_sys::fuzz_target;
use mailroom_imap::acl::{AclParse, parse};
use mailroom_imap::searchres::{Expanded, expand};
use mailroom_imap::uidmap::UidMap;
use mailroom_types::Uid;

const LIMIT: u32 = 4096;

fuzz_target!(|data: &[u8]| {
    let mut frag = Fragmentizer::new(LIMIT);
    // Feed in two pieces so messages straddle reads, as on a socket.
    let (a, b) = data.split_at(data.len() / 2);
    frag.enqueue_bytes(a);
    let mut fed_rest = false;
    loop {
        match frag.progress() {
            Some(_) if frag.is_message_complete() => {
                let message = frag.message_bytes();
                assert!(message.len() <= LIMIT as usize);
                // An ACL command is never also handed to imap-codec.
                if matches!(parse(message), AclParse::NotAcl) {
                    let _ = mailroom_imap::list_extended::parse(message);
                    let _ = mailroom_imap::notify::parse(message);
                    let _ = mailroom_imap::status_items::parse(message);
                    if let Some(Ok(multi)) = mailroom_imap::multiappend::parse(message) {
                        // Each part is a single APPEND for imap-codec.
                        for one in &multi.messages {
                            let _ = CommandCodec::new().decode(one);
                        }
                    }
                    let _ = mailroom_imap::fetch_items::split(message);
                    let _ = mailroom_imap::fetch_items::split_partial(message);
                    let uids = UidMap::from_sorted([1, 2, 3, 7, 9].map(Uid));
                    let expanded = match expand(message, &[Uid(2), Uid(9)], &uids) {
                        Expanded::Rewritten(bytes) => bytes,
                        Expanded::TooBig { .. } | Expanded::Unchanged => message.to_vec(),
                    };
                    let returned = match mailroom_imap::esearch::split_return(&expanded) {
                        Some(Ok((rebuilt, _))) => rebuilt,
                        _ => expanded,
                    };
                    let line = match mailroom_imap::search_keys::rewrite(&returned) {
                        Some(Ok(rebuilt)) => rebuilt,
                        _ => returned,
                    };
                    let _ = CommandCodec::new().decode(&line);
                }
            }
            Some(_) => {}
            None if !fed_rest => {
                frag.enqueue_bytes(b);
                fed_rest = true;
            }
            None => break,
        }
    }
});
