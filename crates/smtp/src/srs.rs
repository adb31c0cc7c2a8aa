//! The Sender Rewriting Scheme for forwarded mail: a message forwarded to
//! another domain leaves with an envelope sender of ours, so the original
//! sender's SPF doesn't fail at the destination, yet a bounce can still be
//! routed back: `SRS0=HHHH=TT=domain=local@our.domain`, where TT is the day
//! (base32, mod 1024) and HHHH a keyed hash of TT, domain and local part.

use mailroom_types::{DomainName, EmailAddress};
use sha2::{Digest, Sha256};

const BASE32: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";

/// Hash characters kept: 16 × 5 bits, so no one guesses a valid address
/// (classic SRS keeps 4, which can be found online in minutes).
const HASH_LEN: usize = 16;

fn hash(secret: &[u8], parts: &[&str]) -> String {
    let mut digest = Sha256::new();
    digest.update(secret);
    for part in parts {
        digest.update((part.len() as u32).to_be_bytes());
        digest.update(part.to_ascii_lowercase().as_bytes());
    }
    digest.finalize().iter().take(HASH_LEN).map(|b| BASE32[(b & 31) as usize] as char).collect()
}

/// `original` rewritten to send from `domain` on `day` (days since 1970).
pub fn rewrite(
    original: &EmailAddress,
    domain: &DomainName,
    secret: &[u8],
    day: i64,
) -> Option<EmailAddress> {
    if secret.is_empty() {
        return None;
    }
    let day = day.rem_euclid(1024) as usize;
    let tt: String = [BASE32[day >> 5] as char, BASE32[day & 31] as char].iter().collect();
    let (local, host) = (original.local_part(), original.domain().as_str());
    let h = hash(secret, &[&tt, host, local]);
    let rewritten = format!("SRS0={h}={tt}={host}={local}");
    // RFC 5321 §4.5.3.1.1: a local part has at most 64 octets.
    if rewritten.len() > 64 {
        return None;
    }
    EmailAddress::parse(&format!("{rewritten}@{domain}")).ok()
}

/// How long a rewritten address stays valid, in days.
const VALID_DAYS: i64 = 21;

/// The original address an SRS0 local part stands for, if its hash checks
/// out and it is at most [`VALID_DAYS`] old: where a bounce of forwarded
/// mail goes back to.
pub fn reverse(local_part: &str, secret: &[u8], today: i64) -> Option<EmailAddress> {
    if secret.is_empty() {
        return None;
    }
    let rest = local_part.strip_prefix("SRS0=").or_else(|| local_part.strip_prefix("srs0="))?;
    let mut parts = rest.splitn(4, '=');
    let (h, tt, host, local) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    if hash(secret, &[tt, host, local]) != h.to_ascii_lowercase() {
        return None;
    }
    let value = |c: u8| BASE32.iter().position(|&b| b == c.to_ascii_lowercase());
    let [a, b] = tt.as_bytes() else { return None };
    let stamp = (value(*a)? << 5 | value(*b)?) as i64;
    let age = (today.rem_euclid(1024) - stamp).rem_euclid(1024);
    if age > VALID_DAYS {
        return None;
    }
    EmailAddress::parse(&format!("{local}@{host}")).ok()
}

/// The value of the loop marker a forwarded copy carries: the mailbox and
/// a keyed hash of it, so a marker can't be forged from outside.
pub fn forwarded_by(mailbox: &EmailAddress, secret: &[u8]) -> String {
    let address = mailbox.to_string().to_ascii_lowercase();
    format!("<{address}> h={}", hash(secret, &["forwarded-by", &address]))
}

/// The mailboxes (lower case) named by the markers of `values` whose hash
/// checks out; the others are ignored.
pub fn verified_forwarded_by<'a>(
    values: impl IntoIterator<Item = &'a str>,
    secret: &[u8],
) -> std::collections::BTreeSet<String> {
    if secret.is_empty() {
        return Default::default();
    }
    values
        .into_iter()
        .filter_map(|value| {
            let (address, tag) = value.trim().split_once(' ')?;
            let address = address.trim_matches(['<', '>']).to_ascii_lowercase();
            let tag = tag.trim().strip_prefix("h=")?;
            (tag == hash(secret, &["forwarded-by", &address])).then_some(address)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewritten_addresses_name_the_original_and_depend_on_the_key() {
        let original = EmailAddress::parse("ann@fabrikam.example").unwrap();
        let ours = DomainName::parse("contoso.com").unwrap();
        let a = rewrite(&original, &ours, b"key one", 20_000).unwrap().to_string();
        let b = rewrite(&original, &ours, b"key two", 20_000).unwrap().to_string();
        assert!(a.starts_with("SRS0=") && a.ends_with("=fabrikam.example=ann@contoso.com"), "{a}");
        assert_ne!(a, b, "the hash is keyed");
        assert_eq!(a.split('=').nth(2), Some("ra"), "day 20000 is 544 mod 1024: 17, 0 in base32: {a}");
        // Back again, within three weeks; not with another key or later.
        let local = a.split('@').next().unwrap();
        assert_eq!(reverse(local, b"key one", 20_000), Some(original.clone()));
        assert_eq!(reverse(local, b"key one", 20_010), Some(original.clone()));
        assert_eq!(reverse(local, b"key two", 20_000), None);
        assert_eq!(reverse(local, b"key one", 20_030), None, "too old");
        assert_eq!(
            reverse("SRS0=zzzzzzzzzzzzzzzz=ra=fabrikam.example=ann", b"key one", 20_000),
            None,
            "forged"
        );
        assert_eq!(rewrite(&original, &ours, b"", 20_000), None, "no key, no SRS");
        let long = EmailAddress::parse(&format!("{}@fabrikam.example", "x".repeat(40))).unwrap();
        assert_eq!(rewrite(&long, &ours, b"key one", 20_000), None, "too long for a local part");
        let info = EmailAddress::parse("Info@contoso.com").unwrap();
        let marker = forwarded_by(&info, b"key one");
        assert_eq!(
            verified_forwarded_by([marker.as_str()], b"key one").into_iter().collect::<Vec<_>>(),
            ["info@contoso.com"]
        );
        assert!(verified_forwarded_by([marker.as_str()], b"key two").is_empty(), "another key");
        assert!(
            verified_forwarded_by(["<info@contoso.com>", "<info@contoso.com> h=abcd"], b"key one").is_empty(),
            "forged"
        );
    }
}
