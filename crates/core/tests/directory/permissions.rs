//! Full Access, Send As, Send on Behalf; groups as trustees; the two
//! questions protocols ask; automapping.

use mailroom_core::directory::AdminRole;
use mailroom_core::permissions::{Right, Via};
use mailroom_core::{Change, CoreError, MailboxAction, SubmitAs};
use mailroom_types::DomainName;

use crate::common::{SYSTEM, addr, world};

#[tokio::test(flavor = "multi_thread")]
async fn members_get_full_access_and_send_as_with_automapping() {
    let w = world().await;
    let sales = w.shared("Sales").await;
    let alice = w.user("Alice").await;
    let mailbox = sales.mailbox_id().unwrap();
    assert!(!w.dir.may(alice.id, MailboxAction::Open, mailbox).await.unwrap());
    w.changes.take().await;

    assert!(w.dir.add_member(&SYSTEM, mailbox, alice.id, true).await.unwrap());
    assert_eq!(
        w.changes.take().await,
        vec![Change::PermissionsChanged { recipient: sales.id, trustee: alice.id }]
    );
    let access = w.dir.mailbox_access(alice.id, mailbox).await.unwrap();
    assert_eq!(access.full_access, Some(Via::Direct));
    assert_eq!(access.send_as, Some(Via::Direct));
    assert!(access.automapped);
    assert!(w.dir.may(alice.id, MailboxAction::Open, mailbox).await.unwrap());
    assert!(!w.dir.add_member(&SYSTEM, mailbox, alice.id, true).await.unwrap(), "already a member");

    let listed = w.dir.accessible_mailboxes(alice.id).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].0.id, sales.id);

    assert!(w.dir.remove_member(&SYSTEM, mailbox, alice.id).await.unwrap());
    assert!(!w.dir.may(alice.id, MailboxAction::Open, mailbox).await.unwrap(), "removal is immediate");
    assert!(w.dir.accessible_mailboxes(alice.id).await.unwrap().is_empty());
    assert!(!w.dir.remove_member(&SYSTEM, mailbox, alice.id).await.unwrap());
}

#[tokio::test(flavor = "multi_thread")]
async fn full_access_alone_does_not_allow_sending() {
    let w = world().await;
    let sales = w.shared("Sales").await;
    let alice = w.user("Alice").await;
    w.dir.grant(&SYSTEM, sales.id, alice.id, Right::FullAccess, true).await.unwrap();
    assert!(w.dir.may(alice.id, MailboxAction::Open, sales.mailbox_id().unwrap()).await.unwrap());
    assert_eq!(
        w.dir.submission_authority(alice.id, &sales.primary_address).await.unwrap(),
        SubmitAs::Refused
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn submission_authority_covers_every_case() {
    let w = world().await;
    let sales = w.shared("Sales").await;
    let alice = w.user("Alice").await;
    let bob = w.user("Bob").await;
    let mallory = w.user("Mallory").await;
    w.dir.grant(&SYSTEM, sales.id, alice.id, Right::SendAs, false).await.unwrap();
    w.dir.grant(&SYSTEM, sales.id, bob.id, Right::SendOnBehalf, false).await.unwrap();

    assert_eq!(w.dir.submission_authority(alice.id, &alice.primary_address).await.unwrap(), SubmitAs::Own);
    assert_eq!(
        w.dir.submission_authority(alice.id, &addr("SALES@contoso.com")).await.unwrap(),
        SubmitAs::SendAs { recipient: sales.id }
    );
    assert_eq!(
        w.dir.submission_authority(bob.id, &sales.primary_address).await.unwrap(),
        SubmitAs::OnBehalf { recipient: sales.id }
    );
    assert_eq!(
        w.dir.submission_authority(mallory.id, &sales.primary_address).await.unwrap(),
        SubmitAs::Refused
    );
    assert_eq!(
        w.dir.submission_authority(mallory.id, &alice.primary_address).await.unwrap(),
        SubmitAs::Refused
    );
    assert_eq!(
        w.dir.submission_authority(alice.id, &addr("ceo@fabrikam.com")).await.unwrap(),
        SubmitAs::Refused,
        "not our address"
    );

    // Both: Send As wins. A grant made a moment ago counts at once.
    w.dir.grant(&SYSTEM, sales.id, bob.id, Right::SendAs, false).await.unwrap();
    assert_eq!(
        w.dir.submission_authority(bob.id, &sales.primary_address).await.unwrap(),
        SubmitAs::SendAs { recipient: sales.id }
    );
    w.dir.revoke(&SYSTEM, sales.id, bob.id, Right::SendAs).await.unwrap();
    assert_eq!(
        w.dir.submission_authority(bob.id, &sales.primary_address).await.unwrap(),
        SubmitAs::OnBehalf { recipient: sales.id }
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn nested_group_grants_resolve_at_check_time_and_do_not_automap() {
    let w = world().await;
    let sales = w.shared("Sales").await;
    let mailbox = sales.mailbox_id().unwrap();
    let alice = w.user("Alice").await;
    let outer = w.group("Marketing SG", true).await;
    let inner = w.group("Marketing Nordics", true).await;
    w.dir.add_group_member(&SYSTEM, outer.id, inner.id).await.unwrap();
    w.dir.add_group_member(&SYSTEM, inner.id, alice.id).await.unwrap();
    w.dir.grant(&SYSTEM, sales.id, outer.id, Right::FullAccess, true).await.unwrap();
    w.dir.grant(&SYSTEM, sales.id, outer.id, Right::SendOnBehalf, false).await.unwrap();

    let access = w.dir.mailbox_access(alice.id, mailbox).await.unwrap();
    assert_eq!(access.full_access, Some(Via::Group(outer.id)));
    assert!(!access.automapped, "group grants don't automap (as in Exchange)");
    assert_eq!(
        w.dir.submission_authority(alice.id, &sales.primary_address).await.unwrap(),
        SubmitAs::OnBehalf { recipient: sales.id }
    );
    assert_eq!(w.dir.accessible_mailboxes(alice.id).await.unwrap().len(), 1, "listed though not automapped");

    // Beyond Exchange: automap-groups.
    w.dir
        .update_mailbox_settings(
            &SYSTEM,
            mailbox,
            mailroom_core::directory::SettingsChange { automap_groups: Some(true), ..Default::default() },
        )
        .await
        .unwrap();
    assert!(w.dir.mailbox_access(alice.id, mailbox).await.unwrap().automapped);

    // Leaving the inner group takes the right away at the next check.
    w.dir.remove_group_member(&SYSTEM, inner.id, alice.id).await.unwrap();
    assert!(!w.dir.may(alice.id, MailboxAction::Open, mailbox).await.unwrap());
    assert_eq!(
        w.dir.submission_authority(alice.id, &sales.primary_address).await.unwrap(),
        SubmitAs::Refused
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn automapping_can_be_turned_off_per_grant() {
    let w = world().await;
    let sales = w.shared("Sales").await;
    let alice = w.user("Alice").await;
    w.dir.grant(&SYSTEM, sales.id, alice.id, Right::FullAccess, false).await.unwrap();
    let access = w.dir.mailbox_access(alice.id, sales.mailbox_id().unwrap()).await.unwrap();
    assert!(access.allows(MailboxAction::Open));
    assert!(!access.automapped);
    // Granting again with automapping on updates the grant.
    assert!(w.dir.grant(&SYSTEM, sales.id, alice.id, Right::FullAccess, true).await.unwrap());
    assert!(w.dir.mailbox_access(alice.id, sales.mailbox_id().unwrap()).await.unwrap().automapped);
    assert!(!w.dir.grant(&SYSTEM, sales.id, alice.id, Right::FullAccess, true).await.unwrap());
}

#[tokio::test(flavor = "multi_thread")]
async fn trustees_must_be_our_users_or_security_groups() {
    let w = world().await;
    let sales = w.shared("Sales").await;
    let info = w.shared("Info").await;
    let list = w.group("Newsletter", false).await;
    let alice = w.user("Alice").await;

    let err = w.dir.resolve_trustee("someone@fabrikam.com").await.unwrap_err();
    assert!(matches!(err, CoreError::ExternalTrustee(_)), "{err}");
    assert!(err.to_string().contains("outside your organization"), "{err}");
    assert!(matches!(w.dir.resolve_trustee("ghost@contoso.com").await, Err(CoreError::NotFound { .. })));
    assert!(matches!(w.dir.resolve_trustee("Newsletter").await, Err(CoreError::InvalidTrustee { .. })));
    assert!(matches!(w.dir.resolve_trustee("Info").await, Err(CoreError::InvalidTrustee { .. })));
    assert_eq!(w.dir.resolve_trustee("alice@contoso.com").await.unwrap().id, alice.id);

    // The same rules hold when granting by id.
    for trustee in [list.id, info.id, sales.id] {
        let err = w.dir.grant(&SYSTEM, sales.id, trustee, Right::FullAccess, true).await.unwrap_err();
        assert!(matches!(err, CoreError::InvalidTrustee { .. }), "{err}");
    }
    // Full Access is for mailboxes; Send As works on a group.
    let err = w.dir.grant(&SYSTEM, list.id, alice.id, Right::FullAccess, true).await.unwrap_err();
    assert!(matches!(err, CoreError::Invalid(_)));
    w.dir.grant(&SYSTEM, list.id, alice.id, Right::SendAs, false).await.unwrap();
    assert_eq!(
        w.dir.submission_authority(alice.id, &list.primary_address).await.unwrap(),
        SubmitAs::SendAs { recipient: list.id }
    );
    assert!(w.dir.permissions_on(sales.id).await.unwrap().is_empty(), "refused grants wrote nothing");
}

#[tokio::test(flavor = "multi_thread")]
async fn non_admins_cannot_grant() {
    let w = world().await;
    let sales = w.shared("Sales").await;
    let alice = w.user("Alice").await;
    let actor = mailroom_core::directory::Actor::Principal(alice.id);
    let err = w.dir.add_member(&actor, sales.mailbox_id().unwrap(), alice.id, true).await.unwrap_err();
    assert!(matches!(err, CoreError::PermissionDenied));
    assert!(!w.dir.may(alice.id, MailboxAction::Open, sales.mailbox_id().unwrap()).await.unwrap());
    // Admins don't read mailboxes by virtue of the role (as in Exchange).
    w.dir.set_roles(&SYSTEM, alice.id, [AdminRole::GlobalAdmin].into()).await.unwrap();
    assert!(!w.dir.may(alice.id, MailboxAction::Open, sales.mailbox_id().unwrap()).await.unwrap());
}

#[tokio::test(flavor = "multi_thread")]
async fn send_on_behalf_list_is_replaced_as_a_whole() {
    let w = world().await;
    let sales = w.shared("Sales").await;
    let alice = w.user("Alice").await;
    let bob = w.user("Bob").await;
    let team = w.group("Team", true).await;
    w.dir.replace_grants(&SYSTEM, sales.id, Right::SendOnBehalf, &[alice.id, team.id]).await.unwrap();
    w.dir.replace_grants(&SYSTEM, sales.id, Right::SendOnBehalf, &[team.id, bob.id]).await.unwrap();
    let mut holders: Vec<_> = w
        .dir
        .permissions_on(sales.id)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.right == Right::SendOnBehalf)
        .map(|e| e.trustee)
        .collect();
    holders.sort();
    let mut expected = vec![team.id, bob.id];
    expected.sort();
    assert_eq!(holders, expected);
    let err = w.dir.replace_grants(&SYSTEM, sales.id, Right::SendOnBehalf, &[sales.id]).await.unwrap_err();
    assert!(matches!(err, CoreError::InvalidTrustee { .. }));
}

#[tokio::test(flavor = "multi_thread")]
async fn may_answers_no_for_unknown_or_non_mailboxes() {
    let w = world().await;
    let alice = w.user("Alice").await;
    let team = w.group("Team", true).await;
    assert!(!w.dir.may(alice.id, MailboxAction::Open, mailroom_types::MailboxId(9999)).await.unwrap());
    assert!(!w.dir.may(alice.id, MailboxAction::Open, mailroom_types::MailboxId(team.id.0)).await.unwrap());
    assert!(
        w.dir.may(alice.id, MailboxAction::Open, alice.mailbox_id().unwrap()).await.unwrap(),
        "own mailbox"
    );
    let _ = DomainName::parse("contoso.com");
}

/// NoPurge (SPEC §5) rides on a Full Access grant: it removes only the
/// right to purge; adding the member again keeps it; a grant that doesn't
/// say it lifts it; it goes with Full Access only.
#[tokio::test(flavor = "multi_thread")]
async fn no_purge_is_kept_until_a_grant_lifts_it() {
    let w = world().await;
    let sales = w.shared("Sales").await;
    let alice = w.user("Alice").await;
    let mailbox = sales.mailbox_id().unwrap();
    assert!(
        w.dir.grant_with_purge(&SYSTEM, sales.id, alice.id, Right::FullAccess, true, true).await.unwrap()
    );
    let access = w.dir.mailbox_access(alice.id, mailbox).await.unwrap();
    assert!(access.allows(MailboxAction::Open) && !access.may_purge);
    // The admin center's "add member" again: still NoPurge.
    w.dir.add_member(&SYSTEM, mailbox, alice.id, true).await.unwrap();
    assert!(!w.dir.mailbox_access(alice.id, mailbox).await.unwrap().may_purge);
    assert!(w.dir.grant(&SYSTEM, sales.id, alice.id, Right::FullAccess, true).await.unwrap(), "lifted");
    assert!(w.dir.mailbox_access(alice.id, mailbox).await.unwrap().may_purge);
    let err =
        w.dir.grant_with_purge(&SYSTEM, sales.id, alice.id, Right::SendAs, false, true).await.unwrap_err();
    assert!(matches!(err, CoreError::Invalid(ref m) if m.contains("Full Access only")), "{err}");
    assert!(w.dir.mailbox_access(sales.id, mailbox).await.unwrap().may_purge, "the owner always may");
}
