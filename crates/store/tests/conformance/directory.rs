//! Conformance tests of `DirectoryStore`.

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::{TimeZone, Utc};
use mailroom_core::directory::model::{
    AdminRole, AutoReplyConfig, AutoReplyState, ExternalAudience, PasswordHash, Quota, RecipientKind,
};
use mailroom_core::permissions::Right;
use mailroom_core::store::{DirectoryStore, MailboxWrite, RecipientIdentity, StoreError};
use mailroom_types::PrincipalId;

use super::{addr, create, create_kind, domain, entry, mailbox, new_mailbox, seed_domain};

type Store = Arc<dyn DirectoryStore>;

pub async fn domains_have_one_default(store: Store) {
    assert!(store.accepted_domains().await.unwrap().is_empty());
    store.add_accepted_domain(&domain("contoso.com"), false).await.unwrap();
    store.add_accepted_domain(&domain("fabrikam.com"), false).await.unwrap();
    let defaults = |d: Vec<mailroom_core::directory::model::AcceptedDomain>| {
        d.into_iter().filter(|d| d.is_default).map(|d| d.name.to_string()).collect::<Vec<_>>()
    };
    assert_eq!(
        defaults(store.accepted_domains().await.unwrap()),
        ["contoso.com"],
        "the first domain is the default"
    );
    store.add_accepted_domain(&domain("tailspin.com"), true).await.unwrap();
    assert_eq!(defaults(store.accepted_domains().await.unwrap()), ["tailspin.com"]);
    store.set_default_domain(&domain("fabrikam.com")).await.unwrap();
    assert_eq!(defaults(store.accepted_domains().await.unwrap()), ["fabrikam.com"]);
    assert!(matches!(
        store.add_accepted_domain(&domain("CONTOSO.com"), false).await,
        Err(StoreError::DomainExists(_))
    ));
    assert!(matches!(store.set_default_domain(&domain("nowhere.com")).await, Err(StoreError::NotFound(_))));
    assert_eq!(
        defaults(store.accepted_domains().await.unwrap()),
        ["fabrikam.com"],
        "a failed change changes nothing"
    );
    assert_eq!(store.accepted_domains().await.unwrap().len(), 3);
}

pub async fn recipients_are_found_by_id_address_name_and_alias(store: Store) {
    seed_domain(&*store).await;
    let mut new = new_mailbox(RecipientKind::SharedMailbox, "Sales Department", "Sales@contoso.com");
    new.alias = "Sales".into();
    new.secondary_addresses = vec![addr("salg@contoso.com")];
    let sales = store.create_recipient(new).await.unwrap();
    assert_eq!(sales.primary_address.to_string(), "Sales@contoso.com", "spelling is kept");
    assert_eq!(sales.secondary_addresses, vec![addr("salg@contoso.com")]);

    assert_eq!(store.recipient(sales.id).await.unwrap().as_ref(), Some(&sales));
    for lookup in ["sales@CONTOSO.com", "SALG@contoso.com"] {
        assert_eq!(
            store.recipient_by_address(&addr(lookup)).await.unwrap().map(|r| r.id),
            Some(sales.id),
            "{lookup}"
        );
    }
    assert!(store.recipient_by_address(&addr("sales@fabrikam.com")).await.unwrap().is_none());
    for text in ["sales department", "SALES"] {
        let found = store.recipients_by_name_or_alias(text).await.unwrap();
        assert_eq!(found.iter().map(|r| r.id).collect::<Vec<_>>(), vec![sales.id], "{text}");
    }
    assert!(store.recipients_by_name_or_alias("Sale").await.unwrap().is_empty(), "no prefix matching");
    assert!(store.recipient(PrincipalId(9999)).await.unwrap().is_none());
}

pub async fn lists_are_filtered_by_kind_and_ordered_by_name(store: Store) {
    seed_domain(&*store).await;
    create_kind(&*store, RecipientKind::UserMailbox, "bob", "bob@contoso.com").await;
    create_kind(&*store, RecipientKind::SharedMailbox, "Info", "info@contoso.com").await;
    create_kind(&*store, RecipientKind::UserMailbox, "Alice", "alice@contoso.com").await;
    create_kind(&*store, RecipientKind::SecurityGroup, "Team", "team@contoso.com").await;
    let names = |rs: Vec<mailroom_core::directory::model::Recipient>| {
        rs.into_iter().map(|r| r.name).collect::<Vec<_>>()
    };
    assert_eq!(names(store.list_recipients(&[RecipientKind::UserMailbox]).await.unwrap()), ["Alice", "bob"]);
    assert_eq!(
        names(store.list_recipients(&RecipientKind::MAILBOXES).await.unwrap()),
        ["Alice", "bob", "Info"]
    );
    assert_eq!(names(store.list_recipients(&RecipientKind::ALL).await.unwrap()).len(), 4);
    assert!(store.list_recipients(&[]).await.unwrap().is_empty());
}

pub async fn searches_are_paged_and_match_names_and_addresses(store: Store) {
    seed_domain(&*store).await;
    for i in 0..25 {
        create_kind(
            &*store,
            RecipientKind::SharedMailbox,
            &format!("Team {i:02}"),
            &format!("team{i:02}@contoso.com"),
        )
        .await;
    }
    let mut sales = new_mailbox(RecipientKind::SharedMailbox, "Sales Department", "sales@contoso.com");
    sales.display_name = "Ventes 100%".into();
    sales.secondary_addresses = vec![addr("Verkauf@contoso.com")];
    store.create_recipient(sales).await.unwrap();
    create_kind(&*store, RecipientKind::UserMailbox, "Alice", "alice@contoso.com").await;
    let mut nordic = new_mailbox(RecipientKind::SharedMailbox, "Kundeservice", "kunde@contoso.com");
    nordic.display_name = "ÅSE ØVERGÅRD".into();
    store.create_recipient(nordic).await.unwrap();
    let shared = [RecipientKind::SharedMailbox];
    let names = |rs: &[mailroom_core::directory::model::Recipient]| {
        rs.iter().map(|r| r.name.clone()).collect::<Vec<_>>()
    };

    let (total, page) = store.search_recipients(&shared, "", 0, 10).await.unwrap();
    assert_eq!((total, page.len()), (27, 10));
    assert_eq!(names(&page)[..2], ["Kundeservice", "Sales Department"], "ordered by name");
    let (total, last) = store.search_recipients(&shared, "", 20, 10).await.unwrap();
    assert_eq!(total, 27);
    assert_eq!(names(&last), ["Team 18", "Team 19", "Team 20", "Team 21", "Team 22", "Team 23", "Team 24"]);
    assert!(store.search_recipients(&shared, "", 40, 10).await.unwrap().1.is_empty());
    // By name, display name and any address, ignoring case; `%` and `_` are text.
    for (text, expected) in
        [("TEAM 0", 10), ("ventes", 1), ("100%", 1), ("verkauf@", 1), ("_", 0), ("alice", 0), ("åse øv", 1)]
    {
        let (total, found) = store.search_recipients(&shared, text, 0, 100).await.unwrap();
        assert_eq!((total, found.len()), (expected, expected), "{text}");
    }
    let (total, found) = store.search_recipients(&RecipientKind::MAILBOXES, "alice", 0, 100).await.unwrap();
    assert_eq!((total, names(&found)), (1, vec!["Alice".to_string()]));
    assert_eq!(store.search_recipients(&[], "", 0, 10).await.unwrap(), (0, Vec::new()));
}

pub async fn names_aliases_and_addresses_are_unique_without_case(store: Store) {
    seed_domain(&*store).await;
    store.add_accepted_domain(&domain("fabrikam.com"), false).await.unwrap();
    let mut first = new_mailbox(RecipientKind::SharedMailbox, "Info", "info@contoso.com");
    first.secondary_addresses = vec![addr("hello@contoso.com")];
    store.create_recipient(first).await.unwrap();

    let err =
        store.create_recipient(new_mailbox(RecipientKind::SharedMailbox, "INFO", "x@contoso.com")).await;
    assert!(matches!(err, Err(StoreError::NameTaken { .. })), "{err:?}");

    let mut same_alias = new_mailbox(RecipientKind::SharedMailbox, "Other", "other@contoso.com");
    same_alias.alias = "info".into();
    let err = store.create_recipient(same_alias).await;
    assert!(matches!(&err, Err(StoreError::AliasTaken { holder, .. }) if holder == "Info"), "{err:?}");

    let err =
        store.create_recipient(new_mailbox(RecipientKind::SharedMailbox, "Info2", "INFO@Contoso.com")).await;
    assert!(
        matches!(&err, Err(StoreError::AddressTaken { holder, primary: true, .. }) if holder == "Info"),
        "{err:?}"
    );

    let mut secondary_clash = new_mailbox(RecipientKind::SharedMailbox, "Info3", "info3@contoso.com");
    secondary_clash.secondary_addresses = vec![addr("Hello@contoso.com")];
    let err = store.create_recipient(secondary_clash).await;
    assert!(matches!(&err, Err(StoreError::AddressTaken { primary: false, .. })), "{err:?}");

    // The same local part in another domain is another address (SPEC §1).
    let mut other_domain = new_mailbox(RecipientKind::SharedMailbox, "Info Fabrikam", "info@fabrikam.com");
    other_domain.alias = "infofabrikam".into();
    store.create_recipient(other_domain).await.unwrap();
}

pub async fn failed_creation_writes_nothing(store: Store) {
    seed_domain(&*store).await;
    create(&*store, "Info", "info@contoso.com").await;
    let mut clash = new_mailbox(RecipientKind::UserMailbox, "Fresh", "fresh@contoso.com");
    clash.secondary_addresses = vec![addr("info@contoso.com")];
    assert!(store.create_recipient(clash).await.is_err());
    assert!(store.recipient_by_address(&addr("fresh@contoso.com")).await.unwrap().is_none());
    assert!(store.recipients_by_name_or_alias("Fresh").await.unwrap().is_empty());
    assert_eq!(store.list_recipients(&RecipientKind::ALL).await.unwrap().len(), 1);
}

pub async fn identity_edits_replace_addresses_and_free_old_ones(store: Store) {
    seed_domain(&*store).await;
    let sales = create(&*store, "Sales", "sales@contoso.com").await;
    let other = create(&*store, "Other", "other@contoso.com").await;
    let updated = store
        .update_identity(
            sales.id,
            RecipientIdentity {
                name: "Sales Team".into(),
                display_name: "Sales Team".into(),
                alias: "SalesTeam".into(),
                primary_address: addr("team@contoso.com"),
                // Its own old address stays as a secondary one: no clash with itself.
                secondary_addresses: vec![addr("sales@contoso.com")],
            },
        )
        .await
        .unwrap();
    assert_eq!(updated.id, sales.id);
    assert_eq!(updated.name, "Sales Team");
    assert_eq!(updated.primary_address, addr("team@contoso.com"));
    assert_eq!(updated.secondary_addresses, vec![addr("sales@contoso.com")]);

    let clash = RecipientIdentity {
        name: "Other".into(),
        display_name: "Other".into(),
        alias: "Other".into(),
        primary_address: addr("other@contoso.com"),
        secondary_addresses: vec![addr("TEAM@contoso.com")],
    };
    assert!(matches!(store.update_identity(other.id, clash).await, Err(StoreError::AddressTaken { .. })));
    assert_eq!(store.recipient(other.id).await.unwrap().unwrap(), other, "a refused edit changes nothing");

    // Dropping an address frees it for others.
    store
        .update_identity(
            sales.id,
            RecipientIdentity {
                name: "Sales Team".into(),
                display_name: "Sales Team".into(),
                alias: "SalesTeam".into(),
                primary_address: addr("team@contoso.com"),
                secondary_addresses: vec![],
            },
        )
        .await
        .unwrap();
    create(&*store, "New Sales", "sales@contoso.com").await;
    assert!(matches!(
        store
            .update_identity(
                other.id,
                RecipientIdentity {
                    name: "sales team".into(),
                    display_name: "x".into(),
                    alias: "Other".into(),
                    primary_address: addr("other@contoso.com"),
                    secondary_addresses: vec![],
                },
            )
            .await,
        Err(StoreError::NameTaken { .. })
    ));
    assert!(matches!(
        store
            .update_identity(
                PrincipalId(777),
                RecipientIdentity {
                    name: "Ghost".into(),
                    display_name: "Ghost".into(),
                    alias: "Ghost".into(),
                    primary_address: addr("ghost@contoso.com"),
                    secondary_addresses: vec![],
                }
            )
            .await,
        Err(StoreError::NotFound(_))
    ));
}

pub async fn conversion_keeps_id_addresses_settings_and_grants(store: Store) {
    seed_domain(&*store).await;
    let alice = create_kind(&*store, RecipientKind::UserMailbox, "Alice", "alice@contoso.com").await;
    let bob = create_kind(&*store, RecipientKind::UserMailbox, "Bob", "bob@contoso.com").await;
    store.grant(&[entry(&alice, &bob, Right::FullAccess, true)]).await.unwrap();
    let mut settings = store.mailbox_settings(mailbox(&alice)).await.unwrap().unwrap();
    settings.message_copy_for_sent_as = true;
    store.set_mailbox_settings(mailbox(&alice), &settings).await.unwrap();

    let shared =
        store.convert_mailbox(mailbox(&alice), RecipientKind::SharedMailbox, None, true).await.unwrap();
    assert_eq!(shared.id, alice.id);
    assert_eq!(shared.kind, RecipientKind::SharedMailbox);
    assert_eq!(shared.primary_address, alice.primary_address);
    let account = store.account(alice.id).await.unwrap().unwrap();
    assert!(account.password_hash.is_none());
    assert!(account.sign_in_blocked);
    assert_eq!(store.permissions_on(alice.id).await.unwrap().len(), 1);
    assert!(store.mailbox_settings(mailbox(&alice)).await.unwrap().unwrap().message_copy_for_sent_as);

    let back = store
        .convert_mailbox(
            mailbox(&alice),
            RecipientKind::UserMailbox,
            Some(PasswordHash("$argon2id$new".into())),
            false,
        )
        .await
        .unwrap();
    assert_eq!(back.kind, RecipientKind::UserMailbox);
    let account = store.account(alice.id).await.unwrap().unwrap();
    assert_eq!(account.password_hash, Some(PasswordHash("$argon2id$new".into())));
    assert!(!account.sign_in_blocked);

    let group = create_kind(&*store, RecipientKind::SecurityGroup, "Team", "team@contoso.com").await;
    assert!(
        store
            .convert_mailbox(mailroom_types::MailboxId(group.id.0), RecipientKind::SharedMailbox, None, true)
            .await
            .is_err()
    );
}

pub async fn deleting_a_recipient_removes_what_refers_to_it(store: Store) {
    seed_domain(&*store).await;
    let sales = create(&*store, "Sales", "sales@contoso.com").await;
    let alice = create_kind(&*store, RecipientKind::UserMailbox, "Alice", "alice@contoso.com").await;
    let team = create_kind(&*store, RecipientKind::SecurityGroup, "Team", "team@contoso.com").await;
    store.add_group_member(team.id, alice.id).await.unwrap();
    store
        .grant(&[entry(&sales, &alice, Right::FullAccess, true), entry(&alice, &sales, Right::SendAs, false)])
        .await
        .unwrap();
    let mut settings = store.mailbox_settings(mailbox(&sales)).await.unwrap().unwrap();
    settings.forwarding_recipient = Some(alice.id);
    store.set_mailbox_settings(mailbox(&sales), &settings).await.unwrap();

    store.delete_recipient(alice.id).await.unwrap();
    assert!(store.recipient(alice.id).await.unwrap().is_none());
    assert!(store.recipient_by_address(&addr("alice@contoso.com")).await.unwrap().is_none());
    assert!(store.account(alice.id).await.unwrap().is_none());
    assert!(store.permissions_on(sales.id).await.unwrap().is_empty());
    assert!(store.permissions_held_by(&[sales.id]).await.unwrap().is_empty());
    assert!(store.group_members(team.id).await.unwrap().is_empty());
    assert_eq!(store.mailbox_settings(mailbox(&sales)).await.unwrap().unwrap().forwarding_recipient, None);
    assert!(matches!(store.delete_recipient(alice.id).await, Err(StoreError::NotFound(_))));
    // The address is free again.
    create_kind(&*store, RecipientKind::UserMailbox, "Alice Again", "alice@contoso.com").await;
}

pub async fn accounts_store_hash_block_and_roles(store: Store) {
    seed_domain(&*store).await;
    let alice = create_kind(&*store, RecipientKind::UserMailbox, "Alice", "alice@contoso.com").await;
    let account = store.account(alice.id).await.unwrap().unwrap();
    assert!(!account.sign_in_blocked);
    assert!(account.roles.is_empty());
    store.set_password_hash(alice.id, Some(PasswordHash("$argon2id$changed".into()))).await.unwrap();
    store.set_sign_in_blocked(alice.id, true).await.unwrap();
    let roles: BTreeSet<_> = [AdminRole::GlobalAdmin, AdminRole::ExchangeAdmin].into();
    store.set_roles(alice.id, &roles).await.unwrap();
    let account = store.account(alice.id).await.unwrap().unwrap();
    assert_eq!(account.password_hash, Some(PasswordHash("$argon2id$changed".into())));
    assert!(account.sign_in_blocked);
    assert_eq!(account.roles, roles);
    store.set_roles(alice.id, &[AdminRole::ExchangeAdmin].into()).await.unwrap();
    assert_eq!(store.account(alice.id).await.unwrap().unwrap().roles, [AdminRole::ExchangeAdmin].into());

    let team = create_kind(&*store, RecipientKind::SecurityGroup, "Team", "team@contoso.com").await;
    assert!(store.account(team.id).await.unwrap().is_none(), "groups have no account");
    assert!(matches!(store.set_sign_in_blocked(team.id, true).await, Err(StoreError::NotFound(_))));
    assert!(matches!(store.set_roles(team.id, &roles).await, Err(StoreError::NotFound(_))));
}

/// A SCRAM verifier is kept only for the password hash it was derived
/// from, and any change of the hash drops it.
pub async fn scram_verifiers_follow_the_password_hash(store: Store) {
    seed_domain(&*store).await;
    let alice = create_kind(&*store, RecipientKind::UserMailbox, "Alice", "alice@contoso.com").await;
    let first = PasswordHash("$argon2id$first".into());
    store.set_password_hash(alice.id, Some(first.clone())).await.unwrap();
    assert_eq!(store.account(alice.id).await.unwrap().unwrap().scram_verifier, None);
    assert!(store.set_scram_verifier(alice.id, &first, "SCRAM-SHA-256$4096:a$b:c").await.unwrap());
    let account = store.account(alice.id).await.unwrap().unwrap();
    assert_eq!(account.scram_verifier.as_deref(), Some("SCRAM-SHA-256$4096:a$b:c"));
    // Another hash: not kept (the password changed meanwhile).
    let stale = PasswordHash("$argon2id$stale".into());
    assert!(!store.set_scram_verifier(alice.id, &stale, "SCRAM-SHA-256$4096:x$y:z").await.unwrap());
    assert_eq!(
        store.account(alice.id).await.unwrap().unwrap().scram_verifier.as_deref(),
        Some("SCRAM-SHA-256$4096:a$b:c")
    );
    // The same hash written again keeps it; a new hash or none drops it.
    store.set_password_hash(alice.id, Some(first.clone())).await.unwrap();
    assert!(store.account(alice.id).await.unwrap().unwrap().scram_verifier.is_some());
    store.set_password_hash(alice.id, Some(PasswordHash("$argon2id$second".into()))).await.unwrap();
    assert_eq!(store.account(alice.id).await.unwrap().unwrap().scram_verifier, None);
    assert!(store.set_scram_verifier(alice.id, &PasswordHash("$argon2id$second".into()), "v").await.unwrap());
    store.set_password_hash(alice.id, None).await.unwrap();
    assert_eq!(store.account(alice.id).await.unwrap().unwrap().scram_verifier, None);
}

pub async fn mailbox_settings_round_trip(store: Store) {
    seed_domain(&*store).await;
    let sales = create(&*store, "Sales", "sales@contoso.com").await;
    let alice = create_kind(&*store, RecipientKind::UserMailbox, "Alice", "alice@contoso.com").await;
    let defaults = store.mailbox_settings(mailbox(&sales)).await.unwrap().unwrap();
    assert_eq!(defaults, Default::default());
    let mut s = defaults.clone();
    s.forwarding_recipient = Some(alice.id);
    s.forwarding_smtp_address = Some(addr("Someone@Fabrikam.com"));
    s.deliver_to_mailbox_and_forward = true;
    s.message_copy_for_sent_as = true;
    s.message_copy_for_send_on_behalf = true;
    s.quota.issue_warning = Quota::Bytes(1);
    s.quota.prohibit_send = Quota::Bytes(5 * (1 << 40));
    s.quota.prohibit_send_receive = Quota::Unlimited;
    s.automap_groups = true;
    store.set_mailbox_settings(mailbox(&sales), &s).await.unwrap();
    let back = store.mailbox_settings(mailbox(&sales)).await.unwrap().unwrap();
    assert_eq!(back, s);
    assert_eq!(back.forwarding_smtp_address.unwrap().to_string(), "Someone@fabrikam.com");
    let team = create_kind(&*store, RecipientKind::SecurityGroup, "Team", "team@contoso.com").await;
    assert!(store.mailbox_settings(mailroom_types::MailboxId(team.id.0)).await.unwrap().is_none());
    assert!(store.set_mailbox_settings(mailroom_types::MailboxId(team.id.0), &s).await.is_err());
}

pub async fn auto_reply_defaults_then_round_trips(store: Store) {
    seed_domain(&*store).await;
    let sales = create(&*store, "Sales", "sales@contoso.com").await;
    assert_eq!(store.auto_reply(mailbox(&sales)).await.unwrap(), AutoReplyConfig::default());
    let config = AutoReplyConfig {
        state: AutoReplyState::Scheduled,
        start_time: Some(Utc.with_ymd_and_hms(2026, 12, 24, 8, 0, 0).unwrap()),
        end_time: Some(Utc.with_ymd_and_hms(2027, 1, 2, 17, 30, 0).unwrap()),
        internal_message: "Back after the holidays.\nGod jul!".into(),
        external_message: "We are closed until 2 January.".into(),
        external_audience: ExternalAudience::Known,
    };
    store.set_auto_reply(mailbox(&sales), &config).await.unwrap();
    assert_eq!(store.auto_reply(mailbox(&sales)).await.unwrap(), config);
    let off = AutoReplyConfig { state: AutoReplyState::Disabled, ..config.clone() };
    store.set_auto_reply(mailbox(&sales), &off).await.unwrap();
    assert_eq!(store.auto_reply(mailbox(&sales)).await.unwrap(), off);
}

pub async fn groups_nest_and_resolve_both_ways(store: Store) {
    seed_domain(&*store).await;
    let alice = create_kind(&*store, RecipientKind::UserMailbox, "Alice", "alice@contoso.com").await;
    let bob = create_kind(&*store, RecipientKind::UserMailbox, "Bob", "bob@contoso.com").await;
    let inner = create_kind(&*store, RecipientKind::SecurityGroup, "Inner", "inner@contoso.com").await;
    let outer = create_kind(&*store, RecipientKind::SecurityGroup, "Outer", "outer@contoso.com").await;
    assert!(store.add_group_member(inner.id, alice.id).await.unwrap());
    assert!(!store.add_group_member(inner.id, alice.id).await.unwrap(), "second add changes nothing");
    assert!(store.add_group_member(outer.id, inner.id).await.unwrap());
    assert!(store.add_group_member(outer.id, bob.id).await.unwrap());

    assert_eq!(store.group_members(outer.id).await.unwrap(), sorted(vec![inner.id, bob.id]));
    assert_eq!(
        store.group_members_transitive(outer.id).await.unwrap(),
        sorted(vec![alice.id, bob.id, inner.id])
    );
    assert_eq!(store.groups_of(alice.id).await.unwrap(), sorted(vec![inner.id, outer.id]));
    assert_eq!(store.groups_of(bob.id).await.unwrap(), vec![outer.id]);

    assert!(store.remove_group_member(outer.id, inner.id).await.unwrap());
    assert!(!store.remove_group_member(outer.id, inner.id).await.unwrap());
    assert_eq!(store.groups_of(alice.id).await.unwrap(), vec![inner.id]);
    assert!(store.add_group_member(outer.id, PrincipalId(4242)).await.is_err(), "unknown member");
}

pub async fn cycles_are_refused_in_the_write(store: Store) {
    seed_domain(&*store).await;
    let a = create_kind(&*store, RecipientKind::SecurityGroup, "A", "a@contoso.com").await;
    let b = create_kind(&*store, RecipientKind::SecurityGroup, "B", "b@contoso.com").await;
    let c = create_kind(&*store, RecipientKind::SecurityGroup, "C", "c@contoso.com").await;
    assert!(matches!(store.add_group_member(a.id, a.id).await, Err(StoreError::WouldCycle)));
    store.add_group_member(a.id, b.id).await.unwrap();
    store.add_group_member(b.id, c.id).await.unwrap();
    assert!(matches!(store.add_group_member(c.id, a.id).await, Err(StoreError::WouldCycle)));
    assert!(matches!(store.add_group_member(b.id, a.id).await, Err(StoreError::WouldCycle)));
    assert!(store.group_members(c.id).await.unwrap().is_empty(), "nothing written");
    assert_eq!(store.group_members_transitive(a.id).await.unwrap(), sorted(vec![b.id, c.id]));
}

pub async fn groups_are_created_with_their_members(store: Store) {
    seed_domain(&*store).await;
    let alice = create_kind(&*store, RecipientKind::UserMailbox, "Alice", "alice@contoso.com").await;
    let mut new = new_mailbox(RecipientKind::DistributionGroup, "Staff", "staff@contoso.com");
    new.members = vec![alice.id];
    let staff = store.create_recipient(new).await.unwrap();
    assert_eq!(store.group_members(staff.id).await.unwrap(), vec![alice.id]);
    let mut bad = new_mailbox(RecipientKind::DistributionGroup, "Ghosts", "ghosts@contoso.com");
    bad.members = vec![PrincipalId(4242)];
    assert!(store.create_recipient(bad).await.is_err());
    assert!(store.recipients_by_name_or_alias("Ghosts").await.unwrap().is_empty(), "nothing written");
}

pub async fn recipient_ids_are_never_reused(store: Store) {
    seed_domain(&*store).await;
    create(&*store, "A", "a@contoso.com").await;
    let b = create(&*store, "B", "b@contoso.com").await;
    store.delete_recipient(b.id).await.unwrap();
    let c = create(&*store, "C", "c@contoso.com").await;
    assert!(c.id > b.id, "{:?} after {:?}", c.id, b.id);
}

pub async fn mailbox_updates_write_all_or_nothing(store: Store) {
    seed_domain(&*store).await;
    let alice = create_kind(&*store, RecipientKind::UserMailbox, "Alice", "alice@contoso.com").await;
    let bob = create_kind(&*store, RecipientKind::UserMailbox, "Bob", "bob@contoso.com").await;
    store.set_roles(alice.id, &[AdminRole::GlobalAdmin].into()).await.unwrap();
    let mut settings = store.mailbox_settings(mailbox(&alice)).await.unwrap().unwrap();
    settings.message_copy_for_sent_as = true;
    let clash = MailboxWrite {
        kind: Some((RecipientKind::SharedMailbox, None)),
        identity: Some(RecipientIdentity {
            name: "Alice".into(),
            display_name: "Alice".into(),
            alias: "Alice".into(),
            primary_address: addr("alice@contoso.com"),
            secondary_addresses: vec![addr("bob@contoso.com")],
        }),
        settings: Some(settings.clone()),
        send_on_behalf: Some(vec![bob.id]),
        sign_in_blocked: Some(true),
    };
    assert!(matches!(
        store.update_mailbox(mailbox(&alice), clash).await,
        Err(StoreError::AddressTaken { .. })
    ));
    let account = store.account(alice.id).await.unwrap().unwrap();
    assert!(account.password_hash.is_some() && !account.sign_in_blocked, "account untouched");
    assert_eq!(account.roles.len(), 1);
    assert_eq!(store.recipient(alice.id).await.unwrap().unwrap().kind, RecipientKind::UserMailbox);
    assert!(!store.mailbox_settings(mailbox(&alice)).await.unwrap().unwrap().message_copy_for_sent_as);
    assert!(store.permissions_on(alice.id).await.unwrap().is_empty());

    let fine = MailboxWrite {
        kind: Some((RecipientKind::SharedMailbox, None)),
        settings: Some(settings),
        send_on_behalf: Some(vec![bob.id]),
        sign_in_blocked: Some(true),
        ..Default::default()
    };
    let updated = store.update_mailbox(mailbox(&alice), fine).await.unwrap();
    assert_eq!(updated.kind, RecipientKind::SharedMailbox);
    let account = store.account(alice.id).await.unwrap().unwrap();
    assert!(account.password_hash.is_none() && account.sign_in_blocked);
    assert!(account.roles.is_empty(), "becoming shared drops admin roles");
    assert!(store.mailbox_settings(mailbox(&alice)).await.unwrap().unwrap().message_copy_for_sent_as);
    assert_eq!(store.permissions_on(alice.id).await.unwrap().len(), 1);
}

pub async fn grant_lists_are_replaced_in_one_step(store: Store) {
    seed_domain(&*store).await;
    let sales = create(&*store, "Sales", "sales@contoso.com").await;
    let alice = create_kind(&*store, RecipientKind::UserMailbox, "Alice", "alice@contoso.com").await;
    let bob = create_kind(&*store, RecipientKind::UserMailbox, "Bob", "bob@contoso.com").await;
    let behalf =
        |t: &mailroom_core::directory::model::Recipient| entry(&sales, t, Right::SendOnBehalf, false);
    let (added, removed) = store.set_grants(sales.id, Right::SendOnBehalf, &[behalf(&alice)]).await.unwrap();
    assert_eq!((added, removed), (vec![alice.id], vec![]));
    let (added, removed) = store.set_grants(sales.id, Right::SendOnBehalf, &[behalf(&bob)]).await.unwrap();
    assert_eq!((added, removed), (vec![bob.id], vec![alice.id]));
    let ghost = mailroom_core::permissions::PermissionEntry {
        recipient: sales.id,
        trustee: PrincipalId(999),
        right: Right::SendOnBehalf,
        automapping: false,
        no_purge: false,
    };
    assert!(store.set_grants(sales.id, Right::SendOnBehalf, &[behalf(&alice), ghost]).await.is_err());
    let holders: Vec<_> =
        store.permissions_on(sales.id).await.unwrap().into_iter().map(|e| e.trustee).collect();
    assert_eq!(holders, vec![bob.id], "a failed replacement changes nothing");
}

pub async fn grants_report_what_changed(store: Store) {
    seed_domain(&*store).await;
    let sales = create(&*store, "Sales", "sales@contoso.com").await;
    let alice = create_kind(&*store, RecipientKind::UserMailbox, "Alice", "alice@contoso.com").await;
    let team = create_kind(&*store, RecipientKind::SecurityGroup, "Team", "team@contoso.com").await;
    let changed = store
        .grant(&[
            entry(&sales, &alice, Right::FullAccess, true),
            entry(&sales, &alice, Right::SendAs, false),
            entry(&sales, &team, Right::SendOnBehalf, false),
        ])
        .await
        .unwrap();
    assert_eq!(changed, [true, true, true]);
    assert_eq!(store.grant(&[entry(&sales, &alice, Right::FullAccess, true)]).await.unwrap(), [false]);
    assert_eq!(
        store.grant(&[entry(&sales, &alice, Right::FullAccess, false)]).await.unwrap(),
        [true],
        "automapping changed"
    );
    let no_purge = mailroom_core::permissions::PermissionEntry {
        no_purge: true,
        ..entry(&sales, &alice, Right::FullAccess, false)
    };
    assert_eq!(store.grant(&[no_purge]).await.unwrap(), [true], "NoPurge changed");
    assert!(store.permissions_on(sales.id).await.unwrap().contains(&no_purge));
    assert!(store.permissions_held_by(&[alice.id]).await.unwrap().contains(&no_purge));
    assert_eq!(store.grant(&[no_purge]).await.unwrap(), [false]);
    assert_eq!(
        store.grant(&[entry(&sales, &alice, Right::FullAccess, false)]).await.unwrap(),
        [true],
        "NoPurge lifted"
    );
    let on = store.permissions_on(sales.id).await.unwrap();
    assert_eq!(on.len(), 3);
    assert!(on.contains(&entry(&sales, &alice, Right::FullAccess, false)));
    let held = store.permissions_held_by(&[alice.id, team.id]).await.unwrap();
    assert_eq!(held.len(), 3);
    assert!(store.permissions_held_by(&[sales.id]).await.unwrap().is_empty());

    let removed = store
        .revoke(&[(sales.id, alice.id, Right::SendAs), (sales.id, alice.id, Right::SendOnBehalf)])
        .await
        .unwrap();
    assert_eq!(removed, [true, false]);
    assert_eq!(store.permissions_on(sales.id).await.unwrap().len(), 2);
    assert!(
        store
            .grant(&[mailroom_core::permissions::PermissionEntry {
                recipient: sales.id,
                trustee: PrincipalId(999),
                right: Right::SendAs,
                automapping: false,
                no_purge: false,
            }])
            .await
            .is_err(),
        "unknown trustee"
    );
    assert_eq!(store.permissions_on(sales.id).await.unwrap().len(), 2);
}

pub async fn concurrent_writes_all_land_and_conflicts_lose_alone(store: Store) {
    seed_domain(&*store).await;
    // Many writers at once: the group-commit writer batches them; every
    // distinct one lands, and of those racing for one name exactly one wins.
    let mut tasks = Vec::new();
    for i in 0..40 {
        let store = Arc::clone(&store);
        tasks.push(tokio::spawn(async move {
            let name = if i % 2 == 0 { format!("Box {i}") } else { "Contested".to_string() };
            let address = format!("box{i}@contoso.com");
            let mut new = new_mailbox(RecipientKind::SharedMailbox, &name, &address);
            new.alias = format!("box{i}");
            store.create_recipient(new).await
        }));
    }
    let mut ok = 0;
    let mut name_taken = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => ok += 1,
            Err(StoreError::NameTaken { .. }) => name_taken += 1,
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(ok, 21);
    assert_eq!(name_taken, 19);
    assert_eq!(store.list_recipients(&RecipientKind::ALL).await.unwrap().len(), 21);
}

fn sorted(mut ids: Vec<PrincipalId>) -> Vec<PrincipalId> {
    ids.sort();
    ids
}

pub async fn dkim_keys_rotate_in_one_step(store: Store) {
    use mailroom_core::directory::{DkimAlgorithm, NewDkimKey};
    store.add_accepted_domain(&domain("contoso.com"), false).await.unwrap();
    let contoso = domain("contoso.com");
    let pair = |day: &str| {
        vec![
            NewDkimKey {
                selector: format!("mr{day}e"),
                algorithm: DkimAlgorithm::Ed25519,
                private_key: mailroom_types::Secret::new(vec![1, 2, 3]),
                public_key: "ED".into(),
            },
            NewDkimKey {
                selector: format!("mr{day}r"),
                algorithm: DkimAlgorithm::Rsa,
                private_key: mailroom_types::Secret::new(vec![4, 5, 6]),
                public_key: "RSA".into(),
            },
        ]
    };
    assert!(store.dkim_keys(&contoso).await.unwrap().is_empty());
    assert!(store.add_dkim_keys(&contoso, pair("1"), true).await.unwrap());
    assert!(
        !store.add_dkim_keys(&contoso, pair("2"), true).await.unwrap(),
        "only if none: kept the first pair"
    );
    let keys = store.dkim_keys(&contoso).await.unwrap();
    assert_eq!(
        keys.iter().map(|k| (k.selector.as_str(), k.signing)).collect::<Vec<_>>(),
        [("mr1e", true), ("mr1r", true)]
    );
    assert_eq!(keys[1].private_key.expose(), &vec![4, 5, 6]);
    assert_eq!(keys[1].algorithm, DkimAlgorithm::Rsa);
    // A rotation: the new pair signs, the old one stays.
    assert!(store.add_dkim_keys(&contoso, pair("2"), false).await.unwrap());
    let signing: Vec<String> = store
        .dkim_keys(&contoso)
        .await
        .unwrap()
        .into_iter()
        .filter(|k| k.signing)
        .map(|k| k.selector)
        .collect();
    assert_eq!(signing.len(), 2);
    assert!(signing.iter().all(|s| s.starts_with("mr2")), "{signing:?}");
    assert_eq!(store.dkim_keys(&contoso).await.unwrap().len(), 4);
    // A selector used already: refused, nothing changed.
    assert!(matches!(
        store.add_dkim_keys(&contoso, pair("1"), false).await,
        Err(StoreError::NameTaken { .. })
    ));
    assert_eq!(store.dkim_keys(&contoso).await.unwrap().iter().filter(|k| k.signing).count(), 2);
    assert!(store.remove_dkim_key(&contoso, "mr1e").await.unwrap());
    assert!(!store.remove_dkim_key(&contoso, "mr1e").await.unwrap());
    assert_eq!(store.dkim_keys(&contoso).await.unwrap().len(), 3);
    assert!(store.dkim_keys(&domain("fabrikam.com")).await.unwrap().is_empty());
}

/// The server's secrets: the first offer is kept, later and concurrent
/// offers get it back (every node signs with one key), names are apart.
pub async fn server_secrets_are_kept_from_the_first_offer(store: Store) {
    let first = store.server_secret("srs", vec![1; 32]).await.unwrap();
    assert_eq!(first, vec![1; 32]);
    assert_eq!(
        store.server_secret("srs", vec![2; 32]).await.unwrap(),
        first,
        "a later offer changes nothing"
    );
    assert_eq!(store.server_secret("other", vec![3; 16]).await.unwrap(), vec![3; 16]);
    let mut offers = tokio::task::JoinSet::new();
    for n in 0..8u8 {
        let store = Arc::clone(&store);
        offers.spawn(async move { store.server_secret("raced", vec![n; 32]).await.unwrap() });
    }
    let mut kept = BTreeSet::new();
    while let Some(value) = offers.join_next().await {
        kept.insert(value.unwrap());
    }
    assert_eq!(kept.len(), 1, "concurrent offers agree on one value: {kept:?}");
    assert_eq!(store.server_secret("srs", vec![4; 32]).await.unwrap(), first);
}

/// A lookup with a NUL in its text (which nothing stored holds: names are
/// checked for control characters, and PostgreSQL's text can't hold one)
/// finds nobody, on every backend, rather than failing.
pub async fn lookups_with_nul_find_nobody(store: Store) {
    seed_domain(&*store).await;
    create(&*store, "Sales", "sales@contoso.com").await;
    assert!(store.recipients_by_name_or_alias("Sal\0es").await.unwrap().is_empty());
    assert!(store.recipients_by_name_or_alias("Sales").await.unwrap().len() == 1);
    let kinds = [RecipientKind::SharedMailbox, RecipientKind::UserMailbox];
    assert_eq!(store.search_recipients(&kinds, "sa\0", 0, 10).await.unwrap().0, 0);
}

/// Browser sessions: found by the hash of their token, limited per person
/// and in all, ended one by one or all of a person's at once.
pub async fn web_sessions_are_kept_limited_and_ended(store: Store) {
    use mailroom_core::store::{SessionLimits, StoredWebSession};
    seed_domain(&*store).await;
    let alice = create_kind(&*store, RecipientKind::UserMailbox, "Alice", "alice@contoso.com").await;
    let bob = create_kind(&*store, RecipientKind::UserMailbox, "Bob", "bob@contoso.com").await;
    let session = |id: &str, who: &mailroom_core::directory::model::Recipient, at: i64| StoredWebSession {
        id_hash: id.into(),
        principal: who.id,
        fingerprint: "fp".into(),
        admin: id.starts_with('x'),
        created_at: at,
        last_seen: at,
    };
    let limits = |now: i64| SessionLimits {
        idle_before: now - 100,
        created_before: now - 1000,
        per_principal: 2,
        total: 3,
    };
    assert!(store.start_web_session(&session("xa1", &alice, 1000), &limits(1000)).await.unwrap());
    assert_eq!(store.web_session("xa1").await.unwrap(), Some(session("xa1", &alice, 1000)));
    assert_eq!(store.web_session("nope").await.unwrap(), None);
    // A use moves last_seen; a third of Alice's sessions pushes out her least recent.
    assert!(store.start_web_session(&session("a2", &alice, 1001), &limits(1001)).await.unwrap());
    store.touch_web_session("xa1", 1002).await.unwrap();
    assert_eq!(store.web_session("xa1").await.unwrap().unwrap().last_seen, 1002);
    assert!(store.start_web_session(&session("a3", &alice, 1003), &limits(1003)).await.unwrap());
    assert_eq!(store.web_session("a2").await.unwrap(), None, "the least recently used went");
    assert!(store.web_session("xa1").await.unwrap().is_some());
    // The table is full at three: Bob's second is refused, nobody pushed out.
    assert!(store.start_web_session(&session("b1", &bob, 1004), &limits(1004)).await.unwrap());
    assert!(!store.start_web_session(&session("b2", &bob, 1005), &limits(1005)).await.unwrap());
    assert_eq!(store.count_web_sessions(&limits(1005)).await.unwrap(), 3);
    // Later, the idle ones are gone and make room.
    assert_eq!(store.count_web_sessions(&limits(1105)).await.unwrap(), 0);
    assert!(store.start_web_session(&session("b2", &bob, 1200), &limits(1200)).await.unwrap());
    assert_eq!(store.web_session("xa1").await.unwrap(), None, "expired sessions were removed");
    // Ending one, and all of a person's.
    store.end_web_session("b2").await.unwrap();
    assert_eq!(store.web_session("b2").await.unwrap(), None);
    assert!(store.start_web_session(&session("a4", &alice, 1201), &limits(1201)).await.unwrap());
    assert!(store.start_web_session(&session("b3", &bob, 1201), &limits(1201)).await.unwrap());
    store.end_web_sessions_of(alice.id).await.unwrap();
    assert_eq!(store.web_session("a4").await.unwrap(), None);
    assert!(store.web_session("b3").await.unwrap().is_some(), "Bob's stays");
    // Removing the account removes its sessions.
    store.delete_recipient(bob.id).await.unwrap();
    assert_eq!(store.web_session("b3").await.unwrap(), None);
}
