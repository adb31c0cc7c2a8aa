//! The native admin commands through the built binary: the admin-center
//! flows, their output, and their errors.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use mailroom_testkit::Cli;

fn cli() -> Cli {
    Cli::new(env!("CARGO_BIN_EXE_mailroom"))
}

fn org() -> Cli {
    let cli = cli();
    cli.init_contoso();
    cli
}

fn add_user(cli: &Cli, address: &str) {
    cli.run_with_stdin(&["user", "add", address, "--password-stdin"], "User-pass-123\n").ok();
}

#[test]
fn every_command_has_help() {
    let cli = cli();
    let commands: &[&[&str]] = &[
        &[],
        &["init"],
        &["quickstart"],
        &["serve"],
        &["domain"],
        &["domain", "add"],
        &["domain", "list"],
        &["domain", "default"],
        &["user"],
        &["user", "add"],
        &["user", "list"],
        &["user", "show"],
        &["user", "remove"],
        &["user", "password"],
        &["user", "block"],
        &["user", "unblock"],
        &["user", "roles"],
        &["mailbox"],
        &["mailbox", "add"],
        &["mailbox", "list"],
        &["mailbox", "show"],
        &["mailbox", "remove"],
        &["mailbox", "convert"],
        &["mailbox", "member"],
        &["mailbox", "member", "add"],
        &["mailbox", "member", "remove"],
        &["mailbox", "member", "list"],
        &["mailbox", "grant"],
        &["mailbox", "revoke"],
        &["mailbox", "permissions"],
        &["mailbox", "sent-items"],
        &["mailbox", "forward"],
        &["mailbox", "quota"],
        &["mailbox", "auto-reply"],
        &["mailbox", "address"],
        &["mailbox", "address", "add"],
        &["mailbox", "address", "remove"],
        &["mailbox", "automap-groups"],
        &["mailbox", "retain-deleted"],
        &["group"],
        &["group", "add"],
        &["group", "list"],
        &["group", "show"],
        &["group", "remove"],
        &["group", "member"],
        &["group", "member", "add"],
        &["group", "member", "remove"],
        &["group", "member", "list"],
        &["exo"],
    ];
    for command in commands {
        let mut args: Vec<&str> = command.to_vec();
        args.push("--help");
        let run = cli.run(&args).ok();
        assert!(run.stdout.contains("Usage: mailroom"), "{args:?}: {}", run.stdout);
    }
    let exo_help = cli.run(&["exo", "--help"]).ok().stdout;
    assert!(exo_help.contains("Add-MailboxPermission"), "exo help lists the cmdlets: {exo_help}");
}

#[test]
fn init_creates_the_organisation_once() {
    let cli = cli();
    cli.run(&["mailbox", "list"]).fails_with(1, "there is no Mailroom data in");
    let run = cli
        .run_with_stdin(
            &["init", "--domain", "Contoso.com", "--admin", "admin@contoso.com", "--password-stdin"],
            "Admin-pass-123\n",
        )
        .ok();
    assert!(run.stdout.contains("accepted domain contoso.com"), "{}", run.stdout);
    assert!(cli.data().join("mailroom.db").exists());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(cli.data()).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700, "the data directory is private");
        let mode = std::fs::metadata(cli.data().join("mailroom.db")).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "the database is private");
    }
    let admin = cli.run(&["--json", "user", "show", "admin"]).ok().json_array();
    assert_eq!(admin[0]["Roles"][0], "global-admin");
    cli.run(&["init", "--domain", "contoso.com"]).fails_with(1, "already holds a Mailroom organisation");
    // Every listener init enables is on loopback until the admin opens it.
    let config = std::fs::read_to_string(cli.data().join("mailroom.toml")).unwrap();
    for line in ["smtp = \"127.0.0.1:25\"", "imap = \"127.0.0.1:143\"", "imaps = \"127.0.0.1:993\""] {
        assert!(config.contains(line), "{line} in:\n{config}");
    }
    assert!(!config.lines().any(|l| l.starts_with("imap") && l.contains("0.0.0.0")), "{config}");
    assert!(run.stdout.contains("listen on 127.0.0.1 only"), "{}", run.stdout);
}

#[test]
fn init_opens_the_listeners_only_when_asked() {
    let cli = cli();
    let run = cli.run(&["init", "--domain", "contoso.com", "--listen-address", "0.0.0.0"]).ok();
    let config = std::fs::read_to_string(cli.data().join("mailroom.toml")).unwrap();
    assert!(config.contains("smtp = \"0.0.0.0:25\""), "{config}");
    assert!(config.contains("imaps = \"0.0.0.0:993\""), "{config}");
    assert!(config.contains("submission = \"off\""), "{config}");
    assert!(run.stdout.contains("will listen on 0.0.0.0"), "{}", run.stdout);
    cli.run(&["init", "--domain", "fabrikam.com", "--listen-address", "everywhere"])
        .fails_with(2, "--listen-address");
}

#[test]
fn init_refuses_bad_input() {
    let cli = cli();
    cli.run(&["init", "--domain", "not a domain"]).fails_with(1, "is not a valid domain name");
    cli.run(&["init"]).fails_with(2, "--domain");
    cli.run(&["init", "--domain", "contoso.com", "--admin", "admin@contoso.com"])
        .fails_with(2, "--password-stdin");
    cli.run_with_stdin(
        &["init", "--domain", "contoso.com", "--admin", "admin@contoso.com", "--password-stdin"],
        "",
    )
    .fails_with(1, "no password on standard input");
    cli.run_with_stdin(
        &["init", "--domain", "contoso.com", "--admin", "admin@fabrikam.com", "--password-stdin"],
        "Admin-pass-123\n",
    )
    .fails_with(1, "must be in the domain being created");
}

#[test]
fn a_refused_init_leaves_nothing_behind() {
    let cli = cli();
    cli.run_with_stdin(
        &["init", "--domain", "contoso.com", "--admin", "admin@contoso.com", "--password-stdin"],
        "weak\n",
    )
    .fails_with(1, "The password must be at least 8 characters long.");
    assert!(!cli.data().exists(), "no half-made data directory");
    cli.run_with_stdin(
        &["init", "--domain", "contoso.com", "--admin", "admin@fabrikam.com", "--password-stdin"],
        "Admin-pass-123\n",
    )
    .fails_with(1, "must be in the domain being created (contoso.com)");
    assert!(!cli.data().exists());
    cli.init_contoso();
}

#[test]
fn init_never_takes_over_a_directory_in_use() {
    let cli = cli();
    std::fs::create_dir_all(cli.data()).unwrap();
    std::fs::write(cli.data().join("notes.txt"), "mine").unwrap();
    cli.run(&["init", "--domain", "contoso.com"]).fails_with(1, "exists and isn't empty");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(cli.data()).unwrap().permissions().mode() & 0o777;
        assert_ne!(mode, 0o700, "left as it was");
    }
}

#[test]
fn data_directory_comes_from_the_environment_too() {
    let cli = cli();
    let dir = cli.root().join("from-env");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_mailroom"))
        .args(["init", "--domain", "contoso.com"])
        .env("MAILROOM_DATA", &dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(dir.join("mailroom.db").exists());
}

#[test]
fn domains() {
    let cli = org();
    cli.run(&["domain", "add", "fabrikam.com"]).ok();
    cli.run(&["domain", "add", "FABRIKAM.com"]).fails_with(1, "already an accepted domain");
    cli.run(&["domain", "default", "fabrikam.com"]).ok();
    cli.run(&["domain", "default", "nowhere.com"]).fails_with(1, "couldn't be found");
    let list = cli.run(&["--json", "domain", "list"]).ok().json_array();
    assert_eq!(list.len(), 2);
    assert_eq!(list.iter().find(|d| d["Default"] == true).unwrap()["DomainName"], "fabrikam.com");
    // New addresses now default to fabrikam.com.
    let created = cli.run(&["--json", "mailbox", "add", "--shared", "Support"]).ok().json_array();
    assert_eq!(created[0]["PrimarySmtpAddress"], "Support@fabrikam.com");
}

#[test]
fn the_admin_center_flow_for_a_shared_mailbox() {
    let cli = org();
    add_user(&cli, "alice@contoso.com");
    add_user(&cli, "bob@contoso.com");
    let out = cli.run(&["mailbox", "add", "--shared", "Sales Department"]).ok();
    assert!(
        out.stdout.contains("Created the shared mailbox Sales Department <SalesDepartment@contoso.com>."),
        "{}",
        out.stdout
    );

    let added =
        cli.run(&["--json", "mailbox", "member", "add", "sales department", "alice", "bob@contoso.com"]).ok();
    assert!(added.json_array().is_empty(), "one JSON document: {}", added.stdout);
    let members = cli.run(&["--json", "mailbox", "member", "list", "SalesDepartment"]).ok().json_array();
    assert_eq!(members.len(), 2);
    assert!(members.iter().all(|m| m["SendAs"] == true && m["AutoMapping"] == true), "{members:?}");
    let perms = cli.run(&["--json", "exo", "Get-RecipientPermission SalesDepartment"]).ok().json_array();
    assert_eq!(perms.len(), 2, "members hold Send As");

    cli.run(&["mailbox", "sent-items", "SalesDepartment", "--send-as", "on", "--send-on-behalf", "on"]).ok();
    cli.run(&["mailbox", "forward", "SalesDepartment", "--to", "archive@fabrikam.com", "--keep-copy"]).ok();
    cli.run(&[
        "mailbox",
        "quota",
        "SalesDepartment",
        "--warn",
        "10GB",
        "--prohibit-send",
        "11GB",
        "--prohibit-send-receive",
        "12 GB",
    ])
    .ok();
    cli.run(&["mailbox", "auto-reply", "SalesDepartment", "--state", "on", "--internal", "Back soon"]).ok();
    let show = cli.run(&["--json", "mailbox", "show", "SalesDepartment"]).ok().json_array();
    let sales = &show[0];
    assert_eq!(sales["MessageCopyForSentAsEnabled"], true);
    assert_eq!(sales["MessageCopyForSendOnBehalfEnabled"], true);
    assert_eq!(sales["ForwardingSmtpAddress"], "smtp:archive@fabrikam.com");
    assert_eq!(sales["DeliverToMailboxAndForward"], true);
    assert_eq!(sales["ProhibitSendReceiveQuota"], "12 GB (12,884,901,888 bytes)");
    let reply =
        cli.run(&["--json", "exo", "Get-MailboxAutoReplyConfiguration SalesDepartment"]).ok().json_array();
    assert_eq!(reply[0]["AutoReplyState"], "Enabled");
    assert_eq!(reply[0]["InternalMessage"], "Back soon");

    // Forwarding to one of ours points at the recipient.
    cli.run(&["mailbox", "forward", "SalesDepartment", "--to", "alice@contoso.com"]).ok();
    let sales = &cli.run(&["--json", "mailbox", "show", "SalesDepartment"]).ok().json_array()[0];
    assert_eq!(sales["ForwardingAddress"], "alice");
    assert!(sales["ForwardingSmtpAddress"].is_null());
    cli.run(&["mailbox", "forward", "SalesDepartment", "--off"]).ok();

    cli.run(&["mailbox", "member", "remove", "SalesDepartment", "bob"]).ok();
    cli.run(&["mailbox", "member", "remove", "SalesDepartment", "bob"])
        .fails_with(1, "bob@contoso.com is not a member of Sales Department");
    let members = cli.run(&["--json", "mailbox", "member", "list", "SalesDepartment"]).ok().json_array();
    assert_eq!(members.len(), 1);
}

#[test]
fn mailbox_errors_name_what_to_fix() {
    let cli = org();
    add_user(&cli, "alice@contoso.com");
    cli.run(&["mailbox", "add", "Sales"]).fails_with(2, "--shared");
    cli.run(&["mailbox", "add", "--shared", "Sales"]).ok();
    cli.run(&["mailbox", "add", "--shared", "Sales"])
        .fails_with(1, "The name \"Sales\" is already being used.");
    cli.run(&["mailbox", "add", "--shared", "Sales2", "--address", "sales@contoso.com"])
        .fails_with(1, "The proxy address \"SMTP:sales@contoso.com\" is already being used by the proxy addresses of \"Sales\".");
    cli.run(&["mailbox", "add", "--shared", "X", "--address", "bad address"])
        .fails_with(1, "is not a valid email address");
    cli.run(&["mailbox", "member", "add", "Sales", "partner@fabrikam.com"])
        .fails_with(1, "is outside your organization");
    cli.run(&["mailbox", "member", "add", "nobody", "alice"]).fails_with(1, "'nobody' couldn't be found");
    cli.run(&["mailbox", "quota", "Sales", "--warn", "60GB"]).fails_with(1, "must be less than or equal to");
    cli.run(&["mailbox", "quota", "Sales", "--warn", "much"]).fails_with(1, "isn't a valid size");
    cli.run(&["mailbox", "quota", "Sales"]).fails_with(1, "say what to change");
    cli.run(&["mailbox", "auto-reply", "Sales", "--state", "scheduled"])
        .fails_with(1, "needs both StartTime and EndTime");
    cli.run(&["mailbox", "forward", "Sales"]).fails_with(2, "--to");
    cli.run(&["mailbox", "forward", "Sales", "--to", "sales@contoso.com"])
        .fails_with(1, "A mailbox can't forward to itself.");
    cli.run(&["mailbox", "grant", "Sales", "alice", "--right", "everything"])
        .fails_with(2, "invalid value 'everything'");
}

#[test]
fn grants_and_permissions() {
    let cli = org();
    add_user(&cli, "alice@contoso.com");
    cli.run(&["group", "add", "Team", "--security", "--member", "alice"]).ok();
    cli.run(&["mailbox", "add", "--shared", "Info"]).ok();
    cli.run(&["mailbox", "grant", "Info", "Team", "--right", "full-access"]).ok();
    cli.run(&["mailbox", "grant", "Info", "alice", "--right", "send-on-behalf"]).ok();
    cli.run(&["mailbox", "grant", "Info", "alice", "--right", "full-access", "--no-automap"]).ok();
    let perms = cli.run(&["--json", "mailbox", "permissions", "Info"]).ok().json_array();
    assert_eq!(perms.len(), 3);
    let alice_full =
        perms.iter().find(|p| p["User"] == "alice@contoso.com" && p["AccessRights"] == "FullAccess").unwrap();
    assert_eq!(alice_full["AutoMapping"], false);
    let behalf = cli.run(&["--json", "mailbox", "show", "Info"]).ok().json_array();
    assert_eq!(behalf[0]["GrantSendOnBehalfTo"][0], "alice");
    cli.run(&["mailbox", "revoke", "Info", "alice", "--right", "send-on-behalf"]).ok();
    cli.run(&["mailbox", "revoke", "Info", "alice", "--right", "send-on-behalf"])
        .fails_with(1, "has no SendOnBehalf on Info");
    cli.run(&["group", "add", "Newsletter", "--member", "alice"]).ok();
    cli.run(&["mailbox", "grant", "Info", "Newsletter", "--right", "full-access"])
        .fails_with(1, "it is a distribution group");
    cli.run(&["mailbox", "automap-groups", "Info", "on"]).ok();
    assert_eq!(cli.run(&["--json", "mailbox", "show", "Info"]).ok().json_array()[0]["AutoMapGroups"], true);
    // Recoverable Items (beyond Exchange): a NoPurge grant, and how long deletes are kept.
    cli.run(&["mailbox", "grant", "Info", "Team", "--right", "full-access", "--no-purge"]).ok();
    let perms = cli.run(&["--json", "mailbox", "permissions", "Info"]).ok().json_array();
    let team = perms.iter().find(|p| p["User"] == "Team").unwrap();
    assert_eq!(team["NoPurge"], true, "{perms:?}");
    cli.run(&["mailbox", "grant", "Info", "alice", "--right", "send-as", "--no-purge"])
        .fails_with(1, "NoPurge goes with Full Access only");
    cli.run(&["mailbox", "retain-deleted", "Info", "30"]).ok();
    assert_eq!(
        cli.run(&["--json", "mailbox", "show", "Info"]).ok().json_array()[0]["RetainDeletedItemsFor"],
        "30.00:00:00"
    );
    cli.run(&["mailbox", "retain-deleted", "Info", "forever"]).fails_with(1, "isn't a time span");
    cli.run(&["mailbox", "quota", "Info", "--recoverable-items", "10GB"]).ok();
    assert_eq!(
        cli.run(&["--json", "mailbox", "show", "Info"]).ok().json_array()[0]["RecoverableItemsQuota"],
        "10 GB (10,737,418,240 bytes)"
    );
}

#[test]
fn users_passwords_blocking_and_roles() {
    let cli = org();
    add_user(&cli, "alice@contoso.com");
    cli.run_with_stdin(
        &["user", "add", "alice2@contoso.com", "--name", "alice", "--password-stdin"],
        "User-pass-123\n",
    )
    .fails_with(1, "The name \"alice\" is already being used.");
    cli.run_with_stdin(&["user", "add", "weak@contoso.com", "--password-stdin"], "weak\n")
        .fails_with(1, "The password must be at least 8 characters long.");
    cli.run(&["user", "add", "nopass@contoso.com"]).fails_with(2, "--password-stdin");
    cli.run_with_stdin(&["user", "password", "alice", "--password-stdin"], "Another-pass-1\n").ok();
    cli.run(&["user", "block", "alice"]).ok();
    assert_eq!(cli.run(&["--json", "user", "show", "alice"]).ok().json_array()[0]["AccountDisabled"], true);
    cli.run(&["user", "unblock", "alice"]).ok();
    cli.run(&["user", "roles", "alice", "--role", "exchange-admin"]).ok();
    assert_eq!(
        cli.run(&["--json", "user", "show", "alice"]).ok().json_array()[0]["Roles"][0],
        "exchange-admin"
    );
    cli.run(&["user", "roles", "alice", "--role", "helpdesk"]).fails_with(2, "invalid value 'helpdesk'");
    let users = cli.run(&["--json", "user", "list"]).ok().json_array();
    assert_eq!(users.len(), 2);
    cli.run(&["mailbox", "add", "--shared", "Info"]).ok();
    cli.run(&["user", "show", "Info"]).fails_with(1, "couldn't be found");
    cli.run(&["user", "remove", "alice"]).ok();
    cli.run(&["user", "show", "alice"]).fails_with(1, "couldn't be found");
}

#[test]
fn conversion_keeps_permissions() {
    let cli = org();
    add_user(&cli, "alice@contoso.com");
    add_user(&cli, "bob@contoso.com");
    cli.run(&["mailbox", "member", "add", "alice", "bob"]).ok();
    let out = cli.run(&["mailbox", "convert", "alice", "--to", "shared"]).ok();
    assert!(
        out.stdout.contains("alice is now a shared mailbox; its mail, calendar and permissions are kept."),
        "{}",
        out.stdout
    );
    assert_eq!(cli.run(&["--json", "mailbox", "member", "list", "alice"]).ok().json_array().len(), 1);
    cli.run(&["mailbox", "convert", "alice", "--to", "user"])
        .fails_with(1, "A password is required to convert \"alice\"");
    cli.run(&["user", "unblock", "alice"]).fails_with(1, "Sign-in can't be allowed for the shared mailbox");
    cli.run_with_stdin(
        &["mailbox", "convert", "alice", "--to", "user", "--password-stdin"],
        "Back-again-123\n",
    )
    .ok();
    let alice = cli.run(&["--json", "mailbox", "show", "alice"]).ok().json_array();
    assert_eq!(alice[0]["RecipientTypeDetails"], "UserMailbox");
    assert_eq!(alice[0]["AccountDisabled"], false);
}

#[test]
fn addresses() {
    let cli = org();
    cli.run(&["mailbox", "add", "--shared", "Sales"]).ok();
    cli.run(&["mailbox", "address", "add", "Sales", "salg@contoso.com"]).ok();
    cli.run(&["mailbox", "address", "add", "Sales", "team@contoso.com", "--primary"]).ok();
    let sales = cli.run(&["--json", "mailbox", "show", "salg@contoso.com"]).ok().json_array();
    assert_eq!(sales[0]["PrimarySmtpAddress"], "team@contoso.com");
    cli.run(&["mailbox", "address", "remove", "Sales", "team@contoso.com"]).fails_with(1, "can't be removed");
    cli.run(&["mailbox", "address", "remove", "Sales", "salg@contoso.com"]).ok();
    cli.run(&["mailbox", "address", "add", "Sales", "x@fabrikam.com"])
        .fails_with(1, "isn't an accepted domain");
}

#[test]
fn groups() {
    let cli = org();
    add_user(&cli, "alice@contoso.com");
    cli.run(&["group", "add", "Outer", "--security"]).ok();
    cli.run(&["group", "add", "Inner", "--security", "--member", "alice"]).ok();
    cli.run(&["group", "member", "add", "Outer", "Inner"]).ok();
    cli.run(&["group", "member", "add", "Inner", "Outer"]).fails_with(1, "already a member of");
    let shown = cli.run(&["--json", "group", "show", "Outer"]).ok().json_array();
    assert_eq!(shown[0]["Members"][0], "Inner");
    assert_eq!(cli.run(&["--json", "group", "list"]).ok().json_array().len(), 2);
    cli.run(&["group", "member", "remove", "Outer", "Inner"]).ok();
    cli.run(&["group", "member", "remove", "Outer", "Inner"]).fails_with(1, "Inner is not a member of Outer");
    cli.run(&["group", "remove", "Outer"]).ok();
    cli.run(&["group", "show", "Outer"]).fails_with(1, "couldn't be found");
    cli.run(&["group", "member", "list", "alice"]).fails_with(1, "couldn't be found");
}

#[test]
fn quickstart_creates_a_demo_organisation_once() {
    let cli = cli();
    let run = cli.run(&["quickstart", "--domain", "example.com", "--no-serve"]).ok();
    assert!(run.stdout.contains("alice@example.com"), "{}", run.stdout);
    assert!(run.stdout.contains("info@example.com"), "{}", run.stdout);
    let members = cli.run(&["--json", "mailbox", "member", "list", "info"]).ok().json_array();
    assert_eq!(members.len(), 2);
    let admin = cli.run(&["--json", "user", "show", "admin@example.com"]).ok().json_array();
    assert_eq!(admin[0]["Roles"][0], "global-admin");
    let again = cli.run(&["quickstart", "--no-serve"]).ok();
    assert!(again.stdout.contains("Using the existing organisation"), "{}", again.stdout);
}
