//! Subscriptions are names, independent of folders (RFC 3501 §6.3.6), and
//! how LSUB and LIST-EXTENDED (RFC 5258) report them: deleted folders as
//! `\NonExistent`, parents of subscribed children as LSUB's `\Noselect` or
//! RECURSIVEMATCH's CHILDINFO; unknown options refused. Through a raw client.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod common;

use common::{Client, listen, world};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscriptions_outlive_their_folders_and_parents_are_reported() {
    let world = world().await;
    let addr = listen(world.imap.clone()).await;
    let mut alice = Client::login(addr, "alice@contoso.com", "Alice-pass-123").await;
    for (tag, command) in [
        ("c1", "CREATE Projects/Alpha"),
        ("c2", "CREATE Gone"),
        ("s1", "SUBSCRIBE Projects/Alpha"),
        ("s2", "SUBSCRIBE Gone"),
        ("s3", "SUBSCRIBE Later/Plans"),
        ("d1", "DELETE Gone"),
    ] {
        let reply = alice.cmd(tag, command).await;
        let last = reply.last().unwrap();
        // CREATE's OK carries the new folder's MAILBOXID (RFC 8474).
        assert!(last.starts_with(&format!("{tag} OK ")), "{reply:?}");
        assert!(last.ends_with(&format!(" {} completed", command.split(' ').next().unwrap())), "{reply:?}");
    }

    // The deleted folder and the never-created one stay subscribed.
    let lsub = alice.cmd("l1", "LSUB \"\" *").await;
    assert!(lsub.contains(&r#"* LSUB () "/" "Gone""#.to_string()), "{lsub:?}");
    assert!(lsub.contains(&r#"* LSUB () "/" "Later/Plans""#.to_string()), "{lsub:?}");
    assert!(lsub.contains(&r#"* LSUB (\HasNoChildren) "/" "Projects/Alpha""#.to_string()), "{lsub:?}");
    assert!(!lsub.iter().any(|l| l.ends_with(r#""Projects""#)), "`*` reaches the child itself: {lsub:?}");
    // Plain LIST shows only what exists.
    let list = alice.cmd("l2", "LIST \"\" *").await;
    assert!(!list.iter().any(|l| l.contains("Gone") || l.contains("Later")), "{list:?}");

    // RFC 3501 §6.3.9: `%` doesn't reach Projects/Alpha, so its parent is
    // listed as \Noselect (Projects itself isn't subscribed).
    let lsub = alice.cmd("l3", "LSUB \"\" %").await;
    assert!(lsub.contains(&r#"* LSUB (\Noselect) "/" "Projects""#.to_string()), "{lsub:?}");
    assert!(lsub.contains(&r#"* LSUB (\Noselect) "/" "Later""#.to_string()), "{lsub:?}");
    assert!(lsub.contains(&r#"* LSUB () "/" "Gone""#.to_string()), "{lsub:?}");
    assert!(!lsub.iter().any(|l| l.contains("Alpha")), "{lsub:?}");

    // RFC 5258 §3.4: LIST (SUBSCRIBED) gives the deleted folder as \NonExistent.
    let list = alice.cmd("l4", "LIST (SUBSCRIBED) \"\" *").await;
    assert!(list.contains(&r#"* LIST (\NonExistent \Subscribed) "/" "Gone""#.to_string()), "{list:?}");
    assert!(
        list.contains(&r#"* LIST (\HasNoChildren \Subscribed) "/" "Projects/Alpha""#.to_string()),
        "{list:?}"
    );
    assert!(!list.iter().any(|l| l.ends_with(r#""Projects""#)), "not subscribed itself: {list:?}");

    // RFC 5258 §3.5: with RECURSIVEMATCH the parents say why they are there.
    let list = alice.cmd("l5", "LIST (SUBSCRIBED RECURSIVEMATCH) \"\" %").await;
    assert!(
        list.contains(&r#"* LIST (\HasChildren) "/" "Projects" ("CHILDINFO" ("SUBSCRIBED"))"#.to_string()),
        "{list:?}"
    );
    assert!(
        list.contains(&r#"* LIST (\NonExistent) "/" "Later" ("CHILDINFO" ("SUBSCRIBED"))"#.to_string()),
        "{list:?}"
    );
    assert!(list.contains(&r#"* LIST (\NonExistent \Subscribed) "/" "Gone""#.to_string()), "{list:?}");

    // Unsubscribing the deleted folder's name ends it.
    assert_eq!(alice.cmd("u1", "UNSUBSCRIBE Gone").await, ["u1 OK UNSUBSCRIBE completed"]);
    let lsub = alice.cmd("l6", "LSUB \"\" *").await;
    assert!(!lsub.iter().any(|l| l.contains("Gone")), "{lsub:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_list_options_and_silly_names_are_refused() {
    let world = world().await;
    let addr = listen(world.imap.clone()).await;
    let mut alice = Client::login(addr, "alice@contoso.com", "Alice-pass-123").await;
    for (tag, command) in [
        ("b1", "LIST (RECURSIVEMATCH) \"\" %"),
        ("b2", "LIST (REMOTE RECURSIVEMATCH) \"\" %"),
        ("b3", "LIST (FROBNICATE) \"\" %"),
        ("b4", "LIST \"\" % RETURN (FROBNICATE)"),
    ] {
        let reply = alice.cmd(tag, command).await;
        assert_eq!(reply.len(), 1, "{reply:?}");
        assert!(reply[0].starts_with(&format!("{tag} BAD ")), "{command}: {reply:?}");
    }
    // REMOTE alone is known (and lists what is here).
    let reply = alice.cmd("r1", "LIST (REMOTE) \"\" INBOX").await;
    assert_eq!(reply, [r#"* LIST (\HasNoChildren) "/" "INBOX""#, "r1 OK LIST completed"]);

    let long = "x".repeat(1025);
    let reply = alice.cmd("s1", &format!("SUBSCRIBE {long}")).await;
    assert_eq!(reply, ["s1 BAD A mailbox name has 1 to 1024 octets and at most 18 levels"]);
    let deep = vec!["d"; 19].join("/");
    let reply = alice.cmd("s2", &format!("SUBSCRIBE {deep}")).await;
    assert_eq!(reply, ["s2 BAD A mailbox name has 1 to 1024 octets and at most 18 levels"]);
    // The session goes on.
    assert_eq!(alice.cmd("n1", "NOOP").await, ["n1 OK NOOP completed"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscriptions_are_bounded() {
    let world = world().await;
    let addr = listen(world.imap.clone()).await;
    let mut alice = Client::login(addr, "alice@contoso.com", "Alice-pass-123").await;
    // The default folders are subscribed without being stored as names.
    for i in 0..1000 {
        let reply = alice.cmd("s", &format!("SUBSCRIBE Old/{i}")).await;
        assert_eq!(reply, ["s OK SUBSCRIBE completed"], "subscription {i}");
    }
    let refused = alice.cmd("t", "SUBSCRIBE Old/one-too-many").await;
    assert_eq!(refused, ["t NO [LIMIT] At most 1000 subscriptions: unsubscribe some first"]);
    // Subscribing again to a name already held is no new subscription.
    assert_eq!(alice.cmd("u", "SUBSCRIBE Old/7").await, ["u OK SUBSCRIBE completed"]);
    assert_eq!(alice.cmd("v", "UNSUBSCRIBE Old/7").await, ["v OK UNSUBSCRIBE completed"]);
    assert_eq!(alice.cmd("w", "SUBSCRIBE Old/one-too-many").await, ["w OK SUBSCRIBE completed"]);
    // LSUB % shows their parent once.
    let lsub = alice.cmd("l", "LSUB \"\" %").await;
    assert_eq!(lsub.iter().filter(|l| l.ends_with("\"Old\"")).count(), 1, "{lsub:?}");
}
