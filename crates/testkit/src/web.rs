//! The admin center's sign-in form, as a browser fills it: the form's
//! token comes with its cookie (double submit), the answer sets the
//! session cookie.

use std::net::SocketAddr;

use crate::http_client::{HttpReply, http};

/// The hidden `name` field's value in a page (the forms' `csrf`).
pub fn hidden_field(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker).unwrap_or_else(|| panic!("no hidden {name} in {html}")) + marker.len();
    html[start..].split('"').next().unwrap_or_default().to_string()
}

/// Posts the sign-in form; the answer and its whole `mailroom_session`
/// Set-Cookie header (empty if it set none).
pub fn web_sign_in_reply(addr: SocketAddr, login: &str, password: &str) -> (HttpReply, String) {
    let form = http(addr, "GET", "/admin/sign-in", None, &[], b"");
    assert_eq!(form.status, 200, "{form:?}");
    let cookie = form
        .headers
        .iter()
        .find(|(n, v)| n == "set-cookie" && v.starts_with("mailroom_signin="))
        .and_then(|(_, v)| v.split(';').next())
        .unwrap_or_else(|| panic!("the form sets its cookie: {form:?}"))
        .to_string();
    let token = hidden_field(&form.body, "csrf");
    let body = format!("csrf={token}&login={}&password={}", escape(login), escape(password));
    let reply = http(
        addr,
        "POST",
        "/admin/sign-in",
        None,
        &[("Cookie", &cookie), ("Content-Type", "application/x-www-form-urlencoded")],
        body.as_bytes(),
    );
    let session = reply
        .headers
        .iter()
        .find(|(n, v)| n == "set-cookie" && v.starts_with("mailroom_session="))
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    (reply, session)
}

/// Signs in: the `mailroom_session=…` pair to send as `Cookie`, or the
/// refused answer.
pub fn web_sign_in(addr: SocketAddr, login: &str, password: &str) -> Result<String, HttpReply> {
    let (reply, session) = web_sign_in_reply(addr, login, password);
    if reply.status != 303 || session.is_empty() {
        return Err(reply);
    }
    Ok(session.split(';').next().unwrap_or_default().to_string())
}

fn escape(text: &str) -> String {
    text.bytes()
        .map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

/// Posts a form (`application/x-www-form-urlencoded`) with a session cookie.
pub fn web_post(addr: SocketAddr, cookie: &str, path: &str, body: &str) -> HttpReply {
    http(
        addr,
        "POST",
        path,
        None,
        &[("Cookie", cookie), ("Content-Type", "application/x-www-form-urlencoded")],
        body.as_bytes(),
    )
}

/// A file for [`web_post_multipart`]: field, file name, type, content.
pub type FormFile<'a> = (&'a str, &'a str, &'a str, &'a [u8]);

/// Posts a form with files (`multipart/form-data`, as a browser frames
/// it) with a session cookie.
pub fn web_post_multipart(
    addr: SocketAddr,
    cookie: &str,
    path: &str,
    fields: &[(&str, &str)],
    files: &[FormFile<'_>],
) -> HttpReply {
    let boundary = "----MailroomTestBoundary7MA4YWxkTrZu0gW";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                .as_bytes(),
        );
    }
    for (name, filename, kind, content) in files {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\nContent-Type: {kind}\r\n\r\n")
                .as_bytes(),
        );
        body.extend_from_slice(content);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    let content_type = format!("multipart/form-data; boundary={boundary}");
    http(addr, "POST", path, None, &[("Cookie", cookie), ("Content-Type", &content_type)], &body)
}

/// The web app's list URL of the Inbox of the mailbox at `address`, as the
/// signed-in person's folder pane links it (`/mail/MAILBOX/FOLDER`).
pub fn web_inbox_of(addr: SocketAddr, cookie: &str, address: &str) -> String {
    let get = |path: &str| http(addr, "GET", path, None, &[("Cookie", cookie)], b"");
    let own_inbox = get("/mail/").header("location").expect("/mail/ leads to the Inbox").to_string();
    let pane = get(&own_inbox).body;
    let at =
        pane.find(&format!("title=\"{address}\"")).unwrap_or_else(|| panic!("{address} in the pane: {pane}"));
    let mailbox: String = pane[..at]
        .rsplit("href=\"/mail/")
        .next()
        .unwrap_or_default()
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    get(&format!("/mail/{mailbox}")).header("location").expect("a mailbox leads to its Inbox").to_string()
}
