//! IDLE (RFC 2177, RFC 9051 §6.3.13): new mail, expunges and flag changes in
//! the selected folder reach the client as they happen — an SMTP delivery
//! to a shared mailbox shows in every member's session at once (SPEC §4) —
//! and so does the end of the member's access, whichever process changed it.
//! After NOTIFY, an idling session says what NOTIFY asked for instead.

use crate::cmd::notify::When;
use crate::conn::Incoming;
use crate::respond::{Status, status, untagged};
use crate::session::{Flow, Session};

impl Session {
    pub(crate) async fn idle(&mut self, tag: &str) -> Flow {
        self.report_changes_when(When::Idle).await;
        self.send_notifications(When::Idle).await;
        self.conn.send(b"+ idling\r\n");
        let mut shutdown = self.server.shutdown.clone();
        // RFC 2177: clients re-issue IDLE at least every 29 minutes; one
        // deadline for the whole IDLE, however busy the server is.
        let deadline = tokio::time::Instant::now() + self.server.config.idle_timeout;
        let feed = self.server.feed.clone();
        loop {
            if self.conn.flush().await.is_err() {
                return Flow::Close;
            }
            let seen = self.feed_seq;
            tokio::select! {
                biased;
                _ = crate::session::stopped(&mut shutdown) => {
                    self.conn.send(&untagged("BYE Server shutting down"));
                    return Flow::Close;
                }
                message = tokio::time::timeout_at(deadline, self.conn.next_message()) => {
                    return match message {
                        Ok(Ok(Incoming::Message(bytes))) if bytes.trim_ascii().eq_ignore_ascii_case(b"DONE") => {
                            self.report_changes_when(When::Idle).await;
                            self.conn.send(&status(Some(tag), Status::Ok, None, "IDLE terminated"));
                            Flow::Continue
                        }
                        Ok(Ok(Incoming::Message(_))) | Ok(Ok(Incoming::TooBig(_))) => {
                            self.fail(status(Some(tag), Status::Bad, None, "Expected DONE"));
                            Flow::Continue
                        }
                        Ok(Ok(
                            Incoming::Closed
                            | Incoming::Overflow
                            | Incoming::NoMemory(_)
                            | Incoming::NoMemoryMidStream,
                        ))
                        | Ok(Err(_)) => Flow::Close,
                        Err(_elapsed) => {
                            self.conn.send(&untagged("BYE Autologout; idle for too long"));
                            Flow::Close
                        }
                    };
                }
                () = feed.wait_after(seen) => {
                    let news = self.read_feed().await;
                    // Access first: a member removed doesn't hear of one more message.
                    if news.access && !self.check_access().await {
                        return Flow::Close;
                    }
                    if self.notify.is_some() {
                        // RFC 5465 §3.1: exactly what NOTIFY asked for.
                        self.send_notifications(When::Idle).await;
                        continue;
                    }
                    if news.folder {
                        self.report_changes().await;
                    } else {
                        // The usual case, new messages right after what the
                        // client knows, needs no read: 5,000 idlers on one
                        // shared INBOX then cost one delivery no queries.
                        let mut announced = false;
                        for (uid, modseq) in news.arrivals {
                            if !self.announce_arrival(uid, modseq) {
                                self.report_changes().await;
                                break;
                            }
                            announced = true;
                        }
                        // What was announced one by one is claimed here, even
                        // if a catch-up followed (it claims only what it finds;
                        // a second RECENT line is harmless).
                        if announced {
                            self.report_recent().await;
                            // Live searches hear of them too (RFC 5267 §4.3.3).
                            self.refresh_contexts().await;
                        }
                    }
                }
            }
        }
    }
}
