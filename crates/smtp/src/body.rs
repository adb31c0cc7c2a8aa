//! Assembling a message from DATA lines or BDAT chunks (sans-I/O).
//!
//! What is stored is always CRLF-terminated lines:
//! - DATA ends only at `<CRLF>.<CRLF>` (RFC 5321 §4.1.1.4). A `.` line after a
//!   bare LF is content, never the end: treating `<LF>.<LF>` as the end is
//!   what SMTP smuggling exploits (CVE-2023-51766 and kin).
//! - A leading dot after CRLF is removed (transparency, RFC 5321 §4.5.2).
//! - Bare LF line endings are stored as CRLF (RFC 5321 §2.3.8 forbids bare
//!   LF; rewriting keeps IMAP clients, which expect CRLF, working).
//! - The size and line-length limits are checked here; once one is broken the
//!   rest of the message is read and discarded, so the session stays in step
//!   and the refusal comes as the reply to the end of data.

/// Why a message is refused once its data has been read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyProblem {
    TooBig,
    LineTooLong,
    /// The server's memory budget for messages in transfer is spent (a
    /// temporary condition: `452 4.3.1`).
    NoMemory,
}

#[derive(Debug)]
pub struct BodyBuilder {
    out: Vec<u8>,
    max_size: usize,
    max_line: usize,
    /// The previous line ended in CRLF (true at the start: DATA's own CRLF).
    after_crlf: bool,
    problem: Option<BodyProblem>,
}

impl BodyBuilder {
    pub fn new(max_size: usize, max_line: usize) -> Self {
        BodyBuilder { out: Vec::new(), max_size, max_line, after_crlf: true, problem: None }
    }

    /// Feeds one DATA line (with its LF). Returns `true` at the end of data.
    pub fn push_data_line(&mut self, line: &[u8]) -> bool {
        let crlf = line.ends_with(b"\r\n");
        if self.after_crlf && line == b".\r\n" {
            return true;
        }
        let mut content = line.strip_suffix(b"\n").unwrap_or(line);
        content = content.strip_suffix(b"\r").unwrap_or(content);
        if self.after_crlf && content.first() == Some(&b'.') {
            content = &content[1..];
        }
        self.after_crlf = crlf;
        self.append_line(content);
        false
    }

    /// Records a DATA line that was too long to read into memory; `crlf`
    /// is how it ended (a bare LF there must not let `.` end the data next).
    pub fn line_too_long(&mut self, crlf: bool) {
        self.refuse(BodyProblem::LineTooLong);
        self.after_crlf = crlf;
    }

    /// Octets assembled so far.
    pub fn len(&self) -> usize {
        self.out.len()
    }

    pub fn is_empty(&self) -> bool {
        self.out.is_empty()
    }

    /// Where a BDAT chunk the builder [`accepts`](Self::accepts) is read to,
    /// straight from the connection (no intermediate copy).
    pub fn chunk_buffer(&mut self) -> &mut Vec<u8> {
        &mut self.out
    }

    /// Feeds a BDAT chunk (RFC 3030: raw octets, no dot-stuffing). Line
    /// endings are normalized in [`finish`](Self::finish), since a CRLF may
    /// straddle two chunks.
    pub fn push_chunk(&mut self, chunk: &[u8]) {
        if self.problem.is_some() {
            return;
        }
        if self.out.len() + chunk.len() > self.max_size {
            self.problem = Some(BodyProblem::TooBig);
            self.out = Vec::new();
            return;
        }
        self.out.extend_from_slice(chunk);
    }

    /// Whether a chunk of `n` more octets can still be taken.
    pub fn accepts(&self, n: usize) -> bool {
        self.problem.is_none() && self.out.len().saturating_add(n) <= self.max_size
    }

    /// Refuses the message; what arrives from now on is discarded.
    pub fn refuse(&mut self, problem: BodyProblem) {
        self.problem.get_or_insert(problem);
        self.out = Vec::new();
    }

    /// Whether the body is already refused (the rest will be discarded).
    pub fn problem(&self) -> Option<BodyProblem> {
        self.problem
    }

    fn append_line(&mut self, content: &[u8]) {
        if self.problem.is_some() {
            return;
        }
        if content.len() + 2 > self.max_line {
            self.problem = Some(BodyProblem::LineTooLong);
            self.out = Vec::new();
            return;
        }
        if self.out.len() + content.len() + 2 > self.max_size {
            self.problem = Some(BodyProblem::TooBig);
            self.out = Vec::new();
            return;
        }
        self.out.extend_from_slice(content);
        self.out.extend_from_slice(b"\r\n");
    }

    /// The message as stored, or why it is refused.
    pub fn finish_data(self) -> Result<Vec<u8>, BodyProblem> {
        match self.problem {
            Some(problem) => Err(problem),
            None => Ok(self.out),
        }
    }

    /// The BDAT message with line endings normalized and limits checked.
    /// Without bare LFs (the usual case) the buffer is returned as it is.
    pub fn finish_chunks(self) -> Result<Vec<u8>, BodyProblem> {
        if let Some(problem) = self.problem {
            return Err(problem);
        }
        let mut bare_lf = false;
        let mut longest = 0;
        let mut line_start = 0;
        for (i, &b) in self.out.iter().enumerate() {
            if b == b'\n' {
                bare_lf |= i == 0 || self.out[i - 1] != b'\r';
                longest = longest.max(i + 1 - line_start);
                line_start = i + 1;
            }
        }
        let unterminated = line_start < self.out.len();
        if !bare_lf && !unterminated {
            if longest > self.max_line {
                return Err(BodyProblem::LineTooLong);
            }
            return Ok(self.out);
        }
        let mut again = BodyBuilder::new(self.max_size, self.max_line);
        let raw = self.out;
        let mut rest = raw.as_slice();
        while !rest.is_empty() {
            let (content, tail) = match rest.iter().position(|&b| b == b'\n') {
                Some(at) => (&rest[..at], &rest[at + 1..]),
                None => (rest, &rest[rest.len()..]),
            };
            again.append_line(content.strip_suffix(b"\r").unwrap_or(content));
            rest = tail;
        }
        // A last line without ending stays without one would be unusual;
        // adding CRLF is what a DATA transfer would have produced.
        again.finish_data()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn data(lines: &[&[u8]]) -> (bool, Result<Vec<u8>, BodyProblem>) {
        let mut b = BodyBuilder::new(1000, 100);
        let mut ended = false;
        for line in lines {
            if b.push_data_line(line) {
                ended = true;
                break;
            }
        }
        (ended, b.finish_data())
    }

    #[test]
    fn dot_unstuffing_and_end() {
        let (ended, body) = data(&[b"Subject: x\r\n", b"\r\n", b"..leading\r\n", b".\r\n"]);
        assert!(ended);
        assert_eq!(body.unwrap(), b"Subject: x\r\n\r\n.leading\r\n");
    }

    #[test]
    fn bare_lf_is_normalized_and_never_ends_data() {
        // <LF>.<LF> and <LF>.<CRLF> are content: no SMTP smuggling.
        let (ended, body) = data(&[b"a\n", b".\n", b"b\n", b".\r\n", b"c\r\n", b".\r\n"]);
        assert!(ended);
        assert_eq!(body.unwrap(), b"a\r\n.\r\nb\r\n.\r\nc\r\n");
    }

    #[test]
    fn limits() {
        let long = vec![b'x'; 150];
        let mut line = long.clone();
        line.extend_from_slice(b"\r\n");
        let (ended, body) = data(&[&line, b".\r\n"]);
        assert!(ended);
        assert_eq!(body, Err(BodyProblem::LineTooLong));
        // A too-long line that ended in a bare LF: the next "." is content.
        let mut b = BodyBuilder::new(1000, 100);
        b.line_too_long(false);
        assert!(!b.push_data_line(b".\r\n"));
        assert!(b.push_data_line(b".\r\n"));
        let mut b = BodyBuilder::new(10, 100);
        assert!(!b.push_data_line(b"0123456789\r\n"));
        assert!(b.push_data_line(b".\r\n"));
        assert_eq!(b.finish_data(), Err(BodyProblem::TooBig));
    }

    #[test]
    fn chunks_are_normalized_across_boundaries() {
        let mut b = BodyBuilder::new(1000, 100);
        b.push_chunk(b"a\r");
        b.push_chunk(b"\nb\nc");
        assert_eq!(b.finish_chunks().unwrap(), b"a\r\nb\r\nc\r\n");
        let mut b = BodyBuilder::new(1000, 10);
        b.push_chunk(b"short\r\n0123456789\r\n");
        assert_eq!(b.finish_chunks(), Err(BodyProblem::LineTooLong));
        let mut b = BodyBuilder::new(4, 100);
        b.push_chunk(b"abc");
        b.push_chunk(b"de");
        assert_eq!(b.finish_chunks(), Err(BodyProblem::TooBig));
    }
}
