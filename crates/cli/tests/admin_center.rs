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

use mailroom_testkit::{Cli, Server, hidden_field, python, web_sign_in, web_sign_in_reply};
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
    // The domain's MX record published (as `domain dns` prints it), nothing else.
    let records = cli.run(&["--json", "domain", "dns", "contoso.com"]).ok().json_array();
    let mx = records.iter().filter_map(|l| l.as_str()).find(|l| l.contains(" IN MX ")).expect("an MX line");
    cli.dns().add("contoso.com", "MX", &mx.split_whitespace().skip(4).collect::<Vec<_>>().join(" "));
    let out = python(
        concat!(include_str!("browser/chromium.py"), include_str!("browser/admin_center.py")),
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
    assert_eq!(seen["records_heading"], "contoso.com: DNS records");
    assert!(
        seen["records_alert"].as_str().unwrap().contains("of these records are missing or wrong"),
        "{seen}"
    );
    assert_eq!(seen["records_status"]["MX contoso.com."], "OK", "{seen}");
    assert_eq!(seen["records_status"]["TXT _dmarc.contoso.com."], "Missing", "{seen}");
    assert_eq!(seen["records_phone_overflow"], false, "the page fits a 360 px screen");
    assert_eq!(seen["wrong_password"], "Your account or password is incorrect.");
    assert_eq!(seen["unknown_account"], seen["wrong_password"], "no hint whether the account exists");
    assert_eq!(seen["list_heading"], "Shared mailboxes");
    assert_eq!(seen["add_heading"], "Add a shared mailbox");
    assert_eq!(seen["suggested_local"], "SupportDesk", "the likely address shows as the name is typed");
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
    assert_eq!(
        seen["csrf_message"],
        "This form didn't come from this page, or it has expired. Go back, reload the page and try again."
    );
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

fn sign_in(server: &Server, login: &str, password: &str) -> Result<String, HttpReply> {
    web_sign_in(server.http(), login, password)
}

fn hidden(html: &str, name: &str) -> String {
    hidden_field(html, name)
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
    assert_eq!(
        (after.status, after.header("location")),
        (303, Some("/admin/sign-in?next=%2Fadmin%2Fshared-mailboxes"))
    );

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
    cli.run(&["user", "unblock", "eve@contoso.com"]).ok();
    let session = sign_in(&server, "eve@contoso.com", "Eve-new-pass-99").unwrap();
    assert_eq!(get(&server, "/admin/users", &session).status, 200);
    cli.exo("Set-Mailbox eve -Type Shared");
    assert_eq!(get(&server, "/admin/users", &session).status, 303, "conversion to shared ends the session");
    cli.exo("Set-Mailbox eve -Type Regular -Password 'Eve-new-pass-99'");
    // And a blocked account can't sign in: the same words as a wrong password.
    cli.run(&["user", "block", "eve@contoso.com"]).ok();
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
    // No session: to the sign-in page, for every admin page.
    for path in ["/admin/", "/admin/shared-mailboxes", "/admin/mailboxes/1", "/admin/queue", "/setup"] {
        let reply = get(&server, path, "mailroom_session=forged");
        assert_eq!(reply.status, 303, "{path}");
        let back = format!("/admin/sign-in?next={}", path.replace('/', "%2F"));
        assert_eq!(reply.header("location"), Some(back.as_str()), "back to {path} after signing in");
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
    assert!(!cli.run(&["domain", "list"]).ok().stdout.contains("evil.example"), "nothing was read or done");
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
    // Both cookies are HttpOnly and SameSite=Strict (Secure over HTTPS:
    // `secure_cookies_over_https`).
    let form = http(server.http(), "GET", "/admin/sign-in", None, &[], b"");
    let cookie = form.header("set-cookie").unwrap();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"), "{cookie}");
    let (_, session_cookie) = web_sign_in_reply(server.http(), "admin@contoso.com", "Admin-pass-123");
    assert!(
        session_cookie.starts_with("mailroom_session=")
            && session_cookie.contains("HttpOnly")
            && session_cookie.contains("SameSite=Strict")
            && !session_cookie.contains("Secure"),
        "{session_cookie}"
    );
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

#[test]
fn deleting_from_the_pages_needs_the_confirmation() {
    let (cli, server) = served();
    cli.exo("New-Mailbox -Shared -Name Old -Alias old -PrimarySmtpAddress old@contoso.com");
    let admin = sign_in(&server, "admin@contoso.com", "Admin-pass-123").unwrap();
    let old = cli.run(&["--json", "exo", "Get-Recipient old"]).ok().json_array();
    assert_eq!(old.len(), 1);
    let list = get(&server, "/admin/shared-mailboxes?q=old", &admin);
    let at = list.body.find("/admin/mailboxes/").unwrap() + "/admin/mailboxes/".len();
    let id: String = list.body[at..].chars().take_while(char::is_ascii_digit).collect();
    let page = get(&server, &format!("/admin/mailboxes/{id}"), &admin);
    let csrf = hidden(&page.body, "csrf");
    let post = |body: String| {
        http(
            server.http(),
            "POST",
            &format!("/admin/mailboxes/{id}/delete"),
            None,
            &[("Cookie", &admin), ("Content-Type", "application/x-www-form-urlencoded")],
            body.as_bytes(),
        )
    };
    // Without the box ticked: refused, kept.
    let refused = post(format!("csrf={csrf}"));
    assert_eq!(refused.status, 422);
    assert!(refused.body.contains("Tick the box to confirm the deletion."), "{}", refused.body);
    assert_eq!(cli.exo_json("Get-Mailbox old").len(), 1);
    // Ticked: gone, back to the list.
    let done = post(format!("csrf={csrf}&confirm=on"));
    assert_eq!((done.status, done.header("location")), (303, Some("/admin/shared-mailboxes?notice=deleted")));
    let gone = cli.run(&["exo", "Get-Mailbox old"]);
    assert_ne!(gone.code, 0, "{}", gone.stdout);
    assert_eq!(get(&server, &format!("/admin/mailboxes/{id}"), &admin).status, 404);
}

#[test]
fn secure_cookies_over_https() {
    let cli = Cli::new(env!("CARGO_BIN_EXE_mailroom"));
    cli.init_contoso();
    let server = cli.serve(&["--https-listen", "127.0.0.1:0"]);
    let https = server.listeners["https"];
    let cookies = python(
        r#"
import http.client, json, re, ssl, sys, urllib.parse
host, port = sys.argv[1], int(sys.argv[2])
context = ssl._create_unverified_context()  # the server's own self-signed certificate
c = http.client.HTTPSConnection(host, port, context=context)
c.request('GET', '/admin/sign-in')
r = c.getresponse(); page = r.read().decode()
form_cookie = r.getheader('Set-Cookie')
token = re.search(r'name="csrf" value="([0-9a-f]+)"', page).group(1)
body = urllib.parse.urlencode({'csrf': token, 'login': 'admin@contoso.com', 'password': 'Admin-pass-123'})
c = http.client.HTTPSConnection(host, port, context=context)
c.request('POST', '/admin/sign-in', body, {'Cookie': form_cookie.split(';')[0], 'Content-Type': 'application/x-www-form-urlencoded'})
r = c.getresponse(); r.read()
print(json.dumps({'form': form_cookie, 'status': r.status, 'session': [v for k, v in r.getheaders() if k.lower() == 'set-cookie' and v.startswith('mailroom_session=')]}))
"#,
        &[&https.ip().to_string(), &https.port().to_string()],
    );
    let seen: serde_json::Value = serde_json::from_str(cookies.trim()).unwrap();
    assert_eq!(seen["status"], 303, "{seen}");
    assert!(seen["form"].as_str().unwrap().contains("; Secure"), "{seen}");
    let session = seen["session"][0].as_str().unwrap();
    assert!(session.contains("; Secure") && session.contains("HttpOnly"), "{session}");
}

/// The pages beside shared mailboxes, over plain HTTP as a form-posting
/// browser: a group made and filled, a domain added and made default, the
/// queue with a missing entry — each read back through the cmdlets.
#[test]
fn groups_domains_and_the_queue_from_the_pages() {
    let (cli, server) = served();
    let admin = sign_in(&server, "admin@contoso.com", "Admin-pass-123").unwrap();
    let csrf = hidden(&get(&server, "/admin/groups/new", &admin).body, "csrf");
    let post = |path: &str, body: &str| mailroom_testkit::web_post(server.http(), &admin, path, body);

    let made = post(
        "/admin/groups/new",
        &format!("csrf={csrf}&name=Sales+Team&local=sales&domain=contoso.com&type=security"),
    );
    assert_eq!(made.status, 303, "{}", made.body);
    let group = made.header("location").unwrap().split('?').next().unwrap().to_string();
    assert_eq!(
        post(&format!("{group}/members"), &format!("csrf={csrf}&member=alice%40contoso.com")).status,
        303
    );
    assert_eq!(
        post(&format!("{group}/members"), &format!("csrf={csrf}&member=bob%40contoso.com")).status,
        303
    );
    let members: Vec<String> = cli
        .exo_json("Get-DistributionGroupMember sales")
        .iter()
        .map(|m| m["PrimarySmtpAddress"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(members, ["alice@contoso.com", "bob@contoso.com"]);
    assert_eq!(
        post(&format!("{group}/remove-member"), &format!("csrf={csrf}&member=bob%40contoso.com")).status,
        303
    );
    assert_eq!(cli.exo_json("Get-DistributionGroupMember sales").len(), 1);
    // An unknown member is named at the field, in the CLI's words.
    let unknown = post(&format!("{group}/members"), &format!("csrf={csrf}&member=nobody%40contoso.com"));
    assert_eq!(unknown.status, 404, "{}", unknown.body);
    assert!(
        unknown.body.contains("id=\"member-error\">The operation couldn&apos;t be performed because object"),
        "{}",
        unknown.body
    );

    assert_eq!(post("/admin/domains", &format!("csrf={csrf}&domain=fabrikam.com")).status, 303);
    assert_eq!(post("/admin/domains/default", &format!("csrf={csrf}&domain=fabrikam.com")).status, 303);
    let domains = cli.exo_json("Get-AcceptedDomain");
    let default: Vec<&str> =
        domains.iter().filter(|d| d["Default"] == true).map(|d| d["DomainName"].as_str().unwrap()).collect();
    assert_eq!(default, ["fabrikam.com"]);
    let twice = post("/admin/domains", &format!("csrf={csrf}&domain=fabrikam.com"));
    assert_eq!(twice.status, 422);
    assert!(twice.body.contains("is already an accepted domain."), "{}", twice.body);

    let queue = get(&server, "/admin/queue", &admin);
    assert!(queue.body.contains("The queue is empty."), "{}", queue.body);
    assert_eq!(post("/admin/queue/42/retry", &format!("csrf={csrf}")).status, 404);
}
