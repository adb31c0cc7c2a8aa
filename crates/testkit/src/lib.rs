//! Test helpers shared by Mailroom's integration tests (dev-only).
//!
//! [`Cli`] runs the built `mailroom` binary against its own temporary data
//! directory, the way an admin would, and captures what it printed;
//! [`Cli::serve`] starts it as a server ([`Server`]); [`LineClient`] speaks
//! raw lines to it; [`inspect`] reads what the store then holds; [`python`]
//! runs a real client script (smtplib and friends); [`DnsServer`] answers
//! DNS on loopback; [`Sink`] is a remote SMTP server that takes what the
//! outbound sender sends. [`Cli::on_postgres`] and [`Cli::another_node`]
//! make several nodes of one organisation on PostgreSQL.

mod dns;
mod http_client;
pub mod inspect;
mod line_client;
mod server;
mod sink;
mod web;

pub use dns::DnsServer;
pub use http_client::{HttpReply, http};
pub use line_client::{LineClient, SmtpReply};
pub use server::Server;
pub use sink::{Received, Sink};
pub use web::{
    FormFile, hidden_field, web_inbox_of, web_post, web_post_multipart, web_sign_in, web_sign_in_reply,
};

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;

use tempfile::TempDir;

/// The `mailroom` binary with a private data directory, and a DNS server
/// of its own that the organisations it makes ask (so no test depends on
/// the machine's resolver; a test adds the records it needs).
#[derive(Debug)]
pub struct Cli {
    bin: PathBuf,
    root: TempDir,
    /// Shared with the other nodes of the organisation ([`Cli::another_node`]),
    /// whose configuration names the same server.
    dns: Arc<DnsServer>,
    /// The PostgreSQL schema `init_contoso` puts the organisation in, when
    /// the tests run on PostgreSQL (`MAILROOM_TEST_BACKEND=postgres`) or the
    /// test asked for it ([`Cli::on_postgres`]); shared with the other
    /// nodes, so it is dropped with the last of them.
    postgres: Option<Arc<mailroom_store::scratch::ScratchSchema>>,
}

/// What one run printed, and how it ended.
#[derive(Debug)]
pub struct Run {
    pub args: Vec<String>,
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Cli {
    /// `bin` is `env!("CARGO_BIN_EXE_mailroom")` in the caller's tests.
    pub fn new(bin: &str) -> Self {
        let postgres = if mailroom_store::scratch::tests_on_postgres() {
            mailroom_store::scratch::ScratchSchema::create()
        } else {
            None
        };
        Cli::with_store(bin, postgres)
    }

    /// A `Cli` whose `init_contoso` puts the organisation in a fresh
    /// PostgreSQL schema whatever `MAILROOM_TEST_BACKEND` says: for tests
    /// of several nodes on one store, which the embedded store can't be.
    /// `None` (said on stderr) when `MAILROOM_TEST_PG` isn't set outside CI;
    /// under CI that is a failure ([`mailroom_store::scratch::ScratchSchema::create`]).
    pub fn on_postgres(bin: &str) -> Option<Self> {
        let schema = mailroom_store::scratch::ScratchSchema::create()?;
        Some(Cli::with_store(bin, Some(schema)))
    }

    fn with_store(bin: &str, postgres: Option<mailroom_store::scratch::ScratchSchema>) -> Self {
        Cli {
            bin: PathBuf::from(bin),
            root: tempfile::tempdir().expect("temporary directory"),
            dns: Arc::new(DnsServer::start()),
            postgres: postgres.map(Arc::new),
        }
    }

    /// Another node of this organisation: a data directory of its own whose
    /// `mailroom.toml` is a copy of this one's (the same `[store] url`, the
    /// same DNS server) with `[cluster] node_name = "name"`. Not initialized:
    /// the store is there already. Call it after `init` and after the
    /// settings both nodes share; give this node a name of its own too.
    pub fn another_node(&self, name: &str) -> Cli {
        let node = Cli {
            bin: self.bin.clone(),
            root: tempfile::tempdir().expect("temporary directory"),
            dns: self.dns.clone(),
            postgres: self.postgres.clone(),
        };
        std::fs::create_dir_all(node.data()).expect("the other node's data directory");
        std::fs::copy(self.data().join("mailroom.toml"), node.data().join("mailroom.toml"))
            .expect("copy mailroom.toml");
        node.set_node_name(name);
        node
    }

    /// `[cluster] node_name`: this node's name in `mailroom status` and on
    /// the outbound entries it sends.
    pub fn set_node_name(&self, name: &str) {
        self.set_section("cluster", &format!("node_name = \"{name}\""));
    }

    /// The top-level `hostname` of `mailroom.toml`: the server's name in
    /// its greetings, in EHLO when it sends, and in `Received:`.
    pub fn set_hostname(&self, name: &str) {
        let config = self.data().join("mailroom.toml");
        let text = std::fs::read_to_string(&config).expect("mailroom.toml");
        // Top-level keys come before the first table.
        let mut out = format!("hostname = \"{name}\"\n");
        let mut top = true;
        for line in text.lines() {
            top &= !line.trim_start().starts_with('[');
            if !(top && line.trim_start().starts_with("hostname")) {
                out.push_str(line);
                out.push('\n');
            }
        }
        std::fs::write(&config, out).expect("write mailroom.toml");
    }

    /// The DNS server `init_contoso`'s configuration points at.
    pub fn dns(&self) -> &DnsServer {
        &self.dns
    }

    /// The data directory (not created until `init`).
    pub fn data(&self) -> PathBuf {
        self.root.path().join("data")
    }

    pub fn root(&self) -> &Path {
        self.root.path()
    }

    /// Runs `mailroom --data DIR args...` with nothing on standard input.
    pub fn run(&self, args: &[&str]) -> Run {
        self.run_with_stdin(args, "")
    }

    /// Runs with `stdin` as standard input.
    pub fn run_with_stdin(&self, args: &[&str], stdin: &str) -> Run {
        let mut command = Command::new(&self.bin);
        command
            .arg("--data")
            .arg(self.data())
            .args(args)
            .env_remove("MAILROOM_DATA")
            .env("MAILROOM_LOG", "error")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn().expect("start mailroom");
        if let Some(mut pipe) = child.stdin.take() {
            // The command may exit without reading; a broken pipe is fine.
            let _ = pipe.write_all(stdin.as_bytes());
        }
        let output = child.wait_with_output().expect("wait for mailroom");
        Run {
            args: args.iter().map(|a| a.to_string()).collect(),
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Runs `mailroom exo PIPELINE` and expects success.
    pub fn exo(&self, pipeline: &str) -> Run {
        self.run(&["exo", pipeline]).ok()
    }

    /// Runs `mailroom --json exo PIPELINE`, expects success, parses the array.
    pub fn exo_json(&self, pipeline: &str) -> Vec<serde_json::Value> {
        self.run(&["--json", "exo", pipeline]).ok().json_array()
    }

    /// The store URL of this organisation when it is on PostgreSQL.
    pub fn postgres_url(&self) -> Option<String> {
        self.postgres.as_ref().map(|schema| schema.url())
    }

    /// An organisation for contoso.com with the global admin admin@contoso.com
    /// (on PostgreSQL when the tests run there).
    pub fn init_contoso(&self) -> &Self {
        let mut args =
            vec!["init", "--domain", "contoso.com", "--admin", "admin@contoso.com", "--password-stdin"];
        let url = self.postgres_url();
        if let Some(url) = &url {
            args.extend(["--store", url.as_str()]);
        }
        self.run_with_stdin(&args, "Admin-pass-123\n").ok();
        self.set_section("dns", &format!("nameservers = [\"{}\"]", self.dns.addr()));
        self
    }

    /// contoso.com (`init_contoso`) and then `script`, a pipeline of cmdlets
    /// run by `mailroom exo -`, which must succeed.
    pub fn contoso_with(&self, script: &str) -> &Self {
        self.init_contoso();
        self.run_with_stdin(&["exo", "-"], script).ok();
        self
    }

    /// Sets the data directory's `[outbound]` section: mail for other
    /// domains goes to `smarthost`, retried every `retry_seconds`. Tests
    /// point it at a local sink, or at a closed loopback port to keep mail
    /// queued — never at the DNS of a real domain.
    pub fn set_outbound(
        &self,
        smarthost: &str,
        retry_seconds: u64,
        expire_seconds: u64,
        delay_notice_seconds: u64,
    ) {
        self.set_section(
            "outbound",
            &format!(
                "smarthost = \"{smarthost}\"\nretry_seconds = [{retry_seconds}]\nexpire_seconds = {expire_seconds}\ndelay_notice_seconds = {delay_notice_seconds}\npoll_seconds = 1\n"
            ),
        );
    }

    /// Replaces the `[name]` table of `mailroom.toml` (its lines up to the
    /// next table) with `body`, at the end of the file.
    pub fn set_section(&self, name: &str, body: &str) {
        let config = self.data().join("mailroom.toml");
        let text = std::fs::read_to_string(&config).expect("mailroom.toml");
        let header = format!("[{name}]");
        let mut out = String::new();
        let mut inside = false;
        for line in text.lines() {
            if line.trim_start().starts_with('[') {
                inside = line.trim() == header;
            }
            if !inside {
                out.push_str(line);
                out.push('\n');
            }
        }
        out.push_str(&format!("\n{header}\n{body}\n"));
        std::fs::write(&config, out).expect("write mailroom.toml");
    }

    /// Keeps outbound mail queued: a smarthost on a loopback port nothing
    /// listens on, tried again only after an hour.
    pub fn hold_outbound(&self) {
        self.set_outbound(CLOSED_PORT, 3600, 86_400, 86_400);
    }
}

impl Cli {
    /// `mailroom --json queue list`: the outbound queue's rows.
    pub fn queue(&self) -> Vec<serde_json::Value> {
        let run = self.run(&["--json", "queue", "list"]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        serde_json::from_str(&run.stdout).expect("queue list JSON")
    }

    /// The queue as (recipient, envelope sender) pairs.
    pub fn queued(&self) -> Vec<(String, String)> {
        self.queue()
            .iter()
            .map(|q| {
                (
                    q["Recipient"].as_str().unwrap_or("").to_string(),
                    q["FromAddress"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect()
    }
}

/// One message over port 25 from `from` (`""`: the null sender) to `to`,
/// with `header` (complete lines) and a short body; every step must succeed.
pub fn mx_send(server: &Server, from: &str, to: &str, header: &str) {
    mx_send_message(server, from, to, &format!("{header}\r\nhello"));
}

/// Delivers a whole message (header and body, CRLF lines, no final dot)
/// over the MX port and expects it accepted.
pub fn mx_send_message(server: &Server, from: &str, to: &str, message: &str) {
    let mut c = LineClient::smtp(server.smtp());
    assert_eq!(c.cmd(&format!("MAIL FROM:<{from}>")).code, 250);
    assert_eq!(c.cmd(&format!("RCPT TO:<{to}>")).code, 250);
    assert_eq!(c.cmd("DATA").code, 354);
    c.send(format!("{message}\r\n.\r\n").as_bytes());
    assert_eq!(c.reply().code, 250);
    assert_eq!(c.cmd("QUIT").code, 221);
}

/// Like [`mx_send`], for a message the server must refuse at the end of
/// data: MAIL and RCPT are accepted, and the reply to the final dot is
/// returned. Nothing is acknowledged, so nothing may be stored.
pub fn mx_refused(server: &Server, from: &str, to: &str, header: &str) -> SmtpReply {
    let mut c = LineClient::smtp(server.smtp());
    assert_eq!(c.cmd(&format!("MAIL FROM:<{from}>")).code, 250);
    assert_eq!(c.cmd(&format!("RCPT TO:<{to}>")).code, 250);
    assert_eq!(c.cmd("DATA").code, 354);
    c.send(format!("{header}\r\nhello\r\n.\r\n").as_bytes());
    let reply = c.reply();
    assert!(reply.code >= 400, "expected a refusal, got {} {}", reply.code, reply.text());
    assert_eq!(c.cmd("QUIT").code, 221);
    reply
}

/// A loopback address no test listens on: tests bind port 0, which the
/// system picks from the ephemeral range, never port 1. (A port freed by a
/// test could be handed to another test running at the same time.)
pub const CLOSED_PORT: &str = "127.0.0.1:1";

impl Cli {}

/// Alice Jones and Bob Smith, each with Full Access to the shared info@
/// mailbox: the team the team-inbox tests start from (`Cli::contoso_with`).
pub const INFO_TEAM: &str = r#"
New-Mailbox -Name Alice -Alias alice -DisplayName 'Alice Jones' -PrimarySmtpAddress alice@contoso.com -Password 'Alice-pass-123'
New-Mailbox -Name Bob -Alias bob -DisplayName 'Bob Smith' -PrimarySmtpAddress bob@contoso.com -Password 'Bob-pass-123'
New-Mailbox -Shared -Name Info -Alias info -PrimarySmtpAddress info@contoso.com
Add-MailboxPermission info -User alice -AccessRights FullAccess
Add-MailboxPermission info -User bob -AccessRights FullAccess
"#;

/// Runs a headless-Chromium script (which prints one JSON object of what a
/// person saw, with an `overflow` entry per screenshot) against `server`,
/// screenshots in `shots`; asserts that no page it shot scrolls sideways.
pub fn browse(script: &str, server: &Server, shots: &Path, extra: &[&str]) -> serde_json::Value {
    let base = format!("http://{}", server.http());
    let mut args = vec![base.as_str(), shots.to_str().expect("a UTF-8 path")];
    args.extend(extra);
    let out = python(script, &args);
    let seen: serde_json::Value = serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{e}: {out}"));
    eprintln!("screenshots in {}", shots.display());
    for (name, overflow) in seen["overflow"].as_object().expect("the script took screenshots") {
        assert!(overflow.as_i64().unwrap_or(1) <= 0, "{name} scrolls sideways by {overflow} px");
    }
    seen
}

/// Runs `python3 -c SCRIPT ARGS...` and returns its standard output; panics
/// with both streams if it fails.
pub fn python(script: &str, args: &[&str]) -> String {
    let output = Command::new("python3").arg("-c").arg(script).args(args).output().expect("run python3");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "python3 failed ({}):\n--- stdout ---\n{stdout}\n--- stderr ---\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

impl Run {
    fn describe(&self) -> String {
        format!(
            "mailroom {:?}\nexit code: {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.args, self.code, self.stdout, self.stderr
        )
    }

    /// Expects exit code 0.
    #[track_caller]
    pub fn ok(self) -> Self {
        assert_eq!(self.code, 0, "expected success\n{}", self.describe());
        self
    }

    /// Expects a non-zero exit code and `message` in standard error.
    #[track_caller]
    pub fn fails_with(self, code: i32, message: &str) -> Self {
        assert_eq!(self.code, code, "expected exit code {code}\n{}", self.describe());
        assert!(self.stderr.contains(message), "expected {message:?} on stderr\n{}", self.describe());
        self
    }

    #[track_caller]
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e})\n{}", self.describe()))
    }

    #[track_caller]
    pub fn json_array(&self) -> Vec<serde_json::Value> {
        match self.json() {
            serde_json::Value::Array(items) => items,
            other => panic!("expected a JSON array, got {other}\n{}", self.describe()),
        }
    }
}
