//! XML in and out: request bodies become a small element tree (they are
//! short: a PROPFIND, a REPORT), and responses are written as text with the
//! four namespaces CalDAV clients expect bound to fixed prefixes.
//!
//! The tree is bounded — depth, element count — so a hostile body costs at
//! most a few hundred kilobytes of memory and a clear `400`.

use quick_xml::escape::escape;
use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use quick_xml::reader::NsReader;

pub const DAV: &str = "DAV:";
pub const CALDAV: &str = "urn:ietf:params:xml:ns:caldav";
pub const CALENDARSERVER: &str = "http://calendarserver.org/ns/";
pub const APPLE_ICAL: &str = "http://apple.com/ns/ical/";

/// Deeper than any CalDAV request needs (a calendar-query filter nests 6).
const MAX_DEPTH: usize = 32;
const MAX_ELEMENTS: usize = 20_000;

/// A namespaced element name.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct QName {
    pub ns: String,
    pub name: String,
}

impl QName {
    pub fn new(ns: &str, name: &str) -> Self {
        QName { ns: ns.to_string(), name: name.to_string() }
    }

    pub fn is(&self, ns: &str, name: &str) -> bool {
        self.ns == ns && self.name == name
    }

    /// The element written empty, with a prefix for the well-known namespaces.
    pub fn empty_element(&self) -> String {
        match prefix(&self.ns) {
            Some(p) => format!("<{p}:{}/>", self.name),
            None if self.ns.is_empty() => format!("<{} xmlns=\"\"/>", self.name),
            None => format!("<x:{} xmlns:x=\"{}\"/>", self.name, escape(self.ns.as_str())),
        }
    }

    /// The element with `inner` (already XML) as content.
    pub fn element(&self, inner: &str) -> String {
        match prefix(&self.ns) {
            Some(p) => format!("<{p}:{n}>{inner}</{p}:{n}>", n = self.name),
            None if self.ns.is_empty() => format!("<{n} xmlns=\"\">{inner}</{n}>", n = self.name),
            None => format!("<x:{n} xmlns:x=\"{}\">{inner}</x:{n}>", escape(self.ns.as_str()), n = self.name),
        }
    }
}

fn prefix(ns: &str) -> Option<&'static str> {
    match ns {
        DAV => Some("d"),
        CALDAV => Some("c"),
        CALENDARSERVER => Some("cs"),
        APPLE_ICAL => Some("ic"),
        _ => None,
    }
}

/// The namespace declarations every response's root element carries.
pub const NAMESPACES: &str = "xmlns:d=\"DAV:\" xmlns:c=\"urn:ietf:params:xml:ns:caldav\" \
     xmlns:cs=\"http://calendarserver.org/ns/\" xmlns:ic=\"http://apple.com/ns/ical/\"";

/// One element of a request body.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Element {
    pub name: QName,
    pub attributes: Vec<(String, String)>,
    pub children: Vec<Element>,
    /// The text directly inside it, entities resolved.
    pub text: String,
}

impl Element {
    pub fn is(&self, ns: &str, name: &str) -> bool {
        self.name.is(ns, name)
    }

    pub fn child(&self, ns: &str, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.is(ns, name))
    }

    pub fn children_named<'a>(
        &'a self,
        ns: &'a str,
        name: &'a str,
    ) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.is(ns, name))
    }

    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

/// Parses a request body into its root element. The message says what is
/// wrong, for the client's `400`.
pub fn parse(body: &[u8]) -> Result<Element, String> {
    let text = std::str::from_utf8(body).map_err(|_| "the XML body isn't UTF-8".to_string())?;
    let mut reader = NsReader::from_str(text);
    reader.config_mut().trim_text(false);
    let mut stack: Vec<Element> = Vec::new();
    let mut count = 0usize;
    loop {
        let (resolved, event) = match reader.read_resolved_event() {
            Ok(read) => read,
            Err(err) => return Err(describe(&err, reader.error_position())),
        };
        match event {
            Event::Start(_) | Event::Empty(_) if stack.len() >= MAX_DEPTH || count >= MAX_ELEMENTS => {
                return Err("the XML body is too large or nested too deeply".into());
            }
            Event::Start(start) => {
                count += 1;
                stack.push(element_of(&start, resolved)?);
            }
            Event::Empty(start) => {
                count += 1;
                let done = element_of(&start, resolved)?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(done),
                    None => return finish(&mut reader, done),
                }
            }
            Event::End(_) => {
                let done = stack.pop().ok_or_else(|| "the XML body has an unmatched end tag".to_string())?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(done),
                    None => return finish(&mut reader, done),
                }
            }
            Event::Text(t) => {
                if let Some(current) = stack.last_mut() {
                    current.text.push_str(&t.xml10_content());
                } else if !t.xml10_content().trim().is_empty() {
                    return Err("the XML body has text outside its root element".into());
                }
            }
            Event::CData(c) => {
                if let Some(current) = stack.last_mut() {
                    current.text.push_str(&c);
                }
            }
            Event::GeneralRef(r) => {
                let ch = match r.resolve_char_ref().map_err(|_| {
                    format!(
                        "the XML body has an invalid character reference near byte {}",
                        reader.buffer_position()
                    )
                })? {
                    Some(ch) => ch.to_string(),
                    None => match r.as_ref() {
                        "amp" => "&".into(),
                        "lt" => "<".into(),
                        "gt" => ">".into(),
                        "quot" => "\"".into(),
                        "apos" => "'".into(),
                        other => return Err(format!("the XML body uses the unknown entity &{other};")),
                    },
                };
                if let Some(current) = stack.last_mut() {
                    current.text.push_str(&ch);
                }
            }
            Event::DocType(_) => return Err("document type declarations aren't accepted".into()),
            Event::Eof => return Err("the XML body ended before its root element was closed".into()),
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
        }
    }
}

fn element_of(
    start: &quick_xml::events::BytesStart<'_>,
    resolved: ResolveResult<'_>,
) -> Result<Element, String> {
    let bad_attribute = || format!("the XML element <{}> has a malformed attribute", local_name(start));
    let ns = match resolved {
        ResolveResult::Bound(ns) => ns.as_ref().to_string(),
        ResolveResult::Unbound => String::new(),
        ResolveResult::Unknown(prefix) => {
            return Err(format!("the XML body uses the undeclared namespace prefix \"{prefix}\""));
        }
    };
    let mut element =
        Element { name: QName { ns, name: start.local_name().as_ref().to_string() }, ..Element::default() };
    for attribute in start.attributes() {
        let attribute = attribute.map_err(|_| bad_attribute())?;
        let raw_key: &str = attribute.key.as_ref();
        if raw_key == "xmlns" || raw_key.starts_with("xmlns:") {
            continue;
        }
        let key = attribute.key.local_name().as_ref().to_string();
        let value = attribute
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map_err(|_| bad_attribute())?
            .into_owned();
        element.attributes.push((key, value));
    }
    Ok(element)
}

/// After the root element only whitespace, comments and processing
/// instructions may follow.
fn finish(reader: &mut NsReader<&[u8]>, root: Element) -> Result<Element, String> {
    loop {
        match reader.read_event() {
            Ok(Event::Eof) => return Ok(root),
            Ok(Event::Text(t)) if t.xml10_content().trim().is_empty() => {}
            Ok(Event::Comment(_) | Event::PI(_)) => {}
            Ok(_) => return Err("the XML body has content after its root element".into()),
            Err(err) => return Err(describe(&err, reader.error_position())),
        }
    }
}

/// A parser error in the product's words, for the client's `400`: the
/// library's own messages name its types and settings, which mean nothing
/// to a client (and tell an attacker which parser runs here).
fn describe(err: &quick_xml::Error, at: u64) -> String {
    use quick_xml::Error;
    use quick_xml::errors::IllFormedError;
    use quick_xml::name::NamespaceError;
    let what = match err {
        Error::Syntax(_) => "is cut off inside a tag, comment, CDATA section or declaration".to_string(),
        Error::IllFormed(IllFormedError::MismatchedEndTag { expected, found }) => {
            format!("closes <{}> with </{}>", clip(expected), clip(found))
        }
        Error::IllFormed(IllFormedError::UnmatchedEndTag(name)) => {
            format!("has an end tag </{}> that nothing opened", clip(name))
        }
        Error::IllFormed(IllFormedError::MissingEndTag(name)) => {
            format!("never closes <{}>", clip(name))
        }
        Error::IllFormed(_) => "isn't well-formed XML".to_string(),
        Error::InvalidAttr(_) => "has a malformed attribute".to_string(),
        Error::Encoding(_) => "isn't UTF-8".to_string(),
        Error::Escape(_) => "has an invalid entity or character reference".to_string(),
        Error::Namespace(NamespaceError::UnknownPrefix(prefix)) => {
            format!("uses the undeclared namespace prefix \"{}\"", clip(prefix))
        }
        Error::Namespace(NamespaceError::TooManyBindings(limit)) => {
            format!("declares more than {limit} namespaces at once")
        }
        Error::Namespace(NamespaceError::TooDeeplyNested(_)) => "is nested too deeply".to_string(),
        Error::Namespace(_) => "binds a reserved namespace prefix (xml or xmlns)".to_string(),
        Error::Io(_) => "couldn't be read".to_string(),
    };
    format!("the XML body {what} (near byte {at})")
}

/// A name from the client, shortened for an error message.
fn clip(name: &str) -> String {
    name.chars().filter(|c| !c.is_control()).take(64).collect()
}

fn local_name(start: &quick_xml::events::BytesStart<'_>) -> String {
    clip(start.local_name().as_ref())
}

/// Text escaped for element content or attribute values.
pub fn text(value: &str) -> std::borrow::Cow<'_, str> {
    escape(value)
}

/// A `<d:href>` element for an already-encoded path.
pub fn href(path: &str) -> String {
    format!("<d:href>{}</d:href>", escape(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_namespaces_attributes_and_entities() {
        let body = br#"<?xml version="1.0" encoding="utf-8"?>
            <C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
              <D:prop><D:getetag/></D:prop>
              <C:filter><C:comp-filter name="VCALENDAR">
                <C:comp-filter name="VEVENT"><C:time-range start="20260101T000000Z"/></C:comp-filter>
              </C:comp-filter></C:filter>
              <D:x>a &amp; b &#65;<![CDATA[<c>]]></D:x>
            </C:calendar-query>"#;
        let root = parse(body).unwrap();
        assert!(root.is(CALDAV, "calendar-query"));
        assert!(root.child(DAV, "prop").unwrap().child(DAV, "getetag").is_some());
        let filter = root.child(CALDAV, "filter").unwrap();
        let event = filter.child(CALDAV, "comp-filter").unwrap().child(CALDAV, "comp-filter").unwrap();
        assert_eq!(event.attribute("name"), Some("VEVENT"));
        assert_eq!(event.child(CALDAV, "time-range").unwrap().attribute("start"), Some("20260101T000000Z"));
        assert_eq!(root.child(DAV, "x").unwrap().text, "a & b A<c>");
    }

    #[test]
    fn default_namespace_applies_to_children() {
        let root = parse(b"<propfind xmlns=\"DAV:\"><prop><displayname/></prop></propfind>").unwrap();
        assert!(root.is(DAV, "propfind"));
        assert!(root.child(DAV, "prop").unwrap().child(DAV, "displayname").is_some());
    }

    #[test]
    fn refuses_malformed_bodies() {
        for body in [
            &b"<d:propfind xmlns:d=\"DAV:\"><d:prop>"[..],
            b"<x:propfind/>",
            b"<a></b>",
            b"<a/><b/>",
            b"\xff\xfe",
            b"<!DOCTYPE a [<!ENTITY x \"y\">]><a>&x;</a>",
            b"",
        ] {
            assert!(parse(body).is_err(), "accepted {:?}", String::from_utf8_lossy(body));
        }
        let deep = "<a>".repeat(100) + &"</a>".repeat(100);
        assert!(parse(deep.as_bytes()).unwrap_err().contains("deeply"));
    }

    #[test]
    fn errors_are_in_our_words() {
        // Hundreds of namespace bindings on one element: the library's own
        // message names its configuration API.
        let bindings: String = (0..2000).map(|i| format!(" xmlns:p{i}=\"urn:x:{i}\"")).collect();
        let body = format!("<d:propfind xmlns:d=\"DAV:\"{bindings}/>");
        let many = parse(body.as_bytes()).unwrap_err();
        assert!(many.starts_with("the XML body declares more than"), "{many}");
        for (body, expected) in [
            (&b"<a></b>"[..], "closes <a> with </b>"),
            (b"<a><b", "cut off"),
            (b"<a x=1/>", "malformed attribute"),
            (b"<a>&#xZZ;</a>", "character reference"),
            (b"<a xmlns:xml=\"urn:other\"/>", "reserved namespace prefix"),
        ] {
            let err = parse(body).unwrap_err();
            assert!(err.contains(expected), "{:?}: {err}", String::from_utf8_lossy(body));
        }
        for body in [body.as_bytes(), b"<a></b>", b"<a><b", b"<a x=1/>"] {
            let err = parse(body).unwrap_err();
            for internal in ["NamespaceResolver", "quick", "Error", "::"] {
                assert!(!err.contains(internal), "{err}");
            }
        }
    }

    #[test]
    fn unknown_namespaces_are_written_with_their_own_prefix() {
        assert_eq!(QName::new(DAV, "getetag").empty_element(), "<d:getetag/>");
        assert_eq!(QName::new("urn:x", "y").empty_element(), "<x:y xmlns:x=\"urn:x\"/>");
    }
}
