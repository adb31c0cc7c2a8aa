//! Assignment and handled state through `mailroom serve` (SPEC §5): keywords
//! every IMAP client sees and sets (`$Assigned`, `$AssignedTo_<alias>`,
//! `$Handled`), and the web app's Assign / Mark handled with its views —
//! set over IMAP, seen in the browser, and the other way round, each change
//! on the mailbox's trail. Python's imaplib on one side, headless Chromium
//! (`tests/browser/assign.py`) on the other; screenshots land in the target
//! directory's `screenshots/`.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use mailroom_testkit::{Cli, INFO_TEAM, browse, http, mx_send_message, python};

/// Carol: a colleague who isn't a member of info@.
const EXTRA: &str = "New-Mailbox -Name Carol -Alias carol -DisplayName 'Carol Outsider' -PrimarySmtpAddress carol@contoso.com -Password 'Carol-pass-123'\n";

/// Alice names Bob as the assignee of "Order 1" (only `$AssignedTo_bob`:
/// the server adds `$Assigned`), and reports what IMAP shows.
const ALICE_ASSIGNS: &str = r#"
import imaplib, json, sys
out = {}
m = imaplib.IMAP4('127.0.0.1', int(sys.argv[1]))
m.login('alice@contoso.com', 'Alice-pass-123')
m.select('"Shared/info@contoso.com/INBOX"')
n = m.search(None, 'SUBJECT', '"Order 1"')[1][0].decode()
out['store'] = [l.decode() for l in m.store(n, '+FLAGS', '($AssignedTo_bob)')[1]]
out['assigned'] = m.search(None, 'KEYWORD', '$Assigned')[1][0].decode()
out['order1'] = n
print(json.dumps(out))
m.logout()
"#;

/// What IMAP shows after Bob's changes in the web app.
const ALICE_LOOKS: &str = r#"
import imaplib, json, sys
out = {}
m = imaplib.IMAP4('127.0.0.1', int(sys.argv[1]))
m.login('alice@contoso.com', 'Alice-pass-123')
m.select('"Shared/info@contoso.com/INBOX"', readonly=True)
for subject in ['Order 1', 'Order 2', 'Order 3']:
    n = m.search(None, 'SUBJECT', '"%s"' % subject)[1][0].decode()
    out[subject] = m.fetch(n, '(FLAGS)')[1][0].decode()
out['handled'] = m.search(None, 'KEYWORD', '$Handled')[1][0].decode()
out['mine'] = m.search(None, 'KEYWORD', '$AssignedTo_alice')[1][0].decode()
out['flags'] = [l.decode() for l in m.response('FLAGS')[1]]
print(json.dumps(out))
m.logout()
"#;

#[test]
fn assignment_set_over_imap_shows_in_the_web_app_and_back() {
    let cli = Cli::new(env!("CARGO_BIN_EXE_mailroom"));
    cli.contoso_with(&format!("{INFO_TEAM}{EXTRA}"));
    // Carol's id, for a forged assignment to someone who isn't a member.
    let created = cli.run(&["--json", "token", "create", "--name", "t"]).ok().json_array();
    let bearer = format!("Bearer {}", created[0]["Secret"].as_str().unwrap());
    let server = cli.serve(&[]);
    let found =
        http(server.http(), "GET", "/api/v1/mailboxes?q=carol", None, &[("Authorization", &bearer)], b"");
    let found: serde_json::Value = serde_json::from_str(&found.body).unwrap();
    let carol_id = found[0]["id"].as_i64().unwrap().to_string();
    let imap = server.imap().port().to_string();
    for n in 1..=3 {
        mx_send_message(
            &server,
            "customer@fabrikam.example",
            "info@contoso.com",
            &format!(
                "From: Customer <customer@fabrikam.example>\r\nTo: info@contoso.com\r\nSubject: Order {n}\r\n\r\nWhere is order {n}?\r\n"
            ),
        );
    }

    let out: serde_json::Value = serde_json::from_str(python(ALICE_ASSIGNS, &[&imap]).trim()).unwrap();
    let stored = out["store"].to_string();
    assert!(
        stored.contains("$AssignedTo_bob") && stored.contains("$Assigned "),
        "naming Bob assigns: {stored}"
    );
    assert_eq!(out["assigned"], out["order1"], "SEARCH KEYWORD finds it");

    let shots = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    let seen = browse(
        concat!(
            include_str!("browser/chromium.py"),
            include_str!("browser/mail_app.py"),
            include_str!("browser/assign.py")
        ),
        &server,
        &shots,
        &[&carol_id],
    );
    assert_eq!(seen["assigned_link"], "Assigned to me 1", "{seen}");
    assert_eq!(seen["mine"], serde_json::json!(["Order 1 Assigned to bob"]));
    assert_eq!(seen["order1_status"], "Assigned to Bob Smith");
    assert_eq!(seen["members"], serde_json::json!(["Nobody", "Alice Jones", "Bob Smith"]));
    assert_eq!(seen["order1_after"], "Assigned to Bob Smith · Handled");
    assert_eq!(seen["order2_status"], "Assigned to Alice Jones");
    assert_eq!(seen["forged_heading"], "That didn't work", "{seen}");
    assert!(seen["forged_text"].as_str().unwrap().contains("Only a member"), "{seen}");
    assert_eq!(seen["view_mine"], serde_json::json!([]), "his one is handled now");
    assert_eq!(seen["view_unassigned"], serde_json::json!(["Order 3"]));
    assert_eq!(seen["view_handled"], serde_json::json!(["Order 1 Handled"]));
    let rows = seen["inbox_rows"].to_string();
    assert!(rows.contains("Order 2 Assigned to alice"), "{rows}");

    // What Bob did in the browser, seen over IMAP.
    let out: serde_json::Value = serde_json::from_str(python(ALICE_LOOKS, &[&imap]).trim()).unwrap();
    let flags = |s: &str| out[s].as_str().unwrap().to_string();
    assert!(flags("Order 1").contains("$Handled") && flags("Order 1").contains("$AssignedTo_bob"), "{out}");
    assert!(
        flags("Order 2").contains("$AssignedTo_alice") && flags("Order 2").contains("$Assigned"),
        "{out}"
    );
    assert!(!flags("Order 3").contains("$Assigned"), "{out}");
    assert_eq!(out["handled"].as_str().unwrap().split_whitespace().count(), 1, "one handled: {out}");
    assert!(!out["mine"].as_str().unwrap().is_empty(), "Alice finds what she was given: {out}");
    assert!(out["flags"].to_string().contains("$Handled"), "FLAGS lists the keywords in use: {out}");

    // Every change is on the trail, with who made it.
    let trail: Vec<(String, String, String)> = cli
        .exo_json("Search-MailboxAuditLog info -Operations Assigned,Unassigned,Handled,Reopened")
        .iter()
        .rev()
        .map(|r| {
            let text = |k: &str| r[k].as_str().unwrap_or_default().to_string();
            (text("Operation"), text("LogonUserDisplayName"), text("Detail"))
        })
        .collect();
    let expected = [
        ("Assigned", "Alice Jones", "to bob"),
        ("Handled", "Bob Smith", ""),
        ("Assigned", "Bob Smith", "to alice"),
    ];
    let expected: Vec<(String, String, String)> =
        expected.iter().map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string())).collect();
    assert_eq!(trail, expected);
}
