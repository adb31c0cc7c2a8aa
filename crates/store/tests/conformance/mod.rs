//! The store conformance suite: what every `DirectoryStore`, `MailStore` and
//! `CalendarStore` must do.
//!
//! Each backend's test file calls [`suite!`] with a factory returning a fresh,
//! empty store (and a guard that keeps its resources alive), or `None` when
//! the backend isn't there to test (PostgreSQL outside CI, said loudly).
//! The SQLite and PostgreSQL backends run exactly these tests.

#![allow(dead_code)]

use std::collections::BTreeSet;

use mailroom_core::directory::model::{MailboxSettings, PasswordHash, Recipient, RecipientKind};
use mailroom_core::permissions::{PermissionEntry, Right};
use mailroom_core::store::{DirectoryStore, NewAccount, NewRecipient};
use mailroom_types::{DomainName, EmailAddress, MailboxId, PrincipalId};

/// Who acts in tests where it doesn't matter who: the store records any
/// principal's id on the activity trail without looking it up.
pub const BY: PrincipalId = PrincipalId(1);

pub mod calendar;
pub mod changes;
pub mod cluster;
pub mod directory;
pub mod mail;

/// Expands to one `#[tokio::test]` per conformance test, each on a fresh
/// store; the change log's tests get a [`changes::Backend`] from the second factory.
macro_rules! suite {
    ($factory:path, $feed_factory:path) => {
        conformance::suite!(@tests $feed_factory; changes;
            changes_are_logged_in_commit_order,
            a_failed_write_logs_nothing,
            another_process_wakes_the_feed,
            a_late_subscriber_catches_up_from_the_log,
            pruned_changes_ask_for_a_resync,
            concurrent_deliveries_to_one_folder_lose_nothing,
            removing_a_group_logs_what_it_took_with_it,
            subscribing_and_unsubscribing_are_logged,
        );
        conformance::suite!(@tests $factory; directory;
            domains_have_one_default,
            dkim_keys_rotate_in_one_step,
            recipients_are_found_by_id_address_name_and_alias,
            lists_are_filtered_by_kind_and_ordered_by_name,
            searches_are_paged_and_match_names_and_addresses,
            names_aliases_and_addresses_are_unique_without_case,
            failed_creation_writes_nothing,
            identity_edits_replace_addresses_and_free_old_ones,
            conversion_keeps_id_addresses_settings_and_grants,
            deleting_a_recipient_removes_what_refers_to_it,
            accounts_store_hash_block_and_roles,
            server_secrets_are_kept_from_the_first_offer,
            scram_verifiers_follow_the_password_hash,
            mailbox_settings_round_trip,
            auto_reply_defaults_then_round_trips,
            groups_nest_and_resolve_both_ways,
            cycles_are_refused_in_the_write,
            groups_are_created_with_their_members,
            recipient_ids_are_never_reused,
            mailbox_updates_write_all_or_nothing,
            grant_lists_are_replaced_in_one_step,
            grants_report_what_changed,
            concurrent_writes_all_land_and_conflicts_lose_alone,
            lookups_with_nul_find_nobody,
            web_sessions_are_kept_limited_and_ended,
        );
        conformance::suite!(@tests $factory; mail;
            new_mailboxes_get_the_default_folders,
            expunged_messages_stay_recoverable_until_their_retention_ends,
            actions_are_on_the_activity_trail,
            a_message_with_odd_header_bytes_goes_on_the_trail,
            each_member_reads_for_themselves_under_per_member_seen,
            one_body_serves_every_target,
            uids_modseqs_and_usage_grow,
            a_missing_folder_fails_the_whole_delivery,
            large_bodies_round_trip_through_files,
            bodies_are_read_in_ranges,
            messages_are_read_by_folder_and_uid,
            message_lists_are_paged_in_arrival_order,
            lists_filter_by_assignment_and_handled_state,
            sweeping_removes_only_unreferenced_bodies,
            a_claimed_message_is_stored_once,
            conversion_keeps_folders_and_messages,
            flags_change_with_one_new_modseq_and_unchangedsince,
            expunge_removes_deleted_messages_and_remembers_them,
            copy_and_move_share_bodies_across_mailboxes,
            folders_are_created_renamed_and_deleted,
            subscriptions_are_per_principal,
            folder_index_and_counts_read_without_rows,
            listings_follow_every_change,
            recent_messages_are_claimed_once,
            headers_are_searched_case_insensitively_by_the_store,
            text_is_indexed_in_the_background_and_searched_by_word_prefix,
            the_outbound_queue_holds_bodies_until_each_recipient_is_done,
            a_batch_is_stored_whole_or_not_at_all,
        );
        conformance::suite!(@tests $factory; cluster;
            nodes_beat_and_are_listed,
            queue_entries_are_claimed_by_one_live_node,
            concurrent_claims_never_share_an_entry,
        );
        conformance::suite!(@tests $factory; calendar;
            every_mailbox_has_a_default_calendar_and_more_can_be_made,
            writes_are_conditional_unique_by_uid_and_logged,
        );
    };
    (@tests $factory:path; $module:ident; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let Some((_guard, store)) = $factory().await else { return };
                conformance::$module::$name(store).await;
            }
        )*
    };
}
pub(crate) use suite;

pub fn addr(s: &str) -> EmailAddress {
    EmailAddress::parse(s).expect("test address")
}

pub fn domain(s: &str) -> DomainName {
    DomainName::parse(s).expect("test domain")
}

pub async fn seed_domain(store: &dyn DirectoryStore) {
    store.add_accepted_domain(&domain("contoso.com"), true).await.expect("add domain");
}

pub fn new_mailbox(kind: RecipientKind, name: &str, address: &str) -> NewRecipient {
    let alias = name.replace(' ', "");
    let account = kind.has_mailbox().then(|| NewAccount {
        password_hash: (kind == RecipientKind::UserMailbox).then(|| PasswordHash("$argon2id$fake".into())),
        sign_in_blocked: kind == RecipientKind::SharedMailbox,
        roles: BTreeSet::new(),
    });
    NewRecipient {
        kind,
        name: name.to_string(),
        display_name: name.to_string(),
        alias,
        primary_address: addr(address),
        secondary_addresses: Vec::new(),
        account,
        mailbox: kind.has_mailbox().then(MailboxSettings::default),
        members: Vec::new(),
    }
}

pub async fn create(store: &dyn DirectoryStore, name: &str, address: &str) -> Recipient {
    store.create_recipient(new_mailbox(RecipientKind::SharedMailbox, name, address)).await.expect("create")
}

pub async fn create_kind(
    store: &dyn DirectoryStore,
    kind: RecipientKind,
    name: &str,
    address: &str,
) -> Recipient {
    store.create_recipient(new_mailbox(kind, name, address)).await.expect("create")
}

pub fn mailbox(r: &Recipient) -> MailboxId {
    r.mailbox_id().expect("a mailbox")
}

pub fn entry(recipient: &Recipient, trustee: &Recipient, right: Right, automapping: bool) -> PermissionEntry {
    PermissionEntry { recipient: recipient.id, trustee: trustee.id, right, automapping, no_purge: false }
}
