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
use argon2::{Argon2, PasswordHasher};
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

/// `n` random bytes from the operating system (secrets such as the SRS key).
pub fn random_bytes(n: usize) -> Vec<u8> {
    use argon2::password_hash::rand_core::RngCore;
    let mut bytes = vec![0u8; n];
    OsRng.fill_bytes(&mut bytes);
    bytes
}

/// HMAC-SHA-256 (RFC 2104) of the concatenation of `parts` under `key`:
/// remembered passwords' tags, SCRAM's keys and proofs.
pub(crate) fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    const BLOCK: usize = 64;
    let mut block = [0u8; BLOCK];
    if key.len() > BLOCK {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(block.map(|b| b ^ 0x36));
    for part in parts {
        inner.update(part);
    }
    let mut outer = Sha256::new();
    outer.update(block.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    outer.finalize().into()
}

/// Equality that takes the same time wherever the first difference is.
pub(crate) fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
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

/// Whether `password` matches `hash`, computed on this thread. A malformed
/// stored hash never matches. Sign-ins use [`check_password`] instead.
pub fn verify_password(password: &Secret<String>, hash: &PasswordHash) -> bool {
    let mut blocks = Vec::new();
    verify_with_memory(password, hash, &mut blocks)
}

/// The check itself, with argon2's working memory (19 MiB at the default
/// cost) in `blocks`, grown as needed and kept by the caller.
fn verify_with_memory(
    password: &Secret<String>,
    hash: &PasswordHash,
    blocks: &mut Vec<argon2::Block>,
) -> bool {
    let checked = (|| -> Result<bool, argon2::password_hash::Error> {
        let parsed = PhcString::new(&hash.0)?;
        let algorithm = argon2::Algorithm::try_from(parsed.algorithm)?;
        let version = parsed.version.map(argon2::Version::try_from).transpose()?.unwrap_or_default();
        let params = argon2::Params::try_from(&parsed)?;
        let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
            return Err(argon2::password_hash::Error::PhcStringField);
        };
        let mut salt_bytes = [0u8; 64];
        let salt = salt.decode_b64(&mut salt_bytes)?;
        if blocks.len() < params.block_count() {
            blocks.resize(params.block_count(), argon2::Block::default());
        }
        let mut out = vec![0u8; expected.len()];
        Argon2::new(algorithm, version, params.clone())
            .hash_password_into_with_memory(
                password.expose().as_bytes(),
                salt,
                &mut out,
                &mut blocks[..params.block_count()],
            )
            .map_err(argon2::password_hash::Error::from)?;
        // Output's equality is constant-time.
        Ok(argon2::password_hash::Output::new(&out)? == expected)
    })();
    checked.unwrap_or_else(|err| {
        tracing::error!(error = %err, "stored password hash is malformed");
        false
    })
}

/// Whether `password` matches `hash`, checked on one of a few threads kept
/// for it. Sign-ins wait their turn there instead of blocking the threads
/// that serve sessions for ~50 ms each, at most as many run at once as the
/// machine has cores, and each thread reuses one argon2 buffer: memory for
/// sign-ins is a fixed few × 19 MiB, never freed and re-taken (which left
/// the allocator holding megabytes per signed-in session).
pub async fn check_password(password: &Secret<String>, hash: &PasswordHash) -> bool {
    let reply = Reply::default();
    let job = Job { password: password.clone(), hash: hash.clone(), reply: reply.clone() };
    if checkers().send(job).is_err() {
        // No checker thread could be started: check here.
        return verify_password(password, hash);
    }
    reply.await
}

/// Spends the time of one verification for a sign-in that fails for another
/// reason, so that response time does not reveal which accounts exist.
pub async fn spend_verification_time(password: &Secret<String>) {
    static DUMMY: OnceLock<Option<PasswordHash>> = OnceLock::new();
    let dummy = DUMMY.get_or_init(|| {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(b"mailroom timing equaliser", &salt)
            .ok()
            .map(|h| PasswordHash(h.to_string()))
    });
    if let Some(hash) = dummy {
        let _ = check_password(password, hash).await;
    }
}

struct Job {
    password: Secret<String>,
    hash: PasswordHash,
    reply: Reply,
}

/// The queue of the checker threads, started on first use.
fn checkers() -> &'static std::sync::mpsc::Sender<Job> {
    static QUEUE: OnceLock<std::sync::mpsc::Sender<Job>> = OnceLock::new();
    QUEUE.get_or_init(|| {
        let (send, receive) = std::sync::mpsc::channel::<Job>();
        let receive = std::sync::Arc::new(std::sync::Mutex::new(receive));
        let threads = std::thread::available_parallelism().map_or(2, |n| n.get()).clamp(1, 8);
        for i in 0..threads {
            let receive = receive.clone();
            let started = std::thread::Builder::new().name(format!("password-check-{i}")).spawn(move || {
                let mut blocks = Vec::new();
                loop {
                    // The lock is held only while waiting for the next job.
                    let job = match receive.lock() {
                        Ok(queue) => queue.recv(),
                        Err(_) => return,
                    };
                    let Ok(job) = job else { return };
                    let matched = verify_with_memory(&job.password, &job.hash, &mut blocks);
                    job.reply.send(matched);
                }
            });
            if let Err(err) = started {
                tracing::error!(error = %err, "could not start a password-check thread");
            }
        }
        send
    })
}

/// A one-shot answer from a checker thread to the waiting sign-in.
#[derive(Clone, Default)]
struct Reply(std::sync::Arc<std::sync::Mutex<ReplySlot>>);

#[derive(Default)]
struct ReplySlot {
    answer: Option<bool>,
    waker: Option<std::task::Waker>,
    /// The checker thread is gone without answering (it panicked).
    abandoned: bool,
}

impl Reply {
    fn send(&self, answer: bool) {
        if let Ok(mut slot) = self.0.lock() {
            slot.answer = Some(answer);
            if let Some(waker) = slot.waker.take() {
                waker.wake();
            }
        }
    }
}

impl Drop for Job {
    fn drop(&mut self) {
        // A job dropped unanswered (its thread panicked) fails the sign-in
        // instead of leaving it waiting forever.
        if let Ok(mut slot) = self.reply.0.lock()
            && slot.answer.is_none()
        {
            slot.abandoned = true;
            if let Some(waker) = slot.waker.take() {
                waker.wake();
            }
        }
    }
}

impl std::future::Future for Reply {
    type Output = bool;

    fn poll(self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<bool> {
        let Ok(mut slot) = self.0.lock() else { return std::task::Poll::Ready(false) };
        if let Some(answer) = slot.answer {
            return std::task::Poll::Ready(answer);
        }
        if slot.abandoned {
            return std::task::Poll::Ready(false);
        }
        slot.waker = Some(cx.waker().clone());
        std::task::Poll::Pending
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

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sign_in_checks_run_on_the_checker_threads() {
        let hash = hash_password(&secret("correct horse")).unwrap();
        // More at once than there are checker threads: they queue.
        let mut checks = Vec::new();
        for i in 0..12 {
            let (hash, password) =
                (hash.clone(), secret(if i % 2 == 0 { "correct horse" } else { "wrong horse" }));
            checks.push(tokio::spawn(async move { check_password(&password, &hash).await }));
        }
        for (i, check) in checks.into_iter().enumerate() {
            assert_eq!(check.await.unwrap(), i % 2 == 0);
        }
        // A stored hash that isn't PHC, or names another algorithm, never matches.
        assert!(!check_password(&secret("x"), &PasswordHash("not a hash".into())).await);
        let scrypt =
            "$scrypt$ln=16,r=8,p=1$aM15713r3Xsvxbi31lqr1Q$nFNh2CVHVjNldFVKDHDlm4CbdRSCdEBsjjJxD+iCs5E";
        assert!(!check_password(&secret("x"), &PasswordHash(scrypt.into())).await);
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
