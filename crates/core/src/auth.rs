//! Passwords: hashing, checking, and the rules for signing in.
//!
//! Hashes are argon2id in PHC format with the crate's defaults (19 MiB, two
//! passes), as OWASP recommends. A failed sign-in looks the same to the client
//! whatever the reason (SPEC §1: a shared mailbox "fails exactly like a wrong
//! password"); the reason goes to the log only, and a hash is always checked so
//! the time taken does not tell either.

use std::sync::OnceLock;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash as PhcString, SaltString};
use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use mailroom_types::Secret;

use crate::directory::model::PasswordHash;
use crate::error::CoreError;

pub const MIN_PASSWORD_LEN: usize = 8;
pub const MAX_PASSWORD_LEN: usize = 256;

/// Why a sign-in was refused: for the log, never for the client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignInRefusal {
    UnknownLogin,
    WrongPassword,
    SharedMailbox,
    Blocked,
    NotAMailbox,
    NoPassword,
}

impl SignInRefusal {
    pub fn as_str(self) -> &'static str {
        match self {
            SignInRefusal::UnknownLogin => "unknown login",
            SignInRefusal::WrongPassword => "wrong password",
            SignInRefusal::SharedMailbox => "shared mailbox (sign-in is always blocked)",
            SignInRefusal::Blocked => "sign-in blocked",
            SignInRefusal::NotAMailbox => "not a mailbox",
            SignInRefusal::NoPassword => "no password set",
        }
    }
}

/// The one answer a client gets for any failed sign-in.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("Authentication failed: wrong user name or password.")]
    InvalidCredentials,
    #[error(transparent)]
    Core(#[from] CoreError),
}

/// Password rules: long enough to resist guessing, short enough to hash.
pub fn validate_password(password: &Secret<String>) -> Result<(), CoreError> {
    let len = password.expose().chars().count();
    if len < MIN_PASSWORD_LEN {
        return Err(CoreError::Invalid(format!(
            "The password must be at least {MIN_PASSWORD_LEN} characters long."
        )));
    }
    if len > MAX_PASSWORD_LEN {
        return Err(CoreError::Invalid(format!(
            "The password can't be longer than {MAX_PASSWORD_LEN} characters."
        )));
    }
    if password.expose().chars().any(char::is_control) {
        return Err(CoreError::Invalid("The password can't contain control characters.".into()));
    }
    Ok(())
}

/// A random password for demo and generated accounts: 20 characters from an
/// alphabet without look-alikes (no 0/O, 1/l/I), about 115 bits.
pub fn generate_password() -> Secret<String> {
    use argon2::password_hash::rand_core::RngCore;
    const ALPHABET: &[u8] = b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut bytes = [0u8; 20];
    OsRng.fill_bytes(&mut bytes);
    // 256 is not a multiple of 57; the bias this leaves is negligible here.
    Secret::new(bytes.iter().map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char).collect())
}

/// Validates and hashes a new password.
pub fn hash_password(password: &Secret<String>) -> Result<PasswordHash, CoreError> {
    validate_password(password)?;
    let salt = SaltString::generate(&mut OsRng);
    let hash = Argon2::default().hash_password(password.expose().as_bytes(), &salt).map_err(|err| {
        tracing::error!(error = %err, "password hashing failed");
        CoreError::Invalid("The password couldn't be stored. Try a different password.".into())
    })?;
    Ok(PasswordHash(hash.to_string()))
}

/// Whether `password` matches `hash`. A malformed stored hash never matches.
pub fn verify_password(password: &Secret<String>, hash: &PasswordHash) -> bool {
    match PhcString::new(&hash.0) {
        Ok(parsed) => Argon2::default().verify_password(password.expose().as_bytes(), &parsed).is_ok(),
        Err(err) => {
            tracing::error!(error = %err, "stored password hash is malformed");
            false
        }
    }
}

/// Spends the time of one verification for a sign-in that fails for another
/// reason, so that response time does not reveal which accounts exist.
pub fn spend_verification_time(password: &Secret<String>) {
    static DUMMY: OnceLock<Option<PasswordHash>> = OnceLock::new();
    let dummy = DUMMY.get_or_init(|| {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(b"mailroom timing equaliser", &salt)
            .ok()
            .map(|h| PasswordHash(h.to_string()))
    });
    if let Some(hash) = dummy {
        let _ = verify_password(password, hash);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(s: &str) -> Secret<String> {
        Secret::new(s.to_string())
    }

    #[test]
    fn hash_then_verify() {
        let hash = hash_password(&secret("correct horse")).unwrap();
        assert!(hash.0.starts_with("$argon2id$"));
        assert!(verify_password(&secret("correct horse"), &hash));
        assert!(!verify_password(&secret("Correct horse"), &hash));
    }

    #[test]
    fn weak_or_odd_passwords_are_refused() {
        assert!(hash_password(&secret("short")).is_err());
        assert!(hash_password(&secret(&"x".repeat(257))).is_err());
        assert!(hash_password(&secret("new\nline-pass")).is_err());
    }

    #[test]
    fn generated_passwords_are_valid_and_differ() {
        let a = generate_password();
        let b = generate_password();
        assert_eq!(a.expose().len(), 20);
        assert!(validate_password(&a).is_ok());
        assert_ne!(a.expose(), b.expose());
    }

    #[test]
    fn malformed_hash_never_matches() {
        assert!(!verify_password(&secret("anything"), &PasswordHash("not a hash".into())));
    }
}
