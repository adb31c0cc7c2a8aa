//! SUBSCRIBE and UNSUBSCRIBE (RFC 9051 §6.3.7, §6.3.8). Subscriptions are
//! names, independent of folders (RFC 3501 §6.3.6): a name that leads to no
//! folder (not yet, or no more) may be subscribed, and deleting a folder
//! leaves its subscription. Names are kept as the client wrote them,
//! canonicalized when they resolve. Folders that are subscribed
//! automatically (default folders, automapped shared mailboxes) stay
//! listed in LSUB: automapping is the admin's choice (SPEC §2).

use crate::names::NameError;
use crate::respond::{Status, status};
use crate::session::Session;

/// The longest name that may be subscribed, in octets, and its most levels
/// (a folder path has at most 16, under `Shared/<address>/` two more).
const MAX_NAME_OCTETS: usize = 1024;
const MAX_NAME_LEVELS: usize = 18;
/// Subscriptions one user may hold: names needn't exist, so without a
/// bound a client could fill the store with them, and every LSUB reads
/// them all.
pub(crate) const MAX_SUBSCRIPTIONS: usize = 1_000;

impl Session {
    pub(crate) async fn subscribe(&mut self, tag: &str, name: &str, subscribe: bool) {
        let Some(user) = self.user() else { return };
        let command = if subscribe { "SUBSCRIBE" } else { "UNSUBSCRIBE" };
        if name.is_empty()
            || name.len() > MAX_NAME_OCTETS
            || name.split(crate::DELIMITER).count() > MAX_NAME_LEVELS
        {
            let text = format!(
                "A mailbox name has 1 to {MAX_NAME_OCTETS} octets and at most {MAX_NAME_LEVELS} levels"
            );
            self.fail(status(Some(tag), Status::Bad, None, &text));
            return;
        }
        let canonical = match self.resolve(&user, name).await {
            Ok(target) => target.name,
            Err(NameError::NonExistent) => name.to_string(),
            Err(err) => return self.name_error(tag, name, err),
        };
        if subscribe {
            match self.server.mail.subscriptions(user.principal).await {
                Ok(names) if names.len() >= MAX_SUBSCRIPTIONS && !names.contains(&canonical) => {
                    let text = format!("At most {MAX_SUBSCRIPTIONS} subscriptions: unsubscribe some first");
                    self.fail(status(Some(tag), Status::No, Some("LIMIT"), &text));
                    return;
                }
                Ok(_) => {}
                Err(err) => return self.store_error(tag, name, err),
            }
        }
        if let Err(err) = self.server.mail.set_subscribed(user.principal, &canonical, subscribe).await {
            return self.store_error(tag, name, err);
        }
        self.notify_own_names(&[name]).await;
        self.conn.send(&status(Some(tag), Status::Ok, None, &format!("{command} completed")));
    }
}
