//! The directory's rules against the real embedded store: every rule of
//! SPEC §1–2, including the failure paths.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod common;

mod accounts;
mod groups;
mod permissions;
mod recipients;
mod settings;
mod shared_throttle;
mod update;
