//! Content-Transfer-Encoding undone (RFC 2045 §6), for IMAP BINARY (RFC
//! 3516). Decoding is lenient, as RFC 2045 asks of readers: base64 ignores
//! characters outside its alphabet (§6.8), quoted-printable keeps an `=`
//! that starts no valid escape as it is (§6.7 note 1). Only an encoding
//! this server doesn't know is an error.

/// A Content-Transfer-Encoding this server can't undo (`UNKNOWN-CTE`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownEncoding(pub String);

/// `content` with `encoding` (as the summary keeps it, any case) undone;
/// identity encodings (7BIT, 8BIT, BINARY, none) return it as it is.
pub fn decode_transfer_encoding(encoding: &str, content: &[u8]) -> Result<Vec<u8>, UnknownEncoding> {
    match encoding.to_ascii_uppercase().as_str() {
        "7BIT" | "8BIT" | "BINARY" | "" => Ok(content.to_vec()),
        "BASE64" => Ok(mailroom_types::base64::decode_lenient(content)),
        "QUOTED-PRINTABLE" => Ok(quoted_printable(content)),
        other => Err(UnknownEncoding(other.to_string())),
    }
}

/// Base64 with padding (RFC 4648 §4).
pub use mailroom_types::base64::encode as encode_base64;

/// Strict base64 (RFC 4648 §4; padding optional): `None` at the first
/// character outside the alphabet — for credentials (SMTP AUTH), which are
/// refused rather than guessed at.
pub use mailroom_types::base64::decode_strict as decode_base64_strict;

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

fn quoted_printable(content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len());
    let mut lines = content.split(|&b| b == b'\n').peekable();
    while let Some(raw) = lines.next() {
        let line = raw.strip_suffix(b"\r").unwrap_or(raw);
        // Trailing whitespace is transport padding (§6.7 rule 3).
        let end = line.iter().rposition(|&b| b != b' ' && b != b'\t').map_or(0, |p| p + 1);
        let line = &line[..end];
        let (line, soft_break) = match line.strip_suffix(b"=") {
            Some(rest) => (rest, true),
            None => (line, false),
        };
        let mut i = 0;
        while i < line.len() {
            if line[i] == b'='
                && let (Some(h), Some(l)) =
                    (line.get(i + 1).copied().and_then(hex), line.get(i + 2).copied().and_then(hex))
            {
                out.push(h << 4 | l);
                i += 3;
                continue;
            }
            out.push(line[i]);
            i += 1;
        }
        if !soft_break && lines.peek().is_some() {
            out.extend_from_slice(b"\r\n");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn encodings_are_undone_leniently() {
        assert_eq!(decode_transfer_encoding("BASE64", b"aGVs\r\nbG8A/w==\r\n").unwrap(), b"hello\0\xff");
        assert_eq!(decode_transfer_encoding("base64", b"aGV!s bG8\r\n*").unwrap(), b"hello");
        assert_eq!(
            decode_transfer_encoding("QUOTED-PRINTABLE", b"caf=C3=A9 =\r\nau lait=0D=0A  \r\nend").unwrap(),
            "café au lait\r\n\r\nend".as_bytes()
        );
        assert_eq!(decode_transfer_encoding("quoted-printable", b"5=% off =ZZ=3").unwrap(), b"5=% off =ZZ=3");
        assert_eq!(decode_transfer_encoding("8BIT", b"as is\0").unwrap(), b"as is\0");
        assert_eq!(
            decode_transfer_encoding("X-UUENCODE", b"begin 644 f"),
            Err(UnknownEncoding("X-UUENCODE".into()))
        );
    }
}
