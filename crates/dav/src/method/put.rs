//! PUT of a calendar resource (RFC 4791 §5.3.2): validated iCalendar,
//! conditional on `If-Match` / `If-None-Match`, one UID per calendar.
//! `201`/`204` come after the write is durable.

use http::{HeaderValue, StatusCode, header};
use mailroom_core::calendar::PutOutcome;

use crate::path::{self, Target};
use crate::{Ctx, DavError, DavResult, Request, empty, precondition};
use mailroom_ical::{self, Invalid};

pub async fn handle(ctx: &Ctx<'_>, target: &Target, request: &Request) -> DavResult {
    let Target::Object { home, calendar, name } = target else {
        return Err(DavError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "PUT a resource inside a calendar: /dav/calendars/<address>/<calendar>/<name>.ics",
        ));
    };
    let content_type =
        request.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("text/calendar");
    let media = content_type.split(';').next().unwrap_or("").trim();
    if !media.eq_ignore_ascii_case("text/calendar") {
        return Err(DavError::condition(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "<c:supported-calendar-data/>",
            format!("A calendar stores text/calendar (iCalendar) resources, not {media}."),
        ));
    }
    // The size was checked before the body was read (Dav::admit, Dav::respond).
    let text = std::str::from_utf8(&request.body).map_err(|_| {
        DavError::condition(
            StatusCode::BAD_REQUEST,
            "<c:valid-calendar-data/>",
            "The iCalendar data isn't UTF-8.",
        )
    })?;
    let object = mailroom_ical::validate(text).map_err(|invalid| match invalid {
        Invalid::Data(message) => DavError::condition(
            StatusCode::BAD_REQUEST,
            "<c:valid-calendar-data/>",
            format!("The calendar resource wasn't stored: {message}."),
        ),
        Invalid::Component(message) => DavError::condition(
            StatusCode::FORBIDDEN,
            "<c:supported-calendar-component/>",
            format!("The calendar resource wasn't stored: {message}."),
        ),
    })?;
    let opened = ctx.calendar(home, calendar).await?;
    let outcome = ctx.calendars().put(&opened.open, name, &object, &precondition(request)).await?;
    let (status, etag) = match outcome {
        PutOutcome::Created { etag } => (StatusCode::CREATED, etag),
        PutOutcome::Replaced { etag } => (StatusCode::NO_CONTENT, etag),
        PutOutcome::PreconditionFailed => {
            return Err(DavError::new(
                StatusCode::PRECONDITION_FAILED,
                "The resource changed since you read it (or exists, or doesn't): read it again and retry.",
            ));
        }
        PutOutcome::UidConflict { existing } => {
            let href = crate::xml::href(&path::object(home, calendar, &existing));
            return Err(DavError::condition(
                StatusCode::FORBIDDEN,
                &format!("<c:no-uid-conflict>{href}</c:no-uid-conflict>"),
                format!("Another resource of this calendar ({existing}) has the same UID."),
            ));
        }
    };
    let mut response = empty(status);
    if let Ok(etag) = HeaderValue::from_str(&etag) {
        response.headers_mut().insert(header::ETAG, etag);
    }
    Ok(response)
}
