//! IMAP4rev2 (RFC 9051) on top of rev1: ENABLE IMAP4rev2 (ESEARCH for
//! every SEARCH, no RECENT, UTF-8 names), BINARY (RFC 3516), SEARCHRES
//! (RFC 5182), STATUS=SIZE (RFC 8438), and modified UTF-7 names for rev1
//! clients — in the personal and the shared namespace, as a direct member,
//! a member through a group and a non-member.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod common;

use common::{Client, listen, world};

const SHARED: &str = "\"Shared/info@contoso.com/INBOX\"";

const PARTS: &str = "Subject: parts\r\n\
MIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"b\"\r\n\
\r\n\
--b\r\n\
Content-Type: text/plain; charset=utf-8\r\n\
Content-Transfer-Encoding: quoted-printable\r\n\
\r\n\
caf=C3=A9\r\n\
--b\r\n\
Content-Type: application/octet-stream\r\n\
Content-Transfer-Encoding: base64\r\n\
\r\n\
AAEC/w==\r\n\
--b\r\n\
Content-Type: application/octet-stream\r\n\
Content-Transfer-Encoding: x-uuencode\r\n\
\r\n\
begin 644 f\r\n\
--b\r\n\
Content-Type: application/octet-stream\r\n\
Content-Transfer-Encoding: base64\r\n\
\r\n\
AAEC\r\n\
!!/w==\r\n\
--b--\r\n";

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enable_imap4rev2_changes_search_select_and_names() {
    let world = world().await;
    world.deliver("info@contoso.com", "Subject: one\r\n\r\n1\r\n").await;
    world.deliver("info@contoso.com", "Subject: two\r\n\r\n2\r\n").await;
    let addr = listen(world.imap.clone()).await;
    let mut alice = Client::login(addr, "alice@contoso.com", "Alice-pass-123").await;
    let caps = alice.cmd("c", "CAPABILITY").await;
    for cap in ["IMAP4rev1", "IMAP4rev2", "BINARY", "SEARCHRES", "STATUS=SIZE", "ESEARCH", "LIST-STATUS"] {
        assert!(caps[0].split(' ').any(|c| c == cap), "{cap} missing: {caps:?}");
    }
    // Before ENABLE: rev1 answers.
    let selected = alice.cmd("s0", &format!("SELECT {SHARED}")).await;
    assert!(selected.contains(&"* 2 RECENT".to_string()), "{selected:?}");
    assert_eq!(alice.cmd("q0", "SEARCH ALL").await, ["* SEARCH 1 2", "q0 OK SEARCH completed"]);
    // ENABLE IMAP4rev2, once, however often it is asked.
    assert_eq!(
        alice.cmd("e", "ENABLE IMAP4rev2 imap4rev2").await,
        ["* ENABLED IMAP4rev2", "e OK ENABLE completed"]
    );
    let selected = alice.cmd("s1", &format!("SELECT {SHARED}")).await;
    assert!(selected.iter().all(|l| !l.contains("RECENT") && !l.contains("UNSEEN")), "{selected:?}");
    assert!(selected.contains(&format!("* LIST () \"/\" {SHARED}")), "{selected:?}");
    assert!(selected.contains(&"* 2 EXISTS".to_string()), "{selected:?}");
    assert_eq!(
        alice.cmd("q1", "SEARCH ALL").await,
        ["* ESEARCH (TAG \"q1\") ALL 1:2", "q1 OK SEARCH completed"]
    );
    assert_eq!(
        alice.cmd("q2", "UID SEARCH FLAGGED").await,
        ["* ESEARCH (TAG \"q2\") UID", "q2 OK UID SEARCH completed"]
    );
    // UTF-8 names both ways once rev2 is on.
    common::assert_created(&alice.cmd("m1", "CREATE \"Entwürfe\"").await, "m1");
    let listed = alice.cmd("m2", "LIST \"\" \"Entw*\"").await;
    assert_eq!(listed[0], r#"* LIST (\HasNoChildren) "/" "Entwürfe""#, "{listed:?}");

    // A rev1 session sees the same folder in modified UTF-7, and names it so.
    let mut rev1 = Client::login(addr, "alice@contoso.com", "Alice-pass-123").await;
    let listed = rev1.cmd("m3", "LIST \"\" \"Entw*\"").await;
    assert_eq!(listed[0], r#"* LIST (\HasNoChildren) "/" "Entw&APw-rfe""#, "{listed:?}");
    let status = rev1.cmd("m4", "STATUS \"Entw&APw-rfe\" (MESSAGES)").await;
    assert_eq!(status, [r#"* STATUS "Entw&APw-rfe" (MESSAGES 0)"#, "m4 OK STATUS completed"]);
    common::assert_created(&rev1.cmd("m5", "CREATE \"&ZeVnLIqe-\"").await, "m5");
    let listed = alice.cmd("m6", "LIST \"\" \"%\"").await;
    assert!(listed.contains(&r#"* LIST (\HasNoChildren) "/" "日本語""#.to_string()), "{listed:?}");
    // Not valid modified UTF-7: taken as it came, and given back encoded.
    common::assert_created(&rev1.cmd("m7", "CREATE \"R&D\"").await, "m7");
    let listed = rev1.cmd("m8", "LIST \"\" \"R*\"").await;
    assert!(listed.contains(&r#"* LIST (\HasNoChildren) "/" "R&-D""#.to_string()), "{listed:?}");
    // Every command that takes a name reads it the same way.
    assert_eq!(rev1.cmd("n1", "RENAME \"R&-D\" \"R&AOk-D\"").await, ["n1 OK RENAME completed"]);
    assert_eq!(rev1.cmd("n2", "SUBSCRIBE \"R&AOk-D\"").await, ["n2 OK SUBSCRIBE completed"]);
    let listed = alice.cmd("n3", "LSUB \"\" \"R*\"").await;
    assert!(listed.contains(&r#"* LSUB (\HasNoChildren) "/" "RéD""#.to_string()), "{listed:?}");
    assert_eq!(
        rev1.cmd("n4", "MYRIGHTS \"R&AOk-D\"").await,
        [r#"* MYRIGHTS "R&AOk-D" lrswipkxtea"#, "n4 OK MYRIGHTS completed"]
    );
    let listed = rev1.cmd("n5", "LIST \"\" (\"R&AOk-*\") RETURN (STATUS (MESSAGES))").await;
    assert_eq!(listed[1], r#"* STATUS "R&AOk-D" (MESSAGES 0)"#, "{listed:?}");
    rev1.cmd("n6", &format!("SELECT {SHARED}")).await;
    assert_eq!(rev1.cmd("n7", "COPY 1 \"R&AOk-D\"").await[0].split(' ').nth(1), Some("OK"));
    assert_eq!(
        rev1.cmd("n8", "STATUS \"R&AOk-D\" (MESSAGES)").await[0],
        r#"* STATUS "R&AOk-D" (MESSAGES 1)"#
    );
    // A rev1 client reads names in response text in its own spelling too.
    assert_eq!(rev1.cmd("n9", "COPY 1 \"Caf&AOk-\"").await, ["n9 NO [TRYCREATE] No such mailbox: Caf&AOk-"]);
    // A control character, however spelled, is no folder name.
    let refused = rev1.cmd("n10", "CREATE \"&AAA-\"").await;
    assert!(refused[0].starts_with("n10 NO "), "{refused:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn searchres_saves_a_result_for_later_commands() {
    let world = world().await;
    for subject in ["alpha", "beta", "gamma", "beta again"] {
        world.deliver("info@contoso.com", &format!("Subject: {subject}\r\n\r\nx\r\n")).await;
    }
    let addr = listen(world.imap.clone()).await;
    // Carol holds Full Access through the Helpers group.
    let mut carol = Client::signed_in(addr, "carol@contoso.com", "Carol-pass-123").await;
    // SAVE alone: no ESEARCH, only the completion.
    assert_eq!(carol.cmd("a", "UID SEARCH RETURN (SAVE) SUBJECT beta").await, ["a OK UID SEARCH completed"]);
    assert_eq!(
        carol.cmd("b", "FETCH $ (UID)").await,
        ["* 2 FETCH (UID 2)", "* 4 FETCH (UID 4)", "b OK FETCH completed"]
    );
    assert_eq!(carol.cmd("c", "UID STORE $ +FLAGS.SILENT (\\Flagged)").await, ["c OK UID STORE completed"]);
    assert_eq!(carol.cmd("d", "SEARCH FLAGGED").await, ["* SEARCH 2 4", "d OK SEARCH completed"]);
    assert_eq!(carol.cmd("e", "SEARCH NOT $").await, ["* SEARCH 1 3", "e OK SEARCH completed"]);
    assert_eq!(carol.cmd("f", "SEARCH SUBJECT $").await, ["* SEARCH", "f OK SEARCH completed"]);
    // SAVE with MIN keeps only the smallest; the ESEARCH still answers MIN.
    assert_eq!(
        carol.cmd("g", "SEARCH RETURN (SAVE MIN) FLAGGED").await,
        ["* ESEARCH (TAG \"g\") MIN 2", "g OK SEARCH completed"]
    );
    assert_eq!(carol.cmd("h", "UID FETCH $ (UID)").await, ["* 2 FETCH (UID 2)", "h OK UID FETCH completed"]);
    assert_eq!(carol.cmd("h2", "SEARCH UID $").await, ["* SEARCH 2", "h2 OK SEARCH completed"]);
    // New mail and a NOOP don't touch it.
    world.deliver("info@contoso.com", "Subject: later\r\n\r\nx\r\n").await;
    // Its own STORE .SILENT isn't echoed back (nothing else changed between).
    assert_eq!(carol.cmd("h3", "NOOP").await, ["* 5 EXISTS", "* 5 RECENT", "h3 OK NOOP completed"]);
    assert_eq!(carol.cmd("h4", "FETCH $ (UID)").await, ["* 2 FETCH (UID 2)", "h4 OK FETCH completed"]);
    // A SAVE that can't be parsed leaves it alone.
    let refused = carol.cmd("h5", "SEARCH RETURN (SAVE) FROB").await;
    assert!(refused[0].starts_with("h5 BAD "), "{refused:?}");
    assert_eq!(carol.cmd("h6", "UID SEARCH $").await, ["* SEARCH 2", "h6 OK UID SEARCH completed"]);
    // Expunge the saved message: `$` then names nothing.
    assert_eq!(carol.cmd("i", "STORE $ +FLAGS.SILENT (\\Deleted)").await, ["i OK STORE completed"]);
    assert_eq!(carol.cmd("j", "UID EXPUNGE $").await, ["* 2 EXPUNGE", "j OK UID EXPUNGE completed"]);
    // An empty `$` names no message, after every usual check.
    assert_eq!(carol.cmd("k", "FETCH $ (FLAGS)").await, ["k OK UID FETCH completed"]);
    assert_eq!(carol.cmd("l", "SEARCH $").await, ["* SEARCH", "l OK SEARCH completed"]);
    assert_eq!(carol.cmd("l2", "COPY $ \"No such\"").await, ["l2 NO [TRYCREATE] No such mailbox: No such"]);
    // A new selection forgets it.
    carol.cmd("m", "SEARCH RETURN (SAVE) ALL").await;
    carol.cmd("n", &format!("EXAMINE {SHARED}")).await;
    assert_eq!(carol.cmd("o", "UID COPY $ INBOX").await, ["o OK UID COPY completed"]);
    assert_eq!(
        carol.cmd("o2", "STORE $ +FLAGS (\\Seen)").await,
        ["o2 NO [READ-ONLY] The mailbox was opened with EXAMINE"]
    );
    // Without a selected folder `$` means nothing at all.
    carol.cmd("p", "UNSELECT").await;
    let refused = carol.cmd("q", "FETCH $ (FLAGS)").await;
    assert!(refused[0].starts_with("q BAD "), "{refused:?}");

    // Dave holds no right on Info: the folder doesn't exist for him.
    let mut dave = Client::login(addr, "dave@contoso.com", "Dave-pass-123").await;
    let refused = dave.cmd("r", &format!("SELECT {SHARED}")).await;
    assert!(refused[0].starts_with("r NO [NONEXISTENT]"), "{refused:?}");
    let refused = dave.cmd("s", &format!("STATUS {SHARED} (SIZE)")).await;
    assert!(refused[0].starts_with("s NO [NONEXISTENT]"), "{refused:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_fetch_decodes_parts_and_names_what_it_cannot() {
    let world = world().await;
    world.deliver("info@contoso.com", PARTS).await;
    let addr = listen(world.imap.clone()).await;
    let mut alice = Client::signed_in(addr, "alice@contoso.com", "Alice-pass-123").await;
    assert_eq!(
        alice.cmd("a", "FETCH 1 (BINARY.SIZE[1] BINARY.SIZE[2] BINARY.SIZE[9])").await,
        ["* 1 FETCH (BINARY.SIZE[1] 5 BINARY.SIZE[2] 4 BINARY.SIZE[9] 0)", "a OK FETCH completed"]
    );
    // Decoded bytes with a NUL travel as literal8.
    let got = alice.raw("b", b"b FETCH 1 BINARY.PEEK[2]\r\n").await;
    assert_eq!(
        got,
        b"* 1 FETCH (BINARY[2] ~{4}\r\n\x00\x01\x02\xff)\r\nb OK FETCH completed\r\n",
        "{}",
        text(&got)
    );
    let got = alice.raw("c", b"c FETCH 1 BINARY.PEEK[1]<1.3>\r\n").await;
    assert_eq!(got, b"* 1 FETCH (BINARY[1]<1> {3}\r\naf\xc3)\r\nc OK FETCH completed\r\n", "{}", text(&got));
    // An encoding the server doesn't know, and content that isn't what it says.
    let refused = alice.cmd("d", "FETCH 1 BINARY[3]").await;
    assert_eq!(refused, ["d NO [UNKNOWN-CTE] Message 1: can't decode the X-UUENCODE transfer encoding"]);
    // Characters outside base64's alphabet are skipped (RFC 2045 §6.8).
    assert_eq!(
        alice.cmd("e", "FETCH 1 BINARY.SIZE[4]").await,
        ["* 1 FETCH (BINARY.SIZE[4] 4)", "e OK FETCH completed"]
    );
    // Neither the PEEKs nor the failed BINARY[3] marked the message seen.
    // (\Recent: Alice's SELECT was the first to see it.)
    assert_eq!(
        alice.cmd("f", "FETCH 1 FLAGS").await,
        ["* 1 FETCH (FLAGS (\\Recent))", "f OK FETCH completed"]
    );
    // BINARY without PEEK does, for every member (shared \Seen).
    let got = alice.raw("g", b"g FETCH 1 BINARY[1]\r\n").await;
    assert!(text(&got).contains("BINARY[1] {5}\r\ncaf"), "{}", text(&got));
    assert!(text(&got).contains("FLAGS (\\Recent \\Seen)"), "{}", text(&got));
    let mut carol = Client::signed_in(addr, "carol@contoso.com", "Carol-pass-123").await;
    assert_eq!(carol.cmd("h", "FETCH 1 FLAGS").await, ["* 1 FETCH (FLAGS (\\Seen))", "h OK FETCH completed"]);

    // The whole message is given as stored; a later message that can't be
    // decoded ends the FETCH after the ones that could.
    let size = alice.cmd("e2", "FETCH 1 (RFC822.SIZE BINARY.SIZE[])").await;
    let stored = PARTS.len();
    assert_eq!(size[0], format!("* 1 FETCH (RFC822.SIZE {stored} BINARY.SIZE[] {stored})"));
    world
        .deliver(
            "info@contoso.com",
            "Subject: uu\r\nContent-Transfer-Encoding: x-uuencode\r\n\r\nbegin 644 f\r\n",
        )
        .await;
    assert_eq!(alice.cmd("e3", "NOOP").await, ["* 2 EXISTS", "* 2 RECENT", "e3 OK NOOP completed"]);
    assert_eq!(
        alice.cmd("e3", "FETCH 1:* BINARY.SIZE[1]").await,
        [
            "* 1 FETCH (BINARY.SIZE[1] 5)",
            "e3 NO [UNKNOWN-CTE] Message 2: can't decode the X-UUENCODE transfer encoding"
        ]
    );

    // APPEND with a literal8 carries binary content into the personal INBOX.
    let mut message = b"Subject: bin\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\n\r\n"
        .to_vec();
    message.extend_from_slice(b"\x00\x01zero\x00");
    let mut command = format!("i APPEND INBOX ~{{{}+}}\r\n", message.len()).into_bytes();
    command.extend_from_slice(&message);
    command.extend_from_slice(b"\r\n");
    let appended = text(&alice.raw("i", &command).await);
    assert!(appended.starts_with("i OK [APPENDUID "), "{appended}");
    alice.cmd("j", "SELECT INBOX").await;
    let got = alice.raw("k", b"k FETCH 1 (BINARY.SIZE[1] BINARY.PEEK[1])\r\n").await;
    assert_eq!(
        got,
        b"* 1 FETCH (BINARY.SIZE[1] 7 BINARY[1] ~{7}\r\n\x00\x01zero\x00)\r\nk OK FETCH completed\r\n",
        "{}",
        text(&got)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_size_and_deleted() {
    let world = world().await;
    world.deliver("info@contoso.com", "Subject: one\r\n\r\n1\r\n").await;
    world.deliver("info@contoso.com", "Subject: two\r\n\r\n22\r\n").await;
    let addr = listen(world.imap.clone()).await;
    let mut alice = Client::signed_in(addr, "alice@contoso.com", "Alice-pass-123").await;
    let sizes = alice.cmd("a", "FETCH 1:* RFC822.SIZE").await;
    let total: u64 = sizes[..2]
        .iter()
        .map(|l| l.rsplit(' ').next().unwrap().trim_end_matches(')').parse::<u64>().unwrap())
        .sum();
    alice.cmd("b", "STORE 2 +FLAGS.SILENT (\\Deleted)").await;
    let mut carol = Client::login(addr, "carol@contoso.com", "Carol-pass-123").await;
    assert_eq!(
        carol.cmd("c", &format!("STATUS {SHARED} (MESSAGES SIZE DELETED)")).await,
        [format!("* STATUS {SHARED} (MESSAGES 2 SIZE {total} DELETED 1)"), "c OK STATUS completed".into()]
    );
    let listed = carol.cmd("d", &format!("LIST \"\" {SHARED} RETURN (STATUS (SIZE))")).await;
    assert_eq!(listed[1], format!("* STATUS {SHARED} (SIZE {total})"), "{listed:?}");
}

/// RFC 9051 §4.3: a literal never carries NUL. Stored mail can (SMTP keeps
/// what it was sent), so BODY[]/RFC822/BODY[TEXT]/BODY[n] give each NUL as
/// 0x80 — sizes unchanged — and BINARY gives the octets as a literal8.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nul_octets_never_travel_in_a_plain_literal() {
    let world = world().await;
    let message =
        "Subject: nul\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: binary\r\n\r\nab\0cd\r\n";
    world.deliver("info@contoso.com", message).await;
    let addr = listen(world.imap.clone()).await;
    let mut alice = Client::signed_in(addr, "alice@contoso.com", "Alice-pass-123").await;
    let size = message.len();
    for (tag, item, label, length) in [
        ("a", "BODY.PEEK[]", "BODY[]", size),
        ("b", "BODY.PEEK[TEXT]", "BODY[TEXT]", 7),
        ("c", "BODY.PEEK[1]", "BODY[1]", 7),
        ("d", "RFC822.PEEK", "RFC822", size),
        ("e", "BODY.PEEK[]<0.100>", "BODY[]<0>", size),
    ] {
        let item = if item == "RFC822.PEEK" { "RFC822" } else { item };
        let got = alice.raw(tag, format!("{tag} FETCH 1 {item}\r\n").as_bytes()).await;
        assert!(!got.contains(&0), "{item}: {}", text(&got));
        let head = format!("{label} {{{length}}}\r\n");
        assert!(text(&got).contains(&head), "{item}: {}", text(&got));
        assert!(got.windows(5).any(|w| w == b"ab\x80cd"), "{item}: {}", text(&got));
    }
    let got = alice.raw("f", b"f FETCH 1 BINARY.PEEK[1]\r\n").await;
    assert_eq!(
        got,
        b"* 1 FETCH (BINARY[1] ~{7}\r\nab\x00cd\r\n)\r\nf OK FETCH completed\r\n",
        "{}",
        text(&got)
    );
}

/// UTF8=ACCEPT (RFC 6855): names in UTF-8 once enabled — and only the
/// names: SEARCH answers and RECENT stay IMAP4rev1's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn utf8_accept_gives_utf8_names_and_nothing_else() {
    let world = world().await;
    world.deliver("info@contoso.com", "Subject: one\r\n\r\n1\r\n").await;
    let addr = listen(world.imap.clone()).await;
    let mut alice = Client::login(addr, "alice@contoso.com", "Alice-pass-123").await;
    let caps = alice.cmd("c", "CAPABILITY").await;
    assert!(caps[0].split(' ').any(|w| w == "UTF8=ACCEPT"), "{caps:?}");
    // Before: modified UTF-7 both ways.
    common::assert_created(&alice.cmd("m1", "CREATE \"Entw&APw-rfe\"").await, "m1");
    let listed = alice.cmd("m2", "LIST \"\" \"Entw*\"").await;
    assert_eq!(listed[0], r#"* LIST (\HasNoChildren) "/" "Entw&APw-rfe""#, "{listed:?}");
    assert_eq!(
        alice.cmd("e", "ENABLE UTF8=ACCEPT").await,
        ["* ENABLED UTF8=ACCEPT", "e OK ENABLE completed"]
    );
    let listed = alice.cmd("m3", "LIST \"\" \"Entw*\"").await;
    assert_eq!(listed[0], r#"* LIST (\HasNoChildren) "/" "Entwürfe""#, "{listed:?}");
    let status = alice.cmd("m4", "STATUS \"Entwürfe\" (MESSAGES)").await;
    assert_eq!(status, [r#"* STATUS "Entwürfe" (MESSAGES 0)"#, "m4 OK STATUS completed"]);
    // Still IMAP4rev1 otherwise: SEARCH, not ESEARCH; RECENT on SELECT.
    let selected = alice.cmd("s", &format!("SELECT {SHARED}")).await;
    assert!(selected.contains(&"* 1 RECENT".to_string()), "{selected:?}");
    assert_eq!(alice.cmd("q", "SEARCH ALL").await, ["* SEARCH 1", "q OK SEARCH completed"]);
}
