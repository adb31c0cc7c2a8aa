//! GETACL, MYRIGHTS, LISTRIGHTS, SETACL, DELETEACL (RFC 4314) on the rights
//! `core` computes: the owner and every Full Access holder (user or group)
//! have all rights — in Recoverable Items, reading and (unless the grant is
//! NoPurge) purging; anyone else has none and, for a shared mailbox, can't
//! see it at all (`NONEXISTENT`). Permissions are the administrator's to
//! change (SPEC §1–2), so SETACL/DELETEACL answer `NO [NOPERM]`.

use mailroom_core::permissions::Right;

use crate::acl::{AclCommand, letters};
use crate::respond::{Status, quoted, status, untagged};
use crate::session::Session;
use mailroom_core::mail::MailRights;

impl Session {
    pub(crate) async fn acl(&mut self, tag: &str, command: AclCommand) {
        let Some(user) = self.user() else {
            self.fail(status(Some(tag), Status::Bad, None, "Sign in first"));
            return;
        };
        let name = match &command {
            AclCommand::GetAcl { mailbox }
            | AclCommand::MyRights { mailbox }
            | AclCommand::ListRights { mailbox, .. }
            | AclCommand::SetAcl { mailbox, .. }
            | AclCommand::DeleteAcl { mailbox, .. } => self.name_from_client(mailbox.clone()),
        };
        // Resolving checks the rights: no access, no folder.
        let target = match self.resolve(&user, &name).await {
            Ok(target) => target,
            Err(err) => return self.name_error(tag, &name, err),
        };
        let directory = self.server.mail.directory().clone();
        match command {
            AclCommand::MyRights { .. } => {
                self.conn.send(&untagged(&format!(
                    "MYRIGHTS {} {}",
                    self.name_to_client(&target.name),
                    letters(target.open.rights())
                )));
                self.conn.send(&status(Some(tag), Status::Ok, None, "MYRIGHTS completed"));
            }
            AclCommand::GetAcl { .. } => {
                let owner = match directory.recipient(target.mailbox().principal()).await {
                    Ok(owner) => owner,
                    Err(err) => return self.name_error(tag, &name, err.into()),
                };
                let mut line = format!("ACL {}", self.name_to_client(&target.name));
                // A shared mailbox's own account can't sign in; only people
                // (and their groups) hold rights on it.
                // Each grant's rights in this folder (Recoverable Items
                // narrows them, and a NoPurge grant can't purge there).
                let folder = target.folder();
                let full = MailRights::FULL.in_folder(folder);
                if owner.kind == mailroom_core::directory::RecipientKind::UserMailbox {
                    line.push_str(&format!(
                        " {} {}",
                        quoted(&owner.primary_address.to_string()),
                        letters(full)
                    ));
                }
                let entries = match directory.permissions_on(owner.id).await {
                    Ok(entries) => entries,
                    Err(err) => return self.name_error(tag, &name, err.into()),
                };
                for entry in entries.iter().filter(|e| e.right == Right::FullAccess) {
                    if let Ok(trustee) = directory.recipient(entry.trustee).await {
                        let id = if trustee.kind.is_group() {
                            trustee.name
                        } else {
                            trustee.primary_address.to_string()
                        };
                        let rights =
                            MailRights { purge: !entry.no_purge, ..MailRights::FULL }.in_folder(folder);
                        line.push_str(&format!(" {} {}", quoted(&id), letters(rights)));
                    }
                }
                self.conn.send(&untagged(&line));
                self.conn.send(&status(Some(tag), Status::Ok, None, "GETACL completed"));
            }
            AclCommand::ListRights { identifier, .. } => {
                // Nothing is granted without asking; all rights come as one group.
                let line = format!(
                    "LISTRIGHTS {} {} \"\" {}",
                    self.name_to_client(&target.name),
                    quoted(&identifier),
                    letters(MailRights::FULL.in_folder(target.folder()))
                );
                self.conn.send(&untagged(&line));
                self.conn.send(&status(Some(tag), Status::Ok, None, "LISTRIGHTS completed"));
            }
            AclCommand::SetAcl { .. } | AclCommand::DeleteAcl { .. } => {
                let text = "Permissions are managed by the administrator (Full Access in the admin tools)";
                self.fail(status(Some(tag), Status::No, Some("NOPERM"), text));
            }
        }
    }
}
