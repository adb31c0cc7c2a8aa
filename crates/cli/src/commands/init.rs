//! `mailroom init` and `mailroom quickstart`.

use std::collections::BTreeSet;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Args;
use mailroom_core::auth::generate_password;
use mailroom_core::directory::{AdminRole, NewMailbox, NewMailboxKind};
use mailroom_server::config::default_file;
use mailroom_server::{CONFIG_FILE, Config, Listener};
use mailroom_types::{DomainName, EmailAddress, Secret};

use super::serve::{self, ListenArgs};
use super::{Env, OPERATOR, create_data_dir, ok, password_from_stdin};

#[derive(Args, Debug)]
pub struct InitArgs {
    /// The organisation's first (default) mail domain, e.g. contoso.com
    #[arg(long, value_name = "DOMAIN")]
    domain: String,
    /// Create this user, in the domain above, as global admin
    #[arg(long, value_name = "ADDRESS", requires = "password_stdin")]
    admin: Option<String>,
    /// Read the admin's password from the first line of standard input
    #[arg(long, requires = "admin")]
    password_stdin: bool,
    /// The IP address the listeners bind: 127.0.0.1 (this machine only), or
    /// 0.0.0.0 / :: (every interface) to receive mail from other hosts
    #[arg(long, value_name = "IP", default_value = mailroom_server::config::DEFAULT_LISTEN_IP)]
    listen_address: std::net::IpAddr,
    /// Where the organisation is kept: "sqlite:mailroom.db" (the default, a file in the
    /// data directory) or "postgres://user:password@host/database" for several nodes;
    /// written to mailroom.toml's [store] url
    #[arg(long, value_name = "URL")]
    store: Option<String>,
}

#[derive(Args, Debug)]
pub struct QuickstartArgs {
    /// Mail domain of the demo organisation
    #[arg(long, value_name = "DOMAIN", default_value = "example.com")]
    domain: String,
    /// Create the organisation (if needed) and exit instead of serving it
    #[arg(long)]
    no_serve: bool,
    #[command(flatten)]
    listen: ListenArgs,
}

/// Quickstart serves on unprivileged loopback ports: no root, nothing exposed.
const QUICKSTART_SMTP: &str = "127.0.0.1:2525";
const QUICKSTART_IMAP: &str = "127.0.0.1:1143";
const QUICKSTART_SUBMISSION: &str = "127.0.0.1:2587";
const QUICKSTART_HTTP: &str = "127.0.0.1:8080";

pub async fn init(env: &Env, args: InitArgs) -> Result<ExitCode> {
    let domain = DomainName::parse(&args.domain)?;
    let admin = args.admin.as_deref().map(EmailAddress::parse).transpose()?;
    if env.is_initialized()? {
        bail!(
            "{} already holds a Mailroom organisation; add domains with 'mailroom domain add' or choose another --data directory",
            env.data.display()
        );
    }
    let password = if args.password_stdin { Some(password_from_stdin()?) } else { None };
    // Everything that can be refused is checked before anything is created,
    // so a refused init leaves no half-made data directory behind.
    if let Some(address) = &admin
        && address.domain() != &domain
    {
        bail!("the admin's address {address} must be in the domain being created ({domain})");
    }
    if let Some(password) = &password {
        mailroom_core::auth::validate_password(password).map_err(super::core)?;
    }
    if let Some(url) = &args.store {
        // Refused before anything is written: a URL Mailroom can't read,
        // or a store that already holds an organisation.
        let location = mailroom_store_location(url, &env.data)?;
        if location.exists()? {
            bail!(
                "{location} already holds a Mailroom organisation: to run another node on it, write a mailroom.toml with [store] url naming it (no init)"
            );
        }
    }
    create_data_dir(&env.data)?;
    let on = |port: u16| std::net::SocketAddr::new(args.listen_address, port).to_string();
    write_config(env, &on(25), "off", &on(143), &on(993), "off")?;
    if let Some(url) = &args.store {
        set_store(env, url)?;
    }
    let dir = env.open_store()?;
    dir.add_domain(&OPERATOR, &domain, true).await.map_err(super::core)?;
    // Its DKIM keys now: 'mailroom domain dns' prints their records.
    mailroom_mailauth::ensure_keys(&dir, &domain).await.map_err(super::core)?;
    println!("Initialized {} with the accepted domain {domain}.", env.data.display());
    println!(
        "Settings are in {}; start the server with 'mailroom serve'.",
        env.data.join(CONFIG_FILE).display()
    );
    if args.listen_address.is_loopback() {
        println!(
            "SMTP (25), IMAP (143) and IMAPS (993) will listen on {} only, this machine; to receive from other hosts set [listen] in that file (e.g. smtp = \"0.0.0.0:25\"), or init with --listen-address 0.0.0.0.",
            args.listen_address
        );
    } else {
        println!(
            "SMTP (25), IMAP (143) and IMAPS (993) will listen on {}; submission and HTTPS are off until set in [listen].",
            args.listen_address
        );
    }
    if let (Some(address), Some(password)) = (admin, password) {
        create_admin(env, &address, password).await?;
        println!("Created the global admin {address}.");
        println!("Mail to postmaster@{domain} (which every mail domain must accept) reaches {address}.");
    } else {
        // RFC 5321 §4.5.1: postmaster must be accepted, and someone must be
        // able to read it; with no admin yet, a shared mailbox holds it.
        let postmaster = env.open_mail()?.create_postmaster_mailbox().await.map_err(super::core)?;
        println!(
            "Mail to postmaster@{domain} (which every mail domain must accept) goes to the shared mailbox {}; give someone access with 'mailroom mailbox member add postmaster ADDRESS'.",
            postmaster.primary_address
        );
    }
    ok()
}

async fn create_admin(env: &Env, address: &EmailAddress, password: Secret<String>) -> Result<()> {
    let dir = env.open()?;
    let spec = NewMailbox {
        name: address.local_part().to_string(),
        display_name: None,
        alias: None,
        primary_address: Some(address.clone()),
        kind: NewMailboxKind::User { password, roles: BTreeSet::from([AdminRole::GlobalAdmin]) },
    };
    dir.create_mailbox(&OPERATOR, spec).await.map_err(super::core)?;
    Ok(())
}

/// A demo organisation: admin, Alice and Bob, and `info@` shared by both.
pub async fn quickstart(env: &Env, args: QuickstartArgs) -> Result<ExitCode> {
    if env.is_initialized()? {
        println!("Using the existing organisation in {}.", env.data.display());
    } else {
        create_demo(env, &args.domain).await?;
    }
    if args.no_serve {
        return ok();
    }
    let mut config = Config::load(&env.data, None)?;
    // The demo listens on loopback whatever an `init`-written file says:
    // nothing is exposed unless --smtp-listen asks for it.
    let mut overrides = args.listen.overrides();
    overrides.smtp.get_or_insert_with(|| QUICKSTART_SMTP.to_string());
    overrides.imap.get_or_insert_with(|| QUICKSTART_IMAP.to_string());
    overrides.imaps.get_or_insert_with(|| "off".to_string());
    overrides.submission.get_or_insert_with(|| QUICKSTART_SUBMISSION.to_string());
    overrides.http.get_or_insert_with(|| QUICKSTART_HTTP.to_string());
    config.apply(&overrides);
    let data = env.data.display().to_string();
    let domain = env.open()?.default_domain().await.map_err(super::core)?;
    serve::run(env, config, |running| {
        let me = program();
        let smtp = running.listeners.iter().find(|(l, _)| *l == Listener::Smtp).map(|(_, a)| *a);
        let imap = running.listeners.iter().find(|(l, _)| *l == Listener::Imap).map(|(_, a)| *a);
        println!();
        if let Some(smtp) = smtp {
            println!("Mail for the demo domain is accepted on {smtp} (SMTP). Send a test message:");
            println!(
                "  swaks --server {} --port {} --to info@{domain} --from someone@elsewhere.example",
                smtp.ip(),
                smtp.port()
            );
        }
        if let Some(imap) = imap {
            println!("Read it in a mail client: IMAP server {} port {} (no TLS on loopback; STARTTLS offered),", imap.ip(), imap.port());
            println!("  user alice@{domain} or bob@{domain} with the password above; info@{domain} appears under Shared/.");
        }
        let submission = running.listeners.iter().find(|(l, _)| *l == Listener::Submission).map(|(_, a)| *a);
        if let Some(submission) = submission {
            println!("Send as a user, or as info@{domain} (Alice and Bob are its members: Send As), on {submission}:");
            println!(
                "  swaks --server {} --port {} --auth PLAIN --auth-user alice@{domain} --from info@{domain} --to bob@{domain}",
                submission.ip(),
                submission.port()
            );
        }
        let http = running.listeners.iter().find(|(l, _)| *l == Listener::Http).map(|(_, a)| *a);
        if let Some(http) = http {
            println!("Calendars (CalDAV): http://{http}/dav/ with alice@{domain} or bob@{domain}; the info@{domain} team calendar appears beside their own.");
            println!("Web app: http://{http}/ (alice@{domain} reads and answers info@ there). Admin center: http://{http}/admin/ as admin@{domain}.");
        }
        println!("See what arrived from the command line:");
        println!("  {me} --data {data} exo 'Get-MailboxFolderStatistics info'");
        println!("Mail to other domains goes out through the outbound queue ('{me} queue list'). Stop with Ctrl-C.");
    })
    .await
}

fn write_config(env: &Env, smtp: &str, submission: &str, imap: &str, imaps: &str, http: &str) -> Result<()> {
    let path = env.data.join(CONFIG_FILE);
    std::fs::write(&path, default_file(smtp, submission, imap, imaps, http))
        .with_context(|| format!("could not write {}", path.display()))
}

/// Where `url` points (the data directory for relative SQLite paths).
fn mailroom_store_location(url: &str, data: &std::path::Path) -> Result<mailroom_server::StoreLocation> {
    Ok(mailroom_server::StoreLocation::parse(url, data)?)
}

/// Adds the `[store]` table naming `url` to the data directory's mailroom.toml.
fn set_store(env: &Env, url: &str) -> Result<()> {
    let path = env.data.join(CONFIG_FILE);
    let mut text =
        std::fs::read_to_string(&path).with_context(|| format!("could not read {}", path.display()))?;
    let quoted = url.replace('\\', "\\\\").replace('"', "\\\"");
    text.push_str(&format!(
        "\n[store]\n# Where the organisation is kept; every node of it names the same store.\nurl = \"{quoted}\"\n"
    ));
    std::fs::write(&path, text).with_context(|| format!("could not write {}", path.display()))
}

async fn create_demo(env: &Env, domain: &str) -> Result<()> {
    let domain = DomainName::parse(domain)?;
    create_data_dir(&env.data)?;
    write_config(env, QUICKSTART_SMTP, QUICKSTART_SUBMISSION, QUICKSTART_IMAP, "off", QUICKSTART_HTTP)?;
    let dir = env.open_store()?;
    dir.add_domain(&OPERATOR, &domain, true).await.map_err(super::core)?;
    mailroom_mailauth::ensure_keys(&dir, &domain).await.map_err(super::core)?;
    let mut accounts = Vec::new();
    for (name, display, roles) in [
        ("admin", "Administrator", BTreeSet::from([AdminRole::GlobalAdmin])),
        ("alice", "Alice", BTreeSet::new()),
        ("bob", "Bob", BTreeSet::new()),
    ] {
        let password = generate_password();
        let spec = NewMailbox {
            name: display.to_string(),
            display_name: None,
            alias: Some(name.to_string()),
            primary_address: Some(EmailAddress::from_parts(name, domain.clone())),
            kind: NewMailboxKind::User { password: password.clone(), roles },
        };
        let user = dir.create_mailbox(&OPERATOR, spec).await.map_err(super::core)?;
        accounts.push((user, password));
    }
    let info = dir
        .create_mailbox(
            &OPERATOR,
            NewMailbox {
                name: "Info".into(),
                display_name: Some("Info".into()),
                alias: Some("info".into()),
                primary_address: Some(EmailAddress::from_parts("info", domain.clone())),
                kind: NewMailboxKind::Shared,
            },
        )
        .await
        .map_err(super::core)?;
    let info_mailbox = info.mailbox_id().ok_or_else(|| anyhow::anyhow!("info is not a mailbox"))?;
    for (user, _) in accounts.iter().skip(1) {
        dir.add_member(&OPERATOR, info_mailbox, user.id, true).await.map_err(super::core)?;
    }
    println!("Created a demo organisation in {} for {domain}.", env.data.display());
    println!();
    println!("Accounts (the passwords are shown only now):");
    for (user, password) in &accounts {
        println!("  {:<24} {}", user.primary_address.to_string(), password.expose());
    }
    println!(
        "  {:<24} shared mailbox; members: alice, bob (Full Access + Send As)",
        info.primary_address.to_string()
    );
    println!();
    let me = program();
    println!("Look around with the Exchange-style cmdlets:");
    println!("  {me} --data {} exo 'Get-Mailbox'", env.data.display());
    println!("  {me} --data {} exo 'Get-MailboxPermission info'", env.data.display());
    Ok(())
}

/// How this binary was started, so printed commands can be pasted as they are.
fn program() -> String {
    std::env::args().next().unwrap_or_else(|| "mailroom".into())
}
