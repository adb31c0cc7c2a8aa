//! One file per HTTP method (DESIGN.md rule 2).

pub mod delete;
pub mod get;
pub mod mkcalendar;
pub mod options;
pub mod propfind;
pub mod proppatch;
pub mod put;
pub mod report;
