//! PROPFIND (RFC 4918 §9.1) at depth 0 or 1. A person's own calendar home
//! lists their calendars and the automapped shared ones (SPEC §2).

use http::StatusCode;

use crate::path::{self, Target};
use crate::props::{Multistatus, PropRequest, Resource};
use crate::xml::{self, DAV};
use crate::{Ctx, DavError, DavResult, Request, depth, multistatus};

pub async fn handle(ctx: &Ctx<'_>, target: &Target, request: &Request) -> DavResult {
    let wanted = if request.body.iter().all(u8::is_ascii_whitespace) {
        PropRequest::AllProp
    } else {
        let root = xml::parse(&request.body).map_err(DavError::bad_request)?;
        if !root.is(DAV, "propfind") {
            return Err(DavError::bad_request("the PROPFIND body must be a DAV:propfind element"));
        }
        PropRequest::from_parent(&root)
    };
    // RFC 4918 §9.1: a server may refuse infinite depth. A missing header
    // is read as 0, which is what clients that omit it mean.
    let depth = match request.headers.get("Depth") {
        None => 0,
        Some(_) => depth(request).ok_or_else(|| {
            DavError::condition(
                StatusCode::FORBIDDEN,
                "<d:propfind-finite-depth/>",
                "Depth: infinity isn't supported; use Depth 0 or 1.",
            )
        })?,
    };
    let me = &ctx.me;
    let mut out = Multistatus::default();
    match target {
        Target::Root | Target::Principals => out.resource(&request.path, &Resource::Root, me, &wanted),
        Target::Principal(address) => {
            let owner = ctx.mailbox(address).await?;
            out.resource(&request.path, &Resource::Principal(&owner), me, &wanted);
        }
        Target::Home(address) => {
            let owner = ctx.mailbox(address).await?;
            out.resource(&request.path, &Resource::Home(&owner), me, &wanted);
            if depth == 1 {
                if owner.id == me.id {
                    for entry in ctx.calendars().home(me.id).await? {
                        let owner = entry.shared_from.as_ref().unwrap_or(me);
                        let resource = Resource::Calendar {
                            calendar: &entry.calendar,
                            display_name: &entry.display_name,
                            owner,
                        };
                        out.resource(&path::calendar(address, &entry.segment), &resource, me, &wanted);
                    }
                } else {
                    for calendar in ctx.calendars().list(me.id, &owner).await? {
                        let resource = Resource::Calendar {
                            calendar: &calendar,
                            display_name: &calendar.display_name,
                            owner: &owner,
                        };
                        out.resource(&path::calendar(address, &calendar.slug), &resource, me, &wanted);
                    }
                }
            }
        }
        Target::Calendar { home, calendar } => {
            let opened = ctx.calendar(home, calendar).await?;
            let resource = Resource::Calendar {
                calendar: opened.open.calendar(),
                display_name: &opened.display_name,
                owner: &opened.owner,
            };
            out.resource(&request.path, &resource, me, &wanted);
            if depth == 1 {
                for object in ctx.calendars().objects(&opened.open).await? {
                    out.resource(
                        &path::object(home, calendar, &object.name),
                        &Resource::Object(&object),
                        me,
                        &wanted,
                    );
                }
            }
        }
        Target::Object { home, calendar, name } => {
            let opened = ctx.calendar(home, calendar).await?;
            let object = ctx.object(&opened, name).await?;
            out.resource(&request.path, &Resource::Object(&object), me, &wanted);
        }
    }
    Ok(multistatus(out.finish(None)))
}
