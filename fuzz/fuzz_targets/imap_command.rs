//! The IMAP command path on arbitrary bytes: the fragmentizer frames them
//! (with a size limit); our readers of what imap-codec lacks (RFC 4314 ACL,
//! LIST-EXTENDED, NOTIFY, STATUS MAILBOXID, MULTIAPPEND and CATENATE, SEARCH RETURN (UPDATE too), the saved result
//! `$`, the OBJECTID/SAVEDATE search keys, FETCH items), SCRAM's messages, and imap-codec's
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
                        // Each literal part is a single APPEND for imap-codec;
                        // a catenated one becomes one with its pieces' octets.
                        for one in &multi.messages {
                            match one {
                                mailroom_imap::multiappend::Message::Literal(one) => {
                                    let _ = CommandCodec::new().decode(one);
                                }
                                mailroom_imap::multiappend::Message::Catenate { head, parts } => {
                                    let data: Vec<u8> = parts
                                        .iter()
                                        .flat_map(|p| match p {
                                            mailroom_imap::multiappend::CatPart::Text(t) => t.clone(),
                                            mailroom_imap::multiappend::CatPart::Url(u) => u.as_bytes().to_vec(),
                                        })
                                        .collect();
                                    let one = mailroom_imap::multiappend::single_append(head, data.contains(&0), &data);
                                    let _ = CommandCodec::new().decode(&one);
                                }
                            }
                        }
                    }
                    // SCRAM's first and final messages (AUTHENTICATE data).
                    if let Ok(first) = mailroom_core::scram::ClientFirst::parse(message) {
                        let verifier = mailroom_core::scram::ScramVerifier::decoy(&first.login, b"fuzz");
                        let (_, challenge) = first.challenge(verifier);
                        let _ = challenge.finish(message);
                    }
                    let _ = mailroom_core::scram::ScramVerifier::parse(&String::from_utf8_lossy(message));
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
