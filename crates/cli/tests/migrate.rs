//! `mailroom migrate --to postgres://…` through the real binary: the
//! organisation of a data directory's SQLite store arrives in PostgreSQL
//! with every count verified, the command says how to switch (and never
//! shows the URL's password), a second run finds the copy done, and the
//! data directory then serves its admin commands from PostgreSQL.
//!
//! The target is a schema of its own in the database `MAILROOM_TEST_PG`
//! names; without it the tests say so loudly and pass, except under CI.
//! The source must be SQLite: under `MAILROOM_TEST_BACKEND=postgres` (the
//! whole suite on PostgreSQL) they have nothing to copy and say so.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use mailroom_store::scratch::ScratchSchema;
use mailroom_testkit::Cli;

const ORG: &str = r#"
New-Mailbox -Name Alice -Alias alice -PrimarySmtpAddress alice@contoso.com -Password 'Alice-pass-123'
New-Mailbox -Name Bob -Alias bob -PrimarySmtpAddress bob@contoso.com -Password 'Bob-pass-123'
New-Mailbox -Shared -Name Info -Alias info -PrimarySmtpAddress info@contoso.com
Add-MailboxPermission info -User bob -AccessRights FullAccess
New-DistributionGroup -Name Staff -Alias staff -PrimarySmtpAddress staff@contoso.com
"#;

/// An organisation on SQLite and an empty schema to copy it into, or
/// `None` when these tests can't run (said on stderr).
fn source_and_target() -> Option<(Cli, ScratchSchema)> {
    let cli = Cli::new(env!("CARGO_BIN_EXE_mailroom"));
    if cli.postgres_url().is_some() {
        eprintln!("SKIPPED: the suite runs on PostgreSQL; migrate copies from SQLite");
        return None;
    }
    let target = ScratchSchema::create()?;
    cli.contoso_with(ORG);
    Some((cli, target))
}

/// `url` with a password in it (the test server trusts its clients and
/// ignores it), which nothing may print.
fn with_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_string() };
    match rest.split_once('@') {
        Some((user, host)) if !user.contains([':', '/']) => format!("{scheme}://{user}:s3cret-pw@{host}"),
        _ => url.to_string(),
    }
}

fn mailboxes(cli: &Cli) -> Vec<String> {
    let listed = cli.run(&["--json", "mailbox", "list"]).ok().json_array();
    listed.iter().map(|m| m["PrimarySmtpAddress"].as_str().unwrap().to_string()).collect()
}

#[test]
fn an_organisation_moves_to_postgres_and_is_served_from_there() {
    let Some((cli, target)) = source_and_target() else { return };
    cli.run(&["token", "create", "--name", "deploy"]).ok();
    let before = mailboxes(&cli);
    let url = with_password(&target.url());

    let run = cli.run(&["migrate", "--to", &url]).ok();
    for text in [&run.stdout, &run.stderr] {
        assert!(!text.contains("s3cret-pw"), "the password is never shown:\n{text}");
    }
    assert!(
        run.stderr.contains("Copying: ") && run.stderr.contains("(100%)"),
        "a progress bar:\n{}",
        run.stderr
    );
    assert!(run.stdout.contains("Copied the organisation into postgres://"), "{}", run.stdout);
    assert!(
        run.stdout.contains("[store]") && run.stdout.contains("mailroom.toml"),
        "how to switch:\n{}",
        run.stdout
    );
    // One row per table, every one matching.
    for table in ["recipients", "permissions", "api_tokens", "folders", "calendars", "message body bytes"] {
        let line = run.stdout.lines().find(|l| l.trim_start().starts_with(table)).unwrap_or_else(|| {
            panic!("no line for {table}:\n{}", run.stdout);
        });
        assert!(line.trim_end().ends_with("True"), "{line}");
    }
    assert!(!run.stdout.contains("False"), "{}", run.stdout);

    // Again: the copy is there already.
    let again = cli.run(&["migrate", "--to", &url]).ok();
    assert!(again.stdout.contains("already holds this organisation"), "{}", again.stdout);

    // mailroom.toml is the operator's to change; then every command reads PostgreSQL.
    assert!(!std::fs::read_to_string(cli.data().join("mailroom.toml")).unwrap().contains("postgres"));
    cli.set_section("store", &format!("url = \"{}\"", target.url()));
    assert_eq!(mailboxes(&cli), before);
    let tokens = cli.run(&["--json", "token", "list"]).ok().json_array();
    assert_eq!(tokens.len(), 1, "{tokens:?}");
    cli.exo("New-Mailbox -Shared -Name Later -Alias later -PrimarySmtpAddress later@contoso.com");
    assert!(mailboxes(&cli).contains(&"later@contoso.com".to_string()));
    // And there is nothing to copy from any more.
    cli.run(&["migrate", "--to", &url]).fails_with(1, "is PostgreSQL already");
}

#[test]
fn a_database_holding_another_organisation_is_refused() {
    let Some((first, target)) = source_and_target() else { return };
    let url = with_password(&target.url());
    first.run(&["--json", "migrate", "--to", &url]).ok();

    let second = Cli::new(env!("CARGO_BIN_EXE_mailroom"));
    second.init_contoso();
    let refused = second.run(&["migrate", "--to", &url]).fails_with(1, "holds the organisation copied from");
    assert!(
        refused.stderr.contains("not of this store") && refused.stderr.contains("new empty database"),
        "{}",
        refused.stderr
    );
    assert!(!refused.stderr.contains("s3cret-pw"), "{}", refused.stderr);
    second.run(&["migrate", "--to", "sqlite:other.db"]).fails_with(1, "copies into PostgreSQL");
}
