//! WebDAV properties (RFC 4918 §15, RFC 4791 §5.2, §6.2, RFC 5397, RFC
//! 6578, and the two de-facto ones every client asks for: CalendarServer's
//! `getctag` and Apple's `calendar-color`) of each kind of resource, and the
//! multistatus response that carries them.

use mailroom_core::calendar::{Calendar, CalendarObject};
use mailroom_core::directory::{Recipient, RecipientKind};

use crate::path;
use crate::xml::{self, APPLE_ICAL, CALDAV, CALENDARSERVER, DAV, Element, NAMESPACES, QName};

/// The largest resource a PUT may store (CALDAV:max-resource-size).
pub const MAX_RESOURCE_SIZE: usize = 1024 * 1024;

/// What a PROPFIND or REPORT asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PropRequest {
    AllProp,
    PropName,
    Props(Vec<QName>),
}

impl PropRequest {
    /// From the element holding `<prop>`, `<allprop/>` or `<propname/>`.
    pub fn from_parent(parent: &Element) -> PropRequest {
        if parent.child(DAV, "propname").is_some() {
            return PropRequest::PropName;
        }
        match parent.child(DAV, "prop") {
            Some(prop) => PropRequest::Props(prop.children.iter().map(|c| c.name.clone()).collect()),
            None => PropRequest::AllProp,
        }
    }
}

/// A resource whose properties are answered.
#[derive(Clone, Copy, Debug)]
pub enum Resource<'a> {
    Root,
    Principal(&'a Recipient),
    Home(&'a Recipient),
    Calendar { calendar: &'a Calendar, display_name: &'a str, owner: &'a Recipient },
    Object(&'a CalendarObject),
}

fn q(ns: &str, name: &str) -> QName {
    QName::new(ns, name)
}

/// The live properties each kind has (allprop, propname). calendar-data
/// is left out, as RFC 4791 §9.6 asks.
fn names(resource: &Resource<'_>) -> Vec<QName> {
    let mut out = vec![q(DAV, "resourcetype"), q(DAV, "current-user-principal")];
    match resource {
        Resource::Root => out.extend([q(DAV, "displayname"), q(DAV, "principal-collection-set")]),
        Resource::Principal(_) => out.extend([
            q(DAV, "displayname"),
            q(DAV, "principal-URL"),
            q(CALDAV, "calendar-home-set"),
            q(CALDAV, "calendar-user-address-set"),
            q(CALDAV, "calendar-user-type"),
        ]),
        Resource::Home(_) => {
            out.extend([q(DAV, "displayname"), q(DAV, "owner"), q(DAV, "current-user-privilege-set")])
        }
        Resource::Calendar { .. } => out.extend([
            q(DAV, "displayname"),
            q(DAV, "owner"),
            q(DAV, "current-user-privilege-set"),
            q(DAV, "supported-report-set"),
            q(DAV, "sync-token"),
            q(CALENDARSERVER, "getctag"),
            q(CALDAV, "supported-calendar-component-set"),
            q(CALDAV, "supported-calendar-data"),
            q(CALDAV, "max-resource-size"),
            q(CALDAV, "calendar-description"),
            q(APPLE_ICAL, "calendar-color"),
        ]),
        Resource::Object(_) => out.extend([
            q(DAV, "getetag"),
            q(DAV, "getcontenttype"),
            q(DAV, "getcontentlength"),
            q(DAV, "getlastmodified"),
        ]),
    }
    out
}

/// The sync token of a calendar (RFC 6578 §3.2: a URI).
pub fn sync_token(calendar: &Calendar) -> String {
    format!("urn:x-mailroom:sync:{}:{}", calendar.id, calendar.sync_seq)
}

/// Reads a token back: `(calendar id, sequence)`.
pub fn parse_sync_token(token: &str) -> Option<(i64, u64)> {
    let rest = token.trim().strip_prefix("urn:x-mailroom:sync:")?;
    let (id, seq) = rest.split_once(':')?;
    Some((id.parse().ok()?, seq.parse().ok()?))
}

/// An RFC 9110 date (`Last-Modified`).
pub fn http_date(unix: i64) -> String {
    chrono::DateTime::from_timestamp(unix, 0)
        .unwrap_or_default()
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string()
}

fn privileges(write: bool) -> String {
    let mut out = String::from(
        "<d:privilege><d:read/></d:privilege><d:privilege><d:read-current-user-privilege-set/></d:privilege>",
    );
    if write {
        out.push_str("<d:privilege><d:write/></d:privilege><d:privilege><d:write-content/></d:privilege><d:privilege><d:write-properties/></d:privilege><d:privilege><d:bind/></d:privilege><d:privilege><d:unbind/></d:privilege>");
    }
    out
}

/// One property's value (inner XML), or `None` if the resource hasn't it.
fn value(resource: &Resource<'_>, me: &Recipient, name: &QName) -> Option<String> {
    let me_principal = || xml::href(&path::principal(&me.primary_address.to_string()));
    let ns = name.ns.as_str();
    let local = name.name.as_str();
    Some(match (resource, ns, local) {
        (_, DAV, "current-user-principal") => me_principal(),
        (Resource::Root, DAV, "resourcetype") => "<d:collection/>".into(),
        (Resource::Root, DAV, "displayname") => "Mailroom".into(),
        (Resource::Root | Resource::Principal(_), DAV, "principal-collection-set") => {
            xml::href("/dav/principals/")
        }
        (Resource::Principal(_), DAV, "resourcetype") => "<d:principal/>".into(),
        (Resource::Principal(r), DAV, "displayname") => xml::text(&r.display_name).into_owned(),
        (Resource::Principal(r), DAV, "principal-URL") => {
            xml::href(&path::principal(&r.primary_address.to_string()))
        }
        (Resource::Principal(r), CALDAV, "calendar-home-set") => {
            xml::href(&path::home(&r.primary_address.to_string()))
        }
        (Resource::Principal(r), CALDAV, "calendar-user-address-set") => {
            r.addresses().map(|a| xml::href(&format!("mailto:{a}"))).collect()
        }
        (Resource::Principal(r), CALDAV, "calendar-user-type") => {
            // RFC 5545 CUTYPE: a shared mailbox is a group's, not a person's.
            if r.kind == RecipientKind::SharedMailbox { "GROUP" } else { "INDIVIDUAL" }.into()
        }
        (Resource::Home(_), DAV, "resourcetype") => "<d:collection/>".into(),
        (Resource::Home(r), DAV, "displayname") => xml::text(&r.display_name).into_owned(),
        (Resource::Home(r), DAV, "owner") => xml::href(&path::principal(&r.primary_address.to_string())),
        (Resource::Home(_) | Resource::Calendar { .. }, DAV, "current-user-privilege-set") => {
            privileges(true)
        }
        (Resource::Calendar { .. }, DAV, "resourcetype") => "<d:collection/><c:calendar/>".into(),
        (Resource::Calendar { display_name, .. }, DAV, "displayname") => xml::text(display_name).into_owned(),
        (Resource::Calendar { owner, .. }, DAV, "owner") => {
            xml::href(&path::principal(&owner.primary_address.to_string()))
        }
        (Resource::Calendar { .. }, DAV, "supported-report-set") => {
            ["<c:calendar-query/>", "<c:calendar-multiget/>", "<d:sync-collection/>"]
                .iter()
                .map(|r| format!("<d:supported-report><d:report>{r}</d:report></d:supported-report>"))
                .collect()
        }
        (Resource::Calendar { calendar, .. }, DAV, "sync-token") => {
            xml::text(&sync_token(calendar)).into_owned()
        }
        (Resource::Calendar { calendar, .. }, CALENDARSERVER, "getctag") => {
            xml::text(&sync_token(calendar)).into_owned()
        }
        (Resource::Calendar { .. }, CALDAV, "supported-calendar-component-set") => {
            "<c:comp name=\"VEVENT\"/><c:comp name=\"VTODO\"/><c:comp name=\"VJOURNAL\"/>".into()
        }
        (Resource::Calendar { .. }, CALDAV, "supported-calendar-data") => {
            "<c:calendar-data content-type=\"text/calendar\" version=\"2.0\"/>".into()
        }
        (Resource::Calendar { .. }, CALDAV, "max-resource-size") => MAX_RESOURCE_SIZE.to_string(),
        (Resource::Calendar { calendar, .. }, CALDAV, "calendar-description") => {
            xml::text(calendar.description.as_deref()?).into_owned()
        }
        (Resource::Calendar { calendar, .. }, APPLE_ICAL, "calendar-color") => {
            xml::text(calendar.color.as_deref()?).into_owned()
        }
        (Resource::Object(_), DAV, "resourcetype") => String::new(),
        (Resource::Object(o), DAV, "getetag") => xml::text(&o.etag).into_owned(),
        (Resource::Object(o), DAV, "getcontenttype") => {
            format!("text/calendar; charset=utf-8; component={}", o.component.ical_name().to_lowercase())
        }
        (Resource::Object(o), DAV, "getcontentlength") => o.data.len().to_string(),
        (Resource::Object(o), DAV, "getlastmodified") => http_date(o.modified),
        (Resource::Object(o), CALDAV, "calendar-data") => xml::text(&o.data).into_owned(),
        _ => return None,
    })
}

/// A `207 Multi-Status` body being written.
#[derive(Debug)]
pub struct Multistatus {
    out: String,
}

impl Default for Multistatus {
    fn default() -> Self {
        Multistatus {
            out: format!("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<d:multistatus {NAMESPACES}>"),
        }
    }
}

impl Multistatus {
    /// One resource's properties: found ones under `200`, missing ones under `404`.
    pub fn resource(&mut self, href: &str, resource: &Resource<'_>, me: &Recipient, request: &PropRequest) {
        let wanted = match request {
            PropRequest::AllProp | PropRequest::PropName => names(resource),
            PropRequest::Props(names) => names.clone(),
        };
        let mut found = String::new();
        let mut missing = String::new();
        for name in &wanted {
            match value(resource, me, name) {
                Some(_) if *request == PropRequest::PropName => found.push_str(&name.empty_element()),
                Some(inner) if inner.is_empty() => found.push_str(&name.empty_element()),
                Some(inner) => found.push_str(&name.element(&inner)),
                // allprop lists what the resource has (RFC 4918 §9.1).
                None if *request != PropRequest::AllProp => missing.push_str(&name.empty_element()),
                None => {}
            }
        }
        self.out.push_str("<d:response>");
        self.out.push_str(&xml::href(href));
        if !found.is_empty() || missing.is_empty() {
            self.propstat(&found, "200 OK");
        }
        if !missing.is_empty() {
            self.propstat(&missing, "404 Not Found");
        }
        self.out.push_str("</d:response>");
    }

    fn propstat(&mut self, props: &str, status: &str) {
        self.out.push_str(&format!(
            "<d:propstat><d:prop>{props}</d:prop><d:status>HTTP/1.1 {status}</d:status></d:propstat>"
        ));
    }

    /// Properties with a status each (PROPPATCH).
    pub fn statuses(&mut self, href: &str, entries: &[(QName, &str)]) {
        self.out.push_str("<d:response>");
        self.out.push_str(&xml::href(href));
        for (name, status) in entries {
            self.propstat(&name.empty_element(), status);
        }
        self.out.push_str("</d:response>");
    }

    /// A resource answered with a status alone (a missing href, a deletion).
    pub fn status(&mut self, href: &str, status: &str) {
        self.out.push_str(&format!(
            "<d:response>{}<d:status>HTTP/1.1 {status}</d:status></d:response>",
            xml::href(href)
        ));
    }

    pub fn finish(mut self, sync_token: Option<&str>) -> String {
        if let Some(token) = sync_token {
            self.out.push_str(&format!("<d:sync-token>{}</d:sync-token>", xml::text(token)));
        }
        self.out.push_str("</d:multistatus>\n");
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sync_tokens_round_trip() {
        assert_eq!(parse_sync_token("urn:x-mailroom:sync:7:42"), Some((7, 42)));
        assert_eq!(parse_sync_token("http://other/7/42"), None);
        assert_eq!(parse_sync_token("urn:x-mailroom:sync:7:x"), None);
    }

    #[test]
    fn dates_are_imf_fixdate() {
        assert_eq!(http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
    }
}
