//! `Set-Mailbox`-style edits: checked as a whole, written as a whole.

use mailroom_core::CoreError;
use mailroom_core::directory::{
    AddressChange, IdentityChange, MailboxType, MailboxUpdate, ProxyAddress, Quota, SettingsChange,
};
use mailroom_core::permissions::Right;

use crate::common::{PASSWORD, SYSTEM, secret, world};

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_part_leaves_everything_as_it_was() {
    let w = world().await;
    let alice = w.user("Alice").await;
    let bob = w.user("Bob").await;
    let mailbox = alice.mailbox_id().unwrap();

    // Conversion plus an address that belongs to Bob: nothing happens, the
    // password in particular survives.
    let update = MailboxUpdate {
        convert_to: Some(MailboxType::Shared),
        identity: IdentityChange {
            addresses: Some(AddressChange::Modify {
                add: vec![ProxyAddress::parse("smtp:bob@contoso.com").unwrap()],
                remove: vec![],
            }),
            ..Default::default()
        },
        ..Default::default()
    };
    let err = w.dir.update_mailbox(&SYSTEM, mailbox, update).await.unwrap_err();
    assert!(matches!(err, CoreError::AddressInUse { .. }), "{err}");
    assert!(
        w.dir.authenticate("alice@contoso.com", &secret(PASSWORD)).await.is_ok(),
        "still a user with a password"
    );

    // A name plus a quota out of order: neither is saved.
    let update = MailboxUpdate {
        identity: IdentityChange { display_name: Some("Changed".into()), ..Default::default() },
        settings: SettingsChange { issue_warning_quota: Some(Quota::Bytes(60 << 30)), ..Default::default() },
        send_on_behalf: Some(vec![bob.id]),
        ..Default::default()
    };
    let err = w.dir.check_mailbox_update(&SYSTEM, mailbox, &update).await.unwrap_err();
    assert!(err.to_string().contains("must be less than or equal to"), "check reports it: {err}");
    assert!(w.dir.update_mailbox(&SYSTEM, mailbox, update).await.is_err());
    assert_eq!(w.dir.recipient(alice.id).await.unwrap().display_name, "Alice");
    assert!(w.dir.permissions_on(alice.id).await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn every_part_applies_together() {
    let w = world().await;
    let alice = w.user("Alice").await;
    let bob = w.user("Bob").await;
    let mailbox = alice.mailbox_id().unwrap();
    let update = MailboxUpdate {
        convert_to: Some(MailboxType::Shared),
        identity: IdentityChange { display_name: Some("Alice's old mailbox".into()), ..Default::default() },
        settings: SettingsChange { message_copy_for_sent_as: Some(true), ..Default::default() },
        send_on_behalf: Some(vec![bob.id]),
        ..Default::default()
    };
    w.dir.check_mailbox_update(&SYSTEM, mailbox, &update).await.unwrap();
    assert_eq!(w.dir.recipient(alice.id).await.unwrap().display_name, "Alice", "a check writes nothing");
    let done = w.dir.update_mailbox(&SYSTEM, mailbox, update).await.unwrap();
    assert!(!done.conversion_unneeded);
    assert_eq!(done.recipient.display_name, "Alice's old mailbox");
    assert!(w.dir.account(alice.id).await.unwrap().sign_in_blocked);
    assert!(w.dir.mailbox_settings(mailbox).await.unwrap().message_copy_for_sent_as);
    let holders: Vec<_> = w
        .dir
        .permissions_on(alice.id)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.right == Right::SendOnBehalf)
        .map(|e| e.trustee)
        .collect();
    assert_eq!(holders, vec![bob.id]);

    // Shared now: allowing sign-in in the same edit as something else is refused.
    let update = MailboxUpdate { sign_in_blocked: Some(false), ..Default::default() };
    assert!(w.dir.update_mailbox(&SYSTEM, mailbox, update).await.is_err());
    // Back to a user, with a password, unblocked in one edit.
    let update = MailboxUpdate {
        convert_to: Some(MailboxType::User),
        password: Some(secret("Back-again-123")),
        ..Default::default()
    };
    w.dir.update_mailbox(&SYSTEM, mailbox, update).await.unwrap();
    assert!(w.dir.authenticate("alice@contoso.com", &secret("Back-again-123")).await.is_ok());
    let again = MailboxUpdate {
        convert_to: Some(MailboxType::User),
        password: Some(secret("Whatever-123")),
        ..Default::default()
    };
    assert!(w.dir.update_mailbox(&SYSTEM, mailbox, again).await.unwrap().conversion_unneeded);
}
