//! `mailroom group`: security groups (hold permissions) and distribution lists.

use std::process::ExitCode;

use anyhow::{Result, bail};
use clap::Subcommand;
use mailroom_core::directory::{NewGroup, RecipientKind};
use mailroom_exo::objects::{group_object, recipient_object};
use mailroom_types::EmailAddress;

use super::{Env, OPERATOR, core, ok, resolve};

#[derive(Subcommand, Debug)]
pub enum GroupCommand {
    /// Create a group (a distribution list unless --security)
    Add {
        /// Name, e.g. "Marketing SG"
        name: String,
        /// A mail-enabled security group, which can hold permissions on mailboxes
        #[arg(long)]
        security: bool,
        /// Address (default: alias@default-domain)
        #[arg(long)]
        address: Option<String>,
        /// Alias (default: derived from the name)
        #[arg(long)]
        alias: Option<String>,
        /// First members (repeatable)
        #[arg(long = "member")]
        members: Vec<String>,
    },
    /// List groups
    List,
    /// Show a group and its members
    Show {
        /// Name, alias or address
        group: String,
    },
    /// Remove a group; permissions held through it end
    Remove {
        /// Name, alias or address
        group: String,
    },
    /// Group members
    #[command(subcommand)]
    Member(GroupMemberCommand),
}

#[derive(Subcommand, Debug)]
pub enum GroupMemberCommand {
    /// Add mailboxes or groups
    Add {
        /// Name, alias or address of the group
        group: String,
        /// Members to add
        #[arg(required = true)]
        members: Vec<String>,
    },
    /// Remove members
    Remove {
        /// Name, alias or address of the group
        group: String,
        /// Members to remove
        #[arg(required = true)]
        members: Vec<String>,
    },
    /// List direct members
    List {
        /// Name, alias or address of the group
        group: String,
    },
}

pub async fn run(env: &Env, command: GroupCommand) -> Result<ExitCode> {
    let dir = env.open()?;
    let groups = RecipientKind::GROUPS;
    match command {
        GroupCommand::Add { name, security, address, alias, members } => {
            let mut ids = Vec::new();
            for m in &members {
                ids.push(dir.resolve(m).await.map_err(core)?.id);
            }
            let spec = NewGroup {
                name,
                display_name: None,
                alias,
                primary_address: address.as_deref().map(EmailAddress::parse).transpose()?,
                security,
                members: ids,
            };
            let group = dir.create_group(&OPERATOR, spec).await.map_err(core)?;
            let kind = if security { "security group" } else { "distribution group" };
            env.done(
                &format!("Created the {kind} {} <{}>.", group.name, group.primary_address),
                Some(group_object(&dir, &group).await?),
            );
        }
        GroupCommand::List => {
            let mut objects = Vec::new();
            for g in dir.list(&groups).await.map_err(core)? {
                objects.push(group_object(&dir, &g).await?);
            }
            env.print(&objects);
        }
        GroupCommand::Show { group } => {
            let group = resolve(&dir, &group, &groups).await?;
            let mut object = group_object(&dir, &group).await?;
            let members: Vec<String> =
                dir.group_members(group.id).await.map_err(core)?.into_iter().map(|m| m.name).collect();
            object.properties.push(("Members".into(), mailroom_exo::PsValue::List(members)));
            object.view =
                mailroom_exo::View::List(object.properties.iter().map(|(k, _)| k.clone()).collect());
            env.print(&[object]);
        }
        GroupCommand::Remove { group } => {
            let group = resolve(&dir, &group, &groups).await?;
            dir.remove_recipient(&OPERATOR, group.id).await.map_err(core)?;
            env.done(&format!("Removed the group {}.", group.name), None);
        }
        GroupCommand::Member(GroupMemberCommand::Add { group, members }) => {
            let group = resolve(&dir, &group, &groups).await?;
            for m in members {
                let member = dir.resolve(&m).await.map_err(core)?;
                if dir.add_group_member(&OPERATOR, group.id, member.id).await.map_err(core)? {
                    env.note(&format!("Added {} to {}.", member.name, group.name));
                } else {
                    env.note(&format!("{} already was a member of {}.", member.name, group.name));
                }
            }
            env.note_json_done();
        }
        GroupCommand::Member(GroupMemberCommand::Remove { group, members }) => {
            let group = resolve(&dir, &group, &groups).await?;
            for m in members {
                let member = dir.resolve(&m).await.map_err(core)?;
                if !dir.remove_group_member(&OPERATOR, group.id, member.id).await.map_err(core)? {
                    bail!("{} is not a member of {}", member.name, group.name);
                }
                env.note(&format!("Removed {} from {}.", member.name, group.name));
            }
            env.note_json_done();
        }
        GroupCommand::Member(GroupMemberCommand::List { group }) => {
            let group = resolve(&dir, &group, &groups).await?;
            let members = dir.group_members(group.id).await.map_err(core)?;
            env.print(&members.iter().map(recipient_object).collect::<Vec<_>>());
        }
    }
    ok()
}
