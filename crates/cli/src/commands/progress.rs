//! The progress bar of long admin work (`mailroom reindex`, `mailroom
//! migrate`), in the words each gives it.

use std::io::{IsTerminal, Write};

/// A progress bar on stderr: redrawn in place on a terminal, a line per
/// tenth elsewhere (a log keeps a few lines, not thousands).
pub struct Progress {
    shown: bool,
    terminal: bool,
    last_tenth: Option<u64>,
    doing: &'static str,
    unit: &'static str,
}

impl Progress {
    pub fn new(shown: bool, doing: &'static str, unit: &'static str) -> Self {
        Progress { shown, terminal: std::io::stderr().is_terminal(), last_tenth: None, doing, unit }
    }

    /// `what`: the part being worked on now (may be empty).
    pub fn show(&mut self, done: u64, total: u64, what: &str) {
        if !self.shown {
            return;
        }
        let fraction = if total == 0 { 1.0 } else { done as f64 / total as f64 };
        let (doing, unit) = (self.doing, self.unit);
        let mut err = std::io::stderr().lock();
        if self.terminal {
            const WIDTH: usize = 30;
            let filled = ((fraction * WIDTH as f64) as usize).min(WIDTH);
            // Cleared to the end of the line: the part's name shrinks.
            let _ = write!(
                err,
                "\r{doing} [{}{}] {done}/{total} {unit} ({:.0}%) {what}\x1b[K",
                "#".repeat(filled),
                " ".repeat(WIDTH - filled),
                fraction * 100.0
            );
            let _ = err.flush();
        } else {
            let tenth = (fraction * 10.0) as u64;
            if self.last_tenth != Some(tenth) {
                self.last_tenth = Some(tenth);
                let _ = writeln!(err, "{doing}: {done}/{total} {unit} ({:.0}%)", fraction * 100.0);
            }
        }
    }

    pub fn finish(&mut self) {
        if self.shown && self.terminal {
            let _ = writeln!(std::io::stderr());
        }
    }
}
