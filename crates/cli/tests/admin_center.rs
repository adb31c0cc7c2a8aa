//! The admin center in a real browser (headless Chromium driven by
//! Selenium, `tests/browser/admin_center.py`) against a real
//! `mailroom serve`: an admin follows the seeds' steps, and the result is
//! then checked where it matters — the cmdlets (`mailroom exo`), IMAP (the
//! new member sees the mailbox) and submission (the new member sends as
//! it). Also: a non-admin gets the permission message, a form without its
//! CSRF token is refused, pages fit a 360 px screen, every field has a
//! label. Screenshots land in the target directory's `screenshots/`.
//!
//! Sessions ended by an account change, and the pages' plain-HTTP
//! answers, are tested with the raw client below (no browser needed).

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use std::io::{Read, Write};

use mailroom_testkit::{Cli, Server, python};
use mailroom_testkit::{HttpReply, http};

const ORG: &str = r#"
New-Mailbox -Name Alice -Alias alice -DisplayName 'Alice Jones' -PrimarySmtpAddress alice@contoso.com -Password 'Alice-pass-123'
New-Mailbox -Name Bob -Alias bob -DisplayName 'Bob Smith' -PrimarySmtpAddress bob@contoso.com -Password 'Bob-pass-1234'
New-Mailbox -Name Carol -Alias carol -DisplayName 'Carol White' -PrimarySmtpAddress carol@contoso.com -Password 'Carol-pass-123'
"#;

fn served() -> (Cli, Server) {
    let cli = Cli::new(env!("CARGO_BIN_EXE_mailroom"));
    cli.contoso_with(ORG);
    cli.hold_outbound();
    let server = cli.serve(&[]);
    (cli, server)
}

fn screenshots() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots")
}

#[test]
fn an_admin_follows_the_seeds_in_a_browser() {
    let (cli, server) = served();
    let base = format!("http://{}", server.http());
    let shots = screenshots();
    let out = python(
        include_str!("browser/admin_center.py"),
        &[
            &base,
            "admin@contoso.com",
            "Admin-pass-123",
            "alice@contoso.com",
            "Alice-pass-123",
            shots.to_str().unwrap(),
        ],
    );
    let seen: serde_json::Value = serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{e}: {out}"));
    eprintln!("screenshots in {}", shots.display());

    // What the person saw.
    assert_eq!(seen["sign_in_heading"], "Sign in");
    assert_eq!(seen["wrong_password"], "Your account or password is incorrect.");
    assert_eq!(seen["list_heading"], "Shared mailboxes");
    assert_eq!(seen["add_heading"], "Add a shared mailbox");
    assert_eq!(seen["suggested_local"], "supportdesk", "the address is suggested as the name is typed");
    assert_eq!(seen["detail_heading"], "Support Desk");
    assert!(
        seen["after_create_notice"].as_str().unwrap().starts_with("Add members to this mailbox"),
        "{seen}"
    );
    let members: Vec<&str> =
        seen["members"].as_array().unwrap().iter().map(|m| m.as_str().unwrap()).collect();
    assert_eq!(members.len(), 2, "{members:?}");
    assert!(members[0].starts_with("Alice Jones") && members[1].starts_with("Bob Smith"), "{members:?}");
    assert_eq!(seen["sent_items_summary"], "Copied for Send As and Send on Behalf");
    assert_eq!(seen["forwarding_summary"], "Forwarding to archive@fabrikam.com, keeping a copy");
    assert_eq!(seen["auto_reply_summary"], "On");
    assert_eq!(
        seen["quota_error"],
        "The value of property \"IssueWarningQuota\" must be less than or equal to that of property \"ProhibitSendQuota\". IssueWarningQuota: 5 GB (5,368,709,120 bytes), ProhibitSendQuota: 1 GB (1,073,741,824 bytes).",
        "the CLI's words, next to the field"
    );
    assert_eq!(seen["quota_error_described"], "issue_warning-error");
    assert_eq!(seen["quota_kept"], "1GB", "what was typed stays in the refused form");
    assert_eq!(seen["quota_summary"], "0 B of 3 GB · below the warning limit");
    assert_eq!(seen["unlabelled_on_add"], serde_json::json!([]));
    assert_eq!(seen["unlabelled_on_detail"], serde_json::json!([]));
    assert_eq!(seen["search_rows"], serde_json::json!(["Support Desk"]));
    assert_eq!(seen["converted_kind"], "carol@contoso.com · Shared mailbox · Sign-in blocked");
    assert_eq!(seen["csrf_heading"], "The form has expired");
    assert_eq!(seen["after_sign_out"], "Sign in");
    assert_eq!(seen["non_admin_heading"], "Access denied");
    assert_eq!(
        seen["non_admin_message"],
        "You don't have permission to access this page or perform this action."
    );
    assert_eq!(seen["setup_heading"], "Set up your devices");
    for (page, overflow) in seen["overflow"].as_object().unwrap() {
        assert!(overflow.as_i64().unwrap() <= 0, "{page} scrolls sideways by {overflow} px");
    }
    for name in
        ["sign-in-desktop", "shared-mailbox-desktop", "shared-mailbox-phone", "shared-mailboxes-phone"]
    {
        let png = std::fs::read(shots.join(format!("{name}.png"))).unwrap();
        assert!(png.starts_with(b"\x89PNG"), "{name} is a PNG");
    }

    // The same state through the cmdlets.
    let mailbox = &cli.exo_json("Get-Mailbox support")[0];
    assert_eq!(mailbox["RecipientTypeDetails"], "SharedMailbox");
    assert_eq!(mailbox["PrimarySmtpAddress"], "support@contoso.com");
    assert_eq!(mailbox["DisplayName"], "Support Desk");
    assert_eq!(mailbox["MessageCopyForSentAsEnabled"], true);
    assert_eq!(mailbox["MessageCopyForSendOnBehalfEnabled"], true);
    assert_eq!(mailbox["ForwardingSmtpAddress"], "smtp:archive@fabrikam.com");
    assert_eq!(mailbox["DeliverToMailboxAndForward"], true);
    assert_eq!(mailbox["IssueWarningQuota"], "1 GB (1,073,741,824 bytes)");
    assert_eq!(mailbox["ProhibitSendReceiveQuota"], "3 GB (3,221,225,472 bytes)");
    let rights: Vec<(String, String)> = cli
        .exo_json("Get-MailboxPermission support")
        .iter()
        .map(|p| {
            (p["User"].as_str().unwrap().to_string(), p["AccessRights"][0].as_str().unwrap().to_string())
        })
        .collect();
    assert!(rights.contains(&("alice@contoso.com".into(), "FullAccess".into())), "{rights:?}");
    assert!(rights.contains(&("bob@contoso.com".into(), "FullAccess".into())), "{rights:?}");
    let auto = &cli.exo_json("Get-MailboxAutoReplyConfiguration support")[0];
    assert_eq!(auto["AutoReplyState"], "Enabled");
    assert_eq!(auto["InternalMessage"], "Thanks, the support desk will answer within a day.");
    assert_eq!(cli.exo_json("Get-Mailbox carol")[0]["RecipientTypeDetails"], "SharedMailbox");
    let domains = cli.run(&["--json", "domain", "list"]).ok().stdout;
    assert!(!domains.contains("forged.example"), "the forged form changed nothing: {domains}");

    // The new member sees the mailbox over IMAP and sends as it.
    let imap = python(
        r#"
import imaplib, json, sys
m = imaplib.IMAP4(sys.argv[1], int(sys.argv[2]))
m.login('alice@contoso.com', 'Alice-pass-123')
typ, boxes = m.list()
print(json.dumps([b.decode() for b in boxes]))
"#,
        &[&server.imap().ip().to_string(), &server.imap().port().to_string()],
    );
    assert!(imap.contains("Shared/support@contoso.com"), "alice sees the new mailbox: {imap}");
    let sent = python(
        r#"
import smtplib, sys
s = smtplib.SMTP(sys.argv[1], int(sys.argv[2]), timeout=20)
s.login('alice@contoso.com', 'Alice-pass-123')
msg = 'From: Support Desk <support@contoso.com>\r\nTo: bob@contoso.com\r\nSubject: Sent as the desk\r\n\r\nHello.\r\n'
print(s.sendmail('support@contoso.com', ['bob@contoso.com'], msg))
s.quit()
"#,
        &[&server.submission().ip().to_string(), &server.submission().port().to_string()],
    );
    assert_eq!(sent.trim(), "{}", "Send As is granted: nothing refused");
}

/// Signs in through the form (a cookie and the form's token), returning
/// the session cookie, or the refused reply.
fn sign_in(server: &Server, login: &str, password: &str) -> Result<String, HttpReply> {
    let form = http(server.http(), "GET", "/admin/sign-in", None, &[], b"");
    let cookie = form.header("set-cookie").unwrap().split(';').next().unwrap().to_string();
    let token = hidden(&form.body, "csrf");
    let body = format!("csrf={token}&login={}&password={}", enc(login), enc(password));
    let reply = http(
        server.http(),
        "POST",
        "/admin/sign-in",
        None,
        &[("Cookie", &cookie), ("Content-Type", "application/x-www-form-urlencoded")],
        body.as_bytes(),
    );
    if reply.status != 303 {
        return Err(reply);
    }
    let session = reply
        .headers
        .iter()
        .filter(|(n, _)| n == "set-cookie")
        .map(|(_, v)| v.split(';').next().unwrap().to_string())
        .find(|c| c.starts_with("mailroom_session="))
        .unwrap();
    Ok(session)
}

fn hidden(html: &str, name: &str) -> String {
    let at = html.find(&format!("name=\"{name}\" value=\"")).unwrap_or_else(|| panic!("no {name} in {html}"));
    let rest = &html[at + name.len() + 15..];
    rest[..rest.find('"').unwrap()].to_string()
}

fn enc(text: &str) -> String {
    text.bytes()
        .map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

fn get(server: &Server, path: &str, cookie: &str) -> HttpReply {
    http(server.http(), "GET", path, None, &[("Cookie", cookie)], b"")
}

#[test]
fn sessions_end_at_once_when_the_account_changes() {
    let cli = Cli::new(env!("CARGO_BIN_EXE_mailroom"));
    cli.contoso_with(
        "New-Mailbox -Name Eve -Alias eve -PrimarySmtpAddress eve@contoso.com -Password 'Eve-pass-1234'\n",
    );
    cli.run(&["user", "roles", "eve@contoso.com", "--role", "exchange-admin"]).ok();
    let server = cli.serve(&[]);

    let session = sign_in(&server, "eve@contoso.com", "Eve-pass-1234").unwrap();
    assert_eq!(get(&server, "/admin/shared-mailboxes", &session).status, 200);
    // Roles taken away: the session ends at its next request.
    cli.run(&["user", "roles", "eve@contoso.com"]).ok();
    let after = get(&server, "/admin/shared-mailboxes", &session);
    assert_eq!((after.status, after.header("location")), (303, Some("/admin/sign-in")));

    cli.run(&["user", "roles", "eve@contoso.com", "--role", "exchange-admin"]).ok();
    let session = sign_in(&server, "eve@contoso.com", "Eve-pass-1234").unwrap();
    assert_eq!(get(&server, "/admin/users", &session).status, 200);
    cli.run_with_stdin(&["user", "password", "eve@contoso.com", "--password-stdin"], "Eve-new-pass-99\n")
        .ok();
    assert_eq!(get(&server, "/admin/users", &session).status, 303, "a password reset ends the session");

    let session = sign_in(&server, "eve@contoso.com", "Eve-new-pass-99").unwrap();
    assert_eq!(get(&server, "/admin/users", &session).status, 200);
    cli.run(&["user", "block", "eve@contoso.com"]).ok();
    assert_eq!(get(&server, "/admin/users", &session).status, 303, "blocking ends the session");
    // And the blocked account can't sign in again: the same words as a wrong password.
    let refused = sign_in(&server, "eve@contoso.com", "Eve-new-pass-99").unwrap_err();
    assert_eq!(refused.status, 401);
    assert!(refused.body.contains("Your account or password is incorrect."), "{}", refused.body);
    let unknown = sign_in(&server, "nobody@contoso.com", "whatever-123").unwrap_err();
    assert_eq!(
        unknown.body.replace("nobody@contoso.com", "eve@contoso.com"),
        refused.body.replace(&hidden(&refused.body, "csrf"), &hidden(&unknown.body, "csrf"))
    );
}

#[test]
fn pages_are_locked_down() {
    let (cli, server) = served();
    let _ = &cli;
    // No session: to the sign-in page, for every admin page.
    for path in ["/admin/", "/admin/shared-mailboxes", "/admin/mailboxes/1", "/admin/queue", "/setup"] {
        let reply = get(&server, path, "mailroom_session=forged");
        assert_eq!((reply.status, reply.header("location")), (303, Some("/admin/sign-in")), "{path}");
    }
    // A POST without a session is never read.
    let reply = http(
        server.http(),
        "POST",
        "/admin/domains",
        None,
        &[("Content-Type", "application/x-www-form-urlencoded")],
        b"domain=evil.example",
    );
    assert_eq!(reply.status, 303);
    // Pages carry a strict CSP and refuse framing.
    let admin = sign_in(&server, "admin@contoso.com", "Admin-pass-123").unwrap();
    let page = get(&server, "/admin/shared-mailboxes", &admin);
    assert_eq!(page.status, 200);
    let csp = page.header("content-security-policy").unwrap();
    assert!(
        csp.contains("default-src 'none'") && csp.contains("script-src 'self'") && !csp.contains("unsafe"),
        "{csp}"
    );
    assert_eq!(page.header("x-frame-options"), Some("DENY"));
    assert!(!page.body.contains("<script>"), "no inline script");
    // The session cookie is HttpOnly and SameSite=Strict.
    let form = http(server.http(), "GET", "/admin/sign-in", None, &[], b"");
    let cookie = form.header("set-cookie").unwrap();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"), "{cookie}");
    // A sign-in form whose token doesn't match its cookie is refused.
    let reply = http(
        server.http(),
        "POST",
        "/admin/sign-in",
        None,
        &[("Cookie", "mailroom_signin=abc"), ("Content-Type", "application/x-www-form-urlencoded")],
        b"csrf=def&login=admin%40contoso.com&password=Admin-pass-123",
    );
    assert_eq!(reply.status, 401);
    assert!(reply.body.contains("The sign-in form expired."), "{}", reply.body);
    assert!(reply.header("set-cookie").is_none_or(|c| !c.starts_with("mailroom_session=")));
    // An oversized form is refused from its head: no body is ever sent.
    let mut stream = std::net::TcpStream::connect(server.http()).unwrap();
    write!(
        stream,
        "POST /admin/domains HTTP/1.1\r\nHost: x\r\nCookie: {admin}\r\nContent-Length: 10000000\r\n\r\n"
    )
    .unwrap();
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).unwrap();
    assert_eq!(&head, b"HTTP/1.1 413");
    // Unknown objects and pages say so.
    assert_eq!(get(&server, "/admin/mailboxes/99999", &admin).status, 404);
    assert_eq!(get(&server, "/admin/mailboxes/abc", &admin).status, 404);
    assert_eq!(get(&server, "/admin/nothing-here", &admin).status, 404);
}
