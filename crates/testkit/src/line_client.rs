//! A raw line client for byte-exact and hostile input: it sends exactly the
//! bytes given and reads whole (multi-line) replies.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// How long a read waits when no deadline is given.
const READ_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug)]
pub struct LineClient {
    writer: TcpStream,
    reader: BufReader<TcpStream>,
}

/// One SMTP reply: its code and its lines without the code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpReply {
    pub code: u16,
    pub lines: Vec<String>,
}

impl SmtpReply {
    pub fn text(&self) -> String {
        self.lines.join("\n")
    }
}

impl std::fmt::Display for SmtpReply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.code, self.text())
    }
}

impl LineClient {
    pub fn connect(addr: SocketAddr) -> Self {
        Self::try_connect(addr).expect("connect")
    }

    pub fn try_connect(addr: SocketAddr) -> Option<Self> {
        let stream = TcpStream::connect(addr).ok()?;
        stream.set_read_timeout(Some(READ_TIMEOUT)).ok()?;
        let reader = BufReader::new(stream.try_clone().ok()?);
        Some(LineClient { writer: stream, reader })
    }

    /// Connects, reads the greeting, and sends EHLO.
    pub fn smtp(addr: SocketAddr) -> Self {
        let mut client = LineClient::connect(addr);
        assert_eq!(client.reply().code, 220);
        assert_eq!(client.cmd("EHLO client.example").code, 250);
        client
    }

    pub fn send(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).expect("send");
    }

    /// Sends `line` with CRLF and reads the reply.
    pub fn cmd(&mut self, line: &str) -> SmtpReply {
        self.send(format!("{line}\r\n").as_bytes());
        self.reply()
    }

    /// Sends bytes; `false` if the connection is gone.
    pub fn try_send(&mut self, bytes: &[u8]) -> bool {
        self.writer.write_all(bytes).is_ok()
    }

    /// Sends `line` with CRLF; the reply, or `None` if the server has closed.
    pub fn cmd_or_close(&mut self, line: &str) -> Option<SmtpReply> {
        let _ = self.writer.write_all(format!("{line}\r\n").as_bytes());
        self.try_reply()
    }

    /// Reads one reply; panics if the connection ends first.
    pub fn reply(&mut self) -> SmtpReply {
        self.try_reply().expect("a reply before the connection closed")
    }

    /// Reads one reply, `None` if the server closed the connection.
    pub fn try_reply(&mut self) -> Option<SmtpReply> {
        let mut lines = Vec::new();
        loop {
            let mut line = String::new();
            if self.reader.read_line(&mut line).ok()? == 0 {
                return None;
            }
            let line = line.trim_end_matches(['\r', '\n']);
            let code: u16 = line.get(..3)?.parse().ok()?;
            let more = line.as_bytes().get(3) == Some(&b'-');
            lines.push(line.get(4..).unwrap_or("").to_string());
            if !more {
                return Some(SmtpReply { code, lines });
            }
        }
    }

    /// Reads one line, without its line break; `None` once the server closed.
    pub fn line(&mut self) -> Option<String> {
        let mut line = String::new();
        match self.reader.read_line(&mut line) {
            Ok(0) | Err(_) => None,
            Ok(_) => Some(line.trim_end_matches(['\r', '\n']).to_string()),
        }
    }

    /// Reads one line if it arrives before `deadline`: `None` if the
    /// deadline passed first or the server closed. For a signal that must
    /// come in time (a notification, an IDLE update).
    pub fn line_before(&mut self, deadline: Instant) -> Option<String> {
        let left = deadline.saturating_duration_since(Instant::now());
        // A zero timeout means "none" to the socket: a line already here is
        // still read, with the shortest wait there is.
        let left = left.max(Duration::from_millis(1));
        // The reader's stream is a clone of this one: the same socket.
        self.writer.set_read_timeout(Some(left)).ok()?;
        let line = self.line();
        self.writer.set_read_timeout(Some(READ_TIMEOUT)).ok()?;
        line
    }

    /// IMAP: sends `tag command` and reads lines up to the tagged
    /// completion or a `+` continuation (returned last), or to the close.
    pub fn imap(&mut self, tag: &str, command: &str) -> Vec<String> {
        self.send(format!("{tag} {command}\r\n").as_bytes());
        let mut lines = Vec::new();
        while let Some(line) = self.line() {
            let done = line.starts_with(&format!("{tag} ")) || line.starts_with('+');
            lines.push(line);
            if done {
                break;
            }
        }
        lines
    }

    /// Whether the server has closed the connection (reads to the end).
    pub fn closed(&mut self) -> bool {
        let mut rest = Vec::new();
        self.reader.read_to_end(&mut rest).is_ok()
    }

    /// Ends the sending side abruptly, as a client that dies would.
    pub fn drop_connection(self) {
        let _ = self.writer.shutdown(Shutdown::Both);
    }
}
