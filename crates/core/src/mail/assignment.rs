//! Assignment and handled state of a shared mailbox's messages (SPEC §5):
//! who on the team is dealing with a message, and whether it is dealt with.
//! Both are IMAP keywords, so every client sees, searches and sets them:
//!
//! - `$Assigned` — someone is on it; with it, one `$AssignedTo_<alias>`
//!   naming the member by their alias (`$AssignedTo_alice`);
//! - `$Handled` — dealt with.
//!
//! The keywords stay consistent however a client sets them ([`apply`], in
//! every flag change): naming an assignee (`+FLAGS ($AssignedTo_bob)`)
//! assigns — `$Assigned` comes with it, and the name replaces any other;
//! taking `$Assigned` off takes the name off too, and taking the last name
//! off takes `$Assigned` off. The web app assigns with [`Mail::assign`] and
//! marks handled with [`Mail::set_handled`]. Each change is on the
//! mailbox's activity trail (Assigned, Unassigned, Handled, Reopened).

use mailroom_types::{PrincipalId, Uid};

use super::open::{OpenFolder, require_folder_right};
use super::{Flags, Mail};
use crate::error::{CoreError, CoreResult};
use crate::store::{FlagChange, FlagsOutcome};

pub const HANDLED: &str = "$Handled";
pub const ASSIGNED: &str = "$Assigned";
pub const ASSIGNED_TO: &str = "$AssignedTo_";

/// The keyword naming `alias` as assignee, or `None` when the alias holds
/// a character an IMAP keyword can't (only letters, digits, `.`, `_`, `-`).
pub fn assignee_keyword(alias: &str) -> Option<String> {
    let fits = !alias.is_empty() && alias.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
    fits.then(|| format!("{ASSIGNED_TO}{alias}"))
}

/// Whether keyword `k` is an `$AssignedTo_<alias>` (any case).
fn names_assignee(k: &str) -> bool {
    k.len() > ASSIGNED_TO.len()
        && k.get(..ASSIGNED_TO.len()).is_some_and(|p| p.eq_ignore_ascii_case(ASSIGNED_TO))
}

/// Whether keyword `k` is one of the assignment keywords (`$Assigned`,
/// `$AssignedTo_<alias>`; any case).
pub fn is_assignment_keyword(k: &str) -> bool {
    k.get(..ASSIGNED.len()).is_some_and(|p| p.eq_ignore_ascii_case(ASSIGNED))
}

/// Whether a STORE of `given` touches assignment: its result may then hold
/// more than it asked for ([`apply`]), and a client is told so.
pub fn touches_assignment(given: &Flags) -> bool {
    given.keywords.iter().any(|k| is_assignment_keyword(k))
}

fn has(flags: &Flags, keyword: &str) -> bool {
    flags.keywords.iter().any(|k| k.eq_ignore_ascii_case(keyword))
}

/// The aliases a message is assigned to (none unless it has `$Assigned`).
pub fn assignees(flags: &Flags) -> Vec<String> {
    if !has(flags, ASSIGNED) {
        return Vec::new();
    }
    flags.keywords.iter().filter(|k| names_assignee(k)).map(|k| k[ASSIGNED_TO.len()..].to_string()).collect()
}

pub fn is_handled(flags: &Flags) -> bool {
    has(flags, HANDLED)
}

/// `current` after a STORE of `given`, with the assignment keywords kept
/// consistent: one assignee named exactly when `$Assigned` is there.
pub fn apply(change: FlagChange, current: &Flags, given: &Flags) -> Flags {
    let mut after = change.apply(current, given);
    let named =
        |flags: &Flags| flags.keywords.iter().filter(|k| names_assignee(k)).cloned().collect::<Vec<_>>();
    let newly: Vec<String> = named(given)
        .into_iter()
        .filter(|k| {
            change != FlagChange::Remove && !current.keywords.iter().any(|c| c.eq_ignore_ascii_case(k))
        })
        .collect();
    if let Some(assignee) = newly.last() {
        // A new name assigns, and replaces whoever was named before.
        after.keywords.retain(|k| !names_assignee(k) || k == assignee);
        if !has(&after, ASSIGNED) {
            after.keywords.insert(ASSIGNED.to_string());
        }
    } else if has(current, ASSIGNED) && !has(&after, ASSIGNED) {
        // Unassigned: the name goes too.
        after.keywords.retain(|k| !names_assignee(k));
    } else if !named(current).is_empty() && named(&after).is_empty() {
        // The last name taken off: nobody is assigned.
        after.keywords.retain(|k| !k.eq_ignore_ascii_case(ASSIGNED));
    }
    after
}

impl Mail {
    /// Assigns messages to `member` (who must hold Full Access to the
    /// mailbox), or to nobody: any earlier assignee goes in the same change.
    /// Each message changes only if nobody changed it since it was read
    /// (CONDSTORE's UNCHANGEDSINCE), so a flag set meanwhile isn't lost.
    pub async fn assign(
        &self,
        folder: &OpenFolder,
        uids: &[Uid],
        member: Option<PrincipalId>,
    ) -> CoreResult<Vec<Uid>> {
        require_folder_right(folder, |r| r.write_flags)?;
        let keyword = match member {
            None => None,
            Some(member) => {
                let people = self.dir.full_access_members(folder.mailbox()).await?;
                let person = people.iter().find(|p| p.id == member).ok_or_else(|| {
                    CoreError::Invalid("Only a member of the mailbox can be assigned its messages.".into())
                })?;
                Some(assignee_keyword(&person.alias).ok_or_else(|| {
                    CoreError::Invalid(format!(
                        "The alias \"{}\" can't name an assignee: only letters, digits, '.', '_' and '-' can.",
                        person.alias
                    ))
                })?)
            }
        };
        let mut changed = Vec::new();
        // As the member sees them: a replace of the shared `\Seen` would
        // otherwise set their own read state to it.
        for message in self.messages_by_uid(folder, uids).await? {
            let mut flags = message.flags.clone();
            flags.keywords.retain(|k| !(k.eq_ignore_ascii_case(ASSIGNED) || names_assignee(k)));
            if let Some(keyword) = &keyword {
                flags.keywords.insert(ASSIGNED.to_string());
                flags.keywords.insert(keyword.clone());
            }
            if flags == message.flags {
                continue;
            }
            let since = Some(message.modseq);
            let outcome =
                self.store_flags(folder, &[message.uid], FlagChange::Replace, &flags, since).await?;
            if !outcome.modified.is_empty() {
                return Err(CoreError::Invalid(
                    "Someone changed the message meanwhile; look at it again and assign it then.".into(),
                ));
            }
            changed.push(message.uid);
        }
        Ok(changed)
    }

    /// Marks messages handled (`$Handled`), or open again.
    pub async fn set_handled(
        &self,
        folder: &OpenFolder,
        uids: &[Uid],
        handled: bool,
    ) -> CoreResult<FlagsOutcome> {
        let mut flags = Flags::default();
        flags.keywords.insert(HANDLED.to_string());
        let change = if handled { FlagChange::Add } else { FlagChange::Remove };
        self.store_flags(folder, uids, change, &flags, None).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keywords(list: &[&str]) -> Flags {
        Flags { system: 0, keywords: list.iter().map(|k| k.to_string()).collect() }
    }

    #[test]
    fn keywords_name_the_assignee() {
        assert_eq!(assignee_keyword("alice").as_deref(), Some("$AssignedTo_alice"));
        assert_eq!(assignee_keyword("j.doe-2").as_deref(), Some("$AssignedTo_j.doe-2"));
        assert_eq!(assignee_keyword("a{b}"), None, "not an IMAP atom");
        assert_eq!(assignee_keyword(""), None);
        assert_eq!(assignees(&keywords(&["$Assigned", "$AssignedTo_bob"])), ["bob"]);
        assert_eq!(assignees(&keywords(&["$assigned", "$assignedto_Bob"])), ["Bob"], "keywords ignore case");
        assert!(assignees(&keywords(&["$AssignedTo_bob"])).is_empty(), "unassigned without $Assigned");
        assert!(is_handled(&keywords(&["$handled"])));
        // A keyword cut inside a character is no assignee, and no panic.
        assert!(assignees(&keywords(&["$Assigned", "$AssignedToé"])).is_empty());
    }

    #[test]
    fn assignment_keywords_stay_consistent() {
        use FlagChange::{Add, Remove, Replace};
        let none = keywords(&[]);
        let bob = keywords(&["$Assigned", "$AssignedTo_bob"]);
        // Naming an assignee assigns.
        assert_eq!(apply(Add, &none, &keywords(&["$AssignedTo_bob"])), bob);
        // A new name replaces the old one.
        let alice = keywords(&["$Assigned", "$AssignedTo_alice"]);
        assert_eq!(apply(Add, &bob, &keywords(&["$AssignedTo_alice"])), alice);
        // Taking $Assigned off takes the name off; taking the name off, $Assigned.
        assert_eq!(apply(Remove, &bob, &keywords(&["$Assigned"])), none);
        assert_eq!(apply(Remove, &bob, &keywords(&["$AssignedTo_bob"])), none);
        // A client syncing flags it read before changes nothing.
        assert_eq!(apply(Replace, &bob, &bob), bob);
        // A sync without $Assigned unassigns, name and all.
        assert_eq!(apply(Replace, &bob, &keywords(&["$AssignedTo_bob"])), none);
        // Other keywords pass through.
        let handled = keywords(&["$Assigned", "$AssignedTo_bob", "$Handled"]);
        assert_eq!(apply(Add, &bob, &keywords(&["$Handled"])), handled);
    }
}
