//! BDAT (RFC 3030, CHUNKING): the message as counted chunks, no dot-stuffing.

use crate::body::{BodyBuilder, BodyProblem};
use crate::reply::Reply;
use crate::session::{Flow, Session};
use mailroom_core::budget::Reservation;

/// The most of a chunk read before the memory budget is asked again.
const STEP: usize = 64 * 1024;

impl Session {
    pub(crate) async fn bdat(&mut self, size: usize, last: bool) -> Flow {
        if let Some(refusal) = self.refuse_data(true) {
            // RFC 3030 §2: the chunk is still read (and thrown away) so the
            // next command is found where the client put it.
            if !self.read_chunk(size, None).await {
                return Flow::Close;
            }
            if let Some(tx) = self.tx.as_mut() {
                tx.chunks = None;
            }
            self.fail(refusal);
            return Flow::Continue;
        }
        let config = &self.server.config;
        let (max_size, max_line) = (config.max_message_size, config.max_line_length);
        let Some(tx) = self.tx.as_mut() else { return Flow::Continue };
        let (mut body, mut reservation) = match tx.chunks.take() {
            Some(transfer) => transfer,
            None => {
                (BodyBuilder::new(max_size, max_line), Reservation::new(&self.server.budget, self.peer.ip()))
            }
        };
        let mut problem = (!body.accepts(size)).then(|| body.problem().unwrap_or(BodyProblem::TooBig));
        // Read in steps, the memory budget covering each step before it is
        // read: a declared size holds nothing until its octets arrive.
        let mut left = size;
        while left > 0 && problem.is_none() {
            let step = left.min(STEP);
            if !reservation.grow_to(body.len().saturating_add(step)) {
                body.refuse(BodyProblem::NoMemory);
                problem = Some(BodyProblem::NoMemory);
                break;
            }
            if !self.read_chunk(step, Some(body.chunk_buffer())).await {
                return Flow::Close;
            }
            left -= step;
        }
        if let Some(problem) = problem {
            // What is left of the chunk is read away in one go, under one
            // timeout, holding no memory (RFC 3030 §2: the next command
            // follows the chunk).
            drop(reservation);
            if !self.read_chunk(left, None).await {
                return Flow::Close;
            }
            // A failed BDAT ends the transaction (RFC 3030 §2).
            self.tx = None;
            let reply = self.refusal(problem);
            self.fail(reply);
            return Flow::Continue;
        }
        if !last {
            if let Some(tx) = self.tx.as_mut() {
                tx.chunks = Some((body, reservation));
            }
            self.reply(Reply::new(250, (2, 0, 0), format!("{size} octets received")));
            return Flow::Continue;
        }
        if let Some(tx) = self.tx.take() {
            self.finish(tx, body.finish_chunks(), reservation).await;
        }
        Flow::Continue
    }

    async fn read_chunk(&mut self, size: usize, sink: Option<&mut Vec<u8>>) -> bool {
        let idle = self.server.config.idle_timeout;
        match tokio::time::timeout(idle, self.conn.read_exact_into(size, sink)).await {
            Ok(Ok(true)) => true,
            Ok(Ok(false)) | Ok(Err(_)) => {
                tracing::info!(session = %self.id, "connection lost in BDAT; nothing stored");
                false
            }
            Err(_elapsed) => {
                let reply = Reply::idle_timeout(self.hostname());
                self.conn.reply(&reply);
                false
            }
        }
    }
}
