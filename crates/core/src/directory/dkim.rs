//! DKIM signing keys of the accepted domains (RFC 6376; Ed25519 keys per
//! RFC 8463): every message that leaves for another domain is signed with
//! the domain's signing keys, one of each algorithm, so a receiver that
//! knows Ed25519 and one that only knows RSA both find a signature they
//! check. Keys live in the shared store (every node signs alike).
//!
//! Rotation adds a new pair and stops the old one signing; the old one
//! stays published (the receivers of mail in flight still look it up) until
//! it is removed. Keys are made outside `core` (cryptography is the
//! `mailroom-mailauth` crate's); here they are kept, listed and retired, by
//! admins.

use mailroom_types::{DomainName, Secret};

use super::{Actor, Directory};
use crate::error::{CoreError, CoreResult};

/// A DKIM signature algorithm.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DkimAlgorithm {
    /// `ed25519-sha256` (RFC 8463).
    Ed25519,
    /// `rsa-sha256`, 2048 bits.
    Rsa,
}

impl DkimAlgorithm {
    /// The `k=` tag of its DNS record.
    pub fn as_str(self) -> &'static str {
        match self {
            DkimAlgorithm::Ed25519 => "ed25519",
            DkimAlgorithm::Rsa => "rsa",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "ed25519" => Some(DkimAlgorithm::Ed25519),
            "rsa" => Some(DkimAlgorithm::Rsa),
            _ => None,
        }
    }
}

/// A key of a domain.
#[derive(Clone, Debug)]
pub struct DkimKey {
    pub domain: DomainName,
    /// The `s=` of its signatures: its record is `SELECTOR._domainkey.DOMAIN`.
    pub selector: String,
    pub algorithm: DkimAlgorithm,
    /// DER: PKCS#8 for Ed25519, PKCS#1 for RSA. Never logged (`Secret`).
    pub private_key: Secret<Vec<u8>>,
    /// The `p=` of its DNS record (base64).
    pub public_key: String,
    /// Unix seconds.
    pub created: i64,
    /// Signs outgoing mail now (`false`: rotated out, still published).
    pub signing: bool,
}

/// A key made to be added.
#[derive(Clone, Debug)]
pub struct NewDkimKey {
    pub selector: String,
    pub algorithm: DkimAlgorithm,
    pub private_key: Secret<Vec<u8>>,
    pub public_key: String,
}

impl NewDkimKey {
    /// The key as `domain` holds it once added, signing, made at `created`
    /// (Unix seconds).
    pub fn into_key(self, domain: DomainName, created: i64) -> DkimKey {
        DkimKey {
            domain,
            selector: self.selector,
            algorithm: self.algorithm,
            private_key: self.private_key,
            public_key: self.public_key,
            created,
            signing: true,
        }
    }
}

/// A selector: letters, digits and hyphens, as a DNS label (RFC 6376 §3.1).
fn valid_selector(selector: &str) -> bool {
    (1..=63).contains(&selector.len())
        && selector.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !selector.starts_with('-')
}

impl Directory {
    /// The keys of `domain`, signing ones first, newest first. Private
    /// keys included: admins and the system only.
    pub async fn dkim_keys(&self, actor: &Actor, domain: &DomainName) -> CoreResult<Vec<DkimKey>> {
        self.require_admin(actor).await?;
        Ok(self.store.dkim_keys(domain).await?)
    }

    /// Adds `keys` to an accepted domain as its signing keys; those that
    /// signed before stop signing and stay published. With `only_if_none`,
    /// nothing happens when the domain has signing keys already (two
    /// processes making keys for a domain at once keep one pair): `false`.
    pub async fn add_dkim_keys(
        &self,
        actor: &Actor,
        domain: &DomainName,
        keys: Vec<NewDkimKey>,
        only_if_none: bool,
    ) -> CoreResult<bool> {
        self.require_admin(actor).await?;
        if !self.is_accepted_domain(domain).await? {
            return Err(CoreError::Invalid(format!(
                "{domain} isn't an accepted domain: add it first with 'mailroom domain add {domain}'"
            )));
        }
        if let Some(bad) = keys.iter().find(|k| !valid_selector(&k.selector)) {
            return Err(CoreError::Invalid(format!(
                "\"{}\" can't be a DKIM selector: use letters, digits and hyphens (at most 63).",
                bad.selector
            )));
        }
        Ok(self.store.add_dkim_keys(domain, keys, only_if_none).await?)
    }

    /// Removes a key that no longer signs (its DNS record can go too).
    pub async fn remove_dkim_key(
        &self,
        actor: &Actor,
        domain: &DomainName,
        selector: &str,
    ) -> CoreResult<()> {
        self.require_admin(actor).await?;
        let keys = self.store.dkim_keys(domain).await?;
        match keys.iter().find(|k| k.selector == selector) {
            None => {
                Err(CoreError::Invalid(format!("{domain} has no DKIM key with the selector \"{selector}\".")))
            }
            Some(key) if key.signing => Err(CoreError::Invalid(format!(
                "The key \"{selector}\" still signs {domain}'s mail: rotate first ('mailroom domain dkim rotate {domain}'), then remove it once its record has been published a while."
            ))),
            Some(_) => {
                self.store.remove_dkim_key(domain, selector).await?;
                Ok(())
            }
        }
    }
}
