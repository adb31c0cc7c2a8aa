//! CalDAV (RFC 4791) over the shared-mailbox model (SPEC §2, §4).
//!
//! Every mailbox has a calendar home holding its calendars. A person's own
//! home also lists the default calendar of every shared mailbox automapped
//! to them, under the shared mailbox's address and display name, so Apple
//! Calendar, Thunderbird and DAVx5 show the team calendar after the normal
//! account setup; any Full Access holder reaches it under the shared
//! mailbox's own home too. Rights come from `core` on every request.
//!
//! The crate is HTTP without I/O: [`Dav::handle`] takes a request whose body
//! has been read and returns a response; the server crate owns sockets, TLS
//! and connection limits. One file per method under [`method`].

mod auth;
pub mod filter;
mod method;
pub mod path;
pub mod props;
pub mod xml;

use std::net::SocketAddr;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use mailroom_core::CoreError;
use mailroom_core::calendar::{Calendars, OpenCalendar, Precondition};
use mailroom_core::directory::Recipient;
use mailroom_types::EmailAddress;

/// The largest body of a REPORT (a calendar-multiget names many hrefs).
pub const MAX_REPORT_BODY: usize = 512 * 1024;
/// The largest body of PROPFIND, PROPPATCH, MKCALENDAR and MKCOL: a few
/// property names or values.
pub const MAX_PROPERTIES_BODY: usize = 64 * 1024;

pub type Response = http::Response<Bytes>;

/// Settings of the CalDAV service.
#[derive(Clone, Debug, Default)]
pub struct DavConfig {
    /// Accept passwords over plain HTTP from other hosts (loopback always may).
    pub allow_plaintext_auth: bool,
}

/// The CalDAV service. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Dav {
    calendars: Calendars,
    config: DavConfig,
}

/// A request's head: everything known before its body is read.
#[derive(Debug)]
pub struct Head {
    pub method: Method,
    /// The path, without the query.
    pub path: String,
    pub headers: HeaderMap,
    pub peer: SocketAddr,
    /// It came over TLS.
    pub secure: bool,
}

/// What the head of a request decides ([`Dav::admit`]).
#[derive(Debug)]
pub enum Admission {
    /// Answer now; the body (if any) is never read.
    Respond(Response),
    /// Signed in: read a body of at most [`Admitted::body_limit`] octets,
    /// then [`Dav::respond`].
    ReadBody(Admitted),
}

/// A request whose head passed: who sent it and how much body it may have.
#[derive(Debug)]
pub struct Admitted {
    me: Recipient,
    body_limit: usize,
}

impl Admitted {
    /// The most body octets this request may send.
    pub fn body_limit(&self) -> usize {
        self.body_limit
    }
}

/// A request as the server read it.
#[derive(Debug)]
pub struct Request {
    pub method: Method,
    /// The path, without the query.
    pub path: String,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub peer: SocketAddr,
    /// It came over TLS.
    pub secure: bool,
}

/// A failed request: the status, a message naming what to fix, and the
/// RFC 4918 §16 precondition element when one applies.
#[derive(Debug)]
pub(crate) struct DavError {
    status: StatusCode,
    message: String,
    condition: Option<String>,
}

impl DavError {
    pub(crate) fn new(status: StatusCode, message: impl Into<String>) -> Self {
        DavError { status, message: message.into(), condition: None }
    }

    /// With a precondition element (inner XML of `<d:error>`).
    pub(crate) fn condition(status: StatusCode, condition: &str, message: impl Into<String>) -> Self {
        DavError { status, message: message.into(), condition: Some(condition.to_string()) }
    }

    /// The same answer for what doesn't exist and for what a URL can't name.
    pub(crate) fn not_found() -> Self {
        DavError::new(StatusCode::NOT_FOUND, "Not found.")
    }

    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        DavError::new(StatusCode::BAD_REQUEST, message)
    }

    fn into_response(self) -> Response {
        match self.condition {
            Some(condition) => {
                let body = format!(
                    "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<d:error {}>{condition}<m:reason xmlns:m=\"https://mailroom.invalid/ns\">{}</m:reason></d:error>\n",
                    xml::NAMESPACES,
                    xml::text(&self.message)
                );
                respond(self.status, "application/xml; charset=utf-8", body)
            }
            None => respond(self.status, "text/plain; charset=utf-8", format!("{}\n", self.message)),
        }
    }
}

/// DESIGN.md rule 9: each error class maps to the wire in one place.
impl From<CoreError> for DavError {
    fn from(err: CoreError) -> Self {
        match err {
            CoreError::NotFound { .. } => DavError::not_found(),
            err @ (CoreError::NoAccess { .. } | CoreError::PermissionDenied) => {
                DavError::condition(StatusCode::FORBIDDEN, "<d:need-privileges/>", err.to_string())
            }
            err @ CoreError::MailboxFull { .. } => {
                DavError::new(StatusCode::INSUFFICIENT_STORAGE, err.to_string())
            }
            CoreError::Storage => DavError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "The server couldn't complete the request; its log has the details.",
            ),
            other => DavError::new(StatusCode::BAD_REQUEST, other.to_string()),
        }
    }
}

pub(crate) type DavResult<T = Response> = Result<T, DavError>;

pub(crate) fn respond(status: StatusCode, content_type: &str, body: impl Into<Bytes>) -> Response {
    let mut response = http::Response::new(body.into());
    *response.status_mut() = status;
    if let Ok(value) = HeaderValue::from_str(content_type) {
        response.headers_mut().insert(header::CONTENT_TYPE, value);
    }
    response
}

pub(crate) fn empty(status: StatusCode) -> Response {
    let mut response = http::Response::new(Bytes::new());
    *response.status_mut() = status;
    response
}

pub(crate) fn multistatus(body: String) -> Response {
    respond(StatusCode::MULTI_STATUS, "application/xml; charset=utf-8", body)
}

/// What the signed-in person is working with.
#[derive(Debug)]
pub(crate) struct Ctx<'a> {
    pub dav: &'a Dav,
    pub me: Recipient,
}

/// A calendar opened for a request, with what its URL shows.
#[derive(Debug)]
pub(crate) struct Opened {
    pub open: OpenCalendar,
    /// `displayname`: the shared mailbox's for an automapped entry.
    pub display_name: String,
    /// The mailbox that owns it.
    pub owner: Recipient,
    pub home: String,
    pub segment: String,
}

impl Ctx<'_> {
    pub fn calendars(&self) -> &Calendars {
        &self.dav.calendars
    }

    fn is_me(&self, address: &str) -> bool {
        EmailAddress::parse(address).is_ok_and(|a| self.me.has_address(&a))
    }

    /// The mailbox whose home or principal `address` names, if the caller may open it.
    pub async fn mailbox(&self, address: &str) -> DavResult<Recipient> {
        if self.is_me(address) {
            return Ok(self.me.clone());
        }
        let address = EmailAddress::parse(address).map_err(|_| DavError::not_found())?;
        Ok(self.calendars().mailbox(self.me.id, &address).await?)
    }

    /// Opens the calendar at `/dav/calendars/<home>/<segment>/`, rights checked now.
    pub async fn calendar(&self, home: &str, segment: &str) -> DavResult<Opened> {
        let (open, owner, display_name) = if self.is_me(home) {
            let open = self.calendars().open_in_home(self.me.id, segment).await?;
            if segment.contains('@') {
                let owner =
                    self.calendars().directory().recipient(open.calendar().mailbox.principal()).await?;
                let name = owner.display_name.clone();
                (open, owner, name)
            } else {
                let name = open.calendar().display_name.clone();
                (open, self.me.clone(), name)
            }
        } else {
            let owner = self.mailbox(home).await?;
            let open = self.calendars().open(self.me.id, &owner, segment).await?;
            let name = open.calendar().display_name.clone();
            (open, owner, name)
        };
        Ok(Opened { open, display_name, owner, home: home.to_string(), segment: segment.to_string() })
    }

    /// A resource of an opened calendar, or `404`.
    pub async fn object(
        &self,
        opened: &Opened,
        name: &str,
    ) -> DavResult<mailroom_core::calendar::CalendarObject> {
        self.calendars().object(&opened.open, name).await?.ok_or_else(DavError::not_found)
    }
}

impl Dav {
    pub fn new(calendars: Calendars, config: DavConfig) -> Self {
        Dav { calendars, config }
    }

    /// Decides what can be decided from a request's head, before any of
    /// its body is read: the well-known redirect, OPTIONS, sign-in (a
    /// stranger's body is never read), the method, and the largest body
    /// the method may send — a declared `Content-Length` over it is refused
    /// at once.
    pub async fn admit(&self, head: &Head) -> Admission {
        match self.admit_head(head).await {
            Ok(admission) => admission,
            Err(err) => Admission::Respond(with_common_headers(err.into_response())),
        }
    }

    async fn admit_head(&self, head: &Head) -> DavResult<Admission> {
        if head.path == path::WELL_KNOWN || head.path == format!("{}/", path::WELL_KNOWN) {
            // RFC 6764 §5: the well-known URI redirects to the context path.
            let mut response = empty(StatusCode::MOVED_PERMANENTLY);
            response.headers_mut().insert(header::LOCATION, HeaderValue::from_static(path::ROOT));
            return Ok(Admission::Respond(with_common_headers(response)));
        }
        if head.method == Method::OPTIONS {
            return Ok(Admission::Respond(with_common_headers(method::options::handle())));
        }
        let me = self.sign_in(head).await?;
        let body_limit = body_limit(&head.method).ok_or_else(|| {
            DavError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                format!("{} isn't supported; see OPTIONS for the methods this server has.", head.method),
            )
        })?;
        let declared = head
            .headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok()?.trim().parse::<u64>().ok());
        if let Some(declared) = declared
            && declared > body_limit as u64
        {
            return Err(too_large(&head.method, body_limit));
        }
        Ok(Admission::ReadBody(Admitted { me, body_limit }))
    }

    /// Answers a request admitted by [`Self::admit`], its body read.
    pub async fn respond(&self, admitted: Admitted, request: Request) -> Response {
        let started = std::time::Instant::now();
        let method = request.method.clone();
        let path = request.path.clone();
        let response = if request.body.len() > admitted.body_limit {
            too_large(&request.method, admitted.body_limit).into_response()
        } else {
            match self.route(admitted.me, request).await {
                Ok(response) => response,
                Err(err) => err.into_response(),
            }
        };
        tracing::debug!(%method, path, status = response.status().as_u16(), elapsed_ms = started.elapsed().as_millis() as u64, "dav request");
        with_common_headers(response)
    }

    /// Answers one whole request: [`Self::admit`], then [`Self::respond`].
    /// Never fails: every error is a response.
    pub async fn handle(&self, request: Request) -> Response {
        let head = Head {
            method: request.method.clone(),
            path: request.path.clone(),
            headers: request.headers.clone(),
            peer: request.peer,
            secure: request.secure,
        };
        match self.admit(&head).await {
            Admission::Respond(response) => response,
            Admission::ReadBody(admitted) => self.respond(admitted, request).await,
        }
    }

    async fn route(&self, me: Recipient, request: Request) -> DavResult {
        let target = path::parse(&request.path).ok_or_else(DavError::not_found)?;
        let ctx = Ctx { dav: self, me };
        match request.method.as_str() {
            "PROPFIND" => method::propfind::handle(&ctx, &target, &request).await,
            "PROPPATCH" => method::proppatch::handle(&ctx, &target, &request).await,
            "MKCALENDAR" | "MKCOL" => method::mkcalendar::handle(&ctx, &target, &request).await,
            "GET" | "HEAD" => method::get::handle(&ctx, &target, &request).await,
            "PUT" => method::put::handle(&ctx, &target, &request).await,
            "DELETE" => method::delete::handle(&ctx, &target, &request).await,
            "REPORT" => method::report::handle(&ctx, &target, &request).await,
            other => Err(DavError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                format!("{other} isn't supported; see OPTIONS for the methods this server has."),
            )),
        }
    }

    async fn sign_in(&self, request: &Head) -> DavResult<Recipient> {
        let loopback = request.peer.ip().is_loopback();
        if !request.secure && !loopback && !self.config.allow_plaintext_auth {
            return Err(DavError::new(
                StatusCode::FORBIDDEN,
                "Sign in over HTTPS: this server doesn't accept passwords over plain HTTP.",
            ));
        }
        let header = request.headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
        let dir = self.calendars.directory();
        match auth::sign_in(dir, header, request.peer.ip()).await {
            Ok(principal) => Ok(dir.recipient(principal).await?),
            Err(auth::Refusal::Storage) => Err(CoreError::Storage.into()),
            // The challenge header is added to every 401 (with_common_headers).
            Err(auth::Refusal::Credentials) => {
                Err(DavError::new(StatusCode::UNAUTHORIZED, "Sign in with your email address and password."))
            }
        }
    }
}

/// The largest body each method may send; `None` for a method this server
/// doesn't have. Methods that carry nothing may carry nothing.
fn body_limit(method: &Method) -> Option<usize> {
    Some(match method.as_str() {
        "PUT" => props::MAX_RESOURCE_SIZE,
        "REPORT" => MAX_REPORT_BODY,
        "PROPFIND" | "PROPPATCH" | "MKCALENDAR" | "MKCOL" => MAX_PROPERTIES_BODY,
        "GET" | "HEAD" | "DELETE" => 0,
        _ => return None,
    })
}

/// The answer to a body found larger than `limit` while it was read
/// (one sent in chunks, without a `Content-Length`).
pub fn body_too_large(method: &Method, limit: usize) -> Response {
    with_common_headers(too_large(method, limit).into_response())
}

/// A body over its method's limit: for PUT, CalDAV's own precondition
/// (RFC 4791 §5.3.2.1); for the rest, `413`.
fn too_large(method: &Method, limit: usize) -> DavError {
    if method == Method::PUT {
        return DavError::condition(
            StatusCode::FORBIDDEN,
            "<c:max-resource-size/>",
            format!("The resource is larger than the {limit} bytes a calendar resource may have."),
        );
    }
    DavError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!("A {method} request may carry at most {limit} bytes of body."),
    )
}

fn with_common_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert("DAV", HeaderValue::from_static(method::options::DAV_CLASSES));
    if response.status() == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"Mailroom\", charset=\"UTF-8\""),
        );
    }
    response
}

/// The `Depth` header: `0`, `1`, or `infinity` (also when absent, RFC 4918 §9.1).
pub(crate) fn depth(request: &Request) -> Option<u8> {
    match request.headers.get("Depth").and_then(|v| v.to_str().ok()).map(str::trim) {
        Some("0") => Some(0),
        Some("1") => Some(1),
        _ => None,
    }
}

/// `If-Match` / `If-None-Match` of a write (RFC 9110 §13.1).
pub(crate) fn precondition(request: &Request) -> Precondition {
    let get =
        |name: header::HeaderName| request.headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim);
    if let Some(value) = get(header::IF_NONE_MATCH)
        && value == "*"
    {
        return Precondition::Absent;
    }
    match get(header::IF_MATCH) {
        Some("*") => Precondition::Exists,
        Some(tag) => Precondition::EtagIs(tag.trim_start_matches("W/").to_string()),
        None => Precondition::None,
    }
}
