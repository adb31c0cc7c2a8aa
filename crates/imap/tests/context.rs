//! CONTEXT=SEARCH and CONTEXT=SORT (RFC 5267 §4): a search kept up to date
//! while its folder is selected, through a raw client. Alice watches the
//! shared Info inbox; Carol (another member) and deliveries change it.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod common;

use common::{Client, listen, world};

/// The lines of `lines` that are ESEARCH updates for `tag`.
fn updates<'a>(lines: &'a [String], tag: &str) -> Vec<&'a str> {
    let prefix = format!("* ESEARCH (TAG \"{tag}\")");
    lines.iter().filter(|l| l.starts_with(&prefix)).map(String::as_str).collect()
}

fn position(lines: &[String], wanted: &str) -> usize {
    lines.iter().position(|l| l == wanted).unwrap_or_else(|| panic!("{wanted} in {lines:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_searches_follow_the_folder() {
    let world = world().await;
    for subject in ["delta", "alpha", "kilo"] {
        world.deliver("info@contoso.com", &format!("Subject: {subject}\r\n\r\nbody\r\n")).await;
    }
    let addr = listen(world.imap.clone()).await;
    let mut alice = Client::signed_in(addr, "alice@contoso.com", "Alice-pass-123").await;
    let mut carol = Client::signed_in(addr, "carol@contoso.com", "Carol-pass-123").await;
    let caps = alice.cmd("c", "CAPABILITY").await;
    for cap in ["CONTEXT=SEARCH", "CONTEXT=SORT", "ESORT", "PARTIAL"] {
        assert!(caps[0].split(' ').any(|w| w == cap), "{cap}: {caps:?}");
    }

    // A live UID SEARCH (with its first result) and a live SORT by subject.
    let answer = alice.cmd("u", "UID SEARCH RETURN (UPDATE ALL) UNSEEN").await;
    assert_eq!(answer, ["* ESEARCH (TAG \"u\") UID ALL 1:3", "u OK UID SEARCH completed"]);
    let answer = alice.cmd("s", "UID SORT RETURN (UPDATE) (SUBJECT) UTF-8 ALL").await;
    assert_eq!(
        answer,
        ["* ESEARCH (TAG \"s\") UID", "s OK UID SORT completed"],
        "UPDATE alone returns no data"
    );
    // A tag in use is refused; the live one stays.
    let answer = alice.cmd("u", "UID SEARCH RETURN (UPDATE) ALL").await;
    assert_eq!(answer, ["u BAD Tag reuse: a live search already has this tag"]);

    // Carol reads message 2: it leaves the unseen search (position 0).
    carol.cmd("r", "STORE 2 +FLAGS (\\Seen)").await;
    let lines = alice.cmd("n1", "NOOP").await;
    assert_eq!(updates(&lines, "u"), ["* ESEARCH (TAG \"u\") UID REMOVEFROM (0 2)"], "{lines:?}");
    assert!(updates(&lines, "s").is_empty(), "the sort holds every message: {lines:?}");

    // A delivery: after its EXISTS, it joins both; the sort places "bravo"
    // second (alpha, bravo, delta, kilo).
    world.deliver("info@contoso.com", "Subject: bravo\r\n\r\nbody\r\n").await;
    let lines = alice.cmd("n2", "NOOP").await;
    let exists = position(&lines, "* 4 EXISTS");
    let added = position(&lines, "* ESEARCH (TAG \"u\") UID ADDTO (0 4)");
    assert!(exists < added, "ADDTO after EXISTS: {lines:?}");
    assert_eq!(updates(&lines, "s"), ["* ESEARCH (TAG \"s\") UID ADDTO (2 4)"]);

    // A delivery that Alice's next command doesn't report (a STORE of hers
    // in between): its ADDTO still comes, with the EXISTS that announces it.
    world.deliver("info@contoso.com", "Subject: charlie\r\n\r\nbody\r\n").await;
    alice.cmd("f0", "UID STORE 1 +FLAGS.SILENT (\\Answered)").await;
    let lines = alice.cmd("n2b", "NOOP").await;
    let exists = position(&lines, "* 5 EXISTS");
    let added = position(&lines, "* ESEARCH (TAG \"u\") UID ADDTO (0 5)");
    assert!(exists < added, "{lines:?}");

    // Alice's own STORE changes the result too.
    alice.cmd("f", "UID STORE 3 +FLAGS.SILENT (\\Seen)").await;
    let lines = alice.cmd("n3", "NOOP").await;
    assert_eq!(updates(&lines, "u"), ["* ESEARCH (TAG \"u\") UID REMOVEFROM (0 3)"], "{lines:?}");

    // With message numbers: a removal by expunge comes before the EXPUNGE,
    // numbered as the client still sees it.
    let answer = alice.cmd("m", "SEARCH RETURN (UPDATE COUNT) ALL").await;
    assert_eq!(answer[0], "* ESEARCH (TAG \"m\") COUNT 5");
    carol.cmd("d", "STORE 1 +FLAGS.SILENT (\\Deleted)").await;
    carol.cmd("x", "EXPUNGE").await;
    let lines = alice.cmd("n4", "NOOP").await;
    let removed = position(&lines, "* ESEARCH (TAG \"m\") REMOVEFROM (0 1)");
    let expunge = position(&lines, "* 1 EXPUNGE");
    assert!(removed < expunge, "REMOVEFROM before EXPUNGE: {lines:?}");
    // The sort loses "delta" (UID 1) at its position, 4 (alpha, bravo,
    // charlie, delta, kilo).
    assert!(lines.contains(&"* ESEARCH (TAG \"s\") UID REMOVEFROM (4 1)".to_string()), "{lines:?}");

    // CANCELUPDATE ends one; the others still hear of the next change.
    assert_eq!(alice.cmd("c1", "CANCELUPDATE \"u\"").await, ["c1 OK CANCELUPDATE completed"]);
    assert_eq!(alice.cmd("c2", "CANCELUPDATE \"u\"").await, ["c2 NO No live search has the tag \"u\""]);
    assert_eq!(alice.cmd("c3", "CANCELUPDATE u").await, ["c3 BAD CANCELUPDATE takes quoted tags"]);
    world.deliver("info@contoso.com", "Subject: zulu\r\n\r\nbody\r\n").await;
    let lines = alice.cmd("n5", "NOOP").await;
    assert_eq!(updates(&lines, "m"), ["* ESEARCH (TAG \"m\") ADDTO (0 5)"], "{lines:?}");
    assert!(updates(&lines, "u").is_empty(), "cancelled: {lines:?}");

    // At most eight live searches: the ninth is answered, not kept.
    for i in 0..6 {
        alice.cmd(&format!("k{i}"), "UID SEARCH RETURN (UPDATE) FLAGGED").await;
    }
    let answer = alice.cmd("k9", "UID SEARCH RETURN (UPDATE COUNT) FLAGGED").await;
    assert_eq!(
        answer,
        [
            "* ESEARCH (TAG \"k9\") UID COUNT 0",
            "* NO [NOUPDATE \"k9\"] Too many live searches (at most 8)",
            "k9 OK UID SEARCH completed"
        ]
    );

    // Another SELECT ends them all: the next change is only EXISTS.
    alice.cmd("sel", "SELECT \"Shared/info@contoso.com/INBOX\"").await;
    world.deliver("info@contoso.com", "Subject: yankee\r\n\r\nbody\r\n").await;
    let lines = alice.cmd("n6", "NOOP").await;
    assert!(lines.contains(&"* 6 EXISTS".to_string()), "{lines:?}");
    assert!(!lines.iter().any(|l| l.starts_with("* ESEARCH")), "{lines:?}");
}
