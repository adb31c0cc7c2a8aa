//! The cmdlets, one file each, and the table that finds them by name.

pub(crate) mod common;

mod add_distribution_group_member;
mod add_mailbox_permission;
mod add_recipient_permission;
pub(crate) mod convertto_securestring;
mod get_accepted_domain;
mod get_distribution_group;
mod get_distribution_group_member;
mod get_mailbox;
pub(crate) mod get_mailbox_auto_reply_configuration;
mod get_mailbox_folder_statistics;
mod get_mailbox_permission;
mod get_mailbox_statistics;
pub mod get_queue;
mod get_recipient;
mod get_recipient_permission;
mod get_recoverable_items;
mod new_distribution_group;
mod new_mailbox;
mod remove_distribution_group;
mod remove_distribution_group_member;
mod remove_mailbox;
mod remove_mailbox_permission;
mod remove_recipient_permission;
mod restore_recoverable_items;
mod search_mailbox_audit_log;
mod set_mailbox;
mod set_mailbox_auto_reply_configuration;

use crate::bind::{Bound, Kind, ParamSpec};
use crate::error::{ExoError, ExoResult};
use crate::shell::{CmdletOutput, Ctx};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CmdletId {
    NewMailbox,
    GetMailbox,
    SetMailbox,
    RemoveMailbox,
    AddMailboxPermission,
    RemoveMailboxPermission,
    GetMailboxPermission,
    AddRecipientPermission,
    RemoveRecipientPermission,
    GetRecipientPermission,
    NewDistributionGroup,
    GetDistributionGroup,
    RemoveDistributionGroup,
    AddDistributionGroupMember,
    RemoveDistributionGroupMember,
    GetDistributionGroupMember,
    SetMailboxAutoReplyConfiguration,
    GetMailboxAutoReplyConfiguration,
    GetMailboxStatistics,
    GetQueue,
    GetMailboxFolderStatistics,
    GetAcceptedDomain,
    GetRecipient,
    GetRecoverableItems,
    RestoreRecoverableItems,
    SearchMailboxAuditLog,
    ConvertToSecureString,
    FormatList,
    FormatTable,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FormatView {
    List,
    Table,
}

/// A cmdlet's name, parameters and PowerShell behaviour.
#[derive(Debug)]
pub struct CmdletDef {
    pub name: &'static str,
    pub aliases: &'static [&'static str],
    pub id: CmdletId,
    pub params: &'static [ParamSpec],
    /// Changes something: takes `-WhatIf` and `-Confirm`.
    pub changes: bool,
    /// Asks before acting unless `-Confirm:$false` (Exchange's ConfirmImpact High).
    pub confirm_by_default: bool,
    /// `Format-*`: works on the whole pipeline input at once.
    pub formats: Option<FormatView>,
}

impl CmdletDef {
    const fn new(name: &'static str, id: CmdletId, params: &'static [ParamSpec]) -> Self {
        CmdletDef { name, aliases: &[], id, params, changes: false, confirm_by_default: false, formats: None }
    }
    const fn changing(mut self) -> Self {
        self.changes = true;
        self
    }
    const fn confirming(mut self) -> Self {
        self.changes = true;
        self.confirm_by_default = true;
        self
    }
}

const FORMAT_PARAMS: &[ParamSpec] = &[ParamSpec::new("Property", Kind::Texts).at(0)];

pub static CMDLETS: &[CmdletDef] = &[
    new_mailbox::DEF,
    get_mailbox::DEF,
    set_mailbox::DEF,
    remove_mailbox::DEF,
    add_mailbox_permission::DEF,
    remove_mailbox_permission::DEF,
    get_mailbox_permission::DEF,
    add_recipient_permission::DEF,
    remove_recipient_permission::DEF,
    get_recipient_permission::DEF,
    new_distribution_group::DEF,
    get_distribution_group::DEF,
    remove_distribution_group::DEF,
    add_distribution_group_member::DEF,
    remove_distribution_group_member::DEF,
    get_distribution_group_member::DEF,
    set_mailbox_auto_reply_configuration::DEF,
    get_mailbox_auto_reply_configuration::DEF,
    get_mailbox_statistics::DEF,
    get_queue::DEF,
    get_mailbox_folder_statistics::DEF,
    get_accepted_domain::DEF,
    get_recipient::DEF,
    get_recoverable_items::DEF,
    restore_recoverable_items::DEF,
    search_mailbox_audit_log::DEF,
    convertto_securestring::DEF,
    CmdletDef {
        name: "Format-List",
        aliases: &["fl"],
        id: CmdletId::FormatList,
        params: FORMAT_PARAMS,
        changes: false,
        confirm_by_default: false,
        formats: Some(FormatView::List),
    },
    CmdletDef {
        name: "Format-Table",
        aliases: &["ft"],
        id: CmdletId::FormatTable,
        params: FORMAT_PARAMS,
        changes: false,
        confirm_by_default: false,
        formats: Some(FormatView::Table),
    },
];

/// Finds a cmdlet by name or alias, ignoring case.
pub fn find(name: &str) -> ExoResult<&'static CmdletDef> {
    CMDLETS
        .iter()
        .find(|c| c.name.eq_ignore_ascii_case(name) || c.aliases.iter().any(|a| a.eq_ignore_ascii_case(name)))
        .ok_or_else(|| {
            let known: Vec<&str> = CMDLETS.iter().map(|c| c.name).collect();
            ExoError::UnknownCmdlet(name.to_string(), known.join(", "))
        })
}

pub async fn dispatch(id: CmdletId, ctx: &mut Ctx<'_>, args: Bound) -> ExoResult<CmdletOutput> {
    match id {
        CmdletId::NewMailbox => new_mailbox::run(ctx, args).await,
        CmdletId::GetMailbox => get_mailbox::run(ctx, args).await,
        CmdletId::SetMailbox => set_mailbox::run(ctx, args).await,
        CmdletId::RemoveMailbox => remove_mailbox::run(ctx, args).await,
        CmdletId::AddMailboxPermission => add_mailbox_permission::run(ctx, args).await,
        CmdletId::RemoveMailboxPermission => remove_mailbox_permission::run(ctx, args).await,
        CmdletId::GetMailboxPermission => get_mailbox_permission::run(ctx, args).await,
        CmdletId::AddRecipientPermission => add_recipient_permission::run(ctx, args).await,
        CmdletId::RemoveRecipientPermission => remove_recipient_permission::run(ctx, args).await,
        CmdletId::GetRecipientPermission => get_recipient_permission::run(ctx, args).await,
        CmdletId::NewDistributionGroup => new_distribution_group::run(ctx, args).await,
        CmdletId::GetDistributionGroup => get_distribution_group::run(ctx, args).await,
        CmdletId::RemoveDistributionGroup => remove_distribution_group::run(ctx, args).await,
        CmdletId::AddDistributionGroupMember => add_distribution_group_member::run(ctx, args).await,
        CmdletId::RemoveDistributionGroupMember => remove_distribution_group_member::run(ctx, args).await,
        CmdletId::GetDistributionGroupMember => get_distribution_group_member::run(ctx, args).await,
        CmdletId::SetMailboxAutoReplyConfiguration => {
            set_mailbox_auto_reply_configuration::run(ctx, args).await
        }
        CmdletId::GetMailboxAutoReplyConfiguration => {
            get_mailbox_auto_reply_configuration::run(ctx, args).await
        }
        CmdletId::GetMailboxStatistics => get_mailbox_statistics::run(ctx, args).await,
        CmdletId::GetQueue => get_queue::run(ctx, args).await,
        CmdletId::GetMailboxFolderStatistics => get_mailbox_folder_statistics::run(ctx, args).await,
        CmdletId::GetAcceptedDomain => get_accepted_domain::run(ctx, args).await,
        CmdletId::GetRecipient => get_recipient::run(ctx, args).await,
        CmdletId::GetRecoverableItems => get_recoverable_items::run(ctx, args).await,
        CmdletId::RestoreRecoverableItems => restore_recoverable_items::run(ctx, args).await,
        CmdletId::SearchMailboxAuditLog => search_mailbox_audit_log::run(ctx, args).await,
        CmdletId::ConvertToSecureString => convertto_securestring::run(ctx, args).await,
        // Handled by the shell, which needs the whole input at once.
        CmdletId::FormatList | CmdletId::FormatTable => Ok(CmdletOutput::nothing()),
    }
}
