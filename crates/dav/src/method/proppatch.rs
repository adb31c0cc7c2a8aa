//! PROPPATCH (RFC 4918 §9.2): a calendar's display name, colour and
//! description. The update is atomic: one property that can't be set fails
//! all of them (`403` for it, `424 Failed Dependency` for the others).

use http::StatusCode;
use mailroom_core::calendar::CalendarProps;

use crate::path::Target;
use crate::props::Multistatus;
use crate::xml::{self, APPLE_ICAL, CALDAV, DAV, QName};
use crate::{Ctx, DavError, DavResult, Request, multistatus};

pub async fn handle(ctx: &Ctx<'_>, target: &Target, request: &Request) -> DavResult {
    let root = xml::parse(&request.body).map_err(DavError::bad_request)?;
    if !root.is(DAV, "propertyupdate") {
        return Err(DavError::bad_request("the PROPPATCH body must be a DAV:propertyupdate element"));
    }
    let mut changes: Vec<(QName, Option<String>)> = Vec::new();
    for op in &root.children {
        let set = if op.is(DAV, "set") {
            true
        } else if op.is(DAV, "remove") {
            false
        } else {
            continue;
        };
        for prop in op.children_named(DAV, "prop") {
            for element in &prop.children {
                changes.push((element.name.clone(), set.then(|| element.text.trim().to_string())));
            }
        }
    }
    let Target::Calendar { home, calendar } = target else {
        let mut out = Multistatus::default();
        let refused: Vec<(QName, &str)> = changes.into_iter().map(|(n, _)| (n, "403 Forbidden")).collect();
        out.statuses(&request.path, &refused);
        return Ok(multistatus(out.finish(None)));
    };
    let opened = ctx.calendar(home, calendar).await?;
    let mut props = CalendarProps::default();
    let mut refused = Vec::new();
    for (name, value) in &changes {
        match (name.ns.as_str(), name.name.as_str(), value) {
            (DAV, "displayname", Some(v)) => props.display_name = Some(v.clone()),
            (APPLE_ICAL, "calendar-color", v) => props.color = Some(v.clone()),
            (CALDAV, "calendar-description", v) => props.description = Some(v.clone()),
            _ => refused.push(name.clone()),
        }
    }
    let mut out = Multistatus::default();
    if !refused.is_empty() {
        let statuses: Vec<(QName, &str)> = changes
            .iter()
            .map(|(n, _)| {
                (n.clone(), if refused.contains(n) { "403 Forbidden" } else { "424 Failed Dependency" })
            })
            .collect();
        out.statuses(&request.path, &statuses);
        return Ok(multistatus(out.finish(None)));
    }
    if changes.is_empty() {
        return Err(DavError::new(StatusCode::BAD_REQUEST, "the PROPPATCH body sets or removes no property"));
    }
    ctx.calendars().update_calendar(&opened.open, &props).await?;
    let statuses: Vec<(QName, &str)> = changes.into_iter().map(|(n, _)| (n, "200 OK")).collect();
    out.statuses(&request.path, &statuses);
    Ok(multistatus(out.finish(None)))
}
