//! The directory's rules against the real embedded store: every rule of
//! SPEC §1–2, including the failure paths.

mod common;

mod accounts;
mod groups;
mod permissions;
mod recipients;
mod settings;
