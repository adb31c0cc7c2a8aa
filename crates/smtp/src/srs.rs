//! The Sender Rewriting Scheme for forwarded mail: a message forwarded to
//! another domain leaves with an envelope sender of ours, so the original
//! sender's SPF doesn't fail at the destination, yet a bounce can still be
//! routed back: `SRS0=HHHH=TT=domain=local@our.domain`, where TT is the day
//! (base32, mod 1024) and HHHH a keyed hash of TT, domain and local part.

use mailroom_types::{DomainName, EmailAddress};
use sha2::{Digest, Sha256};

const BASE32: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";

fn hash(secret: &[u8], parts: &[&str]) -> String {
    let mut digest = Sha256::new();
    digest.update(secret);
    for part in parts {
        digest.update((part.len() as u32).to_be_bytes());
        digest.update(part.to_ascii_lowercase().as_bytes());
    }
    digest.finalize().iter().take(4).map(|b| BASE32[(b & 31) as usize] as char).collect()
}

/// `original` rewritten to send from `domain` on `day` (days since 1970).
pub fn rewrite(
    original: &EmailAddress,
    domain: &DomainName,
    secret: &[u8],
    day: i64,
) -> Option<EmailAddress> {
    let day = day.rem_euclid(1024) as usize;
    let tt: String = [BASE32[day >> 5] as char, BASE32[day & 31] as char].iter().collect();
    let (local, host) = (original.local_part(), original.domain().as_str());
    let h = hash(secret, &[&tt, host, local]);
    EmailAddress::parse(&format!("SRS0={h}={tt}={host}={local}@{domain}")).ok()
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
    }
}
