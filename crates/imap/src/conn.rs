//! The connection under an IMAP session: imap-codec's fragmentizer splits
//! the byte stream into messages (a line and the literals it announces),
//! asking for synchronizing literals only when they fit (RFC 9051 §4.3,
//! RFC 7888), and pending responses are written before every read. With
//! COMPRESS=DEFLATE (RFC 4978) both directions are raw deflate streams
//! between this and the transport (TLS, if any, under it).

use std::io;
use std::time::Duration;

use imap_codec::fragmentizer::{FragmentInfo, Fragmentizer, LiteralAnnouncement};
use imap_codec::imap_types::core::LiteralMode;
use mailroom_core::budget::{MemoryBudget, Reservation};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio_rustls::TlsAcceptor;

/// Any byte stream a session can run on.
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send + Sync {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + Sync> Io for T {}

/// The next thing the client sent.
#[derive(Debug, PartialEq, Eq)]
pub enum Incoming {
    /// A whole message: the command line with its literals.
    Message(Vec<u8>),
    /// Over the size limit and thrown away; its tag, when it could be read.
    TooBig(Option<String>),
    /// Over the (smaller) limit before sign-in, in a way that can't be
    /// skipped safely (a long line or a non-synchronizing literal): the
    /// session must end.
    Overflow,
    /// A synchronizing literal the server's memory budget can't hold now:
    /// refused before the client sent it (its tag, when it could be read).
    NoMemory(Option<String>),
    /// A non-synchronizing literal the budget can't hold: it is on its way
    /// already, so the session must end.
    NoMemoryMidStream,
    Closed,
}

/// Before sign-in a command is a few short strings: an unauthenticated
/// peer may not make the server buffer more than this. The longest is an
/// ID at RFC 2971 §3.3's maximum — 30 pairs of a 30-octet field and a
/// 1024-octet value, about 31 KiB quoted — so 32 KiB.
pub const PRE_AUTH_LIMIT: u32 = 32 * 1024;

/// Messages (a command with its literals) up to this size aren't charged to
/// the memory budget: every session may hold that much (the connection
/// limits bound it), so idle sessions and ordinary commands never compete
/// with the transfers the budget is for.
pub const FREE_MESSAGE: usize = 64 * 1024;

pub struct Conn {
    io: Option<Box<dyn Io>>,
    frag: Fragmentizer,
    /// The server's budget for message data in transfer, and this
    /// connection's share of it: the message being read and, once read,
    /// until the next one starts (while its command runs).
    budget: MemoryBudget,
    reservation: Reservation,
    /// The client's address: its share of the budget is at most half.
    source: std::net::IpAddr,
    /// Octets handed to the framer, and octets it has given back as whole
    /// (or skipped) messages: equal when it holds nothing.
    fed: u64,
    taken: u64,
    /// The last message was large: the framer's buffer kept its capacity.
    large_buffer: bool,
    /// A wait for a message was given up before it ended (see `next_message`).
    mid_message: bool,
    max: u32,
    /// The limit in force now: small until sign-in, `max` after.
    limit: u32,
    out: Vec<u8>,
    read_buf: Vec<u8>,
    io_timeout: Duration,
    tls: bool,
    /// COMPRESS=DEFLATE, once the client turned it on.
    deflate: Option<Box<Deflate>>,
}

/// Octets of plain text one step of inflating gives at most: a small
/// compressed packet can stand for megabytes, and the framer's limits must
/// see them arrive as from the network, a piece at a time.
const INFLATE_STEP: usize = 16 * 1024;

/// The two deflate streams of a compressed connection (RFC 4978 §4: raw
/// deflate, RFC 1951; every batch of responses ends in a sync flush so the
/// client can read it whole).
struct Deflate {
    compress: flate2::Compress,
    decompress: flate2::Decompress,
    /// Compressed octets read and not inflated yet.
    inflate_input: Vec<u8>,
    /// Compressed octets not written yet.
    wire: Vec<u8>,
}

impl Deflate {
    fn new() -> Self {
        Deflate {
            // Fast: responses are mostly headers and text, and a phone on a
            // slow link gains nearly all there is from level 1.
            compress: flate2::Compress::new(flate2::Compression::fast(), false),
            decompress: flate2::Decompress::new(false),
            inflate_input: Vec::new(),
            wire: Vec::new(),
        }
    }

    /// Compresses `plain` onto `wire`, ending in a sync flush.
    fn deflate(&mut self, mut plain: &[u8]) -> io::Result<()> {
        loop {
            self.wire.reserve(plain.len() / 2 + 64);
            let before = self.compress.total_in();
            self.compress
                .compress_vec(plain, &mut self.wire, flate2::FlushCompress::Sync)
                .map_err(|e| io::Error::other(e.to_string()))?;
            plain = &plain[(self.compress.total_in() - before) as usize..];
            // Done when all went in and the flush had room to finish.
            if plain.is_empty() && self.wire.len() < self.wire.capacity() {
                return Ok(());
            }
        }
    }

    /// Inflates what has been read into `out` (up to its spare capacity);
    /// returns how many plain octets it gave.
    fn inflate(&mut self, out: &mut Vec<u8>) -> io::Result<usize> {
        let (before_in, before_out) = (self.decompress.total_in(), out.len());
        let status = self
            .decompress
            .decompress_vec(&self.inflate_input, out, flate2::FlushDecompress::None)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("COMPRESS stream: {e}")))?;
        self.inflate_input.drain(..(self.decompress.total_in() - before_in) as usize);
        if status == flate2::Status::StreamEnd {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "COMPRESS stream ended"));
        }
        Ok(out.len() - before_out)
    }
}

impl std::fmt::Debug for Conn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Conn").field("tls", &self.tls).finish_non_exhaustive()
    }
}

impl Conn {
    pub fn new(
        io: Box<dyn Io>,
        tls: bool,
        max_command_size: u32,
        io_timeout: Duration,
        budget: MemoryBudget,
        source: std::net::IpAddr,
    ) -> Self {
        Conn {
            io: Some(io),
            frag: Fragmentizer::new(max_command_size),
            reservation: Reservation::new(&budget, source),
            source,
            budget,
            fed: 0,
            taken: 0,
            large_buffer: false,
            mid_message: false,
            max: max_command_size,
            limit: max_command_size.min(PRE_AUTH_LIMIT),
            out: Vec::new(),
            read_buf: Vec::with_capacity(16 * 1024),
            io_timeout,
            tls,
            deflate: None,
        }
    }

    /// Whether COMPRESS=DEFLATE is on.
    pub fn is_compressed(&self) -> bool {
        self.deflate.is_some()
    }

    /// Whether the client sent more after the message being handled (a
    /// command that changes the stream, like COMPRESS, must come last).
    pub fn has_pipelined(&self) -> bool {
        self.fed != self.taken
    }

    /// Turns COMPRESS=DEFLATE on (RFC 4978 §3): what is queued — the OK —
    /// goes out as it is, everything after it compressed, both ways.
    pub async fn start_deflate(&mut self) -> io::Result<()> {
        self.flush().await?;
        self.deflate = Some(Box::new(Deflate::new()));
        Ok(())
    }

    pub fn is_tls(&self) -> bool {
        self.tls
    }

    /// After sign-in: commands up to the configured size (APPEND carries messages).
    pub fn signed_in(&mut self) {
        self.limit = self.max;
    }

    /// Signed out again (UNAUTHENTICATE): the bound before sign-in is back.
    pub fn signed_out(&mut self) {
        self.limit = self.max.min(PRE_AUTH_LIMIT);
    }

    /// Bytes queued and not yet written.
    pub fn pending(&self) -> usize {
        self.out.len()
    }

    /// Queues bytes to send (a whole response, CRLF-terminated).
    pub fn send(&mut self, bytes: &[u8]) {
        self.out.extend_from_slice(bytes);
    }

    /// Writes what is queued; what is not yet written stays queued if the
    /// future is dropped.
    pub async fn flush(&mut self) -> io::Result<()> {
        let limit = self.io_timeout;
        if let Some(deflate) = self.deflate.as_mut()
            && !self.out.is_empty()
        {
            deflate.deflate(&self.out)?;
            self.out.clear();
        }
        let io = self.io.as_mut().ok_or_else(|| io::Error::from(io::ErrorKind::NotConnected))?;
        let pending = match self.deflate.as_mut() {
            Some(deflate) => &mut deflate.wire,
            None => &mut self.out,
        };
        while !pending.is_empty() {
            let n = tokio::time::timeout(limit, io.write(pending)).await.map_err(|_| timed_out())??;
            if n == 0 {
                return Err(io::ErrorKind::WriteZero.into());
            }
            pending.drain(..n);
        }
        tokio::time::timeout(limit, io.flush()).await.map_err(|_| timed_out())?
    }

    /// Reads the next message. A synchronizing literal that fits gets its
    /// `+` continuation; one that doesn't is refused before the client sends
    /// it (so nothing needs discarding); a non-synchronizing one (LITERAL+)
    /// over the limit is read and thrown away by the fragmentizer.
    ///
    /// A message longer than [`FREE_MESSAGE`] is charged to the server's
    /// memory budget as its octets arrive ([`crate::APPEND_MEMORY_FACTOR`]
    /// times over), so a literal announced and never sent holds nothing. A
    /// synchronizing literal the budget couldn't hold now is refused before
    /// the client sends it; one already on its way when the budget runs out
    /// ends the session.
    ///
    /// Cancel-safe: a session waits for the next command and for the change
    /// feed at once, and a wait given up mid-message resumes where it was,
    /// with what it had charged to the budget.
    pub async fn next_message(&mut self) -> io::Result<Incoming> {
        if !self.mid_message {
            // The last message's command has run: its share goes back, and so
            // does the memory behind it — the framer keeps its buffer's
            // capacity, so after a large message, once it holds nothing
            // more, a new one takes its place.
            self.reservation = Reservation::new(&self.budget, self.source);
            if self.large_buffer && self.fed == self.taken {
                self.frag = Fragmentizer::new(self.max);
                (self.fed, self.taken) = (0, 0);
            }
            self.large_buffer = false;
            self.mid_message = true;
        }
        let incoming = self.read_message().await;
        self.mid_message = false;
        incoming
    }

    async fn read_message(&mut self) -> io::Result<Incoming> {
        loop {
            match self.frag.progress() {
                Some(FragmentInfo::Line {
                    announcement: Some(LiteralAnnouncement { mode, length }), ..
                }) => {
                    let buffered = self.frag.message_bytes().len() as u64;
                    let total = buffered + u64::from(length);
                    if total > u64::from(self.limit) {
                        if mode == LiteralMode::Sync {
                            let tag = self.tag();
                            self.skip_message();
                            return Ok(Incoming::TooBig(tag));
                        }
                        if self.limit < self.max {
                            return Ok(Incoming::Overflow);
                        }
                    } else if !self.would_fit(usize::try_from(total).unwrap_or(usize::MAX)) {
                        if mode == LiteralMode::Sync {
                            let tag = self.tag();
                            self.skip_message();
                            self.reservation = Reservation::new(&self.budget, self.source);
                            return Ok(Incoming::NoMemory(tag));
                        }
                        return Ok(Incoming::NoMemoryMidStream);
                    }
                    if mode == LiteralMode::Sync {
                        self.out.extend_from_slice(b"+ Ready for literal data\r\n");
                    }
                }
                Some(_) => {
                    if self.frag.is_message_complete() {
                        if self.frag.is_max_message_size_exceeded() {
                            return Ok(Incoming::TooBig(self.tag()));
                        }
                        if !self.charge(self.frag.message_bytes().len()) {
                            // Whole, but the budget is spent: refused, and
                            // the client may send it again.
                            let tag = self.tag();
                            let len = self.frag.message_bytes().len();
                            self.taken += len as u64;
                            self.large_buffer = len > FREE_MESSAGE;
                            self.reservation = Reservation::new(&self.budget, self.source);
                            return Ok(Incoming::NoMemory(tag));
                        }
                        let message = self.frag.message_bytes().to_vec();
                        self.taken += message.len() as u64;
                        self.large_buffer = message.len() > FREE_MESSAGE;
                        return Ok(Incoming::Message(message));
                    }
                }
                None => {
                    let buffered = self.frag.message_bytes().len();
                    if buffered > self.limit as usize && self.limit < self.max {
                        // A line that never ends, before sign-in.
                        return Ok(Incoming::Overflow);
                    }
                    // What arrived so far, before reading more (a read adds
                    // at most the read buffer's capacity).
                    if !self.charge(buffered) {
                        return Ok(Incoming::NoMemoryMidStream);
                    }
                    self.flush().await?;
                    self.read_buf.clear();
                    let io = self.io.as_mut().ok_or_else(|| io::Error::from(io::ErrorKind::NotConnected))?;
                    if let Some(deflate) = self.deflate.as_mut() {
                        // A step of plain text (at most the read buffer's
                        // capacity), reading compressed octets until one comes.
                        while deflate.inflate(&mut self.read_buf)? == 0 {
                            let mut packet = Vec::with_capacity(INFLATE_STEP);
                            if io.read_buf(&mut packet).await? == 0 {
                                return Ok(Incoming::Closed);
                            }
                            deflate.inflate_input.extend_from_slice(&packet);
                        }
                    } else if io.read_buf(&mut self.read_buf).await? == 0 {
                        return Ok(Incoming::Closed);
                    }
                    self.frag.enqueue_bytes(&self.read_buf);
                    self.fed += self.read_buf.len() as u64;
                }
            }
        }
    }

    /// Covers a message of `bytes` octets in the budget (nothing for a
    /// short one); `false` when the budget is spent.
    fn charge(&mut self, bytes: usize) -> bool {
        bytes <= FREE_MESSAGE || self.reservation.cover(bytes.saturating_mul(crate::APPEND_MEMORY_FACTOR))
    }

    /// Whether a message of `bytes` octets could be covered now.
    fn would_fit(&self, bytes: usize) -> bool {
        bytes <= FREE_MESSAGE
            || bytes.saturating_mul(crate::APPEND_MEMORY_FACTOR)
                <= self.budget.available_to(self.source).saturating_add(self.reservation.held())
    }

    /// Drops the message being framed (a refused literal's command line).
    fn skip_message(&mut self) {
        self.taken += self.frag.message_bytes().len() as u64;
        self.large_buffer = self.frag.message_bytes().len() > FREE_MESSAGE;
        self.frag.skip_message();
    }

    fn tag(&self) -> Option<String> {
        self.frag.decode_tag().map(|t| t.inner().to_string())
    }

    /// Switches to TLS after STARTTLS (RFC 9051 §6.2.1). The caller refused
    /// the upgrade if anything was pipelined after the command.
    pub async fn start_tls(&mut self, acceptor: &TlsAcceptor) -> io::Result<()> {
        self.flush().await?;
        // Whatever was pipelined after STARTTLS arrived in plaintext: drop it.
        self.frag = Fragmentizer::new(self.max);
        let plain = self.io.take().ok_or_else(|| io::Error::from(io::ErrorKind::NotConnected))?;
        let tls = tokio::time::timeout(self.io_timeout, acceptor.accept(plain))
            .await
            .map_err(|_| timed_out())??;
        self.io = Some(Box::new(tls));
        self.tls = true;
        Ok(())
    }

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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[tokio::test]
    async fn lines_literals_and_limits() {
        let (client, server) = tokio::io::duplex(1 << 16);
        let budget = MemoryBudget::new(1 << 20);
        let mut conn = Conn::new(
            Box::new(server),
            false,
            64,
            Duration::from_secs(5),
            budget,
            "127.0.0.1".parse().unwrap(),
        );
        let (mut read, mut write) = tokio::io::split(client);
        write.write_all(b"a1 NOOP\r\na2 LOGIN {5}\r\n").await.unwrap();
        assert_eq!(conn.next_message().await.unwrap(), Incoming::Message(b"a1 NOOP\r\n".to_vec()));
        let reader = tokio::spawn(async move {
            let mut continuation = [0u8; 26];
            read.read_exact(&mut continuation).await.unwrap();
            assert_eq!(&continuation, b"+ Ready for literal data\r\n");
            write.write_all(b"alice {3+}\r\npw!\r\na3 X {1000}\r\na4 NOOP\r\n").await.unwrap();
            (read, write)
        });
        let message = conn.next_message().await.unwrap();
        assert_eq!(message, Incoming::Message(b"a2 LOGIN {5}\r\nalice {3+}\r\npw!\r\n".to_vec()));
        // A synchronizing literal over the limit is refused before it is sent.
        assert_eq!(conn.next_message().await.unwrap(), Incoming::TooBig(Some("a3".into())));
        assert_eq!(conn.next_message().await.unwrap(), Incoming::Message(b"a4 NOOP\r\n".to_vec()));
        drop(reader.await.unwrap());
        assert_eq!(conn.next_message().await.unwrap(), Incoming::Closed);
    }
}
