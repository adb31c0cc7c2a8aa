//! `mailroom reindex`: builds the search indexes again from every stored
//! body — the web app's word index and the substring index IMAP SEARCH
//! BODY/TEXT reads — with a progress bar. The server indexes new mail by
//! itself; this is for after an upgrade that changes how text is
//! extracted, or to have an old organisation indexed before it serves.
//! Safe while the server runs: each body is indexed once, by whichever
//! takes it first, and searches read bodies not indexed yet meanwhile.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;

use super::{Env, core, ok};

#[derive(Args, Debug)]
pub struct ReindexArgs {}

pub async fn run(env: &Env, _args: ReindexArgs) -> Result<ExitCode> {
    let mail = env.open_mail()?;
    let mut bar = Progress::new(!env.json);
    let indexed =
        mailroom_server::reindex_all(&mail, |done, total| bar.show(done, total)).await.map_err(core)?;
    bar.finish();
    env.done(&format!("Indexed {indexed} message bodies."), None);
    ok()
}

/// A progress bar on stderr: redrawn in place on a terminal, a line per
/// tenth elsewhere (a log keeps a few lines, not thousands).
struct Progress {
    shown: bool,
    terminal: bool,
    last_tenth: Option<u64>,
}

impl Progress {
    fn new(shown: bool) -> Self {
        Progress { shown, terminal: std::io::stderr().is_terminal(), last_tenth: None }
    }

    fn show(&mut self, done: u64, total: u64) {
        if !self.shown {
            return;
        }
        let fraction = if total == 0 { 1.0 } else { done as f64 / total as f64 };
        let mut err = std::io::stderr().lock();
        if self.terminal {
            const WIDTH: usize = 30;
            let filled = ((fraction * WIDTH as f64) as usize).min(WIDTH);
            let _ = write!(
                err,
                "\rIndexing [{}{}] {done}/{total} bodies ({:.0}%)",
                "#".repeat(filled),
                " ".repeat(WIDTH - filled),
                fraction * 100.0
            );
            let _ = err.flush();
        } else {
            let tenth = (fraction * 10.0) as u64;
            if self.last_tenth != Some(tenth) {
                self.last_tenth = Some(tenth);
                let _ = writeln!(err, "Indexing: {done}/{total} bodies ({:.0}%)", fraction * 100.0);
            }
        }
    }

    fn finish(&mut self) {
        if self.shown && self.terminal {
            let _ = writeln!(std::io::stderr());
        }
    }
}
