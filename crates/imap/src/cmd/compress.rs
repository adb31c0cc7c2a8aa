//! COMPRESS DEFLATE (RFC 4978): a phone on a slow link asks for the rest
//! of the connection to be deflated both ways; headers and text shrink to
//! a fraction. After sign-in only — nothing before it is worth the memory
//! (a deflate stream holds a few hundred KiB).

use crate::respond::{Status, status};
use crate::session::{Flow, Session};

impl Session {
    pub(crate) async fn compress(&mut self, tag: &str) -> Flow {
        if self.conn.is_compressed() {
            self.fail(status(Some(tag), Status::No, Some("COMPRESSIONACTIVE"), "Compression is already on"));
            return Flow::Continue;
        }
        if self.conn.has_pipelined() {
            // RFC 4978 §3: the client waits for the OK; what came after the
            // command would be read on the wrong side of the switch.
            self.fail(status(
                Some(tag),
                Status::Bad,
                None,
                "Wait for COMPRESS to be answered before sending more",
            ));
            return Flow::Continue;
        }
        self.conn.send(&status(Some(tag), Status::Ok, None, "DEFLATE active"));
        match self.conn.start_deflate().await {
            Ok(()) => {
                crate::COMPRESSED_SESSIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                tracing::debug!(session = self.id, "imap compression on");
                Flow::Continue
            }
            Err(err) => {
                tracing::debug!(session = self.id, error = %err, "imap connection lost starting compression");
                Flow::Close
            }
        }
    }
}
