//! Base64 (RFC 4648 §4), written once for every crate: MIME bodies and
//! encoded words, SASL exchanges (SMTP AUTH, IMAP SCRAM) and SCRAM's stored
//! verifiers. Three doors, for three kinds of reader: [`encode`] (with
//! padding), [`decode_strict`] for credentials, which are refused rather
//! than guessed at, and [`decode_lenient`] for mail, which RFC 2045 §6.8
//! asks readers to take as it comes.

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn value(b: u8) -> Option<u32> {
    Some(match b {
        b'A'..=b'Z' => b - b'A',
        b'a'..=b'z' => b - b'a' + 26,
        b'0'..=b'9' => b - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => return None,
    } as u32)
}

/// Base64 with padding.
pub fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, &b)| n | (u32::from(b) << (16 - 8 * i)));
        for i in 0..4 {
            out.push(if i <= chunk.len() {
                ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char
            } else {
                '='
            });
        }
    }
    out
}

/// Strict base64 (padding optional): `None` at the first character outside
/// the alphabet.
pub fn decode_strict(text: &str) -> Option<Vec<u8>> {
    let text = text.trim_end_matches('=');
    if text.bytes().any(|b| value(b).is_none()) {
        return None;
    }
    Some(decode_lenient(text.as_bytes()))
}

/// Lenient base64 (RFC 2045 §6.8): characters outside the alphabet are
/// skipped, padding ends the data.
pub fn decode_lenient(content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() * 3 / 4);
    let (mut bits, mut count) = (0u32, 0u32);
    for &b in content {
        if b == b'=' {
            break;
        }
        let Some(value) = value(b) else { continue };
        bits = (bits << 6) | value;
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
            bits &= (1 << count) - 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn round_trips_and_refusals() {
        assert_eq!(decode_lenient(b"aGV!s bG8\r\n*"), b"hello");
        assert_eq!(decode_strict("AGFsaWNlAHNlY3JldA==").unwrap(), b"\0alice\0secret");
        assert_eq!(decode_strict("AGFsaWNlAHNlY3JldA").unwrap(), b"\0alice\0secret");
        assert_eq!(decode_strict("not base64!"), None);
        assert_eq!(decode_strict("").unwrap(), b"");
        for text in [&b""[..], b"a", b"ab", b"abc", b"abcd", &[0, 255, 128]] {
            assert_eq!(decode_strict(&encode(text)).unwrap(), text);
        }
        assert_eq!(encode("Grüße".as_bytes()), "R3LDvMOfZQ==");
    }
}
