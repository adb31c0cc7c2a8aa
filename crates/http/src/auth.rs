//! Who is asking: a browser's session cookie or an API token, checked on
//! every request against the account as it is now.

use http::header;
use mailroom_core::directory::Recipient;

use crate::session::{self, Session};
use crate::{Head, Web};

/// Why a request isn't signed in.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// No credentials, unknown ones, or a session that ended.
    Missing,
    /// Credentials sent in the clear from another host.
    Plaintext,
    /// The directory failed.
    Storage,
}

/// The browser session a request's cookie names, if it is still good: the
/// account still signs in (not blocked, not converted to shared, not
/// removed) and its password and roles are what they were at sign-in.
/// A session that fails this ends now.
pub(crate) async fn browser(web: &Web, head: &Head) -> Result<(Session, Recipient), Refusal> {
    let id = head
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| session::cookie(v, session::COOKIE))
        .ok_or(Refusal::Missing)?;
    // A page's background asks (a list's changes, who is replying, an open
    // reply's beat) don't count as the person's use: an open page alone
    // doesn't keep a session alive past its idle limit.
    let touch = !["/changes", "/presence", "/replying"].iter().any(|end| head.path.ends_with(end));
    let dir = web.mail().directory();
    let session = dir.web_session(id, touch).await.map_err(|_| Refusal::Storage)?.ok_or(Refusal::Missing)?;
    let still = dir.still_signed_in(session.principal).await.map_err(|_| Refusal::Storage)?;
    let account = match dir.account(session.principal).await {
        Ok(account) => Some(account),
        Err(mailroom_core::CoreError::NotFound { .. }) => None,
        // A storage error says nothing about the account: keep the session.
        Err(_) => return Err(Refusal::Storage),
    };
    if !still || !account.is_some_and(|a| session.matches(&a)) {
        tracing::info!(principal = %session.principal, "admin center session ended: the account changed");
        dir.end_web_sessions_of(session.principal).await.map_err(|_| Refusal::Storage)?;
        return Err(Refusal::Missing);
    }
    let me = dir.recipient(session.principal).await.map_err(|_| Refusal::Storage)?;
    Ok((session, me))
}

/// The API token of an `Authorization: Bearer` header, if it names one.
pub(crate) async fn token(web: &Web, head: &Head) -> Result<Option<String>, Refusal> {
    let Some(value) = head.headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) else {
        return Ok(None);
    };
    let Some((scheme, secret)) = value.trim().split_once(' ') else { return Err(Refusal::Missing) };
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(Refusal::Missing);
    }
    if !web.may_send_secrets(head) {
        return Err(Refusal::Plaintext);
    }
    match web.mail().directory().authenticate_api_token(secret.trim()).await {
        Ok(Some(token)) => Ok(Some(token.name)),
        Ok(None) => Err(Refusal::Missing),
        Err(_) => Err(Refusal::Storage),
    }
}
