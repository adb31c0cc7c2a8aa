//! Mailroom's Exchange-compatible cmdlet mode.
//!
//! Admins who know Exchange Online PowerShell type the same pipelines here:
//! `New-Mailbox -Shared -Name "Sales Department" | Add-MailboxPermission -User
//! MarketingSG -AccessRights FullAccess`. [`parse`] turns text into an
//! [`ast`] (sans-I/O, no evaluation); [`Shell`] binds parameters the way
//! PowerShell does and evaluates each cmdlet by calling the domain core, which
//! alone decides what is allowed. Output objects carry Exchange's property
//! names for tables, lists and JSON.

pub mod ast;
pub mod parse;

mod bind;
mod cmdlets;
mod error;
mod object;
mod shell;
pub mod value;

pub use error::{ExoError, Failure};
pub use object::{PsObject, PsValue, View, format_text, to_json};
pub use shell::{Host, Shell};

/// The names of every cmdlet the mode understands, for help texts.
pub fn cmdlet_names() -> Vec<&'static str> {
    cmdlets::CMDLETS.iter().map(|c| c.name).collect()
}

/// The objects the cmdlets return, for other front ends (the native CLI,
/// the admin API) that show the same things with the same property names.
pub mod objects {
    pub use crate::cmdlets::common::{
        group_object, mailbox_object, mailbox_permission_object, recipient_object,
        recipient_permission_object, trustee_label,
    };
    pub use crate::cmdlets::get_mailbox_auto_reply_configuration::auto_reply_object;
    pub use crate::cmdlets::get_queue::queue_item;
}
