//! Accounts: passwords, blocked sign-in, admin roles, and signing in.

use std::collections::BTreeSet;
use std::future::Future;
use std::net::IpAddr;
use std::time::Duration;

use mailroom_types::{EmailAddress, PrincipalId, Secret};

use super::{Account, Actor, AdminRole, Directory, Recipient, RecipientKind};
use crate::auth::{AuthError, SignInRefusal, hash_password, spend_verification_time};
use crate::error::{CoreError, CoreResult};
use crate::throttle::{AccountKey, Admission, Attempt, shared};

/// A successful sign-in.
#[derive(Clone, Debug)]
pub struct SignIn {
    pub recipient: Recipient,
    pub roles: BTreeSet<AdminRole>,
    /// The account as it was when the password matched: a session built on
    /// this sign-in remembers this state, not a later read (a password reset
    /// during the check must still end it).
    pub account: Account,
}

impl Directory {
    pub async fn account(&self, id: PrincipalId) -> CoreResult<Account> {
        self.store.account(id).await?.ok_or_else(|| CoreError::NotFound { identity: id.to_string() })
    }

    /// An account that holds admin roles is managed by global admins only:
    /// otherwise an exchange admin could reset a global admin's password (or
    /// convert it away and back) and take over the role.
    pub(super) async fn require_may_manage_account(&self, actor: &Actor, id: PrincipalId) -> CoreResult<()> {
        match self.store.account(id).await? {
            Some(account) if !account.roles.is_empty() => self.require_global_admin(actor).await,
            _ => Ok(()),
        }
    }

    /// Sets a user's password. Shared mailboxes have none (SPEC §1): convert first.
    pub async fn set_password(
        &self,
        actor: &Actor,
        id: PrincipalId,
        password: &Secret<String>,
    ) -> CoreResult<()> {
        self.require_admin(actor).await?;
        self.require_may_manage_account(actor, id).await?;
        let recipient = self.recipient(id).await?;
        match recipient.kind {
            RecipientKind::UserMailbox => {}
            RecipientKind::SharedMailbox => {
                return Err(CoreError::Invalid(format!(
                    "\"{}\" is a shared mailbox: it has no password and nobody signs in to it. Convert it to a user mailbox to give it one.",
                    recipient.name
                )));
            }
            kind => return Err(not_an_account(&recipient, kind)),
        }
        let hash = hash_password(password)?;
        self.store.set_password_hash(id, Some(hash.clone())).await?;
        self.verified.forget(id);
        self.keep_scram_verifier(id, &hash, password).await;
        tracing::info!(id = %id, "password changed");
        Ok(())
    }

    /// Blocks or allows sign-in (SPEC §1, Blocked sign-in). A shared mailbox
    /// stays blocked: allowing it is refused.
    pub async fn set_sign_in_blocked(&self, actor: &Actor, id: PrincipalId, blocked: bool) -> CoreResult<()> {
        self.require_admin(actor).await?;
        let recipient = self.recipient(id).await?;
        check_sign_in_change(actor, &recipient, recipient.kind, blocked)?;
        self.require_may_manage_account(actor, id).await?;
        self.store.set_sign_in_blocked(id, blocked).await?;
        self.verified.forget(id);
        tracing::info!(id = %id, blocked, "sign-in setting changed");
        Ok(())
    }

    /// Replaces a user's admin roles; only a global admin may do it.
    pub async fn set_roles(
        &self,
        actor: &Actor,
        id: PrincipalId,
        roles: BTreeSet<AdminRole>,
    ) -> CoreResult<()> {
        self.require_global_admin(actor).await?;
        let recipient = self.recipient(id).await?;
        if recipient.kind != RecipientKind::UserMailbox {
            return Err(CoreError::Invalid(format!(
                "Admin roles are for people: \"{}\" is a {}.",
                recipient.name,
                recipient.kind.describe()
            )));
        }
        self.store.set_roles(id, &roles).await?;
        tracing::info!(id = %id, roles = ?roles, "admin roles changed");
        Ok(())
    }

    /// Signs in from `source` (SMTP AUTH, IMAP LOGIN/AUTHENTICATE, HTTP):
    /// the attempt is counted and queued by the throttle at once, `sleep`
    /// (the protocol's timer) waits its turn, then [`Self::authenticate`]
    /// decides. An attempt the throttle refuses outright fails like a wrong
    /// password, without a password check.
    pub async fn sign_in<S, F>(
        &self,
        source: IpAddr,
        login: &str,
        password: &Secret<String>,
        sleep: S,
    ) -> Result<SignIn, AuthError>
    where
        S: FnOnce(Duration) -> F,
        F: Future<Output = ()>,
    {
        let recipient = self.login_recipient(login).await?;
        let attempt = self.admit(source, login, recipient.as_ref(), sleep).await?;
        let outcome = self.check_sign_in(login, recipient, password).await;
        if outcome.is_err() {
            self.throttle.count_failure();
        }
        self.finish_attempt(attempt, outcome.is_ok()).await;
        outcome
    }

    /// Counts and queues a sign-in attempt from `source` for `login` (its
    /// recipient, if any) — in this node's throttle and, where nodes share
    /// the store, in the store's ([`crate::throttle::shared`]) — and waits
    /// its turn with `sleep`. An attempt refused by either queue fails like
    /// a wrong password, unchecked.
    pub(super) async fn admit<S, F>(
        &self,
        source: IpAddr,
        login: &str,
        recipient: Option<&Recipient>,
        sleep: S,
    ) -> Result<Admitted<'_>, AuthError>
    where
        S: FnOnce(Duration) -> F,
        F: Future<Output = ()>,
    {
        let account = match recipient {
            Some(recipient) => AccountKey::Principal(recipient.id),
            None => AccountKey::unknown(login),
        };
        let attempt = self.throttle.begin(source, account);
        let own = match attempt.admission {
            Admission::After(wait) => Some(wait),
            Admission::Refused => None,
        };
        let mut wait = own;
        let mut shared_record = false;
        if let Some(shared) = self.store.shared_sign_in_pressure()
            && own.is_some()
            && !attempt.trusted()
        {
            let keys = [shared::source_key(source), self.shared_account_key(attempt.account()).await];
            match shared.admit_sign_in(&keys).await {
                Ok(placed) => {
                    shared_record = placed.recorded;
                    wait = wait.zip(placed.wait).map(|(own, shared)| own.max(shared));
                }
                Err(err) => {
                    tracing::warn!(error = %err, "the shared sign-in throttle couldn't be read; this node's own applies")
                }
            }
        }
        let Some(wait) = wait else {
            // `?login`: quoted and escaped, so a login can't forge log lines.
            tracing::warn!(login = ?login, %source, "sign-in refused unchecked: too many attempts queued for this address or account");
            self.throttle.count_failure();
            if own.is_some() {
                // Admitted here, refused by the nodes' queue: a refusal,
                // against the source only.
                self.throttle.withdraw(attempt);
            }
            // Still a guess its source tried: counted on every node that
            // knows the source already (a refusal creates no record).
            self.record_shared(&[], &[shared::source_key(source)], &[]).await;
            return Err(AuthError::InvalidCredentials);
        };
        sleep(wait).await;
        Ok(Admitted { attempt, shared_record })
    }

    /// Records how an admitted attempt ended, in this node's throttle and
    /// in the store's shared record: a failure against its source and (when
    /// it queued) its account; a success halves its account's failures.
    pub(super) async fn finish_attempt(&self, admitted: Admitted<'_>, succeeded: bool) {
        let Admitted { attempt, shared_record } = admitted;
        if self.store.shared_sign_in_pressure().is_none() {
            self.throttle.finish(attempt, succeeded);
            return;
        }
        let source = shared::source_key(attempt.source());
        let account = match attempt.trusted() {
            true => None,
            false => Some(self.shared_account_key(attempt.account()).await),
        };
        self.throttle.finish(attempt, succeeded);
        if !succeeded {
            let failed: Vec<String> = std::iter::once(source).chain(account).collect();
            self.record_shared(&failed, &[], &[]).await;
        } else if shared_record && let Some(account) = account {
            self.record_shared(&[], &[], &[account]).await;
        }
    }

    /// Records failures, refusals and successes in the store's shared
    /// throttle, if it has one; a failure to record is logged.
    async fn record_shared(&self, failed: &[String], refused: &[String], succeeded: &[String]) {
        if let Some(shared) = self.store.shared_sign_in_pressure()
            && let Err(err) = shared.record_sign_in(failed, refused, succeeded).await
        {
            tracing::warn!(error = %err, "a sign-in's outcome couldn't be recorded in the shared throttle");
        }
    }

    /// An account's key in the shared throttle: unknown logins are an HMAC
    /// under a secret every node reads from the store.
    async fn shared_account_key(&self, account: &AccountKey) -> String {
        let key = match self.pressure_key.get() {
            Some(key) => *key,
            None => {
                match self.store.server_secret("sign-in-throttle", crate::scram::random_key().to_vec()).await
                {
                    Ok(secret) if secret.len() == 32 => {
                        let mut key = [0u8; 32];
                        key.copy_from_slice(&secret);
                        *self.pressure_key.get_or_init(|| key)
                    }
                    other => {
                        // Asked again next time; meanwhile unknown logins are
                        // counted under a key of this attempt's alone.
                        tracing::warn!(answer = ?other.map(|s| s.len()), "the shared sign-in throttle's key couldn't be read");
                        crate::scram::random_key()
                    }
                }
            }
        };
        account.shared_key(&key)
    }

    /// Failed sign-ins since this server started, every protocol's.
    pub fn sign_in_failures(&self) -> u64 {
        self.throttle.failures()
    }

    /// The recipient a login (any of its addresses) names.
    pub(super) async fn login_recipient(&self, login: &str) -> Result<Option<Recipient>, AuthError> {
        Ok(match EmailAddress::parse(login) {
            Ok(address) => self.store.recipient_by_address(&address).await.map_err(CoreError::from)?,
            Err(_) => None,
        })
    }

    /// Signs a principal in with any of its addresses and its password,
    /// unthrottled: protocols sign in with [`Self::sign_in`].
    ///
    /// Every failure is the same [`AuthError::InvalidCredentials`]: an unknown
    /// login, a wrong password, a blocked account and a shared mailbox look
    /// alike to the client and take the same time (SPEC §1). The reason is
    /// logged; the password never is.
    pub async fn authenticate(&self, login: &str, password: &Secret<String>) -> Result<SignIn, AuthError> {
        let recipient = self.login_recipient(login).await?;
        self.check_sign_in(login, recipient, password).await
    }

    async fn check_sign_in(
        &self,
        login: &str,
        recipient: Option<Recipient>,
        password: &Secret<String>,
    ) -> Result<SignIn, AuthError> {
        let refused = |reason: SignInRefusal, id: Option<PrincipalId>| {
            match reason {
                SignInRefusal::SharedMailbox | SignInRefusal::Blocked => {
                    tracing::warn!(login = ?login, principal = ?id.map(|i| i.0), reason = reason.as_str(), "sign-in refused")
                }
                _ => tracing::info!(login = ?login, reason = reason.as_str(), "sign-in refused"),
            }
            AuthError::InvalidCredentials
        };
        let Some(recipient) = recipient else {
            spend_verification_time(password).await;
            return Err(refused(SignInRefusal::UnknownLogin, None));
        };
        let account = self.store.account(recipient.id).await.map_err(CoreError::from)?;
        let refusal = refusal(&recipient, account.as_ref());
        if let Some(reason) = refusal {
            spend_verification_time(password).await;
            return Err(refused(reason, Some(recipient.id)));
        }
        let Some(account) = account else {
            return Err(refused(SignInRefusal::NotAMailbox, Some(recipient.id)));
        };
        let Some(hash) = &account.password_hash else {
            return Err(refused(SignInRefusal::NoPassword, Some(recipient.id)));
        };
        // Remembered for a few minutes after a full check: see crate::verified.
        if !self.verified.check(recipient.id, hash, password).await {
            return Err(refused(SignInRefusal::WrongPassword, Some(recipient.id)));
        }
        if account.scram_verifier.is_none() {
            // A password set before SCRAM was here: derive its verifier now.
            self.keep_scram_verifier(recipient.id, hash, password).await;
        }
        tracing::debug!(principal = %recipient.id, "signed in");
        Ok(SignIn { recipient, roles: account.roles.clone(), account })
    }
}

/// Why this recipient may not sign in at all, whatever the password: the
/// rules of SPEC §1 (shared mailboxes and blocked accounts never do).
pub(super) fn refusal(recipient: &Recipient, account: Option<&Account>) -> Option<SignInRefusal> {
    match (&recipient.kind, account) {
        (RecipientKind::SharedMailbox, _) => Some(SignInRefusal::SharedMailbox),
        (RecipientKind::UserMailbox, Some(account)) if account.sign_in_blocked => {
            Some(SignInRefusal::Blocked)
        }
        (RecipientKind::UserMailbox, Some(account)) if account.password_hash.is_none() => {
            Some(SignInRefusal::NoPassword)
        }
        (RecipientKind::UserMailbox, Some(_)) => None,
        _ => Some(SignInRefusal::NotAMailbox),
    }
}

impl Directory {
    /// The one rule for "this sign-in is still valid", asked by every
    /// protocol of a session that signed in earlier — IMAP before each
    /// command and when the change feed says the account changed,
    /// submission for each message, CalDAV for each request: the account
    /// still exists, is still a user mailbox (not converted to shared) and
    /// is not blocked. The same refusals as signing in (SPEC §1).
    pub async fn still_signed_in(&self, principal: PrincipalId) -> CoreResult<bool> {
        let Some(recipient) = self.store.recipient(principal).await? else { return Ok(false) };
        let account = self.store.account(principal).await?;
        Ok(refusal(&recipient, account.as_ref()).is_none())
    }

    /// The stored hash of an account that may sign in now (the rules of
    /// [`Directory::still_signed_in`]); `None` for one that may not.
    pub(super) async fn sign_in_hash(
        &self,
        principal: PrincipalId,
    ) -> CoreResult<Option<super::PasswordHash>> {
        let Some(recipient) = self.store.recipient(principal).await? else { return Ok(None) };
        let account = self.store.account(principal).await?;
        if refusal(&recipient, account.as_ref()).is_some() {
            return Ok(None);
        }
        Ok(account.and_then(|a| a.password_hash))
    }
}

/// Blocking is allowed for every account; allowing sign-in is refused for a
/// mailbox that is (or is becoming) shared, and nobody blocks themselves out.
pub(super) fn check_sign_in_change(
    actor: &Actor,
    recipient: &Recipient,
    kind: RecipientKind,
    blocked: bool,
) -> CoreResult<()> {
    match kind {
        RecipientKind::UserMailbox => {}
        RecipientKind::SharedMailbox if blocked => {}
        RecipientKind::SharedMailbox => {
            return Err(CoreError::Invalid(format!(
                "Sign-in can't be allowed for the shared mailbox \"{}\": shared mailboxes are opened by their members, never signed in to. Convert it to a user mailbox first.",
                recipient.name
            )));
        }
        kind => return Err(not_an_account(recipient, kind)),
    }
    if *actor == Actor::Principal(recipient.id) && blocked {
        return Err(CoreError::Invalid("You can't block your own sign-in.".into()));
    }
    Ok(())
}

fn not_an_account(recipient: &Recipient, kind: RecipientKind) -> CoreError {
    CoreError::Invalid(format!("\"{}\" is a {}, which has no account.", recipient.name, kind.describe()))
}

/// An attempt admitted by [`Directory::admit`]: its place in this node's
/// throttle, and whether the shared throttle holds a record of its keys.
pub(super) struct Admitted<'a> {
    attempt: Attempt<'a>,
    shared_record: bool,
}
