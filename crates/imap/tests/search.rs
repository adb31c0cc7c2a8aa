//! SEARCH over headers (answered by the store for ASCII needles, from the
//! summaries otherwise), body and flags, in a shared folder; and ENVELOPE
//! giving non-ASCII header text as RFC 2047 encoded words.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod common;

use common::{Client, listen, world};

async fn seeded() -> (common::World, std::net::SocketAddr) {
    let world = world().await;
    for message in [
        "From: Ann Smith <ann@fabrikam.example>\r\nTo: info@contoso.com\r\nSubject: Quarterly REPORT\r\nX-Ticket: 4711\r\n\r\nnumbers inside\r\n",
        "From: bob@fabrikam.example\r\nTo: sales@contoso.com\r\nCc: ann@fabrikam.example\r\nSubject: lunch?\r\n\r\nsee you\r\n",
        "From: =?UTF-8?Q?J=C3=BCrgen?= <j@fabrikam.example>\r\nTo: info@contoso.com\r\nSubject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe_aus_K=C3=B6ln?=\r\n\r\nreport attached\r\n",
    ] {
        world.deliver("info@contoso.com", message).await;
    }
    let addr = listen(world.imap.clone()).await;
    (world, addr)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn header_body_and_flag_searches_in_a_shared_folder() {
    let (_world, addr) = seeded().await;
    // Carol reaches Info through her group.
    let mut carol = Client::signed_in(addr, "carol@contoso.com", "Carol-pass-123").await;
    let cases = [
        ("SEARCH SUBJECT report", "* SEARCH 1"),
        ("SEARCH FROM ANN", "* SEARCH 1"),
        ("SEARCH FROM fabrikam", "* SEARCH 1 2 3"),
        ("SEARCH TO sales@", "* SEARCH 2"),
        ("SEARCH CC ann", "* SEARCH 2"),
        ("SEARCH HEADER X-Ticket 4711", "* SEARCH 1"),
        ("SEARCH HEADER x-ticket \"\"", "* SEARCH 1"),
        ("SEARCH NOT SUBJECT report", "* SEARCH 2 3"),
        ("SEARCH OR TO sales SUBJECT quarterly", "* SEARCH 1 2"),
        ("SEARCH BODY report", "* SEARCH 3"),
        ("SEARCH TEXT report", "* SEARCH 1 3"),
        ("SEARCH SUBJECT nothing-like-it", "* SEARCH"),
        ("UID SEARCH FROM bob", "* SEARCH 2"),
    ];
    for (i, (command, expected)) in cases.iter().enumerate() {
        let tag = format!("s{i}");
        let answer = carol.cmd(&tag, command).await;
        assert_eq!(answer[0], *expected, "{command}: {answer:?}");
        assert!(answer[1].starts_with(&format!("{tag} OK ")), "{command}: {answer:?}");
    }
    // Headers decoded at delivery: a non-ASCII needle (searched in the
    // summaries) finds the encoded-word subject.
    let answer = carol.raw("u", "u SEARCH CHARSET UTF-8 SUBJECT {5+}\r\nKöln\r\n".as_bytes()).await;
    assert_eq!(String::from_utf8_lossy(&answer), "* SEARCH 3\r\nu OK SEARCH completed\r\n");
    let answer = carol.raw("v", "v SEARCH FROM {7+}\r\nJÜRGEN\r\n".as_bytes()).await;
    assert_eq!(String::from_utf8_lossy(&answer), "* SEARCH 3\r\nv OK SEARCH completed\r\n");
    // RFC 9051 §6.4.4: an unknown charset is NO [BADCHARSET], never a search.
    let refused = carol.cmd("w", "SEARCH CHARSET X-BOGUS SUBJECT report").await;
    assert_eq!(refused, ["w NO [BADCHARSET (US-ASCII UTF-8)] Search in US-ASCII or UTF-8"]);
    let refused = carol.cmd("x", "UID SEARCH CHARSET ISO-8859-1 ALL").await;
    assert!(refused[0].starts_with("x NO [BADCHARSET"), "{refused:?}");
    assert_eq!(carol.cmd("y", "SEARCH CHARSET us-ascii SUBJECT report").await[0], "* SEARCH 1");
    // Header and flag keys together.
    carol.cmd("f", "STORE 3 +FLAGS (\\Flagged)").await;
    assert_eq!(carol.cmd("g", "SEARCH FLAGGED FROM fabrikam").await[0], "* SEARCH 3");

    // Dave can't search what he can't see.
    let mut dave = Client::login(addr, "dave@contoso.com", "Dave-pass-123").await;
    let refused = dave.cmd("d", "EXAMINE \"Shared/info@contoso.com/INBOX\"").await;
    assert!(refused[0].starts_with("d NO [NONEXISTENT]"), "{refused:?}");
    let refused = dave.cmd("e", "SEARCH SUBJECT report").await;
    assert_eq!(refused, ["e BAD No mailbox selected"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn envelope_gives_non_ascii_header_text_as_encoded_words() {
    let (_world, addr) = seeded().await;
    let mut alice = Client::signed_in(addr, "alice@contoso.com", "Alice-pass-123").await;
    let envelope = alice.cmd("e", "FETCH 3 ENVELOPE").await;
    // "Grüße aus Köln" and "Jürgen", base64 in UTF-8 encoded words: 7-bit
    // header form, as ENVELOPE's fields are (the client decodes them).
    assert!(envelope[0].contains("\"=?UTF-8?B?R3LDvMOfZSBhdXMgS8O2bG4=?=\""), "{envelope:?}");
    assert!(
        envelope[0].contains("((\"=?UTF-8?B?SsO8cmdlbg==?=\" NIL \"j\" \"fabrikam.example\"))"),
        "{envelope:?}"
    );
    assert!(envelope[0].is_ascii(), "{envelope:?}");
    let plain = alice.cmd("p", "FETCH 1 ENVELOPE").await;
    assert!(
        plain[0].contains("\"Quarterly REPORT\" ((\"Ann Smith\" NIL \"ann\" \"fabrikam.example\"))"),
        "{plain:?}"
    );
}

/// The fields SEARCH keys name are indexed wherever they stand: a Subject:
/// after 300 KiB of other fields is found (the summary once cut the header
/// at 256 KiB and hid it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subject_far_down_a_long_header_is_found() {
    let world = world().await;
    let padding: String = (0..300).map(|i| format!("X-Pad-{i}: {}\r\n", "p".repeat(1000))).collect();
    let message = format!("{padding}From: late@fabrikam.example\r\nSubject: needle-late\r\n\r\nbody\r\n");
    world.deliver("info@contoso.com", &message).await;
    world.deliver("info@contoso.com", "Subject: other\r\n\r\nbody\r\n").await;
    let addr = listen(world.imap.clone()).await;
    let mut alice = Client::signed_in(addr, "alice@contoso.com", "Alice-pass-123").await;
    assert_eq!(alice.cmd("a", "SEARCH SUBJECT needle-late").await[0], "* SEARCH 1");
    assert_eq!(alice.cmd("b", "SEARCH FROM late@fabrikam").await[0], "* SEARCH 1");
    assert_eq!(alice.cmd("c", "SEARCH HEADER Subject needle").await[0], "* SEARCH 1");
    let envelope = alice.cmd("d", "FETCH 1 ENVELOPE").await;
    assert!(envelope[0].contains("\"needle-late\""), "{envelope:?}");
}

/// SENTBEFORE/SENTON/SENTSINCE read the day the `Date:` field names in its
/// own zone (RFC 3501 §6.4.4: time and timezone disregarded): 23:30 on the
/// 6th at -0800 is the 6th, though UTC says the 7th; an unreadable date
/// falls back to its UTC day, and a message without one matches none.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sent_dates_are_the_days_their_senders_wrote() {
    let world = world().await;
    for message in [
        "Date: Sun, 06 Dec 2026 23:30:00 -0800 (PST)\r\nSubject: late evening\r\n\r\n1\r\n",
        "Date: Mon, 07 Dec 2026 00:30:00 +0900\r\nSubject: early morning\r\n\r\n2\r\n",
        "Subject: undated\r\n\r\n3\r\n",
    ] {
        world.deliver("info@contoso.com", message).await;
    }
    let addr = listen(world.imap.clone()).await;
    let mut alice = Client::signed_in(addr, "alice@contoso.com", "Alice-pass-123").await;
    for (command, expected) in [
        ("SEARCH SENTON 6-Dec-2026", "* SEARCH 1"),
        ("SEARCH SENTON 7-Dec-2026", "* SEARCH 2"),
        ("SEARCH SENTBEFORE 7-Dec-2026", "* SEARCH 1"),
        ("SEARCH SENTSINCE 7-Dec-2026", "* SEARCH 2"),
        ("SEARCH NOT SENTON 6-Dec-2026", "* SEARCH 2 3"),
    ] {
        let reply = alice.cmd("s", command).await;
        assert_eq!(reply[0], expected, "{command}: {reply:?}");
    }
}

/// TO, CC and HEADER match a group's display name as well as its members
/// (RFC 5322 §3.4 groups, as a reader sees them).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_names_are_searched_like_the_addresses_in_them() {
    let world = world().await;
    world
        .deliver(
            "info@contoso.com",
            "From: a@fabrikam.example\r\nTo: Project Falcon: x@fabrikam.example, y@fabrikam.example;\r\nCc: Night Shift:;\r\nSubject: groups\r\n\r\n1\r\n",
        )
        .await;
    world
        .deliver(
            "info@contoso.com",
            "From: b@fabrikam.example\r\nTo: z@fabrikam.example\r\nSubject: plain\r\n\r\n2\r\n",
        )
        .await;
    let addr = listen(world.imap.clone()).await;
    let mut alice = Client::signed_in(addr, "alice@contoso.com", "Alice-pass-123").await;
    for (command, expected) in [
        ("SEARCH TO falcon", "* SEARCH 1"),
        ("SEARCH TO y@fabrikam", "* SEARCH 1"),
        ("SEARCH CC \"night shift\"", "* SEARCH 1"),
        ("SEARCH HEADER TO \"Project Falcon\"", "* SEARCH 1"),
        ("SEARCH TO z@fabrikam", "* SEARCH 2"),
    ] {
        let reply = alice.cmd("s", command).await;
        assert_eq!(reply[0], expected, "{command}: {reply:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn body_and_text_search_the_decoded_text() {
    let world = world().await;
    for message in [
        // 1: the word only in quoted-printable.
        "Subject: trip\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nOffice in Z=C3=BCrich, see you at the meet=\r\ning\r\n",
        // 2: the word only in a base64 text attachment.
        "Subject: notes\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n--b\r\nContent-Type: text/plain; name=a.txt\r\nContent-Disposition: attachment; filename=a.txt\r\nContent-Transfer-Encoding: base64\r\n\r\nbWVldGluZyBtaW51dGVz\r\n--b--\r\n",
        // 3: the word in Latin-1, in HTML with an entity.
        "Subject: lunch\r\nMIME-Version: 1.0\r\nContent-Type: text/html; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n<p>Caf=E9 in Z&uuml;rich</p>\r\n",
        // 4: the word only in a binary attachment's bytes: not text.
        "Subject: blob\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nnothing here\r\n--b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\nbWVldGluZw==\r\n--b--\r\n",
    ] {
        world.deliver("info@contoso.com", message).await;
    }
    // A folder as large as the index is used for.
    fill(&world, 4).await;
    let addr = listen(world.imap.clone()).await;
    let mut carol = Client::signed_in(addr, "carol@contoso.com", "Carol-pass-123").await;
    // Read from the bodies first, then from the substring index: the same
    // answers (the index keeps exactly the text a reading search compares).
    decoded_text_cases(&mut carol).await;
    assert_eq!(index_everything(&world).await, 64);
    decoded_text_cases(&mut carol).await;
}

/// Fills the shared INBOX up to 64 messages (the smallest folder searched
/// from the index) with messages that match no needle here; `has` are there.
async fn fill(world: &common::World, has: usize) {
    for n in has..64 {
        world.deliver("info@contoso.com", &format!("Subject: filler {n}\r\n\r\nnothing to see\r\n")).await;
    }
}

/// The index the server's indexer fills, filled here: each body's search
/// text as the indexer extracts it. Returns how many bodies it indexed.
async fn index_everything(world: &common::World) -> usize {
    let mut indexed = 0;
    loop {
        let batch = world.mail.text_to_index(100, usize::MAX).await.unwrap();
        if batch.is_empty() {
            return indexed;
        }
        indexed += batch.len();
        let texts = batch
            .into_iter()
            .map(|p| (p.key, text_of(mailroom_mime::readable::body_search_haystack(&p.bytes))))
            .collect();
        world.mail.index_text(texts).await.unwrap();
    }
}

fn text_of(search_body: String) -> mailroom_core::store::MessageText {
    mailroom_core::store::MessageText {
        subject: String::new(),
        people: String::new(),
        body: String::new(),
        search_body,
    }
}

async fn decoded_text_cases(carol: &mut Client) {
    let answer = carol.raw("a", "a SEARCH CHARSET UTF-8 BODY {7+}\r\nzürich\r\n".as_bytes()).await;
    assert_eq!(String::from_utf8_lossy(&answer), "* SEARCH 1 3\r\na OK SEARCH completed\r\n");
    let answer = carol.raw("b", "b SEARCH CHARSET UTF-8 TEXT {5+}\r\ncafé\r\n".as_bytes()).await;
    assert_eq!(String::from_utf8_lossy(&answer), "* SEARCH 3\r\nb OK SEARCH completed\r\n");
    let cases = [
        // A soft line break joins "meet=" and "ing".
        ("SEARCH BODY meeting", "* SEARCH 1 2"),
        ("SEARCH TEXT MEETING", "* SEARCH 1 2"),
        // The encodings themselves are not the text.
        ("SEARCH BODY =C3=BC", "* SEARCH"),
        ("SEARCH BODY bWVldGluZ", "* SEARCH"),
        // TEXT reads the header too, BODY doesn't.
        ("SEARCH TEXT \"Subject: notes\"", "* SEARCH 2"),
        ("SEARCH BODY notes", "* SEARCH"),
    ];
    for (i, (command, expected)) in cases.iter().enumerate() {
        let tag = format!("s{i}");
        let answer = carol.cmd(&tag, command).await;
        assert_eq!(answer[0], *expected, "{command}: {answer:?}");
    }
}

/// The substring index answers BODY and TEXT for the bodies it has: it is
/// what is read (a body indexed with other text is found by that text);
/// bodies not indexed yet and needles shorter than three characters are
/// read from the message.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_substring_index_answers_and_the_rest_is_read() {
    let world = world().await;
    world.deliver("info@contoso.com", "Subject: one\r\n\r\nquarterly numbers\r\n").await;
    // Indexed with a text that isn't in its body: only the index can find it.
    let batch = world.mail.text_to_index(10, usize::MAX).await.unwrap();
    assert_eq!(batch.len(), 1);
    world.mail.index_text(vec![(batch[0].key, text_of("only-in-the-index".into()))]).await.unwrap();
    world.deliver("info@contoso.com", "Subject: two\r\n\r\nquarterly review\r\n").await;
    // A long line, indexed as it is.
    let long = "The record of the meeting, with every decision taken and who takes it on, as agreed";
    world.deliver("info@contoso.com", &format!("Subject: three\r\n\r\n{long}\r\n")).await;
    let batch = world.mail.text_to_index(10, usize::MAX).await.unwrap();
    let third = batch.last().unwrap();
    let haystack = mailroom_mime::readable::body_search_haystack(&third.bytes);
    world.mail.index_text(vec![(third.key, text_of(haystack))]).await.unwrap();
    fill(&world, 3).await;
    let addr = listen(world.imap.clone()).await;
    let mut carol = Client::signed_in(addr, "carol@contoso.com", "Carol-pass-123").await;
    let cases = [
        ("SEARCH BODY ONLY-IN-THE", "* SEARCH 1"),
        // Message 1 is answered by its index row, message 2 (waiting for
        // the indexer) by its body.
        ("SEARCH BODY quarterly", "* SEARCH 2"),
        ("SEARCH TEXT quarterly", "* SEARCH 2"),
        ("SEARCH OR BODY numbers BODY review", "* SEARCH 2"),
        // Two characters: every body is read.
        ("SEARCH BODY nu", "* SEARCH 1"),
        ("SEARCH BODY ONLY-IN-THE UNDELETED", "* SEARCH 1"),
    ];
    let cases = cases.into_iter().map(|(c, e)| (c.to_string(), e)).chain([
        // Longer than the index is asked: its start finds the candidates,
        // their bodies confirm.
        (format!("SEARCH BODY \"{}\"", &long[4..]), "* SEARCH 3"),
        (format!("SEARCH BODY \"{}, and more\"", &long[4..]), "* SEARCH"),
    ]);
    for (i, (command, expected)) in cases.enumerate() {
        let answer = carol.cmd(&format!("s{i}"), &command).await;
        assert_eq!(answer[0], expected, "{command}: {answer:?}");
    }
}

/// WITHIN (RFC 5032): OLDER and YOUNGER against the arrival time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn older_and_younger_compare_arrival_times() {
    let world = world().await;
    world.deliver("info@contoso.com", "Subject: new\r\n\r\nnew\r\n").await;
    let addr = listen(world.imap.clone()).await;
    let mut carol = Client::signed_in(addr, "carol@contoso.com", "Carol-pass-123").await;
    let caps = carol.cmd("c", "CAPABILITY").await;
    assert!(caps[0].split(' ').any(|w| w == "WITHIN"), "{caps:?}");
    let old = "Subject: old\r\n\r\nold\r\n";
    let command = format!(
        "a APPEND \"Shared/info@contoso.com/INBOX\" \"01-Jan-2020 10:00:00 +0000\" {{{}+}}\r\n{old}\r\n",
        old.len()
    );
    let answer = String::from_utf8_lossy(&carol.raw("a", command.as_bytes()).await).into_owned();
    assert!(answer.contains("* 2 EXISTS") && answer.contains("a OK [APPENDUID"), "{answer}");
    assert_eq!(carol.cmd("s1", "SEARCH OLDER 86400").await[0], "* SEARCH 2");
    assert_eq!(carol.cmd("s2", "SEARCH YOUNGER 86400").await[0], "* SEARCH 1");
    assert_eq!(carol.cmd("s3", "SEARCH YOUNGER 86400 SUBJECT old").await[0], "* SEARCH");
    let refused = carol.cmd("s4", "SEARCH OLDER 0").await;
    assert!(refused.len() == 1 && refused[0].starts_with("s4 BAD"), "{refused:?}");
}
