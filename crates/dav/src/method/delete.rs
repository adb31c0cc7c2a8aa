//! DELETE of a calendar resource (conditional on `If-Match`), or of a
//! calendar other than a mailbox's default one.

use http::StatusCode;
use mailroom_core::calendar::DeleteOutcome;

use crate::path::Target;
use crate::{Ctx, DavError, DavResult, Request, empty, precondition};

pub async fn handle(ctx: &Ctx<'_>, target: &Target, request: &Request) -> DavResult {
    match target {
        Target::Object { home, calendar, name } => {
            let opened = ctx.calendar(home, calendar).await?;
            match ctx.calendars().delete(&opened.open, name, &precondition(request)).await? {
                DeleteOutcome::Deleted => Ok(empty(StatusCode::NO_CONTENT)),
                DeleteOutcome::NotFound => Err(DavError::not_found()),
                DeleteOutcome::PreconditionFailed => Err(DavError::new(
                    StatusCode::PRECONDITION_FAILED,
                    "The resource changed since you read it: read it again and retry.",
                )),
            }
        }
        Target::Calendar { home, calendar } if !calendar.contains('@') => {
            let opened = ctx.calendar(home, calendar).await?;
            ctx.calendars().delete_calendar(&opened.open).await.map_err(|err| match err {
                mailroom_core::CoreError::Invalid(message) => DavError::new(StatusCode::FORBIDDEN, message),
                other => other.into(),
            })?;
            Ok(empty(StatusCode::NO_CONTENT))
        }
        _ => Err(DavError::new(StatusCode::FORBIDDEN, "This resource can't be deleted.")),
    }
}
