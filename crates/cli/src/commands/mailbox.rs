//! `mailroom mailbox`: the admin-center flows for shared mailboxes — add a
//! mailbox, add and remove members, sent items, forwarding, automatic
//! replies, quota, convert — and the permissions underneath.

use std::process::ExitCode;

use anyhow::{Result, bail};
use clap::{Args, Subcommand, ValueEnum};
use mailroom_core::directory::{
    AddressChange, AutoReplyChange, AutoReplyState, ExternalAudience, IdentityChange, MailboxType,
    NewMailbox, NewMailboxKind, ProxyAddress, Recipient, RecipientKind, Retention, SettingsChange,
};
use mailroom_core::permissions::Right;
use mailroom_exo::objects::{auto_reply_object, mailbox_object, trustee_label};
use mailroom_exo::value::{parse_datetime, parse_size};
use mailroom_exo::{PsObject, PsValue};
use mailroom_types::EmailAddress;

use super::{Env, OPERATOR, core, ok, password_from_stdin, resolve};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Toggle {
    On,
    Off,
}

impl Toggle {
    fn is_on(self) -> bool {
        self == Toggle::On
    }
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum MailboxTypeArg {
    Shared,
    User,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum RightArg {
    FullAccess,
    SendAs,
    SendOnBehalf,
}

impl From<RightArg> for Right {
    fn from(r: RightArg) -> Self {
        match r {
            RightArg::FullAccess => Right::FullAccess,
            RightArg::SendAs => Right::SendAs,
            RightArg::SendOnBehalf => Right::SendOnBehalf,
        }
    }
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum StateArg {
    On,
    Off,
    Scheduled,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum AudienceArg {
    None,
    Known,
    All,
}

#[derive(Subcommand, Debug)]
pub enum MailboxCommand {
    /// Create a shared mailbox (people's mailboxes: 'mailroom user add')
    Add(AddArgs),
    /// List mailboxes
    List {
        /// Shared mailboxes only
        #[arg(long, conflicts_with = "user")]
        shared: bool,
        /// User mailboxes only
        #[arg(long)]
        user: bool,
    },
    /// Show a mailbox with all its settings
    Show {
        /// Name, alias or address
        mailbox: String,
    },
    /// Remove a mailbox and every permission on or by it
    Remove {
        /// Name, alias or address
        mailbox: String,
    },
    /// Convert between user and shared mailbox, keeping mail and permissions
    Convert {
        /// Name, alias or address
        mailbox: String,
        /// The new type
        #[arg(long, value_enum)]
        to: MailboxTypeArg,
        /// Password for a mailbox becoming a user mailbox, from standard input
        #[arg(long)]
        password_stdin: bool,
    },
    /// Members of a shared mailbox (Full Access + Send As, automapped)
    #[command(subcommand)]
    Member(MemberCommand),
    /// Grant one permission to a user or security group
    Grant(GrantArgs),
    /// Take one permission away
    Revoke {
        /// Name, alias or address of the mailbox
        mailbox: String,
        /// The user or security group
        trustee: String,
        /// Which permission
        #[arg(long, value_enum)]
        right: RightArg,
    },
    /// List every permission on a mailbox
    Permissions {
        /// Name, alias or address
        mailbox: String,
    },
    /// Keep a copy of mail sent as / on behalf of the mailbox in its Sent Items
    SentItems {
        /// Name, alias or address
        mailbox: String,
        /// Copy mail sent as the mailbox
        #[arg(long, value_enum)]
        send_as: Option<Toggle>,
        /// Copy mail sent on behalf of the mailbox
        #[arg(long, value_enum)]
        send_on_behalf: Option<Toggle>,
    },
    /// Forward the mailbox's mail to another address
    Forward {
        /// Name, alias or address
        mailbox: String,
        /// Where to (an address here or elsewhere, or a distribution list)
        #[arg(long, required_unless_present = "off", conflicts_with = "off")]
        to: Option<String>,
        /// Deliver to the mailbox as well as forwarding
        #[arg(long, conflicts_with = "off")]
        keep_copy: bool,
        /// Stop forwarding
        #[arg(long)]
        off: bool,
    },
    /// Storage limits (e.g. 49GB, '49.5 GB', Unlimited)
    Quota {
        /// Name, alias or address
        mailbox: String,
        /// Warn from this size
        #[arg(long)]
        warn: Option<String>,
        /// Refuse sending from this size
        #[arg(long)]
        prohibit_send: Option<String>,
        /// Refuse sending and receiving from this size
        #[arg(long)]
        prohibit_send_receive: Option<String>,
        /// What Recoverable Items may hold before deletes are refused (RecoverableItemsQuota)
        #[arg(long)]
        recoverable_items: Option<String>,
    },
    /// Automatic replies
    AutoReply(AutoReplyArgs),
    /// The mailbox's addresses
    #[command(subcommand)]
    Address(AddressCommand),
    /// Let Full Access granted through groups automap too (beyond Exchange)
    AutomapGroups {
        /// Name, alias or address
        mailbox: String,
        /// on or off
        #[arg(value_enum)]
        state: Toggle,
    },
    /// How long deleted messages stay in Recoverable Items (RetainDeletedItemsFor)
    RetainDeleted {
        /// Name, alias or address
        mailbox: String,
        /// Days ("30"), or days.hours:minutes:seconds ("14.00:00:00", "0.00:00:30")
        period: String,
    },
}

#[derive(Args, Debug)]
pub struct AddArgs {
    /// Create a shared mailbox (required: people get 'mailroom user add')
    #[arg(long, required = true)]
    shared: bool,
    /// Name, e.g. "Sales Department"
    name: String,
    /// Address (default: alias@default-domain)
    #[arg(long)]
    address: Option<String>,
    /// Alias (default: derived from the name, e.g. SalesDepartment)
    #[arg(long)]
    alias: Option<String>,
    /// Name shown to others (default: the name)
    #[arg(long)]
    display_name: Option<String>,
}

#[derive(Args, Debug)]
pub struct GrantArgs {
    /// Name, alias or address of the mailbox
    mailbox: String,
    /// The user or security group
    trustee: String,
    /// Which permission
    #[arg(long, value_enum)]
    right: RightArg,
    /// Full Access without automapping
    #[arg(long)]
    no_automap: bool,
    /// Full Access whose deletes can't be purged from Recoverable Items (beyond Exchange)
    #[arg(long)]
    no_purge: bool,
}

#[derive(Args, Debug)]
pub struct AutoReplyArgs {
    /// Name, alias or address
    mailbox: String,
    /// on, off or scheduled
    #[arg(long, value_enum)]
    state: Option<StateArg>,
    /// Start of a scheduled reply (ISO 8601; UTC unless an offset is given)
    #[arg(long)]
    start: Option<String>,
    /// End of a scheduled reply
    #[arg(long)]
    end: Option<String>,
    /// Reply text for senders in the organisation
    #[arg(long)]
    internal: Option<String>,
    /// Reply text for senders outside
    #[arg(long)]
    external: Option<String>,
    /// Which outside senders get the external reply
    #[arg(long, value_enum)]
    audience: Option<AudienceArg>,
}

#[derive(Subcommand, Debug)]
pub enum MemberCommand {
    /// Add members: Full Access and Send As, automapped into their clients
    Add {
        /// Name, alias or address of the shared mailbox
        mailbox: String,
        /// Users or security groups to add
        #[arg(required = true)]
        members: Vec<String>,
        /// Don't show the mailbox automatically in their clients
        #[arg(long)]
        no_automap: bool,
    },
    /// Remove members (their Full Access and Send As)
    Remove {
        /// Name, alias or address of the shared mailbox
        mailbox: String,
        /// Users or security groups to remove
        #[arg(required = true)]
        members: Vec<String>,
    },
    /// List who has Full Access
    List {
        /// Name, alias or address of the shared mailbox
        mailbox: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum AddressCommand {
    /// Add an address (in an accepted domain)
    Add {
        /// Name, alias or address of the mailbox
        mailbox: String,
        /// The new address
        address: String,
        /// Make it the primary address (the old one stays as secondary)
        #[arg(long)]
        primary: bool,
    },
    /// Remove a secondary address
    Remove {
        /// Name, alias or address of the mailbox
        mailbox: String,
        /// The address to remove
        address: String,
    },
}

pub async fn run(env: &Env, command: MailboxCommand) -> Result<ExitCode> {
    let dir = env.open()?;
    let mailboxes = RecipientKind::MAILBOXES;
    match command {
        MailboxCommand::Add(args) => {
            debug_assert!(args.shared);
            let spec = NewMailbox {
                name: args.name,
                display_name: args.display_name,
                alias: args.alias,
                primary_address: args.address.as_deref().map(EmailAddress::parse).transpose()?,
                kind: NewMailboxKind::Shared,
            };
            let mailbox = dir.create_mailbox(&OPERATOR, spec).await.map_err(core)?;
            let object = mailbox_object(&dir, &mailbox).await?;
            env.done(
                &format!("Created the shared mailbox {} <{}>. Add members with 'mailroom mailbox member add {} USER'.", mailbox.name, mailbox.primary_address, mailbox.alias),
                Some(object),
            );
        }
        MailboxCommand::List { shared, user } => {
            let kinds: &[RecipientKind] = if shared {
                &[RecipientKind::SharedMailbox]
            } else if user {
                &[RecipientKind::UserMailbox]
            } else {
                &mailboxes
            };
            let mut objects = Vec::new();
            for r in dir.list(kinds).await.map_err(core)? {
                objects.push(mailbox_object(&dir, &r).await?);
            }
            env.print(&objects);
        }
        MailboxCommand::Show { mailbox } => {
            let mailbox = resolve(&dir, &mailbox, &mailboxes).await?;
            let mut object = mailbox_object(&dir, &mailbox).await?;
            object.view =
                mailroom_exo::View::List(object.properties.iter().map(|(k, _)| k.clone()).collect());
            env.print(&[object]);
        }
        MailboxCommand::Remove { mailbox } => {
            let mailbox = resolve(&dir, &mailbox, &mailboxes).await?;
            dir.remove_recipient(&OPERATOR, mailbox.id).await.map_err(core)?;
            env.done(&format!("Removed the mailbox {}.", mailbox.name), None);
        }
        MailboxCommand::Convert { mailbox, to, password_stdin } => {
            let mailbox = resolve(&dir, &mailbox, &mailboxes).await?;
            let id = mailbox_id(&mailbox)?;
            let (to, password) = match to {
                MailboxTypeArg::Shared => (MailboxType::Shared, None),
                MailboxTypeArg::User if password_stdin => (MailboxType::User, Some(password_from_stdin()?)),
                MailboxTypeArg::User => (MailboxType::User, None),
            };
            let (converted, changed) =
                dir.convert_mailbox(&OPERATOR, id, to, password.as_ref()).await.map_err(core)?;
            let what = if converted.kind == RecipientKind::SharedMailbox {
                "a shared mailbox"
            } else {
                "a user mailbox"
            };
            let message = if changed {
                format!("{} is now {what}; its mail, calendar and permissions are kept.", converted.name)
            } else {
                format!("{} already is {what}; nothing changed.", converted.name)
            };
            env.done(&message, Some(mailbox_object(&dir, &converted).await?));
        }
        MailboxCommand::Member(cmd) => members(env, &dir, cmd).await?,
        MailboxCommand::Grant(args) => {
            let mailbox = dir.resolve(&args.mailbox).await.map_err(core)?;
            let trustee = dir.resolve_trustee(&args.trustee).await.map_err(core)?;
            let right = Right::from(args.right);
            let changed = dir
                .grant_with_purge(&OPERATOR, mailbox.id, trustee.id, right, !args.no_automap, args.no_purge)
                .await
                .map_err(core)?;
            let verb = if changed { "Granted" } else { "Already granted:" };
            env.done(
                &format!(
                    "{verb} {} on {} to {}.",
                    right.exchange_name(),
                    mailbox.name,
                    trustee_label(&trustee)
                ),
                None,
            );
        }
        MailboxCommand::Revoke { mailbox, trustee, right } => {
            let mailbox = dir.resolve(&mailbox).await.map_err(core)?;
            let trustee = dir.resolve(&trustee).await.map_err(core)?;
            let right = Right::from(right);
            if !dir.revoke(&OPERATOR, mailbox.id, trustee.id, right).await.map_err(core)? {
                bail!("{} has no {} on {}", trustee_label(&trustee), right.exchange_name(), mailbox.name);
            }
            env.done(
                &format!(
                    "Revoked {} on {} from {}.",
                    right.exchange_name(),
                    mailbox.name,
                    trustee_label(&trustee)
                ),
                None,
            );
        }
        MailboxCommand::Permissions { mailbox } => {
            let mailbox = dir.resolve(&mailbox).await.map_err(core)?;
            let mut objects = Vec::new();
            for entry in dir.permissions_on(mailbox.id).await.map_err(core)? {
                let trustee = dir.recipient(entry.trustee).await.map_err(core)?;
                objects.push(PsObject::new(
                    "Permission",
                    mailbox.primary_address.to_string(),
                    vec![
                        ("Identity", PsValue::text(&mailbox.name)),
                        ("User", PsValue::text(trustee_label(&trustee))),
                        ("AccessRights", PsValue::text(entry.right.exchange_name())),
                        ("AutoMapping", PsValue::Bool(entry.automapping)),
                        ("NoPurge", PsValue::Bool(entry.no_purge)),
                    ],
                    &["Identity", "User", "AccessRights", "AutoMapping", "NoPurge"],
                ));
            }
            env.print(&objects);
        }
        MailboxCommand::SentItems { mailbox, send_as, send_on_behalf } => {
            if send_as.is_none() && send_on_behalf.is_none() {
                bail!("say what to change: --send-as on|off and/or --send-on-behalf on|off");
            }
            let change = SettingsChange {
                message_copy_for_sent_as: send_as.map(Toggle::is_on),
                message_copy_for_send_on_behalf: send_on_behalf.map(Toggle::is_on),
                ..Default::default()
            };
            settings(env, &dir, &mailbox, change, "Sent items settings saved").await?;
        }
        MailboxCommand::Forward { mailbox, to, keep_copy, off } => {
            let change = if off {
                SettingsChange {
                    forwarding_recipient: Some(None),
                    forwarding_smtp_address: Some(None),
                    deliver_to_mailbox_and_forward: Some(false),
                    ..Default::default()
                }
            } else {
                let target = to.unwrap_or_default();
                let address = EmailAddress::parse(&target)?;
                // An address of ours forwards to that recipient (so it follows
                // renames); any other is forwarded to as typed.
                let internal = dir.resolve(&target).await.ok().filter(|r| r.has_address(&address));
                SettingsChange {
                    forwarding_recipient: Some(internal.as_ref().map(|r| r.id)),
                    forwarding_smtp_address: Some(if internal.is_some() { None } else { Some(address) }),
                    deliver_to_mailbox_and_forward: Some(keep_copy),
                    ..Default::default()
                }
            };
            settings(env, &dir, &mailbox, change, "Forwarding saved").await?;
        }
        MailboxCommand::Quota { mailbox, warn, prohibit_send, prohibit_send_receive, recoverable_items } => {
            let size = |v: Option<String>| v.map(|s| parse_size(&s).map_err(anyhow::Error::msg)).transpose();
            let change = SettingsChange {
                issue_warning_quota: size(warn)?,
                prohibit_send_quota: size(prohibit_send)?,
                prohibit_send_receive_quota: size(prohibit_send_receive)?,
                recoverable_items_quota: size(recoverable_items)?,
                ..Default::default()
            };
            if change.is_empty() {
                bail!(
                    "say what to change: --warn, --prohibit-send, --prohibit-send-receive and/or --recoverable-items"
                );
            }
            settings(env, &dir, &mailbox, change, "Quota saved").await?;
        }
        MailboxCommand::AutoReply(args) => {
            let mailbox = resolve(&dir, &args.mailbox, &mailboxes).await?;
            let date = |v: Option<String>| {
                v.map(|s| parse_datetime(&s).map(Some).map_err(anyhow::Error::msg)).transpose()
            };
            let change = AutoReplyChange {
                state: args.state.map(|s| match s {
                    StateArg::On => AutoReplyState::Enabled,
                    StateArg::Off => AutoReplyState::Disabled,
                    StateArg::Scheduled => AutoReplyState::Scheduled,
                }),
                start_time: date(args.start)?,
                end_time: date(args.end)?,
                internal_message: args.internal,
                external_message: args.external,
                external_audience: args.audience.map(|a| match a {
                    AudienceArg::None => ExternalAudience::None,
                    AudienceArg::Known => ExternalAudience::Known,
                    AudienceArg::All => ExternalAudience::All,
                }),
            };
            let config = dir.set_auto_reply(&OPERATOR, mailbox_id(&mailbox)?, change).await.map_err(core)?;
            let object = auto_reply_object(&mailbox, &config);
            if env.json {
                env.print(&[object]);
            } else {
                println!(
                    "Automatic replies of {} are {}.",
                    mailbox.name,
                    config.state.as_str().to_lowercase()
                );
            }
        }
        MailboxCommand::Address(cmd) => {
            let (mailbox, change, message) = match cmd {
                AddressCommand::Add { mailbox, address, primary } => {
                    let address = EmailAddress::parse(&address)?;
                    let message =
                        format!("Added {address}{}.", if primary { " as the primary address" } else { "" });
                    (
                        mailbox,
                        AddressChange::Modify {
                            add: vec![ProxyAddress { address, primary }],
                            remove: vec![],
                        },
                        message,
                    )
                }
                AddressCommand::Remove { mailbox, address } => {
                    let address = EmailAddress::parse(&address)?;
                    let message = format!("Removed {address}.");
                    (mailbox, AddressChange::Modify { add: vec![], remove: vec![address] }, message)
                }
            };
            let mailbox = resolve(&dir, &mailbox, &mailboxes).await?;
            let updated = dir
                .update_identity(
                    &OPERATOR,
                    mailbox.id,
                    IdentityChange { addresses: Some(change), ..Default::default() },
                )
                .await
                .map_err(core)?;
            env.done(&message, Some(mailbox_object(&dir, &updated).await?));
        }
        MailboxCommand::AutomapGroups { mailbox, state } => {
            let change = SettingsChange { automap_groups: Some(state.is_on()), ..Default::default() };
            settings(env, &dir, &mailbox, change, "Automapping through groups saved").await?;
        }
        MailboxCommand::RetainDeleted { mailbox, period } => {
            let period = Retention::parse(&period).map_err(anyhow::Error::msg)?;
            let change = SettingsChange { retain_deleted_items_for: Some(period), ..Default::default() };
            let message = format!("Deleted messages kept for {}", period.timespan());
            settings(env, &dir, &mailbox, change, &message).await?;
        }
    }
    ok()
}

fn mailbox_id(r: &Recipient) -> Result<mailroom_types::MailboxId> {
    r.mailbox_id().ok_or_else(|| anyhow::anyhow!("{} is not a mailbox", r.name))
}

async fn settings(
    env: &Env,
    dir: &mailroom_core::Directory,
    identity: &str,
    change: SettingsChange,
    message: &str,
) -> Result<()> {
    let mailbox = resolve(dir, identity, &RecipientKind::MAILBOXES).await?;
    dir.update_mailbox_settings(&OPERATOR, mailbox_id(&mailbox)?, change).await.map_err(core)?;
    let object = mailbox_object(dir, &mailbox).await?;
    env.done(&format!("{message} for {}.", mailbox.name), Some(object));
    Ok(())
}

async fn members(env: &Env, dir: &mailroom_core::Directory, command: MemberCommand) -> Result<()> {
    match command {
        MemberCommand::Add { mailbox, members, no_automap } => {
            let mailbox = resolve(dir, &mailbox, &RecipientKind::MAILBOXES).await?;
            let id = mailbox_id(&mailbox)?;
            for member in members {
                let trustee = dir.resolve_trustee(&member).await.map_err(core)?;
                let changed = dir.add_member(&OPERATOR, id, trustee.id, !no_automap).await.map_err(core)?;
                let label = trustee_label(&trustee);
                if changed {
                    env.note(&format!("{label} is a member of {} (Full Access, Send As).", mailbox.name));
                } else {
                    env.note(&format!("{label} already was a member of {}.", mailbox.name));
                }
            }
            env.note_json_done();
        }
        MemberCommand::Remove { mailbox, members } => {
            let mailbox = resolve(dir, &mailbox, &RecipientKind::MAILBOXES).await?;
            let id = mailbox_id(&mailbox)?;
            for member in members {
                let trustee = dir.resolve(&member).await.map_err(core)?;
                if !dir.remove_member(&OPERATOR, id, trustee.id).await.map_err(core)? {
                    bail!("{} is not a member of {}", trustee_label(&trustee), mailbox.name);
                }
                env.note(&format!("{} is no longer a member of {}.", trustee_label(&trustee), mailbox.name));
            }
            env.note_json_done();
        }
        MemberCommand::List { mailbox } => {
            let mailbox = resolve(dir, &mailbox, &RecipientKind::MAILBOXES).await?;
            let entries = dir.permissions_on(mailbox.id).await.map_err(core)?;
            let mut objects = Vec::new();
            for entry in entries.iter().filter(|e| e.right == Right::FullAccess) {
                let trustee = dir.recipient(entry.trustee).await.map_err(core)?;
                let send_as = entries.iter().any(|e| e.trustee == entry.trustee && e.right == Right::SendAs);
                objects.push(PsObject::new(
                    "Member",
                    trustee.primary_address.to_string(),
                    vec![
                        ("Member", PsValue::text(trustee_label(&trustee))),
                        ("DisplayName", PsValue::text(&trustee.display_name)),
                        ("Type", PsValue::text(trustee.kind.exchange_name())),
                        ("SendAs", PsValue::Bool(send_as)),
                        ("AutoMapping", PsValue::Bool(entry.automapping)),
                    ],
                    &["Member", "DisplayName", "SendAs", "AutoMapping"],
                ));
            }
            env.print(&objects);
        }
    }
    Ok(())
}
