//! Mailbox settings: forwarding, sent-item copies, quotas (SPEC §3), the
//! automap-groups switch (SPEC §2) and automatic replies.

use chrono::{DateTime, Utc};
use mailroom_types::{EmailAddress, MailboxId, PrincipalId};

use super::{Actor, AutoReplyConfig, AutoReplyState, Directory, ExternalAudience, MailboxSettings, Quota};
use crate::error::{CoreError, CoreResult};

/// An edit of mailbox settings; `None` keeps the current value, and
/// `Some(None)` clears an optional one.
#[derive(Clone, Debug, Default)]
pub struct SettingsChange {
    pub forwarding_recipient: Option<Option<PrincipalId>>,
    pub forwarding_smtp_address: Option<Option<EmailAddress>>,
    pub deliver_to_mailbox_and_forward: Option<bool>,
    pub message_copy_for_sent_as: Option<bool>,
    pub message_copy_for_send_on_behalf: Option<bool>,
    pub issue_warning_quota: Option<Quota>,
    pub prohibit_send_quota: Option<Quota>,
    pub prohibit_send_receive_quota: Option<Quota>,
    pub automap_groups: Option<bool>,
    pub retain_deleted_items_for: Option<super::Retention>,
    pub recoverable_items_quota: Option<Quota>,
    pub audit_enabled: Option<bool>,
    pub audit_log_age_limit: Option<super::Retention>,
    pub per_member_seen: Option<bool>,
}

impl SettingsChange {
    pub fn is_empty(&self) -> bool {
        self.forwarding_recipient.is_none()
            && self.forwarding_smtp_address.is_none()
            && self.deliver_to_mailbox_and_forward.is_none()
            && self.message_copy_for_sent_as.is_none()
            && self.message_copy_for_send_on_behalf.is_none()
            && self.issue_warning_quota.is_none()
            && self.prohibit_send_quota.is_none()
            && self.prohibit_send_receive_quota.is_none()
            && self.automap_groups.is_none()
            && self.retain_deleted_items_for.is_none()
            && self.recoverable_items_quota.is_none()
            && self.audit_enabled.is_none()
            && self.audit_log_age_limit.is_none()
            && self.per_member_seen.is_none()
    }
}

/// An edit of the automatic-reply configuration; `None` keeps the current value.
#[derive(Clone, Debug, Default)]
pub struct AutoReplyChange {
    pub state: Option<AutoReplyState>,
    pub start_time: Option<Option<DateTime<Utc>>>,
    pub end_time: Option<Option<DateTime<Utc>>>,
    pub internal_message: Option<String>,
    pub external_message: Option<String>,
    pub external_audience: Option<ExternalAudience>,
}

/// Exchange caps auto-reply messages at 128 KB; text only here (SPEC §3).
const MAX_AUTO_REPLY_LEN: usize = 128 * 1024;

impl Directory {
    pub async fn mailbox_settings(&self, id: MailboxId) -> CoreResult<MailboxSettings> {
        self.store.mailbox_settings(id).await?.ok_or_else(|| CoreError::NotFound { identity: id.to_string() })
    }

    pub async fn update_mailbox_settings(
        &self,
        actor: &Actor,
        id: MailboxId,
        change: SettingsChange,
    ) -> CoreResult<MailboxSettings> {
        self.require_admin(actor).await?;
        let current = self.mailbox_settings(id).await?;
        if change.is_empty() {
            return Ok(current);
        }
        let settings = self.prepare_settings(id, current, change).await?;
        self.store.set_mailbox_settings(id, &settings).await?;
        Ok(settings)
    }

    /// Applies `change` to `settings` and checks the result; writes nothing.
    pub(super) async fn prepare_settings(
        &self,
        id: MailboxId,
        mut settings: MailboxSettings,
        change: SettingsChange,
    ) -> CoreResult<MailboxSettings> {
        if let Some(target) = change.forwarding_recipient {
            if let Some(target) = target {
                if target == id.principal() {
                    return Err(CoreError::Invalid("A mailbox can't forward to itself.".into()));
                }
                self.recipient(target).await?;
            }
            settings.forwarding_recipient = target;
        }
        if let Some(address) = change.forwarding_smtp_address {
            if let Some(address) = &address
                && let Some(holder) = self.store.recipient_by_address(address).await?
                && holder.id == id.principal()
            {
                return Err(CoreError::Invalid("A mailbox can't forward to its own address.".into()));
            }
            settings.forwarding_smtp_address = address;
        }
        if let Some(v) = change.deliver_to_mailbox_and_forward {
            settings.deliver_to_mailbox_and_forward = v;
        }
        if let Some(v) = change.message_copy_for_sent_as {
            settings.message_copy_for_sent_as = v;
        }
        if let Some(v) = change.message_copy_for_send_on_behalf {
            settings.message_copy_for_send_on_behalf = v;
        }
        if let Some(q) = change.issue_warning_quota {
            settings.quota.issue_warning = q;
        }
        if let Some(q) = change.prohibit_send_quota {
            settings.quota.prohibit_send = q;
        }
        if let Some(q) = change.prohibit_send_receive_quota {
            settings.quota.prohibit_send_receive = q;
        }
        if let Some(v) = change.automap_groups {
            settings.automap_groups = v;
        }
        if let Some(v) = change.retain_deleted_items_for {
            settings.retain_deleted_items_for = v;
        }
        if let Some(q) = change.recoverable_items_quota {
            settings.recoverable_items_quota = q;
        }
        if let Some(v) = change.audit_enabled {
            settings.audit_enabled = v;
        }
        if let Some(limit) = change.audit_log_age_limit {
            settings.audit_log_age_limit = limit;
        }
        if let Some(v) = change.per_member_seen {
            settings.per_member_seen = v;
        }
        settings.quota.check_order().map_err(CoreError::Invalid)?;
        Ok(settings)
    }

    pub async fn auto_reply(&self, id: MailboxId) -> CoreResult<AutoReplyConfig> {
        self.mailbox_settings(id).await?;
        Ok(self.store.auto_reply(id).await?)
    }

    pub async fn set_auto_reply(
        &self,
        actor: &Actor,
        id: MailboxId,
        change: AutoReplyChange,
    ) -> CoreResult<AutoReplyConfig> {
        self.require_admin(actor).await?;
        let mut config = self.auto_reply(id).await?;
        if let Some(state) = change.state {
            config.state = state;
        }
        if let Some(start) = change.start_time {
            config.start_time = start;
        }
        if let Some(end) = change.end_time {
            config.end_time = end;
        }
        if let Some(text) = change.internal_message {
            config.internal_message = text;
        }
        if let Some(text) = change.external_message {
            config.external_message = text;
        }
        if let Some(audience) = change.external_audience {
            config.external_audience = audience;
        }
        for (what, text) in
            [("InternalMessage", &config.internal_message), ("ExternalMessage", &config.external_message)]
        {
            if text.len() > MAX_AUTO_REPLY_LEN {
                return Err(CoreError::Invalid(format!("{what} is longer than 128 KB.")));
            }
        }
        if config.state == AutoReplyState::Scheduled {
            match (config.start_time, config.end_time) {
                (Some(start), Some(end)) if end <= start => {
                    return Err(CoreError::Invalid("The end time must be later than the start time.".into()));
                }
                (Some(_), Some(_)) => {}
                _ => {
                    return Err(CoreError::Invalid(
                        "A scheduled automatic reply needs both StartTime and EndTime.".into(),
                    ));
                }
            }
        }
        self.store.set_auto_reply(id, &config).await?;
        Ok(config)
    }
}
