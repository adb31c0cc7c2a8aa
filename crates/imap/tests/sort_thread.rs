//! SORT (RFC 5256, SORT=DISPLAY of RFC 5957) and THREAD (ORDEREDSUBJECT,
//! REFERENCES, REFS) through a raw client, over a small conversation: replies by
//! References and by In-Reply-To alone, a reply whose parent isn't there,
//! list tags and "Re:" in subjects.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod common;

use common::{Client, listen, world};

const MESSAGES: [&str; 6] = [
    "From: Zed <zed@x.example>\r\nSubject: Lunch plans\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\nMessage-ID: <1@x.example>\r\n\r\n1\r\n",
    "From: alice@x.example\r\nSubject: Re: Lunch plans\r\nDate: Mon, 23 Nov 2026 11:00:00 +0000\r\nMessage-ID: <2@x.example>\r\nIn-Reply-To: <1@x.example>\r\nReferences: <1@x.example>\r\n\r\n2\r\n",
    "From: Aaron <bob@x.example>\r\nSubject: Budget\r\nDate: Mon, 23 Nov 2026 09:00:00 +0000\r\nMessage-ID: <3@x.example>\r\n\r\n3\r\n",
    "From: Carol Doe <carol@x.example>\r\nSubject: RE: Re: Lunch  plans\r\nDate: Mon, 23 Nov 2026 13:00:00 +0100\r\nMessage-ID: <4@x.example>\r\nReferences: <1@x.example> <2@x.example>\r\n\r\n4\r\n",
    "From: alice@x.example\r\nSubject: [team] Re: Budget\r\nDate: Mon, 23 Nov 2026 13:00:00 +0000\r\nMessage-ID: <5@x.example>\r\nReferences: <missing@x.example>\r\n\r\n5\r\n",
    "From: dave@x.example\r\nSubject: Re: Lunch plans\r\nDate: Mon, 23 Nov 2026 11:30:00 +0000\r\nMessage-ID: <6@x.example>\r\nIn-Reply-To: <1@x.example>\r\n\r\n6\r\n",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sort_and_thread_a_conversation() {
    let world = world().await;
    for message in MESSAGES {
        world.deliver("info@contoso.com", message).await;
    }
    let addr = listen(world.imap.clone()).await;
    let mut carol = Client::login(addr, "carol@contoso.com", "Carol-pass-123").await;
    let caps = carol.cmd("c", "CAPABILITY").await;
    for cap in ["SORT", "SORT=DISPLAY", "THREAD=ORDEREDSUBJECT", "THREAD=REFERENCES", "THREAD=REFS"] {
        assert!(caps[0].split(' ').any(|c| c == cap), "{cap} in {caps:?}");
    }
    assert_eq!(carol.cmd("n", "SORT (DATE) UTF-8 ALL").await, ["n BAD No mailbox selected"]);
    carol.cmd("s", "SELECT \"Shared/info@contoso.com/INBOX\"").await;

    let cases = [
        // Base subjects: BUDGET (3, 5), LUNCH PLANS (1, 2, 4, 6); ties by number.
        ("SORT (SUBJECT) UTF-8 ALL", "* SORT 3 5 1 2 4 6"),
        // Date: fields in UTC (4 is 12:00 UTC).
        ("SORT (DATE) UTF-8 ALL", "* SORT 3 1 2 6 4 5"),
        ("SORT (REVERSE DATE) US-ASCII ALL", "* SORT 5 4 6 2 1 3"),
        ("SORT (SUBJECT REVERSE DATE) UTF-8 ALL", "* SORT 5 3 4 6 2 1"),
        // FROM: the first address's local part; DISPLAYFROM: its name, else the address.
        ("SORT (FROM) UTF-8 ALL", "* SORT 2 5 3 4 6 1"),
        ("SORT (DISPLAYFROM) UTF-8 ALL", "* SORT 3 2 5 4 6 1"),
        ("SORT (DATE) UTF-8 SUBJECT lunch", "* SORT 1 2 6 4"),
        ("UID SORT (DATE) UTF-8 FROM alice", "* SORT 2 5"),
        ("SORT (DATE) UTF-8 SUBJECT nothing-like-it", "* SORT"),
        // ORDEREDSUBJECT: per base subject, the first is the parent of the rest.
        ("THREAD ORDEREDSUBJECT UTF-8 ALL", "* THREAD (3 5)(1 (2)(6)(4))"),
        // REFERENCES: 4 under 2 under 1, 6 under 1 by In-Reply-To; 5's
        // parent is missing, so it joins 3 by subject.
        ("THREAD REFERENCES UTF-8 ALL", "* THREAD (3 5)(1 (2 4)(6))"),
        ("UID THREAD REFERENCES UTF-8 SUBJECT budget", "* THREAD (3 5)"),
        ("THREAD REFERENCES UTF-8 SUBJECT nothing-like-it", "* THREAD"),
        // REFS: the same links, no gathering by subject (5 stays alone),
        // threads by their latest arrival (1's thread got 6 last).
        ("THREAD REFS UTF-8 ALL", "* THREAD (3)(5)(1 (2 4)(6))"),
        ("UID THREAD refs UTF-8 SUBJECT budget", "* THREAD (3)(5)"),
    ];
    for (i, (command, expected)) in cases.iter().enumerate() {
        let tag = format!("t{i}");
        let answer = carol.cmd(&tag, command).await;
        assert_eq!(answer.len(), 2, "{command}: {answer:?}");
        assert_eq!(answer[0], *expected, "{command}: {answer:?}");
        assert!(answer[1].starts_with(&format!("{tag} OK ")), "{command}: {answer:?}");
    }

    // Failures: unknown charset, algorithm and key.
    let refused = carol.cmd("e1", "SORT (DATE) X-BOGUS ALL").await;
    assert_eq!(refused, ["e1 NO [BADCHARSET (US-ASCII UTF-8)] Search in US-ASCII or UTF-8"]);
    let refused = carol.cmd("e2", "THREAD FROBNICATE UTF-8 ALL").await;
    assert_eq!(
        refused,
        ["e2 BAD Unknown threading algorithm FROBNICATE (known: ORDEREDSUBJECT REFERENCES REFS)"]
    );
    let refused = carol.cmd("e3", "SORT (COLOUR) UTF-8 ALL").await;
    assert!(refused.len() == 1 && refused[0].starts_with("e3 BAD"), "{refused:?}");
    let refused = carol.cmd("e4", "SORT DATE UTF-8 ALL").await;
    assert!(refused.len() == 1 && refused[0].starts_with("e4 BAD"), "{refused:?}");
    assert_eq!(carol.cmd("z", "NOOP").await, ["z OK NOOP completed"]);

    // A reply to Budget arrives: under REFS its thread moves to the end;
    // REFERENCES still orders threads by their first message's date.
    world
        .deliver(
            "info@contoso.com",
            "Subject: Re: Budget\r\nDate: Mon, 23 Nov 2026 09:30:00 +0000\r\nMessage-ID: <7@x.example>\r\nReferences: <3@x.example>\r\n\r\n7\r\n",
        )
        .await;
    assert_eq!(carol.cmd("y", "NOOP").await[0], "* 7 EXISTS");
    assert_eq!(carol.cmd("r1", "THREAD REFS UTF-8 ALL").await[0], "* THREAD (5)(1 (2 4)(6))(3 7)");
    assert_eq!(carol.cmd("r2", "THREAD REFERENCES UTF-8 ALL").await[0], "* THREAD (3 (7)(5))(1 (2 4)(6))");
}

/// REFERENCES at its edges: a missing parent of two messages (a placeholder
/// root with two children), a Message-ID used twice, two messages each
/// naming the other (a loop), an empty subject, and a `References:` of
/// thousands of ids (only the last are read).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thread_references_at_its_edges() {
    let world = world().await;
    let long: String = (0..5000).map(|i| format!(" <r{i}@z.example>")).collect();
    let messages = [
        "Subject: Alpha\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\nMessage-ID: <1@y.example>\r\nReferences: <gone@y.example>\r\n\r\n1\r\n".to_string(),
        "Subject: Beta\r\nDate: Mon, 23 Nov 2026 11:00:00 +0000\r\nMessage-ID: <2@y.example>\r\nReferences: <gone@y.example>\r\n\r\n2\r\n".to_string(),
        "Subject: Gamma\r\nDate: Mon, 23 Nov 2026 12:00:00 +0000\r\nMessage-ID: <1@y.example>\r\n\r\n3\r\n".to_string(),
        "Subject: Delta\r\nDate: Mon, 23 Nov 2026 13:00:00 +0000\r\nMessage-ID: <4@y.example>\r\nReferences: <5@y.example>\r\n\r\n4\r\n".to_string(),
        "Subject: Re: Delta\r\nDate: Mon, 23 Nov 2026 14:00:00 +0000\r\nMessage-ID: <5@y.example>\r\nReferences: <4@y.example>\r\n\r\n5\r\n".to_string(),
        "Subject: \r\nDate: Mon, 23 Nov 2026 15:00:00 +0000\r\n\r\n6\r\n".to_string(),
        format!("Subject: Epsilon\r\nDate: Mon, 23 Nov 2026 16:00:00 +0000\r\nMessage-ID: <7@y.example>\r\nReferences:{long}\r\n\r\n7\r\n"),
        // 8 names a missing message, then 9, which comes later: the
        // placeholder's only child is a message found after it was made
        // (and without a subject, so grouping by subject can't hide a
        // thread listed twice).
        "Subject: Zeta\r\nDate: Mon, 23 Nov 2026 17:00:00 +0000\r\nMessage-ID: <8@y.example>\r\nReferences: <d@y.example> <9@y.example>\r\n\r\n8\r\n".to_string(),
        "Subject: \r\nDate: Mon, 23 Nov 2026 16:30:00 +0000\r\nMessage-ID: <9@y.example>\r\nReferences: <d@y.example>\r\n\r\n9\r\n".to_string(),
    ];
    for message in &messages {
        world.deliver("info@contoso.com", message).await;
    }
    let addr = listen(world.imap.clone()).await;
    let mut carol = Client::signed_in(addr, "carol@contoso.com", "Carol-pass-123").await;
    // 1 and 2 under the placeholder for the missing message; 3 has its own
    // node though its id was taken; 4 and 5: the link that would close the
    // loop is not made, so 5 (whose parent would be 4) stays on top.
    assert_eq!(
        carol.cmd("t1", "THREAD REFERENCES UTF-8 ALL").await,
        ["* THREAD ((1)(2))(3)(5 4)(6)(7)(9 8)", "t1 OK THREAD completed"]
    );
    // REFS links alike; every thread here ends with its last arrival.
    assert_eq!(
        carol.cmd("t3", "THREAD REFS UTF-8 ALL").await,
        ["* THREAD ((1)(2))(3)(5 4)(6)(7)(9 8)", "t3 OK THREAD completed"]
    );
    assert_eq!(
        carol.cmd("t2", "THREAD ORDEREDSUBJECT UTF-8 ALL").await,
        ["* THREAD (1)(2)(3)(4 5)(6 9)(7)(8)", "t2 OK THREAD completed"]
    );
}

/// ESORT (RFC 5267) and PARTIAL (RFC 9394): SORT with RETURN options
/// answers ESEARCH in sorted order; PARTIAL windows SEARCH, SORT and FETCH
/// results, from the start or from the end; their refusals.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn esort_and_partial() {
    let world = world().await;
    for message in MESSAGES {
        world.deliver("info@contoso.com", message).await;
    }
    let addr = listen(world.imap.clone()).await;
    let mut carol = Client::signed_in(addr, "carol@contoso.com", "Carol-pass-123").await;
    let caps = carol.cmd("c", "CAPABILITY").await;
    for cap in ["ESORT", "PARTIAL"] {
        assert!(caps[0].split(' ').any(|c| c == cap), "{cap} in {caps:?}");
    }
    let cases = [
        // Sorted by date: 3 1 2 6 4 5. MIN and MAX are the first and the last
        // of that order; ALL joins only ascending runs.
        ("SORT RETURN (MIN MAX COUNT) (DATE) UTF-8 ALL", "* ESEARCH (TAG \"q0\") MIN 3 MAX 5 COUNT 6"),
        ("SORT RETURN () (DATE) UTF-8 ALL", "* ESEARCH (TAG \"q1\") ALL 3,1:2,6,4:5"),
        ("UID SORT RETURN (ALL) (REVERSE DATE) UTF-8 ALL", "* ESEARCH (TAG \"q2\") UID ALL 5,4,6,2,1,3"),
        ("SORT RETURN (PARTIAL 2:3) (DATE) UTF-8 ALL", "* ESEARCH (TAG \"q3\") PARTIAL (2:3 1:2)"),
        ("SORT RETURN (PARTIAL -1:-2) (DATE) UTF-8 ALL", "* ESEARCH (TAG \"q4\") PARTIAL (-1:-2 4:5)"),
        // SEARCH: the window of the result in mailbox order.
        ("UID SEARCH RETURN (PARTIAL -1:-2) ALL", "* ESEARCH (TAG \"q5\") UID PARTIAL (-1:-2 5:6)"),
        ("SEARCH RETURN (COUNT PARTIAL 5:9) ALL", "* ESEARCH (TAG \"q6\") COUNT 6 PARTIAL (5:9 5:6)"),
        ("SEARCH RETURN (PARTIAL 7:9) ALL", "* ESEARCH (TAG \"q7\") PARTIAL (7:9 NIL)"),
    ];
    for (i, (command, expected)) in cases.iter().enumerate() {
        let answer = carol.cmd(&format!("q{i}"), command).await;
        assert_eq!(answer[0], *expected, "{command}: {answer:?}");
    }
    // FETCH (PARTIAL): the last two of the messages the set names.
    let fetched = carol.cmd("f", "UID FETCH 1:* (FLAGS) (PARTIAL -1:-2)").await;
    assert_eq!(fetched.len(), 3, "{fetched:?}");
    assert!(
        fetched[0].starts_with("* 5 FETCH (UID 5 ") && fetched[1].starts_with("* 6 FETCH (UID 6 "),
        "{fetched:?}"
    );
    for (tag, bad) in [
        ("b1", "SEARCH RETURN (PARTIAL 0:5) ALL"),
        ("b2", "SEARCH RETURN (ALL PARTIAL 1:5) ALL"),
        ("b3", "SORT RETURN (SAVE) (DATE) UTF-8 ALL"),
        ("b4", "UID FETCH 1:* (FLAGS) (PARTIAL 1:*)"),
    ] {
        let answer = carol.cmd(tag, bad).await;
        assert!(answer.last().unwrap().starts_with(&format!("{tag} BAD ")), "{bad}: {answer:?}");
    }
}
