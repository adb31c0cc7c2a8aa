//! APPEND (RFC 9051 §6.3.12, UIDPLUS APPENDUID): a message into any folder
//! the user may use, parsed once like a delivery and stored durably before
//! the OK (DESIGN.md, durability rule), up to APPENDLIMIT (RFC 7889) — or
//! several (MULTIAPPEND, RFC 3502), stored all or none.

use super::catenate::CatenateError;
use crate::multiappend::{Message, single_append};
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

    /// MULTIAPPEND (RFC 3502): every message checked as a single APPEND
    /// would be, then all stored in one transaction; APPENDUID names their
    /// UIDs in order (RFC 4315 §3: a set with MULTIAPPEND).
    pub(crate) async fn multi_append(&mut self, request: crate::multiappend::MultiAppend) {
        use imap_codec::CommandCodec;
        use imap_codec::decode::Decoder;
        use imap_codec::imap_types::command::CommandBody;
        use imap_codec::imap_types::extensions::binary::LiteralOrLiteral8;
        let Some(user) = self.user() else { return };
        let tag = request.tag.clone();
        let tag = tag.as_str();
        if request.cancelled {
            // RFC 3502 §6.3.11: a zero-length message cancels the APPEND.
            self.fail(status(Some(tag), Status::No, None, "APPEND cancelled; no message was stored"));
            return;
        }
        let name = self.name_from_client(request.mailbox);
        // The folder first: a refused one costs no decoding.
        let target = match self.resolve(&user, &name).await {
            Ok(target) => target,
            Err(crate::names::NameError::NonExistent) => {
                return self.missing_destination(tag, &user, &name).await;
            }
            Err(err) => return self.name_error(tag, &name, err),
        };
        let limit = self.server.append_limit();
        // What CATENATE may put together in this whole command: as much as
        // one command may carry (the framer bounds the literals themselves).
        let mut budget = self.server.config.max_command_size as usize;
        let mut messages = Vec::with_capacity(request.messages.len());
        // Each part is dropped once read: its bytes are held once.
        for (index, message) in request.messages.into_iter().enumerate() {
            let one = match message {
                Message::Literal(one) => one,
                Message::Catenate { head, parts } => match self.catenate(&user, parts, &mut budget).await {
                    // An ordinary literal can't carry NUL: a literal8 then (RFC 3516).
                    Ok(data) => single_append(&head, data.contains(&0), &data),
                    Err(CatenateError::BadUrl(url)) => {
                        // RFC 4469 §5: url-resp-text is any TEXT-CHAR but "]".
                        let url: String =
                            url.chars().map(|c| if c == ']' || c.is_control() { '?' } else { c }).collect();
                        let code = format!("BADURL {url}");
                        let text =
                            format!("Message {}: nothing this account can read at that URL", index + 1);
                        return self.fail(status(Some(tag), Status::No, Some(&code), &text));
                    }
                    Err(CatenateError::TooBig) => {
                        let text = format!("Message {} is too big (at most {limit} octets)", index + 1);
                        return self.fail(status(Some(tag), Status::No, Some("TOOBIG"), &text));
                    }
                    Err(CatenateError::Store(err)) => return self.name_error(tag, &name, err.into()),
                },
            };
            let Ok(([], command)) = CommandCodec::new().decode(&one) else {
                let text = format!("Message {}: bad flags, date or literal", index + 1);
                return self.fail(status(Some(tag), Status::Bad, None, &text));
            };
            let CommandBody::Append { flags, date, message, .. } = command.body else {
                return self.fail(status(Some(tag), Status::Bad, None, "Bad APPEND"));
            };
            let bytes = match &message {
                LiteralOrLiteral8::Literal(literal) => literal.data().to_vec(),
                LiteralOrLiteral8::Literal8(literal) => literal.data.to_vec(),
            };
            drop(message);
            if bytes.len() > limit as usize {
                let text = format!("Message {} is too big (at most {limit} octets)", index + 1);
                return self.fail(status(Some(tag), Status::No, Some("TOOBIG"), &text));
            }
            let flags = match super::store::to_flags(&flags) {
                Ok(flags) => flags,
                Err(text) => return self.fail(status(Some(tag), Status::Bad, None, &text)),
            };
            let date = date.map(|d| d.as_ref().timestamp()).unwrap_or_else(|| chrono::Utc::now().timestamp());
            let summary = mailroom_mime::summarize(&bytes);
            messages.push((bytes, summary, flags, date));
        }
        match self.server.mail.append_many(&target.open, messages).await {
            Ok(added) => {
                let uids: Vec<u32> = added.iter().map(|d| d.uid.0).collect();
                let code =
                    format!("APPENDUID {} {}", target.folder().uid_validity, crate::sequence::compact(&uids));
                self.notify_own_added(target.open.id(), added.iter().map(|d| d.uid));
                if self.selected().is_some_and(|s| s.target.open.id() == target.open.id()) {
                    self.report_changes().await;
                }
                self.conn.send(&status(Some(tag), Status::Ok, Some(&code), "APPEND completed"));
            }
            Err(err) => self.name_error(tag, &name, err.into()),
        }
    }
}
