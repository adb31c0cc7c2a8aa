//! NOTIFY (RFC 5465) through a raw client: what happens in other folders,
//! in shared mailboxes and to the folder list reaches a session between
//! commands, without polling; the selected folder's events carry the FETCH
//! items the client chose; malformed and unsupported requests are refused.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod common;

use common::{Client, listen, world};
use tokio::io::AsyncWriteExt;

const SHARED_INBOX: &str = "\"Shared/info@contoso.com/INBOX\"";

/// Reads lines until one starts with `prefix`; returns it and what came before.
async fn until(client: &mut Client, prefix: &str) -> (String, Vec<String>) {
    let mut before = Vec::new();
    loop {
        let line = client.line().await;
        if line.starts_with(prefix) {
            return (line, before);
        }
        before.push(line);
    }
}

fn status_values(line: &str) -> String {
    line.rsplit_once(" (").map(|(_, v)| v.trim_end_matches(')').to_string()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_folders_and_shared_mailboxes_are_reported_between_commands() {
    let world = world().await;
    let addr = listen(world.imap.clone()).await;
    let mut alice = Client::login(addr, "alice@contoso.com", "Alice-pass-123").await;
    let mut carol = Client::signed_in(addr, "carol@contoso.com", "Carol-pass-123").await;

    // STATUS first: the state of every watched folder, then OK.
    let answer = alice
        .cmd(
            "n",
            "NOTIFY SET STATUS (inboxes (MessageNew MessageExpunge)) (subtree \"Shared/info@contoso.com\" (MessageNew MessageExpunge FlagChange))",
        )
        .await;
    assert_eq!(answer.last().unwrap(), "n OK NOTIFY completed", "{answer:?}");
    let statuses: Vec<&String> = answer.iter().filter(|l| l.starts_with("* STATUS ")).collect();
    assert_eq!(statuses.len(), 1 + 7, "her INBOX and the shared mailbox's seven folders: {answer:?}");
    let own = answer.iter().find(|l| l.starts_with("* STATUS \"INBOX\"")).unwrap();
    assert!(own.contains("MESSAGES 0 UIDNEXT 1 UIDVALIDITY "), "{own}");
    assert!(!own.contains("UNSEEN"), "no FlagChange asked for her INBOX: {own}");
    let shared = answer.iter().find(|l| l.starts_with(&format!("* STATUS {SHARED_INBOX}"))).unwrap();
    assert!(
        shared.contains("MESSAGES 0 UIDNEXT 1 UIDVALIDITY ") && shared.ends_with("UNSEEN 0)"),
        "{shared}"
    );

    // A delivery to the shared mailbox: told at once, no command sent.
    world.deliver("info@contoso.com", "Subject: urgent\r\n\r\nplease call\r\n").await;
    let line = alice.line().await;
    assert!(
        line.starts_with(&format!("* STATUS {SHARED_INBOX} (MESSAGES 1 UIDNEXT 2 UIDVALIDITY ")),
        "{line}"
    );
    assert!(line.ends_with("UNSEEN 1)"), "{line}");

    // Another member reads it: the unseen count follows (FlagChange).
    carol.cmd("o", "NOOP").await;
    carol.cmd("f", "STORE 1 +FLAGS (\\Seen)").await;
    let line = alice.line().await;
    assert!(line.starts_with(&format!("* STATUS {SHARED_INBOX} (MESSAGES 1 ")), "{line}");
    assert!(line.ends_with("UNSEEN 0)"), "{line}");

    // Her own Inbox.
    world.deliver("alice@contoso.com", "Subject: hello\r\n\r\nhi\r\n").await;
    let line = alice.line().await;
    assert!(line.starts_with("* STATUS \"INBOX\" (MESSAGES 1 UIDNEXT 2 UIDVALIDITY "), "{line}");

    // An expunge by the other member.
    carol.cmd("d", "STORE 1 +FLAGS.SILENT (\\Deleted)").await;
    carol.cmd("e", "EXPUNGE").await;
    let (line, before) = until(&mut alice, &format!("* STATUS {SHARED_INBOX} (MESSAGES 0 ")).await;
    assert!(before.is_empty(), "flagging \\Deleted changes no counter she asked for: {before:?}");
    assert!(line.contains("UIDNEXT 2"), "{line}");

    // With CONDSTORE enabled, HIGHESTMODSEQ comes along (RFC 5465 §5.2).
    alice.cmd("c", "ENABLE CONDSTORE").await;
    world.deliver("info@contoso.com", "Subject: second\r\n\r\nagain\r\n").await;
    let (line, _) = until(&mut alice, &format!("* STATUS {SHARED_INBOX} (MESSAGES 1 UIDNEXT 3")).await;
    assert!(line.contains("MESSAGES 1 UIDNEXT 3") && line.contains("HIGHESTMODSEQ "), "{line}");

    // Her own APPEND to a watched folder isn't told back to her; the next
    // change by someone else is.
    let appended = alice.cmd("a", &format!("APPEND {SHARED_INBOX} {{14+}}\r\nSubject: x\r\n\r\n")).await;
    assert!(appended.last().unwrap().starts_with("a OK [APPENDUID"), "{appended:?}");
    world.deliver("info@contoso.com", "Subject: third\r\n\r\nthree\r\n").await;
    let line = alice.line().await;
    assert!(status_values(&line).starts_with("MESSAGES 3 UIDNEXT 5"), "only the delivery's STATUS: {line}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_selected_folder_reports_with_the_chosen_fetch_items() {
    let world = world().await;
    let addr = listen(world.imap.clone()).await;
    let mut alice = Client::signed_in(addr, "alice@contoso.com", "Alice-pass-123").await;
    let mut carol = Client::signed_in(addr, "carol@contoso.com", "Carol-pass-123").await;
    let answer = alice
        .cmd(
            "n",
            "NOTIFY SET (selected (MessageNew (UID BODY.PEEK[HEADER.FIELDS (SUBJECT)]) MessageExpunge FlagChange))",
        )
        .await;
    assert_eq!(answer, ["n OK NOTIFY completed"]);

    world
        .deliver("info@contoso.com", "Subject: urgent\r\nFrom: x@fabrikam.example\r\n\r\nplease call\r\n")
        .await;
    assert_eq!(alice.line().await, "* 1 EXISTS");
    assert_eq!(alice.line().await, "* 1 RECENT");
    assert_eq!(alice.line().await, "* 1 FETCH (UID 1 BODY[HEADER.FIELDS (SUBJECT)] {19}");
    assert_eq!(alice.line().await, "Subject: urgent");
    assert_eq!(alice.line().await, "");
    assert_eq!(alice.line().await, ")");
    // PEEK: still unseen.
    let flags = alice.cmd("f", "FETCH 1 (FLAGS)").await;
    assert_eq!(flags[0], "* 1 FETCH (FLAGS (\\Recent))");

    // Another member's flag change, with the UID (RFC 5465 §5.3).
    carol.cmd("o", "NOOP").await;
    carol.cmd("s", "STORE 1 +FLAGS (\\Flagged)").await;
    assert_eq!(alice.line().await, "* 1 FETCH (UID 1 FLAGS (\\Recent \\Flagged))");
    // And an expunge, between commands: MessageExpunge under SELECTED.
    carol.cmd("d", "STORE 1 +FLAGS.SILENT (\\Deleted)").await;
    assert_eq!(alice.line().await, "* 1 FETCH (UID 1 FLAGS (\\Recent \\Flagged \\Deleted))");
    carol.cmd("e", "EXPUNGE").await;
    assert_eq!(alice.line().await, "* 1 EXPUNGE");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn selected_delayed_holds_expunges_for_a_command() {
    let world = world().await;
    let addr = listen(world.imap.clone()).await;
    world.deliver("info@contoso.com", "Subject: one\r\n\r\n1\r\n").await;
    let mut alice = Client::signed_in(addr, "alice@contoso.com", "Alice-pass-123").await;
    let mut carol = Client::signed_in(addr, "carol@contoso.com", "Carol-pass-123").await;
    alice
        .cmd(
            "n",
            "NOTIFY SET (selected-delayed (MessageNew MessageExpunge)) (inboxes (MessageNew MessageExpunge))",
        )
        .await;
    carol.cmd("d", "STORE 1 +FLAGS.SILENT (\\Deleted)").await;
    carol.cmd("e", "EXPUNGE").await;
    // A delivery to her own INBOX after the expunge: its STATUS is the
    // next thing she hears — the expunge, earlier in the feed, is held.
    world.deliver("alice@contoso.com", "Subject: mine\r\n\r\nm\r\n").await;
    let line = alice.line().await;
    assert!(line.starts_with("* STATUS \"INBOX\" (MESSAGES 1 "), "{line}");
    // New mail in the selected folder still comes at once, numbered after
    // the held message.
    world.deliver("info@contoso.com", "Subject: two\r\n\r\n2\r\n").await;
    assert_eq!(alice.line().await, "* 2 EXISTS");
    assert_eq!(alice.line().await, "* 2 RECENT");
    // A command that may report expunges does.
    let noop = alice.cmd("o", "NOOP").await;
    assert_eq!(noop, ["* 1 EXPUNGE", "o OK NOOP completed"]);
    let fetched = alice.cmd("f", "FETCH 1 (BODY.PEEK[HEADER.FIELDS (SUBJECT)])").await;
    assert!(fetched.iter().any(|l| l == "Subject: two"), "{fetched:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flag_changes_not_asked_for_wait_for_a_noop() {
    let world = world().await;
    let addr = listen(world.imap.clone()).await;
    world.deliver("info@contoso.com", "Subject: one\r\n\r\n1\r\n").await;
    let mut alice = Client::signed_in(addr, "alice@contoso.com", "Alice-pass-123").await;
    let mut carol = Client::signed_in(addr, "carol@contoso.com", "Carol-pass-123").await;
    alice.cmd("n", "NOTIFY SET (selected (MessageNew MessageExpunge))").await;
    carol.cmd("s", "STORE 1 +FLAGS (\\Flagged)").await;
    // The next event she asked for comes without the flag change before it.
    world.deliver("info@contoso.com", "Subject: two\r\n\r\n2\r\n").await;
    assert_eq!(alice.line().await, "* 2 EXISTS");
    assert_eq!(alice.line().await, "* 2 RECENT");
    // Asked, she is told.
    let noop = alice.cmd("o", "NOOP").await;
    assert!(noop[0].starts_with("* 1 FETCH (UID 1 FLAGS (") && noop[0].contains("\\Flagged"), "{noop:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_selected_events_idle_stays_quiet_and_noop_still_reports() {
    let world = world().await;
    let addr = listen(world.imap.clone()).await;
    let mut alice = Client::signed_in(addr, "alice@contoso.com", "Alice-pass-123").await;
    assert_eq!(alice.cmd("n", "NOTIFY NONE").await, ["n OK NOTIFY completed"]);
    alice.idle().await;
    world.deliver("info@contoso.com", "Subject: urgent\r\n\r\nplease call\r\n").await;
    // The delivery is committed before DONE is sent: an idler would have
    // heard of it, this one asked not to (RFC 5465 §3.1).
    alice.write.write_all(b"DONE\r\n").await.unwrap();
    assert_eq!(alice.line().await, "i OK IDLE terminated");
    // A NOOP is a question: it is answered.
    let noop = alice.cmd("o", "NOOP").await;
    assert_eq!(noop[0], "* 1 EXISTS", "{noop:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn folders_created_renamed_subscribed_and_deleted_elsewhere_are_listed() {
    let world = world().await;
    let addr = listen(world.imap.clone()).await;
    let mut phone = Client::login(addr, "alice@contoso.com", "Alice-pass-123").await;
    let mut laptop = Client::login(addr, "alice@contoso.com", "Alice-pass-123").await;
    let answer = phone.cmd("n", "NOTIFY SET (personal (MailboxName SubscriptionChange))").await;
    assert_eq!(answer, ["n OK NOTIFY completed"]);

    // Her own CREATE isn't told back to her (RFC 5465 §5); the laptop's
    // is, even when it happens around her own.
    laptop.cmd("x", "CREATE Elsewhere").await;
    let mut heard = phone.cmd("c", "CREATE Mine").await;
    let elsewhere = "* LIST (\\HasNoChildren) \"/\" \"Elsewhere\"".to_string();
    if !heard.contains(&elsewhere) {
        heard.push(phone.line().await);
    }
    assert!(heard.contains(&elsewhere), "{heard:?}");
    assert!(!heard.iter().any(|l| l.contains("\"Mine\"")), "{heard:?}");
    laptop.cmd("c", "CREATE Projects").await;
    // The next line is the laptop's: nothing about "Mine" came before it.
    assert_eq!(phone.line().await, "* LIST (\\HasNoChildren) \"/\" \"Projects\"");
    laptop.cmd("r", "RENAME Projects Plans").await;
    assert_eq!(phone.line().await, "* LIST (\\HasNoChildren) \"/\" \"Plans\" (\"OLDNAME\" (\"Projects\"))");
    laptop.cmd("s", "SUBSCRIBE Plans").await;
    assert_eq!(phone.line().await, "* LIST (\\HasNoChildren \\Subscribed) \"/\" \"Plans\"");
    // A child changes its parent's attributes.
    laptop.cmd("c", "CREATE Plans/2027").await;
    let mut lines = [phone.line().await, phone.line().await];
    lines.sort();
    assert_eq!(
        lines,
        [
            "* LIST (\\HasChildren \\Subscribed) \"/\" \"Plans\"",
            "* LIST (\\HasNoChildren) \"/\" \"Plans/2027\"",
        ]
    );
    laptop.cmd("d", "DELETE Plans/2027").await;
    let mut lines = [phone.line().await, phone.line().await];
    lines.sort();
    assert_eq!(
        lines,
        [
            "* LIST (\\HasNoChildren \\Subscribed) \"/\" \"Plans\"",
            "* LIST (\\NonExistent) \"/\" \"Plans/2027\"",
        ]
    );
    laptop.cmd("u", "UNSUBSCRIBE Plans").await;
    assert_eq!(phone.line().await, "* LIST (\\HasNoChildren) \"/\" \"Plans\"");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_grant_and_its_removal_reach_the_member_as_folders() {
    let world = world().await;
    let addr = listen(world.imap.clone()).await;
    let mut dave = Client::login(addr, "dave@contoso.com", "Dave-pass-123").await;
    let answer = dave.cmd("n", "NOTIFY SET (subtree Shared (MailboxName MessageNew MessageExpunge))").await;
    assert_eq!(answer, ["n OK NOTIFY completed"]);
    let info = world.mailbox("info@contoso.com").await;
    let directory = world.mail.directory();
    let id = directory.resolve("dave@contoso.com").await.unwrap().id;
    let admin = mailroom_core::directory::Actor::System;
    directory.add_member(&admin, info, id, true).await.unwrap();
    // The Shared parent, the mailbox's parent and its seven folders, all
    // subscribed (automapped), before any command.
    let mut lines = Vec::new();
    while lines.len() < 9 {
        lines.push(dave.line().await);
    }
    let inbox = format!("* LIST (\\HasNoChildren \\Subscribed) \"/\" {SHARED_INBOX}");
    assert!(lines.contains(&inbox), "{lines:#?}");
    assert!(
        lines.contains(&"* LIST (\\Noselect \\HasChildren \\Subscribed) \"/\" \"Shared\"".to_string()),
        "{lines:#?}"
    );
    // Now watched: a delivery there is told too.
    world.deliver("info@contoso.com", "Subject: urgent\r\n\r\nplease call\r\n").await;
    let line = dave.line().await;
    assert!(line.starts_with(&format!("* STATUS {SHARED_INBOX} (MESSAGES 1 ")), "{line}");
    // Removed: every name goes.
    directory.remove_member(&admin, info, id).await.unwrap();
    let mut lines = Vec::new();
    while lines.len() < 9 {
        lines.push(dave.line().await);
    }
    assert!(lines.iter().all(|l| l.starts_with("* LIST (\\NonExistent) ")), "{lines:#?}");
    assert!(lines.contains(&format!("* LIST (\\NonExistent) \"/\" {SHARED_INBOX}")), "{lines:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_and_unsupported_requests_are_refused() {
    let world = world().await;
    let addr = listen(world.imap.clone()).await;
    let mut anonymous = Client::login(addr, "nobody@contoso.com", "wrong").await;
    let answer = anonymous.cmd("a", "NOTIFY SET (personal (MessageNew MessageExpunge))").await;
    assert!(answer.last().unwrap().starts_with("a BAD Sign in first"), "{answer:?}");

    let mut alice = Client::login(addr, "alice@contoso.com", "Alice-pass-123").await;
    let answer = alice.cmd("b", "NOTIFY SET (personal (MessageNew MessageExpunge AnnotationChange))").await;
    assert_eq!(
        answer.last().unwrap(),
        "b NO [BADEVENT (MessageNew MessageExpunge FlagChange MailboxName SubscriptionChange)] Mailroom doesn't report AnnotationChange"
    );
    for (tag, bad) in [
        ("c", "NOTIFY SET (personal (MessageNew))"),
        ("d", "NOTIFY SET (personal (FlagChange))"),
        ("e", "NOTIFY SET (selected (MailboxName))"),
        ("f", "NOTIFY SET (inboxes (MessageNew (UID) MessageExpunge))"),
        ("g", "NOTIFY SET (selected (MessageNew (FROB) MessageExpunge))"),
        ("h", "NOTIFY SET (everything (MessageNew MessageExpunge))"),
        ("i", "NOTIFY FROB"),
    ] {
        let answer = alice.cmd(tag, bad).await;
        assert!(answer.last().unwrap().starts_with(&format!("{tag} BAD ")), "{bad}: {answer:?}");
    }
    // Still usable: a name that doesn't exist is ignored (RFC 5465 §6).
    let answer =
        alice.cmd("j", "NOTIFY SET STATUS (mailboxes (Nowhere INBOX) (MessageNew MessageExpunge))").await;
    assert_eq!(answer.len(), 2, "{answer:?}");
    assert!(answer[0].starts_with("* STATUS \"INBOX\" "), "{answer:?}");
    let caps = alice.cmd("k", "CAPABILITY").await;
    assert!(caps[0].contains(" NOTIFY"), "{caps:?}");
}
