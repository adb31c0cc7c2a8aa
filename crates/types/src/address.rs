//! Email addresses and domain names, validated once at the edge.
//!
//! Addresses compare case-insensitively (SPEC §1: "Address comparison is
//! case-insensitive"), but keep the spelling they were created with for
//! display, as Exchange does (`Sales@contoso.com` stays `Sales@contoso.com`).
//!
//! Accepted syntax is the RFC 5321 §4.1.2 `Dot-string "@" Domain` form with the
//! RFC 6531 §3.3 extension that allows UTF-8 in both parts. Quoted local parts
//! and address literals (`user@[192.0.2.1]`) are refused: no organisation
//! hands them out as mailbox addresses.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};

/// Why a string is not an acceptable address or domain.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    #[error("\"{0}\" is not a valid email address: it has no \"@\"")]
    MissingAt(String),
    #[error("\"{0}\" is not a valid email address: the part before \"@\" is empty")]
    EmptyLocalPart(String),
    #[error("\"{0}\" is not a valid email address: the part before \"@\" is longer than 64 characters")]
    LocalPartTooLong(String),
    #[error(
        "\"{0}\" is not a valid email address: the part before \"@\" may contain letters, digits and !#$%&'*+-/=?^_`{{|}}~ and single dots between them"
    )]
    InvalidLocalPart(String),
    #[error("\"{0}\" is not a valid email address: it is longer than 254 characters")]
    TooLong(String),
    #[error(
        "\"{0}\" is not a valid domain name: use labels of letters, digits and hyphens separated by dots, e.g. contoso.com"
    )]
    InvalidDomain(String),
}

/// A domain name in canonical (lower-case) form, e.g. `contoso.com`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DomainName(String);

impl DomainName {
    /// Parses and lower-cases a domain; a trailing root dot is accepted and dropped.
    pub fn parse(input: &str) -> Result<Self, AddressError> {
        // Lower-case first and validate what will be stored: some letters
        // lower-case to several characters (İ → i + U+0307), and the stored
        // form must parse again.
        let lowered = input.to_lowercase();
        let trimmed = lowered.strip_suffix('.').unwrap_or(&lowered);
        let invalid = || AddressError::InvalidDomain(input.to_string());
        // RFC 1035 §2.3.4: 255 octets including length bytes, so 253 as text.
        if trimmed.is_empty() || trimmed.len() > 253 {
            return Err(invalid());
        }
        for label in trimmed.split('.') {
            if label.is_empty() || label.len() > 63 {
                return Err(invalid());
            }
            if label.starts_with('-') || label.ends_with('-') {
                return Err(invalid());
            }
            // LDH labels (RFC 1035), or U-labels (RFC 6531 allows UTF-8 domains).
            if !label
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || (!c.is_ascii() && c.is_alphanumeric()))
            {
                return Err(invalid());
            }
        }
        Ok(DomainName(trimmed.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DomainName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A validated email address (`local@domain`).
///
/// Equality, ordering and hashing use the case-folded form ([`EmailAddress::key`]);
/// `Display` shows the address as it was written, with the domain lower-cased.
#[derive(Clone)]
pub struct EmailAddress {
    local: String,
    domain: DomainName,
    key: String,
}

impl EmailAddress {
    pub fn parse(input: &str) -> Result<Self, AddressError> {
        let input = input.trim();
        if input.chars().count() > 254 {
            return Err(AddressError::TooLong(input.to_string()));
        }
        let Some((local, domain)) = input.rsplit_once('@') else {
            return Err(AddressError::MissingAt(input.to_string()));
        };
        if local.is_empty() {
            return Err(AddressError::EmptyLocalPart(input.to_string()));
        }
        if local.chars().count() > 64 {
            return Err(AddressError::LocalPartTooLong(input.to_string()));
        }
        if !is_dot_string(local) {
            return Err(AddressError::InvalidLocalPart(input.to_string()));
        }
        let domain =
            DomainName::parse(domain).map_err(|_| AddressError::InvalidDomain(domain.to_string()))?;
        Ok(Self::from_parts(local, domain))
    }

    /// Builds an address from a local part that is already known to be valid
    /// (checked with [`EmailAddress::is_valid_local_part`]) and a domain.
    pub fn from_parts(local: &str, domain: DomainName) -> Self {
        let key = format!("{}@{}", local.to_lowercase(), domain.as_str());
        EmailAddress { local: local.to_string(), domain, key }
    }

    /// Whether `local` may stand before the `@` of an address.
    pub fn is_valid_local_part(local: &str) -> bool {
        !local.is_empty() && local.chars().count() <= 64 && is_dot_string(local)
    }

    pub fn local_part(&self) -> &str {
        &self.local
    }

    pub fn domain(&self) -> &DomainName {
        &self.domain
    }

    /// The case-folded form used for comparison and as a lookup key.
    pub fn key(&self) -> &str {
        &self.key
    }
}

/// RFC 5321 `Dot-string = Atom *("." Atom)`, atext from RFC 5322 §3.2.3 plus
/// RFC 6531's UTF8-non-ascii.
fn is_dot_string(local: &str) -> bool {
    local.split('.').all(|atom| !atom.is_empty() && atom.chars().all(is_atext))
}

fn is_atext(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || "!#$%&'*+-/=?^_`{|}~".contains(c)
        || (!c.is_ascii() && !c.is_control() && !c.is_whitespace())
}

impl PartialEq for EmailAddress {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}

impl Eq for EmailAddress {}

impl Hash for EmailAddress {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.key.hash(state);
    }
}

impl PartialOrd for EmailAddress {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for EmailAddress {
    fn cmp(&self, other: &Self) -> Ordering {
        self.key.cmp(&other.key)
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.local, self.domain)
    }
}

impl fmt::Debug for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EmailAddress({self})")
    }
}

impl std::str::FromStr for EmailAddress {
    type Err = AddressError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        EmailAddress::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_and_international_addresses() {
        for ok in [
            "info@contoso.com",
            "Sales.Department@Contoso.COM",
            "a+tag@sub.example.org",
            "o'brien@example.ie",
            "åse.øvergård@eksempel.no",
            "x@localhost",
            "user@bücher.de",
        ] {
            assert!(EmailAddress::parse(ok).is_ok(), "{ok} should parse");
        }
    }

    #[test]
    fn refuses_malformed_addresses_with_the_reason() {
        type Expect = fn(&AddressError) -> bool;
        let cases: &[(&str, Expect)] = &[
            ("contoso.com", |e| matches!(e, AddressError::MissingAt(_))),
            ("@contoso.com", |e| matches!(e, AddressError::EmptyLocalPart(_))),
            (".info@contoso.com", |e| matches!(e, AddressError::InvalidLocalPart(_))),
            ("in..fo@contoso.com", |e| matches!(e, AddressError::InvalidLocalPart(_))),
            ("in fo@contoso.com", |e| matches!(e, AddressError::InvalidLocalPart(_))),
            ("\"quoted\"@contoso.com", |e| matches!(e, AddressError::InvalidLocalPart(_))),
            ("info@-contoso.com", |e| matches!(e, AddressError::InvalidDomain(_))),
            ("info@contoso..com", |e| matches!(e, AddressError::InvalidDomain(_))),
            ("info@[192.0.2.1]", |e| matches!(e, AddressError::InvalidDomain(_))),
            ("info@", |e| matches!(e, AddressError::InvalidDomain(_))),
        ];
        for (input, expected) in cases {
            let err = EmailAddress::parse(input).expect_err(input);
            assert!(expected(&err), "{input}: unexpected {err:?}");
            assert!(err.to_string().contains(input.split('@').next_back().unwrap_or(input)), "{err}");
        }
        let long_local = format!("{}@contoso.com", "a".repeat(65));
        assert!(matches!(EmailAddress::parse(&long_local), Err(AddressError::LocalPartTooLong(_))));
        let long = format!("a@{}.com", "b.".repeat(130));
        assert!(EmailAddress::parse(&long).is_err());
    }

    #[test]
    fn comparison_ignores_case_but_display_keeps_it() {
        let a = EmailAddress::parse("Info@Contoso.com").unwrap();
        let b = EmailAddress::parse("INFO@contoso.COM").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.key(), "info@contoso.com");
        assert_eq!(a.to_string(), "Info@contoso.com");
        let other_domain = EmailAddress::parse("info@fabrikam.com").unwrap();
        assert_ne!(a, other_domain);
    }

    #[test]
    fn what_is_stored_parses_again() {
        // İ lower-cases to i + combining dot, which is no letter: refused up front
        // instead of stored and then unreadable.
        assert!(DomainName::parse("\u{130}.com").is_err());
        for input in ["Bücher.DE", "ÅRHUS.dk", "contoso.com"] {
            let domain = DomainName::parse(input).unwrap();
            assert_eq!(DomainName::parse(domain.as_str()).unwrap(), domain, "{input}");
        }
    }

    #[test]
    fn domain_is_lower_cased_and_root_dot_dropped() {
        assert_eq!(DomainName::parse("Contoso.COM.").unwrap().as_str(), "contoso.com");
        assert!(DomainName::parse("").is_err());
        assert!(DomainName::parse("a_b.com").is_err());
        assert!(DomainName::parse(&format!("{}.com", "x".repeat(64))).is_err());
    }
}
