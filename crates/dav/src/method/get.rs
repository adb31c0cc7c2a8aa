//! GET and HEAD of a calendar resource: its iCalendar text exactly as
//! stored, with its ETag.

use bytes::Bytes;
use http::{HeaderValue, Method, StatusCode, header};

use crate::path::Target;
use crate::props::http_date;
use crate::{Ctx, DavError, DavResult, Request, respond};

pub async fn handle(ctx: &Ctx<'_>, target: &Target, request: &Request) -> DavResult {
    let Target::Object { home, calendar, name } = target else {
        if matches!(target, Target::Root) {
            return Ok(respond(
                StatusCode::OK,
                "text/plain; charset=utf-8",
                format!(
                    "Mailroom CalDAV. Add this server to your calendar app with your email address; you are signed in as {}.\n",
                    ctx.me.primary_address
                ),
            ));
        }
        return Err(DavError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "Collections have no content to GET; use PROPFIND or REPORT.",
        ));
    };
    let opened = ctx.calendar(home, calendar).await?;
    let object = ctx.object(&opened, name).await?;
    let length = object.data.len();
    let body = if request.method == Method::HEAD { Bytes::new() } else { Bytes::from(object.data) };
    let mut response = respond(StatusCode::OK, "text/calendar; charset=utf-8", body);
    let headers = response.headers_mut();
    if let Ok(etag) = HeaderValue::from_str(&object.etag) {
        headers.insert(header::ETAG, etag);
    }
    if let Ok(modified) = HeaderValue::from_str(&http_date(object.modified)) {
        headers.insert(header::LAST_MODIFIED, modified);
    }
    if request.method == Method::HEAD {
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    }
    Ok(response)
}
