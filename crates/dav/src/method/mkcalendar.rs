//! MKCALENDAR (RFC 4791 §5.3.1) and extended MKCOL with a calendar
//! resource type (RFC 5689): a new calendar in a mailbox the caller may open.

use http::StatusCode;
use mailroom_core::calendar::CalendarProps;

use crate::path::Target;
use crate::xml::{self, APPLE_ICAL, CALDAV, DAV};
use crate::{Ctx, DavError, DavResult, Request, empty};

pub async fn handle(ctx: &Ctx<'_>, target: &Target, request: &Request) -> DavResult {
    let Target::Calendar { home, calendar } = target else {
        return Err(DavError::new(
            StatusCode::FORBIDDEN,
            "Calendars are created inside a calendar home: /dav/calendars/<address>/<name>/",
        ));
    };
    let mut props = CalendarProps::default();
    if !request.body.iter().all(u8::is_ascii_whitespace) {
        let root = xml::parse(&request.body).map_err(DavError::bad_request)?;
        let mkcol = request.method.as_str() == "MKCOL";
        if !(root.is(CALDAV, "mkcalendar") || (mkcol && root.is(DAV, "mkcol"))) {
            return Err(DavError::bad_request("the body must be a CALDAV:mkcalendar (or DAV:mkcol) element"));
        }
        let mut is_calendar = !mkcol;
        for prop in root.children_named(DAV, "set").flat_map(|set| set.children_named(DAV, "prop")) {
            for element in &prop.children {
                let text = element.text.trim().to_string();
                match (element.name.ns.as_str(), element.name.name.as_str()) {
                    (DAV, "displayname") => props.display_name = Some(text),
                    (APPLE_ICAL, "calendar-color") => props.color = Some(Some(text)),
                    (CALDAV, "calendar-description") => props.description = Some(Some(text)),
                    (DAV, "resourcetype") => is_calendar = element.child(CALDAV, "calendar").is_some(),
                    // Time zone and component set are what every calendar here has.
                    _ => {}
                }
            }
        }
        if !is_calendar {
            return Err(DavError::condition(
                StatusCode::FORBIDDEN,
                "<d:valid-resourcetype/>",
                "Only calendars can be created here; give the resource type DAV:collection + CALDAV:calendar.",
            ));
        }
    } else if request.method.as_str() == "MKCOL" {
        return Err(DavError::new(
            StatusCode::FORBIDDEN,
            "Only calendars can be created here; use MKCALENDAR.",
        ));
    }
    let owner = ctx.mailbox(home).await?;
    match ctx.calendars().create_calendar(ctx.me.id, &owner, calendar, &props).await {
        Ok(_) => Ok(empty(StatusCode::CREATED)),
        // RFC 4918 §9.3.1: MKCOL on an existing resource is 405.
        Err(mailroom_core::CoreError::NameInUse { .. }) => {
            Err(DavError::new(StatusCode::METHOD_NOT_ALLOWED, "A calendar exists at this URL."))
        }
        Err(other) => Err(other.into()),
    }
}
