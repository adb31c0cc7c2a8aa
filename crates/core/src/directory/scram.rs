//! Signing in with SCRAM-SHA-256 ([`crate::scram`]): the same rules and
//! the same throttle as a password sign-in, over a two-message exchange
//! the protocol carries.
//!
//! Every failure looks alike to the client (SPEC §1): an unknown login, a
//! blocked account, a shared mailbox and an account without a verifier all
//! get a decoy challenge — a stable salt for the login, the usual
//! iterations — and fail at the proof, like a wrong password.

use std::future::Future;
use std::net::IpAddr;
use std::time::Duration;

use mailroom_types::{PrincipalId, Secret};

use super::accounts::{SignIn, refusal};
use super::{Directory, PasswordHash};
use crate::auth::{AuthError, SignInRefusal};
use crate::error::CoreResult;
use crate::scram::{ClientFirst, ScramError, ScramVerifier};
use crate::throttle::{AccountKey, Admission};

/// How a SCRAM sign-in failed: for the log, never for the client.
enum Failure {
    Exchange(ScramError),
    Refused(SignInRefusal),
    /// The client cancelled or went away before its final message.
    Abandoned,
}

impl Directory {
    /// Derives and keeps the SCRAM verifier of `password`, the password
    /// whose argon2id hash is `hash` (kept only while it still is).
    pub(super) async fn keep_scram_verifier(
        &self,
        id: PrincipalId,
        hash: &PasswordHash,
        password: &Secret<String>,
    ) -> CoreResult<()> {
        let verifier = ScramVerifier::new(password);
        self.store.set_scram_verifier(id, hash, &verifier.encode()).await?;
        Ok(())
    }

    /// Signs in with SCRAM-SHA-256 from `source`. `client_first` is the
    /// client's first message; `exchange` sends the server's first message
    /// and returns the client's final one (`None`: cancelled, or the
    /// connection went). On success, the sign-in and the server's final
    /// message, which the protocol sends before it says OK.
    ///
    /// The attempt is counted and queued by the throttle as soon as the
    /// login is known, as [`Directory::sign_in`] does; `sleep` waits its
    /// turn.
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
        let key = match &recipient {
            Some(recipient) => AccountKey::Principal(recipient.id),
            None => AccountKey::unknown(&login),
        };
        let attempt = self.throttle.begin(source, key);
        match attempt.admission {
            Admission::After(wait) => sleep(wait).await,
            Admission::Refused => {
                tracing::warn!(login = ?login, %source, "SCRAM sign-in refused unchecked: too many attempts queued for this address or account");
                self.throttle.count_failure();
                return Err(AuthError::InvalidCredentials);
            }
        }
        let account = match &recipient {
            Some(recipient) => {
                self.store.account(recipient.id).await.map_err(crate::error::CoreError::from)?
            }
            None => None,
        };
        let refused = match &recipient {
            None => Some(SignInRefusal::UnknownLogin),
            Some(recipient) => refusal(recipient, account.as_ref()),
        };
        let verifier = match (&refused, account.as_ref().and_then(|a| a.scram_verifier.as_deref())) {
            (None, Some(stored)) => ScramVerifier::parse(stored),
            _ => None,
        };
        let has_verifier = verifier.is_some();
        let verifier = verifier.unwrap_or_else(|| ScramVerifier::decoy(&login, &self.scram_decoy_key[..]));
        let (server_first, challenge) = first.challenge(verifier);
        let outcome = match exchange(server_first).await {
            None => Err(Failure::Abandoned),
            Some(last) => match (challenge.finish(&last), refused) {
                (Err(err), None) if !has_verifier && err == ScramError::Proof => {
                    Err(Failure::Refused(SignInRefusal::NoPassword))
                }
                (Err(err), None) => Err(Failure::Exchange(err)),
                (Err(_), Some(reason)) => Err(Failure::Refused(reason)),
                // A decoy never verifies; this is only for completeness.
                (Ok(_), Some(reason)) => Err(Failure::Refused(reason)),
                (Ok(server_final), None) => Ok(server_final),
            },
        };
        match (outcome, recipient, account) {
            (Ok(server_final), Some(recipient), Some(account)) => {
                self.throttle.finish(attempt, true);
                tracing::debug!(principal = %recipient.id, "signed in with SCRAM-SHA-256");
                Ok((SignIn { recipient, roles: account.roles.clone(), account }, server_final))
            }
            (outcome, recipient, _) => {
                let reason = match outcome {
                    Err(Failure::Exchange(err)) => err.as_str(),
                    Err(Failure::Refused(reason)) => reason.as_str(),
                    Err(Failure::Abandoned) => "exchange abandoned",
                    Ok(_) => SignInRefusal::NotAMailbox.as_str(),
                };
                tracing::info!(login = ?login, principal = ?recipient.map(|r| r.id.0), reason, "SCRAM sign-in refused");
                self.throttle.count_failure();
                self.throttle.finish(attempt, false);
                Err(AuthError::InvalidCredentials)
            }
        }
    }
}
