//! The admin API: JSON under `/api/v1`, the same operations as the pages
//! ([`crate::ops`]), described by the OpenAPI 3.1 document at
//! `/api/openapi.json`.
//!
//! Authentication is an API token (`Authorization: Bearer mrt_…`, made with
//! `mailroom token create`) or an admin's browser session; with a session,
//! a request that changes something also sends the session's CSRF token as
//! `X-CSRF-Token`. Errors are `application/problem+json` (RFC 9457) whose
//! `detail` is the CLI's message, word for word.

mod domains;
mod groups;
mod json;
mod mailboxes;
mod queue;

use http::{HeaderValue, Method, StatusCode, header};
use serde_json::Value;

use crate::auth::{self, Refusal};
use crate::form::decode_path;
use crate::ops::OpResult;
use crate::problem::Problem;
use crate::session::same_secret;
use crate::{Caller, Head, Request, Response, Web, answer};

/// The largest body: an automatic reply's two texts of 128 KB and the rest.
pub(crate) const MAX_BODY: usize = 320 * 1024;

const OPENAPI: &str = include_str!("openapi.json");

/// Signs the caller in from the head alone.
pub(crate) async fn admit(web: &Web, head: &Head) -> Result<Caller, Response> {
    if head.path == "/api/openapi.json" && head.method == Method::GET {
        return Ok(Caller::Anonymous);
    }
    match auth::token(web, head).await {
        Ok(Some(name)) => return Ok(Caller::Token { name }),
        Ok(None) => {}
        Err(refusal) => return Err(refused(refusal)),
    }
    let (session, me) = auth::browser(web, head).await.map_err(refused)?;
    let unsafe_method = !matches!(head.method, Method::GET | Method::HEAD | Method::OPTIONS);
    if unsafe_method {
        let sent = head.headers.get("X-CSRF-Token").and_then(|v| v.to_str().ok()).unwrap_or("");
        if !same_secret(sent, &session.csrf) {
            return Err(problem(&Problem::new(
                StatusCode::FORBIDDEN,
                "A change made with a browser session must send the session's CSRF token as X-CSRF-Token.",
            )));
        }
    }
    let caller = Caller::Browser { session: Box::new(session), me: Box::new(me) };
    if let Err(err) = web.mail().directory().require_admin(&caller.actor()).await {
        return Err(problem(&Problem::from(err)));
    }
    Ok(caller)
}

fn refused(refusal: Refusal) -> Response {
    match refusal {
        Refusal::Missing => {
            let mut response = problem(&Problem::new(
                StatusCode::UNAUTHORIZED,
                "Sign in with an API token (Authorization: Bearer <secret>, from 'mailroom token create --name NAME') or an admin's session.",
            ));
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            response
        }
        Refusal::Plaintext => problem(&Problem::new(
            StatusCode::FORBIDDEN,
            "Use HTTPS: this server doesn't accept tokens over plain HTTP from other machines.",
        )),
        Refusal::Storage => problem(&Problem::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "The server couldn't check the credentials; its log has the details.",
        )),
    }
}

/// Whether the head carries a valid API token (for `/metrics`).
pub(crate) async fn bearer_is_valid(web: &Web, head: &Head) -> bool {
    matches!(auth::token(web, head).await, Ok(Some(_)))
}

/// What a handler returns: a status and a JSON body (none for `204`).
pub(crate) type Reply = OpResult<(StatusCode, Option<Value>)>;

pub(crate) fn ok(value: Value) -> Reply {
    Ok((StatusCode::OK, Some(value)))
}

pub(crate) fn created(value: Value) -> Reply {
    Ok((StatusCode::CREATED, Some(value)))
}

pub(crate) fn no_content() -> Reply {
    Ok((StatusCode::NO_CONTENT, None))
}

/// A request as the handlers see it.
#[derive(Debug)]
pub(crate) struct Call<'a> {
    pub method: &'a Method,
    /// Path segments after `/api/v1/`, percent-decoded.
    pub segments: Vec<String>,
    pub query: crate::form::Form,
    body: &'a [u8],
}

impl Call<'_> {
    /// The body as a JSON object (an empty body is an empty object).
    pub fn body(&self) -> OpResult<serde_json::Map<String, Value>> {
        if self.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(serde_json::Map::new());
        }
        match serde_json::from_slice::<Value>(self.body) {
            Ok(Value::Object(map)) => Ok(map),
            Ok(_) => Err(Problem::new(StatusCode::BAD_REQUEST, "The body must be a JSON object.")),
            Err(err) => {
                Err(Problem::new(StatusCode::BAD_REQUEST, format!("The body isn't valid JSON: {err}.")))
            }
        }
    }
}

pub(crate) async fn respond(web: &Web, caller: Caller, request: Request) -> Response {
    let head = &request.head;
    if head.path == "/api/openapi.json" {
        return respond_json(StatusCode::OK, OPENAPI.to_string(), "application/json");
    }
    let Some(rest) = head.path.strip_prefix("/api/v1/") else {
        return problem(&Problem::not_found());
    };
    // HEAD is GET without the body (hyper leaves the body out).
    let method = if head.method == Method::HEAD { &Method::GET } else { &head.method };
    let call = Call {
        method,
        segments: rest.split('/').filter(|s| !s.is_empty()).map(|s| decode_path(s.as_bytes())).collect(),
        query: crate::form::Form::parse(head.query.as_deref().unwrap_or("").as_bytes()),
        body: &request.body,
    };
    if let Caller::Token { name } = &caller
        && !matches!(head.method, Method::GET | Method::HEAD)
    {
        // Who changed what: the token's name, never its secret.
        tracing::info!(token = name, method = %head.method, path = head.path, "admin api change");
    }
    let ctx = web.ctx(&caller);
    let first = call.segments.first().map(String::as_str);
    let reply = match first {
        Some("mailboxes") => mailboxes::handle(&ctx, &call).await,
        Some("groups") => groups::handle(&ctx, &call).await,
        Some("domains") => domains::handle(&ctx, &call).await,
        Some("queue") => queue::handle(&ctx, &call).await,
        _ => Err(Problem::not_found()),
    };
    match reply {
        Ok((status, Some(value))) => respond_json(status, value.to_string(), "application/json"),
        Ok((status, None)) => answer(status, "application/json", bytes::Bytes::new()),
        Err(p) => {
            if p.status.is_server_error() {
                tracing::warn!(path = head.path, status = p.status.as_u16(), "api request failed");
            }
            problem(&p)
        }
    }
}

/// `405` naming the methods a path has (`allowed`: "GET or POST").
pub(crate) fn not_allowed(allowed: &'static str) -> Problem {
    let mut problem = Problem::new(StatusCode::METHOD_NOT_ALLOWED, format!("This path takes {allowed}."));
    problem.allow = Some(allowed);
    problem
}

/// The operations name fields as the pages' forms do; the API's request
/// bodies name them after the cmdlets' parameters.
fn api_field(field: &'static str) -> &'static str {
    match field {
        "issue_warning" => "issue_warning_quota",
        "prohibit_send" => "prohibit_send_quota",
        "prohibit_send_receive" => "prohibit_send_receive_quota",
        "forward_to" => "address",
        "keep_copy" => "keep_copy",
        "start" => "start_time",
        "end" => "end_time",
        "internal" => "internal_message",
        "external" => "external_message",
        "audience" => "external_audience",
        "holder" => "holders",
        "sent_as" => "message_copy_for_sent_as",
        other => other,
    }
}

fn respond_json(status: StatusCode, body: String, content_type: &'static str) -> Response {
    answer(status, content_type, body)
}

pub(crate) fn problem(p: &Problem) -> Response {
    let mut p = p.clone();
    p.field = p.field.map(api_field);
    let mut response = answer(p.status, "application/problem+json", p.to_json());
    if let Some(allow) = p.allow {
        let methods = allow.replace(" or ", ", ");
        if let Ok(value) = HeaderValue::from_str(&methods) {
            response.headers_mut().insert(header::ALLOW, value);
        }
    }
    response
}
