//! Sign-in, blocked sign-in, passwords and admin roles.

use std::collections::BTreeSet;

use mailroom_core::CoreError;
use mailroom_core::auth::AuthError;
use mailroom_core::directory::{Actor, AdminRole, NewMailbox, NewMailboxKind};
use mailroom_types::DomainName;

use crate::common::{PASSWORD, SYSTEM, secret, world};

#[tokio::test(flavor = "multi_thread")]
async fn users_sign_in_with_any_of_their_addresses() {
    let w = world().await;
    let alice = w.user("Alice").await;
    let signed = w.dir.authenticate("ALICE@contoso.com", &secret(PASSWORD)).await.unwrap();
    assert_eq!(signed.recipient.id, alice.id);
    assert!(signed.roles.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn every_failed_sign_in_looks_the_same() {
    let w = world().await;
    w.user("Alice").await;
    let bob = w.user("Bob").await;
    w.dir.set_sign_in_blocked(&SYSTEM, bob.id, true).await.unwrap();
    w.shared("Info").await;
    let cases = [
        ("alice@contoso.com", "wrong-password"),
        ("nobody@contoso.com", PASSWORD),
        ("not an address", PASSWORD),
        ("bob@contoso.com", PASSWORD),
        ("info@contoso.com", PASSWORD),
        ("info@contoso.com", ""),
    ];
    let mut messages = BTreeSet::new();
    for (login, password) in cases {
        let err = w.dir.authenticate(login, &secret(password)).await.unwrap_err();
        assert!(matches!(err, AuthError::InvalidCredentials), "{login}: {err:?}");
        messages.insert(err.to_string());
    }
    assert_eq!(messages.len(), 1, "one message for every reason: {messages:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn blocking_and_unblocking_sign_in() {
    let w = world().await;
    let alice = w.user("Alice").await;
    w.dir.set_sign_in_blocked(&SYSTEM, alice.id, true).await.unwrap();
    assert!(w.dir.authenticate("alice@contoso.com", &secret(PASSWORD)).await.is_err());
    w.dir.set_sign_in_blocked(&SYSTEM, alice.id, false).await.unwrap();
    assert!(w.dir.authenticate("alice@contoso.com", &secret(PASSWORD)).await.is_ok());
}

#[tokio::test(flavor = "multi_thread")]
async fn shared_mailboxes_stay_blocked_and_passwordless() {
    let w = world().await;
    let info = w.shared("Info").await;
    let err = w.dir.set_sign_in_blocked(&SYSTEM, info.id, false).await.unwrap_err();
    assert!(err.to_string().contains("Sign-in can't be allowed for the shared mailbox \"Info\""), "{err}");
    let err = w.dir.set_password(&SYSTEM, info.id, &secret(PASSWORD)).await.unwrap_err();
    assert!(err.to_string().contains("is a shared mailbox"), "{err}");
    assert!(w.dir.account(info.id).await.unwrap().password_hash.is_none());
    // Blocking it again is harmless.
    w.dir.set_sign_in_blocked(&SYSTEM, info.id, true).await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn password_change_takes_effect() {
    let w = world().await;
    let alice = w.user("Alice").await;
    w.dir.set_password(&SYSTEM, alice.id, &secret("Another-pass-9")).await.unwrap();
    assert!(w.dir.authenticate("alice@contoso.com", &secret(PASSWORD)).await.is_err());
    assert!(w.dir.authenticate("alice@contoso.com", &secret("Another-pass-9")).await.is_ok());
    let err = w.dir.set_password(&SYSTEM, alice.id, &secret("2short")).await.unwrap_err();
    assert_eq!(err.to_string(), "The password must be at least 8 characters long.");
}

#[tokio::test(flavor = "multi_thread")]
async fn only_admins_change_the_directory() {
    let w = world().await;
    let alice = w.user("Alice").await;
    let admin = w.user("Admin").await;
    w.dir.set_roles(&SYSTEM, admin.id, [AdminRole::ExchangeAdmin].into()).await.unwrap();
    let as_alice = Actor::Principal(alice.id);
    let as_admin = Actor::Principal(admin.id);
    let spec = |name: &str| NewMailbox {
        name: name.into(),
        display_name: None,
        alias: None,
        primary_address: None,
        kind: NewMailboxKind::Shared,
    };

    let err = w.dir.create_mailbox(&as_alice, spec("Sales")).await.unwrap_err();
    assert_eq!(err.to_string(), "You don't have permission to access this page or perform this action.");
    assert!(matches!(
        w.dir.add_domain(&as_alice, &DomainName::parse("x.com").unwrap(), false).await,
        Err(CoreError::PermissionDenied)
    ));
    assert!(matches!(
        w.dir.set_sign_in_blocked(&as_alice, admin.id, true).await,
        Err(CoreError::PermissionDenied)
    ));
    w.dir.create_mailbox(&as_admin, spec("Sales")).await.unwrap();

    // An exchange admin can't hand out roles; a global admin can.
    let err = w.dir.set_roles(&as_admin, alice.id, [AdminRole::GlobalAdmin].into()).await.unwrap_err();
    assert!(matches!(err, CoreError::PermissionDenied));
    w.dir.set_roles(&SYSTEM, admin.id, [AdminRole::GlobalAdmin].into()).await.unwrap();
    w.dir.set_roles(&as_admin, alice.id, [AdminRole::ExchangeAdmin].into()).await.unwrap();
    w.dir.create_mailbox(&as_alice, spec("Support")).await.unwrap();

    // A blocked admin is no admin.
    w.dir.set_sign_in_blocked(&as_admin, alice.id, true).await.unwrap();
    assert!(matches!(
        w.dir.create_mailbox(&as_alice, spec("Billing")).await,
        Err(CoreError::PermissionDenied)
    ));
    // Nor can one block oneself out.
    let err = w.dir.set_sign_in_blocked(&as_admin, admin.id, true).await.unwrap_err();
    assert_eq!(err.to_string(), "You can't block your own sign-in.");
}

#[tokio::test(flavor = "multi_thread")]
async fn roles_are_for_users_only() {
    let w = world().await;
    let info = w.shared("Info").await;
    assert!(matches!(
        w.dir.set_roles(&SYSTEM, info.id, [AdminRole::GlobalAdmin].into()).await,
        Err(CoreError::Invalid(_))
    ));
}

#[tokio::test(flavor = "multi_thread")]
async fn exchange_admins_cannot_take_over_admin_accounts() {
    use mailroom_core::directory::{MailboxType, MailboxUpdate};
    let w = world().await;
    let global = w.user("Global").await;
    let exchange = w.user("Exchange").await;
    let alice = w.user("Alice").await;
    w.dir.set_roles(&SYSTEM, global.id, [AdminRole::GlobalAdmin].into()).await.unwrap();
    w.dir.set_roles(&SYSTEM, exchange.id, [AdminRole::ExchangeAdmin].into()).await.unwrap();
    let as_exchange = Actor::Principal(exchange.id);
    let mailbox = global.mailbox_id().unwrap();

    // Every path to a global admin's sign-in is closed to an exchange admin.
    let denied = |r: Result<_, CoreError>| matches!(r, Err(CoreError::PermissionDenied));
    assert!(denied(w.dir.set_password(&as_exchange, global.id, &secret("Taken-over-123")).await));
    assert!(denied(w.dir.set_sign_in_blocked(&as_exchange, global.id, true).await));
    assert!(denied(
        w.dir.convert_mailbox(&as_exchange, mailbox, MailboxType::Shared, None).await.map(|_| ())
    ));
    assert!(denied(w.dir.remove_recipient(&as_exchange, global.id).await.map(|_| ())));
    let convert = MailboxUpdate { convert_to: Some(MailboxType::Shared), ..Default::default() };
    assert!(denied(w.dir.update_mailbox(&as_exchange, mailbox, convert.clone()).await.map(|_| ())));
    assert!(denied(w.dir.set_roles(&as_exchange, alice.id, [AdminRole::ExchangeAdmin].into()).await));
    let admin_spec = NewMailbox {
        name: "Sneaky".into(),
        display_name: None,
        alias: None,
        primary_address: None,
        kind: NewMailboxKind::User { password: secret(PASSWORD), roles: [AdminRole::GlobalAdmin].into() },
    };
    assert!(denied(w.dir.create_mailbox(&as_exchange, admin_spec.clone()).await.map(|_| ())));
    assert!(w.dir.authenticate("global@contoso.com", &secret(PASSWORD)).await.is_ok(), "untouched");
    // Ordinary users stay the exchange admin's to manage.
    w.dir.set_password(&as_exchange, alice.id, &secret("Reset-by-admin-1")).await.unwrap();

    // A global admin may; and a round trip through shared loses the roles.
    let as_global = Actor::Principal(global.id);
    let other = w.user("Other Global").await;
    w.dir.set_roles(&as_global, other.id, [AdminRole::GlobalAdmin].into()).await.unwrap();
    let other_mailbox = other.mailbox_id().unwrap();
    w.dir.convert_mailbox(&as_global, other_mailbox, MailboxType::Shared, None).await.unwrap();
    assert!(w.dir.account(other.id).await.unwrap().roles.is_empty());
    w.dir
        .convert_mailbox(&as_global, other_mailbox, MailboxType::User, Some(&secret("Back-again-123")))
        .await
        .unwrap();
    assert!(w.dir.account(other.id).await.unwrap().roles.is_empty(), "roles don't come back");
    w.dir.create_mailbox(&as_global, admin_spec).await.unwrap();
}

/// CalDAV sends the password with every request: one verified minutes ago
/// signs in again without waiting in the throttle's queues, even while
/// someone else's guesses fill the account's queue; a password never
/// verified waits there (or is refused unchecked) like any attempt.
#[tokio::test(flavor = "multi_thread")]
async fn a_remembered_password_skips_the_queue_a_guesser_filled() {
    use std::sync::{Arc, Mutex};
    use std::time::Duration;
    let w = world().await;
    let alice = w.user("Alice").await;
    let login = alice.primary_address.to_string();
    let waits: Arc<Mutex<Vec<Duration>>> = Arc::default();
    let record = |waits: &Arc<Mutex<Vec<Duration>>>| {
        let waits = waits.clone();
        move |d: Duration| {
            waits.lock().unwrap().push(d);
            std::future::ready(())
        }
    };
    let owner: std::net::IpAddr = "192.0.2.1".parse().unwrap();
    let signed =
        w.dir.authenticate_remembered(owner, &login, &secret(PASSWORD), record(&waits)).await.unwrap();
    assert_eq!(signed, alice.id);
    for i in 0..12u8 {
        let guesser = std::net::IpAddr::from([198, 51, 100, i]);
        let guess = w.dir.sign_in(guesser, &login, &secret("not-the-password"), record(&waits)).await;
        assert!(matches!(guess, Err(AuthError::InvalidCredentials)));
    }
    assert!(waits.lock().unwrap().iter().any(|d| !d.is_zero()), "the guesses filled the account's queue");

    waits.lock().unwrap().clear();
    let elsewhere: std::net::IpAddr = "203.0.113.9".parse().unwrap();
    let again = w.dir.authenticate_remembered(elsewhere, &login, &secret(PASSWORD), record(&waits)).await;
    assert_eq!(again.unwrap(), alice.id);
    assert!(waits.lock().unwrap().is_empty(), "remembered: no queue at all");

    // A new password hasn't been verified yet: it queues like any attempt.
    w.dir.set_password(&SYSTEM, alice.id, &secret("A-new-password-7")).await.unwrap();
    let fresh =
        w.dir.authenticate_remembered(elsewhere, &login, &secret("A-new-password-7"), record(&waits)).await;
    let waited = waits.lock().unwrap().iter().any(|d| !d.is_zero());
    assert!(waited || matches!(fresh, Err(AuthError::InvalidCredentials)), "{fresh:?}");
    // And the old one is over.
    let old = w.dir.authenticate_remembered(owner, &login, &secret(PASSWORD), record(&waits)).await;
    assert!(matches!(old, Err(AuthError::InvalidCredentials)));
}
