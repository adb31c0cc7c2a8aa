//! One file per SMTP command; each adds its handler to `Session`.
//! `deliver` is the end of data shared by DATA and BDAT; `submit` is its
//! submission form.

mod auth;
mod bdat;
mod data;
mod deliver;
mod ehlo;
mod mail;
mod rcpt;
mod starttls;
mod submit;
