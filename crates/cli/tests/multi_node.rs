//! Two nodes of one organisation (SPEC §6): two real `mailroom serve`
//! processes, each with a data directory of its own, on ONE PostgreSQL
//! store, driven by real clients. Mail accepted by one node is read on the
//! other; a session idling on one hears at once of a delivery, or of a
//! permission removed, through the other; and the outbound queue is sent by
//! both, a node killed mid-send having its unfinished entries finished by
//! the other once it is taken as gone — every recipient reached, none twice
//! except what the dead node had sent but not yet recorded.
//!
//! The embedded store can't be shared, so these tests are on PostgreSQL
//! whatever `MAILROOM_TEST_BACKEND` says, and skip (loudly) without
//! `MAILROOM_TEST_PG` outside CI.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use mailroom_testkit::{
    Cli, LineClient, Received, Server, Sink, hidden_field, http, python, web_post, web_sign_in,
};

const ORG: &str = r#"
New-Mailbox -Name Alice -Alias alice -PrimarySmtpAddress alice@contoso.com -Password 'Alice-pass-123'
New-Mailbox -Shared -Name Info -Alias info -PrimarySmtpAddress info@contoso.com
Add-MailboxPermission info -User alice -AccessRights FullAccess -InheritanceType All
"#;

const NODE_A: &str = "node-a";
const NODE_B: &str = "node-b";
/// Each node's host name: its EHLO when it sends, so the sink can tell them apart.
const HOST_A: &str = "node-a.contoso.test";
const HOST_B: &str = "node-b.contoso.test";

/// How soon a session on one node must hear of a change made through the
/// other (SPEC §2's "at once", across nodes).
const AT_ONCE: Duration = Duration::from_secs(1);

/// Two running nodes of contoso.com on one PostgreSQL schema. Fields drop
/// in order: the servers first, then the nodes' directories; the schema
/// goes with the last `Cli` holding it.
struct Nodes {
    a: Server,
    b: Server,
    cli_b: Cli,
    cli_a: Cli,
}

/// contoso.com ([`ORG`]) on a fresh PostgreSQL schema, `configure`d (for
/// both nodes: the second node's configuration is a copy of the first's),
/// then served by two nodes, both seen as up by `mailroom status` on
/// either. `None` when PostgreSQL isn't available (outside CI).
fn two_nodes(configure: impl FnOnce(&Cli)) -> Option<Nodes> {
    let cli_a = Cli::on_postgres(env!("CARGO_BIN_EXE_mailroom"))?;
    cli_a.contoso_with(ORG);
    cli_a.set_node_name(NODE_A);
    cli_a.set_hostname(HOST_A);
    configure(&cli_a);
    let cli_b = cli_a.another_node(NODE_B);
    cli_b.set_hostname(HOST_B);
    let a = cli_a.serve(&[]);
    let b = cli_b.serve(&[]);
    let both_up = [(NODE_A.to_string(), "Up".to_string()), (NODE_B.to_string(), "Up".to_string())];
    eventually("mailroom status on either node to show both nodes up", Duration::from_secs(15), || {
        node_states(&cli_a) == both_up && node_states(&cli_b) == both_up
    });
    Some(Nodes { a, b, cli_b, cli_a })
}

/// `mailroom --json status`: (name, state) of every node, by name.
fn node_states(cli: &Cli) -> Vec<(String, String)> {
    let nodes = cli.run(&["--json", "status"]).ok().json_array();
    let mut states: Vec<(String, String)> = nodes
        .iter()
        .map(|n| (n["Name"].as_str().unwrap().to_string(), n["State"].as_str().unwrap().to_string()))
        .collect();
    states.sort();
    states
}

/// Polls `done` until it holds, failing after `limit`.
#[track_caller]
fn eventually(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < limit, "timed out after {limit:?} waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Alice signed in over IMAP on `server`, `folder` selected.
fn alice_on(server: &Server, folder: &str) -> LineClient {
    let mut c = LineClient::connect(server.imap());
    assert!(c.line().unwrap().starts_with("* OK"));
    let done = c.imap("a", "LOGIN alice@contoso.com Alice-pass-123");
    assert!(done.last().unwrap().starts_with("a OK"), "{done:?}");
    let selected = c.imap("b", &format!("SELECT \"{folder}\""));
    assert!(selected.last().unwrap().starts_with("b OK"), "{selected:?}");
    c
}

/// Alice idling on `server` in `folder`.
fn alice_idling_on(server: &Server, folder: &str) -> LineClient {
    let mut c = alice_on(server, folder);
    assert_eq!(c.imap("i", "IDLE").last().unwrap(), "+ idling");
    c
}

/// Delivers `message` (CRLF lines, no final dot) over `server`'s port 25;
/// when the final dot was sent, and when its `250` came back.
fn deliver(server: &Server, from: &str, to: &str, message: &str) -> (Instant, Instant) {
    let mut c = LineClient::smtp(server.smtp());
    assert_eq!(c.cmd(&format!("MAIL FROM:<{from}>")).code, 250);
    assert_eq!(c.cmd(&format!("RCPT TO:<{to}>")).code, 250);
    assert_eq!(c.cmd("DATA").code, 354);
    c.send(format!("{message}\r\n.\r\n").as_bytes());
    let sent = Instant::now();
    let reply = c.reply();
    let acknowledged = Instant::now();
    assert_eq!(reply.code, 250, "{reply}");
    assert_eq!(c.cmd("QUIT").code, 221);
    (sent, acknowledged)
}

/// Python's imaplib: signs in as Alice on port `argv[1]` and prints, hex
/// encoded, the whole of each message of her INBOX (BODY.PEEK[]), one a line.
const FETCH_INBOX: &str = r#"
import imaplib, sys
m = imaplib.IMAP4('127.0.0.1', int(sys.argv[1]))
m.login('alice@contoso.com', 'Alice-pass-123')
m.select('INBOX', readonly=True)
typ, data = m.fetch('1:*', '(BODY.PEEK[])')
assert typ == 'OK', data
for item in data:
    if isinstance(item, tuple):
        print(item[1].hex())
m.logout()
"#;

/// Alice's INBOX as imaplib reads it on `server`: each message's bytes.
fn inbox_over_imap(server: &Server) -> Vec<Vec<u8>> {
    let out = python(FETCH_INBOX, &[&server.imap().port().to_string()]);
    out.lines()
        .map(|hex| {
            (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap()).collect()
        })
        .collect()
}

#[test]
fn mail_accepted_by_one_node_is_read_on_the_other() {
    let Some(nodes) = two_nodes(|_| {}) else { return };
    let message = "From: Fred <fred@fabrikam.example>\r\nTo: alice@contoso.com\r\nSubject: across nodes\r\nMessage-ID: <across@fabrikam.example>\r\n\r\nSent to node A,\r\nread on node B.";
    deliver(&nodes.a, "fred@fabrikam.example", "alice@contoso.com", message);

    let on_b = inbox_over_imap(&nodes.b);
    assert_eq!(on_b.len(), 1, "one message in Alice's INBOX on node B");
    let bytes = String::from_utf8(on_b[0].clone()).unwrap();
    // What node A added in front (its trace fields), then the message as sent.
    assert!(bytes.ends_with(&format!("\r\n{message}\r\n")), "{bytes}");
    assert!(bytes.contains(&format!("by {HOST_A} (Mailroom)")), "node A received it: {bytes}");
    // The same octets on both nodes: one stored message.
    assert_eq!(inbox_over_imap(&nodes.a), on_b);
}

#[test]
fn a_session_idling_on_one_node_hears_of_a_delivery_to_the_other_at_once() {
    let Some(nodes) = two_nodes(|_| {}) else { return };
    let mut alice = alice_idling_on(&nodes.b, "INBOX");

    let message = "From: fred@fabrikam.example\r\nSubject: urgent\r\n\r\nplease call";
    let (sent, acknowledged) = deliver(&nodes.a, "fred@fabrikam.example", "alice@contoso.com", message);
    let line = alice.line_before(acknowledged + AT_ONCE);
    let (after_ack, after_dot) = (acknowledged.elapsed(), sent.elapsed());
    assert_eq!(
        line.as_deref(),
        Some("* 1 EXISTS"),
        "the session on node B heard of node A's delivery within {AT_ONCE:?} of its acknowledgement"
    );
    eprintln!(
        "IDLE on node B, delivery to node A: EXISTS read {after_ack:?} after node A's 250 ({after_dot:?} after the final dot)"
    );
    alice.send(b"DONE\r\n");
    let done = alice.imap("n", "NOOP");
    assert!(done.contains(&"i OK IDLE terminated".to_string()), "{done:?}");
}

#[test]
fn a_permission_removed_through_one_node_ends_the_session_on_the_other() {
    let Some(nodes) = two_nodes(|_| {}) else { return };
    let created = nodes.cli_a.run(&["--json", "token", "create", "--name", "multi-node"]).ok().json_array();
    let bearer = format!("Bearer {}", created[0]["Secret"].as_str().unwrap());
    let shared = "Shared/info@contoso.com/INBOX";
    let mut alice = alice_idling_on(&nodes.b, shared);

    // The admin API of node A (its own process and store connections).
    let reply = http(
        nodes.a.http(),
        "DELETE",
        "/api/v1/mailboxes/info/members/alice@contoso.com",
        None,
        &[("Authorization", &bearer)],
        b"",
    );
    let removed = Instant::now();
    assert_eq!(reply.status, 204, "{reply:?}");
    let line = alice.line_before(removed + AT_ONCE);
    let heard = removed.elapsed();
    assert_eq!(
        line.as_deref(),
        Some("* BYE Access to Shared/info@contoso.com/INBOX was removed"),
        "the session on node B was told within {AT_ONCE:?} of node A's answer"
    );
    eprintln!("member removed through node A: the session on node B was told {heard:?} after node A's 204");
    assert!(alice.closed());

    // And it stays ended: a new session on node B can't open the folder.
    let mut again = LineClient::connect(nodes.b.imap());
    assert!(again.line().unwrap().starts_with("* OK"));
    assert!(again.imap("a", "LOGIN alice@contoso.com Alice-pass-123").last().unwrap().starts_with("a OK"));
    let refused = again.imap("b", &format!("SELECT \"{shared}\""));
    assert!(refused.last().unwrap().starts_with("b NO"), "{refused:?}");
}

/// A browser signed in through node A is signed in on node B (the sessions
/// are in the store), and signing out through B signs it out on A too.
#[test]
fn a_browser_session_is_one_session_on_every_node() {
    let Some(nodes) = two_nodes(|_| {}) else { return };
    let cookie = web_sign_in(nodes.a.http(), "admin@contoso.com", "Admin-pass-123").unwrap();
    let admin_page = |server: &Server| {
        let home = http(server.http(), "GET", "/admin/", None, &[("Cookie", &cookie)], b"");
        match home.header("location") {
            Some(location) if !location.contains("sign-in") => {
                http(server.http(), "GET", location, None, &[("Cookie", &cookie)], b"")
            }
            _ => home,
        }
    };
    let on_b = admin_page(&nodes.b);
    assert_eq!(on_b.status, 200, "node B knows node A's session: {on_b:?}");
    let csrf = hidden_field(&on_b.body, "csrf");
    let out = web_post(nodes.b.http(), &cookie, "/admin/sign-out", &format!("csrf={csrf}"));
    assert_eq!(out.status, 303, "{out:?}");
    let on_a = admin_page(&nodes.a);
    assert_eq!(on_a.status, 303, "signed out on node A too: {on_a:?}");
    assert!(on_a.header("location").is_some_and(|l| l.contains("sign-in")), "{on_a:?}");
}

/// Messages submitted for the queue test, recipients per message, and the
/// domains they are spread over: each message is sent once per domain
/// (two recipients in each transaction), so 500 transactions in all.
const MESSAGES: usize = 20;
const PER_MESSAGE: usize = 50;
const DOMAINS: usize = 25;
/// Between two submissions: mail keeps coming while both nodes send, and
/// each new message is claimed by whichever node is free (a node claims
/// everything due when it starts a pass, and sends it all before the next).
const SUBMIT_EVERY: Duration = Duration::from_millis(250);

/// The recipients of message `m`, each address used once in the test.
fn recipients_of(m: usize) -> Vec<String> {
    (0..PER_MESSAGE).map(|i| format!("m{m:02}r{i:02}@d{:02}.example", i % DOMAINS)).collect()
}

fn subject_of(m: usize) -> String {
    format!("batch {m}")
}

/// Python's smtplib: signs in as Alice on the submission port `argv[2]`
/// and submits each message of `argv[4]` (JSON: `[[recipients], message]`),
/// `argv[3]` seconds apart; prints, per message, whether it was
/// acknowledged (and which recipients were refused, or the error).
const SUBMIT: &str = r#"
import json, smtplib, sys, time
host, port, pause, messages = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), json.loads(sys.argv[4])
s = smtplib.SMTP(host, port, timeout=60)
s.login('alice@contoso.com', 'Alice-pass-123')
out = []
for i, (rcpts, message) in enumerate(messages):
    if i:
        time.sleep(pause)
    try:
        refused = s.sendmail('alice@contoso.com', rcpts, message.encode())
        out.append({'acknowledged': True, 'refused': sorted(refused)})
    except smtplib.SMTPException as err:
        out.append({'acknowledged': False, 'error': repr(err)})
s.quit()
print(json.dumps(out))
"#;

/// Submits the test's messages through `server`'s submission port;
/// whether each was acknowledged (every recipient accepted), and how long
/// it all took.
fn submit_all(server: &Server) -> (Vec<bool>, Duration) {
    let started = Instant::now();
    let messages: Vec<serde_json::Value> = (0..MESSAGES)
        .map(|m| {
            let body = format!(
                "From: Alice <alice@contoso.com>\r\nTo: undisclosed-recipients:;\r\nSubject: {}\r\nMessage-ID: <batch-{m}@contoso.com>\r\n\r\nOne of {MESSAGES} messages to {PER_MESSAGE} people.\r\n",
                subject_of(m)
            );
            serde_json::json!([recipients_of(m), body])
        })
        .collect();
    let (port, pause) = (server.submission().port().to_string(), SUBMIT_EVERY.as_secs_f64().to_string());
    let out = python(SUBMIT, &["127.0.0.1", &port, &pause, &serde_json::Value::Array(messages).to_string()]);
    let results: Vec<serde_json::Value> = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(results.len(), MESSAGES);
    let acknowledged = results
        .iter()
        .map(|r| {
            assert!(
                r["acknowledged"] == false || r["refused"] == serde_json::json!([]),
                "a recipient was refused at submission: {r}"
            );
            r["acknowledged"] == true
        })
        .collect();
    (acknowledged, started.elapsed())
}

/// Seconds from `start` to `then`, negative if `then` came first.
fn seconds_after(start: Instant, then: Instant) -> f64 {
    then.saturating_duration_since(start).as_secs_f64() - start.saturating_duration_since(then).as_secs_f64()
}

/// Which node sent a transaction, by its EHLO name.
fn node_of(r: &Received) -> &'static str {
    match r.helo.as_str() {
        HOST_A => NODE_A,
        HOST_B => NODE_B,
        other => panic!("a transaction from an unknown client {other:?}"),
    }
}

/// The sink's transactions per recipient, in the order accepted.
fn deliveries(received: &[Received]) -> BTreeMap<String, Vec<&Received>> {
    let mut by_recipient: BTreeMap<String, Vec<&Received>> = BTreeMap::new();
    for r in received {
        for rcpt in &r.rcpts {
            by_recipient.entry(rcpt.clone()).or_default().push(r);
        }
    }
    by_recipient
}

/// 1,000 remote recipients queued and sent by both nodes through a slow
/// smarthost; node A is killed (SIGKILL) while both are sending. Node B
/// finishes everything, node A's claimed-but-unsent entries included once
/// node A is taken as gone (`DOWN_AFTER`, 20 s without a beat). Every
/// recipient reaches the sink, with its own message; none twice, except
/// those node A had sent but not yet recorded as sent when it died — at
/// least once across a crash, never lost.
#[test]
fn a_queue_sent_by_two_nodes_is_finished_by_one_when_the_other_is_killed() {
    // Slow enough that the kill finds both nodes with transactions in
    // progress and node A with claimed entries not yet sent.
    let sink = Sink::slow(Duration::from_millis(150));
    let Some(mut nodes) = two_nodes(|cli| cli.set_outbound(&sink.addr.to_string(), 1, 3600, 3600)) else {
        return;
    };
    let expected: BTreeMap<String, usize> =
        (0..MESSAGES).flat_map(|m| recipients_of(m).into_iter().map(move |r| (r, m))).collect();
    assert_eq!(expected.len(), MESSAGES * PER_MESSAGE);
    let started = Instant::now();
    let mut held_at_kill = (0, 0);
    let (kill_at, killed, sent_before, queued_after_kill, (acknowledged, submitted)) =
        std::thread::scope(|scope| {
            // Submitted through node B, which lives: the kill comes while
            // messages are still being submitted.
            let submitter = scope.spawn(|| submit_all(&nodes.b));
            // Both nodes sending: kill node A once the sink has some of the
            // transactions of each, and each has entries in hand (claimed,
            // not yet sent: under its name in the queue), node A a good part.
            let from = |node: &str| sink.received().iter().filter(|r| node_of(r) == node).count();
            let held = |queue: &[serde_json::Value], node: &str| {
                queue.iter().filter(|q| q["SendingNode"] == node).count()
            };
            eventually("both nodes to be sending, with entries in hand", Duration::from_secs(60), || {
                from(NODE_A) >= 10 && from(NODE_B) >= 1 && {
                    let queue = nodes.cli_b.queue();
                    held_at_kill = (held(&queue, NODE_A), held(&queue, NODE_B));
                    held_at_kill.0 >= 20 && held_at_kill.1 >= 1
                }
            });
            let kill_at = Instant::now();
            nodes.a.kill();
            let killed = Instant::now();
            let sent_before = (from(NODE_A), from(NODE_B));
            // What node A had claimed and not recorded as sent: still
            // queued under its name (node B can't claim it for a while).
            // Some of it the sink may have accepted, A dying before it
            // recorded it: those alone may arrive twice.
            let queued = nodes.cli_b.queue();
            (kill_at, killed, sent_before, queued, submitter.join().unwrap())
        });
    // No acknowledged message lost: all of them are (checked below).
    assert!(acknowledged.iter().all(|a| *a), "every submission acknowledged: {acknowledged:?}");
    let held_by_a: BTreeSet<String> = queued_after_kill
        .iter()
        .filter(|q| q["SendingNode"] == NODE_A)
        .map(|q| q["Recipient"].as_str().unwrap().to_string())
        .collect();
    assert!(
        !held_by_a.is_empty(),
        "node A had claimed entries it had not sent when it was killed: {} queued, sink had {sent_before:?} transactions from (A, B)",
        queued_after_kill.len()
    );

    // Node B finishes everything, node A's entries included.
    eventually("every recipient at the sink and an empty queue", Duration::from_secs(90), || {
        let received = sink.received();
        let got = deliveries(&received);
        expected.keys().all(|r| got.contains_key(r)) && nodes.cli_b.queue().is_empty()
    });
    let done = kill_at.elapsed();
    let received = sink.received();
    let got = deliveries(&received);

    // Each recipient got its own message.
    for (rcpt, copies) in &got {
        let m =
            *expected.get(rcpt).unwrap_or_else(|| panic!("the sink got mail for {rcpt}, never submitted"));
        for copy in copies {
            assert!(
                copy.data.contains(&format!("\r\nSubject: {}\r\n", subject_of(m))),
                "{rcpt}: {}",
                copy.data
            );
            assert_eq!(copy.from, "alice@contoso.com");
        }
    }
    // Exactly once, except what node A sent and died before recording:
    // accepted by the sink from node A (before the kill, or in a
    // transaction still open at the kill), and still queued under node
    // A's name after it — then sent once more, by node B.
    let mut repeated = Vec::new();
    for (rcpt, copies) in &got {
        if copies.len() == 1 {
            continue;
        }
        let nodes_sent: Vec<&str> = copies.iter().map(|c| node_of(c)).collect();
        assert!(
            copies.len() == 2 && nodes_sent == [NODE_A, NODE_B] && held_by_a.contains(rcpt),
            "{rcpt} was sent {} times, by {nodes_sent:?} (still queued for node A after the kill: {}); seconds after the kill: {:?}",
            copies.len(),
            held_by_a.contains(rcpt),
            copies.iter().map(|c| seconds_after(kill_at, c.at)).collect::<Vec<_>>()
        );
        // Seconds before the kill that node A's copy was accepted (negative:
        // accepted after it, the transaction being open when A died).
        let before = -seconds_after(kill_at, copies[0].at);
        assert!(
            before <= 1.0,
            "{rcpt}: node A's copy was accepted {before:.3} s before the kill, yet not recorded as sent"
        );
        repeated.push((rcpt.clone(), before));
    }
    // Node A sent nothing after it died (beyond transactions open at the kill).
    let open_at_kill = received.iter().filter(|r| node_of(r) == NODE_A && r.at > killed).count();
    assert!(open_at_kill <= 8, "at most one transaction per delivery slot was open: {open_at_kill}");
    // Node B sent what node A held, once node A was taken as gone.
    let taken_over: Vec<&Received> = received
        .iter()
        .filter(|r| node_of(r) == NODE_B && r.rcpts.iter().any(|rcpt| held_by_a.contains(rcpt)))
        .collect();
    let first_takeover = taken_over.iter().map(|r| r.at.saturating_duration_since(kill_at)).min().unwrap();
    assert!(
        first_takeover >= Duration::from_secs(15),
        "node A's entries were taken over {first_takeover:?} after the kill, before it could be taken as gone"
    );
    assert!(nodes.cli_b.queue().is_empty(), "the queue ends empty");
    assert!(nodes.cli_b.exo_json("Get-Queue").is_empty(), "Get-Queue shows it empty too");
    assert_eq!(
        node_states(&nodes.cli_b),
        [(NODE_A.to_string(), "Down".to_string()), (NODE_B.to_string(), "Up".to_string())]
    );
    eprintln!(
        "queue across two nodes: {} recipients submitted in {submitted:?}; node A killed {:?} after the start, with (A, B) = {sent_before:?} transactions at the sink and {held_at_kill:?} entries in hand just before; {} entries still A's after the kill ({} queued in all); \
         {open_at_kill} of A's transactions open at the kill; node B took A's entries over {first_takeover:?} after the kill; all done {done:?} after the kill; {} transactions in all, {} recipients twice (A's copy accepted these many seconds before the kill: {repeated:?})",
        expected.len(),
        kill_at.duration_since(started),
        held_by_a.len(),
        queued_after_kill.len(),
        received.len(),
        repeated.len(),
    );
}
