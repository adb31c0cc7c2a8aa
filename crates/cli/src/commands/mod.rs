//! The admin commands. Each file is one command group; all of them call the
//! domain core and show results with the cmdlet mode's objects, so the
//! native CLI and `mailroom exo` print the same property names.

pub mod domain;
pub mod exo;
pub mod group;
pub mod init;
pub mod mailbox;
pub mod migrate;
pub mod progress;
pub mod queue;
pub mod reindex;
pub mod serve;
pub mod status;
pub mod token;
pub mod user;

use std::io::{BufRead, IsTerminal};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use mailroom_core::directory::{Actor, Recipient, RecipientKind};
use mailroom_core::mail::Mail;
use mailroom_core::{CoreError, Directory};
use mailroom_exo::{PsObject, format_text, to_json};
use mailroom_types::Secret;

/// The operator running the CLI holds every admin right.
pub const OPERATOR: Actor = Actor::System;

/// Where the data lives and how to print.
#[derive(Debug)]
pub struct Env {
    pub data: PathBuf,
    pub json: bool,
}

impl Env {
    pub fn new(data: PathBuf, json: bool) -> Self {
        Env { data, json }
    }

    /// Whether the store `mailroom.toml` names (`[store] url`, the same one
    /// `serve` opens) holds data. A configuration that can't be read, or
    /// names a store Mailroom can't open, is an error saying so — not "no data".
    pub fn is_initialized(&self) -> Result<bool> {
        let config = mailroom_server::Config::load(&self.data, None)?;
        mailroom_server::store_exists(&self.data, &config)
    }

    /// The directory of an initialized data directory.
    pub fn open(&self) -> Result<Directory> {
        self.require_initialized()?;
        self.open_store()
    }

    /// An error naming what to do when the data directory holds no organisation.
    pub fn require_initialized(&self) -> Result<()> {
        if !self.is_initialized()? {
            bail!(
                "there is no Mailroom data in {}: run 'mailroom init --domain example.com' (or 'mailroom quickstart') first, or point --data / MAILROOM_DATA at your data directory",
                self.data.display()
            );
        }
        Ok(())
    }

    /// Opens (creating) the store without checking it was initialized.
    pub fn open_store(&self) -> Result<Directory> {
        Ok(self.open_mail_store()?.directory().clone())
    }

    /// The directory and the mail store of an initialized data directory.
    pub fn open_mail(&self) -> Result<Mail> {
        self.open()?;
        self.open_mail_store()
    }

    fn open_mail_store(&self) -> Result<Mail> {
        let config = mailroom_server::Config::load(&self.data, None)?;
        mailroom_server::open_mail(&self.data, &config)
    }

    /// Prints objects as a table/list or JSON.
    pub fn print(&self, objects: &[PsObject]) {
        if self.json {
            println!("{}", serde_json::to_string_pretty(&to_json(objects)).unwrap_or_else(|_| "[]".into()));
        } else {
            print!("{}", format_text(objects));
        }
    }

    /// A line for people; nothing in JSON mode (the command prints its JSON once).
    pub fn note(&self, message: &str) {
        if !self.json {
            println!("{message}");
        }
    }

    /// Ends a command that printed only notes: JSON mode gets its one `[]`.
    pub fn note_json_done(&self) {
        if self.json {
            println!("[]");
        }
    }

    /// Prints a confirmation line, or the object as JSON.
    pub fn done(&self, message: &str, object: Option<PsObject>) {
        match (self.json, object) {
            (true, Some(o)) => self.print(&[o]),
            (true, None) => println!("[]"),
            (false, _) => println!("{message}"),
        }
    }
}

/// Creates the data directory, readable by its owner only (it holds
/// password hashes and mail). An existing directory must be empty: the
/// operator's home or a project folder is never taken over (or chmod-ed).
pub fn create_data_dir(path: &Path) -> Result<()> {
    if path.exists() {
        let mut entries =
            std::fs::read_dir(path).with_context(|| format!("could not read {}", path.display()))?;
        if entries.next().is_some() {
            bail!(
                "{} exists and isn't empty: choose a new or empty directory for Mailroom's data (--data DIR)",
                path.display()
            );
        }
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(path).with_context(|| format!("could not create {}", path.display()))?;
    #[cfg(unix)]
    {
        // An empty directory that already existed keeps its mode otherwise.
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700))
            .with_context(|| format!("could not restrict access to {}", path.display()))?;
    }
    Ok(())
}

/// Reads a password from the first line of standard input.
pub fn password_from_stdin() -> Result<Secret<String>> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!("Password: ");
    }
    let mut line = String::new();
    stdin.lock().read_line(&mut line).context("could not read the password from standard input")?;
    let password = line.trim_end_matches(['\n', '\r']).to_string();
    if password.is_empty() {
        bail!(
            "no password on standard input: pipe it in, e.g. printf '%s\\n' \"$PASSWORD\" | mailroom ... --password-stdin"
        );
    }
    Ok(Secret::new(password))
}

pub async fn resolve(dir: &Directory, identity: &str, kinds: &[RecipientKind]) -> Result<Recipient> {
    Ok(dir.resolve_kind(identity, kinds).await?)
}

/// Core errors carry the message for the admin; show it as is.
pub fn core(err: CoreError) -> anyhow::Error {
    anyhow::Error::msg(err.to_string())
}

pub fn ok() -> Result<ExitCode> {
    Ok(ExitCode::SUCCESS)
}
