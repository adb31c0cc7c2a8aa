//! The collision guard (SPEC §5) in two browsers at once against `mailroom
//! serve`: while Alice writes a reply to a message of the shared info@
//! mailbox, Bob reading it sees "Alice Jones is replying" within two
//! seconds; Bob's reply, sent after hers, asks "Alice Jones already replied
//! at … — send anyway?" before it goes. Headless Chromium
//! (`tests/browser/collision.py`); screenshots land in the target
//! directory's `screenshots/`. Both replies are on the mailbox's trail.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use mailroom_testkit::{Cli, INFO_TEAM, browse, mx_send_message};

#[test]
fn a_second_reply_sees_the_first_coming_and_asks_before_it_goes() {
    let cli = Cli::new(env!("CARGO_BIN_EXE_mailroom"));
    cli.contoso_with(INFO_TEAM);
    let server = cli.serve(&[]);
    mx_send_message(
        &server,
        "customer@fabrikam.example",
        "info@contoso.com",
        "From: Customer <customer@fabrikam.example>\r\nTo: info@contoso.com\r\nSubject: Invoice 7\r\n\r\nIs it paid?\r\n",
    );
    let shots = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    let seen = browse(
        concat!(
            include_str!("browser/chromium.py"),
            include_str!("browser/mail_app.py"),
            include_str!("browser/collision.py")
        ),
        &server,
        &shots,
        &[],
    );

    assert_eq!(seen["bob_sees"], "Alice Jones is replying", "{seen}");
    let after = seen["bob_sees_after"].as_f64().unwrap_or_else(|| panic!("not within 2 s: {seen}"));
    assert!(after <= 2.0, "{seen}");
    assert_eq!(seen["alice_notice"], "Your message was sent.");
    let question = seen["bob_question"].as_str().unwrap();
    assert!(
        question.starts_with("Alice Jones already replied at ") && question.ends_with(" UTC — send anyway?"),
        "{seen}"
    );
    assert!(
        seen["bob_body_kept"].as_str().unwrap().contains("Paid already, I think."),
        "what he wrote is kept: {seen}"
    );
    assert_eq!(seen["bob_notice"], "Your message was sent.");
    assert_eq!(seen["later_notice"], "Your message was sent.", "nothing new since that reply opened: {seen}");

    // Every reply is on the trail: the double answer stays visible.
    let replies: Vec<String> = cli
        .exo_json("Search-MailboxAuditLog info -Operations Replied")
        .iter()
        .rev()
        .map(|r| r["LogonUserDisplayName"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(replies, ["Alice Jones", "Bob Smith", "Bob Smith"]);
}
