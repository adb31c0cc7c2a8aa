//! The HTTP face of Mailroom beside CalDAV: the admin center (server-rendered
//! pages under `/admin`), the admin API (JSON under `/api/v1`, described by
//! `/api/openapi.json`), client self-configuration (Thunderbird autoconfig,
//! Outlook autodiscover, an Apple profile under `/setup`) and `/metrics`.
//!
//! Like the CalDAV crate, this is HTTP without I/O: the server crate owns
//! sockets and TLS, asks [`Web::admit`] about a request's head — which
//! signs the caller in, so a stranger's body is never read — then reads at
//! most the body the route allows and calls [`Web::respond`].
//!
//! Every operation goes through [`ops`], which calls `core` as the cmdlets
//! do; the pages ([`pages`]) and the API ([`api`]) are two renderings of it.

mod api;
mod app;
mod auth;
pub mod clientconfig;
mod discovery;
pub mod form;
mod metrics;
pub mod multipart;
pub mod ops;
mod pages;
pub mod problem;
pub mod session;
mod setup;

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use mailroom_core::change::ChangeFeed;
use mailroom_core::directory::{Actor, Recipient};
use mailroom_core::mail::Mail;

pub use clientconfig::ClientSettings;
pub use metrics::{MetricsSource, NoMetrics, family as metric_family};

use session::Session;

pub type Response = http::Response<Bytes>;

/// A page form's largest body: two automatic-reply texts of 128 KB each and the rest.
const MAX_FORM_BODY: usize = 320 * 1024;
/// The sign-in form: an address and a password.
const MAX_SIGN_IN_BODY: usize = 8 * 1024;
/// An autodiscover request is a few lines of XML.
const MAX_AUTODISCOVER_BODY: usize = 64 * 1024;

/// Settings of the web service.
#[derive(Clone, Debug, Default)]
pub struct WebConfig {
    /// Where clients reach this server (self-configuration answers).
    pub client: ClientSettings,
    /// Accept passwords and tokens over plain HTTP from other hosts
    /// (loopback always may).
    pub allow_plaintext_auth: bool,
    /// The SRS key, for forwarding what the web app sends (as SMTP does).
    pub srs_secret: Option<mailroom_types::Secret<Vec<u8>>>,
    /// The most recipients one message may have (SMTP's `max_recipients`;
    /// 0 means the default, 500).
    pub max_recipients: usize,
    /// The largest message that may be sent (SMTP's `max_message_size`;
    /// 0 means SMTP's default, 36 MiB). A message written in the web app,
    /// attachments included, must fit it, as one sent over submission must.
    pub max_message_size: usize,
    /// The server's resolver: the admin center checks a domain's records
    /// with it. `None`: records are shown unchecked.
    pub dns: Option<Arc<mailroom_mailauth::Dns>>,
}

impl WebConfig {
    /// The largest message that may be sent.
    pub fn max_message_size(&self) -> usize {
        match self.max_message_size {
            0 => 36 * 1024 * 1024,
            n => n,
        }
    }

    /// The largest form written mail may be sent in: attachments grow by a
    /// third (and a little for line breaks) when encoded in base64, so a
    /// form of 72% of the largest message is the most that could fit.
    pub fn max_upload(&self) -> usize {
        self.max_message_size() / 100 * 72
    }
}

/// The web service. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Web {
    mail: Mail,
    config: Arc<WebConfig>,
    metrics: Arc<dyn MetricsSource>,
    stats: Arc<metrics::WebStats>,
    /// Every process's changes: the web app's lists update from it.
    changes: Option<Arc<dyn ChangeFeed>>,
    /// Message HTML already cleaned, by body.
    cleaned: Arc<app::sanitize::CleanCache>,
    /// Who is writing a reply to which message (the collision guard).
    presence: Arc<app::presence::Presence>,
    /// Becomes true when the server stops: waiting answers end at once.
    shutdown: Option<tokio::sync::watch::Receiver<bool>>,
    /// The calendars, for the web app's calendar (the same service CalDAV uses).
    calendars: Option<mailroom_core::calendar::Calendars>,
}

/// A request's head: everything known before its body is read.
#[derive(Debug)]
pub struct Head {
    pub method: Method,
    /// The path, without the query.
    pub path: String,
    pub query: Option<String>,
    pub headers: HeaderMap,
    pub peer: SocketAddr,
    /// It came over TLS.
    pub secure: bool,
}

/// A request as the server read it.
#[derive(Debug)]
pub struct Request {
    pub head: Head,
    pub body: Bytes,
    /// The request's share of the server's memory budget, which covers its
    /// body; the web app covers what it builds from it here too (a
    /// forward's decoded attachments, the message written). `None`: not
    /// counted (tools, tests of this crate).
    pub memory: Option<mailroom_core::budget::Reservation>,
}

/// What the head of a request decides ([`Web::admit`]).
#[derive(Debug)]
pub enum Admission {
    /// Answer now; the body (if any) is never read.
    Respond(Response),
    /// Read a body of at most [`Admitted::body_limit`] octets, then [`Web::respond`].
    ReadBody(Admitted),
}

/// Who sent a request that passed its head.
#[derive(Clone, Debug)]
pub(crate) enum Caller {
    /// Nobody yet: the sign-in form, autodiscover.
    Anonymous,
    /// A signed-in browser (or the API used with its cookie).
    Browser { session: Box<Session>, me: Box<Recipient> },
    /// An API token: the operator's authority.
    Token { name: String },
}

impl Caller {
    /// Who acts. Nobody, for a caller who hasn't signed in: the routes that
    /// take anonymous callers never reach an operation, and if one did,
    /// `core` would refuse this principal (there is none with id 0).
    pub(crate) fn actor(&self) -> Actor {
        match self {
            Caller::Anonymous => Actor::Principal(mailroom_types::PrincipalId(0)),
            Caller::Browser { me, .. } => Actor::Principal(me.id),
            Caller::Token { .. } => Actor::System,
        }
    }
}

/// A request whose head passed: who sent it and how much body it may have.
#[derive(Debug)]
pub struct Admitted {
    caller: Caller,
    body_limit: usize,
    /// An API request: refusals are problem documents.
    api: bool,
}

impl Admitted {
    /// The most body octets this request may send.
    pub fn body_limit(&self) -> usize {
        self.body_limit
    }

    /// Whether the answer ends the connection: a caller who hasn't signed
    /// in gets one request per connection, like CalDAV's strangers, so
    /// nobody holds a connection slot without credentials.
    pub fn closes(&self) -> bool {
        matches!(self.caller, Caller::Anonymous)
    }

    /// The answer to a body found larger than the limit while it was read.
    pub fn too_large(&self) -> Response {
        body_too_large(self.api, self.body_limit)
    }
}

impl Web {
    pub fn new(mail: Mail, config: WebConfig, metrics: Arc<dyn MetricsSource>) -> Self {
        Web {
            mail,
            config: Arc::new(config),
            metrics,
            stats: Arc::default(),
            changes: None,
            cleaned: Arc::default(),
            presence: Arc::default(),
            shutdown: None,
            calendars: None,
        }
    }

    /// With the calendars, for the web app's calendar.
    pub fn with_calendars(mut self, calendars: mailroom_core::calendar::Calendars) -> Self {
        self.calendars = Some(calendars);
        self
    }

    /// With the change feed, so open message lists follow new mail, flags
    /// and expunges as they happen; `shutdown` ends their waiting answers
    /// when the server stops.
    pub fn with_changes(
        mut self,
        changes: Arc<dyn ChangeFeed>,
        shutdown: tokio::sync::watch::Receiver<bool>,
    ) -> Self {
        self.changes = Some(changes);
        self.shutdown = Some(shutdown);
        self
    }

    /// Whether this service answers `method path` (the rest is CalDAV's).
    pub fn handles(method: &Method, path: &str) -> bool {
        let lower = path.to_ascii_lowercase();
        path == "/admin"
            || path.starts_with("/admin/")
            || path == "/api"
            || path.starts_with("/api/")
            || path == "/setup"
            || path.starts_with("/setup/")
            || path == "/mail"
            || path.starts_with("/mail/")
            || path == "/calendar"
            || path.starts_with("/calendar/")
            || path == "/metrics"
            || path == clientconfig_paths::WELL_KNOWN
            || path == clientconfig_paths::MAIL
            || path == clientconfig_paths::MTA_STS
            || lower == clientconfig_paths::AUTODISCOVER
            || (path == "/" && (method == Method::GET || method == Method::HEAD))
    }

    /// Decides what can be decided from a request's head, before any of
    /// its body is read: sign-in (session or token), the route, and the
    /// largest body it may send.
    pub async fn admit(&self, head: &Head) -> Admission {
        let path = head.path.as_str();
        if path == "/" {
            return Admission::Respond(redirect("/mail/"));
        }
        if path == clientconfig_paths::MTA_STS {
            // RFC 8461 §3.3: fetched by sending servers, without a sign-in.
            let policy = mailroom_mailauth::records::mta_sts_policy(&self.config.client.hostname);
            return Admission::Respond(answer(StatusCode::OK, "text/plain; charset=utf-8", policy));
        }
        if path == clientconfig_paths::WELL_KNOWN || path == clientconfig_paths::MAIL {
            return Admission::Respond(discovery::autoconfig(self, head).await);
        }
        if path.eq_ignore_ascii_case(clientconfig_paths::AUTODISCOVER) {
            if head.method != Method::POST {
                return Admission::Respond(discovery::autodiscover_get());
            }
            return self.body(head, Caller::Anonymous, MAX_AUTODISCOVER_BODY);
        }
        if path == "/metrics" {
            return Admission::Respond(metrics::scrape(self, head).await);
        }
        if is_api(path) {
            return match api::admit(self, head).await {
                Ok(caller) => self.body(head, caller, api::MAX_BODY),
                Err(response) => Admission::Respond(response),
            };
        }
        match pages::admit(self, head).await {
            Ok(caller) => {
                // Only a form with files may be large: the same page's
                // form sent urlencoded gets the ordinary limit.
                let with_files = head
                    .headers
                    .get(header::CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|t| multipart::boundary(t).is_some());
                let limit = match path {
                    pages::SIGN_IN => MAX_SIGN_IN_BODY,
                    pages::COMPOSE if with_files => self.config.max_upload().max(MAX_FORM_BODY),
                    _ => MAX_FORM_BODY,
                };
                self.body(head, caller, limit)
            }
            Err(response) => Admission::Respond(response),
        }
    }

    /// A head that may send a body of `limit`; a larger declared one is refused now.
    fn body(&self, head: &Head, caller: Caller, limit: usize) -> Admission {
        let limit = if head.method == Method::GET || head.method == Method::HEAD { 0 } else { limit };
        let declared = head
            .headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok()?.trim().parse::<u64>().ok());
        let api = is_api(&head.path);
        if declared.is_some_and(|d| d > limit as u64) {
            return Admission::Respond(body_too_large(api, limit));
        }
        Admission::ReadBody(Admitted { caller, body_limit: limit, api })
    }

    /// Answers a request admitted by [`Self::admit`], its body read.
    pub async fn respond(&self, admitted: Admitted, request: Request) -> Response {
        let started = std::time::Instant::now();
        let path = request.head.path.clone();
        let method = request.head.method.clone();
        let response = if request.body.len() > admitted.body_limit {
            admitted.too_large()
        } else if path.eq_ignore_ascii_case(clientconfig_paths::AUTODISCOVER) {
            discovery::autodiscover(self, &request).await
        } else if is_api(&path) {
            api::respond(self, admitted.caller, request).await
        } else {
            pages::respond(self, admitted.caller, request).await
        };
        self.stats.observe(started.elapsed());
        tracing::debug!(%method, path, status = response.status().as_u16(), elapsed_us = started.elapsed().as_micros() as u64, "web request");
        response
    }

    pub(crate) fn mail(&self) -> &Mail {
        &self.mail
    }

    pub(crate) fn ctx(&self, caller: &Caller) -> ops::Ctx<'_> {
        ops::Ctx { mail: &self.mail, actor: caller.actor() }
    }

    /// Passwords and tokens travel over TLS, or stay on this machine.
    pub(crate) fn may_send_secrets(&self, head: &Head) -> bool {
        head.secure || is_loopback(head) || self.config.allow_plaintext_auth
    }
}

/// A message's searchable text, for `core`'s full-text search and the
/// server's indexer (the one place MIME decoding meets the index).
pub fn message_text(message: &[u8]) -> mailroom_core::store::MessageText {
    let text = mailroom_mime::readable::search_text(message);
    mailroom_core::store::MessageText {
        subject: text.subject,
        people: text.people,
        body: text.body,
        search_body: mailroom_mime::readable::body_search_haystack(message),
    }
}

/// The paths of client self-configuration.
pub(crate) mod clientconfig_paths {
    /// Thunderbird looks here on the mail domain (`autoconfig.<domain>`).
    pub const WELL_KNOWN: &str = "/.well-known/autoconfig/mail/config-v1.1.xml";
    /// And here, with `?emailaddress=`.
    pub const MAIL: &str = "/mail/config-v1.1.xml";
    /// Sending servers fetch our MTA-STS policy here, on
    /// `mta-sts.<domain>` (RFC 8461 §3.2).
    pub const MTA_STS: &str = "/.well-known/mta-sts.txt";
    /// Outlook POSTs here (compared ignoring case: clients differ).
    pub const AUTODISCOVER: &str = "/autodiscover/autodiscover.xml";
}

pub(crate) fn answer(status: StatusCode, content_type: &'static str, body: impl Into<Bytes>) -> Response {
    let mut response = http::Response::new(body.into());
    *response.status_mut() = status;
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response.headers_mut().insert("X-Content-Type-Options", HeaderValue::from_static("nosniff"));
    response
}

/// `303 See Other`: after a form, the browser GETs the result.
pub(crate) fn redirect(to: &str) -> Response {
    let mut response = answer(StatusCode::SEE_OTHER, "text/plain; charset=utf-8", Bytes::new());
    if let Ok(value) = HeaderValue::from_str(to) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

fn body_too_large(api: bool, limit: usize) -> Response {
    let message = if limit == 0 {
        "This request may not carry a body.".to_string()
    } else {
        format!("This request may carry at most {} KiB of body.", limit / 1024)
    };
    if api {
        return api::problem(&problem::Problem::new(StatusCode::PAYLOAD_TOO_LARGE, message));
    }
    answer(StatusCode::PAYLOAD_TOO_LARGE, "text/plain; charset=utf-8", format!("{message}\n"))
}

/// The client is on this machine (an IPv4-mapped IPv6 address counts as
/// the IPv4 address it carries).
pub(crate) fn is_loopback(head: &Head) -> bool {
    head.peer.ip().to_canonical().is_loopback()
}

fn is_api(path: &str) -> bool {
    path == "/api" || path.starts_with("/api/")
}
