//! `[store] url` chooses the store for `serve` and every admin command alike:
//! a database that can't be reached is reported with a message that names
//! it and never repeats the URL's password; another SQLite file is used by
//! both.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use mailroom_testkit::Cli;

fn set_store(cli: &Cli, url: &str) {
    let config = cli.data().join("mailroom.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    // The [store] section this helper wrote last time, if any, goes.
    let head = text.split("\n[store]\n").next().unwrap();
    std::fs::write(&config, format!("{head}\n[store]\nurl = \"{url}\"\n")).unwrap();
}

#[test]
fn an_unreachable_database_is_named_without_echoing_the_password() {
    let cli = Cli::new(env!("CARGO_BIN_EXE_mailroom"));
    cli.init_contoso();
    // Nothing listens on port 1 of this machine.
    set_store(&cli, "postgres://mail:s3cret@127.0.0.1:1/mail");
    for args in [&["serve", "--smtp-listen", "127.0.0.1:0"][..], &["mailbox", "list"][..]] {
        let run = cli.run(args);
        assert_ne!(run.code, 0, "{}", run.stderr);
        assert!(run.stderr.contains("postgres://127.0.0.1:1"), "names the database: {}", run.stderr);
        assert!(run.stderr.contains("could not reach the database"), "{}", run.stderr);
        assert!(!run.stderr.contains("s3cret") && !run.stdout.contains("s3cret"), "{}", run.stderr);
    }
    // A scheme Mailroom doesn't know names the two it does.
    set_store(&cli, "mysql://mail:s3cret@127.0.0.1/mail");
    let run = cli.run(&["mailbox", "list"]);
    assert!(
        run.stderr.contains("sqlite:mailroom.db") && run.stderr.contains("postgres://"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("s3cret"), "{}", run.stderr);
}

#[test]
fn another_sqlite_file_is_the_store_of_every_command() {
    let cli = Cli::new(env!("CARGO_BIN_EXE_mailroom"));
    cli.init_contoso();
    cli.exo("New-Mailbox -Shared -Name Info -Alias info -PrimarySmtpAddress info@contoso.com").ok();
    // Pointed at a file that doesn't exist yet: nothing was initialized there.
    set_store(&cli, "sqlite:elsewhere.db");
    cli.run(&["serve", "--smtp-listen", "127.0.0.1:0"]).fails_with(1, "there is no Mailroom data in");
    cli.run(&["mailbox", "list"]).fails_with(1, "there is no Mailroom data in");
    assert!(!cli.data().join("elsewhere.db").exists(), "a command that found no data created none");
    // Back on the store init wrote: Info is there.
    set_store(&cli, &cli.postgres_url().unwrap_or_else(|| "sqlite:mailroom.db".into()));
    let listed = cli.run(&["--json", "mailbox", "list"]).ok().json_array();
    assert!(listed.iter().any(|m| m["PrimarySmtpAddress"] == "info@contoso.com"), "{listed:?}");
}
