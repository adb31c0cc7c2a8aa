//! API tokens: how scripts and tools sign in to the admin API.
//!
//! A token is created by the operator or a global admin and acts with the
//! operator's authority ([`Actor::System`]), so only those who already hold
//! every right may make one. The secret is shown once; the store keeps its
//! SHA-256, which is enough for a 256-bit random secret (no dictionary to
//! guess from, so a slow hash would add nothing) and lets a request find its
//! token with one indexed lookup.

use chrono::{Duration, Utc};
use mailroom_types::Secret;
use sha2::{Digest, Sha256};

use super::{Actor, ApiToken, Directory, naming};
use crate::auth::random_bytes;
use crate::error::{CoreError, CoreResult};
use crate::store::StoreError;

/// What every secret starts with, so a leaked one is recognisable (secret
/// scanners, logs) and can't be mistaken for a password.
pub const TOKEN_PREFIX: &str = "mrt_";

/// How often a token's last use is written: a busy script shouldn't turn
/// every request into a write.
const LAST_USE_GRANULARITY: Duration = Duration::seconds(60);

impl Directory {
    /// Creates a token named `name`; returns it with its secret, which is
    /// never available again.
    pub async fn create_api_token(
        &self,
        actor: &Actor,
        name: &str,
    ) -> CoreResult<(ApiToken, Secret<String>)> {
        self.require_global_admin(actor).await?;
        let name = name.trim();
        naming::validate_name(name).map_err(CoreError::Invalid)?;
        let secret = format!("{TOKEN_PREFIX}{}", hex(&random_bytes(32)));
        let created = Utc::now();
        self.store.create_api_token(name, &secret_hash(&secret), created).await.map_err(|err| match err {
            StoreError::NameTaken { name } => {
                CoreError::Invalid(format!("There is already a token named \"{name}\". Choose another name."))
            }
            other => other.into(),
        })?;
        Ok((ApiToken { name: name.to_string(), created, last_used: None }, Secret::new(secret)))
    }

    /// Every token, with when it was last used.
    pub async fn api_tokens(&self, actor: &Actor) -> CoreResult<Vec<ApiToken>> {
        self.require_global_admin(actor).await?;
        Ok(self.store.api_tokens().await?)
    }

    /// Revokes a token at once: the next request with it is refused.
    pub async fn revoke_api_token(&self, actor: &Actor, name: &str) -> CoreResult<()> {
        self.require_global_admin(actor).await?;
        if !self.store.delete_api_token(name.trim()).await? {
            return Err(CoreError::NotFound { identity: name.trim().to_string() });
        }
        Ok(())
    }

    /// The token a request presents, if it is one; records the use.
    pub async fn authenticate_api_token(&self, secret: &str) -> CoreResult<Option<ApiToken>> {
        if !secret.starts_with(TOKEN_PREFIX) {
            return Ok(None);
        }
        let Some(token) = self.store.api_token_by_hash(&secret_hash(secret)).await? else {
            return Ok(None);
        };
        let now = Utc::now();
        if token.last_used.is_none_or(|at| now - at >= LAST_USE_GRANULARITY) {
            self.store.touch_api_token(&token.name, now).await?;
        }
        Ok(Some(token))
    }
}

fn secret_hash(secret: &str) -> String {
    hex(&Sha256::digest(secret.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
