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
}

/// The form, with a fresh token in its own cookie (there is no session yet
/// to keep it in).
pub(super) fn form(web: &Web, head: &Head, error: Option<&str>, login: &str) -> Response {
    let refused = (!web.may_send_secrets(head))
        .then_some("Sign in over HTTPS: this server doesn't accept passwords over plain HTTP.");
    // A token the browser already holds is kept, so a second tab's form
    // doesn't spoil the first's.
    let token = sign_in_cookie(head)
        .filter(|t| t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()))
        .map_or_else(random_token, str::to_string);
    let page = SignInPage {
        chrome: Chrome { me: None, csrf: String::new(), active: "" },
        token: token.clone(),
        login,
        error: error.or(refused),
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
        return form_again(web, head, "The sign-in form expired. Try again.", login);
    }
    if !web.may_send_secrets(head) {
        return form_again(
            web,
            head,
            "Sign in over HTTPS: this server doesn't accept passwords over plain HTTP.",
            login,
        );
    }
    let password = mailroom_types::Secret::new(form.get("password").to_string());
    let dir = web.mail().directory();
    let signed_in = dir.sign_in(head.peer.ip(), login, &password, tokio::time::sleep).await;
    // The session remembers the account as the password check saw it.
    let account = match signed_in {
        Ok(sign_in) => sign_in.account,
        Err(mailroom_core::auth::AuthError::InvalidCredentials) => {
            return form_again(web, head, "Your account or password is incorrect.", login);
        }
        Err(mailroom_core::auth::AuthError::Core(err)) => {
            tracing::error!(error = %err, "admin center sign-in failed");
            return form_again(web, head, "The server couldn't sign you in; its log has the details.", login);
        }
    };
    let Some(session) = web.sessions.start(&account) else {
        tracing::warn!("admin center sign-in refused: the session table is full");
        return form_again(
            web,
            head,
            "The server has too many people signed in right now. Try again later.",
            login,
        );
    };
    tracing::info!(principal = %account.principal, peer = %head.peer, "admin center sign-in");
    let mut response = redirect("/admin/");
    let headers = response.headers_mut();
    for cookie in [
        set_cookie(session::COOKIE, &session.id, head.secure, None),
        set_cookie(SIGN_IN_COOKIE, "", head.secure, Some(0)),
    ] {
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            headers.append(header::SET_COOKIE, value);
        }
    }
    response
}

fn sign_in_cookie(head: &Head) -> Option<&str> {
    head.headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| session::cookie(v, SIGN_IN_COOKIE))
}

fn form_again(web: &Web, head: &Head, error: &str, login: &str) -> Response {
    form(web, head, Some(error), login)
}

pub(super) fn sign_out(web: &Web, session: &Session, secure: bool) -> Response {
    web.sessions.end(&session.id);
    let mut response = redirect(super::SIGN_IN);
    if let Ok(value) = HeaderValue::from_str(&set_cookie(session::COOKIE, "", secure, Some(0))) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}
