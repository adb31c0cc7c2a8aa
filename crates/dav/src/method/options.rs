//! OPTIONS: what this server speaks (RFC 4918 §10.1, RFC 4791 §5.1).
//! Answered without signing in: it tells nothing about anyone's data.

use http::{HeaderValue, StatusCode, header};

use crate::{Response, empty};

/// WebDAV class 1 and 3, calendar-access, extended MKCOL (RFC 5689).
pub const DAV_CLASSES: &str = "1, 3, calendar-access, extended-mkcol";
pub const ALLOW: &str = "OPTIONS, GET, HEAD, PUT, DELETE, PROPFIND, PROPPATCH, MKCALENDAR, MKCOL, REPORT";

pub fn handle() -> Response {
    let mut response = empty(StatusCode::OK);
    response.headers_mut().insert(header::ALLOW, HeaderValue::from_static(ALLOW));
    response
}
