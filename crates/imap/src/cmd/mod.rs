//! One file per IMAP command; each adds its handler to `Session`.

mod authenticate;
mod capability;
mod id;
mod login;
mod logout;
mod namespace;
mod starttls;
