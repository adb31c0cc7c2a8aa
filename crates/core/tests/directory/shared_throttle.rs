//! The sign-in throttle across nodes: three directories over one
//! PostgreSQL schema, as three `mailroom serve` processes have, each with
//! its own in-memory throttle. Guesses spread over the nodes must queue as
//! if one node had seen them all.

use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mailroom_core::Directory;
use mailroom_core::auth::AuthError;
use mailroom_core::directory::{NewMailbox, NewMailboxKind};
use mailroom_store::PgStore;
use mailroom_store::scratch::ScratchSchema;
use mailroom_types::{DomainName, EmailAddress, Secret};

use crate::common::{PASSWORD, SYSTEM, secret};

/// The waits the throttle asked for, recorded instead of slept: the test
/// reads each attempt's place in the queue without waiting it out.
#[derive(Clone, Default)]
struct Waits(Arc<Mutex<Vec<Duration>>>);

impl Waits {
    fn sleep(&self) -> impl FnOnce(Duration) -> std::future::Ready<()> + use<> {
        let waits = self.0.clone();
        move |wait| {
            waits.lock().unwrap().push(wait);
            std::future::ready(())
        }
    }

    fn last(&self) -> Option<Duration> {
        self.0.lock().unwrap().last().copied()
    }
}

async fn node(schema: &ScratchSchema) -> Directory {
    let store = PgStore::connect(&schema.url(), schema.name()).await.expect("connect to the test database");
    Directory::new(Arc::new(store))
}

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

async fn user(dir: &Directory, alias: &str) -> EmailAddress {
    let domain = DomainName::parse("contoso.com").unwrap();
    let address = EmailAddress::from_parts(alias, domain);
    let spec = NewMailbox {
        name: alias.into(),
        display_name: None,
        alias: Some(alias.into()),
        primary_address: Some(address.clone()),
        kind: NewMailboxKind::User { password: Secret::new(PASSWORD.into()), roles: Default::default() },
    };
    dir.create_mailbox(&SYSTEM, spec).await.unwrap();
    address
}

/// Nine wrong passwords at Alice through node A, from addresses of their
/// own: node C, which saw none of them, puts the next attempt (from yet
/// another address) at least 20 s out, as A would; node B then gives the
/// last slot of the queue, and after it any node refuses even Alice's
/// right password unchecked. Bob, on the same nodes, is not slowed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guesses_at_an_account_share_one_queue_across_nodes() {
    let Some(schema) = ScratchSchema::create() else { return };
    let (a, b, c) = (node(&schema).await, node(&schema).await, node(&schema).await);
    a.add_domain(&SYSTEM, &DomainName::parse("contoso.com").unwrap(), true).await.unwrap();
    let alice = user(&a, "alice").await.to_string();
    let bob = user(&a, "bob").await.to_string();
    let waits = Waits::default();

    for i in 1..=9u8 {
        let guesser = IpAddr::from([198, 51, 100, i]);
        let guess = a.sign_in(guesser, &alice, &secret("not-the-password"), waits.sleep()).await;
        assert!(matches!(guess, Err(AuthError::InvalidCredentials)), "{guess:?}");
    }

    let from_c = c.sign_in(ip("203.0.113.1"), &alice, &secret("still-not-it"), waits.sleep()).await;
    assert!(from_c.is_err());
    let wait = waits.last().unwrap();
    assert!(wait >= Duration::from_secs(20), "node C didn't count node A's failures: waited {wait:?}");

    let from_b = b.sign_in(ip("203.0.113.2"), &alice, &secret("nor-this"), waits.sleep()).await;
    assert!(from_b.is_err());
    let wait = waits.last().unwrap();
    assert!(wait >= Duration::from_secs(45), "node B queued behind C's slot: waited {wait:?}");

    let recorded = waits.0.lock().unwrap().len();
    for node in [&a, &b, &c] {
        let owner = node.sign_in(ip("203.0.113.3"), &alice, &secret(PASSWORD), waits.sleep()).await;
        assert!(matches!(owner, Err(AuthError::InvalidCredentials)), "{owner:?}");
    }
    assert_eq!(waits.0.lock().unwrap().len(), recorded, "refused at once, without a wait or a check");

    // Another account, from a clean address, on the same nodes: no queue.
    let signed = c.sign_in(ip("192.0.2.50"), &bob, &secret(PASSWORD), waits.sleep()).await;
    assert!(signed.is_ok(), "{signed:?}");
    assert_eq!(waits.last(), Some(Duration::ZERO));
}

/// Guesses from one address at many logins (none of them real) through
/// node A slow that address's next attempt on node B, at a login nobody
/// guessed yet.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guesses_from_an_address_share_one_queue_across_nodes() {
    let Some(schema) = ScratchSchema::create() else { return };
    let (a, b) = (node(&schema).await, node(&schema).await);
    a.add_domain(&SYSTEM, &DomainName::parse("contoso.com").unwrap(), true).await.unwrap();
    let carol = user(&a, "carol").await.to_string();
    let guesser = ip("198.51.100.77");
    let waits = Waits::default();
    for i in 0..9 {
        let login = format!("nobody{i}@contoso.com");
        let guess = a.sign_in(guesser, &login, &secret("guess"), waits.sleep()).await;
        assert!(guess.is_err());
    }
    let next = b.sign_in(guesser, &carol, &secret("guess"), waits.sleep()).await;
    assert!(next.is_err());
    let wait = waits.last().unwrap();
    assert!(wait >= Duration::from_secs(20), "node B didn't count the address's failures on A: {wait:?}");
    // Carol herself, from her own address, isn't held up by that queue.
    let owner = b.sign_in(ip("192.0.2.8"), &carol, &secret(PASSWORD), waits.sleep()).await;
    assert!(owner.is_ok(), "{owner:?}");
    assert_eq!(waits.last(), Some(Duration::ZERO));
}
