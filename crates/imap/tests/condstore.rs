//! CONDSTORE (RFC 7162): HIGHESTMODSEQ on SELECT, MODSEQ per message,
//! FETCH CHANGEDSINCE, STORE UNCHANGEDSINCE with MODIFIED — what lets a
//! client resynchronise a shared folder that several members change.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod common;

use common::{Client, listen, world};

fn number(line: &str, after: &str) -> u64 {
    let rest = &line[line.find(after).unwrap() + after.len()..];
    rest.chars().take_while(char::is_ascii_digit).collect::<String>().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn modseqs_changedsince_and_unchangedsince() {
    let world = world().await;
    world.deliver("info@contoso.com", "Subject: one\r\n\r\n1\r\n").await;
    world.deliver("info@contoso.com", "Subject: two\r\n\r\n2\r\n").await;
    let addr = listen(world.imap.clone()).await;
    let mut alice = Client::login(addr, "alice@contoso.com", "Alice-pass-123").await;
    assert_eq!(alice.cmd("e", "ENABLE CONDSTORE").await, ["* ENABLED CONDSTORE", "e OK ENABLE completed"]);
    let selected = alice.cmd("s", "SELECT \"Shared/info@contoso.com/INBOX\" (CONDSTORE)").await;
    let highest = selected.iter().find(|l| l.contains("HIGHESTMODSEQ")).unwrap();
    let start = number(highest, "HIGHESTMODSEQ ");
    let fetched = alice.cmd("f", "FETCH 1:* (FLAGS)").await;
    // Recent for Alice: her SELECT was the first to see them (RFC 3501 §2.3.2).
    assert!(
        fetched[0].starts_with("* 1 FETCH (FLAGS (\\Recent) MODSEQ (") && fetched.len() == 3,
        "{fetched:?}"
    );

    // Carol changes message 2; Alice's conditional store on both loses on 2.
    let mut carol = Client::signed_in(addr, "carol@contoso.com", "Carol-pass-123").await;
    carol.cmd("c", "STORE 2 +FLAGS (\\Flagged)").await;
    let stored = alice.cmd("u", &format!("STORE 1:2 (UNCHANGEDSINCE {start}) +FLAGS (\\Seen)")).await;
    assert!(stored[0].starts_with("* 1 FETCH (FLAGS (\\Recent \\Seen) MODSEQ ("), "{stored:?}");
    assert_eq!(stored.last().unwrap(), "u OK [MODIFIED 2] STORE completed");
    // Only what changed since `start` comes back.
    let changed = alice.cmd("g", &format!("UID FETCH 1:* (FLAGS) (CHANGEDSINCE {start})")).await;
    assert_eq!(changed.len(), 3, "both changed since: {changed:?}");
    let latest = changed[..2].iter().map(|l| number(l, "MODSEQ (")).max().unwrap();
    let none = alice.cmd("h", &format!("FETCH 1:* (FLAGS) (CHANGEDSINCE {latest})")).await;
    assert_eq!(none, ["h OK FETCH completed"]);
    let status = alice.cmd("t", "STATUS \"Shared/info@contoso.com/INBOX\" (HIGHESTMODSEQ)").await;
    assert_eq!(number(&status[0], "HIGHESTMODSEQ "), latest);

    // RFC 7162 §3.1.5: a search with a MODSEQ criterion names the highest
    // MODSEQ of what it found, in SEARCH and in ESEARCH; none when nothing is.
    let found = alice.cmd("m", &format!("SEARCH MODSEQ {start}")).await;
    assert_eq!(found[0], format!("* SEARCH 1 2 (MODSEQ {latest})"));
    let esearch = alice.cmd("n", &format!("SEARCH RETURN (COUNT) MODSEQ {start}")).await;
    assert!(esearch[0].ends_with(&format!("COUNT 2 MODSEQ {latest}")), "{esearch:?}");
    let nothing = alice.cmd("o", &format!("SEARCH MODSEQ {}", latest + 1)).await;
    assert_eq!(nothing[0], "* SEARCH");
    let plain = alice.cmd("p", "SEARCH ALL").await;
    assert_eq!(plain[0], "* SEARCH 1 2", "no MODSEQ without the criterion");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn qresync_tells_a_returning_client_what_vanished_and_changed() {
    let world = world().await;
    for subject in ["one", "two", "three"] {
        world.deliver("info@contoso.com", &format!("Subject: {subject}\r\n\r\nx\r\n")).await;
    }
    let addr = listen(world.imap.clone()).await;
    let shared = "\"Shared/info@contoso.com/INBOX\"";
    let mut alice = Client::login(addr, "alice@contoso.com", "Alice-pass-123").await;
    let caps = alice.cmd("c", "CAPABILITY").await;
    for cap in ["ACL", "QUOTA", "ENABLE", "CONDSTORE", "QRESYNC", "IDLE", "UIDPLUS", "MOVE"] {
        assert!(caps[0].split(' ').any(|c| c == cap), "{cap} advertised: {caps:?}");
    }
    assert_eq!(
        alice.cmd("b", &format!("SELECT {shared} (QRESYNC (1 1))")).await,
        ["b BAD QRESYNC must be enabled first"]
    );
    assert_eq!(alice.cmd("e", "ENABLE QRESYNC").await, ["* ENABLED QRESYNC", "e OK ENABLE completed"]);
    let selected = alice.cmd("s", &format!("SELECT {shared}")).await;
    let validity = number(selected.iter().find(|l| l.contains("UIDVALIDITY")).unwrap(), "UIDVALIDITY ");
    let known = number(selected.iter().find(|l| l.contains("HIGHESTMODSEQ")).unwrap(), "HIGHESTMODSEQ ");
    alice.cmd("l", "LOGOUT").await;

    // While Alice is away, Carol removes message 1 and flags message 2.
    let mut carol = Client::signed_in(addr, "carol@contoso.com", "Carol-pass-123").await;
    carol.cmd("d", "STORE 1 +FLAGS.SILENT (\\Deleted)").await;
    carol.cmd("x", "EXPUNGE").await;
    carol.cmd("f", "STORE 1 +FLAGS.SILENT (\\Flagged)").await;

    let mut alice = Client::login(addr, "alice@contoso.com", "Alice-pass-123").await;
    alice.cmd("e", "ENABLE QRESYNC").await;
    let resync = alice.cmd("s", &format!("SELECT {shared} (QRESYNC ({validity} {known} 1:3))")).await;
    assert!(resync.contains(&"* VANISHED (EARLIER) 1".to_string()), "{resync:?}");
    let changed: Vec<_> = resync.iter().filter(|l| l.contains(" FETCH (")).collect();
    assert_eq!(changed.len(), 1, "{resync:?}");
    assert!(changed[0].starts_with("* 1 FETCH (UID 2 FLAGS (\\Flagged) MODSEQ ("), "{resync:?}");
    // The same through UID FETCH (CHANGEDSINCE ... VANISHED).
    let fetched = alice.cmd("v", &format!("UID FETCH 1:* (FLAGS) (CHANGEDSINCE {known} VANISHED)")).await;
    assert_eq!(fetched[0], "* VANISHED (EARLIER) 1");
    // And an expunge now is reported by UID.
    carol.cmd("d2", "STORE 2 +FLAGS.SILENT (\\Deleted)").await;
    carol.cmd("x2", "EXPUNGE").await;
    assert_eq!(alice.cmd("n", "NOOP").await, ["* VANISHED 3", "n OK NOOP completed"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn esearch_returns_what_was_asked() {
    let world = world().await;
    for subject in ["one", "two", "three"] {
        world.deliver("info@contoso.com", &format!("Subject: {subject}\r\n\r\nx\r\n")).await;
    }
    let addr = listen(world.imap.clone()).await;
    let mut alice = Client::signed_in(addr, "alice@contoso.com", "Alice-pass-123").await;
    assert_eq!(
        alice.cmd("s1", "UID SEARCH RETURN (MIN MAX COUNT ALL) ALL").await,
        ["* ESEARCH (TAG \"s1\") UID MIN 1 MAX 3 COUNT 3 ALL 1:3", "s1 OK UID SEARCH completed"]
    );
    assert_eq!(
        alice.cmd("s2", "SEARCH RETURN () SUBJECT t").await,
        ["* ESEARCH (TAG \"s2\") ALL 2:3", "s2 OK SEARCH completed"]
    );
    assert_eq!(
        alice.cmd("s3", "SEARCH RETURN (COUNT) FLAGGED").await,
        ["* ESEARCH (TAG \"s3\") COUNT 0", "s3 OK SEARCH completed"]
    );
    assert_eq!(
        alice.cmd("s4", "SEARCH RETURN (FUZZY) ALL").await,
        ["s4 BAD Unsupported RETURN option (MIN, MAX, COUNT, ALL, SAVE, PARTIAL, UPDATE, CONTEXT)"]
    );
    assert_eq!(alice.cmd("s5", "SEARCH UNSEEN").await, ["* SEARCH 1 2 3", "s5 OK SEARCH completed"]);
    // PARTIAL: MODSEQ is the returned messages' (none past the end).
    assert_eq!(
        alice.cmd("s6", "SEARCH RETURN (PARTIAL 4:5) MODSEQ 1").await,
        ["* ESEARCH (TAG \"s6\") PARTIAL (4:5 NIL)", "s6 OK SEARCH completed"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_extended_and_list_status() {
    let world = world().await;
    world.deliver("info@contoso.com", "Subject: one\r\n\r\nx\r\n").await;
    let addr = listen(world.imap.clone()).await;
    let mut alice = Client::login(addr, "alice@contoso.com", "Alice-pass-123").await;
    let listed = alice
        .cmd(
            "l1",
            "LIST \"\" (\"INBOX\" \"Shared/info@contoso.com/INBOX\") RETURN (STATUS (MESSAGES UNSEEN))",
        )
        .await;
    assert_eq!(
        listed,
        [
            r#"* LIST (\HasNoChildren) "/" "INBOX""#,
            r#"* STATUS "INBOX" (MESSAGES 0 UNSEEN 0)"#,
            r#"* LIST (\HasNoChildren) "/" "Shared/info@contoso.com/INBOX""#,
            r#"* STATUS "Shared/info@contoso.com/INBOX" (MESSAGES 1 UNSEEN 1)"#,
            "l1 OK LIST completed",
        ]
    );
    // Automapped shared folders are subscribed; SPECIAL-USE selects the default folders.
    let subscribed = alice.cmd("l2", "LIST (SUBSCRIBED) \"\" \"Shared/*\"").await;
    assert!(
        subscribed.contains(
            &r#"* LIST (\HasNoChildren \Subscribed) "/" "Shared/info@contoso.com/INBOX""#.to_string()
        ),
        "{subscribed:?}"
    );
    let special = alice.cmd("l3", "LIST (SPECIAL-USE) \"\" \"%\"").await;
    assert_eq!(special.len(), 6, "five default folders and OK: {special:?}");
    assert!(special.iter().all(|l| !l.contains("\"INBOX\"")));
    assert_eq!(alice.cmd("l4", "LIST (SUBSCRIBED \"\" *").await, ["l4 BAD Bad selection options"]);
    assert_eq!(
        alice.cmd("l5", "LIST \"\" * RETURN (STATUS (FROB))").await,
        ["l5 BAD Unknown STATUS item FROB"]
    );
}
