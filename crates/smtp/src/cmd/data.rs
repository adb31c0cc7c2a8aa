//! DATA (RFC 5321 §4.1.1.4): the message as dot-stuffed lines.

use crate::body::{BodyBuilder, BodyProblem};
use crate::conn::Line;
use crate::reply::Reply;
use crate::session::{Flow, Session};
use mailroom_core::budget::Reservation;

impl Session {
    /// Why DATA or BDAT can't start now, if it can't.
    pub(crate) fn refuse_data(&self, bdat: bool) -> Option<Reply> {
        let Some(tx) = &self.tx else {
            return Some(Reply::bad_sequence("Need MAIL and RCPT first"));
        };
        if !bdat && tx.chunks.is_some() {
            return Some(Reply::bad_sequence("DATA not allowed after BDAT; finish with BDAT LAST"));
        }
        if tx.rcpts.is_empty() {
            return Some(if tx.rcpt_attempts > 0 {
                Reply::no_valid_recipients()
            } else {
                Reply::bad_sequence("Need RCPT before the message")
            });
        }
        None
    }

    pub(crate) async fn data(&mut self) -> Flow {
        if let Some(refusal) = self.refuse_data(false) {
            self.fail(refusal);
            return Flow::Continue;
        }
        self.conn.reply(&Reply::start_data());
        let config = &self.server.config;
        let (max_size, max_line, idle) =
            (config.max_message_size, config.max_line_length, config.idle_timeout);
        let mut body = BodyBuilder::new(max_size, max_line);
        let mut reservation = Reservation::new(&self.server.budget, self.peer.ip());
        if !reservation.grow_to(0) {
            body.refuse(BodyProblem::NoMemory);
        }
        loop {
            // +1: a stuffed leading dot does not count against the limit.
            match tokio::time::timeout(idle, self.conn.read_line(max_line + 1)).await {
                Err(_elapsed) => {
                    tracing::info!(session = %self.id, "idle in DATA; nothing stored");
                    let reply = Reply::idle_timeout(self.hostname());
                    self.conn.reply(&reply);
                    return Flow::Close;
                }
                Ok(Err(_)) | Ok(Ok(Line::Closed)) => {
                    // Nothing was acknowledged, so nothing is stored.
                    tracing::info!(session = %self.id, "connection lost in DATA; nothing stored");
                    return Flow::Close;
                }
                Ok(Ok(Line::TooLong { crlf })) => body.line_too_long(crlf),
                Ok(Ok(Line::Complete(line))) => {
                    if body.push_data_line(line) {
                        break;
                    }
                    if !reservation.grow_to(body.len()) {
                        body.refuse(BodyProblem::NoMemory);
                    }
                }
            }
        }
        let tx = self.tx.take();
        if let Some(tx) = tx {
            self.finish(tx, body.finish_data(), reservation).await;
        }
        Flow::Continue
    }
}
