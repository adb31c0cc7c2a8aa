//! `mailroom serve`: runs the server on a data directory until SIGTERM/SIGINT.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Result;
use clap::Args;
use mailroom_server::{Config, ListenOverrides, Running};

use super::{Env, ok};

/// How long open sessions may take to finish after a shutdown signal.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Configuration file [default: DATA/mailroom.toml if it exists]
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(flatten)]
    pub listen: ListenArgs,
}

/// Listener addresses: `ADDR:PORT` (port 0 picks a free port) or `off`.
#[derive(Args, Debug, Default)]
pub struct ListenArgs {
    /// Inbound mail (SMTP, standard port 25), e.g. 0.0.0.0:25 or 127.0.0.1:0, or off
    #[arg(long, value_name = "ADDR:PORT")]
    smtp_listen: Option<String>,
    /// Mail submission with AUTH (standard port 587, STARTTLS), e.g. 0.0.0.0:587, or off
    #[arg(long, value_name = "ADDR:PORT")]
    submission_listen: Option<String>,
    /// Mail submission over implicit TLS (standard port 465), or off
    #[arg(long, value_name = "ADDR:PORT")]
    submissions_listen: Option<String>,
    /// IMAP with STARTTLS (standard port 143), or off
    #[arg(long, value_name = "ADDR:PORT")]
    imap_listen: Option<String>,
    /// IMAP over implicit TLS (standard port 993), or off
    #[arg(long, value_name = "ADDR:PORT")]
    imaps_listen: Option<String>,
    /// The admin center, admin API and CalDAV over plain HTTP (port 80; passwords from loopback only unless [http] allows), or off
    #[arg(long, value_name = "ADDR:PORT")]
    http_listen: Option<String>,
    /// The admin center, admin API and CalDAV over HTTPS (standard port 443), or off
    #[arg(long, value_name = "ADDR:PORT")]
    https_listen: Option<String>,
    /// Send mail for other domains through this server (e.g. smtp.example.com:587)
    #[arg(long, value_name = "HOST:PORT")]
    smarthost: Option<String>,
}

impl ListenArgs {
    pub fn overrides(&self) -> ListenOverrides {
        ListenOverrides {
            smarthost: self.smarthost.clone(),
            smtp: self.smtp_listen.clone(),
            submission: self.submission_listen.clone(),
            submissions: self.submissions_listen.clone(),
            imap: self.imap_listen.clone(),
            imaps: self.imaps_listen.clone(),
            http: self.http_listen.clone(),
            https: self.https_listen.clone(),
        }
    }
}

pub async fn serve(env: &Env, args: ServeArgs) -> Result<ExitCode> {
    let mut config = Config::load(&env.data, args.config.as_deref())?;
    config.apply(&args.listen.overrides());
    run(env, config, |_| {}).await
}

/// Starts the server, prints `listening <name> <ip:port>` per listener once
/// all are bound, calls `ready`, and serves until a signal.
pub async fn run(env: &Env, config: Config, ready: impl FnOnce(&Running)) -> Result<ExitCode> {
    let running = mailroom_server::start(&env.data, config).await?;
    let mut signals = mailroom_server::StopSignals::watch()?;
    {
        let mut out = std::io::stdout().lock();
        for (listener, addr) in &running.listeners {
            writeln!(out, "listening {} {addr}", listener.name())?;
        }
        out.flush()?;
    }
    ready(&running);
    let signal = signals.recv().await?;
    tracing::info!(signal, "shutting down");
    running.shutdown(SHUTDOWN_GRACE).await;
    ok()
}
