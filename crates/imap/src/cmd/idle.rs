//! IDLE (RFC 2177, RFC 9051 §6.3.13): new mail, expunges and flag changes in
//! the selected folder reach the client as they happen — an SMTP delivery
//! to a shared mailbox shows in every member's session at once (SPEC §4).

use mailroom_core::change::Change;
use tokio::sync::broadcast::error::RecvError;

use crate::conn::Incoming;
use crate::respond::{Status, status, untagged};
use crate::session::{Flow, Session};

impl Session {
    pub(crate) async fn idle(&mut self, tag: &str) -> Flow {
        let mut changes = self.server.changes.subscribe();
        self.report_changes().await;
        self.conn.send(b"+ idling\r\n");
        let mut shutdown = self.server.shutdown.clone();
        // RFC 2177: clients re-issue IDLE at least every 29 minutes; one
        // deadline for the whole IDLE, however busy the server is.
        let deadline = tokio::time::Instant::now() + self.server.config.idle_timeout;
        // Rights changed by another process (the admin CLI) aren't on this
        // process's change bus: before reporting a change, rights are read
        // again if the last check is older than `rights_recheck`.
        let recheck = self.server.config.rights_recheck;
        let mut checked = tokio::time::Instant::now();
        loop {
            if self.conn.flush().await.is_err() {
                return Flow::Close;
            }
            let folder = self.selected().map(|s| s.target.folder.id);
            tokio::select! {
                biased;
                _ = crate::session::stopped(&mut shutdown) => {
                    self.conn.send(&untagged("BYE Server shutting down"));
                    return Flow::Close;
                }
                message = tokio::time::timeout_at(deadline, self.conn.next_message()) => {
                    return match message {
                        Ok(Ok(Incoming::Message(bytes))) if bytes.trim_ascii().eq_ignore_ascii_case(b"DONE") => {
                            self.report_changes().await;
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
                change = changes.recv() => {
                    match change {
                        Ok(Change::MessageAdded { folder: f, uid, modseq, .. }) if Some(f) == folder =>
                        {
                            if checked.elapsed() >= recheck {
                                if !self.still_allowed().await {
                                    return Flow::Close;
                                }
                                checked = tokio::time::Instant::now();
                            }
                            // The usual case, a new message right after what the
                            // client knows, needs no read: 5,000 idlers on one
                            // shared INBOX then cost one delivery no queries.
                            if !self.announce_arrival(uid, modseq) {
                                self.report_changes().await;
                            }
                        }
                        Ok(Change::MessagesExpunged { folder: f, .. })
                        | Ok(Change::FlagsChanged { folder: f, .. })
                            if Some(f) == folder =>
                        {
                            if checked.elapsed() >= recheck {
                                if !self.still_allowed().await {
                                    return Flow::Close;
                                }
                                checked = tokio::time::Instant::now();
                            }
                            self.report_changes().await;
                        }
                        // Only what can concern this session costs a rights check:
                        // its user, its selected mailbox, or any group change
                        // (nesting makes those hard to rule out cheaply).
                        Ok(Change::PermissionsChanged { recipient, trustee })
                            if self.concerns(recipient) || self.concerns(trustee) =>
                        {
                            if !self.still_allowed().await {
                                return Flow::Close;
                            }
                        }
                        Ok(Change::RecipientUpdated(id)) | Ok(Change::RecipientRemoved(id)) if self.concerns(id) => {
                            if !self.still_allowed().await {
                                return Flow::Close;
                            }
                        }
                        Ok(Change::GroupMembershipChanged { .. }) => {
                            if !self.still_allowed().await {
                                return Flow::Close;
                            }
                        }
                        // Missed some (a revocation among them, perhaps): check, then catch up.
                        Err(RecvError::Lagged(_)) => {
                            if !self.still_allowed().await {
                                return Flow::Close;
                            }
                            self.report_changes().await;
                        }
                        Err(RecvError::Closed) => return Flow::Close,
                        Ok(_) => {}
                    }
                }
            }
        }
    }

    /// Whether a principal is this session's user or its selected mailbox.
    fn concerns(&self, principal: mailroom_types::PrincipalId) -> bool {
        self.user().is_some_and(|u| u.principal == principal)
            || self.selected().is_some_and(|s| s.target.mailbox.principal() == principal)
    }
}
