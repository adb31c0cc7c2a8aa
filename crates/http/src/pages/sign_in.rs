//! Signing in and out of the admin center.
//!
//! Signing in goes through `core`'s throttled sign-in, shared with IMAP,
//! SMTP and CalDAV: the same failures count, and every failure reads the
//! same ("no such account" and "wrong password" look alike). Anyone who
//! signs in gets a session (for `/setup`); only admins get past `/admin`.

use askama::Template;
use http::{HeaderValue, StatusCode, header};

use super::{Chrome, html};
use crate::form::Form;
use crate::session::{self, SIGN_IN_COOKIE, Session, random_token, same_secret, set_cookie};
use crate::{Head, Request, Response, Web, redirect};

#[derive(Template)]
#[template(path = "sign_in.html")]
struct SignInPage<'a> {
    chrome: Chrome,
    token: String,
    login: &'a str,
    error: Option<&'a str>,
    /// Where to go after signing in.
    next: String,
}

/// The form, with a fresh token in its own cookie (there is no session yet
/// to keep it in).
pub(super) fn form(web: &Web, head: &Head, error: Option<&str>, login: &str) -> Response {
    form_to(web, head, error, login, &next_of(head))
}

/// The form, going to `next` once signed in.
fn form_to(web: &Web, head: &Head, error: Option<&str>, login: &str, next: &str) -> Response {
    let refused = (!web.may_send_secrets(head))
        .then_some("Sign in over HTTPS: this server doesn't accept passwords over plain HTTP.");
    // A token the browser already holds is kept, so a second tab's form
    // doesn't spoil the first's.
    let token = sign_in_cookie(head)
        .filter(|t| t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()))
        .map_or_else(random_token, str::to_string);
    let page = SignInPage {
        chrome: Chrome { me: None, csrf: String::new(), active: "", admin: false },
        token: token.clone(),
        login,
        error: error.or(refused),
        next: safe_next(next).to_string(),
    };
    let status = if error.is_some() { StatusCode::UNAUTHORIZED } else { StatusCode::OK };
    let mut response = html(status, &page);
    if let Ok(cookie) = HeaderValue::from_str(&set_cookie(SIGN_IN_COOKIE, &token, head.secure, Some(3600))) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

pub(super) async fn submit(web: &Web, request: &Request) -> Response {
    let head = &request.head;
    let form = Form::parse(&request.body);
    let login = form.get("login").trim();
    let expected = sign_in_cookie(head).unwrap_or("");
    if expected.is_empty() || !same_secret(form.get("csrf"), expected) {
        return form_again(web, head, "The sign-in form expired. Try again.", login, form.get("next"));
    }
    if !web.may_send_secrets(head) {
        return form_again(
            web,
            head,
            "Sign in over HTTPS: this server doesn't accept passwords over plain HTTP.",
            login,
            form.get("next"),
        );
    }
    let password = mailroom_types::Secret::new(form.get("password").to_string());
    let dir = web.mail().directory();
    let signed_in = dir.sign_in(head.peer.ip(), login, &password, tokio::time::sleep).await;
    // The session remembers the account as the password check saw it.
    // A failure of the server's own is told the same way, whatever failed.
    let server_failed = |err: &dyn std::fmt::Display| {
        tracing::error!(error = %err, "admin center sign-in failed");
        form_again(
            web,
            head,
            "The server couldn't sign you in; its log has the details.",
            login,
            form.get("next"),
        )
    };
    let account = match signed_in {
        Ok(sign_in) => sign_in.account,
        Err(mailroom_core::auth::AuthError::InvalidCredentials) => {
            return form_again(web, head, "Your account or password is incorrect.", login, form.get("next"));
        }
        Err(mailroom_core::auth::AuthError::Core(err)) => return server_failed(&err),
    };
    let session = match dir.start_web_session(&account).await {
        Ok(Some(session)) => session,
        Ok(None) => {
            tracing::warn!("admin center sign-in refused: the session table is full");
            return form_again(
                web,
                head,
                "The server has too many people signed in right now. Try again later.",
                login,
                form.get("next"),
            );
        }
        Err(err) => return server_failed(&err),
    };
    tracing::info!(principal = %account.principal, peer = %head.peer, "admin center sign-in");
    let mut response = redirect(safe_next(form.get("next")));
    let headers = response.headers_mut();
    for cookie in [
        set_cookie(session::COOKIE, &session.token, head.secure, None),
        set_cookie(SIGN_IN_COOKIE, "", head.secure, Some(0)),
    ] {
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            headers.append(header::SET_COOKIE, value);
        }
    }
    response
}

/// Where the person was going: the form page's `?next=`.
fn next_of(head: &Head) -> String {
    let query = Form::parse(head.query.as_deref().unwrap_or("").as_bytes());
    safe_next(query.get("next")).to_string()
}

/// A path on this site to go to after signing in; anything else (another
/// site, `//host`, a scheme) goes home instead — no open redirect.
pub(super) fn safe_next(next: &str) -> &str {
    let decoded_ok = next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && next.len() <= 2000
        && next.bytes().all(|b| b.is_ascii_graphic());
    if decoded_ok { next } else { "/" }
}

fn sign_in_cookie(head: &Head) -> Option<&str> {
    head.headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| session::cookie(v, SIGN_IN_COOKIE))
}

fn form_again(web: &Web, head: &Head, error: &str, login: &str, next: &str) -> Response {
    form_to(web, head, Some(error), login, next)
}

pub(super) async fn sign_out(web: &Web, session: &Session, secure: bool) -> Response {
    // Signed out only once the store says so: clearing the cookie alone
    // would leave the session good for whoever holds a copy of it.
    if let Err(err) = web.mail().directory().end_web_session(session).await {
        tracing::error!(error = %err, "the session couldn't be ended in the store");
        return super::message_page(
            StatusCode::SERVICE_UNAVAILABLE,
            "You are still signed in",
            "The server couldn't end your session; its log has the details. Try signing out again.",
            None,
        );
    }
    let mut response = redirect(super::SIGN_IN);
    if let Ok(value) = HeaderValue::from_str(&set_cookie(session::COOKIE, "", secure, Some(0))) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn after_signing_in_only_paths_of_this_site() {
        assert_eq!(safe_next("/admin/shared-mailboxes?q=a"), "/admin/shared-mailboxes?q=a");
        for elsewhere in [
            "https://evil.example/",
            "//evil.example/x",
            "/\\evil.example",
            "evil",
            "",
            "/a b",
            "/\r\nSet-Cookie:x",
        ] {
            assert_eq!(safe_next(elsewhere), "/", "{elsewhere:?}");
        }
    }
}
