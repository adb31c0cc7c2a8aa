//! APPEND (RFC 9051 §6.3.12, UIDPLUS APPENDUID): a message into any folder
//! the user may use, parsed once like a delivery and stored durably before
//! the OK (DESIGN.md, durability rule), up to APPENDLIMIT (RFC 7889).

use crate::respond::{Status, status};
use crate::session::Session;

impl Session {
    pub(crate) async fn append(
        &mut self,
        tag: &str,
        name: &str,
        flags: &[imap_codec::imap_types::flag::Flag<'static>],
        date: Option<i64>,
        message: Vec<u8>,
    ) {
        let Some(user) = self.user() else { return };
        let limit = self.server.append_limit();
        if message.len() > limit as usize {
            // RFC 7889: APPENDLIMIT is exact — what a short command could
            // carry past it is refused too.
            let text = format!("The message is too big (at most {limit} octets)");
            self.fail(status(Some(tag), Status::No, Some("TOOBIG"), &text));
            return;
        }
        let target = match self.resolve(&user, name).await {
            Ok(target) => target,
            Err(crate::names::NameError::NonExistent) => {
                return self.missing_destination(tag, &user, name).await;
            }
            Err(err) => return self.name_error(tag, name, err),
        };
        let flags = match super::store::to_flags(flags) {
            Ok(flags) => flags,
            Err(text) => return self.fail(status(Some(tag), Status::Bad, None, &text)),
        };
        if message.is_empty() {
            self.fail(status(Some(tag), Status::No, None, "An empty message can't be appended"));
            return;
        }
        let summary = mailroom_mime::summarize(&message);
        let date = date.unwrap_or_else(|| chrono::Utc::now().timestamp());
        match self.server.mail.append(&target.open, message, &summary, flags, date).await {
            Ok(added) => {
                let code = format!("APPENDUID {} {}", target.folder().uid_validity, added.uid.0);
                self.notify_own_added(target.open.id(), [added.uid]);
                if self.selected().is_some_and(|s| s.target.open.id() == target.open.id()) {
                    self.report_changes().await;
                }
                self.conn.send(&status(Some(tag), Status::Ok, Some(&code), "APPEND completed"));
            }
            Err(err) => self.name_error(tag, name, err.into()),
        }
    }
}
