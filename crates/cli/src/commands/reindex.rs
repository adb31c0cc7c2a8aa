//! `mailroom reindex`: builds the search indexes again from every stored
//! body — the web app's word index and the substring index IMAP SEARCH
//! BODY/TEXT reads — with a progress bar. The server indexes new mail by
//! itself; this is for after an upgrade that changes how text is
//! extracted, or to have an old organisation indexed before it serves.
//! Safe while the server runs: each body is indexed once, by whichever
//! takes it first, and searches read bodies not indexed yet meanwhile.

use std::process::ExitCode;

use anyhow::Result;
use clap::Args;

use super::progress::Progress;
use super::{Env, core, ok};

#[derive(Args, Debug)]
pub struct ReindexArgs {}

pub async fn run(env: &Env, _args: ReindexArgs) -> Result<ExitCode> {
    let mail = env.open_mail()?;
    let mut bar = Progress::new(!env.json, "Indexing", "bodies");
    let indexed =
        mailroom_server::reindex_all(&mail, |done, total| bar.show(done, total, "")).await.map_err(core)?;
    bar.finish();
    env.done(&format!("Indexed {indexed} message bodies."), None);
    ok()
}
