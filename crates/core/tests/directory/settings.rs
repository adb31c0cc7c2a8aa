//! Mailbox settings and automatic replies.

use chrono::{TimeZone, Utc};
use mailroom_core::CoreError;
use mailroom_core::directory::{
    AutoReplyChange, AutoReplyState, ExternalAudience, MailboxSettings, Quota, SettingsChange,
};

use crate::common::{SYSTEM, addr, world};

#[tokio::test(flavor = "multi_thread")]
async fn shared_mailboxes_start_with_exchange_defaults() {
    let w = world().await;
    let sales = w.shared("Sales").await;
    let settings = w.dir.mailbox_settings(sales.mailbox_id().unwrap()).await.unwrap();
    assert_eq!(settings, MailboxSettings::default());
    assert_eq!(settings.retain_deleted_items_for.timespan(), "14.00:00:00");
    assert_eq!(settings.recoverable_items_quota, Quota::Bytes(30 << 30), "Exchange Online's 30 GB");
    assert_eq!(settings.quota.issue_warning, Quota::Bytes(49 << 30));
    assert_eq!(settings.quota.prohibit_send, Quota::Bytes((49 << 30) + (1 << 29)));
    assert_eq!(settings.quota.prohibit_send_receive, Quota::Bytes(50 << 30));
    assert!(!settings.message_copy_for_sent_as);
}

#[tokio::test(flavor = "multi_thread")]
async fn settings_change_and_are_validated() {
    let w = world().await;
    let sales = w.shared("Sales").await;
    let alice = w.user("Alice").await;
    let mailbox = sales.mailbox_id().unwrap();
    let updated = w
        .dir
        .update_mailbox_settings(
            &SYSTEM,
            mailbox,
            SettingsChange {
                forwarding_recipient: Some(Some(alice.id)),
                forwarding_smtp_address: Some(Some(addr("archive@fabrikam.com"))),
                deliver_to_mailbox_and_forward: Some(true),
                message_copy_for_sent_as: Some(true),
                message_copy_for_send_on_behalf: Some(true),
                issue_warning_quota: Some(Quota::Bytes(1 << 30)),
                prohibit_send_quota: Some(Quota::Bytes(2 << 30)),
                prohibit_send_receive_quota: Some(Quota::Unlimited),
                automap_groups: None,
                retain_deleted_items_for: Some(mailroom_core::directory::Retention::parse("30").unwrap()),
                recoverable_items_quota: Some(Quota::Bytes(5 << 30)),
                audit_enabled: Some(false),
                audit_log_age_limit: Some(mailroom_core::directory::Retention::parse("180").unwrap()),
                per_member_seen: Some(true),
            },
        )
        .await
        .unwrap();
    assert_eq!(updated.forwarding_recipient, Some(alice.id));
    assert!(updated.message_copy_for_send_on_behalf);
    assert_eq!(updated.retain_deleted_items_for.timespan(), "30.00:00:00");
    assert_eq!(updated.recoverable_items_quota, Quota::Bytes(5 << 30));
    assert!(!updated.audit_enabled);
    assert_eq!(updated.audit_log_age_limit.timespan(), "180.00:00:00");
    assert!(updated.per_member_seen);
    assert_eq!(w.dir.mailbox_settings(mailbox).await.unwrap(), updated);

    let err = w
        .dir
        .update_mailbox_settings(
            &SYSTEM,
            mailbox,
            SettingsChange { issue_warning_quota: Some(Quota::Bytes(3 << 30)), ..Default::default() },
        )
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains(
            "\"IssueWarningQuota\" must be less than or equal to that of property \"ProhibitSendQuota\""
        ),
        "{err}"
    );
    assert_eq!(w.dir.mailbox_settings(mailbox).await.unwrap(), updated, "refused change wrote nothing");

    let err = w
        .dir
        .update_mailbox_settings(
            &SYSTEM,
            mailbox,
            SettingsChange { forwarding_recipient: Some(Some(sales.id)), ..Default::default() },
        )
        .await
        .unwrap_err();
    assert!(matches!(err, CoreError::Invalid(_)), "forwarding to itself");
    let err = w
        .dir
        .update_mailbox_settings(
            &SYSTEM,
            mailbox,
            SettingsChange {
                forwarding_smtp_address: Some(Some(addr("SALES@contoso.com"))),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(err, CoreError::Invalid(_)), "forwarding to its own address");

    let cleared = w
        .dir
        .update_mailbox_settings(
            &SYSTEM,
            mailbox,
            SettingsChange {
                forwarding_recipient: Some(None),
                forwarding_smtp_address: Some(None),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(cleared.forwarding_recipient, None);
    assert_eq!(cleared.forwarding_smtp_address, None);
}

#[tokio::test(flavor = "multi_thread")]
async fn auto_replies_are_configured_and_scheduled_ones_checked() {
    let w = world().await;
    let sales = w.shared("Sales").await;
    let mailbox = sales.mailbox_id().unwrap();
    let start = Utc.with_ymd_and_hms(2026, 12, 24, 0, 0, 0).unwrap();
    let end = Utc.with_ymd_and_hms(2027, 1, 2, 0, 0, 0).unwrap();

    let err = w
        .dir
        .set_auto_reply(
            &SYSTEM,
            mailbox,
            AutoReplyChange { state: Some(AutoReplyState::Scheduled), ..Default::default() },
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("needs both StartTime and EndTime"), "{err}");
    let err = w
        .dir
        .set_auto_reply(
            &SYSTEM,
            mailbox,
            AutoReplyChange {
                state: Some(AutoReplyState::Scheduled),
                start_time: Some(Some(end)),
                end_time: Some(Some(start)),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "The end time must be later than the start time.");

    let config = w
        .dir
        .set_auto_reply(
            &SYSTEM,
            mailbox,
            AutoReplyChange {
                state: Some(AutoReplyState::Scheduled),
                start_time: Some(Some(start)),
                end_time: Some(Some(end)),
                internal_message: Some("Closed for the holidays.".into()),
                external_message: Some("We reply after 2 January.".into()),
                external_audience: Some(ExternalAudience::All),
            },
        )
        .await
        .unwrap();
    assert_eq!(w.dir.auto_reply(mailbox).await.unwrap(), config);
    let off = w
        .dir
        .set_auto_reply(
            &SYSTEM,
            mailbox,
            AutoReplyChange { state: Some(AutoReplyState::Disabled), ..Default::default() },
        )
        .await
        .unwrap();
    assert_eq!(off.internal_message, "Closed for the holidays.", "messages are kept when turned off");
    let err = w
        .dir
        .set_auto_reply(
            &SYSTEM,
            mailbox,
            AutoReplyChange { internal_message: Some("x".repeat(200_000)), ..Default::default() },
        )
        .await
        .unwrap_err();
    assert!(matches!(err, CoreError::Invalid(_)));
}
