//! FETCH reads messages in batches (summaries, and for a header listing the
//! headers, several per store call): what a client sees must be exactly
//! what one message at a time gave — every message, in order, none that
//! another session expunged meanwhile, CHANGEDSINCE honoured across batch
//! boundaries, and a "header" that is the whole message read whole.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod common;

use common::{Client, listen, world};

fn number(line: &str, after: &str) -> u64 {
    let rest = &line[line.find(after).unwrap() + after.len()..];
    rest.chars().take_while(char::is_ascii_digit).collect::<String>().parse().unwrap()
}

/// The UIDs of the FETCH responses and the subjects their literals carried, in order.
fn fetched(lines: &[String]) -> (Vec<u64>, Vec<String>) {
    // Responses with a header literal (other FETCH lines report flag changes).
    let uids = lines
        .iter()
        .filter(|l| l.starts_with("* ") && l.contains(" FETCH ") && l.contains("UID ") && l.contains("BODY["))
        .map(|l| number(l, "UID "))
        .collect();
    let subjects = lines.iter().filter_map(|l| l.strip_prefix("Subject: ")).map(str::to_string).collect();
    (uids, subjects)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn header_listings_past_a_batch_skip_expunged_and_honour_changedsince() {
    let world = world().await;
    for n in 1..=300 {
        world
            .deliver(
                "dave@contoso.com",
                &format!("Subject: m{n}\r\nFrom: a@fabrikam.example\r\n\r\nbody {n}\r\n"),
            )
            .await;
    }
    let addr = listen(world.imap.clone()).await;
    let mut first = Client::login(addr, "dave@contoso.com", "Dave-pass-123").await;
    let selected = first.cmd("s", "SELECT INBOX (CONDSTORE)").await;
    let start = number(selected.iter().find(|l| l.contains("HIGHESTMODSEQ")).unwrap(), "HIGHESTMODSEQ ");
    first.cmd("f", "UID STORE 10,150,260,290 +FLAGS (\\Flagged)").await;
    // Another session of Dave's removes two; the first hasn't been told yet.
    let mut second = Client::login(addr, "dave@contoso.com", "Dave-pass-123").await;
    second.cmd("s", "SELECT INBOX").await;
    second.cmd("d", "UID STORE 100,270 +FLAGS (\\Deleted)").await;
    assert_eq!(second.cmd("x", "EXPUNGE").await.last().unwrap(), "x OK EXPUNGE completed");

    let all = first.cmd("a", "UID FETCH 1:* (UID BODY.PEEK[HEADER.FIELDS (SUBJECT)])").await;
    assert_eq!(all.last().unwrap(), "a OK UID FETCH completed");
    let (uids, subjects) = fetched(&all);
    let expected: Vec<u64> = (1..=300).filter(|n| *n != 100 && *n != 270).collect();
    assert_eq!(uids, expected, "every message once, in order, the expunged ones left out");
    assert_eq!(subjects, expected.iter().map(|n| format!("m{n}")).collect::<Vec<_>>());

    let changed = first
        .cmd(
            "c",
            &format!("UID FETCH 1:* (UID FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)]) (CHANGEDSINCE {start})"),
        )
        .await;
    let (uids, subjects) = fetched(&changed);
    assert_eq!(uids, [10, 150, 260, 290], "{changed:?}");
    assert_eq!(subjects, ["m10", "m150", "m260", "m290"]);
    // Whole headers too (RFC822.HEADER), across the same batches.
    let headers = first.cmd("h", "FETCH 250:260 (RFC822.HEADER)").await;
    let (_, subjects) = fetched(&headers);
    assert_eq!(subjects.len(), 11, "{headers:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_without_a_blank_line_is_all_header() {
    let world = world().await;
    let addr = listen(world.imap.clone()).await;
    let mut dave = Client::login(addr, "dave@contoso.com", "Dave-pass-123").await;
    let message = "Subject: lonely\r\nX-Note: no body follows";
    let appended = dave.cmd("a", &format!("APPEND INBOX {{{}+}}\r\n{message}", message.len())).await;
    assert!(appended.last().unwrap().starts_with("a OK"), "{appended:?}");
    dave.cmd("s", "SELECT INBOX").await;
    let out = dave.raw("f", b"f FETCH 1 (BODY.PEEK[HEADER] BODY.PEEK[TEXT])\r\n").await;
    let text = String::from_utf8_lossy(&out);
    assert!(
        text.contains(&format!("BODY[HEADER] {{{}}}\r\n{message}", message.len())),
        "the header is the whole message: {text}"
    );
    assert!(text.contains("BODY[TEXT] {0}\r\n"), "and the text is empty: {text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headers_larger_than_a_read_are_read_one_at_a_time_in_order() {
    let world = world().await;
    // Three messages whose headers are 2.5 MiB each: more than one store
    // read holds (4 MiB), so each is read alone, and a small one after them.
    let padding: String = (0..2600).map(|_| format!(" {}\r\n", "p".repeat(998))).collect();
    for n in 1..=3 {
        world
            .deliver("dave@contoso.com", &format!("Subject: big{n}\r\nX-Pad:\r\n{padding}\r\nbody\r\n"))
            .await;
    }
    world.deliver("dave@contoso.com", "Subject: small\r\n\r\nbody\r\n").await;
    let addr = listen(world.imap.clone()).await;
    let mut dave = Client::login(addr, "dave@contoso.com", "Dave-pass-123").await;
    dave.cmd("s", "SELECT INBOX").await;
    let listed = dave.cmd("f", "UID FETCH 1:* (UID BODY.PEEK[HEADER.FIELDS (SUBJECT)])").await;
    assert_eq!(listed.last().unwrap(), "f OK UID FETCH completed");
    let (uids, subjects) = fetched(&listed);
    assert_eq!(uids, [1, 2, 3, 4]);
    assert_eq!(subjects, ["big1", "big2", "big3", "small"]);
}
