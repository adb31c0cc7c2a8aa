//! [`DirectoryStore`] on PostgreSQL.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
#[allow(unused_imports)]
use mailroom_core::calendar::*;
#[allow(unused_imports)]
use mailroom_core::directory::model::*;
#[allow(unused_imports)]
use mailroom_core::directory::{DkimKey, NewDkimKey};
#[allow(unused_imports)]
use mailroom_core::mail::*;
#[allow(unused_imports)]
use mailroom_core::permissions::{PermissionEntry, Right};
#[allow(unused_imports)]
use mailroom_core::store::*;
#[allow(unused_imports)]
use mailroom_types::*;
use std::collections::BTreeSet;

use super::PgStore;

#[async_trait]
impl DirectoryStore for PgStore {
    async fn accepted_domains(&self) -> StoreResult<Vec<AcceptedDomain>> {
        todo!()
    }
    async fn dkim_keys(&self, domain: &DomainName) -> StoreResult<Vec<DkimKey>> {
        todo!()
    }
    async fn add_dkim_keys(&self, domain: &DomainName, keys: Vec<NewDkimKey>, only_if_none: bool) -> StoreResult<bool> {
        todo!()
    }
    async fn remove_dkim_key(&self, domain: &DomainName, selector: &str) -> StoreResult<bool> {
        todo!()
    }
    async fn add_accepted_domain(&self, domain: &DomainName, make_default: bool) -> StoreResult<()> {
        todo!()
    }
    async fn set_default_domain(&self, domain: &DomainName) -> StoreResult<()> {
        todo!()
    }
    async fn create_recipient(&self, new: NewRecipient) -> StoreResult<Recipient> {
        todo!()
    }
    async fn update_identity(&self, id: PrincipalId, identity: RecipientIdentity) -> StoreResult<Recipient> {
        todo!()
    }
    async fn convert_mailbox(&self, id: MailboxId, kind: RecipientKind, password_hash: Option<PasswordHash>, sign_in_blocked: bool) -> StoreResult<Recipient> {
        todo!()
    }
    async fn update_mailbox(&self, id: MailboxId, write: MailboxWrite) -> StoreResult<Recipient> {
        todo!()
    }
    async fn delete_recipient(&self, id: PrincipalId) -> StoreResult<()> {
        todo!()
    }
    async fn recipient(&self, id: PrincipalId) -> StoreResult<Option<Recipient>> {
        todo!()
    }
    async fn recipient_by_address(&self, address: &EmailAddress) -> StoreResult<Option<Recipient>> {
        todo!()
    }
    async fn recipients_by_name_or_alias(&self, text: &str) -> StoreResult<Vec<Recipient>> {
        todo!()
    }
    async fn list_recipients(&self, kinds: &[RecipientKind]) -> StoreResult<Vec<Recipient>> {
        todo!()
    }
    async fn search_recipients(&self, kinds: &[RecipientKind], text: &str, offset: usize, limit: usize) -> StoreResult<(usize, Vec<Recipient>)> {
        todo!()
    }
    async fn account(&self, id: PrincipalId) -> StoreResult<Option<Account>> {
        todo!()
    }
    async fn set_password_hash(&self, id: PrincipalId, hash: Option<PasswordHash>) -> StoreResult<()> {
        todo!()
    }
    async fn set_scram_verifier(&self, id: PrincipalId, for_hash: &PasswordHash, verifier: &str) -> StoreResult<bool> {
        todo!()
    }
    async fn set_sign_in_blocked(&self, id: PrincipalId, blocked: bool) -> StoreResult<()> {
        todo!()
    }
    async fn set_roles(&self, id: PrincipalId, roles: &BTreeSet<AdminRole>) -> StoreResult<()> {
        todo!()
    }
    async fn mailbox_settings(&self, id: MailboxId) -> StoreResult<Option<MailboxSettings>> {
        todo!()
    }
    async fn set_mailbox_settings(&self, id: MailboxId, settings: &MailboxSettings) -> StoreResult<()> {
        todo!()
    }
    async fn auto_reply(&self, id: MailboxId) -> StoreResult<AutoReplyConfig> {
        todo!()
    }
    async fn set_auto_reply(&self, id: MailboxId, config: &AutoReplyConfig) -> StoreResult<()> {
        todo!()
    }
    async fn group_members(&self, group: PrincipalId) -> StoreResult<Vec<PrincipalId>> {
        todo!()
    }
    async fn group_members_transitive(&self, group: PrincipalId) -> StoreResult<Vec<PrincipalId>> {
        todo!()
    }
    async fn groups_of(&self, member: PrincipalId) -> StoreResult<Vec<PrincipalId>> {
        todo!()
    }
    async fn add_group_member(&self, group: PrincipalId, member: PrincipalId) -> StoreResult<bool> {
        todo!()
    }
    async fn remove_group_member(&self, group: PrincipalId, member: PrincipalId) -> StoreResult<bool> {
        todo!()
    }
    async fn permissions_on(&self, recipient: PrincipalId) -> StoreResult<Vec<PermissionEntry>> {
        todo!()
    }
    async fn permissions_held_by(&self, trustees: &[PrincipalId]) -> StoreResult<Vec<PermissionEntry>> {
        todo!()
    }
    async fn grant(&self, entries: &[PermissionEntry]) -> StoreResult<Vec<bool>> {
        todo!()
    }
    async fn set_grants(&self, recipient: PrincipalId, right: Right, entries: &[PermissionEntry]) -> StoreResult<(Vec<PrincipalId>, Vec<PrincipalId>)> {
        todo!()
    }
    async fn revoke(&self, entries: &[(PrincipalId, PrincipalId, Right)]) -> StoreResult<Vec<bool>> {
        todo!()
    }
    async fn create_api_token(&self, name: &str, secret_hash: &str, created: DateTime<Utc>) -> StoreResult<()> {
        todo!()
    }
    async fn api_tokens(&self) -> StoreResult<Vec<ApiToken>> {
        todo!()
    }
    async fn api_token_by_hash(&self, secret_hash: &str) -> StoreResult<Option<ApiToken>> {
        todo!()
    }
    async fn touch_api_token(&self, name: &str, at: DateTime<Utc>) -> StoreResult<()> {
        todo!()
    }
    async fn server_secret(&self, name: &str, offered: Vec<u8>) -> StoreResult<Vec<u8>> {
        todo!()
    }
    async fn delete_api_token(&self, name: &str) -> StoreResult<bool> {
        todo!()
    }
}
