//! HTTP Basic sign-in (RFC 7617): the header parsed here, the decision in
//! `core` ([`Directory::authenticate_remembered`]: clients send the password
//! with every request, so a checked one is remembered briefly), attempts
//! throttled per address and per account like IMAP and SMTP sign-ins.

use std::net::IpAddr;

use mailroom_core::Directory;
use mailroom_core::auth::AuthError;
use mailroom_types::{PrincipalId, Secret};

/// Why a request isn't signed in.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// No usable `Authorization` header, or wrong credentials: `401`.
    Credentials,
    /// The directory failed: `500`.
    Storage,
}

/// Signs in with an `Authorization` header's value.
pub async fn sign_in(dir: &Directory, header: Option<&str>, ip: IpAddr) -> Result<PrincipalId, Refusal> {
    let (login, password) = header.and_then(parse_basic).ok_or(Refusal::Credentials)?;
    let password = Secret::new(password);
    let outcome = dir.authenticate_remembered(ip, &login, &password, tokio::time::sleep).await;
    match outcome {
        Ok(principal) => Ok(principal),
        Err(AuthError::InvalidCredentials) => Err(Refusal::Credentials),
        Err(AuthError::Core(_)) => Err(Refusal::Storage),
    }
}

/// `Basic base64(login:password)` → its two parts.
fn parse_basic(header: &str) -> Option<(String, String)> {
    let (scheme, encoded) = header.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = mailroom_mime::decode_base64_strict(encoded.trim())?;
    let text = String::from_utf8(decoded).ok()?;
    let (login, password) = text.split_once(':')?;
    Some((login.to_string(), password.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_basic_credentials() {
        // A colon inside the password is kept.
        let header = format!("Basic {}", mailroom_mime::encode_base64(b"alice@contoso.com:pa:ss"));
        assert_eq!(parse_basic(&header), Some(("alice@contoso.com".into(), "pa:ss".into())));
        assert_eq!(parse_basic("Bearer abc"), None);
        assert_eq!(parse_basic("Basic !!!"), None);
        assert_eq!(parse_basic(&format!("Basic {}", mailroom_mime::encode_base64(b"nocolon"))), None);
    }
}
