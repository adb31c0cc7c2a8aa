//! DKIM for the accepted domains (RFC 6376; Ed25519 per RFC 8463): their
//! keys made, the DNS records that publish them written, and outgoing mail
//! signed. `core` keeps the keys (`Directory::dkim_keys`); the cryptography
//! is here (mail-auth, on ring; RSA keys made by the `rsa` crate).
//!
//! Every domain signs with a pair: an Ed25519 key and an RSA-2048 key, so a
//! receiver that doesn't know Ed25519 (many don't yet) still finds an RSA
//! signature it checks (RFC 8463 §4: sign with both).

use chrono::{DateTime, Utc};
use mail_auth::common::crypto::{Ed25519Key, RsaKey, Sha256};
use mail_auth::common::headers::HeaderWriter;
use mail_auth::dkim::DkimSigner;
use mail_auth::dkim::generate::DkimKeyPair;
use mailroom_core::CoreResult;
use mailroom_core::directory::{Actor, Directory, DkimAlgorithm, DkimKey, NewDkimKey};
use mailroom_types::{DomainName, EmailAddress, Secret};
use rustls_pki_types::{PrivateKeyDer, PrivatePkcs1KeyDer};

/// RSA keys' size: RFC 8301 §3.2 wants at least 1024, and 2048 is what
/// receivers expect now; more doesn't fit a DNS TXT string pair easily.
const RSA_BITS: usize = 2048;

/// The header fields signed, when present (RFC 6376 §5.4.1's list, less
/// the ones that routinely change in transit).
const SIGNED: [&str; 14] = [
    "From",
    "Sender",
    "Reply-To",
    "Subject",
    "Date",
    "Message-ID",
    "To",
    "Cc",
    "MIME-Version",
    "Content-Type",
    "Content-Transfer-Encoding",
    "In-Reply-To",
    "References",
    "List-Id",
];

#[derive(Debug, thiserror::Error)]
pub enum DkimError {
    #[error("a DKIM key couldn't be made: {0}")]
    Generate(String),
}

/// A new signing pair for a domain whose keys have `taken` selectors:
/// `mrYYYYMMDDe` (Ed25519) and `mrYYYYMMDDr` (RSA), a number added when a
/// day has more than one rotation. Making the RSA key takes a moment:
/// callers on an async runtime use [`ensure_keys`] or a blocking task.
pub fn generate(taken: &[String]) -> Result<Vec<NewDkimKey>, DkimError> {
    generate_at(taken, Utc::now())
}

/// [`generate`], dated `now` (its selectors name the day).
pub fn generate_at(taken: &[String], now: DateTime<Utc>) -> Result<Vec<NewDkimKey>, DkimError> {
    let day = now.format("%Y%m%d").to_string();
    let mut n = 0;
    let (ed, rsa) = loop {
        let suffix = if n == 0 { String::new() } else { format!("-{n}") };
        let pair = (format!("mr{day}e{suffix}"), format!("mr{day}r{suffix}"));
        if !taken.contains(&pair.0) && !taken.contains(&pair.1) {
            break pair;
        }
        n += 1;
    };
    let ed_pair = DkimKeyPair::generate_ed25519().map_err(|e| DkimError::Generate(e.to_string()))?;
    let rsa_pair = DkimKeyPair::generate_rsa(RSA_BITS).map_err(|e| DkimError::Generate(e.to_string()))?;
    let (ed_private, ed_public) = ed_pair.into_inner();
    let (rsa_private, rsa_public) = rsa_pair.into_inner();
    Ok(vec![
        NewDkimKey {
            selector: ed,
            algorithm: DkimAlgorithm::Ed25519,
            private_key: Secret::new(ed_private),
            public_key: mailroom_mime::encode_base64(&ed_public),
        },
        NewDkimKey {
            selector: rsa,
            algorithm: DkimAlgorithm::Rsa,
            private_key: Secret::new(rsa_private),
            // RFC 6376 §3.6.1: an RSA `p=` is a SubjectPublicKeyInfo.
            public_key: mailroom_mime::encode_base64(&rsa_spki(&rsa_public)),
        },
    ])
}

/// The domain's signing keys, made first if it has none (a pair, added
/// only if no other process added one meanwhile).
pub async fn ensure_keys(directory: &Directory, domain: &DomainName) -> CoreResult<Vec<DkimKey>> {
    let keys = directory.dkim_keys(&Actor::System, domain).await?;
    if keys.iter().any(|k| k.signing) {
        return Ok(keys);
    }
    let taken: Vec<String> = keys.iter().map(|k| k.selector.clone()).collect();
    let made = tokio::task::spawn_blocking(move || generate(&taken))
        .await
        .map_err(|_| mailroom_core::CoreError::Storage)?
        .map_err(|e| mailroom_core::CoreError::Invalid(e.to_string()))?;
    directory.add_dkim_keys(&Actor::System, domain, made, true).await?;
    tracing::info!(domain = %domain, "made DKIM keys; publish them with 'mailroom domain dns'");
    directory.dkim_keys(&Actor::System, domain).await
}

/// `message` signed by the domain of its `From:`, or else of its envelope
/// sender (a forward's SRS address, a notice's), when that is one of ours
/// — keys made first if the domain has none; as it is otherwise, or when
/// its keys can't be read (logged: unsigned mail still goes).
pub async fn sign_outgoing(
    directory: &Directory,
    message: Vec<u8>,
    envelope_from: Option<&EmailAddress>,
) -> Vec<u8> {
    let summary = mailroom_mime::summarize(&message);
    let header_domain = summary
        .envelope
        .from
        .first()
        .and_then(|a| a.host.as_deref())
        .and_then(|host| DomainName::parse(host).ok());
    let mut domain = None;
    for candidate in header_domain.into_iter().chain(envelope_from.map(|a| a.domain().clone())) {
        if directory.is_accepted_domain(&candidate).await.unwrap_or(false) {
            domain = Some(candidate);
            break;
        }
    }
    let Some(domain) = domain else { return message };
    let keys = match ensure_keys(directory, &domain).await {
        Ok(keys) => keys,
        Err(err) => {
            tracing::warn!(domain = %domain, error = %err, "no DKIM keys; sending unsigned");
            return message;
        }
    };
    // An RSA-2048 signature takes about half a millisecond of CPU: made
    // off the async workers, so sessions aren't held up by it.
    let shared = std::sync::Arc::new(message);
    let reading = shared.clone();
    let fields = tokio::task::spawn_blocking(move || sign(&reading, &keys)).await;
    // The task has ended (with its share of the message), so this is the
    // only one left.
    let message = std::sync::Arc::try_unwrap(shared).unwrap_or_else(|shared| (*shared).clone());
    match fields {
        Ok(mut signed) if !signed.is_empty() => {
            signed.extend_from_slice(&message);
            signed
        }
        Ok(_) => message,
        Err(err) => {
            tracing::error!(domain = %domain, error = %err, "DKIM signing failed; sending unsigned");
            message
        }
    }
}

/// The record's name: `SELECTOR._domainkey.DOMAIN.` (RFC 6376 §3.6.2.1).
pub fn record_name(key: &DkimKey) -> String {
    format!("{}._domainkey.{}.", key.selector, key.domain.as_str().trim_end_matches('.'))
}

/// The record's text (RFC 6376 §3.6.1; `k=ed25519` per RFC 8463).
pub fn record_text(key: &DkimKey) -> String {
    format!("v=DKIM1; k={}; p={}", key.algorithm.as_str(), key.public_key)
}

/// Zone-file lines for `keys`: `NAME TTL IN TXT "…" "…"`, the text cut into
/// strings of at most 255 octets (RFC 1035 §3.3.14; an RSA key is longer).
pub fn zone_lines(keys: &[DkimKey], ttl: u32) -> Vec<String> {
    keys.iter()
        .map(|key| {
            let text = record_text(key);
            let strings: Vec<String> =
                text.as_bytes().chunks(255).map(|c| format!("\"{}\"", String::from_utf8_lossy(c))).collect();
            format!("{} {ttl} IN TXT {}", record_name(key), strings.join(" "))
        })
        .collect()
}

/// `DKIM-Signature:` fields for `message`, one per signing key of `keys`
/// (to be put before the message's header). A key that can't sign is
/// logged and left out: the message goes unsigned by it rather than not
/// at all.
pub fn sign(message: &[u8], keys: &[DkimKey]) -> Vec<u8> {
    let mut out = Vec::new();
    for key in keys.iter().filter(|k| k.signing) {
        let domain = key.domain.as_str().trim_end_matches('.');
        let signature = match key.algorithm {
            DkimAlgorithm::Ed25519 => Ed25519Key::from_pkcs8_der(key.private_key.expose()).and_then(|k| {
                DkimSigner::from_key(k).domain(domain).selector(&key.selector).headers(SIGNED).sign(message)
            }),
            DkimAlgorithm::Rsa => {
                let der = PrivateKeyDer::Pkcs1(PrivatePkcs1KeyDer::from(key.private_key.expose().clone()));
                RsaKey::<Sha256>::from_key_der(der).and_then(|k| {
                    DkimSigner::from_key(k)
                        .domain(domain)
                        .selector(&key.selector)
                        .headers(SIGNED)
                        .sign(message)
                })
            }
        };
        match signature {
            Ok(signature) => out.extend_from_slice(signature.to_header().as_bytes()),
            Err(err) => {
                tracing::warn!(domain, selector = %key.selector, error = %err, "a DKIM signature couldn't be made")
            }
        }
    }
    out
}

/// A PKCS#1 RSAPublicKey wrapped as a SubjectPublicKeyInfo (RFC 5280
/// §4.1.2.7, algorithm rsaEncryption with NULL parameters), in DER.
fn rsa_spki(pkcs1: &[u8]) -> Vec<u8> {
    const RSA_ALGORITHM: [u8; 15] =
        [0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00];
    let mut bits = vec![0x00]; // no unused bits
    bits.extend_from_slice(pkcs1);
    let bit_string = der(0x03, &bits);
    let mut body = RSA_ALGORITHM.to_vec();
    body.extend_from_slice(&bit_string);
    der(0x30, &body)
}

/// A DER element: tag, length (short or long form), content.
fn der(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len.to_be_bytes().into_iter().skip_while(|b| *b == 0).collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend_from_slice(&bytes);
    }
    out.extend_from_slice(content);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys_of(domain: &str, made: Vec<NewDkimKey>) -> Vec<DkimKey> {
        let domain = DomainName::parse(domain).expect("domain");
        made.into_iter().map(|k| k.into_key(domain.clone(), 0)).collect()
    }

    #[test]
    fn a_pair_is_made_signs_and_is_published() {
        let now = DateTime::parse_from_rfc3339("2026-12-06T10:00:00Z").expect("date").with_timezone(&Utc);
        let made = generate_at(&["mr20261206e".into()], now).expect("keys");
        assert_eq!(made[0].selector, "mr20261206e-1", "a selector taken today gets a number");
        assert_eq!(made[1].selector, "mr20261206r-1");
        let keys = keys_of("contoso.com", made);
        let zone = zone_lines(&keys, 3600);
        assert!(
            zone[0].starts_with("mr20261206e-1._domainkey.contoso.com. 3600 IN TXT \"v=DKIM1; k=ed25519; p=")
        );
        assert!(zone[1].contains("\" \""), "an RSA record is split into strings: {}", zone[1]);
        assert!(zone[1].split('"').all(|s| s.len() <= 255));
        // SubjectPublicKeyInfo: RSA keys' records start MIIBIjAN (the SPKI header).
        assert!(keys[1].public_key.starts_with("MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8A"), "{}", keys[1].public_key);
        let message = b"From: Info <info@contoso.com>\r\nTo: c@fabrikam.com\r\nSubject: Hi\r\nDate: Sun, 06 Dec 2026 10:00:00 +0000\r\n\r\nHello.\r\n";
        let signed = String::from_utf8(sign(message, &keys)).expect("ascii");
        assert_eq!(signed.matches("DKIM-Signature:").count(), 2, "{signed}");
        assert!(signed.contains("a=ed25519-sha256") && signed.contains("a=rsa-sha256"), "{signed}");
        assert!(signed.contains("d=contoso.com") && signed.contains("s=mr20261206r-1"), "{signed}");
        // A key that no longer signs signs nothing.
        let retired: Vec<DkimKey> = keys.into_iter().map(|k| DkimKey { signing: false, ..k }).collect();
        assert!(sign(message, &retired).is_empty());
    }

    #[test]
    fn der_lengths() {
        assert_eq!(der(0x04, &[1, 2]), vec![0x04, 2, 1, 2]);
        assert_eq!(&der(0x04, &[0; 300])[..4], &[0x04, 0x82, 0x01, 0x2c]);
    }
}
