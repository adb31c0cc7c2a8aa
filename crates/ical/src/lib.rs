//! iCalendar resources: validation of what a client PUTs (RFC 4791 §4.1,
//! RFC 5545), the span of time a resource occupies, and whether it has an
//! occurrence in a time range (RFC 4791 §9.9), recurrences expanded.
//!
//! Parsing is calcard's. The text a client wrote is stored as it was
//! (VALARMs and unknown properties kept); only our checks read the parse.

use calcard::Entry;
use calcard::common::timezone::Tz;
use calcard::icalendar::{ICalendar, ICalendarComponentType, ICalendarProperty, ICalendarValue};
use mailroom_core::calendar::{ComponentKind, NewCalendarObject, TimeSpan};

/// Occurrences expanded to find a resource's span: beyond this a
/// recurrence counts as endless (a superset is safe; the query checks again).
const SPAN_EXPANSION_LIMIT: usize = 1_000;
/// Occurrences examined to answer a time-range question.
const MATCH_EXPANSION_LIMIT: usize = 20_000;

/// Why a body isn't an acceptable calendar resource; the text is for the client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Invalid {
    /// Not iCalendar at all, or breaking RFC 4791 §4.1 (CALDAV:valid-calendar-data / valid-calendar-object-resource).
    Data(String),
    /// A component kind this server doesn't store (CALDAV:supported-calendar-component).
    Component(String),
}

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Invalid::Data(text) | Invalid::Component(text) => f.write_str(text),
        }
    }
}

/// Parses one resource, or says why not.
pub fn parse(text: &str) -> Result<ICalendar, Invalid> {
    // calcard reads a truncated body as if it were complete; a cut-off
    // upload must not be stored as a shorter event.
    let last = text.trim_end().rsplit('\n').next().unwrap_or("").trim();
    if !last.eq_ignore_ascii_case("END:VCALENDAR") && !text.trim().is_empty() {
        return Err(Invalid::Data(
            "the iCalendar data doesn't end with END:VCALENDAR (is it truncated?)".into(),
        ));
    }
    let mut parser = calcard::Parser::new(text);
    let calendar = match parser.entry() {
        Entry::ICalendar(calendar) => calendar,
        Entry::VCard(_) => return Err(Invalid::Data("the body is a vCard, not iCalendar data".into())),
        Entry::InvalidLine(line) => {
            let line: String = line.chars().take(80).collect();
            return Err(Invalid::Data(format!("the iCalendar data has an invalid line: {line}")));
        }
        Entry::UnexpectedComponentEnd { expected, found } => {
            return Err(Invalid::Data(format!(
                "the iCalendar data ends {} where {} should end",
                found.as_str(),
                expected.as_str()
            )));
        }
        Entry::UnterminatedComponent(name) => {
            return Err(Invalid::Data(format!("the iCalendar component {name} has no END line")));
        }
        Entry::TooManyComponents => {
            return Err(Invalid::Data("the iCalendar data has too many components".into()));
        }
        Entry::Eof => return Err(Invalid::Data("the body holds no iCalendar data".into())),
        _ => return Err(Invalid::Data("the body isn't iCalendar data".into())),
    };
    if !matches!(parser.entry(), Entry::Eof) {
        return Err(Invalid::Data("a calendar resource holds exactly one VCALENDAR object".into()));
    }
    if calendar.components.first().map(|c| &c.component_type) != Some(&ICalendarComponentType::VCalendar) {
        return Err(Invalid::Data("the body must be a VCALENDAR object".into()));
    }
    Ok(calendar)
}

/// The components directly inside the VCALENDAR.
fn top_level(calendar: &ICalendar) -> impl Iterator<Item = &calcard::icalendar::ICalendarComponent> {
    calendar.components[0].component_ids.iter().filter_map(|id| calendar.components.get(*id as usize))
}

/// Checks a body for PUT and returns what the store needs.
pub fn validate(text: &str) -> Result<NewCalendarObject, Invalid> {
    let calendar = parse(text)?;
    if calendar.components[0].property(&ICalendarProperty::Method).is_some() {
        // RFC 4791 §4.1: scheduling messages aren't stored resources.
        return Err(Invalid::Data("a stored calendar resource must not have a METHOD property".into()));
    }
    let mut kind: Option<ComponentKind> = None;
    let mut uid: Option<String> = None;
    for component in top_level(&calendar) {
        if component.component_type == ICalendarComponentType::VTimezone {
            continue;
        }
        let this = ComponentKind::from_ical_name(component.component_type.as_str()).ok_or_else(|| {
            Invalid::Component(format!(
                "{} components aren't stored here; a calendar holds VEVENT, VTODO and VJOURNAL",
                component.component_type.as_str()
            ))
        })?;
        if kind.is_some_and(|k| k != this) {
            return Err(Invalid::Data(
                "a calendar resource holds one kind of component (RFC 4791 §4.1); put each in its own resource"
                    .into(),
            ));
        }
        kind = Some(this);
        let this_uid = component
            .uid()
            .filter(|u| !u.trim().is_empty())
            .ok_or_else(|| Invalid::Data(format!("the {} has no UID property", this.ical_name())))?;
        match &uid {
            Some(existing) if existing != this_uid => {
                return Err(Invalid::Data(
                    "every component of a calendar resource must have the same UID (RFC 4791 §4.1)".into(),
                ));
            }
            Some(_) => {}
            None => uid = Some(this_uid.to_string()),
        }
    }
    let (Some(component), Some(uid)) = (kind, uid) else {
        return Err(Invalid::Data("the VCALENDAR holds no VEVENT, VTODO or VJOURNAL".into()));
    };
    if uid.len() > 1024 {
        return Err(Invalid::Data("the UID is longer than 1024 bytes".into()));
    }
    let span = span_of(&calendar)?;
    Ok(NewCalendarObject { uid, component, data: text.to_string(), span })
}

/// Whether any RRULE of the resource has neither COUNT nor UNTIL.
fn endless(calendar: &ICalendar) -> bool {
    top_level(calendar).any(|component| {
        component.entries.iter().any(|entry| {
            entry.name == ICalendarProperty::Rrule
                && entry.values.iter().any(|v| {
                    matches!(v, ICalendarValue::RecurrenceRule(rule) if rule.count.is_none() && rule.until.is_none())
                })
        })
    })
}

/// Whether the resource says when it happens (DTSTART, or a VTODO's DUE).
/// One that does but whose recurrence rule yields no occurrence
/// (`FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30`) happens never; one that doesn't
/// (a VTODO without dates) overlaps every range (RFC 4791 §9.9).
fn has_dates(calendar: &ICalendar) -> bool {
    top_level(calendar).any(|component| {
        component.property(&ICalendarProperty::Dtstart).is_some()
            || component.property(&ICalendarProperty::Due).is_some()
    })
}

/// The resource's occurrences as `(start, end)` Unix seconds (floating
/// times read as UTC), at most `limit`, and whether the limit cut it short.
fn occurrences(calendar: &ICalendar, limit: usize) -> Result<(Vec<(i64, i64)>, bool), Invalid> {
    let expanded = calendar.expand_dates(Tz::UTC, limit);
    if let Some(error) = expanded.errors.first() {
        return Err(Invalid::Data(format!("the iCalendar dates aren't valid: {}", error.error)));
    }
    let cut = expanded.events.len() >= limit;
    Ok((expanded.events.iter().map(|e| e.timestamps()).collect(), cut))
}

/// The time a resource occupies, for the store's pre-selection.
fn span_of(calendar: &ICalendar) -> Result<TimeSpan, Invalid> {
    let (times, cut) = occurrences(calendar, SPAN_EXPANSION_LIMIT)?;
    if times.is_empty() {
        // A VTODO or VJOURNAL without dates overlaps every range (RFC 4791
        // §9.9); a dated one whose rule can't produce a date overlaps none
        // (and is never expanded again by a query).
        return Ok(if has_dates(calendar) { TimeSpan::NEVER } else { TimeSpan::ALWAYS });
    }
    let start = times.iter().map(|t| t.0).min().unwrap_or(i64::MIN);
    let end = if cut || endless(calendar) {
        i64::MAX
    } else {
        // +1: a zero-length occurrence still occupies its instant.
        times.iter().map(|t| t.1.max(t.0 + 1)).max().unwrap_or(i64::MAX)
    };
    Ok(TimeSpan { start, end })
}

/// RFC 4791 §9.9: whether an occurrence `[start, end)` overlaps the range;
/// a zero-length one overlaps if it falls inside.
fn overlaps(start: i64, end: i64, range: TimeSpan) -> bool {
    if end <= start {
        range.start <= start && start < range.end
    } else {
        start < range.end && end > range.start
    }
}

/// Whether a stored resource has an occurrence in `range`.
pub fn occurs_in(calendar: &ICalendar, range: TimeSpan) -> bool {
    match occurrences(calendar, MATCH_EXPANSION_LIMIT) {
        Ok((times, cut)) => {
            if times.is_empty() {
                return !has_dates(calendar);
            }
            if times.iter().any(|&(s, e)| overlaps(s, e, range)) {
                return true;
            }
            // Past the expansion limit of an endless rule: answer yes rather
            // than hide an event (a client filters again).
            cut && times.iter().map(|t| t.0).max().is_some_and(|last| last < range.end)
        }
        // Stored data passed validation; if the library disagrees now, show it.
        Err(_) => true,
    }
}

/// Parses a CalDAV UTC date-time (`20260101T000000Z`, RFC 4791 §9.9).
pub fn parse_utc(text: &str) -> Option<i64> {
    let naive = chrono::NaiveDateTime::parse_from_str(text.trim(), "%Y%m%dT%H%M%SZ").ok()?;
    Some(naive.and_utc().timestamp())
}

/// What a calendar view shows of an event: its text and its occurrences
/// in the range asked for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Shown {
    pub uid: String,
    pub summary: String,
    pub location: String,
    pub description: String,
    /// A date without a time (`DTSTART;VALUE=DATE`).
    pub all_day: bool,
    /// `RRULE` as written, if it repeats.
    pub rule: Option<String>,
    /// The `TZID` its start is written in, if any.
    pub zone: Option<String>,
    /// `(start, end)` Unix seconds of each occurrence overlapping the range.
    pub occurrences: Vec<(i64, i64)>,
}

/// Reads a stored event for a view of `range`; `None` for what isn't an
/// event (a task, a journal) or can't be read.
pub fn shown(text: &str, range: TimeSpan) -> Option<Shown> {
    let calendar = parse(text).ok()?;
    top_level(&calendar).find(|c| c.component_type == ICalendarComponentType::VEvent)?;
    let (times, _) = occurrences(&calendar, MATCH_EXPANSION_LIMIT).ok()?;
    let fields = unfolded_fields(text);
    let field = |name: &str| {
        fields
            .iter()
            .find(|(n, _)| n.split(';').next().is_some_and(|b| b.eq_ignore_ascii_case(name)))
            .map(|(_, v)| unescape(v))
    };
    let all_day = fields.iter().any(|(n, v)| {
        n.split(';').next().is_some_and(|b| b.eq_ignore_ascii_case("DTSTART"))
            && (n.to_ascii_uppercase().contains("VALUE=DATE")
                && !n.to_ascii_uppercase().contains("VALUE=DATE-TIME")
                || v.trim().len() == 8)
    });
    let zone = fields
        .iter()
        .find(|(n, _)| n.split(';').next().is_some_and(|b| b.eq_ignore_ascii_case("DTSTART")))
        .and_then(|(n, _)| {
            n.split(';').skip(1).find_map(|p| {
                let (k, v) = p.split_once('=')?;
                k.eq_ignore_ascii_case("TZID").then(|| v.trim_matches('"').to_string())
            })
        });
    Some(Shown {
        zone,
        uid: field("UID").unwrap_or_default(),
        summary: field("SUMMARY").unwrap_or_default(),
        location: field("LOCATION").unwrap_or_default(),
        description: field("DESCRIPTION").unwrap_or_default(),
        all_day,
        rule: field("RRULE"),
        occurrences: times.into_iter().filter(|&(s, e)| overlaps(s, e, range)).collect(),
    })
}

/// The content lines of `text`, unfolded (RFC 5545 §3.1: a line that
/// starts with a space or tab goes on the one before); empty lines dropped.
fn unfold(text: &str) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for raw in text.split('\n') {
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        match raw.strip_prefix(' ').or_else(|| raw.strip_prefix('\t')) {
            Some(rest) => {
                if let Some(last) = lines.last_mut() {
                    last.push_str(rest);
                }
            }
            None if raw.is_empty() => {}
            None => lines.push(raw.to_string()),
        }
    }
    lines
}

/// The content lines of the first VEVENT, unfolded (RFC 5545 §3.1), as
/// (name with parameters, value).
fn unfolded_fields(text: &str) -> Vec<(String, String)> {
    let lines = unfold(text);
    let mut inside = false;
    let mut depth = 0;
    let mut out = Vec::new();
    for line in lines {
        let upper = line.to_ascii_uppercase();
        if upper == "BEGIN:VEVENT" && !inside {
            inside = true;
            continue;
        }
        if !inside {
            continue;
        }
        if upper.starts_with("BEGIN:") {
            depth += 1;
        } else if upper.starts_with("END:") {
            if depth == 0 {
                break;
            }
            depth -= 1;
        } else if depth == 0
            && let Some((name, value)) = line.split_once(':')
        {
            out.push((name.to_string(), value.to_string()));
        }
    }
    out
}

/// RFC 5545 §3.3.11 TEXT escapes undone.
fn unescape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n' | 'N') => out.push('\n'),
                Some(other) => out.push(other),
                None => {}
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// RFC 5545 §3.3.11: text escaped for a property value.
pub fn escape_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// The event `text` revised: in its series (the first VEVENT without a
/// RECURRENCE-ID; an override may be written first) every property named
/// in `replaced` is removed and `lines` are
/// added at its end; everything else stays as it was written — alarms,
/// attendees, properties we don't know, other components. Lines are
/// unfolded and written back folded at 75 octets (RFC 5545 §3.1).
pub fn revise(text: &str, replaced: &[&str], lines: &[String]) -> String {
    let unfolded = unfold(text);
    let property = |line: &str| {
        let end = line.find([';', ':']).unwrap_or(line.len());
        line[..end].to_ascii_uppercase()
    };
    // The series: the first VEVENT without a RECURRENCE-ID (an override
    // may come first), else the first.
    let mut series = None;
    let mut first = None;
    let mut nth = 0usize;
    let mut depth = 0usize;
    let mut current: Option<usize> = None;
    for line in &unfolded {
        let upper = line.to_ascii_uppercase();
        if current.is_none() && upper == "BEGIN:VEVENT" {
            current = Some(nth);
            first.get_or_insert(nth);
            series.get_or_insert(nth);
            nth += 1;
        } else if let Some(n) = current {
            if upper.starts_with("BEGIN:") {
                depth += 1;
            } else if upper.starts_with("END:") && depth > 0 {
                depth -= 1;
            } else if upper == "END:VEVENT" {
                current = None;
            } else if depth == 0 && property(line) == "RECURRENCE-ID" && series == Some(n) {
                series = None;
            }
        }
    }
    let target = series.or(first);
    let mut out = Vec::new();
    let (mut state, mut depth, mut seen) = (0u8, 0usize, 0usize); // 0 before, 1 inside, 2 after the target VEVENT
    for line in unfolded {
        let upper = line.to_ascii_uppercase();
        match state {
            0 if upper == "BEGIN:VEVENT" => {
                if Some(seen) == target {
                    state = 1;
                }
                seen += 1;
            }
            1 if upper.starts_with("BEGIN:") => depth += 1,
            1 if upper.starts_with("END:") && depth > 0 => depth -= 1,
            1 if upper == "END:VEVENT" => {
                out.extend(lines.iter().cloned());
                state = 2;
            }
            1 if depth == 0 && replaced.iter().any(|r| property(&line) == *r) => continue,
            _ => {}
        }
        out.push(line);
    }
    out.iter().map(|l| fold(l)).collect::<Vec<_>>().join("\r\n") + "\r\n"
}

/// A content line folded at 75 octets, never inside a character.
fn fold(line: &str) -> String {
    let mut out = String::with_capacity(line.len() + line.len() / 74 * 3);
    let mut width = 0;
    for c in line.chars() {
        if width + c.len_utf8() > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += c.len_utf8();
    }
    out
}

/// `text` with a VTIMEZONE for every TZID it names that has none (RFC 5545
/// §3.6.5 wants one per TZID; calcard writes it from the IANA database).
pub fn with_time_zones(text: &str) -> Result<String, Invalid> {
    let mut calendar = parse(text)?;
    calendar.add_missing_timezones();
    Ok(calendar.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(extra: &str) -> String {
        format!(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:e1\r\nDTSTAMP:20260101T000000Z\r\n{extra}END:VEVENT\r\nEND:VCALENDAR\r\n"
        )
    }

    fn at(text: &str) -> i64 {
        parse_utc(text).unwrap()
    }

    #[test]
    fn a_view_reads_text_and_expands_repeats() {
        let text = event(
            "DTSTART:20261201T100000Z\r\nDTEND:20261201T110000Z\r\nSUMMARY:Team\\, weekly\r\n sync\r\nLOCATION:Room 2\r\nRRULE:FREQ=WEEKLY;COUNT=4\r\nBEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER:-PT5M\r\nDESCRIPTION:alarm text\r\nEND:VALARM\r\n",
        );
        let december = TimeSpan { start: at("20261201T000000Z"), end: at("20261216T000000Z") };
        let view = shown(&text, december).unwrap();
        assert_eq!(view.summary, "Team, weeklysync");
        assert_eq!(view.location, "Room 2");
        assert_eq!(view.description, "", "the alarm's description isn't the event's");
        assert_eq!(view.rule.as_deref(), Some("FREQ=WEEKLY;COUNT=4"));
        assert_eq!(view.occurrences.len(), 3, "1, 8 and 15 December");
        assert!(!view.all_day);
        let day = event("DTSTART;VALUE=DATE:20261224\r\nSUMMARY:Closed\r\n");
        assert!(shown(&day, december).is_none_or(|s| s.all_day), "an all-day event");
        assert_eq!(escape_text("a,b;c\\d\ne"), "a\\,b\\;c\\\\d\\ne");
    }

    #[test]
    fn accepts_an_event_and_keeps_its_alarm_text() {
        let text = event(
            "DTSTART:20261201T100000Z\r\nDTEND:20261201T110000Z\r\nSUMMARY:Stand-up\r\nBEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER:-PT15M\r\nDESCRIPTION:Soon\r\nEND:VALARM\r\n",
        );
        let object = validate(&text).unwrap();
        assert_eq!(object.uid, "e1");
        assert_eq!(object.component, ComponentKind::Event);
        assert_eq!(object.span, TimeSpan { start: at("20261201T100000Z"), end: at("20261201T110000Z") });
        assert!(object.data.contains("TRIGGER:-PT15M"));
    }

    #[test]
    fn recurrence_spans_and_matches_later_occurrences() {
        let daily =
            validate(&event("DTSTART:20260105T090000Z\r\nDURATION:PT1H\r\nRRULE:FREQ=DAILY\r\n")).unwrap();
        assert_eq!(daily.span.end, i64::MAX);
        let calendar = parse(&daily.data).unwrap();
        let range = |a: &str, b: &str| TimeSpan { start: at(a), end: at(b) };
        assert!(occurs_in(&calendar, range("20270310T093000Z", "20270310T094000Z")));
        assert!(!occurs_in(&calendar, range("20270310T120000Z", "20270310T130000Z")));
        assert!(!occurs_in(&calendar, range("20250101T000000Z", "20260105T090000Z")));
        let weekly =
            validate(&event("DTSTART:20260105T090000Z\r\nDURATION:PT1H\r\nRRULE:FREQ=WEEKLY;COUNT=3\r\n"))
                .unwrap();
        assert_eq!(weekly.span.end, at("20260119T100000Z"));
    }

    #[test]
    fn a_rule_that_never_occurs_matches_no_range() {
        for rule in
            ["FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", "FREQ=MONTHLY;BYMONTH=4,6,9,11;BYMONTHDAY=31;COUNT=5"]
        {
            let text = event(&format!("DTSTART:20260228T090000Z\r\nDURATION:PT1H\r\nRRULE:{rule}\r\n"));
            let object = validate(&text).unwrap();
            assert_eq!(object.span, TimeSpan::NEVER, "{rule}");
            let calendar = parse(&text).unwrap();
            for (a, b) in [("20260228T000000Z", "20260301T000000Z"), ("19000101T000000Z", "21000101T000000Z")]
            {
                let range = TimeSpan { start: at(a), end: at(b) };
                assert!(!occurs_in(&calendar, range), "{rule} in {a}..{b}");
            }
        }
    }

    #[test]
    fn zero_length_events_match_inside_the_range() {
        assert!(overlaps(100, 100, TimeSpan { start: 100, end: 200 }));
        assert!(!overlaps(200, 200, TimeSpan { start: 100, end: 200 }));
        assert!(overlaps(50, 150, TimeSpan { start: 100, end: 200 }));
        assert!(!overlaps(50, 100, TimeSpan { start: 100, end: 200 }));
    }

    #[test]
    fn refuses_what_rfc_4791_forbids() {
        let cases = [
            ("not calendar data", "iCalendar"),
            ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n", "holds no VEVENT"),
            (&event("DTSTART:20261201T100000Z\r\n").replace("UID:e1\r\n", ""), "no UID"),
            (
                &event("DTSTART:20261201T100000Z\r\n")
                    .replace("VERSION:2.0\r\n", "VERSION:2.0\r\nMETHOD:REQUEST\r\n"),
                "METHOD",
            ),
            (
                &event(
                    "DTSTART:20261201T100000Z\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:other\r\nDTSTART:20261201T100000Z\r\n",
                ),
                "same UID",
            ),
            (
                &event("DTSTART:20261201T100000Z\r\nEND:VEVENT\r\nBEGIN:VTODO\r\nUID:e1\r\n")
                    .replace("END:VEVENT\r\nEND:VCALENDAR", "END:VTODO\r\nEND:VCALENDAR"),
                "one kind",
            ),
            (
                &format!(
                    "{}{}",
                    event("DTSTART:20261201T100000Z\r\n"),
                    event("DTSTART:20261201T100000Z\r\n")
                ),
                "exactly one",
            ),
            ("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\nDTSTART:20260101T000000Z\r\n", "truncated"),
        ];
        for (text, expected) in cases {
            match validate(text) {
                Err(Invalid::Data(message)) => {
                    assert!(message.contains(expected), "{message:?} for {text:?}")
                }
                other => panic!("{text:?} gave {other:?}"),
            }
        }
        let freebusy = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VFREEBUSY\r\nUID:f\r\nEND:VFREEBUSY\r\nEND:VCALENDAR\r\n";
        assert!(matches!(validate(freebusy), Err(Invalid::Component(_))));
    }

    #[test]
    fn todos_without_dates_match_every_range() {
        let todo = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VTODO\r\nUID:t\r\nSUMMARY:x\r\nEND:VTODO\r\nEND:VCALENDAR\r\n";
        let object = validate(todo).unwrap();
        assert_eq!(object.component, ComponentKind::Todo);
        assert_eq!(object.span, TimeSpan::ALWAYS);
    }

    #[test]
    fn a_revision_changes_the_series_not_an_override_written_first() {
        let text = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//X//Y//EN\r\nBEGIN:VEVENT\r\nUID:s\r\nDTSTAMP:20261201T000000Z\r\nRECURRENCE-ID:20261214T090000Z\r\nDTSTART:20261214T110000Z\r\nDTEND:20261214T120000Z\r\nSUMMARY:Moved once\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:s\r\nDTSTAMP:20261201T000000Z\r\nDTSTART:20261207T090000Z\r\nDTEND:20261207T100000Z\r\nRRULE:FREQ=WEEKLY\r\nSUMMARY:Weekly\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
        let revised = revise(text, &["SUMMARY"], &["SUMMARY:Weekly sync".into()]);
        assert!(
            revised.contains("SUMMARY:Moved once") && revised.contains("SUMMARY:Weekly sync"),
            "{revised}"
        );
        assert!(!revised.contains("SUMMARY:Weekly\r\n"), "{revised}");
        assert_eq!(shown(text, TimeSpan::ALWAYS).map(|e| e.zone), Some(None));
    }

    #[test]
    fn a_revision_keeps_what_it_doesnt_replace() {
        let text = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//X//Y//EN\r\nBEGIN:VEVENT\r\nUID:u1\r\nDTSTAMP:20261201T000000Z\r\nDTSTART:20261207T090000Z\r\nDTEND:20261207T100000Z\r\nSUMMARY:Old\r\nX-CLIENT-THING:kept\r\nATTENDEE;CN=\"Bob\":mailto:bob@fabrikam.example\r\nBEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:Reminder\r\nTRIGGER:-PT15M\r\nEND:VALARM\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
        let revised = revise(
            text,
            &["DTSTART", "DTEND", "SUMMARY", "DESCRIPTION", "DTSTAMP"],
            &[
                "DTSTAMP:20261206T000000Z".into(),
                "DTSTART;TZID=Europe/Berlin:20261207T093000".into(),
                "DTEND;TZID=Europe/Berlin:20261207T103000".into(),
                format!("SUMMARY:{}", "New title, long enough to be folded at seventy-five octets: ünïcödé"),
            ],
        );
        assert!(revised.lines().all(|l| l.len() <= 76), "{revised}");
        assert!(
            revised.contains("X-CLIENT-THING:kept") && revised.contains("ATTENDEE;CN=\"Bob\""),
            "{revised}"
        );
        assert!(revised.contains("DESCRIPTION:Reminder\r\n"), "the alarm's own DESCRIPTION stays: {revised}");
        assert!(!revised.contains("SUMMARY:Old") && !revised.contains("T090000Z"), "{revised}");
        let zoned = with_time_zones(&revised).expect("valid");
        assert_eq!(shown(&zoned, TimeSpan::ALWAYS).and_then(|e| e.zone).as_deref(), Some("Europe/Berlin"));
        assert!(zoned.contains("BEGIN:VTIMEZONE") && zoned.contains("TZID:Europe/Berlin"), "{zoned}");
        let event = shown(&zoned, TimeSpan::ALWAYS).expect("an event");
        assert_eq!(event.summary, "New title, long enough to be folded at seventy-five octets: ünïcödé");
        // 09:30 in Berlin in December is 08:30 UTC.
        assert_eq!(event.occurrences[0].0, parse_utc("20261207T083000Z").unwrap());
        assert!(validate(&zoned).is_ok());
    }
}
