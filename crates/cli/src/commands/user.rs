//! `mailroom user`: people's mailboxes and accounts.

use std::collections::BTreeSet;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Subcommand, ValueEnum};
use mailroom_core::directory::{AdminRole, NewMailbox, NewMailboxKind, RecipientKind};
use mailroom_exo::objects::mailbox_object;
use mailroom_types::EmailAddress;

use super::{Env, OPERATOR, core, ok, password_from_stdin, resolve};

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Role {
    GlobalAdmin,
    ExchangeAdmin,
}

impl From<Role> for AdminRole {
    fn from(role: Role) -> Self {
        match role {
            Role::GlobalAdmin => AdminRole::GlobalAdmin,
            Role::ExchangeAdmin => AdminRole::ExchangeAdmin,
        }
    }
}

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Create a user mailbox; the password comes from standard input
    Add {
        /// The user's address, e.g. alice@contoso.com
        address: String,
        /// Unique name (default: the part of the address before @)
        #[arg(long)]
        name: Option<String>,
        /// Name shown to others (default: the name)
        #[arg(long)]
        display_name: Option<String>,
        /// Read the password from the first line of standard input
        #[arg(long, required = true)]
        password_stdin: bool,
        /// Admin role(s) to give
        #[arg(long, value_enum)]
        role: Vec<Role>,
    },
    /// List user mailboxes
    List,
    /// Show one user mailbox
    Show {
        /// Name, alias or address
        user: String,
    },
    /// Remove a user mailbox and every permission on or by it
    Remove {
        /// Name, alias or address
        user: String,
    },
    /// Set a new password (from standard input)
    Password {
        /// Name, alias or address
        user: String,
        /// Read the password from the first line of standard input
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// Block sign-in
    Block {
        /// Name, alias or address
        user: String,
    },
    /// Allow sign-in again
    Unblock {
        /// Name, alias or address
        user: String,
    },
    /// Set the admin roles of a user (none given: no roles)
    Roles {
        /// Name, alias or address
        user: String,
        /// Role(s) the user holds from now on
        #[arg(long, value_enum)]
        role: Vec<Role>,
    },
}

const USERS: [RecipientKind; 1] = [RecipientKind::UserMailbox];

pub async fn run(env: &Env, command: UserCommand) -> Result<ExitCode> {
    let dir = env.open()?;
    match command {
        UserCommand::Add { address, name, display_name, password_stdin: _, role } => {
            let address = EmailAddress::parse(&address)?;
            let password = password_from_stdin()?;
            let spec = NewMailbox {
                name: name.unwrap_or_else(|| address.local_part().to_string()),
                display_name,
                alias: None,
                primary_address: Some(address),
                kind: NewMailboxKind::User {
                    password,
                    roles: role.into_iter().map(AdminRole::from).collect(),
                },
            };
            let user = dir.create_mailbox(&OPERATOR, spec).await.map_err(core)?;
            let object = mailbox_object(&dir, &user).await?;
            env.done(
                &format!("Created the user mailbox {} <{}>.", user.name, user.primary_address),
                Some(object),
            );
        }
        UserCommand::List => {
            let mut objects = Vec::new();
            for user in dir.list(&USERS).await.map_err(core)? {
                objects.push(mailbox_object(&dir, &user).await?);
            }
            env.print(&objects);
        }
        UserCommand::Show { user } => {
            let user = resolve(&dir, &user, &USERS).await?;
            let mut object = mailbox_object(&dir, &user).await?;
            let account = dir.account(user.id).await.map_err(core)?;
            let roles: Vec<String> = account.roles.iter().map(|r| r.to_string()).collect();
            object.properties.push(("Roles".into(), mailroom_exo::PsValue::List(roles)));
            object.view =
                mailroom_exo::View::List(object.properties.iter().map(|(k, _)| k.clone()).collect());
            env.print(&[object]);
        }
        UserCommand::Remove { user } => {
            let user = resolve(&dir, &user, &USERS).await?;
            dir.remove_recipient(&OPERATOR, user.id).await.map_err(core)?;
            env.done(&format!("Removed the user mailbox {}.", user.name), None);
        }
        UserCommand::Password { user, password_stdin: _ } => {
            let user = resolve(&dir, &user, &USERS).await?;
            let password = password_from_stdin()?;
            dir.set_password(&OPERATOR, user.id, &password).await.map_err(core)?;
            env.done(&format!("Changed the password of {}.", user.name), None);
        }
        // Blocked sign-in is a switch on any account (SPEC §1), so these find
        // shared mailboxes too; the core refuses to unblock those.
        UserCommand::Block { user } => {
            let user = resolve(&dir, &user, &RecipientKind::MAILBOXES).await?;
            dir.set_sign_in_blocked(&OPERATOR, user.id, true).await.map_err(core)?;
            env.done(&format!("Sign-in is blocked for {}.", user.name), None);
        }
        UserCommand::Unblock { user } => {
            let user = resolve(&dir, &user, &RecipientKind::MAILBOXES).await?;
            dir.set_sign_in_blocked(&OPERATOR, user.id, false).await.map_err(core)?;
            env.done(&format!("Sign-in is allowed for {}.", user.name), None);
        }
        UserCommand::Roles { user, role } => {
            let user = resolve(&dir, &user, &USERS).await?;
            let roles: BTreeSet<AdminRole> = role.into_iter().map(AdminRole::from).collect();
            let shown = if roles.is_empty() {
                "no admin roles".to_string()
            } else {
                roles.iter().map(|r| r.to_string()).collect::<Vec<_>>().join(", ")
            };
            dir.set_roles(&OPERATOR, user.id, roles).await.map_err(core)?;
            env.done(&format!("{} now has {shown}.", user.name), None);
        }
    }
    ok()
}
