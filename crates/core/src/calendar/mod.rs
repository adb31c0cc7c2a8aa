//! Calendars (SPEC §2, §4): every mailbox, user or shared, has a default
//! calendar; whoever may open a mailbox (its owner and its Full Access
//! holders) reads and writes its calendars, and a shared mailbox's calendar
//! appears in the calendar home of every automapped member.
//!
//! [`Calendars`] decides who may do what and records who did it; the
//! [`CalendarStore`] keeps the data; the CalDAV crate parses iCalendar and
//! translates. An object can only be read or written through an
//! [`OpenCalendar`], which only [`Calendars::open`] makes, after checking
//! the caller's rights — so no path reaches an object without the check, and
//! the check happens on every request (a revoked member is refused at once).

pub mod model;

use std::sync::Arc;

use mailroom_types::{EmailAddress, MailboxId, PrincipalId};

use crate::directory::{Directory, Recipient};
use crate::error::{CoreError, CoreResult};
use crate::permissions::MailboxAction;
use crate::store::CalendarStore;

pub use model::*;

/// The longest object name or calendar slug (one URL path segment).
const MAX_NAME: usize = 255;

/// A calendar the caller may use: proof that the rights were checked.
#[derive(Clone, Debug)]
pub struct OpenCalendar {
    calendar: Calendar,
    actor: PrincipalId,
}

impl OpenCalendar {
    pub fn calendar(&self) -> &Calendar {
        &self.calendar
    }

    /// Who opened it (the person whose changes are recorded).
    pub fn actor(&self) -> PrincipalId {
        self.actor
    }
}

/// One entry of a person's calendar home.
#[derive(Clone, Debug)]
pub struct HomeCalendar {
    /// The last path segment under the home: the calendar's slug, or the
    /// shared mailbox's address for an automapped shared calendar (slugs
    /// can't contain `@`, so the two never clash).
    pub segment: String,
    pub calendar: Calendar,
    /// What clients show: the calendar's own name, or the shared mailbox's
    /// display name (SPEC §2, automapping).
    pub display_name: String,
    /// The shared mailbox it comes from, for an automapped entry.
    pub shared_from: Option<Recipient>,
}

/// The calendar service. Cheap to clone.
#[derive(Clone)]
pub struct Calendars {
    dir: Directory,
    store: Arc<dyn CalendarStore>,
}

impl std::fmt::Debug for Calendars {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Calendars").field("store", &self.store).finish_non_exhaustive()
    }
}

impl Calendars {
    pub fn new(dir: Directory, store: Arc<dyn CalendarStore>) -> Self {
        Calendars { dir, store }
    }

    pub fn directory(&self) -> &Directory {
        &self.dir
    }

    /// The mailbox behind `address` if `principal` may open it. An address
    /// nobody has, or one that isn't a mailbox, is `NotFound`; a mailbox
    /// without rights is `NoAccess`.
    pub async fn mailbox(&self, principal: PrincipalId, address: &EmailAddress) -> CoreResult<Recipient> {
        let recipient = self
            .dir
            .resolve_address(address)
            .await?
            .filter(|r| r.kind.has_mailbox())
            .ok_or_else(|| CoreError::NotFound { identity: address.to_string() })?;
        self.require_open(principal, &recipient).await?;
        Ok(recipient)
    }

    /// The mailbox of `recipient`, if `principal` may open it.
    async fn require_open(&self, principal: PrincipalId, recipient: &Recipient) -> CoreResult<MailboxId> {
        let mailbox =
            recipient.mailbox_id().ok_or_else(|| CoreError::NotFound { identity: recipient.name.clone() })?;
        // SPEC §2: Full Access opens "the calendar and contacts" too.
        if self.dir.may(principal, MailboxAction::Open, mailbox).await? {
            Ok(mailbox)
        } else {
            Err(CoreError::NoAccess { mailbox: recipient.primary_address.to_string() })
        }
    }

    /// The calendars of a mailbox the caller may open.
    pub async fn list(&self, principal: PrincipalId, mailbox: &Recipient) -> CoreResult<Vec<Calendar>> {
        let id = self.require_open(principal, mailbox).await?;
        Ok(self.store.calendars(id).await?)
    }

    /// What a person's calendar home holds: their own calendars, then the
    /// default calendar of every shared mailbox automapped to them.
    pub async fn home(&self, principal: PrincipalId) -> CoreResult<Vec<HomeCalendar>> {
        let own = self.dir.recipient(principal).await?;
        let mut out = Vec::new();
        if let Some(mailbox) = own.mailbox_id() {
            for calendar in self.store.calendars(mailbox).await? {
                out.push(HomeCalendar {
                    segment: calendar.slug.clone(),
                    display_name: calendar.display_name.clone(),
                    calendar,
                    shared_from: None,
                });
            }
        }
        for (shared, access) in self.dir.accessible_mailboxes(principal).await? {
            let Some(mailbox) = shared.mailbox_id() else { continue };
            if !access.automapped {
                continue;
            }
            let Some(calendar) = self.store.calendar(mailbox, DEFAULT_CALENDAR).await? else { continue };
            out.push(HomeCalendar {
                segment: shared.primary_address.to_string(),
                display_name: shared.display_name.clone(),
                calendar,
                shared_from: Some(shared),
            });
        }
        Ok(out)
    }

    /// Opens the calendar `slug` of `mailbox` for `principal`, checking the
    /// rights now. `NotFound` when it doesn't exist, `NoAccess` without rights
    /// (checked first, so a non-member learns nothing about its calendars).
    pub async fn open(
        &self,
        principal: PrincipalId,
        mailbox: &Recipient,
        slug: &str,
    ) -> CoreResult<OpenCalendar> {
        let id = self.require_open(principal, mailbox).await?;
        let calendar = self
            .store
            .calendar(id, slug)
            .await?
            .ok_or_else(|| CoreError::NotFound { identity: format!("calendar {slug}") })?;
        Ok(OpenCalendar { calendar, actor: principal })
    }

    /// Opens `segment` of `principal`'s own home: one of their calendars, or
    /// an automapped shared mailbox's default calendar (named by address).
    pub async fn open_in_home(&self, principal: PrincipalId, segment: &str) -> CoreResult<OpenCalendar> {
        if segment.contains('@') {
            let address = EmailAddress::parse(segment)?;
            let shared = self.mailbox(principal, &address).await?;
            return self.open(principal, &shared, DEFAULT_CALENDAR).await;
        }
        let own = self.dir.recipient(principal).await?;
        self.open(principal, &own, segment).await
    }

    /// A new calendar in a mailbox the caller may open (CalDAV MKCALENDAR).
    pub async fn create_calendar(
        &self,
        principal: PrincipalId,
        mailbox: &Recipient,
        slug: &str,
        props: &CalendarProps,
    ) -> CoreResult<OpenCalendar> {
        let id = self.require_open(principal, mailbox).await?;
        validate_slug(slug)?;
        let display_name = props.display_name.clone().unwrap_or_else(|| slug.to_string());
        validate_props(props)?;
        // `NameInUse` if the mailbox has a calendar with this slug.
        let calendar = self.store.create_calendar(id, slug, &display_name, props).await?;
        Ok(OpenCalendar { calendar, actor: principal })
    }

    /// Changes a calendar's name, colour or description (CalDAV PROPPATCH).
    pub async fn update_calendar(&self, open: &OpenCalendar, props: &CalendarProps) -> CoreResult<Calendar> {
        validate_props(props)?;
        let calendar = self.store.update_calendar(open.calendar.id, props).await?;
        Ok(calendar)
    }

    /// Deletes a calendar the caller created; the default calendar stays
    /// (every mailbox has one, SPEC §4).
    pub async fn delete_calendar(&self, open: &OpenCalendar) -> CoreResult<()> {
        if open.calendar.is_default() {
            return Err(CoreError::Invalid(
                "The default calendar of a mailbox can't be deleted; delete its events instead.".into(),
            ));
        }
        self.store.delete_calendar(open.calendar.id).await?;
        Ok(())
    }

    /// The calendar as it is now (its sync sequence moves with every change).
    pub async fn refresh(&self, open: &OpenCalendar) -> CoreResult<Calendar> {
        let calendar = &open.calendar;
        self.store
            .calendar(calendar.mailbox, &calendar.slug)
            .await?
            .ok_or_else(|| CoreError::NotFound { identity: format!("calendar {}", calendar.slug) })
    }

    pub async fn object(&self, open: &OpenCalendar, name: &str) -> CoreResult<Option<CalendarObject>> {
        Ok(self.store.calendar_object(open.calendar.id, name).await?)
    }

    pub async fn objects(&self, open: &OpenCalendar) -> CoreResult<Vec<CalendarObject>> {
        Ok(self.store.calendar_objects(open.calendar.id).await?)
    }

    pub async fn objects_named(
        &self,
        open: &OpenCalendar,
        names: &[String],
    ) -> CoreResult<Vec<CalendarObject>> {
        Ok(self.store.calendar_objects_named(open.calendar.id, names).await?)
    }

    /// Candidates for a time-range query: objects whose span overlaps.
    pub async fn objects_overlapping(
        &self,
        open: &OpenCalendar,
        span: TimeSpan,
    ) -> CoreResult<Vec<CalendarObject>> {
        Ok(self.store.calendar_objects_overlapping(open.calendar.id, span).await?)
    }

    /// Creates or replaces an object, recording who did it.
    pub async fn put(
        &self,
        open: &OpenCalendar,
        name: &str,
        object: &NewCalendarObject,
        precondition: &Precondition,
    ) -> CoreResult<PutOutcome> {
        validate_object_name(name)?;
        let outcome =
            self.store.put_calendar_object(open.calendar.id, name, object, precondition, open.actor).await?;
        if matches!(outcome, PutOutcome::Created { .. } | PutOutcome::Replaced { .. }) {
            tracing::info!(calendar = %open.calendar.id, object = name, actor = %open.actor.0, "calendar object written");
        }
        Ok(outcome)
    }

    /// Deletes an object, recording who did it.
    pub async fn delete(
        &self,
        open: &OpenCalendar,
        name: &str,
        precondition: &Precondition,
    ) -> CoreResult<DeleteOutcome> {
        let outcome =
            self.store.delete_calendar_object(open.calendar.id, name, precondition, open.actor).await?;
        if outcome == DeleteOutcome::Deleted {
            tracing::info!(calendar = %open.calendar.id, object = name, actor = %open.actor.0, "calendar object deleted");
        }
        Ok(outcome)
    }

    /// Objects written or deleted after sync sequence `since` (RFC 6578).
    pub async fn changes_since(&self, open: &OpenCalendar, since: u64) -> CoreResult<Vec<ObjectChange>> {
        Ok(self.store.calendar_changes(open.calendar.id, since).await?)
    }

    /// Who created, changed and deleted what, most recent first.
    pub async fn activity(&self, open: &OpenCalendar, limit: usize) -> CoreResult<Vec<CalendarActivity>> {
        Ok(self.store.calendar_activity(open.calendar.id, limit).await?)
    }
}

/// An object's name is one URL path segment: no `/`, no dot segments, no
/// control characters, at most 255 bytes.
pub fn validate_object_name(name: &str) -> CoreResult<()> {
    if name.is_empty() || name.len() > MAX_NAME || name == "." || name == ".." {
        return Err(CoreError::Invalid(format!(
            "\"{name}\" can't name a calendar resource: use 1 to {MAX_NAME} bytes, not \".\" or \"..\"."
        )));
    }
    if name.chars().any(|c| c == '/' || c.is_control()) {
        return Err(CoreError::Invalid(format!(
            "\"{}\" can't name a calendar resource: it contains '/' or a control character.",
            name.escape_default()
        )));
    }
    Ok(())
}

/// A calendar's slug: an object name without `@` (kept for shared calendars
/// in a home) that doesn't start with a dot.
pub fn validate_slug(slug: &str) -> CoreResult<()> {
    validate_object_name(slug)?;
    if slug.contains('@') || slug.starts_with('.') {
        return Err(CoreError::Invalid(format!(
            "\"{slug}\" can't name a calendar: it may not contain '@' or start with '.'."
        )));
    }
    Ok(())
}

fn validate_props(props: &CalendarProps) -> CoreResult<()> {
    if let Some(name) = &props.display_name
        && (name.trim().is_empty() || name.len() > 256 || name.chars().any(char::is_control))
    {
        return Err(CoreError::Invalid(
            "A calendar's display name needs 1 to 256 bytes and no control characters.".into(),
        ));
    }
    if let Some(Some(color)) = &props.color {
        let hex = color.strip_prefix('#').unwrap_or("");
        if !(hex.len() == 6 || hex.len() == 8) || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(CoreError::Invalid(format!(
                "\"{color}\" isn't a calendar colour: write #RRGGBB or #RRGGBBAA."
            )));
        }
    }
    if let Some(Some(description)) = &props.description
        && description.len() > 4096
    {
        return Err(CoreError::Invalid("A calendar's description is limited to 4096 bytes.".into()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_names_are_single_segments() {
        assert!(validate_object_name("abc-123.ics").is_ok());
        assert!(validate_object_name("with space.ics").is_ok());
        for bad in ["", ".", "..", "a/b.ics", "a\nb", &"x".repeat(256)] {
            assert!(validate_object_name(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn slugs_keep_at_sign_for_shared_calendars() {
        assert!(validate_slug("team").is_ok());
        assert!(validate_slug("info@contoso.com").is_err());
        assert!(validate_slug(".hidden").is_err());
    }

    #[test]
    fn colours_must_be_hex() {
        let with = |c: &str| CalendarProps { color: Some(Some(c.into())), ..Default::default() };
        assert!(validate_props(&with("#FF00AA")).is_ok());
        assert!(validate_props(&with("#FF00AAFF")).is_ok());
        assert!(validate_props(&with("red")).is_err());
        assert!(validate_props(&with("#FF00A")).is_err());
        let blank = CalendarProps { display_name: Some("  ".into()), ..Default::default() };
        assert!(validate_props(&blank).is_err());
    }
}
