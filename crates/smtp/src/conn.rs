//! The connection under a session: buffered reads of bounded lines and of
//! exact byte counts (BDAT), buffered replies, and the STARTTLS upgrade.
//!
//! Replies are collected and written only when the session is about to wait
//! for input, so a pipelined batch of commands (RFC 2920) gets its replies in
//! one write, and nothing is ever left unsent while the client waits.

use std::io;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio_rustls::TlsAcceptor;

use crate::reply::Reply;

/// Any byte stream a session can run on (TCP, TLS over TCP, a test pipe).
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// One read line.
#[derive(Debug, PartialEq, Eq)]
pub enum Line<'a> {
    /// The line, with its LF (and CR, if any).
    Complete(&'a [u8]),
    /// Longer than the limit; it has been read and thrown away up to its LF.
    /// `crlf` says whether it ended in CRLF (a bare LF matters to DATA).
    TooLong { crlf: bool },
    /// The peer closed the connection (a partial last line is dropped).
    Closed,
}

const READ_CHUNK: usize = 16 * 1024;

pub struct Conn {
    io: Option<Box<dyn Io>>,
    buf: Vec<u8>,
    /// Unread input is `buf[pos..]`.
    pos: usize,
    out: Vec<u8>,
    tls: bool,
    /// The longest a single write, flush or TLS handshake may take: a peer
    /// that stops reading must not hold its connection slot forever.
    io_timeout: Duration,
}

impl std::fmt::Debug for Conn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Conn")
            .field("tls", &self.tls)
            .field("buffered", &(self.buf.len() - self.pos))
            .finish()
    }
}

impl Conn {
    pub fn new(io: Box<dyn Io>, tls: bool, io_timeout: Duration) -> Self {
        Conn { io: Some(io), buf: Vec::with_capacity(READ_CHUNK), pos: 0, out: Vec::new(), tls, io_timeout }
    }

    pub fn is_tls(&self) -> bool {
        self.tls
    }

    /// Bytes the client sent that no command has consumed yet.
    pub fn has_buffered_input(&self) -> bool {
        self.pos < self.buf.len()
    }

    pub fn reply(&mut self, reply: &Reply) {
        reply.encode(&mut self.out);
    }

    /// Sends every pending reply. Cancel-safe: what is not yet written stays
    /// queued, so a reply is never cut in half by a shutdown or timeout.
    pub async fn flush(&mut self) -> io::Result<()> {
        let limit = self.io_timeout;
        let io = self.io.as_mut().ok_or_else(|| io::Error::from(io::ErrorKind::NotConnected))?;
        while !self.out.is_empty() {
            let written =
                tokio::time::timeout(limit, io.write(&self.out)).await.map_err(|_| timed_out())??;
            if written == 0 {
                return Err(io::ErrorKind::WriteZero.into());
            }
            self.out.drain(..written);
        }
        tokio::time::timeout(limit, io.flush()).await.map_err(|_| timed_out())?
    }

    /// Reads more input, first sending pending replies (the client may be
    /// waiting for them before it sends more). `Ok(0)` at end of stream.
    async fn fill(&mut self) -> io::Result<usize> {
        self.flush().await?;
        if self.pos > 0 && self.pos == self.buf.len() {
            self.buf.clear();
            self.pos = 0;
        } else if self.pos > READ_CHUNK {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        // Into spare capacity: a cancelled read leaves no stray bytes behind.
        self.buf.reserve(READ_CHUNK);
        let io = self.io.as_mut().ok_or_else(|| io::Error::from(io::ErrorKind::NotConnected))?;
        io.read_buf(&mut self.buf).await
    }

    /// Reads one line of at most `limit` octets including its line ending.
    /// A longer line is consumed whole and reported as [`Line::TooLong`], so
    /// the session stays in step with the client.
    pub async fn read_line(&mut self, limit: usize) -> io::Result<Line<'_>> {
        let mut scanned = 0;
        let mut discarding = false;
        // The last byte thrown away, to tell how a discarded line ended.
        let mut last_dropped = 0u8;
        loop {
            let unread = &self.buf[self.pos..];
            if let Some(at) = memchr(b'\n', &unread[scanned..]).map(|i| scanned + i) {
                let before = if at > 0 { unread[at - 1] } else { last_dropped };
                let start = self.pos;
                self.pos += at + 1;
                if discarding || at + 1 > limit {
                    return Ok(Line::TooLong { crlf: before == b'\r' });
                }
                return Ok(Line::Complete(&self.buf[start..self.pos]));
            }
            if unread.len() > limit {
                // Keep no more than the limit in memory: drop what is read.
                discarding = true;
                last_dropped = unread.last().copied().unwrap_or(last_dropped);
                self.pos = self.buf.len();
                scanned = 0;
            } else {
                scanned = unread.len();
            }
            if self.fill().await? == 0 {
                return Ok(Line::Closed);
            }
        }
    }

    /// Appends exactly `n` octets to `sink` (or discards them when `sink` is
    /// `None`). `false` if the stream ended first.
    pub async fn read_exact_into(
        &mut self,
        mut n: usize,
        mut sink: Option<&mut Vec<u8>>,
    ) -> io::Result<bool> {
        loop {
            let available = (self.buf.len() - self.pos).min(n);
            if let Some(sink) = sink.as_deref_mut() {
                sink.extend_from_slice(&self.buf[self.pos..self.pos + available]);
            }
            self.pos += available;
            n -= available;
            if n == 0 {
                return Ok(true);
            }
            if self.fill().await? == 0 {
                return Ok(false);
            }
        }
    }

    /// Switches the connection to TLS (RFC 3207). The caller has refused the
    /// upgrade if the client pipelined anything after STARTTLS: those bytes
    /// arrived in plaintext and must not be read as if protected.
    pub async fn start_tls(&mut self, acceptor: &TlsAcceptor) -> io::Result<()> {
        self.flush().await?;
        self.buf.clear();
        self.pos = 0;
        let plain = self.io.take().ok_or_else(|| io::Error::from(io::ErrorKind::NotConnected))?;
        let tls = tokio::time::timeout(self.io_timeout, acceptor.accept(plain))
            .await
            .map_err(|_| timed_out())??;
        self.io = Some(Box::new(tls));
        self.tls = true;
        Ok(())
    }

    /// Sends pending replies and closes the write side.
    pub async fn close(&mut self) {
        if self.flush().await.is_ok()
            && let Some(io) = self.io.as_mut()
        {
            let _ = tokio::time::timeout(self.io_timeout, io.shutdown()).await;
        }
        self.io = None;
    }
}

fn timed_out() -> io::Error {
    io::Error::new(io::ErrorKind::TimedOut, "the peer stopped reading or answering")
}

fn memchr(needle: u8, haystack: &[u8]) -> Option<usize> {
    haystack.iter().position(|&b| b == needle)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    async fn conn_with(input: &'static [u8]) -> Conn {
        let (client, server) = tokio::io::duplex(64);
        tokio::spawn(async move {
            let mut client = client;
            // Small writes exercise lines split across reads.
            for chunk in input.chunks(7) {
                client.write_all(chunk).await.unwrap();
            }
        });
        Conn::new(Box::new(server), false, Duration::from_secs(5))
    }

    #[tokio::test]
    async fn lines_split_across_reads_and_limits() {
        let mut c = conn_with(
            b"EHLO a\r\nxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\r\nyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy\nQUIT\r\npartial",
        )
        .await;
        assert_eq!(c.read_line(20).await.unwrap(), Line::Complete(b"EHLO a\r\n"));
        assert_eq!(c.read_line(20).await.unwrap(), Line::TooLong { crlf: true });
        // How a discarded line ended is kept even across reads.
        assert_eq!(c.read_line(20).await.unwrap(), Line::TooLong { crlf: false });
        assert_eq!(c.read_line(20).await.unwrap(), Line::Complete(b"QUIT\r\n"));
        assert_eq!(c.read_line(20).await.unwrap(), Line::Closed);
    }

    #[tokio::test]
    async fn exact_reads_for_bdat() {
        let mut c = conn_with(b"0123456789NEXT\r\n").await;
        let mut sink = Vec::new();
        assert!(c.read_exact_into(10, Some(&mut sink)).await.unwrap());
        assert_eq!(sink, b"0123456789");
        assert_eq!(c.read_line(100).await.unwrap(), Line::Complete(b"NEXT\r\n"));
        assert!(!c.read_exact_into(5, None).await.unwrap());
    }
}
