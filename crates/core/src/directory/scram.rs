//! Signing in with SCRAM-SHA-256 ([`crate::scram`]): the same rules and
//! the same throttle as a password sign-in, over a two-message exchange
//! the protocol carries.
//!
//! Every failure looks alike to the client (SPEC §1): an unknown login and
//! an account without a verifier get a decoy challenge — a salt stable for
//! the login, the usual iterations — and a blocked account or a shared
//! mailbox its own salt with keys no proof matches; all fail at the proof,
//! like a wrong password.

use std::future::Future;
use std::net::IpAddr;
use std::time::Duration;

use mailroom_types::{PrincipalId, Secret};

use super::accounts::{SignIn, refusal};
use super::{Directory, PasswordHash};
use crate::auth::{AuthError, SignInRefusal};
use crate::scram::{ClientFirst, ScramError, ScramVerifier};

/// How a SCRAM sign-in failed: for the log, never for the client.
enum Failure {
    Exchange(ScramError),
    Refused(SignInRefusal),
}

impl Directory {
    /// Derives and keeps the SCRAM verifier of `password`, the password
    /// whose argon2id hash is `hash` (kept only while it still is). Best
    /// effort: the password itself is already stored, and a verifier that
    /// couldn't be kept is derived again at the next sign-in with it.
    pub(super) async fn keep_scram_verifier(
        &self,
        id: PrincipalId,
        hash: &PasswordHash,
        password: &Secret<String>,
    ) {
        let verifier = ScramVerifier::new(password);
        if let Err(err) = self.store.set_scram_verifier(id, hash, &verifier.encode()).await {
            tracing::warn!(principal = %id, error = %err, "could not keep the SCRAM verifier; derived again at the next sign-in");
        }
    }

    /// Uses `key` for SCRAM's decoy salts instead of a random key of this
    /// process, so an unknown login meets the same salt after a restart, as
    /// a real account does (the server derives it from a secret of its data
    /// directory).
    pub fn with_scram_decoy_key(mut self, key: &[u8]) -> Self {
        let mut fixed = [0u8; 32];
        fixed.copy_from_slice(&crate::scram::derive_key(key, b"mailroom scram decoy"));
        self.scram_decoy_key = std::sync::Arc::new(fixed);
        self
    }

    /// Signs in with SCRAM-SHA-256 from `source`. `client_first` is the
    /// client's first message; `exchange` sends the server's first message
    /// and returns the client's final one (`None`: cancelled, or the
    /// connection went). On success, the sign-in and the server's final
    /// message, which the protocol sends before it says OK.
    ///
    /// The attempt is counted and queued by the throttle once the client's
    /// proof has arrived, as [`Directory::sign_in`] does with a password; a
    /// client that never answers holds no place in the queue. `sleep` waits
    /// the attempt's turn.
    pub async fn sign_in_scram<S, F, X, XF>(
        &self,
        source: IpAddr,
        client_first: &[u8],
        sleep: S,
        exchange: X,
    ) -> Result<(SignIn, String), AuthError>
    where
        S: FnOnce(Duration) -> F,
        F: Future<Output = ()>,
        X: FnOnce(String) -> XF,
        XF: Future<Output = Option<Vec<u8>>>,
    {
        let first = match ClientFirst::parse(client_first) {
            Ok(first) => first,
            Err(err) => {
                tracing::info!(%source, reason = err.as_str(), "SCRAM sign-in refused");
                self.throttle.count_failure();
                return Err(AuthError::InvalidCredentials);
            }
        };
        let login = first.login.clone();
        let recipient = self.login_recipient(&login).await?;
        let account = match &recipient {
            Some(recipient) => {
                self.store.account(recipient.id).await.map_err(crate::error::CoreError::from)?
            }
            None => None,
        };
        // An account's own salt whenever it has a verifier (blocked or
        // converted ones too, so blocking doesn't change what a prober
        // sees); a decoy, stable for the login, otherwise.
        let stored =
            account.as_ref().and_then(|a| a.scram_verifier.as_deref()).and_then(ScramVerifier::parse);
        let decoy = ScramVerifier::decoy(&login, &self.scram_decoy_key[..]);
        let refused = match &recipient {
            None => Some(SignInRefusal::UnknownLogin),
            Some(recipient) => refusal(recipient, account.as_ref()),
        };
        let verifier = match (&stored, refused) {
            (Some(stored), None) => stored.clone(),
            (Some(stored), Some(_)) => stored.with_keys_of(&decoy),
            (None, _) => decoy,
        };
        let (server_first, challenge) = first.challenge(verifier);
        let Some(last) = exchange(server_first).await else {
            tracing::info!(login = ?login, %source, "SCRAM sign-in abandoned");
            self.throttle.count_failure();
            return Err(AuthError::InvalidCredentials);
        };
        let attempt = self.admit(source, &login, recipient.as_ref(), sleep).await?;
        let outcome = match (challenge.finish(&last), refused, stored.is_some()) {
            (Ok(server_final), None, true) => Ok(server_final),
            (Ok(_), Some(reason), _) | (Err(_), Some(reason), _) => Err(Failure::Refused(reason)),
            (_, None, false) => Err(Failure::Refused(SignInRefusal::NoPassword)),
            (Err(err), None, true) => Err(Failure::Exchange(err)),
        };
        match (outcome, recipient, account) {
            (Ok(server_final), Some(recipient), Some(account)) => {
                self.finish_attempt(attempt, true).await;
                tracing::debug!(principal = %recipient.id, "signed in with SCRAM-SHA-256");
                Ok((SignIn { recipient, roles: account.roles.clone(), account }, server_final))
            }
            (outcome, recipient, _) => {
                let reason = match outcome {
                    Err(Failure::Exchange(err)) => err.as_str(),
                    Err(Failure::Refused(reason)) => reason.as_str(),
                    Ok(_) => SignInRefusal::NotAMailbox.as_str(),
                };
                tracing::info!(login = ?login, principal = ?recipient.map(|r| r.id.0), reason, "SCRAM sign-in refused");
                self.throttle.count_failure();
                self.finish_attempt(attempt, false).await;
                Err(AuthError::InvalidCredentials)
            }
        }
    }
}
