//! The IMAP command path on arbitrary bytes: the fragmentizer frames them
//! (with a size limit), our RFC 4314 ACL parser and imap-codec's command
//! decoder read each message. Nothing may panic, and the fragmentizer must
//! never hand over more than its limit.
#![no_main]

use imap_codec::CommandCodec;
use imap_codec::decode::Decoder;
use imap_codec::fragmentizer::Fragmentizer;
use libfuzzer_sys::fuzz_target;
use mailroom_imap::acl::{AclParse, parse};

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
                    let _ = CommandCodec::new().decode(message);
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
