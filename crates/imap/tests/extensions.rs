//! Small extensions through a raw client: UNAUTHENTICATE (RFC 8437),
//! APPENDLIMIT (RFC 7889) and LIST-MYRIGHTS (RFC 8440), with their
//! refusals.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod common;

use common::{Client, listen, world};

const SHARED: &str = "\"Shared/info@contoso.com/INBOX\"";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unauthenticate_returns_the_connection_to_sign_in() {
    let world = world().await;
    world.deliver("info@contoso.com", "Subject: one\r\n\r\n1\r\n").await;
    let addr = listen(world.imap.clone()).await;
    let mut c = Client::login(addr, "alice@contoso.com", "Alice-pass-123").await;
    let caps = c.cmd("c", "CAPABILITY").await;
    assert!(caps[0].split(' ').any(|w| w == "UNAUTHENTICATE"), "{caps:?}");
    c.cmd("e", "ENABLE CONDSTORE").await;
    c.cmd("s", &format!("SELECT {SHARED}")).await;
    assert!(c.cmd("f", "FETCH 1 FLAGS").await[0].contains("MODSEQ"));

    assert_eq!(c.cmd("u", "UNAUTHENTICATE").await, ["u OK UNAUTHENTICATE completed"]);
    // Alice is gone: nothing of the authenticated state answers.
    assert_eq!(c.cmd("l", "LIST \"\" *").await, ["l BAD Sign in first: LIST needs LOGIN or AUTHENTICATE"]);
    let refused = c.cmd("g", "FETCH 1 FLAGS").await;
    assert!(refused.len() == 1 && refused[0].starts_with("g BAD"), "{refused:?}");
    let caps = c.cmd("c2", "CAPABILITY").await;
    assert!(!caps[0].split(' ').any(|w| w == "UNAUTHENTICATE"), "{caps:?}");
    assert_eq!(c.cmd("u2", "UNAUTHENTICATE").await, ["u2 BAD Not signed in: UNAUTHENTICATE needs a sign-in"]);

    // Carol signs in on the same connection, with nothing of Alice's session:
    // CONDSTORE isn't enabled for her, nothing is selected.
    let signed = c.cmd("l2", "LOGIN carol@contoso.com Carol-pass-123").await;
    assert!(signed.last().unwrap().starts_with("l2 OK"), "{signed:?}");
    assert_eq!(c.cmd("n", "FETCH 1 FLAGS").await, ["n BAD No mailbox selected"]);
    c.cmd("s2", &format!("SELECT {SHARED}")).await;
    assert_eq!(c.cmd("f2", "FETCH 1 FLAGS").await, ["* 1 FETCH (FLAGS ())", "f2 OK FETCH completed"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn appendlimit_is_what_append_takes() {
    let world = world().await;
    let addr = listen(world.imap.clone()).await;
    let mut c = Client::login(addr, "alice@contoso.com", "Alice-pass-123").await;
    let caps = c.cmd("c", "CAPABILITY").await;
    let limit: usize = caps[0]
        .split(' ')
        .find_map(|w| w.strip_prefix("APPENDLIMIT="))
        .unwrap_or_else(|| panic!("APPENDLIMIT in {caps:?}"))
        .parse()
        .unwrap();
    let message = |size: usize| {
        let mut m = b"Subject: big\r\n\r\n".to_vec();
        m.resize(size - 2, b'x');
        m.extend_from_slice(b"\r\n");
        m
    };
    // Exactly the limit is taken, into a folder with a long name.
    let folder = format!("Archive/{}", "y".repeat(200));
    c.cmd("m", &format!("CREATE \"{folder}\"")).await;
    let mut command = format!("a1 APPEND \"{folder}\" (\\Seen) {{{limit}+}}\r\n").into_bytes();
    command.extend_from_slice(&message(limit));
    command.extend_from_slice(b"\r\n");
    let answer = String::from_utf8_lossy(&c.raw("a1", &command).await).into_owned();
    assert!(answer.starts_with("a1 OK [APPENDUID "), "{answer}");
    // One octet more is too big, and the session goes on.
    let mut command = format!("a2 APPEND INBOX {{{}+}}\r\n", limit + 1).into_bytes();
    command.extend_from_slice(&message(limit + 1));
    command.extend_from_slice(b"\r\n");
    let answer = String::from_utf8_lossy(&c.raw("a2", &command).await).into_owned();
    assert!(answer.contains("[TOOBIG]"), "{answer}");
    assert_eq!(c.cmd("n", "NOOP").await, ["n OK NOOP completed"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_returns_my_rights() {
    let world = world().await;
    let addr = listen(world.imap.clone()).await;
    let mut c = Client::login(addr, "alice@contoso.com", "Alice-pass-123").await;
    let caps = c.cmd("c", "CAPABILITY").await;
    assert!(caps[0].split(' ').any(|w| w == "LIST-MYRIGHTS"), "{caps:?}");
    let listed = c.cmd("l", "LIST \"\" (INBOX \"Shared/info@contoso.com/%\") RETURN (MYRIGHTS)").await;
    assert!(listed.contains(&"* MYRIGHTS \"INBOX\" lrswipkxtea".to_string()), "{listed:?}");
    assert!(listed.contains(&format!("* MYRIGHTS {SHARED} lrswipkxtea")), "{listed:?}");
    // Each MYRIGHTS right after its LIST line.
    let at = listed.iter().position(|l| l == &format!("* LIST (\\HasNoChildren) \"/\" {SHARED}")).unwrap();
    assert_eq!(listed[at + 1], format!("* MYRIGHTS {SHARED} lrswipkxtea"));
    // The container of the shared folders isn't a mailbox: no rights line.
    let listed = c.cmd("l2", "LIST \"\" \"Shared/%\" RETURN (MYRIGHTS)").await;
    assert!(!listed.iter().any(|l| l.starts_with("* MYRIGHTS")), "{listed:?}");
    // MYRIGHTS is a return option, not a selection option.
    let refused = c.cmd("l3", "LIST (MYRIGHTS) \"\" %").await;
    assert!(refused.len() == 1 && refused[0].starts_with("l3 BAD"), "{refused:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preview_gives_the_start_of_the_text() {
    let world = world().await;
    world
        .deliver(
            "info@contoso.com",
            "Subject: trip\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nMeet   in\r\nZ=C3=BCrich at ten.\r\n",
        )
        .await;
    world.deliver("info@contoso.com", "Subject: plain\r\n\r\nSee you \"soon\"\r\n").await;
    let addr = listen(world.imap.clone()).await;
    let mut c = Client::signed_in(addr, "carol@contoso.com", "Carol-pass-123").await;
    let caps = c.cmd("c", "CAPABILITY").await;
    assert!(caps[0].split(' ').any(|w| w == "PREVIEW"), "{caps:?}");
    // ASCII in a quoted string, after the items asked for.
    let answer = c.cmd("p1", "FETCH 2 (FLAGS PREVIEW)").await;
    let expected = r#"* 2 FETCH (FLAGS (\Recent) PREVIEW "See you \"soon\"")"#;
    assert_eq!(answer, [expected, "p1 OK FETCH completed"]);
    // Non-ASCII in a literal; PREVIEW alone, with LAZY.
    let answer = String::from_utf8(c.raw("p2", b"p2 UID FETCH 1 (PREVIEW (LAZY))\r\n").await).unwrap();
    let text = "Meet in Zürich at ten.";
    assert_eq!(
        answer,
        format!("* 1 FETCH (UID 1 PREVIEW {{{}}}\r\n{text})\r\np2 OK UID FETCH completed\r\n", text.len())
    );
    // Reading a preview doesn't mark the message read (recent: this
    // session's SELECT was the first to see them).
    let flags = c.cmd("f", "FETCH 1:2 FLAGS").await;
    assert_eq!(flags[..2], [r"* 1 FETCH (FLAGS (\Recent))", r"* 2 FETCH (FLAGS (\Recent))"]);
    let refused = c.cmd("p3", "FETCH 1 (PREVIEW (FUZZY))").await;
    assert_eq!(refused, ["p3 BAD Unknown PREVIEW modifier (known: LAZY)"]);
}

/// MULTIAPPEND (RFC 3502): several messages in one APPEND, each with its
/// flags and date, stored all or none, with their UIDs in APPENDUID.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multiappend_stores_all_or_none() {
    let world = world().await;
    let addr = listen(world.imap.clone()).await;
    let mut c = Client::login(addr, "alice@contoso.com", "Alice-pass-123").await;
    let caps = c.cmd("c", "CAPABILITY").await;
    assert!(caps[0].split(' ').any(|w| w == "MULTIAPPEND"), "{caps:?}");
    c.cmd("c1", "CREATE Saved").await;
    let one = "Subject: one\r\n\r\n1\r\n";
    let two = "Subject: two\r\n\r\n2\r\n";
    let command = format!(
        "a APPEND Saved (\\Seen) {{{}+}}\r\n{one} \"01-Feb-2020 10:00:00 +0000\" {{{}+}}\r\n{two}\r\n",
        one.len(),
        two.len()
    );
    let answer = String::from_utf8(c.raw("a", command.as_bytes()).await).unwrap();
    let ok = answer.lines().last().unwrap();
    assert!(ok.starts_with("a OK [APPENDUID ") && ok.ends_with(" 1:2] APPEND completed"), "{answer}");
    c.cmd("s", "SELECT Saved").await;
    let fetched = c.cmd("f", "FETCH 1:2 (FLAGS INTERNALDATE BODY.PEEK[HEADER.FIELDS (SUBJECT)])").await;
    assert!(fetched[0].starts_with("* 1 FETCH (FLAGS (\\Recent \\Seen) "), "{fetched:?}");
    let second = "* 2 FETCH (FLAGS (\\Recent) INTERNALDATE \"01-Feb-2020 10:00:00 +0000\"";
    assert!(fetched.iter().any(|l| l.starts_with(second)), "{fetched:?}");
    assert!(fetched.iter().any(|l| l == "Subject: two"), "{fetched:?}");

    // One message too big: nothing is stored, not even the first.
    let limit = world.imap.append_limit() as usize;
    let big = format!("Subject: big\r\n\r\n{}\r\n", "x".repeat(limit));
    let command = format!("b APPEND Saved {{{}+}}\r\n{one} {{{}+}}\r\n{big}\r\n", one.len(), big.len());
    let answer = String::from_utf8(c.raw("b", command.as_bytes()).await).unwrap();
    assert!(answer.contains("b NO [TOOBIG] Message 2 is too big"), "{answer}");
    // A zero-length message cancels (RFC 3502 §6.3.11).
    let command = format!("d APPEND Saved {{{}+}}\r\n{one} {{0+}}\r\n\r\n", one.len());
    let answer = String::from_utf8(c.raw("d", command.as_bytes()).await).unwrap();
    assert!(answer.contains("d NO APPEND cancelled"), "{answer}");
    let status = c.cmd("st", "STATUS Saved (MESSAGES)").await;
    assert_eq!(status[0], "* STATUS \"Saved\" (MESSAGES 2)", "nothing of the refused ones");
    // A missing folder: TRYCREATE, as for one message.
    let command = format!("e APPEND Nowhere {{{}+}}\r\n{one} {{{}+}}\r\n{two}\r\n", one.len(), two.len());
    let answer = String::from_utf8(c.raw("e", command.as_bytes()).await).unwrap();
    assert!(answer.contains("e NO [TRYCREATE]"), "{answer}");
    // Bad flags on one message: BAD, nothing stored.
    let command =
        format!("g APPEND Saved {{{}+}}\r\n{one} (\\Frob) {{{}+}}\r\n{two}\r\n", one.len(), two.len());
    let answer = String::from_utf8(c.raw("g", command.as_bytes()).await).unwrap();
    assert!(answer.contains("g BAD "), "{answer}");
    let status = c.cmd("st2", "STATUS Saved (MESSAGES)").await;
    assert_eq!(status[0], "* STATUS \"Saved\" (MESSAGES 2)");
    // Synchronizing literals (a continuation for each), a literal8, the
    // folder quoted: the next UIDs.
    let command = format!("h APPEND \"Saved\" {{{}}}\r\n{one} ~{{{}}}\r\n{two}\r\n", one.len(), two.len());
    let answer = String::from_utf8(c.raw("h", command.as_bytes()).await).unwrap();
    assert_eq!(answer.matches("+ ").count(), 2, "{answer}");
    let ok = answer.lines().last().unwrap();
    assert!(ok.starts_with("h OK [APPENDUID ") && ok.ends_with(" 3:4] APPEND completed"), "{answer}");
}

/// The octets of `FETCH <n> BODY.PEEK[]` on the selected folder.
async fn whole_message(c: &mut Client, tag: &str, n: u32) -> Vec<u8> {
    let answer = c.raw(tag, format!("{tag} FETCH {n} BODY.PEEK[]\r\n").as_bytes()).await;
    let open = answer.windows(3).position(|w| w == b"}\r\n").unwrap() + 3;
    let length: usize =
        String::from_utf8_lossy(&answer[..open - 3]).rsplit('{').next().unwrap().parse().unwrap();
    answer[open..open + length].to_vec()
}

/// CATENATE (RFC 4469): a message put together from text and IMAP URLs of
/// what this user can read — absolute, relative to the selected folder, on
/// this server's `imap://` name, of a part, a header, a range — and
/// `NO [BADURL]` for anything else, with nothing stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catenate_builds_messages_from_stored_parts() {
    let world = world().await;
    let addr = listen(world.imap.clone()).await;
    let mut c = Client::login(addr, "alice@contoso.com", "Alice-pass-123").await;
    let caps = c.cmd("c", "CAPABILITY").await;
    assert!(caps[0].split(' ').any(|w| w == "CATENATE"), "{caps:?}");
    c.cmd("c1", "CREATE Saved").await;
    let header =
        "Subject: original\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n";
    let body = "--b\r\nContent-Type: text/plain\r\n\r\nbody one\r\n--b\r\nContent-Type: text/plain\r\n\r\nsecond part\r\n--b--\r\n";
    let original = format!("{header}{body}");
    let answer = c.cmd("a1", &format!("APPEND Saved {{{}+}}\r\n{original}", original.len())).await;
    let ok = answer.last().unwrap();
    let validity: u32 = ok.split(' ').nth(3).unwrap().parse().unwrap();

    // The header of UID 1, new text, its second part: one new message.
    let text = "--b\r\nContent-Type: text/plain\r\n\r\nmy reply\r\n--b\r\nContent-Type: text/plain\r\n\r\n";
    let command = format!(
        "a2 APPEND Saved (\\Seen) CATENATE (URL \"/Saved;UIDVALIDITY={validity}/;UID=1/;SECTION=HEADER\" TEXT {{{}}}\r\n{text} URL /Saved/;uid=1/;section=2 TEXT {{9+}}\r\n\r\n--b--\r\n)\r\n",
        text.len()
    );
    let answer = String::from_utf8(c.raw("a2", command.as_bytes()).await).unwrap();
    assert_eq!(answer.matches("+ ").count(), 1, "one synchronizing literal: {answer}");
    let ok = answer.lines().last().unwrap();
    assert!(ok.starts_with(&format!("a2 OK [APPENDUID {validity} 2]")), "{answer}");
    c.cmd("s", "SELECT Saved").await;
    let made = whole_message(&mut c, "f1", 2).await;
    assert_eq!(String::from_utf8(made).unwrap(), format!("{header}{text}second part\r\n--b--\r\n"));
    let flags = c.cmd("f2", "FETCH 2 FLAGS").await;
    assert!(flags[0].contains("\\Seen"), "{flags:?}");

    // Relative to the selected folder, this server's imap:// name, a range,
    // the shared mailbox Alice has Full Access to, and MULTIAPPEND beside it.
    world.deliver("info@contoso.com", "Subject: to info\r\n\r\nshared text\r\n").await;
    let command = "a3 APPEND Saved CATENATE (URL \";UID=1/;PARTIAL=0.17\" TEXT {2+}\r\n\r\n URL \"imap://alice@localhost/Saved/;UID=1/;SECTION=1\" URL \"/Shared%2Finfo%40contoso.com%2FINBOX/;UID=1/;SECTION=TEXT\") {3+}\r\nx\r\n\r\n";
    let answer = String::from_utf8(c.raw("a3", command.as_bytes()).await).unwrap();
    assert!(
        answer.lines().last().unwrap().starts_with(&format!("a3 OK [APPENDUID {validity} 3:4]")),
        "{answer}"
    );
    let made = whole_message(&mut c, "f3", 3).await;
    // A part's octets end before the CRLF that belongs to the next boundary.
    assert_eq!(String::from_utf8(made).unwrap(), "Subject: original\r\nbody oneshared text\r\n");

    // What isn't there, or isn't Alice's to read: NO [BADURL], nothing stored.
    for (tag, url) in [
        ("b1", format!("/Saved;UIDVALIDITY={}/;UID=1", validity + 1)),
        ("b2", "/Saved/;UID=99".to_string()),
        ("b3", "/Saved/;UID=1/;SECTION=7".to_string()),
        ("b4", "imap://elsewhere.example/Saved/;UID=1".to_string()),
        ("b5", "/Nowhere/;UID=1".to_string()),
        ("b6", "/Saved/;UID=1;URLAUTH=anonymous".to_string()),
        ("b7", "/Saved/;UID=1/;SECTION=BOGUS".to_string()),
    ] {
        let answer = c.cmd(tag, &format!("APPEND Saved CATENATE (TEXT {{2+}}\r\nhi URL \"{url}\")")).await;
        assert_eq!(
            answer.last().unwrap(),
            &format!("{tag} NO [BADURL {url}] Message 1: nothing this account can read at that URL"),
        );
    }
    // The shared folder by its name as LIST gives it (`/` inside): Alice
    // may read it; Dave, with no access, is answered exactly as for a
    // folder that doesn't exist.
    let shared = "/Shared/info@contoso.com/INBOX/;UID=1";
    let answer = c.cmd("a4", &format!("APPEND Saved CATENATE (URL \"{shared}\")")).await;
    assert!(answer.last().unwrap().starts_with("a4 OK [APPENDUID "), "{answer:?}");
    let mut dave = Client::login(addr, "dave@contoso.com", "Dave-pass-123").await;
    let answer = dave.cmd("d1", &format!("APPEND INBOX CATENATE (URL \"{shared}\")")).await;
    let absent = "/Shared/nobody@contoso.com/INBOX/;UID=1";
    let nowhere = dave.cmd("d1", &format!("APPEND INBOX CATENATE (URL \"{absent}\")")).await;
    assert_eq!(answer.last().unwrap().replace(shared, "URL"), nowhere.last().unwrap().replace(absent, "URL"));
    assert!(answer.last().unwrap().starts_with("d1 NO [BADURL "), "Dave has no access to Info: {answer:?}");
    let answer = dave.cmd("d2", "APPEND INBOX CATENATE (URL \";UID=1\")").await;
    assert!(answer.last().unwrap().starts_with("d2 NO [BADURL "), "nothing selected: {answer:?}");

    // Too big once put together: TOOBIG, nothing stored.
    let limit = world.imap.append_limit() as usize;
    let half = format!("Subject: half\r\n\r\n{}\r\n", "x".repeat(limit / 2));
    c.cmd("h1", &format!("APPEND Saved {{{}+}}\r\n{half}", half.len())).await;
    let answer = c.cmd("h2", "APPEND Saved CATENATE (URL /Saved/;UID=6 URL /Saved/;UID=6)").await;
    assert!(answer.last().unwrap().starts_with("h2 NO [TOOBIG]"), "{answer:?}");
    // Each message fits, but the whole command would make the server hold
    // more than a command may carry.
    let three =
        "APPEND Saved CATENATE (URL /Saved/;UID=6) CATENATE (URL /Saved/;UID=6) CATENATE (URL /Saved/;UID=6)";
    let answer = c.cmd("h4", three).await;
    assert!(answer.last().unwrap().starts_with("h4 NO [TOOBIG] Message 3"), "{answer:?}");
    let answer = c.cmd("h3", "APPEND Saved CATENATE ()").await;
    assert!(answer.last().unwrap().starts_with("h3 BAD "), "{answer:?}");
    let status = c.cmd("st", "STATUS Saved (MESSAGES)").await;
    assert_eq!(status[0], "* STATUS \"Saved\" (MESSAGES 6)", "only the good ones");
}
