//! REPORT on a calendar: calendar-query (RFC 4791 §7.8), calendar-multiget
//! (§7.9) and sync-collection (RFC 6578 §3.2).

use http::StatusCode;
use mailroom_core::calendar::CalendarObject;

use crate::path::{self, Target};
use crate::props::{self, Multistatus, PropRequest, Resource};
use crate::xml::{self, CALDAV, DAV, Element};
use crate::{Ctx, DavError, DavResult, Opened, Request, filter, multistatus};

pub async fn handle(ctx: &Ctx<'_>, target: &Target, request: &Request) -> DavResult {
    let root = xml::parse(&request.body).map_err(DavError::bad_request)?;
    let (home, calendar) = match target {
        Target::Calendar { home, calendar } => (home, calendar),
        _ => {
            return Err(DavError::condition(
                StatusCode::FORBIDDEN,
                "<d:supported-report/>",
                "Reports are answered on a calendar collection.",
            ));
        }
    };
    let opened = ctx.calendar(home, calendar).await?;
    if root.is(CALDAV, "calendar-query") {
        query(ctx, &opened, &root).await
    } else if root.is(CALDAV, "calendar-multiget") {
        multiget(ctx, &opened, &root).await
    } else if root.is(DAV, "sync-collection") {
        sync(ctx, &opened, &root).await
    } else {
        Err(DavError::condition(
            StatusCode::FORBIDDEN,
            "<d:supported-report/>",
            format!(
                "The report {{{}}}{} isn't supported; this server has calendar-query, calendar-multiget and sync-collection.",
                root.name.ns, root.name.name
            ),
        ))
    }
}

fn respond_with(ctx: &Ctx<'_>, opened: &Opened, objects: &[CalendarObject], wanted: &PropRequest) -> String {
    let mut out = Multistatus::default();
    for object in objects {
        let href = path::object(&opened.home, &opened.segment, &object.name);
        out.resource(&href, &Resource::Object(object), &ctx.me, wanted);
    }
    out.finish(None)
}

async fn query(ctx: &Ctx<'_>, opened: &Opened, root: &Element) -> DavResult {
    let wanted = PropRequest::from_parent(root);
    let filter_element = root
        .child(CALDAV, "filter")
        .ok_or_else(|| DavError::bad_request("a calendar-query needs a CALDAV:filter (RFC 4791 §9.7)"))?;
    let filter = filter::parse(filter_element)
        .map_err(|message| DavError::condition(StatusCode::FORBIDDEN, "<c:supported-filter/>", message))?;
    let candidates = match filter.outer_time_range() {
        Some(range) => ctx.calendars().objects_overlapping(&opened.open, range).await?,
        None => ctx.calendars().objects(&opened.open).await?,
    };
    let matched: Vec<CalendarObject> = candidates
        .into_iter()
        .filter(|object| {
            mailroom_ical::parse(&object.data).map(|calendar| filter.matches(&calendar)).unwrap_or(false)
        })
        .collect();
    Ok(multistatus(respond_with(ctx, opened, &matched, &wanted)))
}

async fn multiget(ctx: &Ctx<'_>, opened: &Opened, root: &Element) -> DavResult {
    let wanted = PropRequest::from_parent(root);
    let mut names = Vec::new();
    let mut outside = Vec::new();
    for href in root.children_named(DAV, "href") {
        let text = href.text.trim();
        match path::parse(path::path_of_href(text)) {
            Some(Target::Object { home, calendar, name })
                if home == opened.home && calendar == opened.segment =>
            {
                names.push((text.to_string(), name))
            }
            _ => outside.push(text.to_string()),
        }
    }
    let found = ctx
        .calendars()
        .objects_named(&opened.open, &names.iter().map(|(_, n)| n.clone()).collect::<Vec<_>>())
        .await?;
    let mut out = Multistatus::default();
    for (href, name) in &names {
        match found.iter().find(|o| o.name == *name) {
            Some(object) => out.resource(href, &Resource::Object(object), &ctx.me, &wanted),
            None => out.status(href, "404 Not Found"),
        }
    }
    for href in &outside {
        out.status(href, "404 Not Found");
    }
    Ok(multistatus(out.finish(None)))
}

async fn sync(ctx: &Ctx<'_>, opened: &Opened, root: &Element) -> DavResult {
    let wanted = PropRequest::from_parent(root);
    let level =
        root.child(DAV, "sync-level").map(|e| e.text.trim().to_string()).unwrap_or_else(|| "1".into());
    if level != "1" {
        return Err(DavError::bad_request(
            "only sync-level 1 is supported: calendars have no sub-collections",
        ));
    }
    let token = root.child(DAV, "sync-token").map(|e| e.text.trim().to_string()).unwrap_or_default();
    // Read the calendar first: the token returned never claims more than what was read.
    let calendar = ctx.calendars().refresh(&opened.open).await?;
    let invalid = || {
        DavError::condition(
            StatusCode::FORBIDDEN,
            "<d:valid-sync-token/>",
            "The sync token isn't one this calendar gave out; sync again from the start (an empty token).",
        )
    };
    let since = if token.is_empty() {
        None
    } else {
        match props::parse_sync_token(&token) {
            Some((id, seq)) if id == calendar.id.0 && seq <= calendar.sync_seq => Some(seq),
            _ => return Err(invalid()),
        }
    };
    let mut out = Multistatus::default();
    match since {
        None => {
            for object in ctx.calendars().objects(&opened.open).await? {
                let href = path::object(&opened.home, &opened.segment, &object.name);
                out.resource(&href, &Resource::Object(&object), &ctx.me, &wanted);
            }
        }
        Some(seq) => {
            let changes = ctx.calendars().changes_since(&opened.open, seq).await?;
            let live: Vec<String> = changes.iter().filter(|c| !c.deleted).map(|c| c.name.clone()).collect();
            let objects = ctx.calendars().objects_named(&opened.open, &live).await?;
            for change in &changes {
                let href = path::object(&opened.home, &opened.segment, &change.name);
                match objects.iter().find(|o| o.name == change.name) {
                    Some(object) if !change.deleted => {
                        out.resource(&href, &Resource::Object(object), &ctx.me, &wanted)
                    }
                    // RFC 6578 §3.5.2: a removed member is reported with 404.
                    _ => out.status(&href, "404 Not Found"),
                }
            }
        }
    }
    Ok(multistatus(out.finish(Some(&props::sync_token(&calendar)))))
}
