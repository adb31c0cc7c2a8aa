//! Reading the HTTP/1.x answers of the two services the SMTP side asks
//! over HTTP (rspamd, and other domains' MTA-STS policies): the whole
//! answer has been read (bounded by the caller) and the connection closed;
//! this splits it and refuses one that is cut short, so a body missing its
//! end (a connection cut mid-answer) is never taken for the whole.

/// A complete answer: its status and its body.
#[derive(Debug, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub body: Vec<u8>,
    /// The body's end was declared (a length, or chunks), not taken from
    /// where the connection closed.
    pub framed: bool,
}

/// Splits `answer` into status and body, checking the body against the
/// `Content-Length` or the chunked framing (RFC 9112 §6.3) when given.
pub fn parse(answer: &[u8]) -> Result<Answer, String> {
    let split = answer.windows(4).position(|w| w == b"\r\n\r\n").ok_or("the answer has no end of header")?;
    let head = String::from_utf8_lossy(&answer[..split]);
    let mut lines = head.lines();
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse::<u16>().ok())
        .filter(|_| status_line.starts_with("HTTP/1."))
        .ok_or_else(|| format!("the answer doesn't start as HTTP does: {status_line:?}"))?;
    let mut length = None;
    let mut chunked = false;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else { continue };
        let (name, value) = (name.trim().to_ascii_lowercase(), value.trim());
        match name.as_str() {
            "content-length" => {
                length = Some(value.parse::<usize>().map_err(|_| format!("a Content-Length of {value:?}"))?)
            }
            "transfer-encoding" => chunked = value.to_ascii_lowercase().contains("chunked"),
            _ => {}
        }
    }
    let body = &answer[split + 4..];
    let body = if chunked {
        dechunk(body).ok_or("a chunked answer cut short")?
    } else if let Some(length) = length {
        if body.len() < length {
            return Err(format!("the answer was cut short ({} of {length} octets)", body.len()));
        }
        body[..length].to_vec()
    } else {
        // Neither: the body ends where the connection did (HTTP/1.0).
        body.to_vec()
    };
    Ok(Answer { status, body, framed: chunked || length.is_some() })
}

/// A chunked body's data, or `None` when its last chunk is missing.
fn dechunk(mut body: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = body.windows(2).position(|w| w == b"\r\n")?;
        let size_text = std::str::from_utf8(&body[..line_end]).ok()?;
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        body = &body[line_end + 2..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(body.get(..size)?);
        body = body.get(size + 2..)?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_answers_and_cut_ones() {
        let ok = parse(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello").expect("an answer");
        assert_eq!(ok, Answer { status: 200, body: b"hello".to_vec(), framed: true });
        assert!(
            parse(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nhello").unwrap_err().contains("cut short")
        );
        let chunked =
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nversi\r\n3\r\non:\r\n0\r\n\r\n";
        assert_eq!(parse(chunked).expect("chunked").body, b"version:");
        assert!(parse(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nversi\r\n").is_err());
        let unframed = parse(b"HTTP/1.0 200 OK\r\n\r\nto the end").expect("1.0");
        assert_eq!((unframed.body.as_slice(), unframed.framed), (&b"to the end"[..], false));
        assert_eq!(parse(b"HTTP/1.1 301 Moved\r\nLocation: x\r\n\r\n").expect("301").status, 301);
        assert!(parse(b"SMTP 200\r\n\r\n").is_err());
        assert!(parse(b"HTTP/1.1 200 OK\r\n").is_err());
    }
}
