//! Modified UTF-7 mailbox names (RFC 3501 §5.1.3). Names are UTF-8 in the
//! store and for IMAP4rev2 clients (RFC 9051 §5.1); an IMAP4rev1 client
//! sends and reads them in this encoding: printable ASCII as itself, `&` as
//! `&-`, anything else as `&` + base64 of UTF-16 (`,` for `/`) + `-`.

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

/// A UTF-8 name as an IMAP4rev1 client writes it.
pub fn encode(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut pending: Vec<u16> = Vec::new();
    let flush = |pending: &mut Vec<u16>, out: &mut String| {
        if pending.is_empty() {
            return;
        }
        let bytes: Vec<u8> = pending.iter().flat_map(|unit| unit.to_be_bytes()).collect();
        out.push('&');
        for chunk in bytes.chunks(3) {
            let n = chunk.iter().enumerate().fold(0u32, |n, (i, &b)| n | (u32::from(b) << (16 - 8 * i)));
            for i in 0..=chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            }
        }
        out.push('-');
        pending.clear();
    };
    for c in name.chars() {
        if (' '..='~').contains(&c) {
            flush(&mut pending, &mut out);
            if c == '&' {
                out.push_str("&-");
            } else {
                out.push(c);
            }
        } else {
            pending.extend(c.encode_utf16(&mut [0; 2]).iter());
        }
    }
    flush(&mut pending, &mut out);
    out
}

/// A name an IMAP4rev1 client sent, as UTF-8; `None` when it isn't valid
/// modified UTF-7 (the caller then takes it as it came). Only the one
/// spelling RFC 3501 §5.1.3 allows is valid: no empty or adjacent encoded
/// runs, no printable ASCII encoded, no stray bits.
pub fn decode(name: &str) -> Option<String> {
    if !name.contains('&') {
        return Some(name.to_string());
    }
    let mut out = String::with_capacity(name.len());
    let mut rest = name;
    let mut after_run = false;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let end = after.find('-')?;
        let encoded = &after[..end];
        rest = &after[end + 1..];
        if encoded.is_empty() {
            out.push('&');
            after_run = false;
            continue;
        }
        // Two runs with nothing between would have been written as one.
        if at == 0 && after_run {
            return None;
        }
        after_run = true;
        let mut bits = 0u32;
        let mut count = 0;
        let mut bytes = Vec::with_capacity(encoded.len() * 3 / 4);
        for b in encoded.bytes() {
            let value = ALPHABET.iter().position(|&a| a == b)? as u32;
            bits = (bits << 6) | value;
            count += 6;
            if count >= 8 {
                count -= 8;
                bytes.push((bits >> count) as u8);
                bits &= (1 << count) - 1;
            }
        }
        // Leftover bits are fewer than 6 and zero; the bytes whole UTF-16 units.
        if bits != 0 || count >= 6 || bytes.is_empty() || bytes.len() % 2 != 0 {
            return None;
        }
        let units: Vec<u16> = bytes.chunks(2).map(|pair| u16::from_be_bytes([pair[0], pair[1]])).collect();
        if units.iter().any(|&u| (0x20..=0x7e).contains(&u)) {
            return None;
        }
        out.push_str(&String::from_utf16(&units).ok()?);
    }
    out.push_str(rest);
    Some(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn rfc_examples_and_round_trips() {
        // RFC 3501 §5.1.3's example.
        assert_eq!(encode("~peter/mail/台北/日本語"), "~peter/mail/&U,BTFw-/&ZeVnLIqe-");
        assert_eq!(decode("~peter/mail/&U,BTFw-/&ZeVnLIqe-").unwrap(), "~peter/mail/台北/日本語");
        assert_eq!(encode("Entwürfe"), "Entw&APw-rfe");
        assert_eq!(encode("A&B"), "A&-B");
        assert_eq!(decode("A&-B").unwrap(), "A&B");
        for name in ["INBOX", "Shared/info@contoso.com/Sent Items", "Ελληνικά", "emoji 📬 box", "&&", ""]
        {
            assert_eq!(decode(&encode(name)).unwrap(), name);
        }
    }

    proptest::proptest! {
        #[test]
        fn every_name_round_trips(name in "\\PC{0,24}") {
            proptest::prop_assert_eq!(decode(&encode(&name)), Some(name.clone()));
        }
    }

    #[test]
    fn invalid_encodings_are_refused() {
        assert_eq!(decode("A&B"), None, "no closing -");
        assert_eq!(decode("&AP-"), None, "bits left over");
        assert_eq!(decode("&2D3-"), None, "half a UTF-16 unit");
        assert_eq!(decode("&2D0AAA-"), None, "a lone surrogate");
        assert_eq!(decode("&!!-"), None, "not base64");
        assert_eq!(decode("A&A-C"), None, "an empty run");
        assert_eq!(decode("&AGE-"), None, "printable ASCII encoded");
        assert_eq!(decode("&ACo-"), None, "a wildcard encoded");
        assert_eq!(decode("&APw-&APw-"), None, "adjacent runs");
        assert_eq!(decode("&APw-x&APw-").unwrap(), "üxü");
        assert_eq!(decode("&AAA-").unwrap(), "\0", "a control character decodes; CREATE refuses it");
    }
}
