//! Sign-ins for protocols whose clients send the password with every
//! request (HTTP Basic: CalDAV): a sync of a few hundred requests must not
//! spend seconds in argon2, nor wait in the sign-in throttle's queues while
//! someone else guesses at the account.
//!
//! The memory is the directory's own ([`crate::verified`]): a password that
//! passed the full check for this account's stored hash in the last minutes.
//! Each reuse reads the account again and applies the same rules as
//! [`Directory::authenticate`]: a changed password, a blocked sign-in or a
//! conversion to a shared mailbox ends it at the next request (SPEC §1,
//! §2: effective immediately).

use mailroom_types::{PrincipalId, Secret};

use super::Directory;
use crate::auth::AuthError;

impl Directory {
    /// [`Directory::sign_in`], answered at once when this password was
    /// verified for this account a few minutes ago and the account may
    /// still sign in with it.
    ///
    /// Such a sign-in is a session already open: it isn't throttled (it
    /// proves the password, so it is no guess). Anything else goes through
    /// [`Directory::sign_in`], queued like every other attempt.
    pub async fn authenticate_remembered<S, F>(
        &self,
        source: std::net::IpAddr,
        login: &str,
        password: &Secret<String>,
        sleep: S,
    ) -> Result<PrincipalId, AuthError>
    where
        S: FnOnce(std::time::Duration) -> F,
        F: std::future::Future<Output = ()>,
    {
        if let Some(recipient) = self.login_recipient(login).await?
            && let Some(hash) = self.sign_in_hash(recipient.id).await?
            && self.verified.remembers(recipient.id, &hash, password)
        {
            return Ok(recipient.id);
        }
        Ok(self.sign_in(source, login, password, sleep).await?.recipient.id)
    }
}
