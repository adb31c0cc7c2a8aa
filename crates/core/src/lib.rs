//! Mailroom's domain core: who exists, who may do what, and the store traits.
//!
//! Every protocol (SMTP, IMAP, CalDAV, HTTP, the cmdlet mode) asks this crate
//! and translates the answer; none of them decides policy itself
//! (DESIGN.md, "Decide in core, translate at the edge").
//!
//! - [`directory`]: accepted domains, recipients (user and shared mailboxes,
//!   security and distribution groups), accounts and the admin operations on
//!   them, through [`Directory`].
//! - [`permissions`]: Full Access / Send As / Send on Behalf and the two
//!   questions every protocol asks: "may P do A on mailbox M"
//!   ([`Directory::may`]) and "how may P submit as address X"
//!   ([`Directory::submission_authority`]).
//! - [`auth`]: password hashing and sign-in, refusing shared mailboxes and
//!   blocked accounts exactly like a wrong password; [`verified`] remembers
//!   a password that passed for a few minutes.
//! - [`calendar`]: calendars and their events (CalDAV), shared with the
//!   members of a shared mailbox.
//! - [`store`]: the traits a storage backend implements.
//! - [`change`]: the change feed every process and session listens to.
//! - [`cluster`]: the nodes running on one store, and their heartbeats.
//! - [`throttle`] and [`budget`]: what keeps one client from guessing
//!   passwords fast or holding the server's memory (sign-in queues, the
//!   memory budget for messages in transfer).

pub mod auth;
pub mod budget;
pub mod calendar;
pub mod change;
pub mod cluster;
pub mod directory;
pub mod error;
pub mod mail;
pub mod permissions;
pub mod scram;
pub mod store;
pub mod throttle;
pub mod verified;

pub use change::{Change, ChangeFeed, ChangeRecord, FeedRead};
pub use directory::Directory;
pub use error::{CoreError, CoreResult};
pub use permissions::{MailboxAccess, MailboxAction, SubmitAs};
