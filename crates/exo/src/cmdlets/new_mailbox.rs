//! `New-Mailbox`: creates a user or (with `-Shared`) a shared mailbox.

use mailroom_core::directory::{NewMailbox, NewMailboxKind};
use mailroom_types::EmailAddress;

use super::common::mailbox_object;
use super::{CmdletDef, CmdletId};
use crate::bind::{Bound, Kind, ParamSpec};
use crate::error::{ExoError, ExoResult};
use crate::shell::{CmdletOutput, Ctx};

const PARAMS: &[ParamSpec] = &[
    ParamSpec::new("Name", Kind::Text).at(0).mandatory(),
    ParamSpec::new("DisplayName", Kind::Text),
    ParamSpec::new("Alias", Kind::Text),
    ParamSpec::new("PrimarySmtpAddress", Kind::Text),
    ParamSpec::new("MicrosoftOnlineServicesID", Kind::Text),
    ParamSpec::new("Shared", Kind::Switch),
    ParamSpec::new("Password", Kind::Secure),
];

pub const DEF: CmdletDef = CmdletDef::new("New-Mailbox", CmdletId::NewMailbox, PARAMS).changing();

/// Accepts `smtp:`/`SMTP:` in front of an address as Exchange does.
pub(super) fn parse_address(text: &str) -> ExoResult<EmailAddress> {
    let bare = match text.split_once(':') {
        Some((prefix, rest)) if prefix.eq_ignore_ascii_case("smtp") => rest,
        _ => text,
    };
    EmailAddress::parse(bare).map_err(|e| ExoError::Core(e.into()))
}

pub async fn run(ctx: &mut Ctx<'_>, args: Bound) -> ExoResult<CmdletOutput> {
    let name = args.text("Name")?.unwrap_or_default();
    let address = match args.text("PrimarySmtpAddress")? {
        Some(a) => Some(a),
        None => args.text("MicrosoftOnlineServicesID")?,
    };
    let primary_address = address.as_deref().map(parse_address).transpose()?;
    let password = args.secure("Password")?;
    let kind = match (args.switch("Shared"), password) {
        (true, Some(_)) => {
            return Err(ExoError::invalid(
                "The Password parameter can't be used with Shared: a shared mailbox has no password and nobody signs in to it.",
            ));
        }
        (true, None) => NewMailboxKind::Shared,
        (false, Some(password)) => NewMailboxKind::User { password, roles: Default::default() },
        (false, None) => {
            return Err(ExoError::invalid(
                "A user mailbox needs a password: add -Password (ConvertTo-SecureString -String '...' -AsPlainText -Force), or -Shared for a shared mailbox.",
            ));
        }
    };
    let spec = NewMailbox {
        name: name.clone(),
        display_name: args.text("DisplayName")?,
        alias: args.text("Alias")?,
        primary_address,
        kind,
    };
    // Every rule is checked before -WhatIf reports or -Confirm asks.
    ctx.dir.check_new_mailbox(&ctx.actor, &spec).await?;
    if !ctx.should_process("Create Mailbox", &name)? {
        return Ok(CmdletOutput::nothing());
    }
    let created = ctx.dir.create_mailbox(&ctx.actor, spec).await?;
    Ok(CmdletOutput::shown(vec![mailbox_object(ctx.dir, &created).await?]))
}
