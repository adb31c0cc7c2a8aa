//! `mailroom migrate --to postgres://…`: copies the organisation from the
//! embedded store of the data directory (`[store] url` of mailroom.toml,
//! SQLite by default) into an empty PostgreSQL database or schema, with a
//! progress bar; verifies every table's rows and every body's bytes at the
//! end. Interrupted (Ctrl-C, a lost connection), it continues where it
//! stopped when run again. The copy itself is `mailroom_store::migrate_to_postgres`.
//!
//! mailroom.toml isn't rewritten: the command ends by saying which line to
//! change. The operator switches when they choose (after a look at the new
//! database, with every node's configuration at once), the file keeps its
//! comments and layout, and the URL's password goes where they want it.

use std::process::ExitCode;

use anyhow::{Result, bail};
use clap::Args;
use mailroom_exo::{PsObject, PsValue};
use mailroom_server::{MigrateOptions, MigrateReport, StoreLocation, migrate_to_postgres};

use super::Env;
use super::progress::Progress;

#[derive(Args, Debug)]
pub struct MigrateArgs {
    /// The PostgreSQL database to copy into: postgres://USER:PASSWORD@HOST/DATABASE (add
    /// ?sslmode=require for TLS, and options=-csearch_path%3DSCHEMA to use a schema of its own, made if
    /// missing). It must hold no organisation — or an interrupted copy of this one, which then continues.
    /// May come from MAILROOM_MIGRATE_TO instead, keeping the password out of the process list
    #[arg(long, value_name = "URL", env = "MAILROOM_MIGRATE_TO", hide_env_values = true)]
    to: String,

    /// Rows per transaction at most (each also stops at 16 MiB); an interruption loses at most one such batch
    #[arg(long, value_name = "N", default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..))]
    batch_rows: u32,
}

pub async fn run(env: &Env, args: MigrateArgs) -> Result<ExitCode> {
    let config = mailroom_server::Config::load(&env.data, None)?;
    let source = match config.store_location(&env.data)? {
        StoreLocation::Sqlite(path) => path,
        StoreLocation::Postgres(_) => bail!(
            "the store of {} is PostgreSQL already ([store] url in mailroom.toml): migrate copies from the embedded SQLite store",
            env.data.display()
        ),
    };
    if !source.is_file() {
        bail!(
            "there is no Mailroom data in {}: point --data / MAILROOM_DATA at the data directory to copy",
            env.data.display()
        );
    }
    let target = StoreLocation::parse(&args.to, &env.data)?;
    if !matches!(target, StoreLocation::Postgres(_)) {
        bail!("--to names a SQLite file: migrate copies into PostgreSQL (postgres://user@host/database)");
    }
    // Shown without its password (StoreLocation's Display).
    let shown = target.to_string();

    let options = MigrateOptions { batch_rows: args.batch_rows as usize, ..MigrateOptions::default() };
    let mut bar = Progress::new(!env.json, "Copying", "rows");
    let report =
        migrate_to_postgres(&source, &args.to, &shown, &options, |p| bar.show(p.done, p.total, p.table))
            .await;
    bar.finish();
    let report = report?;

    if let Some(at) = report.already_copied_at {
        env.done(&format!("{shown} already holds this organisation (copied {at}); nothing to do."), None);
        switch_note(env, &shown);
        return Ok(ExitCode::SUCCESS);
    }
    env.print(&summary(&report));
    if !report.verified() {
        eprintln!(
            "error: the copy in {shown} doesn't match the store (see the rows marked False above); don't switch to it. \
             Copy again into a new empty database or schema, and report this if it happens again"
        );
        return Ok(ExitCode::FAILURE);
    }
    let resumed = if report.resumed { " (continuing an interrupted copy)" } else { "" };
    let schema = report.created_schema.as_deref().map(|s| format!(" (schema {s} made)")).unwrap_or_default();
    env.note(&format!("Copied the organisation into {shown}{schema}{resumed}; every count matches."));
    switch_note(env, &shown);
    Ok(ExitCode::SUCCESS)
}

/// What to do next: the configuration isn't rewritten (see the module
/// documentation).
fn switch_note(env: &Env, shown: &str) {
    env.note(&format!(
        "To serve from it, set\n\n    [store]\n    url = \"<the URL given to --to>\"\n\n\
         in {} (every node uses the same URL), then start the server. The server re-indexes message text in the \
         background. The SQLite store is left as it was: keep it as a backup until you are happy with {shown}.",
        env.data.join(mailroom_server::CONFIG_FILE).display()
    ));
}

/// One row per table: rows in the source and in the copy.
fn summary(report: &MigrateReport) -> Vec<PsObject> {
    let row = |table: &str, source: u64, copied: u64, matches: bool| {
        PsObject::new(
            "MigratedTable",
            table,
            vec![
                ("Table", PsValue::text(table)),
                ("Source", PsValue::Int(source as i64)),
                ("Copied", PsValue::Int(copied as i64)),
                ("Matches", PsValue::Bool(matches)),
            ],
            &["Table", "Source", "Copied", "Matches"],
        )
    };
    let mut rows: Vec<PsObject> =
        report.tables.iter().map(|t| row(t.table, t.source, t.target, t.source == t.target)).collect();
    let (source, copied) = report.body_bytes;
    rows.push(row("message body bytes", source, copied, source == copied && report.bodies_wrong == 0));
    if report.bodies_unlisted > 0 {
        rows.push(row("bodies to re-index", 0, report.bodies_unlisted, false));
    }
    rows
}
