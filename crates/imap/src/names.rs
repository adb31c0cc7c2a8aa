//! Mailbox names as clients see them (SPEC §4): the user's own folders at
//! the root (`INBOX`, `Sent Items`, `Projects/2026`), each shared mailbox the
//! user may open under `Shared/<its primary address>/`. A name resolves to
//! a folder `core` opened for the user ([`OpenFolder`]), with the rights it
//! computed; a session keeps the mailboxes it opened until the change feed
//! says its access changed, so a revoked member's next command finds the
//! folders gone (`NONEXISTENT`), never "forbidden".

use mailroom_core::CoreError;
use mailroom_core::directory::Recipient;
use mailroom_core::mail::{Folder, OpenFolder, OpenMailbox, SpecialUse};
use mailroom_types::{EmailAddress, MailboxId};

use crate::session::{Session, SignedIn};
use crate::{DELIMITER, SHARED_PREFIX};

/// A folder a name resolved to.
#[derive(Clone, Debug)]
pub(crate) struct Target {
    pub open: OpenFolder,
    /// The canonical name (INBOX upper-cased, the shared mailbox by its primary address).
    pub name: String,
}

impl Target {
    pub fn mailbox(&self) -> MailboxId {
        self.open.mailbox()
    }

    pub fn folder(&self) -> &Folder {
        self.open.folder()
    }
}

/// One LIST line.
#[derive(Clone, Debug)]
pub(crate) struct Entry {
    pub name: String,
    pub attributes: Vec<&'static str>,
    /// Subscribed without asking: default folders, automapped shared mailboxes.
    pub auto_subscribed: bool,
    /// The folder, for a name that has one (not the `Shared/` parents).
    pub folder: Option<OpenFolder>,
}

/// Why a name doesn't lead to a folder.
#[derive(Debug)]
pub(crate) enum NameError {
    /// No such folder for this user (including: no rights to its mailbox).
    NonExistent,
    Core(CoreError),
}

impl From<CoreError> for NameError {
    fn from(err: CoreError) -> Self {
        NameError::Core(err)
    }
}

/// The leaf as IMAP shows it: the Inbox is always `INBOX`.
pub(crate) fn leaf(folder: &Folder) -> &str {
    if folder.special_use == Some(SpecialUse::Inbox) { "INBOX" } else { &folder.name }
}

/// `\Sent`, `\Trash`... (RFC 6154) for default folders.
pub(crate) fn special_use_attribute(special: Option<SpecialUse>) -> Option<&'static str> {
    match special? {
        SpecialUse::Inbox => None,
        SpecialUse::Drafts => Some("\\Drafts"),
        SpecialUse::Sent => Some("\\Sent"),
        SpecialUse::Trash => Some("\\Trash"),
        SpecialUse::Junk => Some("\\Junk"),
        SpecialUse::Archive => Some("\\Archive"),
        // RFC 6154 has no attribute for it.
        SpecialUse::Recoverable => None,
    }
}

/// Whether a LIST attribute is a special-use one (RFC 6154).
pub(crate) fn is_special_use_attribute(attribute: &str) -> bool {
    matches!(attribute, "\\Drafts" | "\\Sent" | "\\Trash" | "\\Junk" | "\\Archive")
}

/// Splits a name into the shared mailbox's address (if any) and the folder
/// path inside it ("" for the mailbox's own container).
pub(crate) fn split(name: &str) -> (Option<&str>, &str) {
    let name = name.trim_end_matches(DELIMITER);
    match name.strip_prefix(SHARED_PREFIX) {
        Some(rest) => match rest.split_once(DELIMITER) {
            Some((address, folder)) => (Some(address), folder),
            None => (Some(rest), ""),
        },
        None if name == SHARED_PREFIX.trim_end_matches(DELIMITER) => (Some(""), ""),
        None => (None, name),
    }
}

/// Whether `name` matches a LIST pattern: `*` matches anything, `%`
/// anything but the delimiter (RFC 9051 §6.3.9). Linear in the pattern
/// times the name: one row of "which name positions can the pattern so far
/// end at", each wildcard filled in one pass (a client's long pattern over
/// many long names costs no more than reading them).
pub(crate) fn matches(pattern: &str, name: &str) -> bool {
    let name: Vec<char> = name.chars().collect();
    let mut row = vec![false; name.len() + 1];
    row[0] = true;
    for c in pattern.chars() {
        let mut next = vec![false; name.len() + 1];
        match c {
            // From the first reachable position on, everything.
            '*' => {
                if let Some(first) = row.iter().position(|&r| r) {
                    next[first..].iter_mut().for_each(|cell| *cell = true);
                }
            }
            // Reachable, or reachable before and no delimiter crossed since.
            '%' => {
                let mut open = false;
                for j in 0..=name.len() {
                    open = row[j] || (open && j > 0 && name[j - 1] != DELIMITER);
                    next[j] = open;
                }
            }
            c => {
                for j in 0..name.len() {
                    next[j + 1] = row[j] && name[j] == c;
                }
            }
        }
        row = next;
        if !row.contains(&true) {
            return false;
        }
    }
    row[name.len()]
}

/// Whether a new folder path is acceptable: no control characters (a CR/LF
/// name could never be addressed again), bounded length and depth, no empty
/// levels.
pub(crate) fn valid_new_path(path: &str) -> bool {
    !path.is_empty()
        && path.len() <= 255
        && path.split(DELIMITER).count() <= 16
        && !path.split(DELIMITER).any(str::is_empty)
        && !path.chars().any(|c| c.is_control() || c == '*' || c == '%')
}

/// INBOX is case-insensitive (RFC 9051 §5.1); so is its place in a shared mailbox.
pub(crate) fn canonical_folder(path: &str) -> String {
    let (first, rest) = match path.split_once(DELIMITER) {
        Some((first, rest)) => (first, Some(rest)),
        None => (path, None),
    };
    let first = if first.eq_ignore_ascii_case("INBOX") { "INBOX" } else { first };
    match rest {
        Some(rest) => format!("{first}{DELIMITER}{rest}"),
        None => first.to_string(),
    }
}

impl Session {
    /// A mailbox opened by `core` for this user: from the session's cache
    /// (kept until the change feed says the user's access changed), or
    /// opened now. `NonExistent` when the user may not open it.
    pub(crate) async fn opened(&self, user: &SignedIn, mailbox: MailboxId) -> Result<OpenMailbox, NameError> {
        if let Some(open) = self.cached_mailbox(mailbox) {
            return Ok(open);
        }
        let open = match self.server.mail.open_mailbox(user.principal, mailbox).await {
            Ok(open) => open,
            Err(CoreError::NoAccess { .. } | CoreError::NotFound { .. }) => {
                return Err(NameError::NonExistent);
            }
            Err(err) => return Err(err.into()),
        };
        self.cache_mailbox(open.clone());
        Ok(open)
    }

    /// The mailbox a shared address names, if this user may open it.
    async fn shared_mailbox(
        &self,
        user: &SignedIn,
        address: &str,
    ) -> Result<(Recipient, OpenMailbox), NameError> {
        let directory = self.server.mail.directory();
        let address = EmailAddress::parse(address).map_err(|_| NameError::NonExistent)?;
        let recipient = directory.resolve_address(&address).await?.ok_or(NameError::NonExistent)?;
        let mailbox = recipient.mailbox_id().ok_or(NameError::NonExistent)?;
        if mailbox == user.mailbox {
            return Err(NameError::NonExistent);
        }
        let open = self.opened(user, mailbox).await?;
        Ok((recipient, open))
    }

    /// The opened mailbox and canonical prefix a name's place is in, and the folder path.
    pub(crate) async fn place(
        &self,
        user: &SignedIn,
        name: &str,
    ) -> Result<(OpenMailbox, String, String), NameError> {
        match split(name) {
            (None, path) => {
                Ok((self.opened(user, user.mailbox).await?, String::new(), canonical_folder(path)))
            }
            (Some(address), path) => {
                let (recipient, open) = self.shared_mailbox(user, address).await?;
                let prefix = format!("{SHARED_PREFIX}{}{DELIMITER}", recipient.primary_address);
                Ok((open, prefix, canonical_folder(path)))
            }
        }
    }

    /// Refuses a missing APPEND/COPY/MOVE destination: `TRYCREATE` only
    /// where a CREATE of that name would succeed (RFC 9051 §6.3.12: the
    /// code invites the client to create it), `NONEXISTENT` elsewhere — a
    /// shared mailbox the user can't open, another person's folders — so
    /// the client isn't sent into a CREATE that must fail.
    pub(crate) async fn missing_destination(&mut self, tag: &str, user: &SignedIn, name: &str) {
        let creatable = match self.place(user, name).await {
            Ok((_, _, path)) => valid_new_path(&path),
            Err(_) => false,
        };
        if !creatable {
            return self.name_error(tag, name, NameError::NonExistent);
        }
        let text = format!("No such mailbox: {}", self.name_in_text(name));
        self.fail(crate::respond::status(Some(tag), crate::respond::Status::No, Some("TRYCREATE"), &text));
    }

    /// Resolves a name to a folder the user may use now.
    pub(crate) async fn resolve(&self, user: &SignedIn, name: &str) -> Result<Target, NameError> {
        let (mailbox, prefix, path) = self.place(user, name).await?;
        if path.is_empty() {
            return Err(NameError::NonExistent);
        }
        let open = self
            .server
            .mail
            .find_folder(&mailbox, |f| {
                if path == "INBOX" {
                    f.special_use == Some(SpecialUse::Inbox)
                } else {
                    f.name.eq_ignore_ascii_case(&path) && f.special_use != Some(SpecialUse::Inbox)
                }
            })
            .await?
            .ok_or(NameError::NonExistent)?;
        let name = format!("{prefix}{}", leaf(open.folder()));
        Ok(Target { open, name })
    }

    /// Every name the user sees, in LIST order.
    pub(crate) async fn entries(&self, user: &SignedIn) -> Result<Vec<Entry>, CoreError> {
        let mut entries = Vec::new();
        let own_mailbox = match self.opened(user, user.mailbox).await {
            Ok(open) => open,
            Err(NameError::Core(err)) => return Err(err),
            Err(NameError::NonExistent) => return Err(CoreError::NotFound { identity: user.login.clone() }),
        };
        let own = self.server.mail.open_folders(&own_mailbox).await?;
        push_folders(&mut entries, "", &own, |f| f.special_use.is_some());
        let shared = self.server.mail.directory().accessible_mailboxes(user.principal).await?;
        let mut shared_entries = Vec::new();
        for (recipient, access) in &shared {
            let Some(mailbox) = recipient.mailbox_id() else { continue };
            let open = match self.opened(user, mailbox).await {
                Ok(open) => open,
                // Lost between the two reads: not listed.
                Err(NameError::NonExistent) => continue,
                Err(NameError::Core(err)) => return Err(err),
            };
            let prefix = format!("{SHARED_PREFIX}{}", recipient.primary_address);
            shared_entries.push(Entry {
                name: prefix.clone(),
                attributes: vec!["\\Noselect", "\\HasChildren"],
                auto_subscribed: access.automapped,
                folder: None,
            });
            let folders = self.server.mail.open_folders(&open).await?;
            let automapped = access.automapped;
            push_folders(&mut shared_entries, &format!("{prefix}{DELIMITER}"), &folders, |_| automapped);
        }
        if !shared_entries.is_empty() {
            let root = SHARED_PREFIX.trim_end_matches(DELIMITER).to_string();
            let any_automapped = shared.iter().any(|(_, a)| a.automapped);
            entries.push(Entry {
                name: root,
                attributes: vec!["\\Noselect", "\\HasChildren"],
                auto_subscribed: any_automapped,
                folder: None,
            });
            entries.extend(shared_entries);
        }
        Ok(entries)
    }
}

fn push_folders(
    entries: &mut Vec<Entry>,
    prefix: &str,
    folders: &[OpenFolder],
    auto: impl Fn(&Folder) -> bool,
) {
    for open in folders {
        let folder = open.folder();
        let name = format!("{prefix}{}", leaf(folder));
        let child_prefix = format!("{}{DELIMITER}", leaf(folder)).to_lowercase();
        let has_children = folders.iter().any(|f| f.folder().name.to_lowercase().starts_with(&child_prefix));
        let mut attributes = vec![if has_children { "\\HasChildren" } else { "\\HasNoChildren" }];
        attributes.extend(special_use_attribute(folder.special_use));
        entries.push(Entry { name, attributes, auto_subscribed: auto(folder), folder: Some(open.clone()) });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns() {
        assert!(matches("*", "Shared/info@contoso.com/INBOX"));
        assert!(matches("%", "INBOX"));
        assert!(!matches("%", "Shared/info@contoso.com"));
        assert!(matches("Shared/%", "Shared/info@contoso.com"));
        assert!(matches("Shared/%/%", "Shared/info@contoso.com/Sent Items"));
        assert!(matches("S*s", "Sent Items"));
        assert!(!matches("Sent", "Sent Items"));
        assert!(matches("", ""));
        assert!(matches("%/%", "a/b") && !matches("%/%", "a/b/c") && matches("*%", "a/b"));
    }

    /// The pattern's meaning written as plainly as possible.
    fn naive(p: &[char], n: &[char]) -> bool {
        match p.split_first() {
            None => n.is_empty(),
            Some(('*', rest)) => (0..=n.len()).any(|k| naive(rest, &n[k..])),
            Some(('%', rest)) => {
                (0..=n.len()).take_while(|&k| k == 0 || n[k - 1] != DELIMITER).any(|k| naive(rest, &n[k..]))
            }
            Some((c, rest)) => n.first() == Some(c) && naive(rest, &n[1..]),
        }
    }

    proptest::proptest! {
        #[test]
        fn matching_means_what_the_pattern_says(pattern in "[ab/*%]{0,7}", name in "[ab/]{0,9}") {
            let (p, n): (Vec<char>, Vec<char>) = (pattern.chars().collect(), name.chars().collect());
            proptest::prop_assert_eq!(matches(&pattern, &name), naive(&p, &n));
        }
    }

    #[test]
    fn splitting_and_canonical_names() {
        assert_eq!(split("Shared/info@contoso.com/INBOX"), (Some("info@contoso.com"), "INBOX"));
        assert_eq!(split("Shared/info@contoso.com/"), (Some("info@contoso.com"), ""));
        assert_eq!(split("Shared"), (Some(""), ""));
        assert_eq!(split("Projects/2026"), (None, "Projects/2026"));
        assert_eq!(canonical_folder("inbox"), "INBOX");
        assert_eq!(canonical_folder("Inbox/Sub"), "INBOX/Sub");
        assert_eq!(canonical_folder("Sent Items"), "Sent Items");
    }
}
