//! GETQUOTAROOT and GETQUOTA (RFC 9208): each mailbox is one quota root,
//! named by its primary address; STORAGE is its usage against
//! ProhibitSendReceive, in KiB. SETQUOTA is the administrator's (NOPERM).

use mailroom_core::directory::Quota;

use crate::respond::{Status, quoted, status, untagged};
use crate::session::Session;

impl Session {
    async fn quota_line(
        &mut self,
        mailbox: mailroom_types::MailboxId,
    ) -> Result<(String, String), mailroom_core::CoreError> {
        let directory = self.server.mail.directory().clone();
        let owner = directory.recipient(mailbox.principal()).await?;
        let root = owner.primary_address.to_string();
        let (usage, _) = self.server.mail.storage_status(mailbox).await?;
        let settings = directory.mailbox_settings(mailbox).await?;
        let used = usage.bytes.div_ceil(1024);
        let line = match settings.quota.prohibit_send_receive {
            Quota::Bytes(limit) => format!("QUOTA {} (STORAGE {used} {})", quoted(&root), limit / 1024),
            Quota::Unlimited => format!("QUOTA {} ()", quoted(&root)),
        };
        Ok((root, line))
    }

    pub(crate) async fn get_quota_root(&mut self, tag: &str, name: &str) {
        let Some(user) = self.user() else { return };
        let target = match self.resolve(&user, name).await {
            Ok(target) => target,
            Err(err) => return self.name_error(tag, name, err),
        };
        match self.quota_line(target.mailbox()).await {
            Ok((root, line)) => {
                self.conn.send(&untagged(&format!(
                    "QUOTAROOT {} {}",
                    self.name_to_client(&target.name),
                    quoted(&root)
                )));
                self.conn.send(&untagged(&line));
                self.conn.send(&status(Some(tag), Status::Ok, None, "GETQUOTAROOT completed"));
            }
            Err(err) => self.name_error(tag, name, err.into()),
        }
    }

    pub(crate) async fn get_quota(&mut self, tag: &str, root: &str) {
        let Some(user) = self.user() else { return };
        // The root is a mailbox's address: its INBOX resolves it with the rights check.
        let probe = if self
            .server
            .mail
            .directory()
            .resolve(root)
            .await
            .is_ok_and(|r| r.mailbox_id() == Some(user.mailbox))
        {
            "INBOX".to_string()
        } else {
            format!("{}{root}/INBOX", crate::SHARED_PREFIX)
        };
        let target = match self.resolve(&user, &probe).await {
            Ok(target) => target,
            Err(_) => {
                self.fail(status(
                    Some(tag),
                    Status::No,
                    Some("NONEXISTENT"),
                    &format!("No such quota root: {root}"),
                ));
                return;
            }
        };
        match self.quota_line(target.mailbox()).await {
            Ok((_, line)) => {
                self.conn.send(&untagged(&line));
                self.conn.send(&status(Some(tag), Status::Ok, None, "GETQUOTA completed"));
            }
            Err(err) => self.name_error(tag, root, err.into()),
        }
    }
}
