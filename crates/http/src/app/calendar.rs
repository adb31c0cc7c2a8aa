//! The calendar in the web app: a week or a month of the person's calendars
//! and each shared mailbox's calendar they see in their calendar home (the
//! same list CalDAV clients get), each with its colour and a switch to hide
//! it; and events made, changed and deleted here — stored as iCalendar
//! through `core`'s calendars, exactly as a CalDAV PUT is (validated by
//! `mailroom_ical`, the writer recorded in the calendar's activity trail),
//! so an event made on the web is in every CalDAV client and the other way
//! round.
//!
//! Times are shown and entered in the browser's time zone (the pages'
//! script keeps it in a cookie; UTC without one, and the page says which).
//! An event made here in a zone other than UTC is written with its `TZID`
//! and a VTIMEZONE, so a weekly meeting stays at 09:30 across daylight
//! saving. An event changed here keeps what the form doesn't show —
//! alarms, attendees, other properties — as the client wrote them.

use std::collections::BTreeSet;

use askama::Template;
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use http::StatusCode;
use mailroom_core::calendar::{HomeCalendar, Precondition, PutOutcome, TimeSpan};
use mailroom_core::directory::Recipient;

use super::sidebar::{self, SideMailbox};
use crate::form::encode;
use crate::pages::{Chrome, Errors, Page, Values, html, not_found};
use crate::problem::Problem;
use crate::session::random_token;
use crate::{Response, redirect};

/// Colours the calendars take in turn (`swatch-N` / `c-N` in the
/// stylesheet: the pages' CSP allows no inline style).
const COLOURS: usize = 6;

#[derive(Debug)]
struct Shown {
    name: String,
    colour: usize,
    visible: bool,
    toggle_href: String,
}

#[derive(Debug)]
struct Item {
    time: String,
    summary: String,
    colour: usize,
    href: String,
    calendar: String,
}

#[derive(Debug)]
struct Day {
    label: String,
    today: bool,
    in_month: bool,
    new_href: String,
    items: Vec<Item>,
}

#[derive(Template)]
#[template(path = "app_calendar.html")]
struct CalendarPage {
    chrome: Chrome,
    sidebar: Vec<SideMailbox>,
    heading: String,
    month_view: bool,
    calendars: Vec<Shown>,
    days: Vec<Day>,
    previous: String,
    next: String,
    other_view: String,
    new_href: String,
    notice: Option<&'static str>,
    /// The time zone times are shown in.
    zone: String,
}

/// `/calendar/...`.
pub(crate) async fn handle(page: &Page<'_>, me: &Recipient, rest: &[&str]) -> Response {
    match (rest, page.post) {
        ([], false) => view(page, me).await,
        (["event"], false) => form(page, me).await,
        (["event"], true) => save(page, me).await,
        (["delete"], true) => delete(page, me).await,
        _ => not_found(page.caller),
    }
}

async fn home(page: &Page<'_>, me: &Recipient) -> Vec<HomeCalendar> {
    match page.web.calendars.as_ref() {
        Some(calendars) => calendars.home(me.id).await.unwrap_or_default(),
        None => Vec::new(),
    }
}

/// The week (Monday first) or month around `?date=`.
async fn view(page: &Page<'_>, me: &Recipient) -> Response {
    let Some(calendars) = page.web.calendars.as_ref() else { return not_found(page.caller) };
    let zone = page.zone;
    let today = Utc::now().with_timezone(&zone).date_naive();
    let date = NaiveDate::parse_from_str(page.query.get("date"), "%Y-%m-%d").unwrap_or(today);
    let month_view = page.query.get("view") == "month";
    let (first, days_shown) = if month_view {
        let first_of_month = date.with_day(1).unwrap_or(date);
        let start = first_of_month - Duration::days(first_of_month.weekday().num_days_from_monday() as i64);
        (start, 42)
    } else {
        (date - Duration::days(date.weekday().num_days_from_monday() as i64), 7)
    };
    // A day wider each side: an all-day event is a date, not an instant,
    // and is placed by its date below whatever the zone.
    let span = TimeSpan {
        start: midnight(zone, first) - 86_400,
        end: midnight(zone, first + Duration::days(days_shown)) + 86_400,
    };
    let hidden: BTreeSet<String> =
        page.query.get("hide").split(',').filter(|s| !s.is_empty()).map(str::to_string).collect();
    let view_name = if month_view { "month" } else { "week" };
    let base = |date: NaiveDate, hide: &BTreeSet<String>| {
        let hide: Vec<&str> = hide.iter().map(String::as_str).collect();
        format!("/calendar?view={view_name}&date={date}&hide={}", encode(&hide.join(",")))
    };
    let mut days: Vec<Day> = (0..days_shown)
        .map(|i| {
            let day = first + Duration::days(i);
            Day {
                label: if month_view {
                    day.format("%-d").to_string()
                } else {
                    day.format("%a %-d %b").to_string()
                },
                today: day == today,
                in_month: !month_view || day.month() == date.month(),
                new_href: format!("/calendar/event?date={day}"),
                items: Vec::new(),
            }
        })
        .collect();
    let mut shown = Vec::new();
    for (i, entry) in home(page, me).await.into_iter().enumerate() {
        let colour = i % COLOURS;
        let visible = !hidden.contains(&entry.segment);
        let mut toggled = hidden.clone();
        if visible {
            toggled.insert(entry.segment.clone());
        } else {
            toggled.remove(&entry.segment);
        }
        shown.push(Shown {
            name: entry.display_name.clone(),
            colour,
            visible,
            toggle_href: base(date, &toggled),
        });
        if !visible {
            continue;
        }
        // Opened with the person's rights now, as a CalDAV request is.
        let Ok(open) = calendars.open_in_home(me.id, &entry.segment).await else { continue };
        let Ok(objects) = calendars.objects_overlapping(&open, span).await else { continue };
        for object in objects {
            let Some(event) = mailroom_ical::shown(&object.data, span) else { continue };
            for (start, end) in event.occurrences {
                let on = if event.all_day { utc_date(start) } else { local(zone, start).date_naive() };
                let offset = (on - first).num_days();
                let Some(day) = usize::try_from(offset).ok().and_then(|o| days.get_mut(o)) else { continue };
                let time = if event.all_day {
                    "All day".to_string()
                } else {
                    format!("{}–{}", clock(zone, start), clock(zone, end))
                };
                day.items.push(Item {
                    time,
                    summary: if event.summary.is_empty() {
                        "(no title)".into()
                    } else {
                        event.summary.clone()
                    },
                    colour,
                    href: format!(
                        "/calendar/event?cal={}&name={}",
                        encode(&entry.segment),
                        encode(&object.name)
                    ),
                    calendar: entry.display_name.clone(),
                });
            }
        }
    }
    for day in &mut days {
        day.items.sort_by(|a, b| (a.time != "All day", &a.time).cmp(&(b.time != "All day", &b.time)));
    }
    let step = if month_view {
        let previous = (date.with_day(1).unwrap_or(date) - Duration::days(1)).with_day(1).unwrap_or(date);
        let next = (date.with_day(28).unwrap_or(date) + Duration::days(7)).with_day(1).unwrap_or(date);
        (previous, next)
    } else {
        (date - Duration::days(7), date + Duration::days(7))
    };
    let heading = if month_view {
        date.format("%B %Y").to_string()
    } else {
        format!("Week of {}", first.format("%-d %B %Y"))
    };
    let other = if month_view { "week" } else { "month" };
    let hide: Vec<&str> = hidden.iter().map(String::as_str).collect();
    let notice = match page.query.get("notice") {
        "saved" => Some("The event is saved."),
        "deleted" => Some("The event is deleted."),
        _ => None,
    };
    let current = (me.mailbox_id().unwrap_or(mailroom_types::MailboxId(0)), mailroom_types::FolderId(0));
    html(
        StatusCode::OK,
        &CalendarPage {
            chrome: page.chrome("calendar"),
            sidebar: sidebar::build(page, me, current).await,
            heading,
            month_view,
            calendars: shown,
            days,
            previous: base(step.0, &hidden),
            next: base(step.1, &hidden),
            other_view: format!("/calendar?view={other}&date={date}&hide={}", encode(&hide.join(","))),
            new_href: format!("/calendar/event?date={date}"),
            notice,
            zone: zone.name().to_string(),
        },
    )
}

#[derive(Template)]
#[template(path = "app_event.html")]
struct EventPage {
    chrome: Chrome,
    sidebar: Vec<SideMailbox>,
    heading: &'static str,
    calendars: Vec<(String, String)>,
    values: Values,
    errors: Errors,
    existing: bool,
    /// The time zone times are entered in.
    zone: String,
}

/// `GET /calendar/event` (`?date=` for a new one, `?cal=&name=` to change one).
async fn form(page: &Page<'_>, me: &Recipient) -> Response {
    let mut values = Values::default();
    let zone = page.zone;
    let date = NaiveDate::parse_from_str(page.query.get("date"), "%Y-%m-%d")
        .unwrap_or(Utc::now().with_timezone(&zone).date_naive());
    values.set("date", date.to_string());
    values.set("start", "09:00");
    values.set("end", "10:00");
    let (segment, name) = (page.query.get("cal"), page.query.get("name"));
    let mut existing = false;
    if !segment.is_empty() {
        let Some(calendars) = page.web.calendars.as_ref() else { return not_found(page.caller) };
        let Ok(open) = calendars.open_in_home(me.id, segment).await else { return not_found(page.caller) };
        let Ok(Some(object)) = calendars.object(&open, name).await else { return not_found(page.caller) };
        let Some(event) = mailroom_ical::shown(&object.data, TimeSpan::ALWAYS) else {
            return not_found(page.caller);
        };
        existing = true;
        values.set("cal", segment);
        values.set("name", name);
        values.set("etag", object.etag.clone());
        values.set("uid", event.uid.clone());
        values.set("summary", event.summary);
        values.set("location", event.location);
        values.set("description", event.description);
        if let Some(&(start, end)) = event.occurrences.first() {
            if event.all_day {
                values.set("date", utc_date(start).to_string());
            } else {
                values.set("date", local(zone, start).date_naive().to_string());
                values.set("start", clock(zone, start));
                values.set("end", clock(zone, end));
            }
        }
        values.set("all_day", if event.all_day { "on" } else { "" });
        // What the form showed: times left as they were aren't rewritten
        // (nor moved into the editor's zone).
        values.set(
            "shown_times",
            shown_times(values.get("date"), values.get("start"), values.get("end"), event.all_day),
        );
        values.set("repeat", repeat_of(event.rule.as_deref()));
    }
    show_form(page, me, values, Errors::default(), existing).await
}

async fn show_form(
    page: &Page<'_>,
    me: &Recipient,
    values: Values,
    errors: Errors,
    existing: bool,
) -> Response {
    let status = errors.0.as_ref().map_or(StatusCode::OK, |p| p.status);
    let calendars = home(page, me).await.into_iter().map(|c| (c.segment, c.display_name)).collect();
    let current = (me.mailbox_id().unwrap_or(mailroom_types::MailboxId(0)), mailroom_types::FolderId(0));
    html(
        status,
        &EventPage {
            chrome: page.chrome("calendar"),
            sidebar: sidebar::build(page, me, current).await,
            heading: if existing { "Event" } else { "New event" },
            calendars,
            values,
            errors,
            existing,
            zone: page.zone.name().to_string(),
        },
    )
}

/// `POST /calendar/event`: create (no `name`) or replace.
async fn save(page: &Page<'_>, me: &Recipient) -> Response {
    let form = page.form;
    let mut values = Values::default();
    values.keep_typed(
        form,
        &[
            "cal",
            "name",
            "etag",
            "uid",
            "shown_times",
            "summary",
            "location",
            "description",
            "date",
            "start",
            "end",
            "all_day",
            "repeat",
        ],
    );
    let existing = !form.get("name").is_empty();
    match write(page, me).await {
        Ok(date) => redirect(&format!("/calendar?date={date}&notice=saved")),
        Err(problem) => show_form(page, me, values, Errors(Some(problem)), existing).await,
    }
}

async fn write(page: &Page<'_>, me: &Recipient) -> Result<NaiveDate, Problem> {
    let form = page.form;
    let calendars = page.web.calendars.as_ref().ok_or_else(Problem::not_found)?;
    let open =
        calendars.open_in_home(me.id, form.get("cal")).await.map_err(|e| Problem::from_core(e, "cal"))?;
    let summary = form.get("summary").trim();
    if summary.is_empty() {
        return Err(Problem::field("summary", "Give the event a title."));
    }
    let date = NaiveDate::parse_from_str(form.get("date").trim(), "%Y-%m-%d")
        .map_err(|_| Problem::field("date", "Choose a date (2026-12-24)."))?;
    let all_day = form.checked("all_day");
    let time = |field: &'static str| -> Result<NaiveDateTime, Problem> {
        let text = form.get(field).trim();
        chrono::NaiveTime::parse_from_str(text, "%H:%M")
            .map(|t| date.and_time(t))
            .map_err(|_| Problem::field(field, format!("\"{text}\" isn't a time; use 14:30.")))
    };
    let zone = page.zone;
    let (start, end) = if all_day {
        (NaiveDateTime::default(), NaiveDateTime::default())
    } else {
        let (start, end) = (time("start")?, time("end")?);
        if end <= start {
            return Err(Problem::field("end", "The end must be after the start."));
        }
        (start, end)
    };
    let existing = match form.get("name") {
        "" => None,
        name => calendars.object(&open, name).await.map_err(|e| Problem::from_core(e, "cal"))?,
    };
    let before = existing.as_ref().and_then(|e| mailroom_ical::shown(&e.data, TimeSpan::ALWAYS));
    // An event keeps the zone it was written in (a meeting set in New York
    // stays New York's when edited from Berlin); a new one takes the
    // editor's. UTC as UTC; any other zone by name, its VTIMEZONE added below.
    let target =
        before.as_ref().and_then(|b| b.zone.as_deref()).and_then(|z| z.parse::<Tz>().ok()).unwrap_or(zone);
    let stamp = |property: &str, at: NaiveDateTime| {
        let at = match zone.from_local_datetime(&at).earliest() {
            Some(instant) => instant.with_timezone(&target).naive_local(),
            None => at,
        };
        match target {
            Tz::UTC => format!("{property}:{}", at.format("%Y%m%dT%H%M%SZ")),
            target => format!("{property};TZID={}:{}", target.name(), at.format("%Y%m%dT%H%M%S")),
        }
    };
    let times_changed = existing.is_none()
        || form.get("shown_times")
            != shown_times(form.get("date"), form.get("start"), form.get("end"), all_day);
    let uid = match form.get("uid").trim() {
        "" => format!("{}@mailroom", &random_token()[..32]),
        uid => uid.to_string(),
    };
    let name = match form.get("name") {
        "" => format!(
            "{}.ics",
            uid.replace(|c: char| !c.is_ascii_alphanumeric() && c != '-' && c != '@' && c != '.', "-")
        ),
        name => name.to_string(),
    };
    // The event's own properties, as the form sets them.
    let mut properties = vec![format!("DTSTAMP:{}", Utc::now().format("%Y%m%dT%H%M%SZ"))];
    let mut replaced = vec!["DTSTAMP", "SUMMARY", "LOCATION", "DESCRIPTION"];
    if times_changed {
        replaced.extend(["DTSTART", "DTEND", "DURATION"]);
        if all_day {
            properties.push(format!("DTSTART;VALUE=DATE:{}", date.format("%Y%m%d")));
            properties.push(format!("DTEND;VALUE=DATE:{}", (date + Duration::days(1)).format("%Y%m%d")));
        } else {
            properties.push(stamp("DTSTART", start));
            properties.push(stamp("DTEND", end));
        }
    }
    properties.push(format!("SUMMARY:{}", mailroom_ical::escape_text(summary)));
    for (field, property) in [("location", "LOCATION"), ("description", "DESCRIPTION")] {
        let text = form.get(field).trim();
        if !text.is_empty() {
            properties.push(format!("{property}:{}", mailroom_ical::escape_text(text)));
        }
    }
    let rule = match form.get("repeat") {
        "weekly" => Some("RRULE:FREQ=WEEKLY"),
        "monthly" => Some("RRULE:FREQ=MONTHLY"),
        _ => None,
    };
    let text = match existing {
        // A change: what the form doesn't show stays as it was written; a
        // repeat the chooser shows unchanged (FREQ=WEEKLY;BYDAY=MO,WE;COUNT=8
        // shows as "weekly") is left exactly as it was. One that stops
        // repeating loses its exceptions and extra dates too.
        Some(existing) => {
            let rule_before = before.and_then(|e| e.rule);
            if repeat_of(rule_before.as_deref()) != form.get("repeat") {
                replaced.push("RRULE");
                properties.extend(rule.map(str::to_string));
                if rule.is_none() {
                    replaced.extend(["EXDATE", "RDATE"]);
                }
            }
            mailroom_ical::revise(&existing.data, &replaced, &properties)
        }
        None => {
            properties.extend(rule.map(str::to_string));
            let mut lines = vec![
                "BEGIN:VCALENDAR".to_string(),
                "VERSION:2.0".to_string(),
                "PRODID:-//Mailroom//Web//EN".to_string(),
                "BEGIN:VEVENT".to_string(),
                format!("UID:{}", mailroom_ical::escape_text(&uid)),
            ];
            lines.extend(properties);
            lines.push("END:VEVENT".to_string());
            lines.push("END:VCALENDAR".to_string());
            lines.join("\r\n") + "\r\n"
        }
    };
    let text = if target == Tz::UTC || all_day || !times_changed {
        text
    } else {
        mailroom_ical::with_time_zones(&text)
            .map_err(|e| Problem::field("summary", format!("The event isn't valid: {e}")))?
    };
    let object = mailroom_ical::validate(&text)
        .map_err(|e| Problem::field("summary", format!("The event isn't valid: {e}")))?;
    let precondition = match form.get("etag") {
        "" => Precondition::Absent,
        etag => Precondition::EtagIs(etag.to_string()),
    };
    match calendars
        .put(&open, &name, &object, &precondition)
        .await
        .map_err(|e| Problem::from_core(e, "cal"))?
    {
        PutOutcome::PreconditionFailed => Err(Problem::new(
            StatusCode::CONFLICT,
            "Someone changed this event meanwhile. Go back to the calendar and open it again.",
        )),
        _ => Ok(date),
    }
}

/// `POST /calendar/delete`.
async fn delete(page: &Page<'_>, me: &Recipient) -> Response {
    let form = page.form;
    let Some(calendars) = page.web.calendars.as_ref() else { return not_found(page.caller) };
    let Ok(open) = calendars.open_in_home(me.id, form.get("cal")).await else {
        return not_found(page.caller);
    };
    let precondition = match form.get("etag") {
        "" => Precondition::Exists,
        etag => Precondition::EtagIs(etag.to_string()),
    };
    match calendars.delete(&open, form.get("name"), &precondition).await {
        Ok(mailroom_core::calendar::DeleteOutcome::Deleted) => redirect("/calendar?notice=deleted"),
        Ok(_) => not_found(page.caller),
        Err(err) => super::refused(page, err),
    }
}

/// Midnight starting `day` in `zone`, in Unix seconds (the first moment of
/// the day where a change of clocks skips midnight).
fn midnight(zone: Tz, day: NaiveDate) -> i64 {
    let naive = day.and_hms_opt(0, 0, 0).unwrap_or_default();
    match zone.from_local_datetime(&naive).earliest() {
        Some(t) => t.timestamp(),
        None => zone
            .from_local_datetime(&(naive + Duration::hours(1)))
            .earliest()
            .map_or(naive.and_utc().timestamp(), |t| t.timestamp()),
    }
}

/// Unix seconds in `zone`.
fn local(zone: Tz, seconds: i64) -> DateTime<Tz> {
    DateTime::from_timestamp(seconds, 0).unwrap_or_default().with_timezone(&zone)
}

/// `14:30` in `zone`.
fn clock(zone: Tz, seconds: i64) -> String {
    local(zone, seconds).format("%H:%M").to_string()
}

/// The date an all-day event's occurrence is on: a date, not an instant
/// (its start is that date's midnight as UTC).
fn utc_date(seconds: i64) -> NaiveDate {
    DateTime::from_timestamp(seconds, 0).unwrap_or_default().date_naive()
}

/// The times a form shows, as one value: whether they were changed.
fn shown_times(date: &str, start: &str, end: &str, all_day: bool) -> String {
    if all_day { format!("{date} all day") } else { format!("{date} {start}-{end}") }
}

/// The repeat chooser's value for a rule: weekly, monthly or none.
fn repeat_of(rule: Option<&str>) -> &'static str {
    match rule.map(str::to_ascii_uppercase) {
        Some(r) if r.contains("FREQ=WEEKLY") => "weekly",
        Some(r) if r.contains("FREQ=MONTHLY") => "monthly",
        _ => "",
    }
}
