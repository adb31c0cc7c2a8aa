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
    let tt = day_stamp(day);
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
    if !fresh(tt, today) {
        return None;
    }
    EmailAddress::parse(&format!("{local}@{host}")).ok()
}

/// The day stamp of SRS addresses and loop markers: `day` (days since 1970)
/// mod 1024 in two base32 characters.
fn day_stamp(day: i64) -> String {
    let day = day.rem_euclid(1024) as usize;
    [BASE32[day >> 5] as char, BASE32[day & 31] as char].iter().collect()
}

/// Whether a day stamp is at most [`VALID_DAYS`] old on `today`.
fn fresh(stamp: &str, today: i64) -> bool {
    let value = |c: u8| BASE32.iter().position(|&b| b == c.to_ascii_lowercase());
    let [a, b] = stamp.as_bytes() else { return false };
    let (Some(a), Some(b)) = (value(*a), value(*b)) else { return false };
    let age = (today.rem_euclid(1024) - (a << 5 | b) as i64).rem_euclid(1024);
    age <= VALID_DAYS
}

/// The value of the loop marker a forwarded copy carries: the mailbox, the
/// day (days since 1970, whole: unlike SRS's two characters it never wraps)
/// and a keyed hash of both — so a marker can't be forged from outside, and
/// one seen by an outsider stops working after three weeks.
pub fn forwarded_by(mailbox: &EmailAddress, secret: &[u8], day: i64) -> String {
    let address = mailbox.to_string().to_ascii_lowercase();
    format!("<{address}> t={day} h={}", hash(secret, &["forwarded-by", &address, &day.to_string()]))
}

/// The mailboxes (lower case) named by the markers of `values` whose hash
/// and age check out on `today`; the others are ignored.
pub fn verified_forwarded_by<'a>(
    values: impl IntoIterator<Item = &'a str>,
    secret: &[u8],
    today: i64,
) -> std::collections::BTreeSet<String> {
    if secret.is_empty() {
        return Default::default();
    }
    values
        .into_iter()
        .filter_map(|value| {
            let mut parts = value.split_whitespace();
            let address = parts.next()?.trim_matches(['<', '>']).to_ascii_lowercase();
            let day: i64 = parts.next()?.strip_prefix("t=")?.parse().ok()?;
            let tag = parts.next()?.strip_prefix("h=")?;
            let fresh = (0..=VALID_DAYS).contains(&(today - day));
            (fresh && tag == hash(secret, &["forwarded-by", &address, &day.to_string()])).then_some(address)
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
        let marker = forwarded_by(&info, b"key one", 20_000);
        assert_eq!(
            verified_forwarded_by([marker.as_str()], b"key one", 20_010).into_iter().collect::<Vec<_>>(),
            ["info@contoso.com"]
        );
        assert!(verified_forwarded_by([marker.as_str()], b"key two", 20_000).is_empty(), "another key");
        assert!(verified_forwarded_by([marker.as_str()], b"key one", 20_030).is_empty(), "too old to replay");
        assert!(
            verified_forwarded_by([marker.as_str()], b"key one", 20_000 + 1024).is_empty(),
            "no wrap-around"
        );
        let restamped = marker.replace(" t=20000 ", " t=20010 ");
        assert!(
            verified_forwarded_by([restamped.as_str()], b"key one", 20_010).is_empty(),
            "the day is signed"
        );
        assert!(
            verified_forwarded_by(
                ["<info@contoso.com>", "<info@contoso.com> t=20000 h=abcd"],
                b"key one",
                20_000
            )
            .is_empty(),
            "forged"
        );
    }
}
