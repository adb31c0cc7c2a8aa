//! The shared namespace with a real client (Python's imaplib): what a
//! member, a member through a group and a non-member see and may do; the
//! mailbox commands in both namespaces; immediacy of a revoked grant.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

mod common;

use common::{listen, python, world};

const MESSAGE_1: &str = "From: Sender <sender@fabrikam.example>\r\nTo: info@contoso.com\r\nSubject: First question\r\nMessage-ID: <q1@fabrikam.example>\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\n\r\nHello, can you help?\r\n";
const MESSAGE_2: &str = "From: Other <other@fabrikam.example>\r\nTo: info@contoso.com\r\nSubject: Invoice\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nSee attached.\r\n--b\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0=\r\n--b--\r\n";

const LISTING: &str = r#"
import imaplib, json, sys
port = int(sys.argv[1])
out = {}
def session(login):
    m = imaplib.IMAP4('127.0.0.1', port)
    m.login(login, login.split('@')[0].capitalize() + '-pass-123')
    return m
for who in ['alice@contoso.com', 'carol@contoso.com', 'dave@contoso.com']:
    m = session(who)
    out[who] = {
        'list': [l.decode() for l in m.list('""', '*')[1]],
        'lsub': [l.decode() for l in m.lsub('""', '*')[1]],
        'select': m.select('"Shared/info@contoso.com/INBOX"')[0],
        'status': m.status('"Shared/info@contoso.com/INBOX"', '(MESSAGES UNSEEN UIDNEXT)')[1][0].decode() if who != 'dave@contoso.com' else m.status('"Shared/info@contoso.com/INBOX"', '(MESSAGES)')[0],
    }
    m.logout()
print(json.dumps(out))
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_see_the_shared_mailbox_and_non_members_nothing() {
    let world = world().await;
    world.deliver("info@contoso.com", MESSAGE_1).await;
    world.deliver("info@contoso.com", MESSAGE_2).await;
    let addr = listen(world.imap.clone()).await;
    let out = python(LISTING, addr).await;

    let alice = &out["alice@contoso.com"];
    let list: Vec<&str> = alice["list"].as_array().unwrap().iter().map(|l| l.as_str().unwrap()).collect();
    assert_eq!(
        list,
        [
            r#"(\HasNoChildren) "/" "INBOX""#,
            r#"(\HasNoChildren \Archive) "/" "Archive""#,
            r#"(\HasNoChildren \Trash) "/" "Deleted Items""#,
            r#"(\HasNoChildren \Drafts) "/" "Drafts""#,
            r#"(\HasNoChildren \Junk) "/" "Junk Email""#,
            r#"(\HasNoChildren) "/" "Recoverable Items""#,
            r#"(\HasNoChildren \Sent) "/" "Sent Items""#,
            r#"(\Noselect \HasChildren) "/" "Shared""#,
            r#"(\Noselect \HasChildren) "/" "Shared/info@contoso.com""#,
            r#"(\HasNoChildren) "/" "Shared/info@contoso.com/INBOX""#,
            r#"(\HasNoChildren \Archive) "/" "Shared/info@contoso.com/Archive""#,
            r#"(\HasNoChildren \Trash) "/" "Shared/info@contoso.com/Deleted Items""#,
            r#"(\HasNoChildren \Drafts) "/" "Shared/info@contoso.com/Drafts""#,
            r#"(\HasNoChildren \Junk) "/" "Shared/info@contoso.com/Junk Email""#,
            r#"(\HasNoChildren) "/" "Shared/info@contoso.com/Recoverable Items""#,
            r#"(\HasNoChildren \Sent) "/" "Shared/info@contoso.com/Sent Items""#,
        ]
    );
    // Automapped (direct grant): the shared folders are subscribed with no setup.
    let lsub: Vec<&str> = alice["lsub"].as_array().unwrap().iter().map(|l| l.as_str().unwrap()).collect();
    assert!(lsub.contains(&r#"(\HasNoChildren) "/" "Shared/info@contoso.com/INBOX""#), "{lsub:?}");
    assert_eq!(alice["select"], "OK");
    assert_eq!(alice["status"], r#""Shared/info@contoso.com/INBOX" (MESSAGES 2 UNSEEN 2 UIDNEXT 3)"#);

    // Through a group: listed and usable, but not subscribed (SPEC §2).
    let carol = &out["carol@contoso.com"];
    let list: Vec<&str> = carol["list"].as_array().unwrap().iter().map(|l| l.as_str().unwrap()).collect();
    assert!(list.contains(&r#"(\HasNoChildren) "/" "Shared/info@contoso.com/INBOX""#), "{list:?}");
    let lsub: Vec<&str> = carol["lsub"].as_array().unwrap().iter().map(|l| l.as_str().unwrap()).collect();
    assert!(lsub.iter().all(|l| !l.contains("Shared")), "group grants don't automap: {lsub:?}");
    assert_eq!(carol["select"], "OK");

    // No access: nothing shared is listed, and it doesn't exist for Dave.
    let dave = &out["dave@contoso.com"];
    let list: Vec<&str> = dave["list"].as_array().unwrap().iter().map(|l| l.as_str().unwrap()).collect();
    assert_eq!(list.len(), 7, "only Dave's own folders: {list:?}");
    assert_eq!(dave["select"], "NO");
    assert_eq!(dave["status"], "NO");
}

const WORKING: &str = r#"
import imaplib, json, sys
port = int(sys.argv[1])
out = {}
a = imaplib.IMAP4('127.0.0.1', port); a.login('alice@contoso.com', 'Alice-pass-123')
c = imaplib.IMAP4('127.0.0.1', port); c.login('carol@contoso.com', 'Carol-pass-123')
a.select('"Shared/info@contoso.com/INBOX"')
typ, data = a.fetch('1:*', '(UID FLAGS RFC822.SIZE ENVELOPE BODYSTRUCTURE BODY.PEEK[HEADER.FIELDS (SUBJECT)])')
out['fetch'] = [d.decode(errors='replace') if isinstance(d, bytes) else [x.decode(errors='replace') for x in d] for d in data]
typ, data = a.fetch('2', '(BODY[1] BODY[2.MIME])')
out['parts'] = [x.decode() if isinstance(x, bytes) else [y.decode() for y in x] for x in data]
out['seen_by_alice'] = a.fetch('2', '(FLAGS)')[1][0].decode()
c.select('"Shared/info@contoso.com/INBOX"', readonly=True)
out['seen_by_carol'] = c.fetch('2', '(FLAGS)')[1][0].decode()
out['readonly_store'] = c.store('1', '+FLAGS', '\\Flagged')[0]
out['search'] = a.search(None, 'SUBJECT', 'invoice')[1][0].decode()
out['uid_search'] = a.uid('SEARCH', 'UNSEEN')[1][0].decode()
out['store'] = [x.decode() for x in a.store('1', '+FLAGS', '(\\Deleted $Done)')[1]]
typ, data = a.copy('1', 'Archive')
out['copy'] = data[0].decode()
out['expunge'] = [x.decode() for x in a.expunge()[1] if x]
out['after'] = a.status('"Shared/info@contoso.com/INBOX"', '(MESSAGES)')[1][0].decode()
out['archive'] = a.status('Archive', '(MESSAGES)')[1][0].decode()
typ, data = a.append('"Shared/info@contoso.com/Sent Items"', '(\\Seen)', None, b'From: info@contoso.com\r\nSubject: Re: Invoice\r\n\r\nThanks!\r\n')
out['append'] = [x.decode() for x in data]
out['sent'] = a.status('"Shared/info@contoso.com/Sent Items"', '(MESSAGES)')[1][0].decode()
a.select('Archive')
out['move'] = a.uid('MOVE', '1', '"Shared/info@contoso.com/Deleted Items"')[0]
out['archive_after_move'] = a.status('Archive', '(MESSAGES)')[1][0].decode()
out['create'] = a.create('Projects/2026')[0]
out['create_again'] = a.create('projects/2026')[0]
out['list_projects'] = [l.decode() for l in a.list('""', 'Projects*')[1]]
out['rename'] = a.rename('Projects', 'Work')[0]
out['list_work'] = [l.decode() for l in a.list('""', '%')[1]]
out['delete_default'] = a.delete('"Sent Items"')[0]
out['delete'] = a.delete('Work/2026')[0]
out['create_shared'] = a.create('"Shared/info@contoso.com/Cases"')[0]
a.logout(); c.logout()
print(json.dumps(out))
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn working_in_the_shared_mailbox() {
    let world = world().await;
    world.deliver("info@contoso.com", MESSAGE_1).await;
    world.deliver("info@contoso.com", MESSAGE_2).await;
    let addr = listen(world.imap.clone()).await;
    let out = python(WORKING, addr).await;
    let fetch = out["fetch"].to_string();
    // Recent: this session's SELECT was the first to see it.
    assert!(fetch.contains("UID 1 FLAGS (\\\\Recent) RFC822.SIZE"), "{fetch}");
    assert!(fetch.contains(r#"ENVELOPE (\"Mon, 23 Nov 2026 10:00:00 +0000\" \"First question\" ((\"Sender\" NIL \"sender\" \"fabrikam.example\"))"#), "{fetch}");
    assert!(fetch.contains(r#"BODYSTRUCTURE ((\"TEXT\" \"PLAIN\""#), "{fetch}");
    assert!(fetch.contains(r#"\"APPLICATION\" \"PDF\" NIL NIL NIL \"BASE64\" 8"#), "{fetch}");
    assert!(fetch.contains("Subject: First question"), "{fetch}");
    let parts = out["parts"].to_string();
    assert!(parts.contains("See attached."), "{parts}");
    assert!(parts.contains("Content-Transfer-Encoding: base64"), "{parts}");
    // Reading without PEEK sets \Seen, and every member sees it.
    assert!(out["seen_by_alice"].as_str().unwrap().contains("\\Seen"), "{out}");
    assert!(out["seen_by_carol"].as_str().unwrap().contains("\\Seen"), "{out}");
    assert_eq!(out["readonly_store"], "NO");
    assert_eq!(out["search"], "2");
    assert_eq!(out["uid_search"], "1");
    assert!(out["store"][0].as_str().unwrap().contains("FLAGS (\\Recent \\Deleted $Done)"), "{out}");
    let copyuid = out["copy"].as_str().unwrap();
    assert!(copyuid.starts_with("[COPYUID ") && copyuid.ends_with(" 1 1] COPY completed"), "{copyuid}");
    assert_eq!(out["expunge"], serde_json::json!(["1"]));
    assert_eq!(out["after"], r#""Shared/info@contoso.com/INBOX" (MESSAGES 1)"#);
    assert_eq!(out["archive"], r#""Archive" (MESSAGES 1)"#);
    assert!(out["append"][0].as_str().unwrap().starts_with("[APPENDUID "), "{out}");
    assert_eq!(out["sent"], r#""Shared/info@contoso.com/Sent Items" (MESSAGES 1)"#);
    assert_eq!(out["move"], "OK");
    assert_eq!(out["archive_after_move"], r#""Archive" (MESSAGES 0)"#);
    assert_eq!(out["create"], "OK");
    assert_eq!(out["create_again"], "NO");
    assert_eq!(
        out["list_projects"],
        serde_json::json!([r#"(\HasChildren) "/" "Projects""#, r#"(\HasNoChildren) "/" "Projects/2026""#])
    );
    assert_eq!(out["rename"], "OK");
    let top = out["list_work"].to_string();
    assert!(top.contains(r#"\"Work\""#) && !top.contains("Projects"), "{top}");
    assert_eq!(out["delete_default"], "NO");
    assert_eq!(out["delete"], "OK");
    assert_eq!(out["create_shared"], "OK");
    // What the store holds now: the moved message sits in the shared Deleted Items.
    let info = world.mailbox("info@contoso.com").await;
    let folders = world.mail.folder_statistics(&mailroom_core::directory::Actor::System, info).await.unwrap();
    let count = |name: &str| folders.iter().find(|f| f.name == name).unwrap().messages;
    assert_eq!((count("Inbox"), count("Sent Items"), count("Deleted Items"), count("Cases")), (1, 1, 1, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_mail_and_a_revoked_grant_reach_open_sessions() {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let world = world().await;
    world.deliver("info@contoso.com", MESSAGE_1).await;
    let addr = listen(world.imap.clone()).await;
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::new(read);
    let until = async |tag: &str, read: &mut BufReader<tokio::net::tcp::OwnedReadHalf>| {
        let mut lines = Vec::new();
        loop {
            let mut line = String::new();
            assert!(read.read_line(&mut line).await.unwrap() > 0, "closed; got {lines:?}");
            let done = line.starts_with(&format!("{tag} ")) || line.starts_with("* BYE");
            lines.push(line.trim_end().to_string());
            if done {
                return lines;
            }
        }
    };
    let mut greeting = String::new();
    read.read_line(&mut greeting).await.unwrap();
    write.write_all(b"a1 LOGIN alice@contoso.com Alice-pass-123\r\n").await.unwrap();
    until("a1", &mut read).await;
    write.write_all(b"a2 SELECT \"Shared/info@contoso.com/INBOX\"\r\n").await.unwrap();
    let selected = until("a2", &mut read).await;
    assert!(selected.contains(&"* 1 EXISTS".to_string()), "{selected:?}");
    // A delivery meanwhile shows at the next command.
    world.deliver("info@contoso.com", MESSAGE_2).await;
    write.write_all(b"a3 NOOP\r\n").await.unwrap();
    assert_eq!(until("a3", &mut read).await, ["* 2 EXISTS", "* 2 RECENT", "a3 OK NOOP completed"]);
    // The admin removes Alice; her next command loses the folder.
    let info = world.mailbox("info@contoso.com").await;
    let alice = world.mail.directory().resolve("alice@contoso.com").await.unwrap();
    world
        .mail
        .directory()
        .remove_member(&mailroom_core::directory::Actor::System, info, alice.id)
        .await
        .unwrap();
    write.write_all(b"a4 FETCH 1 FLAGS\r\n").await.unwrap();
    let gone = until("a4", &mut read).await;
    assert_eq!(gone, ["* BYE Access to Shared/info@contoso.com/INBOX was removed"]);
    let mut rest = String::new();
    assert_eq!(read.read_line(&mut rest).await.unwrap(), 0, "closed");
    // Signing in again: the shared folders are gone from LIST.
    let out = python(
        r#"
import imaplib, json, sys
m = imaplib.IMAP4('127.0.0.1', int(sys.argv[1])); m.login('alice@contoso.com', 'Alice-pass-123')
print(json.dumps({'list': [l.decode() for l in m.list('""', '*')[1]], 'select': m.select('"Shared/info@contoso.com/INBOX"')[0]}))
"#,
        addr,
    )
    .await;
    assert!(!out["list"].to_string().contains("Shared"), "{out}");
    assert_eq!(out["select"], "NO");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_names_a_blocked_account_and_a_full_mailbox() {
    use common::Client;
    let world = world().await;
    world.deliver("info@contoso.com", MESSAGE_1).await;
    let addr = listen(world.imap.clone()).await;
    let mut alice = Client::login(addr, "alice@contoso.com", "Alice-pass-123").await;
    // Names that could never be addressed again are refused; non-ASCII patterns don't crash.
    assert_eq!(
        alice.cmd("c1", "CREATE {5+}\r\nab\r\nc").await,
        ["c1 NO [CANNOT] That name can't be a folder"]
    );
    assert_eq!(alice.cmd("c2", "CREATE \"a//b\"").await, ["c2 NO [CANNOT] That name can't be a folder"]);
    let answer = alice.cmd("l1", "LIST \"\" \"é€x\"").await;
    assert!(
        answer == ["l1 OK LIST completed"] || answer[0].starts_with("l1 BAD"),
        "answered, not crashed: {answer:?}"
    );
    assert_eq!(alice.cmd("l0", "NOOP").await, ["l0 OK NOOP completed"], "the session survives");
    let long = "x".repeat(2000);
    assert_eq!(
        alice.cmd("l2", &format!("LIST \"\" \"{long}\"")).await,
        ["l2 BAD Pattern too long (at most 1024 octets)"]
    );
    // INBOX children show on INBOX.
    common::assert_created(&alice.cmd("c3", "CREATE INBOX/Later").await, "c3");
    let list = alice.cmd("l3", "LIST \"\" INBOX").await;
    assert_eq!(list[0], r#"* LIST (\HasChildren) "/" "INBOX""#);
    assert_eq!(
        alice.cmd("c4", "CREATE INBOX/Later").await,
        ["c4 NO [ALREADYEXISTS] INBOX/Later already exists"]
    );

    // A full shared mailbox takes nothing more by APPEND or COPY.
    let info = world.mailbox("info@contoso.com").await;
    let mut settings = world.mail.directory().mailbox_settings(info).await.unwrap();
    settings.quota.prohibit_send_receive = mailroom_core::directory::Quota::Bytes(10);
    settings.quota.prohibit_send = mailroom_core::directory::Quota::Bytes(10);
    settings.quota.issue_warning = mailroom_core::directory::Quota::Bytes(10);
    world.store.set_mailbox_settings(info, &settings).await.unwrap();
    let full = alice.cmd("a1", "APPEND \"Shared/info@contoso.com/INBOX\" {9+}\r\nSubject:x").await;
    assert_eq!(
        full,
        [
            "a1 NO [OVERQUOTA] The mailbox \"info@contoso.com\" is full: it is over its ProhibitSendReceive quota."
        ]
    );
    alice.cmd("s1", "SELECT INBOX").await;
    world.deliver("alice@contoso.com", MESSAGE_2).await;
    alice.cmd("n1", "NOOP").await;
    let copy = alice.cmd("k1", "COPY 1 \"Shared/info@contoso.com/Archive\"").await;
    assert_eq!(
        copy,
        [
            "k1 NO [OVERQUOTA] The mailbox \"info@contoso.com\" is full: it is over its ProhibitSendReceive quota."
        ]
    );

    // Blocked while signed in: the next command ends the session.
    let id = world.mail.directory().resolve("alice@contoso.com").await.unwrap().id;
    world
        .mail
        .directory()
        .set_sign_in_blocked(&mailroom_core::directory::Actor::System, id, true)
        .await
        .unwrap();
    use tokio::io::AsyncWriteExt;
    alice.write.write_all(b"z1 NOOP\r\n").await.unwrap();
    assert_eq!(alice.line().await, "* BYE Your account can no longer sign in");
}

/// RFC 9051 §6.3.12 / §6.4.7: TRYCREATE invites a CREATE, so it is given
/// only where one would succeed; a folder of a mailbox the user can't open
/// (another person's, a shared one without Full Access) doesn't exist.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trycreate_only_where_create_would_work() {
    use common::Client;
    let world = world().await;
    world.deliver("dave@contoso.com", MESSAGE_1).await;
    let addr = listen(world.imap.clone()).await;
    let mut dave = Client::login(addr, "dave@contoso.com", "Dave-pass-123").await;
    for (i, name) in [
        "Shared/info@contoso.com/INBOX",
        "Shared/info@contoso.com/Brand new",
        "Shared/alice@contoso.com/INBOX",
        "Shared/nobody@contoso.com/INBOX",
        "Shared/info@contoso.com",
        "Shared",
    ]
    .iter()
    .enumerate()
    {
        let append = dave.cmd(&format!("a{i}"), &format!("APPEND \"{name}\" {{9+}}\r\nSubject:x")).await;
        assert_eq!(append, [format!("a{i} NO [NONEXISTENT] No such mailbox: {name}")]);
    }
    dave.cmd("s", "SELECT INBOX").await;
    let copy = dave.cmd("c1", "COPY 1 \"Shared/info@contoso.com/INBOX\"").await;
    assert_eq!(copy, ["c1 NO [NONEXISTENT] No such mailbox: Shared/info@contoso.com/INBOX"]);
    let moved = dave.cmd("c2", "MOVE 1 \"Shared/info@contoso.com/Later\"").await;
    assert_eq!(moved, ["c2 NO [NONEXISTENT] No such mailbox: Shared/info@contoso.com/Later"]);
    // Creatable: a new folder of one's own, or of a shared mailbox one holds Full Access on.
    let own = dave.cmd("c3", "COPY 1 \"Projects\"").await;
    assert_eq!(own, ["c3 NO [TRYCREATE] No such mailbox: Projects"]);
    common::assert_created(&dave.cmd("c4", "CREATE Projects").await, "c4");
    assert_eq!(
        dave.cmd("c5", "COPY 1 Projects").await[0].split(' ').take(3).collect::<Vec<_>>(),
        ["c5", "OK", "[COPYUID"]
    );
    let mut alice = Client::login(addr, "alice@contoso.com", "Alice-pass-123").await;
    let shared = alice.cmd("a9", "APPEND \"Shared/info@contoso.com/Brand new\" {9+}\r\nSubject:x").await;
    assert_eq!(shared, ["a9 NO [TRYCREATE] No such mailbox: Shared/info@contoso.com/Brand new"]);
    common::assert_created(&alice.cmd("b1", "CREATE \"Shared/info@contoso.com/Brand new\"").await, "b1");
    // And the same name is still nonexistent for Dave.
    let append = dave.cmd("a10", "APPEND \"Shared/info@contoso.com/Brand new\" {9+}\r\nSubject:x").await;
    assert_eq!(append, ["a10 NO [NONEXISTENT] No such mailbox: Shared/info@contoso.com/Brand new"]);
}
