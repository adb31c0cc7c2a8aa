//! The directory service: every admin operation and every permission question.
//!
//! [`Directory`] wraps a [`DirectoryStore`] and adds the policy: who may run an
//! operation (admin roles, SPEC §1) and which values are valid. What changed
//! reaches listeners through the store's change log ([`crate::change`]).
//! Operations that change something take an [`Actor`]; questions that
//! protocols ask on every command (`may`, `submission_authority`) do not.

mod accounts;
mod dkim;
mod domains;
mod grants;
mod groups;
pub mod model;
pub mod naming;
mod recipients;
mod remembered;
mod resolve;
mod scram;
mod settings;
mod tokens;
mod update;
pub mod web_sessions;

use std::sync::Arc;

use mailroom_types::PrincipalId;

use crate::error::{CoreError, CoreResult};
use crate::store::DirectoryStore;

pub use accounts::SignIn;
pub use dkim::{DkimAlgorithm, DkimKey, NewDkimKey};
pub use model::*;
pub use recipients::{
    AddressChange, IdentityChange, MailboxType, NewGroup, NewMailbox, NewMailboxKind, ProxyAddress,
};
pub use settings::{AutoReplyChange, SettingsChange};
pub use tokens::TOKEN_PREFIX;
pub use update::{MailboxUpdate, MailboxUpdated};

/// Who is asking for a change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Actor {
    /// The machine's operator: whoever can open the data directory (the local
    /// CLI). Holds every admin right.
    System,
    /// A signed-in or named principal; needs an admin role to change anything.
    Principal(PrincipalId),
}

/// The directory with its rules. Cheap to clone.
#[derive(Clone)]
pub struct Directory {
    store: Arc<dyn DirectoryStore>,
    /// Failed sign-ins of this server, shared by every protocol.
    throttle: Arc<crate::throttle::SignInThrottle>,
    /// Passwords that just passed the full check, for a few minutes.
    verified: Arc<crate::verified::VerifiedCredentials>,
    /// The key of SCRAM's decoy salts (`scram::ScramVerifier::decoy`).
    scram_decoy_key: Arc<[u8; 32]>,
    /// The store's key for unknown logins in the shared sign-in throttle,
    /// once read (`crate::throttle::shared`).
    pressure_key: Arc<std::sync::OnceLock<[u8; 32]>>,
}

impl std::fmt::Debug for Directory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Directory").field("store", &self.store).finish_non_exhaustive()
    }
}

impl Directory {
    pub fn new(store: Arc<dyn DirectoryStore>) -> Self {
        Directory {
            store,
            throttle: Arc::default(),
            verified: Arc::default(),
            scram_decoy_key: Arc::new(crate::scram::random_key()),
            pressure_key: Arc::default(),
        }
    }

    /// Remembers a verified password for `ttl` instead of
    /// [`crate::verified::DEFAULT_TTL`]; zero checks every sign-in in full.
    pub fn with_credential_memory(mut self, ttl: std::time::Duration) -> Self {
        self.verified = Arc::new(crate::verified::VerifiedCredentials::new(ttl));
        self
    }

    /// SPEC §1: only `global-admin` and `exchange-admin` create and change
    /// recipients and permissions.
    pub async fn require_admin(&self, actor: &Actor) -> CoreResult<()> {
        match actor {
            Actor::System => Ok(()),
            Actor::Principal(id) => match self.store.account(*id).await? {
                Some(account) if !account.roles.is_empty() && !account.sign_in_blocked => Ok(()),
                _ => Err(CoreError::PermissionDenied),
            },
        }
    }

    /// Only a global admin (or the operator) hands out admin roles.
    async fn require_global_admin(&self, actor: &Actor) -> CoreResult<()> {
        match actor {
            Actor::System => Ok(()),
            Actor::Principal(id) => match self.store.account(*id).await? {
                Some(account)
                    if account.roles.contains(&AdminRole::GlobalAdmin) && !account.sign_in_blocked =>
                {
                    Ok(())
                }
                _ => Err(CoreError::PermissionDenied),
            },
        }
    }

    /// A recipient by id, or `NotFound`.
    pub async fn recipient(&self, id: PrincipalId) -> CoreResult<Recipient> {
        self.store.recipient(id).await?.ok_or_else(|| CoreError::NotFound { identity: id.to_string() })
    }

    /// All recipients of the given kinds, ordered by name.
    pub async fn list(&self, kinds: &[RecipientKind]) -> CoreResult<Vec<Recipient>> {
        Ok(self.store.list_recipients(kinds).await?)
    }

    /// A page of the recipients of `kinds` whose name, display name or an
    /// address contains `text` (ignoring case), ordered by name, and how
    /// many match in all: what a list page with a search box shows.
    pub async fn search(
        &self,
        kinds: &[RecipientKind],
        text: &str,
        offset: usize,
        limit: usize,
    ) -> CoreResult<(usize, Vec<Recipient>)> {
        Ok(self.store.search_recipients(kinds, text, offset, limit).await?)
    }
}
