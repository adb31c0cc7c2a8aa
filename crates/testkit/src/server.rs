//! A real `mailroom serve` process on `127.0.0.1:0`, ready when it printed
//! its `listening` lines (DESIGN.md rule 10: wait on readiness, no sleeps).

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::Cli;

/// A running server; killed (by its PID) when dropped.
#[derive(Debug)]
pub struct Server {
    child: Child,
    /// Bound address per listener name (`smtp`, ...).
    pub listeners: HashMap<String, SocketAddr>,
    /// What it printed on stdout up to and including its `listening` lines.
    pub output: Vec<String>,
}

impl Server {
    pub fn smtp(&self) -> SocketAddr {
        self.listeners["smtp"]
    }

    pub fn imap(&self) -> SocketAddr {
        self.listeners["imap"]
    }

    /// The plain-HTTP (CalDAV) listener.
    pub fn http(&self) -> SocketAddr {
        self.listeners["http"]
    }

    pub fn submission(&self) -> SocketAddr {
        self.listeners["submission"]
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL: the crash case. Waits until the process is gone.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, then waits for the exit (graceful shutdown).
    pub fn terminate(&mut self) -> ExitStatus {
        let status = Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status();
        assert!(status.is_ok_and(|s| s.success()), "could not send SIGTERM");
        self.child.wait().expect("wait for mailroom serve")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            self.kill();
        }
    }
}

impl Cli {
    /// Starts `mailroom serve` with SMTP on a free loopback port, plus `args`.
    pub fn serve(&self, args: &[&str]) -> Server {
        let mut all = vec![
            "serve",
            "--smtp-listen",
            "127.0.0.1:0",
            "--imap-listen",
            "127.0.0.1:0",
            "--imaps-listen",
            "off",
            "--submission-listen",
            "127.0.0.1:0",
            "--http-listen",
            "127.0.0.1:0",
        ];
        all.extend_from_slice(args);
        self.start_server(&all)
    }

    /// Runs `mailroom --data DIR args...` (a command that serves) and waits
    /// for its `listening smtp` line.
    pub fn start_server(&self, args: &[&str]) -> Server {
        let mut command = Command::new(&self.bin);
        command
            .arg("--data")
            .arg(self.data())
            .args(args)
            .env_remove("MAILROOM_DATA")
            .env("MAILROOM_LOG", std::env::var("MAILROOM_TEST_LOG").unwrap_or_else(|_| "error".into()))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut child = command.spawn().expect("start mailroom serve");
        let stdout = child.stdout.take().expect("stdout is piped");
        let (tx, rx) = mpsc::channel();
        // Reads every line for the process's lifetime so it never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let _ = tx.send(line);
            }
        });
        let mut listeners = HashMap::new();
        let mut output = Vec::new();
        // Every listener line comes before anything else is printed; the
        // quickstart's instructions follow them, so wait for its blank line too.
        let expected: Vec<&str> = ["smtp", "imap", "imaps", "http", "https"]
            .into_iter()
            .filter(|name| {
                let flag = format!("--{name}-listen");
                let given = args.iter().position(|a| *a == flag).and_then(|i| args.get(i + 1));
                match given {
                    Some(value) => *value != "off",
                    // quickstart serves SMTP and IMAP on loopback unless told otherwise.
                    None => matches!(*name, "smtp" | "imap" | "http") && args.contains(&"quickstart"),
                }
            })
            .collect();
        while !expected.iter().all(|name| listeners.contains_key(*name)) || listeners.is_empty() {
            match rx.recv_timeout(Duration::from_secs(60)) {
                Ok(line) => {
                    output.push(line.clone());
                    if let Some(rest) = line.strip_prefix("listening ") {
                        let (name, addr) = rest.split_once(' ').expect("listening NAME ADDR");
                        listeners.insert(name.to_string(), addr.parse().expect("listener address"));
                    }
                }
                Err(_) => {
                    let _ = child.kill();
                    let status = child.wait();
                    panic!("mailroom serve did not report its listeners (exit: {status:?})");
                }
            }
        }
        Server { child, listeners, output }
    }
}
