//! CALDAV:filter of a calendar-query (RFC 4791 §9.7): component filters
//! with time ranges (recurrences expanded) and property filters with
//! `is-not-defined` and `text-match`.
//!
//! What isn't supported — parameter filters, time ranges below a resource's
//! own component — is refused with CALDAV:supported-filter (§7.8) rather
//! than answered wrongly.

use calcard::icalendar::{ICalendar, ICalendarComponent};
use mailroom_core::calendar::TimeSpan;

use crate::xml::{CALDAV, Element};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompFilter {
    pub name: String,
    pub is_not_defined: bool,
    pub time_range: Option<TimeSpan>,
    pub props: Vec<PropFilter>,
    pub comps: Vec<CompFilter>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PropFilter {
    pub name: String,
    pub is_not_defined: bool,
    pub text_match: Option<TextMatch>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TextMatch {
    pub text: String,
    pub negate: bool,
    /// `i;octet` compares exactly; the casemap collations ignore case.
    pub exact: bool,
}

/// Parses `<C:filter>`. The message says what isn't accepted.
pub fn parse(filter: &Element) -> Result<CompFilter, String> {
    let top = filter
        .child(CALDAV, "comp-filter")
        .ok_or_else(|| "the calendar-query filter needs a comp-filter for VCALENDAR".to_string())?;
    let parsed = comp_filter(top, 0)?;
    if !parsed.name.eq_ignore_ascii_case("VCALENDAR") {
        return Err("the outermost comp-filter must name VCALENDAR".into());
    }
    if parsed.time_range.is_some() {
        return Err("a time-range on VCALENDAR isn't meaningful".into());
    }
    for child in &parsed.comps {
        refuse_nested_time_ranges(child)?;
    }
    Ok(parsed)
}

/// Time ranges are answered for a resource's own component (its
/// occurrences); below it (a VALARM's trigger) they aren't, at any depth.
fn refuse_nested_time_ranges(filter: &CompFilter) -> Result<(), String> {
    for child in &filter.comps {
        if child.time_range.is_some() {
            return Err(format!("time-range inside {} isn't supported", filter.name));
        }
        refuse_nested_time_ranges(child)?;
    }
    Ok(())
}

fn comp_filter(element: &Element, depth: usize) -> Result<CompFilter, String> {
    let name = element.attribute("name").ok_or("a comp-filter needs a name attribute")?.to_ascii_uppercase();
    let mut filter =
        CompFilter { name, is_not_defined: false, time_range: None, props: Vec::new(), comps: Vec::new() };
    for child in &element.children {
        match (child.name.ns.as_str(), child.name.name.as_str()) {
            (CALDAV, "is-not-defined") => filter.is_not_defined = true,
            (CALDAV, "time-range") => filter.time_range = Some(time_range(child)?),
            (CALDAV, "comp-filter") if depth < 4 => filter.comps.push(comp_filter(child, depth + 1)?),
            (CALDAV, "prop-filter") => filter.props.push(prop_filter(child)?),
            (ns, name) => return Err(format!("the filter element {{{ns}}}{name} isn't supported here")),
        }
    }
    Ok(filter)
}

/// `<C:time-range start=".." end="..">`: either may be missing (open ended).
pub fn time_range(element: &Element) -> Result<TimeSpan, String> {
    let bound = |name: &str, default: i64| match element.attribute(name) {
        Some(text) => mailroom_ical::parse_utc(text).ok_or_else(|| {
            format!("the time-range {name} \"{text}\" isn't a UTC date-time like 20260101T000000Z")
        }),
        None => Ok(default),
    };
    let span = TimeSpan { start: bound("start", i64::MIN)?, end: bound("end", i64::MAX)? };
    if element.attribute("start").is_none() && element.attribute("end").is_none() {
        return Err("a time-range needs a start or an end".into());
    }
    if span.end <= span.start {
        return Err("the time-range ends before it starts".into());
    }
    Ok(span)
}

fn prop_filter(element: &Element) -> Result<PropFilter, String> {
    let name = element.attribute("name").ok_or("a prop-filter needs a name attribute")?.to_ascii_uppercase();
    let mut filter = PropFilter { name, is_not_defined: false, text_match: None };
    for child in &element.children {
        match (child.name.ns.as_str(), child.name.name.as_str()) {
            (CALDAV, "is-not-defined") => filter.is_not_defined = true,
            (CALDAV, "text-match") => {
                let collation = child.attribute("collation").unwrap_or("i;ascii-casemap");
                if !matches!(collation, "i;ascii-casemap" | "i;unicode-casemap" | "i;octet") {
                    return Err(format!("the collation {collation} isn't supported"));
                }
                filter.text_match = Some(TextMatch {
                    text: child.text.clone(),
                    negate: child.attribute("negate-condition") == Some("yes"),
                    exact: collation == "i;octet",
                });
            }
            (ns, name) => return Err(format!("the filter element {{{ns}}}{name} isn't supported")),
        }
    }
    Ok(filter)
}

impl CompFilter {
    /// The time range of the resource-level component filter, for the store's pre-selection.
    pub fn outer_time_range(&self) -> Option<TimeSpan> {
        self.comps.iter().find_map(|c| c.time_range)
    }

    /// Whether a stored resource matches (the filter names VCALENDAR).
    pub fn matches(&self, calendar: &ICalendar) -> bool {
        let root = &calendar.components[0];
        self.props.iter().all(|p| p.matches(root))
            && self.comps.iter().all(|child| child.matches_among(calendar, &root.component_ids, true))
    }

    /// Among the components `ids`, one of this filter's name matches it (or,
    /// for is-not-defined, none has the name).
    fn matches_among(&self, calendar: &ICalendar, ids: &[u32], resource_level: bool) -> bool {
        let named: Vec<&ICalendarComponent> = ids
            .iter()
            .filter_map(|id| calendar.components.get(*id as usize))
            .filter(|c| c.component_type.as_str().eq_ignore_ascii_case(&self.name))
            .collect();
        if self.is_not_defined {
            return named.is_empty();
        }
        if named.is_empty() {
            return false;
        }
        // The occurrences of a recurring resource are the resource's, not one component's.
        if let Some(range) = self.time_range
            && resource_level
            && !mailroom_ical::occurs_in(calendar, range)
        {
            return false;
        }
        named.iter().any(|component| {
            self.props.iter().all(|p| p.matches(component))
                && self
                    .comps
                    .iter()
                    .all(|child| child.matches_among(calendar, &component.component_ids, false))
        })
    }
}

impl PropFilter {
    fn matches(&self, component: &ICalendarComponent) -> bool {
        let entries: Vec<_> =
            component.entries.iter().filter(|e| e.name.as_str().eq_ignore_ascii_case(&self.name)).collect();
        if self.is_not_defined {
            return entries.is_empty();
        }
        if entries.is_empty() {
            return false;
        }
        let Some(text_match) = &self.text_match else { return true };
        entries.iter().any(|entry| {
            let found = entry.values.iter().filter_map(|v| v.as_text()).any(|value| {
                if text_match.exact {
                    value.contains(&text_match.text)
                } else {
                    value.to_lowercase().contains(&text_match.text.to_lowercase())
                }
            });
            found != text_match.negate
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xml;

    fn filter(body: &str) -> Result<CompFilter, String> {
        let xml = format!("<C:filter xmlns:C=\"urn:ietf:params:xml:ns:caldav\">{body}</C:filter>");
        parse(&xml::parse(xml.as_bytes()).unwrap())
    }

    const EVENT: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:u1\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:20261201T100000Z\r\nDTEND:20261201T110000Z\r\nSUMMARY:Budget review\r\nBEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER:-PT5M\r\nEND:VALARM\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";

    #[test]
    fn time_range_and_text_match() {
        let calendar = mailroom_ical::parse(EVENT).unwrap();
        let yes = filter(r#"<C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:time-range start="20261201T000000Z" end="20261202T000000Z"/></C:comp-filter></C:comp-filter>"#).unwrap();
        assert!(yes.matches(&calendar));
        assert_eq!(yes.outer_time_range().map(|r| r.end), mailroom_ical::parse_utc("20261202T000000Z"));
        let no = filter(r#"<C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:time-range start="20261202T000000Z" end="20261203T000000Z"/></C:comp-filter></C:comp-filter>"#).unwrap();
        assert!(!no.matches(&calendar));
        let todo = filter(r#"<C:comp-filter name="VCALENDAR"><C:comp-filter name="VTODO"/></C:comp-filter>"#)
            .unwrap();
        assert!(!todo.matches(&calendar));
        let text = filter(r#"<C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:prop-filter name="SUMMARY"><C:text-match>BUDGET</C:text-match></C:prop-filter></C:comp-filter></C:comp-filter>"#).unwrap();
        assert!(text.matches(&calendar));
        let negated = filter(r#"<C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:prop-filter name="SUMMARY"><C:text-match negate-condition="yes">budget</C:text-match></C:prop-filter></C:comp-filter></C:comp-filter>"#).unwrap();
        assert!(!negated.matches(&calendar));
        let alarm = filter(r#"<C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:comp-filter name="VALARM"/></C:comp-filter></C:comp-filter>"#).unwrap();
        assert!(alarm.matches(&calendar));
        let no_location = filter(r#"<C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:prop-filter name="LOCATION"><C:is-not-defined/></C:prop-filter></C:comp-filter></C:comp-filter>"#).unwrap();
        assert!(no_location.matches(&calendar));
    }

    #[test]
    fn refuses_what_it_cannot_answer() {
        assert!(filter("").unwrap_err().contains("VCALENDAR"));
        assert!(filter(r#"<C:comp-filter name="VEVENT"/>"#).unwrap_err().contains("outermost"));
        assert!(filter(r#"<C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:time-range start="tomorrow"/></C:comp-filter></C:comp-filter>"#).unwrap_err().contains("UTC"));
        assert!(filter(r#"<C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:prop-filter name="ATTENDEE"><C:param-filter name="PARTSTAT"/></C:prop-filter></C:comp-filter></C:comp-filter>"#).unwrap_err().contains("param-filter"));
        assert!(filter(r#"<C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:comp-filter name="VALARM"><C:time-range start="20260101T000000Z"/></C:comp-filter></C:comp-filter></C:comp-filter>"#).unwrap_err().contains("inside VEVENT"));
        assert!(filter(r#"<C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT"><C:comp-filter name="VALARM"><C:comp-filter name="X"><C:time-range start="20260101T000000Z"/></C:comp-filter></C:comp-filter></C:comp-filter></C:comp-filter>"#).unwrap_err().contains("inside VALARM"));
    }
}
