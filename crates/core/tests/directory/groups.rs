//! Groups: nesting, cycles and expansion.

use mailroom_core::directory::NewGroup;
use mailroom_core::{Change, CoreError};

use crate::common::{SYSTEM, world};

#[tokio::test(flavor = "multi_thread")]
async fn groups_are_created_with_members_and_nest() {
    let w = world().await;
    let alice = w.user("Alice").await;
    let bob = w.user("Bob").await;
    let team = w
        .dir
        .create_group(
            &SYSTEM,
            NewGroup {
                name: "Marketing SG".into(),
                display_name: None,
                alias: Some("MarketingSG".into()),
                primary_address: None,
                security: true,
                members: vec![alice.id],
            },
        )
        .await
        .unwrap();
    assert_eq!(team.primary_address.to_string(), "MarketingSG@contoso.com");
    assert_eq!(team.kind.exchange_name(), "MailUniversalSecurityGroup");
    let all = w.group("All Staff", false).await;
    assert!(w.dir.add_group_member(&SYSTEM, all.id, team.id).await.unwrap());
    assert!(w.dir.add_group_member(&SYSTEM, all.id, bob.id).await.unwrap());
    assert!(w.dir.add_group_member(&SYSTEM, all.id, alice.id).await.unwrap());
    assert!(!w.dir.add_group_member(&SYSTEM, all.id, alice.id).await.unwrap(), "already a member");

    let names: Vec<_> = w.dir.group_members(all.id).await.unwrap().into_iter().map(|r| r.name).collect();
    assert_eq!(names, ["Alice", "Bob", "Marketing SG"]);
    // Mail to the list reaches each mailbox once, however it is nested.
    let mut reached: Vec<_> =
        w.dir.expand_to_mailboxes(all.id).await.unwrap().into_iter().map(|r| r.name).collect();
    reached.sort();
    assert_eq!(reached, ["Alice", "Bob"]);

    w.changes.take().await;
    assert!(w.dir.remove_group_member(&SYSTEM, all.id, bob.id).await.unwrap());
    assert_eq!(
        w.changes.take().await,
        vec![Change::GroupMembershipChanged { group: all.id, member: bob.id }]
    );
    assert!(!w.dir.remove_group_member(&SYSTEM, all.id, bob.id).await.unwrap());
}

#[tokio::test(flavor = "multi_thread")]
async fn group_cycles_are_refused() {
    let w = world().await;
    let a = w.group("A", true).await;
    let b = w.group("B", true).await;
    let c = w.group("C", true).await;
    let err = w.dir.add_group_member(&SYSTEM, a.id, a.id).await.unwrap_err();
    assert!(matches!(err, CoreError::GroupCycle { .. }), "a group in itself: {err}");
    w.dir.add_group_member(&SYSTEM, a.id, b.id).await.unwrap();
    w.dir.add_group_member(&SYSTEM, b.id, c.id).await.unwrap();
    let err = w.dir.add_group_member(&SYSTEM, c.id, a.id).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "The group \"A\" can't be added to \"C\" because \"C\" is already a member of \"A\" (directly or through nested groups)."
    );
    let err = w.dir.add_group_member(&SYSTEM, b.id, a.id).await.unwrap_err();
    assert!(matches!(err, CoreError::GroupCycle { .. }));
    assert!(w.dir.group_members(c.id).await.unwrap().is_empty(), "nothing was added");
}

#[tokio::test(flavor = "multi_thread")]
async fn only_groups_have_members() {
    let w = world().await;
    let alice = w.user("Alice").await;
    let bob = w.user("Bob").await;
    let err = w.dir.add_group_member(&SYSTEM, alice.id, bob.id).await.unwrap_err();
    assert!(err.to_string().contains("not a group"), "{err}");
}
