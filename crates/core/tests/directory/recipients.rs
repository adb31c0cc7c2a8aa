//! Creating, finding, editing, converting and removing recipients.

use mailroom_core::directory::{
    AddressChange, IdentityChange, MailboxType, NewMailbox, NewMailboxKind, ProxyAddress, RecipientKind,
};
use mailroom_core::{Change, CoreError};
use mailroom_types::DomainName;

use crate::common::{SYSTEM, addr, secret, world};

fn shared(name: &str) -> NewMailbox {
    NewMailbox {
        name: name.into(),
        display_name: None,
        alias: None,
        primary_address: None,
        kind: NewMailboxKind::Shared,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn shared_mailbox_from_a_name_alone_derives_alias_and_address() {
    let w = world().await;
    let sales = w.dir.create_mailbox(&SYSTEM, shared("Sales Department")).await.unwrap();
    assert_eq!(sales.kind, RecipientKind::SharedMailbox);
    assert_eq!(sales.alias, "SalesDepartment");
    assert_eq!(sales.display_name, "Sales Department");
    assert_eq!(sales.primary_address.to_string(), "SalesDepartment@contoso.com");
    assert!(w.changes.take().await.contains(&Change::RecipientCreated(sales.id)));

    // SPEC §1: created without a password, sign-in blocked.
    let account = w.dir.account(sales.id).await.unwrap();
    assert!(account.password_hash.is_none());
    assert!(account.sign_in_blocked);
}

#[tokio::test(flavor = "multi_thread")]
async fn derived_alias_and_address_are_numbered_when_taken() {
    let w = world().await;
    let first = w.dir.create_mailbox(&SYSTEM, shared("Sales")).await.unwrap();
    let mut second = shared("Sales EU");
    second.alias = None;
    let second = w.dir.create_mailbox(&SYSTEM, second).await.unwrap();
    assert_eq!(second.alias, "SalesEU");
    // A different name whose suggestion collides gets the next number.
    let third = w.dir.create_mailbox(&SYSTEM, shared("Sales!")).await.unwrap();
    assert_eq!(first.primary_address.to_string(), "Sales@contoso.com");
    assert_eq!(third.alias, "Sales2");
    assert_eq!(third.primary_address.to_string(), "Sales2@contoso.com");
}

#[tokio::test(flavor = "multi_thread")]
async fn explicit_alias_and_address_are_used_as_given() {
    let w = world().await;
    let mut spec = shared("Sales Department");
    spec.alias = Some("Sales".into());
    spec.display_name = Some("Sales (EMEA)".into());
    let sales = w.dir.create_mailbox(&SYSTEM, spec).await.unwrap();
    assert_eq!(sales.alias, "Sales");
    assert_eq!(sales.display_name, "Sales (EMEA)");
    assert_eq!(sales.primary_address.to_string(), "Sales@contoso.com");

    let mut spec = shared("Support");
    spec.primary_address = Some(addr("help.desk@contoso.com"));
    let support = w.dir.create_mailbox(&SYSTEM, spec).await.unwrap();
    assert_eq!(support.alias, "help.desk", "alias from the address's local part");
}

#[tokio::test(flavor = "multi_thread")]
async fn conflicting_address_gets_the_exchange_message() {
    let w = world().await;
    let mut info = shared("Info");
    info.primary_address = Some(addr("info@contoso.com"));
    w.dir.create_mailbox(&SYSTEM, info).await.unwrap();
    let mut clash = shared("Information");
    clash.primary_address = Some(addr("INFO@contoso.com"));
    let err = w.dir.create_mailbox(&SYSTEM, clash).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "The proxy address \"SMTP:INFO@contoso.com\" is already being used by the proxy addresses of \"Info\". Choose another proxy address.",
        "the address as the admin typed it; the clash ignores case"
    );
    assert!(w.dir.resolve("Information").await.is_err(), "nothing was created");
}

#[tokio::test(flavor = "multi_thread")]
async fn same_local_part_in_two_domains_is_two_addresses() {
    let w = world().await;
    w.dir.add_domain(&SYSTEM, &DomainName::parse("fabrikam.com").unwrap(), false).await.unwrap();
    let mut a = shared("Info Contoso");
    a.primary_address = Some(addr("info@contoso.com"));
    let mut b = shared("Info Fabrikam");
    b.primary_address = Some(addr("info@fabrikam.com"));
    let a = w.dir.create_mailbox(&SYSTEM, a).await.unwrap();
    let b = w.dir.create_mailbox(&SYSTEM, b).await.unwrap();
    assert_ne!(a.id, b.id);
    assert_eq!(a.alias, "info");
    assert_eq!(b.alias, "info2", "aliases stay unique");
    assert_eq!(w.dir.resolve("info@fabrikam.com").await.unwrap().id, b.id);
}

#[tokio::test(flavor = "multi_thread")]
async fn names_and_aliases_are_unique() {
    let w = world().await;
    w.dir.create_mailbox(&SYSTEM, shared("Sales")).await.unwrap();
    let err = w.dir.create_mailbox(&SYSTEM, shared("sales")).await.unwrap_err();
    assert_eq!(err.to_string(), "The name \"sales\" is already being used. Please try another name.");
    let mut spec = shared("Other");
    spec.alias = Some("SALES".into());
    let err = w.dir.create_mailbox(&SYSTEM, spec).await.unwrap_err();
    assert!(matches!(err, CoreError::AliasInUse { .. }), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn invalid_names_aliases_and_foreign_domains_are_refused() {
    let w = world().await;
    assert!(matches!(w.dir.create_mailbox(&SYSTEM, shared("  ")).await, Err(CoreError::Invalid(_))));
    let mut spec = shared("Sales");
    spec.alias = Some("has space".into());
    assert!(matches!(w.dir.create_mailbox(&SYSTEM, spec).await, Err(CoreError::Invalid(_))));
    let mut spec = shared("Sales");
    spec.primary_address = Some(addr("sales@fabrikam.com"));
    let err = w.dir.create_mailbox(&SYSTEM, spec).await.unwrap_err();
    assert!(matches!(err, CoreError::DomainNotAccepted { .. }));
    assert!(err.to_string().contains("\"fabrikam.com\" isn't an accepted domain"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn user_mailbox_needs_a_decent_password() {
    let w = world().await;
    let spec = NewMailbox {
        name: "Alice".into(),
        display_name: None,
        alias: None,
        primary_address: None,
        kind: NewMailboxKind::User { password: secret("short"), roles: Default::default() },
    };
    let err = w.dir.create_mailbox(&SYSTEM, spec).await.unwrap_err();
    assert_eq!(err.to_string(), "The password must be at least 8 characters long.");
}

#[tokio::test(flavor = "multi_thread")]
async fn identity_resolves_by_name_alias_and_any_address() {
    let w = world().await;
    let mut spec = shared("Sales Department");
    spec.alias = Some("Sales".into());
    let sales = w.dir.create_mailbox(&SYSTEM, spec).await.unwrap();
    w.dir
        .update_identity(
            &SYSTEM,
            sales.id,
            IdentityChange {
                addresses: Some(AddressChange::Modify {
                    add: vec![ProxyAddress::parse("smtp:salg@contoso.com").unwrap()],
                    remove: vec![],
                }),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    for identity in
        ["Sales Department", "sales department", "Sales", "sales@contoso.com", "SMTP:Salg@Contoso.com"]
    {
        assert_eq!(w.dir.resolve(identity).await.unwrap().id, sales.id, "{identity}");
    }
    let err = w.dir.resolve("nobody").await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "The operation couldn't be performed because object 'nobody' couldn't be found."
    );
    // A mailbox is invisible where only groups are looked for.
    assert!(matches!(
        w.dir.resolve_kind("Sales", &RecipientKind::GROUPS).await,
        Err(CoreError::NotFound { .. })
    ));
}

#[tokio::test(flavor = "multi_thread")]
async fn one_recipients_name_equal_to_anothers_alias_is_ambiguous() {
    let w = world().await;
    let mut a = shared("Support");
    a.alias = Some("helpdesk".into());
    w.dir.create_mailbox(&SYSTEM, a).await.unwrap();
    let mut b = shared("helpdesk team");
    b.alias = Some("support".into());
    w.dir.create_mailbox(&SYSTEM, b).await.unwrap();
    let err = w.dir.resolve("support").await.unwrap_err();
    assert!(matches!(err, CoreError::Ambiguous { .. }), "{err}");
    assert!(err.to_string().contains("matches multiple entries"), "{err}");
    assert!(w.dir.resolve("support@contoso.com").await.is_ok(), "an address is never ambiguous");
}

#[tokio::test(flavor = "multi_thread")]
async fn addresses_can_be_added_replaced_and_made_primary() {
    let w = world().await;
    let sales = w.dir.create_mailbox(&SYSTEM, shared("Sales")).await.unwrap();
    let other = w.dir.create_mailbox(&SYSTEM, shared("Other")).await.unwrap();

    let updated = w
        .dir
        .update_identity(
            &SYSTEM,
            sales.id,
            IdentityChange { primary_address: Some(addr("team@contoso.com")), ..Default::default() },
        )
        .await
        .unwrap();
    assert_eq!(updated.primary_address, addr("team@contoso.com"));
    assert_eq!(updated.secondary_addresses, vec![addr("sales@contoso.com")]);

    // A secondary address already used elsewhere: the smtp: form of the message.
    let err = w
        .dir
        .update_identity(
            &SYSTEM,
            other.id,
            IdentityChange {
                addresses: Some(AddressChange::Modify {
                    add: vec![ProxyAddress::parse("smtp:sales@contoso.com").unwrap()],
                    remove: vec![],
                }),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "The proxy address \"smtp:sales@contoso.com\" is already being used by the proxy addresses of \"Sales\". Choose another proxy address."
    );

    let replaced = w
        .dir
        .update_identity(
            &SYSTEM,
            sales.id,
            IdentityChange {
                addresses: Some(AddressChange::Replace(vec![
                    ProxyAddress::parse("SMTP:sales@contoso.com").unwrap(),
                    ProxyAddress::parse("smtp:verkauf@contoso.com").unwrap(),
                ])),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(replaced.primary_address, addr("sales@contoso.com"));
    assert_eq!(replaced.secondary_addresses, vec![addr("verkauf@contoso.com")]);
    assert!(w.dir.resolve("team@contoso.com").await.is_err(), "the dropped address is gone");

    let err = w
        .dir
        .update_identity(
            &SYSTEM,
            sales.id,
            IdentityChange {
                addresses: Some(AddressChange::Modify {
                    add: vec![ProxyAddress::parse("x@fabrikam.com").unwrap()],
                    remove: vec![],
                }),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(err, CoreError::DomainNotAccepted { .. }));
}

#[tokio::test(flavor = "multi_thread")]
async fn conversion_to_shared_and_back_keeps_everything() {
    let w = world().await;
    let alice = w.user("Alice").await;
    let bob = w.user("Bob").await;
    let mailbox = alice.mailbox_id().unwrap();
    w.dir.add_member(&SYSTEM, mailbox, bob.id, true).await.unwrap();

    let (shared, changed) = w.dir.convert_mailbox(&SYSTEM, mailbox, MailboxType::Shared, None).await.unwrap();
    assert!(changed);
    assert_eq!(shared.id, alice.id);
    assert_eq!(shared.kind, RecipientKind::SharedMailbox);
    assert_eq!(shared.primary_address, alice.primary_address);
    let account = w.dir.account(alice.id).await.unwrap();
    assert!(account.password_hash.is_none(), "password cleared");
    assert!(account.sign_in_blocked);
    assert!(w.dir.authenticate("alice@contoso.com", &secret(crate::common::PASSWORD)).await.is_err());
    assert!(w.dir.mailbox_access(bob.id, mailbox).await.unwrap().full_access.is_some(), "grants kept");

    let (_, changed) = w.dir.convert_mailbox(&SYSTEM, mailbox, MailboxType::Shared, None).await.unwrap();
    assert!(!changed, "already shared");

    let err = w.dir.convert_mailbox(&SYSTEM, mailbox, MailboxType::User, None).await.unwrap_err();
    assert!(matches!(err, CoreError::PasswordRequired { .. }), "{err}");
    assert_eq!(w.dir.recipient(alice.id).await.unwrap().kind, RecipientKind::SharedMailbox, "unchanged");

    let (user, _) = w
        .dir
        .convert_mailbox(&SYSTEM, mailbox, MailboxType::User, Some(&secret("A-new-password-1")))
        .await
        .unwrap();
    assert_eq!(user.kind, RecipientKind::UserMailbox);
    assert!(w.dir.authenticate("alice@contoso.com", &secret("A-new-password-1")).await.is_ok());
    assert!(w.dir.mailbox_access(bob.id, mailbox).await.unwrap().full_access.is_some());

    let group = w.group("Team", true).await;
    let err = w
        .dir
        .convert_mailbox(&SYSTEM, mailroom_types::MailboxId(group.id.0), MailboxType::Shared, None)
        .await
        .unwrap_err();
    assert!(matches!(err, CoreError::Invalid(_)));
}

#[tokio::test(flavor = "multi_thread")]
async fn removing_a_recipient_removes_its_grants() {
    let w = world().await;
    let sales = w.shared("Sales").await;
    let alice = w.user("Alice").await;
    w.dir.add_member(&SYSTEM, sales.mailbox_id().unwrap(), alice.id, true).await.unwrap();
    w.changes.take().await;
    w.dir.remove_recipient(&SYSTEM, alice.id).await.unwrap();
    assert!(w.changes.take().await.contains(&Change::RecipientRemoved(alice.id)));
    assert!(w.dir.permissions_on(sales.id).await.unwrap().is_empty());
    assert!(matches!(w.dir.remove_recipient(&SYSTEM, alice.id).await, Err(CoreError::NotFound { .. })));
}
