//! `mailroom`: the one binary. Admin commands, the Exchange-compatible cmdlet
//! mode, and the server (`serve`, `quickstart`).
//!
//! Every command works on a data directory: `--data DIR`, else
//! `$MAILROOM_DATA`, else `./mailroom-data`. Commands run as the machine's
//! operator: whoever can open the data directory has every admin right
//! (`mailroom exo --as ADDRESS` runs as a named admin instead).

mod commands;
mod logging;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use commands::{Env, domain, exo, group, init, mailbox, migrate, queue, reindex, serve, status, token, user};

#[derive(Parser, Debug)]
#[command(
    name = "mailroom",
    version,
    about = "Mailroom: self-hosted mail and calendar server built around shared mailboxes",
    long_about = "Mailroom: self-hosted mail and calendar server built around shared mailboxes.\n\n\
Start with 'mailroom quickstart' for a demo organisation, or 'mailroom init --domain example.com' for your own.\n\
Admin commands work on the data directory; 'mailroom exo' accepts Exchange Online PowerShell cmdlets.",
    propagate_version = true
)]
struct Cli {
    /// Data directory [default: ./mailroom-data]
    #[arg(
        long,
        global = true,
        env = "MAILROOM_DATA",
        value_name = "DIR",
        default_value = "mailroom-data",
        hide_default_value = true
    )]
    data: PathBuf,

    /// Print results as JSON instead of text
    #[arg(long, global = true)]
    json: bool,

    /// Log lines as JSON objects (default: human-readable); the level comes from MAILROOM_LOG (default: info for serve and quickstart, warn otherwise)
    #[arg(long, global = true)]
    log_json: bool,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Create a data directory with its store, first domain and optional admin
    Init(init::InitArgs),
    /// Create a demo organisation (domain, admin, two users, a shared mailbox) if there is none, then serve it
    Quickstart(init::QuickstartArgs),
    /// Run the server (SMTP, submission, IMAP, CalDAV, the admin center and API) until SIGTERM/SIGINT
    Serve(serve::ServeArgs),
    /// Accepted domains: add, list, choose the default
    #[command(subcommand)]
    Domain(domain::DomainCommand),
    /// User mailboxes (people who sign in)
    #[command(subcommand)]
    User(user::UserCommand),
    /// Mailboxes, shared ones especially: create, members, permissions, settings
    #[command(subcommand)]
    Mailbox(mailbox::MailboxCommand),
    /// Security groups and distribution lists
    #[command(subcommand)]
    Group(group::GroupCommand),
    /// Run Exchange Online PowerShell cmdlets (New-Mailbox, Add-MailboxPermission, ...)
    Exo(exo::ExoArgs),
    /// The outbound queue: list what waits to be sent to other domains, retry, delete
    #[command(subcommand)]
    Queue(queue::QueueCommand),
    /// API tokens for the HTTP admin API: create (shown once), list, revoke
    #[command(subcommand)]
    Token(token::TokenCommand),
    /// Build the search indexes again from every stored message (with a progress bar); safe while the server runs
    Reindex(reindex::ReindexArgs),
    /// Copy the organisation from the embedded SQLite store into an empty PostgreSQL database (progress bar; resumes after an interruption; verifies every count)
    Migrate(migrate::MigrateArgs),
    /// The store and the nodes running on it, each with its last heartbeat
    Status,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // A server tells its operator what it does (deliveries, refusals at
    // info); one-shot admin commands only speak up about problems.
    let default_level = match cli.command {
        Command::Serve(_) | Command::Quickstart(_) => "info",
        _ => "warn",
    };
    logging::init(cli.log_json, default_level);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("error: could not start the runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let env = Env::new(cli.data, cli.json);
    let result = runtime.block_on(async {
        match cli.command {
            Command::Init(args) => init::init(&env, args).await,
            Command::Quickstart(args) => init::quickstart(&env, args).await,
            Command::Serve(args) => serve::serve(&env, args).await,
            Command::Domain(cmd) => domain::run(&env, cmd).await,
            Command::User(cmd) => user::run(&env, cmd).await,
            Command::Mailbox(cmd) => mailbox::run(&env, cmd).await,
            Command::Group(cmd) => group::run(&env, cmd).await,
            Command::Exo(args) => exo::run(&env, args).await,
            Command::Queue(cmd) => queue::run(&env, cmd).await,
            Command::Token(cmd) => token::run(&env, cmd).await,
            Command::Reindex(args) => reindex::run(&env, args).await,
            Command::Migrate(args) => migrate::run(&env, args).await,
            Command::Status => status::run(&env).await,
        }
    });
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
