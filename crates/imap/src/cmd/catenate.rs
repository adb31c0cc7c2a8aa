//! CATENATE (RFC 4469): a message put together from pieces of text and
//! IMAP URLs (RFC 5092) of messages or parts this user can read, so that a
//! client forwarding or editing a draft needn't download and upload what
//! the server already has.
//!
//! URLs this server takes:
//! - `/<mailbox>[;UIDVALIDITY=<n>]/;UID=<n>[/;SECTION=<section>][/;PARTIAL=<offset>[.<length>]]`;
//! - the same after `imap://[<user>@]<this server's name>[:<port>]`;
//! - `;UID=<n>[…]`, relative to the selected folder (RFC 3986 §5.2).
//!
//! Anything else — another server, URLAUTH, a folder this user can't
//! read, a wrong UIDVALIDITY, an expunged message, a part that doesn't
//! exist — is `NO [BADURL <url>]` (RFC 4469 §5), and nothing is stored.
//! The put-together message must fit APPENDLIMIT, like any APPEND.

use imap_codec::CommandCodec;
use imap_codec::decode::Decoder;
use imap_codec::imap_types::IntoStatic;
use imap_codec::imap_types::command::CommandBody;
use imap_codec::imap_types::fetch::{MacroOrMessageDataItemNames, MessageDataItemName, Section};
use mailroom_types::Uid;

use crate::multiappend::CatPart;
use crate::session::{Session, SignedIn};

/// Why a catenated message couldn't be put together.
pub(crate) enum CatenateError {
    /// This URL names nothing this user can read here.
    BadUrl(String),
    /// The message would be larger than APPENDLIMIT.
    TooBig,
    /// The store failed.
    Store(mailroom_core::CoreError),
}

/// An IMAP URL, read (RFC 5092 §6 `imessagepart`).
#[derive(Debug, PartialEq, Eq)]
struct ImapUrl {
    /// `None`: the selected folder (a relative URL).
    mailbox: Option<String>,
    uid_validity: Option<u32>,
    uid: u32,
    section: Option<String>,
    partial: Option<(u32, Option<u32>)>,
}

/// `%XX` escapes undone (RFC 3986 §2.1); `None` for a broken escape or
/// for octets that aren't UTF-8.
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while at < bytes.len() {
        if bytes[at] == b'%' {
            let hex = std::str::from_utf8(bytes.get(at + 1..at + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            at += 3;
        } else {
            out.push(bytes[at]);
            at += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// A `;NAME=value` parameter at the start of `text` (the name in any
/// case): the value, up to the next `/` or `;`, and what follows it.
fn parameter<'a>(text: &'a str, name: &str) -> Option<(&'a str, &'a str)> {
    let rest = text.strip_prefix(';')?;
    let (key, rest) = rest.split_once('=')?;
    if !key.eq_ignore_ascii_case(name) {
        return None;
    }
    let end = rest.find(['/', ';']).unwrap_or(rest.len());
    Some((&rest[..end], &rest[end..]))
}

fn number(text: &str) -> Option<u32> {
    (!text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) && !text.starts_with('0'))
        .then(|| text.parse().ok())
        .flatten()
}

fn parse_url(url: &str, hostname: &str) -> Option<ImapUrl> {
    let path =
        if let Some(rest) = url.get(..7).filter(|s| s.eq_ignore_ascii_case("imap://")).map(|_| &url[7..]) {
            let slash = rest.find('/')?;
            let authority = &rest[..slash];
            let host = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
            let host = host.split_once(':').map_or(host, |(host, _)| host);
            if !host.eq_ignore_ascii_case(hostname) || authority.to_ascii_uppercase().contains(";AUTH=") {
                return None;
            }
            &rest[slash..]
        } else {
            url
        };
    // `/<mailbox>[;UIDVALIDITY=n]/;UID=…` or `;UID=…` (relative).
    let (mailbox, uid_validity, rest) = if let Some(absolute) = path.strip_prefix('/') {
        // The mailbox may hold `/` (the hierarchy delimiter): it ends where
        // `;UIDVALIDITY=` or `/;UID=` begins.
        let upper = absolute.to_ascii_uppercase();
        let end = [upper.find(";UIDVALIDITY="), upper.find("/;UID=")].into_iter().flatten().min()?;
        let mailbox = percent_decode(&absolute[..end]).filter(|m| !m.is_empty())?;
        let mut rest = &absolute[end..];
        let mut uid_validity = None;
        if rest.starts_with(';') {
            let (value, after) = parameter(rest, "UIDVALIDITY")?;
            uid_validity = Some(number(value)?);
            rest = after;
        }
        (Some(mailbox), uid_validity, rest.strip_prefix('/')?)
    } else {
        (None, None, path)
    };
    let (uid, mut rest) = parameter(rest, "UID")?;
    let uid = number(uid)?;
    let mut section = None;
    let mut partial = None;
    if let Some(after) = rest.strip_prefix('/')
        && let Some((value, next)) = parameter(after, "SECTION")
    {
        section = Some(percent_decode(value)?);
        rest = next;
    }
    if let Some(after) = rest.strip_prefix('/')
        && let Some((value, next)) = parameter(after, "PARTIAL")
    {
        let offset =
            |text: &str| text.bytes().all(|b| b.is_ascii_digit()).then(|| text.parse().ok()).flatten();
        partial = Some(match value.split_once('.') {
            Some((start, length)) => (offset(start)?, Some(number(length)?)),
            None => (offset(value)?, None),
        });
        rest = next;
    }
    // Anything left (URLAUTH, a query, a stray segment) isn't ours to take.
    rest.is_empty().then_some(ImapUrl { mailbox, uid_validity, uid, section, partial })
}

/// A URL's section text as FETCH would read it: `HEADER`, `1.2.MIME`, …
fn read_section(section: &str) -> Option<Option<Section<'static>>> {
    let command = format!("x FETCH 1 BODY.PEEK[{section}]\r\n");
    let Ok(([], command)) = CommandCodec::new().decode(command.as_bytes()) else { return None };
    let CommandBody::Fetch {
        macro_or_item_names: MacroOrMessageDataItemNames::MessageDataItemNames(items),
        ..
    } = command.into_static().body
    else {
        return None;
    };
    match items.into_iter().next()? {
        MessageDataItemName::BodyExt { section, partial: None, .. } => Some(section),
        _ => None,
    }
}

impl Session {
    /// The octets of a catenated message: each piece in order, URLs read
    /// with this user's rights.
    ///
    /// `budget` is what the whole APPEND may still put together: a command
    /// of a few octets names stored messages, so the octets it makes the
    /// server hold are counted here, across all its messages, and bounded
    /// as a command's own octets are.
    pub(crate) async fn catenate(
        &mut self,
        user: &SignedIn,
        parts: Vec<CatPart>,
        budget: &mut usize,
    ) -> Result<Vec<u8>, CatenateError> {
        let limit = self.server.append_limit() as usize;
        let mut message = Vec::new();
        for part in parts {
            let room = limit.saturating_sub(message.len()).min(*budget);
            let piece = match part {
                CatPart::Text(text) => text,
                CatPart::Url(url) => self.url_octets(user, &url, room).await?,
            };
            if piece.len() > room {
                return Err(CatenateError::TooBig);
            }
            *budget -= piece.len();
            message.extend_from_slice(&piece);
        }
        Ok(message)
    }

    /// The octets a URL names, refused as too big past `room` — before
    /// reading the message when it is wanted whole.
    async fn url_octets(
        &mut self,
        user: &SignedIn,
        url: &str,
        room: usize,
    ) -> Result<Vec<u8>, CatenateError> {
        let bad = || CatenateError::BadUrl(url.to_string());
        let parsed = parse_url(url, &self.server.config.hostname).ok_or_else(bad)?;
        let section = match &parsed.section {
            Some(text) => read_section(text).ok_or_else(bad)?,
            None => None,
        };
        let target = match &parsed.mailbox {
            Some(name) => {
                // RFC 5092 names are UTF-8; an ASCII one may still be
                // modified UTF-7, as the client writes names elsewhere.
                let name = if name.is_ascii() { self.name_from_client(name.clone()) } else { name.clone() };
                self.resolve(user, &name).await.map_err(|_| bad())?.open
            }
            None => self.selected().map(|s| s.target.open.clone()).ok_or_else(bad)?,
        };
        if parsed.uid_validity.is_some_and(|v| v != target.folder().uid_validity) {
            return Err(bad());
        }
        let mail = &self.server.mail;
        let found = mail.messages_by_uid(&target, &[Uid(parsed.uid)]).await.map_err(|_| bad())?;
        let Some(stored) = found.into_iter().next() else { return Err(bad()) };
        if section.is_none() && parsed.partial.is_none() && stored.size > room as u64 {
            return Err(CatenateError::TooBig);
        }
        let body = mail.body(&target, &stored).await.map_err(CatenateError::Store)?;
        let bytes = match &section {
            None => body,
            Some(section) => {
                let summary = mail.summary(&target, &stored).await.map_err(CatenateError::Store)?;
                if !super::fetch::section_exists(&summary, section) {
                    return Err(bad());
                }
                super::fetch::section_bytes(&body, &summary, &Some(section.clone()))
            }
        };
        Ok(match parsed.partial {
            None => bytes,
            Some((offset, length)) => {
                let start = (offset as usize).min(bytes.len());
                let end = length.map_or(bytes.len(), |l| start.saturating_add(l as usize).min(bytes.len()));
                bytes[start..end].to_vec()
            }
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn urls_of_this_server_are_read() {
        let url =
            parse_url("/Drafts;UIDVALIDITY=385759045/;UID=20/;section=1.MIME", "mx.contoso.com").unwrap();
        assert_eq!(
            url,
            ImapUrl {
                mailbox: Some("Drafts".into()),
                uid_validity: Some(385759045),
                uid: 20,
                section: Some("1.MIME".into()),
                partial: None
            }
        );
        let url = parse_url(
            "imap://alice@MX.contoso.com:143/Shared%2Finfo%40contoso.com%2FINBOX/;UID=7/;PARTIAL=10.5",
            "mx.contoso.com",
        )
        .unwrap();
        assert_eq!(url.mailbox.as_deref(), Some("Shared/info@contoso.com/INBOX"));
        assert_eq!((url.uid, url.partial), (7, Some((10, Some(5)))));
        // The hierarchy delimiter inside the mailbox name.
        let url = parse_url("/Shared/info@contoso.com/INBOX;UIDVALIDITY=4/;UID=9", "h").unwrap();
        assert_eq!(
            (url.mailbox.as_deref(), url.uid_validity, url.uid),
            (Some("Shared/info@contoso.com/INBOX"), Some(4), 9)
        );
        let url = parse_url("/Saved/Sub/;uid=2", "h").unwrap();
        assert_eq!(url.mailbox.as_deref(), Some("Saved/Sub"));
        let url = parse_url(";UID=3/;SECTION=HEADER.FIELDS%20(SUBJECT)", "h").unwrap();
        assert_eq!((url.mailbox, url.section.as_deref()), (None, Some("HEADER.FIELDS (SUBJECT)")));
        assert!(read_section("HEADER.FIELDS (SUBJECT)").unwrap().is_some());
        assert!(read_section("BOGUS").is_none());
        for bad in [
            "imap://evil.example/INBOX/;UID=1",
            "imap://;AUTH=*@mx.contoso.com/INBOX/;UID=1",
            "/INBOX/;UID=0",
            "/INBOX/;UID=01",
            "/INBOX;UIDVALIDITY=x/;UID=1",
            "/INBOX/;UID=1;URLAUTH=anonymous",
            "/INBOX/;UID=1/;PARTIAL=1.0",
            "/INBOX/;UID=1/extra",
            "/%ZZ/;UID=1",
            "/INBOX/;UID=1/;PARTIAL=+5",
            "/INBOX",
            "INBOX/;UID=1",
            "",
        ] {
            assert_eq!(parse_url(bad, "mx.contoso.com"), None, "{bad}");
        }
    }
}
