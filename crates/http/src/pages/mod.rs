//! The admin center: server-rendered pages (askama) that work without
//! JavaScript; `admin.js` only makes them quicker to use (live address
//! suggestion, people picker, confirmations).
//!
//! Every page but the sign-in form needs a session; every page under
//! `/admin` also needs an admin role, checked by `core` on each request
//! (a role taken away applies at once). Every form carries the session's
//! CSRF token. Each section's form posts to its own path, and a refusal
//! re-renders the page with core's message next to the field it concerns.

mod domains;
mod groups;
mod lists;
mod mailbox;
mod queue;
mod sign_in;

use std::collections::HashMap;

use askama::Template;
use http::{HeaderValue, Method, StatusCode, header};
use mailroom_core::directory::RecipientKind;
use mailroom_types::PrincipalId;

use crate::auth::{self, Refusal};
use crate::form::Form;
use crate::problem::Problem;
use crate::session::same_secret;
use crate::{Caller, Head, Request, Response, Web, answer, redirect};

pub(crate) const SIGN_IN: &str = "/admin/sign-in";
/// Where written mail is posted: the one form that may carry files.
pub(crate) const COMPOSE: &str = "/mail/compose";

/// The stylesheet and script, served from the binary.
const CSS: &str = include_str!("../../static/admin.css");
const JS: &str = include_str!("../../static/admin.js");

/// Strict: only this server's own stylesheet and script, no inline code,
/// no framing, forms post only here.
macro_rules! csp {
    ($images:literal) => {
        concat!(
            "default-src 'none'; style-src 'self'; script-src 'self'; img-src ",
            $images,
            "; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        )
    };
}
pub(crate) const CSP: &str = csp!("'self' data:");
/// The same, with a message's remote images allowed (its reader asked).
pub(crate) const CSP_REMOTE_IMAGES: &str = csp!("'self' data: https: http:");

/// What the head decides: `Ok(caller)` reads a body (none, for GET) and
/// goes on to [`respond`]; `Err` is the answer.
pub(crate) async fn admit(web: &Web, head: &Head) -> Result<Caller, Response> {
    let path = head.path.as_str();
    if let Some(name) = path.strip_prefix("/admin/static/") {
        return Err(asset(name));
    }
    if path == SIGN_IN {
        return match head.method {
            Method::GET | Method::HEAD => Err(sign_in::form(web, head, None, "")),
            Method::POST => Ok(Caller::Anonymous),
            _ => Err(not_allowed()),
        };
    }
    if !matches!(head.method, Method::GET | Method::HEAD | Method::POST) {
        return Err(not_allowed());
    }
    let (session, me) = match auth::browser(web, head).await {
        Ok(found) => found,
        Err(Refusal::Missing) => {
            // Back here after signing in (a GET; a form's post is lost).
            let back = match (&head.method, &head.query) {
                (&Method::GET, Some(q)) => format!("{path}?{q}"),
                (&Method::GET, None) => path.to_string(),
                _ => "/".to_string(),
            };
            return Err(redirect(&format!("{SIGN_IN}?next={}", crate::form::encode(&back))));
        }
        Err(Refusal::Plaintext | Refusal::Storage) => {
            return Err(message_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong",
                "The server couldn't check your sign-in; its log has the details.",
                None,
            ));
        }
    };
    let caller = Caller::Browser { session: Box::new(session), me: Box::new(me) };
    let is_admin_area = path == "/admin" || path.starts_with("/admin/");
    if is_admin_area && path != "/admin/sign-out" {
        match web.mail().directory().require_admin(&caller.actor()).await {
            Ok(()) => {}
            Err(err) => {
                let problem = Problem::from(err);
                let chrome = Chrome::of(&caller, "");
                return Err(message_page(problem.status, "Access denied", &problem.message, Some(chrome)));
            }
        }
    }
    Ok(caller)
}

pub(crate) async fn respond(web: &Web, caller: Caller, request: Request) -> Response {
    let head = &request.head;
    let path = head.path.clone();
    if path == SIGN_IN {
        return sign_in::submit(web, &request).await;
    }
    let query = Form::parse(head.query.as_deref().unwrap_or("").as_bytes());
    let content_type =
        head.headers.get(http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let form = match Form::from_body(content_type, &request.body) {
        Ok(form) => form,
        Err(err) => {
            return message_page(
                StatusCode::BAD_REQUEST,
                "The form couldn't be read",
                &err.to_string(),
                Some(Chrome::of(&caller, "")),
            );
        }
    };
    if head.method == Method::POST {
        let Caller::Browser { session, .. } = &caller else { return redirect(SIGN_IN) };
        if !same_secret(form.get("csrf"), &session.csrf) {
            return message_page(
                StatusCode::FORBIDDEN,
                "The form has expired",
                "This form didn't come from this page, or it has expired. Go back, reload the page and try again.",
                Some(Chrome::of(&caller, "")),
            );
        }
        if path == "/admin/sign-out" {
            return sign_in::sign_out(web, session, head.secure).await;
        }
    }
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let memory = request.memory.map(|r| Memory { share: std::sync::Mutex::new(r), body: request.body.len() });
    let page = Page {
        web,
        caller: &caller,
        query: &query,
        form: &form,
        post: head.method == Method::POST,
        peer: head.peer,
        zone: time_zone(head),
        memory: memory.as_ref(),
    };
    match segments.as_slice() {
        ["setup", rest @ ..] => crate::setup::page(web, &caller, rest).await,
        ["mail", rest @ ..] => crate::app::handle(&page, rest).await,
        ["calendar", rest @ ..] => match &caller {
            Caller::Browser { me, .. } => crate::app::calendar::handle(&page, me, rest).await,
            _ => redirect(SIGN_IN),
        },
        ["admin"] => redirect("/admin/shared-mailboxes"),
        ["admin", "people"] => lists::people(&page).await,
        ["admin", "shared-mailboxes"] => lists::recipients(&page, lists::Kind::Shared).await,
        ["admin", "users"] => lists::recipients(&page, lists::Kind::Users).await,
        ["admin", "groups"] => lists::recipients(&page, lists::Kind::Groups).await,
        ["admin", "shared-mailboxes", "new"] => mailbox::new(&page, false).await,
        ["admin", "users", "new"] => mailbox::new(&page, true).await,
        ["admin", "groups", "new"] => groups::new(&page).await,
        ["admin", "mailboxes", id, action @ ..] => match id.parse() {
            Ok(id) => mailbox::handle(&page, PrincipalId(id), action).await,
            Err(_) => not_found(&caller),
        },
        ["admin", "groups", id, action @ ..] => match id.parse() {
            Ok(id) => groups::handle(&page, PrincipalId(id), action).await,
            Err(_) => not_found(&caller),
        },
        ["admin", "domains", action @ ..] => domains::handle(&page, action).await,
        ["admin", "queue", action @ ..] => queue::handle(&page, action).await,
        _ => not_found(&caller),
    }
}

/// One request to a page, with what every handler needs.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Page<'a> {
    pub web: &'a Web,
    pub caller: &'a Caller,
    pub query: &'a Form,
    pub form: &'a Form,
    pub post: bool,
    /// The client's address (for the log).
    pub peer: std::net::SocketAddr,
    /// The browser's time zone, which its script keeps in the
    /// [`TIME_ZONE_COOKIE`] (UTC without one): the calendar shows and takes
    /// times in it.
    pub zone: chrono_tz::Tz,
    /// The request's share of the memory budget.
    pub memory: Option<&'a Memory>,
}

/// A request's share of the server's memory budget (`Request::memory`),
/// which already covers its body twice over (as it arrived).
#[derive(Debug)]
pub(crate) struct Memory {
    share: std::sync::Mutex<mailroom_core::budget::Reservation>,
    body: usize,
}

impl Memory {
    /// Covers `extra` octets beside the body; `false` when the budget (or
    /// this client's half of it) is spent.
    fn cover(&self, extra: usize) -> bool {
        let mut share = self.share.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        share.cover(self.body.saturating_mul(2).saturating_add(extra))
    }
}

/// The cookie the pages' script sets to the browser's IANA time zone.
pub(crate) const TIME_ZONE_COOKIE: &str = "mailroom_tz";

/// The time zone a request's cookie names, if it is a known one; else UTC.
fn time_zone(head: &crate::Head) -> chrono_tz::Tz {
    head.headers
        .get(http::header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|cookies| crate::session::cookie(cookies, TIME_ZONE_COOKIE))
        .and_then(|name| crate::form::decode_path(name.as_bytes()).parse().ok())
        .unwrap_or(chrono_tz::Tz::UTC)
}

impl<'a> Page<'a> {
    /// Covers `extra` octets of work beside the body on the memory budget
    /// (always `true` when the request isn't counted); else the refusal.
    pub fn cover(&self, extra: usize) -> Result<(), Problem> {
        match self.memory {
            Some(memory) if !memory.cover(extra) => Err(Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "The server is handling a lot of mail right now; try again in a moment.",
            )),
            _ => Ok(()),
        }
    }

    pub fn ctx(&self) -> crate::ops::Ctx<'a> {
        self.web.ctx(self.caller)
    }

    pub fn chrome(&self, active: &'static str) -> Chrome {
        Chrome::of(self.caller, active)
    }
}

/// What every page around its content shows: who is signed in, the form
/// token, the active navigation entry.
#[derive(Clone, Debug)]
pub(crate) struct Chrome {
    pub me: Option<String>,
    pub csrf: String,
    pub active: &'static str,
    /// Show the way to the admin center.
    pub admin: bool,
}

impl Chrome {
    pub fn of(caller: &Caller, active: &'static str) -> Self {
        match caller {
            Caller::Browser { session, me } => Chrome {
                me: Some(me.display_name.clone()),
                csrf: session.csrf.clone(),
                active,
                admin: session.is_admin(),
            },
            _ => Chrome { me: None, csrf: String::new(), active, admin: false },
        }
    }
}

/// The refusal a page shows, next to its field.
#[derive(Clone, Debug, Default)]
pub(crate) struct Errors(pub Option<Problem>);

impl Errors {
    pub fn for_field(&self, name: &str) -> Option<&str> {
        self.0.as_ref().filter(|p| p.field == Some(name)).map(|p| p.message.as_str())
    }

    /// A refusal that concerns no field.
    pub fn general(&self) -> Option<&str> {
        self.0.as_ref().filter(|p| p.field.is_none()).map(|p| p.message.as_str())
    }

    /// The message under a field, linked to it by id.
    pub fn html(&self, name: &str) -> String {
        match self.for_field(name) {
            Some(message) => {
                format!(
                    "<p class=\"error\" role=\"alert\" id=\"{name}-error\">{}</p>",
                    crate::clientconfig::escape(message)
                )
            }
            None => String::new(),
        }
    }

    /// The attributes of a field with a refusal.
    pub fn attrs(&self, name: &str) -> String {
        match self.for_field(name) {
            Some(_) => format!("aria-invalid=\"true\" aria-describedby=\"{name}-error\""),
            None => String::new(),
        }
    }

    pub fn invalid(&self, name: &str) -> &'static str {
        if self.for_field(name).is_some() { "aria-invalid=\"true\"" } else { "" }
    }

    /// ` name-error` to add to an `aria-describedby` list.
    pub fn describe(&self, name: &str) -> String {
        if self.for_field(name).is_some() { format!(" {name}-error") } else { String::new() }
    }
}

/// Field values a form shows: the stored ones, or what was typed when it was refused.
#[derive(Clone, Debug, Default)]
pub(crate) struct Values(HashMap<&'static str, String>);

impl Values {
    pub fn get(&self, name: &str) -> &str {
        self.0.get(name).map_or("", String::as_str)
    }

    pub fn set(&mut self, name: &'static str, value: impl Into<String>) {
        self.0.insert(name, value.into());
    }

    /// Takes what the refused form held for these fields.
    pub fn keep_typed(&mut self, form: &Form, names: &[&'static str]) {
        for name in names {
            self.set(name, form.get(name));
        }
    }
}

/// A rendered page with the security headers.
pub(crate) fn html(status: StatusCode, template: &impl Template) -> Response {
    let body = match template.render() {
        Ok(body) => body,
        Err(err) => {
            tracing::error!(error = %err, "a page couldn't be rendered");
            return answer(
                StatusCode::INTERNAL_SERVER_ERROR,
                "text/plain; charset=utf-8",
                "The page couldn't be rendered.\n",
            );
        }
    };
    let mut response = answer(status, "text/html; charset=utf-8", body);
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    response
}

#[derive(Template)]
#[template(path = "message.html")]
struct MessagePage<'a> {
    chrome: Chrome,
    heading: &'a str,
    message: &'a str,
}

/// A page that says one thing (access denied, not found, expired form).
pub(crate) fn message_page(
    status: StatusCode,
    heading: &str,
    message: &str,
    chrome: Option<Chrome>,
) -> Response {
    let chrome = chrome.unwrap_or(Chrome { me: None, csrf: String::new(), active: "", admin: false });
    html(status, &MessagePage { chrome, heading, message })
}

pub(crate) fn not_found(caller: &Caller) -> Response {
    message_page(
        StatusCode::NOT_FOUND,
        "Not found",
        "There is no such page, or what it showed was removed.",
        Some(Chrome::of(caller, "")),
    )
}

/// A refused operation on a page that has no form to show it in.
pub(crate) fn problem_page(caller: &Caller, problem: &Problem) -> Response {
    let heading = if problem.status == StatusCode::FORBIDDEN { "Access denied" } else { "That didn't work" };
    message_page(problem.status, heading, &problem.message, Some(Chrome::of(caller, "")))
}

fn not_allowed() -> Response {
    answer(StatusCode::METHOD_NOT_ALLOWED, "text/plain; charset=utf-8", "Pages take GET and POST.\n")
}

fn asset(name: &str) -> Response {
    let (body, kind) = match name {
        "admin.css" => (CSS, "text/css; charset=utf-8"),
        "admin.js" => (JS, "text/javascript; charset=utf-8"),
        _ => return answer(StatusCode::NOT_FOUND, "text/plain; charset=utf-8", "Not found.\n"),
    };
    let mut response = answer(StatusCode::OK, kind, body);
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600"));
    response
}

/// The accepted domains a "new mailbox/group" form offers, and the default.
pub(crate) async fn domain_choices(page: &Page<'_>) -> Result<(Vec<String>, String), Response> {
    let domains = page.ctx().domains().await.map_err(|problem| problem_page(page.caller, &problem))?;
    let default = domains.iter().find(|d| d.is_default).map(|d| d.name.to_string()).unwrap_or_default();
    Ok((domains.iter().map(|d| d.name.to_string()).collect(), default))
}

/// The address a "new mailbox/group" form asks for: the typed local part at
/// the chosen domain; empty for the suggestion in the default domain (core
/// makes it, numbered if taken); in another domain core needs the whole
/// address, so the suggestion is made here by core's rule.
pub(crate) fn address_from_form(form: &Form, default_domain: &str) -> String {
    let (name, local, domain) =
        (form.get("name").trim(), form.get("local").trim(), form.get("domain").trim());
    match (local.is_empty(), domain.is_empty() || domain == default_domain) {
        (false, _) => format!("{local}@{domain}"),
        (true, true) => String::new(),
        (true, false) => format!("{}@{domain}", mailroom_core::directory::naming::suggest_alias(name)),
    }
}

/// The kinds a list or detail page is about.
pub(crate) fn kinds_of_people() -> [RecipientKind; 2] {
    [RecipientKind::UserMailbox, RecipientKind::SecurityGroup]
}
