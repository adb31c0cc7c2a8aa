//! SUBSCRIBE and UNSUBSCRIBE (RFC 9051 §6.3.7, §6.3.8). Names are kept as
//! the client wrote them, canonicalized when they resolve. Folders that are
//! subscribed automatically (default folders, automapped shared mailboxes)
//! stay listed in LSUB: automapping is the admin's choice (SPEC §2).

use crate::respond::{Status, status};
use crate::session::Session;

impl Session {
    pub(crate) async fn subscribe(&mut self, tag: &str, name: &str, subscribe: bool) {
        let Some(user) = self.user() else { return };
        let command = if subscribe { "SUBSCRIBE" } else { "UNSUBSCRIBE" };
        let canonical = match self.resolve(&user, name).await {
            Ok(target) => target.name,
            Err(_) if !subscribe => name.to_string(),
            Err(err) => return self.name_error(tag, name, err),
        };
        if let Err(err) = self.server.mail.set_subscribed(user.principal, &canonical, subscribe).await {
            return self.store_error(tag, name, err);
        }
        self.conn.send(&status(Some(tag), Status::Ok, None, &format!("{command} completed")));
    }
}
