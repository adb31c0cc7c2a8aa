//! One file per IMAP command; each adds its handler to `Session`. Pairs that
//! differ by one switch share a file: LIST/LSUB, SELECT/EXAMINE,
//! SUBSCRIBE/UNSUBSCRIBE, CLOSE/UNSELECT.

mod acl;
mod append;
mod authenticate;
mod capability;
mod catenate;
mod close;
mod compress;
pub(crate) mod context;
mod copy;
mod create;
mod delete;
mod enable;
mod expunge;
mod fetch;
mod id;
mod idle;
mod list;
mod login;
mod logout;
mod namespace;
mod noop;
pub(crate) mod notify;
mod quota;
mod rename;
mod search;
mod select;
mod sort;
mod starttls;
mod status;
mod store;
mod thread;
pub(crate) mod unauthenticate;

pub(crate) use select::{flag_list, permanent_flags};
pub(crate) use store::StoreRequest;
mod subscribe;
