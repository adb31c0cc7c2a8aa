//! Client self-configuration: the answers that let a mail or calendar client
//! set itself up from an address and a password alone.
//!
//! Each client family asks in its own way, so there is one builder per
//! family. They are pure: they take the listeners that are on
//! ([`ClientSettings`]) and return a document; routing, sign-in and content
//! types belong to the HTTP router, not here.
//!
//! - [`autoconfig`]: Thunderbird (and K-9, Evolution, KMail, which read the
//!   same file). Served at `GET /.well-known/autoconfig/mail/config-v1.1.xml`
//!   on the mail domain and `GET /mail/config-v1.1.xml?emailaddress=…` on
//!   `autoconfig.<domain>`.
//! - [`autodiscover_response`] and [`autodiscover_error`]: Outlook and the
//!   clients that copy it (POX Autodiscover). Served at
//!   `POST /autodiscover/autodiscover.xml` on `autodiscover.<domain>` or the
//!   domain; Outlook varies the case of the path (`/Autodiscover/Autodiscover.xml`),
//!   so it is matched in any case. [`autodiscover_request_address`] and
//!   [`autodiscover_request_schema`] read the request.
//! - [`mobileconfig`]: Apple Mail and Calendar (iOS, iPadOS, macOS), which
//!   take a configuration profile instead of asking. Downloaded by a signed-in
//!   user from the web pages (`/setup`, beside the admin center under
//!   `/admin/`) as `application/x-apple-aspen-config`: a profile names one
//!   person, so it is never handed out anonymously.
//! - [`dns_records`]: clients that look up SRV records (RFC 6186, RFC 6764).
//!   Served nowhere: shown to the administrator to put in the domain's zone.
//!
//! None of these documents carries a password. Every client signs in with
//! the full address as user name and the password over TLS (or STARTTLS).

use sha2::{Digest, Sha256};

/// Where mail and calendar clients reach this server: the host name from
/// `[server] hostname` and the port of each listener that is on.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientSettings {
    pub hostname: String,
    /// IMAP with STARTTLS.
    pub imap: Option<u16>,
    /// IMAP in implicit TLS.
    pub imaps: Option<u16>,
    /// Submission with STARTTLS.
    pub submission: Option<u16>,
    /// Submission in implicit TLS (RFC 8314).
    pub submissions: Option<u16>,
    pub http: Option<u16>,
    pub https: Option<u16>,
}

/// The response schema Outlook asks for in `AcceptableResponseSchema`; the
/// only one [`autodiscover_response`] writes. A request for another schema
/// (e.g. ActiveSync's `mobilesync`) is for a protocol Mailroom doesn't speak.
pub const OUTLOOK_RESPONSE_SCHEMA: &str =
    "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a";

const AUTODISCOVER_NAMESPACE: &str = "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006";

/// An Autodiscover request is a few hundred bytes; anything far bigger is
/// not one, and scanning it would only cost time.
const MAX_AUTODISCOVER_REQUEST: usize = 64 * 1024;

/// Where the CalDAV service lives (the dav crate's URL space).
const DAV_ROOT: &str = "/dav/";

/// Time to live of the suggested DNS records: an hour, so a change of host
/// reaches clients the same day without loading the resolvers.
const DNS_TTL: u32 = 3600;

/// How a listener protects the connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Security {
    /// TLS from the first byte (imaps, submissions, https).
    ImplicitTls,
    /// Plain text upgraded with STARTTLS before sign-in (imap, submission).
    StartTls,
}

/// One listener a client may use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Endpoint {
    port: u16,
    security: Security,
}

impl ClientSettings {
    /// The IMAP listeners that are on, implicit TLS first: RFC 8314
    /// prefers it, and clients take the first entry they can reach.
    fn imap_endpoints(&self) -> Vec<Endpoint> {
        endpoints(self.imaps, self.imap)
    }

    /// The submission listeners that are on, implicit TLS first (RFC 8314).
    fn submission_endpoints(&self) -> Vec<Endpoint> {
        endpoints(self.submissions, self.submission)
    }

    /// The web listener calendar clients should use: https when it is on,
    /// plain http only when nothing better exists. `true` means TLS.
    fn calendar_listener(&self) -> Option<(bool, u16)> {
        match (self.https, self.http) {
            (Some(port), _) => Some((true, port)),
            (None, Some(port)) => Some((false, port)),
            (None, None) => None,
        }
    }

    /// The CalDAV root as an absolute URL, the port left out when it is the
    /// scheme's default so the URL matches what people type.
    fn calendar_url(&self) -> Option<String> {
        let (tls, port) = self.calendar_listener()?;
        let (scheme, default_port) = if tls { ("https", 443) } else { ("http", 80) };
        Some(if port == default_port {
            format!("{scheme}://{}{DAV_ROOT}", self.hostname)
        } else {
            format!("{scheme}://{}:{port}{DAV_ROOT}", self.hostname)
        })
    }
}

fn endpoints(implicit: Option<u16>, starttls: Option<u16>) -> Vec<Endpoint> {
    let implicit = implicit.map(|port| Endpoint { port, security: Security::ImplicitTls });
    let starttls = starttls.map(|port| Endpoint { port, security: Security::StartTls });
    implicit.into_iter().chain(starttls).collect()
}

// ---------------------------------------------------------------------------
// Thunderbird autoconfig

/// The Thunderbird autoconfig document (`config-v1.1.xml`) for `domain`.
///
/// Format: the Thunderbird autoconfig file format, `clientConfig`
/// version 1.1 (<https://wiki.mozilla.org/Thunderbird:Autoconfiguration:ConfigFileFormat>).
/// One `incomingServer` per IMAP listener and one `outgoingServer` per
/// submission listener, implicit TLS (`SSL`) before `STARTTLS`, because the
/// client tries them in document order. The user name is the placeholder
/// `%EMAILADDRESS%`, which the client replaces with what the user typed, so
/// one document serves every mailbox of the domain. When a web listener is
/// on, a `calendar` element (a sibling of `emailProvider`, as the format
/// defines it) points at the CalDAV root.
pub fn autoconfig(settings: &ClientSettings, domain: &str) -> String {
    let host = settings.hostname.as_str();
    let short_name = domain.split('.').next().unwrap_or(domain);

    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str("<clientConfig version=\"1.1\">\n");
    out.push_str(&format!("  <emailProvider id=\"{}\">\n", escape(domain)));
    element(&mut out, 4, "domain", domain);
    element(&mut out, 4, "displayName", domain);
    element(&mut out, 4, "displayShortName", short_name);
    let incoming = settings.imap_endpoints().into_iter().map(|endpoint| ("incomingServer", "imap", endpoint));
    let outgoing =
        settings.submission_endpoints().into_iter().map(|endpoint| ("outgoingServer", "smtp", endpoint));
    for (tag, kind, endpoint) in incoming.chain(outgoing) {
        let socket_type = match endpoint.security {
            Security::ImplicitTls => "SSL",
            Security::StartTls => "STARTTLS",
        };
        out.push_str(&format!("    <{tag} type=\"{kind}\">\n"));
        element(&mut out, 6, "hostname", host);
        element(&mut out, 6, "port", &endpoint.port.to_string());
        element(&mut out, 6, "socketType", socket_type);
        element(&mut out, 6, "username", "%EMAILADDRESS%");
        // The password goes inside TLS, so the plain SASL mechanisms are
        // the right ones ("password-encrypted" would mean CRAM-MD5).
        element(&mut out, 6, "authentication", "password-cleartext");
        out.push_str(&format!("    </{tag}>\n"));
    }
    out.push_str("  </emailProvider>\n");
    if let Some(url) = settings.calendar_url() {
        out.push_str("  <calendar type=\"caldav\">\n");
        element(&mut out, 4, "username", "%EMAILADDRESS%");
        element(&mut out, 4, "authentication", "http-basic");
        element(&mut out, 4, "serverURL", &url);
        out.push_str("  </calendar>\n");
    }
    out.push_str("</clientConfig>\n");
    out
}

// ---------------------------------------------------------------------------
// Outlook POX Autodiscover

/// The address in an Outlook POX Autodiscover request: the text of its
/// `EMailAddress` element (MS-OXDSCLI, the request; schema
/// `…/outlook/requestschema/2006`).
///
/// The scan is small and tolerant rather than a full XML parser: it skips
/// the declaration, comments and CDATA sections, accepts the element with or
/// without a namespace prefix (`<a:EMailAddress>`), decodes the predefined
/// and numeric character references, and trims surrounding white space.
/// Names are case-sensitive, as in the schema. `None` for a body over
/// 64 KiB, one that is not UTF-8, or one without a non-empty, properly closed
/// element. The text is not validated as an address: the caller parses it.
pub fn autodiscover_request_address(body: &[u8]) -> Option<String> {
    request_element_text(body, "EMailAddress")
}

/// The `AcceptableResponseSchema` of an Outlook POX Autodiscover request
/// (MS-OXDSCLI), scanned as in [`autodiscover_request_address`].
/// Outlook sends [`OUTLOOK_RESPONSE_SCHEMA`].
pub fn autodiscover_request_schema(body: &[u8]) -> Option<String> {
    request_element_text(body, "AcceptableResponseSchema")
}

/// The POX Autodiscover answer for `address` (MS-OXDSCLI, the response;
/// schema [`OUTLOOK_RESPONSE_SCHEMA`]): an `email` account with one `IMAP`
/// and one `SMTP` `Protocol`.
///
/// Outlook sets up one server per direction, so one protocol of each type
/// is given: when both kinds of listener are on, the implicit-TLS one
/// (RFC 8314). Implicit TLS is written `<SSL>on</SSL>`; STARTTLS is `<Encryption>TLS</Encryption>`,
/// which takes the place of `SSL` (MS-OXDSCLI: `Encryption` overrides it).
/// The login name is the full address. An empty `display_name` falls back to
/// the address, since Outlook shows it as the account's name.
pub fn autodiscover_response(settings: &ClientSettings, address: &str, display_name: &str) -> String {
    let display_name = if display_name.trim().is_empty() { address } else { display_name };
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
    out.push_str(&format!("<Autodiscover xmlns=\"{AUTODISCOVER_NAMESPACE}\">\n"));
    out.push_str(&format!("  <Response xmlns=\"{OUTLOOK_RESPONSE_SCHEMA}\">\n"));
    out.push_str("    <User>\n");
    element(&mut out, 6, "DisplayName", display_name);
    out.push_str("    </User>\n");
    out.push_str("    <Account>\n");
    element(&mut out, 6, "AccountType", "email");
    element(&mut out, 6, "Action", "settings");
    let protocols = [("IMAP", settings.imap_endpoints()), ("SMTP", settings.submission_endpoints())];
    for (kind, endpoints) in protocols {
        // Endpoints come implicit TLS first, so the first is the one to give.
        let Some(endpoint) = endpoints.first() else { continue };
        out.push_str("      <Protocol>\n");
        element(&mut out, 8, "Type", kind);
        element(&mut out, 8, "Server", &settings.hostname);
        element(&mut out, 8, "Port", &endpoint.port.to_string());
        element(&mut out, 8, "DomainRequired", "off");
        element(&mut out, 8, "LoginName", address);
        element(&mut out, 8, "SPA", "off");
        match endpoint.security {
            Security::ImplicitTls => element(&mut out, 8, "SSL", "on"),
            Security::StartTls => element(&mut out, 8, "Encryption", "TLS"),
        }
        element(&mut out, 8, "AuthRequired", "on");
        out.push_str("      </Protocol>\n");
    }
    out.push_str("    </Account>\n");
    out.push_str("  </Response>\n");
    out.push_str("</Autodiscover>\n");
    out
}

/// A POX Autodiscover error (MS-OXDSCLI, the error response): `code` is
/// e.g. `600` (invalid request) or `601` (requested schema not available),
/// `message` its text.
///
/// `Time` is the current time of day in UTC, as Exchange writes it. `Id`
/// is derived from the code and message, so the same failure carries the
/// same id in every report a user forwards.
pub fn autodiscover_error(code: u16, message: &str) -> String {
    let time = chrono::Utc::now().format("%H:%M:%S%.6f").to_string();
    let digest = Sha256::digest(format!("{code} {message}").as_bytes());
    let id = u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]);
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
    out.push_str(&format!("<Autodiscover xmlns=\"{AUTODISCOVER_NAMESPACE}\">\n"));
    out.push_str("  <Response>\n");
    out.push_str(&format!("    <Error Time=\"{}\" Id=\"{id}\">\n", escape(&time)));
    element(&mut out, 6, "ErrorCode", &code.to_string());
    element(&mut out, 6, "Message", message);
    out.push_str("      <DebugData />\n");
    out.push_str("    </Error>\n");
    out.push_str("  </Response>\n");
    out.push_str("</Autodiscover>\n");
    out
}

/// The text of the first element named `name` (any prefix), or `None`.
fn request_element_text(body: &[u8], name: &str) -> Option<String> {
    if body.len() > MAX_AUTODISCOVER_REQUEST {
        return None;
    }
    let text = std::str::from_utf8(body).ok()?;
    let mut rest = text;
    // Every step moves `rest` forward past a `<`, so the scan is linear.
    while let Some(lt) = rest.find('<') {
        rest = &rest[lt..];
        // Markup that may hold a lookalike tag is skipped whole, so a
        // commented-out address is never taken for the real one.
        if let Some(after) = rest.strip_prefix("<!--") {
            rest = &after[after.find("-->")? + 3..];
            continue;
        }
        if let Some(after) = rest.strip_prefix("<![CDATA[") {
            rest = &after[after.find("]]>")? + 3..];
            continue;
        }
        if let Some(after) = rest.strip_prefix("<?") {
            rest = &after[after.find("?>")? + 2..];
            continue;
        }
        let end = tag_end(rest)?;
        let tag = &rest[1..end];
        rest = &rest[end + 1..];
        // End tags, `<!DOCTYPE …>` and empty elements hold no text.
        if tag.starts_with(['/', '!']) || tag.ends_with('/') {
            continue;
        }
        let qualified = tag.split_once(|c: char| c.is_ascii_whitespace()).map_or(tag, |(name, _)| name);
        let local = qualified.rsplit_once(':').map_or(qualified, |(_, local)| local);
        if local != name {
            continue;
        }
        // Text only: the element must close, with the same qualified name,
        // at the next tag.
        let content_end = rest.find('<')?;
        let after_close = rest[content_end..].strip_prefix("</")?.strip_prefix(qualified)?;
        if !after_close.trim_start().starts_with('>') {
            return None;
        }
        let value = unescape(rest[..content_end].trim())?;
        return (!value.is_empty()).then_some(value);
    }
    None
}

/// The index of the `>` closing the tag that starts `tag` (at its `<`),
/// skipping quoted attribute values, which may contain `>`.
fn tag_end(tag: &str) -> Option<usize> {
    let mut quote = None;
    for (i, c) in tag.char_indices().skip(1) {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '>') => return Some(i),
            _ => {}
        }
    }
    None
}

/// Decodes XML character references: the five predefined entities and
/// `&#N;` / `&#xN;`. `None` for anything else, which no valid request has.
fn unescape(text: &str) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        let semicolon = after.find(';')?;
        let decoded = match &after[..semicolon] {
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "quot" => '"',
            "apos" => '\'',
            reference => {
                let number = reference.strip_prefix('#')?;
                let code = match number.strip_prefix('x') {
                    Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                    None => number.parse().ok()?,
                };
                char::from_u32(code)?
            }
        };
        out.push(decoded);
        rest = &after[semicolon + 1..];
    }
    out.push_str(rest);
    Some(out)
}

// ---------------------------------------------------------------------------
// Apple configuration profile

/// An Apple configuration profile (`.mobileconfig`, an XML property list)
/// that adds `address`'s mail account and, when a web listener is on, its
/// calendar account.
///
/// Format: Apple's Configuration Profile Reference — a top-level payload of
/// type `Configuration` whose `PayloadContent` holds a
/// `com.apple.mail.managed` payload (when both an IMAP and a submission
/// listener are on: iOS refuses a mail account without either) and a
/// `com.apple.caldav.account` payload. The profile holds no password: the
/// device asks for it once at installation and uses it for both servers.
///
/// Identifiers and UUIDs are derived from the host name and the address,
/// so installing a fresh profile replaces the earlier one instead of adding
/// a second account. `UseSSL` is true for a STARTTLS-only listener too: Apple
/// Mail then negotiates STARTTLS rather than sending the password in clear.
pub fn mobileconfig(settings: &ClientSettings, address: &str, display_name: &str) -> String {
    let display_name = if display_name.trim().is_empty() { address } else { display_name };
    let host = settings.hostname.as_str();
    let identity = format!("{}\0{}", host.to_ascii_lowercase(), address.to_lowercase());
    let digest = Sha256::digest(identity.as_bytes());
    let short_hash: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    let base_identifier = format!("{}.mailroom.{short_hash}", reverse_dns(host));

    let mut content = Vec::new();
    let incoming = settings.imap_endpoints().first().copied();
    let outgoing = settings.submission_endpoints().first().copied();
    if let (Some(incoming), Some(outgoing)) = (incoming, outgoing) {
        let identifier = format!("{base_identifier}.mail");
        content.push(Plist::Dict(vec![
            ("EmailAccountDescription", Plist::string(address)),
            ("EmailAccountName", Plist::string(display_name)),
            ("EmailAccountType", Plist::string("EmailTypeIMAP")),
            ("EmailAddress", Plist::string(address)),
            ("IncomingMailServerAuthentication", Plist::string("EmailAuthPassword")),
            ("IncomingMailServerHostName", Plist::string(host)),
            ("IncomingMailServerPortNumber", Plist::Integer(incoming.port)),
            ("IncomingMailServerUseSSL", Plist::Bool(true)),
            ("IncomingMailServerUsername", Plist::string(address)),
            ("OutgoingMailServerAuthentication", Plist::string("EmailAuthPassword")),
            ("OutgoingMailServerHostName", Plist::string(host)),
            ("OutgoingMailServerPortNumber", Plist::Integer(outgoing.port)),
            ("OutgoingMailServerUseSSL", Plist::Bool(true)),
            ("OutgoingMailServerUsername", Plist::string(address)),
            ("OutgoingPasswordSameAsIncomingPassword", Plist::Bool(true)),
            ("PayloadDescription", Plist::string(&format!("Mail account {address}"))),
            ("PayloadDisplayName", Plist::string(&format!("Mail ({address})"))),
            ("PayloadIdentifier", Plist::string(&identifier)),
            ("PayloadType", Plist::string("com.apple.mail.managed")),
            ("PayloadUUID", Plist::String(stable_uuid(&format!("{identity}\0mail")))),
            ("PayloadVersion", Plist::Integer(1)),
        ]));
    }
    if let Some((tls, port)) = settings.calendar_listener() {
        let identifier = format!("{base_identifier}.caldav");
        content.push(Plist::Dict(vec![
            ("CalDAVAccountDescription", Plist::string(&format!("Calendar ({address})"))),
            ("CalDAVHostName", Plist::string(host)),
            ("CalDAVPort", Plist::Integer(port)),
            (
                "CalDAVPrincipalURL",
                Plist::String(format!("{DAV_ROOT}principals/{}/", encode_segment(address))),
            ),
            ("CalDAVUseSSL", Plist::Bool(tls)),
            ("CalDAVUsername", Plist::string(address)),
            ("PayloadDescription", Plist::string(&format!("Calendar account {address}"))),
            ("PayloadDisplayName", Plist::string(&format!("Calendar ({address})"))),
            ("PayloadIdentifier", Plist::string(&identifier)),
            ("PayloadType", Plist::string("com.apple.caldav.account")),
            ("PayloadUUID", Plist::String(stable_uuid(&format!("{identity}\0caldav")))),
            ("PayloadVersion", Plist::Integer(1)),
        ]));
    }
    let profile = Plist::Dict(vec![
        ("PayloadContent", Plist::Array(content)),
        ("PayloadDescription", Plist::string(&format!("Mail and calendar for {address} on {host}"))),
        ("PayloadDisplayName", Plist::string(&format!("{display_name} ({address})"))),
        ("PayloadIdentifier", Plist::string(&base_identifier)),
        ("PayloadOrganization", Plist::string(host)),
        ("PayloadRemovalDisallowed", Plist::Bool(false)),
        ("PayloadType", Plist::string("Configuration")),
        ("PayloadUUID", Plist::String(stable_uuid(&format!("{identity}\0profile")))),
        ("PayloadVersion", Plist::Integer(1)),
    ]);

    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str(
        "<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" \
         \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n",
    );
    out.push_str("<plist version=\"1.0\">\n");
    profile.write(&mut out, 0);
    out.push_str("</plist>\n");
    out
}

/// The subset of property-list values a profile needs.
#[derive(Debug)]
enum Plist {
    String(String),
    Integer(u16),
    Bool(bool),
    Array(Vec<Plist>),
    Dict(Vec<(&'static str, Plist)>),
}

impl Plist {
    fn string(text: &str) -> Self {
        Plist::String(text.to_string())
    }

    /// Writes the value at `depth` tabs, as Apple's own tools indent.
    fn write(&self, out: &mut String, depth: usize) {
        let indent = "\t".repeat(depth);
        match self {
            Plist::String(text) => out.push_str(&format!("{indent}<string>{}</string>\n", escape(text))),
            Plist::Integer(number) => out.push_str(&format!("{indent}<integer>{number}</integer>\n")),
            Plist::Bool(true) => out.push_str(&format!("{indent}<true/>\n")),
            Plist::Bool(false) => out.push_str(&format!("{indent}<false/>\n")),
            Plist::Array(items) => {
                out.push_str(&format!("{indent}<array>\n"));
                for item in items {
                    item.write(out, depth + 1);
                }
                out.push_str(&format!("{indent}</array>\n"));
            }
            Plist::Dict(entries) => {
                out.push_str(&format!("{indent}<dict>\n"));
                for (key, value) in entries {
                    out.push_str(&format!("{indent}\t<key>{}</key>\n", escape(key)));
                    value.write(out, depth + 1);
                }
                out.push_str(&format!("{indent}</dict>\n"));
            }
        }
    }
}

/// A UUID that is a function of `name`: the first 16 bytes of its SHA-256,
/// with the version (5, name-based) and RFC 4122 variant bits set, written
/// 8-4-4-4-12 in upper-case hex as Apple's tools write them.
fn stable_uuid(name: &str) -> String {
    let digest = Sha256::digest(name.as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    bytes[6] = (bytes[6] & 0x0f) | 0x50;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02X}")).collect();
    format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..])
}

/// `mail.example.com` → `com.example.mail`, the reverse-DNS style profile
/// identifiers use.
fn reverse_dns(host: &str) -> String {
    let labels: Vec<&str> = host.trim_end_matches('.').split('.').rev().collect();
    labels.join(".").to_ascii_lowercase()
}

/// Percent-encodes one URL path segment the way the dav crate's URL space
/// does: RFC 3986 `pchar` stays (so an address keeps its `@`), everything
/// else becomes `%XX`.
fn encode_segment(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for byte in segment.bytes() {
        let keep = byte.is_ascii_alphanumeric() || b"-._~@!$'()*+,;=:".contains(&byte);
        if keep {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

// ---------------------------------------------------------------------------
// DNS

/// Every record `domain` needs: mail's (MX, SPF, DKIM `keys`, DMARC,
/// MTA-STS, TLS-RPT) and then the client-discovery ones of [`dns_records`].
pub fn domain_records(
    settings: &ClientSettings,
    domain: &str,
    keys: &[mailroom_core::directory::DkimKey],
) -> Vec<String> {
    let mut lines = mailroom_mailauth::records::mail_records(domain, &settings.hostname, keys);
    lines.extend(dns_records(settings, domain));
    lines
}

/// Zone-file lines that let clients find this server from the mail domain
/// alone, for the administrator to add to `domain`'s zone.
///
/// - SRV records for mail access and submission (RFC 6186 §3.1, §3.2:
///   `_imap._tcp`, `_imaps._tcp`, `_submission._tcp`) and for submission in
///   implicit TLS (RFC 8314 §5.1: `_submissions._tcp`). Implicit TLS gets
///   priority 0 and STARTTLS 10, so a client comparing priorities across the
///   pair prefers implicit TLS, as RFC 8314 asks.
/// - SRV records for CalDAV (RFC 6764 §3: `_caldavs._tcp`, `_caldav._tcp`),
///   each offered one with a `TXT "path=/dav/"` (RFC 6764 §4) so the client
///   skips the `/.well-known/caldav` redirect.
/// - A service whose listener is off gets the "not offered" record: target
///   `.`, port 0 (RFC 6186 §3.4, RFC 2782), so clients stop looking instead
///   of guessing ports.
/// - `autoconfig.<domain>` and `autodiscover.<domain>` CNAMEs to the host,
///   the names Thunderbird and Outlook fetch their documents from.
///
/// Lines starting with `;` are zone-file comments explaining each group.
pub fn dns_records(settings: &ClientSettings, domain: &str) -> Vec<String> {
    let domain = domain.trim_end_matches('.');
    let host = settings.hostname.trim_end_matches('.');
    let srv = |service: &str, priority: u16, port: Option<u16>| match port {
        Some(port) => format!("_{service}._tcp.{domain}. {DNS_TTL} IN SRV {priority} 1 {port} {host}."),
        None => format!("_{service}._tcp.{domain}. {DNS_TTL} IN SRV 0 0 0 ."),
    };
    let path = |service: &str| format!("_{service}._tcp.{domain}. {DNS_TTL} IN TXT \"path={DAV_ROOT}\"");

    let mut lines = vec![
        "; Mail clients (RFC 6186, RFC 8314): implicit TLS first; target \".\" = not offered".to_string(),
        srv("imaps", 0, settings.imaps),
        srv("imap", 10, settings.imap),
        srv("submissions", 0, settings.submissions),
        srv("submission", 10, settings.submission),
        "; Calendar clients (RFC 6764)".to_string(),
    ];
    for (service, priority, port) in [("caldavs", 0, settings.https), ("caldav", 10, settings.http)] {
        lines.push(srv(service, priority, port));
        if port.is_some() {
            lines.push(path(service));
        }
    }
    lines.push("; Thunderbird autoconfig and Outlook Autodiscover fetch from these names".to_string());
    lines.push(format!("autoconfig.{domain}. {DNS_TTL} IN CNAME {host}."));
    lines.push(format!("autodiscover.{domain}. {DNS_TTL} IN CNAME {host}."));
    lines
}

// ---------------------------------------------------------------------------
// XML text

/// Appends `<name>text</name>` on its own line, indented by `indent` spaces.
fn element(out: &mut String, indent: usize, name: &str, text: &str) {
    out.push_str(&format!("{:indent$}<{name}>{}</{name}>\n", "", escape(text)));
}

/// Escapes text for XML (and HTML) content and attribute values.
/// Characters XML 1.0 cannot carry at all, not even as references (most C0
/// controls, U+FFFE, U+FFFF; §2.2), are dropped rather than making the
/// document unreadable.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            '\u{0}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}' => {}
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};
    use std::io::Write;
    use std::process::{Command, Stdio};

    fn full() -> ClientSettings {
        ClientSettings {
            hostname: "mail.example.com".to_string(),
            imap: Some(143),
            imaps: Some(993),
            submission: Some(587),
            submissions: Some(465),
            http: Some(8080),
            https: Some(443),
        }
    }

    /// Only the implicit-TLS mail listeners; no web listener.
    fn implicit_only() -> ClientSettings {
        ClientSettings {
            hostname: "mail.example.com".to_string(),
            imaps: Some(993),
            submissions: Some(465),
            ..ClientSettings::default()
        }
    }

    /// Runs a Python script with `input` on its standard input and returns
    /// the JSON it prints: the documents are checked by real parsers.
    fn python(script: &str, input: &str) -> Value {
        let mut child = Command::new("python3")
            .arg("-c")
            .arg(script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run python3");
        child.stdin.take().expect("stdin").write_all(input.as_bytes()).expect("write to python3");
        let output = child.wait_with_output().expect("python3 output");
        assert!(
            output.status.success(),
            "python3 failed: {}\n--- input ---\n{input}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).expect("python3 prints JSON")
    }

    const AUTOCONFIG_PY: &str = r#"
import json, sys, xml.etree.ElementTree as ET
root = ET.fromstring(sys.stdin.buffer.read())
provider = root.find("emailProvider")
FIELDS = ("hostname", "port", "socketType", "username", "authentication")
def server(e):
    return [e.get("type")] + [e.findtext(k) for k in FIELDS]
print(json.dumps({
    "root": root.tag,
    "version": root.get("version"),
    "children": [c.tag for c in root],
    "id": provider.get("id"),
    "domain": provider.findtext("domain"),
    "displayName": provider.findtext("displayName"),
    "displayShortName": provider.findtext("displayShortName"),
    "incoming": [server(e) for e in provider.findall("incomingServer")],
    "outgoing": [server(e) for e in provider.findall("outgoingServer")],
    "calendar": [[e.get("type")] + [e.findtext(k) for k in ("serverURL", "username", "authentication")]
                 for e in root.findall("calendar")],
}))
"#;

    #[test]
    fn autoconfig_lists_every_listener_implicit_tls_first() {
        let parsed = python(AUTOCONFIG_PY, &autoconfig(&full(), "example.com"));
        let imap = |port: &str, socket: &str| {
            json!(["imap", "mail.example.com", port, socket, "%EMAILADDRESS%", "password-cleartext"])
        };
        let smtp = |port: &str, socket: &str| {
            json!(["smtp", "mail.example.com", port, socket, "%EMAILADDRESS%", "password-cleartext"])
        };
        assert_eq!(parsed["root"], "clientConfig");
        assert_eq!(parsed["version"], "1.1");
        assert_eq!(parsed["children"], json!(["emailProvider", "calendar"]));
        assert_eq!(parsed["id"], "example.com");
        assert_eq!(parsed["domain"], "example.com");
        assert_eq!(parsed["displayName"], "example.com");
        assert_eq!(parsed["displayShortName"], "example");
        assert_eq!(parsed["incoming"], json!([imap("993", "SSL"), imap("143", "STARTTLS")]));
        assert_eq!(parsed["outgoing"], json!([smtp("465", "SSL"), smtp("587", "STARTTLS")]));
        assert_eq!(
            parsed["calendar"],
            json!([["caldav", "https://mail.example.com/dav/", "%EMAILADDRESS%", "http-basic"]])
        );
    }

    #[test]
    fn autoconfig_with_listeners_off() {
        let parsed = python(AUTOCONFIG_PY, &autoconfig(&implicit_only(), "example.com"));
        assert_eq!(parsed["children"], json!(["emailProvider"]));
        assert_eq!(
            parsed["incoming"],
            json!([["imap", "mail.example.com", "993", "SSL", "%EMAILADDRESS%", "password-cleartext"]])
        );
        assert_eq!(
            parsed["outgoing"],
            json!([["smtp", "mail.example.com", "465", "SSL", "%EMAILADDRESS%", "password-cleartext"]])
        );
        assert_eq!(parsed["calendar"], json!([]));
    }

    #[test]
    fn autoconfig_calendar_url_over_plain_http_and_odd_ports() {
        let http_only = ClientSettings { http: Some(8080), ..implicit_only() };
        let parsed = python(AUTOCONFIG_PY, &autoconfig(&http_only, "example.com"));
        assert_eq!(parsed["calendar"][0][1], "http://mail.example.com:8080/dav/");
        let odd_https = ClientSettings { https: Some(8443), ..implicit_only() };
        let parsed = python(AUTOCONFIG_PY, &autoconfig(&odd_https, "example.com"));
        assert_eq!(parsed["calendar"][0][1], "https://mail.example.com:8443/dav/");
    }

    #[test]
    fn autoconfig_escapes_text_and_attributes() {
        let settings = ClientSettings { hostname: "h<&\"'>".to_string(), ..full() };
        let domain = "ex\"am<&>'ple";
        let parsed = python(AUTOCONFIG_PY, &autoconfig(&settings, domain));
        assert_eq!(parsed["id"], domain);
        assert_eq!(parsed["domain"], domain);
        assert_eq!(parsed["incoming"][0][1], "h<&\"'>");
    }

    const AUTODISCOVER_PY: &str = r#"
import json, sys, xml.etree.ElementTree as ET
OUTER = "{http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006}"
INNER = "{http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a}"
root = ET.fromstring(sys.stdin.buffer.read())
response = root.find(INNER + "Response")
account = response.find(INNER + "Account")
print(json.dumps({
    "root": root.tag == OUTER + "Autodiscover",
    "children": [c.tag.replace(INNER, "") for c in response],
    "displayName": response.findtext(INNER + "User/" + INNER + "DisplayName"),
    "accountType": account.findtext(INNER + "AccountType"),
    "action": account.findtext(INNER + "Action"),
    "protocols": [[[c.tag.replace(INNER, ""), c.text] for c in p]
                  for p in account.findall(INNER + "Protocol")],
}))
"#;

    fn protocol(kind: &str, port: &str, tls: (&str, &str)) -> Value {
        json!([
            ["Type", kind],
            ["Server", "mail.example.com"],
            ["Port", port],
            ["DomainRequired", "off"],
            ["LoginName", "ann@example.com"],
            ["SPA", "off"],
            [tls.0, tls.1],
            ["AuthRequired", "on"]
        ])
    }

    #[test]
    fn autodiscover_response_prefers_implicit_tls() {
        let parsed = python(AUTODISCOVER_PY, &autodiscover_response(&full(), "ann@example.com", "Ann"));
        assert_eq!(parsed["root"], true);
        assert_eq!(parsed["children"], json!(["User", "Account"]));
        assert_eq!(parsed["displayName"], "Ann");
        assert_eq!(parsed["accountType"], "email");
        assert_eq!(parsed["action"], "settings");
        assert_eq!(
            parsed["protocols"],
            json!([protocol("IMAP", "993", ("SSL", "on")), protocol("SMTP", "465", ("SSL", "on"))])
        );
    }

    #[test]
    fn autodiscover_response_starttls_only_uses_encryption_tls() {
        let settings = ClientSettings {
            hostname: "mail.example.com".to_string(),
            imap: Some(143),
            submission: Some(587),
            ..ClientSettings::default()
        };
        let parsed = python(AUTODISCOVER_PY, &autodiscover_response(&settings, "ann@example.com", "Ann"));
        assert_eq!(
            parsed["protocols"],
            json!([
                protocol("IMAP", "143", ("Encryption", "TLS")),
                protocol("SMTP", "587", ("Encryption", "TLS"))
            ])
        );
    }

    #[test]
    fn autodiscover_response_with_listeners_off_and_escaping() {
        let name = "Ann <&\"> O'Neil";
        let parsed =
            python(AUTODISCOVER_PY, &autodiscover_response(&implicit_only(), "ann@example.com", name));
        assert_eq!(parsed["displayName"], name);
        assert_eq!(
            parsed["protocols"],
            json!([protocol("IMAP", "993", ("SSL", "on")), protocol("SMTP", "465", ("SSL", "on"))])
        );
        let no_submission = ClientSettings { submissions: None, ..implicit_only() };
        let parsed = python(AUTODISCOVER_PY, &autodiscover_response(&no_submission, "ann@example.com", ""));
        assert_eq!(parsed["displayName"], "ann@example.com", "an empty name falls back to the address");
        assert_eq!(parsed["protocols"], json!([protocol("IMAP", "993", ("SSL", "on"))]));
    }

    #[test]
    fn autodiscover_error_shape() {
        let script = r#"
import json, sys, xml.etree.ElementTree as ET
NS = "{http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006}"
root = ET.fromstring(sys.stdin.buffer.read())
error = root.find(NS + "Response/" + NS + "Error")
print(json.dumps({
    "root": root.tag == NS + "Autodiscover",
    "children": [c.tag.replace(NS, "") for c in error],
    "code": error.findtext(NS + "ErrorCode"),
    "message": error.findtext(NS + "Message"),
    "debug": list(error.find(NS + "DebugData")),
    "time": error.get("Time"),
    "id": error.get("Id"),
}))
"#;
        let document = autodiscover_error(600, "Invalid <Request> & \"more\"");
        let parsed = python(script, &document);
        assert_eq!(parsed["root"], true);
        assert_eq!(parsed["children"], json!(["ErrorCode", "Message", "DebugData"]));
        assert_eq!(parsed["code"], "600");
        assert_eq!(parsed["message"], "Invalid <Request> & \"more\"");
        assert_eq!(parsed["debug"], json!([]));
        let time = parsed["time"].as_str().expect("Time");
        assert!(chrono::NaiveTime::parse_from_str(time, "%H:%M:%S%.f").is_ok(), "Time {time:?}");
        let id = parsed["id"].as_str().expect("Id");
        assert!(id.parse::<u32>().is_ok(), "Id {id:?}");
        let again = python(script, &autodiscover_error(600, "Invalid <Request> & \"more\""));
        assert_eq!(again["id"], parsed["id"], "the same failure has the same id");
        let other = python(script, &autodiscover_error(601, "Requested schema version not supported"));
        assert_ne!(other["id"], parsed["id"]);
    }

    const OUTLOOK_REQUEST: &str = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n\
        <Autodiscover xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006\">\r\n\
        \x20 <Request>\r\n\
        \x20   <EMailAddress>ann@example.com</EMailAddress>\r\n\
        \x20   <AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema>\r\n\
        \x20 </Request>\r\n\
        </Autodiscover>\r\n";

    #[test]
    fn autodiscover_request_from_outlook() {
        let body = OUTLOOK_REQUEST.as_bytes();
        assert_eq!(autodiscover_request_address(body).as_deref(), Some("ann@example.com"));
        assert_eq!(autodiscover_request_schema(body).as_deref(), Some(OUTLOOK_RESPONSE_SCHEMA));
    }

    #[test]
    fn autodiscover_request_with_namespace_prefixes() {
        let body = "<?xml version=\"1.0\"?>\n\
            <a:Autodiscover xmlns:a=\"http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006\">\
            <a:Request><a:EMailAddress xml:lang='en' note=\"a>b\">\n  bo&amp;b@example.com \n</a:EMailAddress >\
            <a:AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a\
            </a:AcceptableResponseSchema></a:Request></a:Autodiscover>";
        assert_eq!(autodiscover_request_address(body.as_bytes()).as_deref(), Some("bo&b@example.com"));
        assert_eq!(autodiscover_request_schema(body.as_bytes()).as_deref(), Some(OUTLOOK_RESPONSE_SCHEMA));
    }

    #[test]
    fn autodiscover_request_skips_comments_and_empty_elements() {
        let body = "<Autodiscover><Request><!-- <EMailAddress>decoy@example.com</EMailAddress> -->\
            <EMailAddress/><EMailAddress>&#97;&#x6E;n@example.com</EMailAddress></Request></Autodiscover>";
        assert_eq!(autodiscover_request_address(body.as_bytes()).as_deref(), Some("ann@example.com"));
        assert_eq!(autodiscover_request_schema(body.as_bytes()), None);
    }

    #[test]
    fn autodiscover_request_rejects_garbage() {
        let bodies: &[&[u8]] = &[
            b"",
            b"hello",
            b"\xff\xfe<\x00E\x00",
            b"<EMailAddress>ann@example.com",
            b"<EMailAddress>ann@example.com</Other>",
            b"<a:EMailAddress>ann@example.com</b:EMailAddress>",
            b"<EMailAddress>ann@example.com</EMailAddressX>",
            b"<EMailAddress><b>ann@example.com</b></EMailAddress>",
            b"<EMailAddress>   </EMailAddress>",
            b"<EMailAddress>ann&nbsp;@example.com</EMailAddress>",
            b"<EMailAddress>ann&#xD800;@example.com</EMailAddress>",
            b"<emailaddress>ann@example.com</emailaddress>",
            b"<!-- <EMailAddress>ann@example.com</EMailAddress>",
            b"<EMailAddress attr=\"unterminated>ann@example.com</EMailAddress>",
        ];
        for body in bodies {
            assert_eq!(autodiscover_request_address(body), None, "{}", String::from_utf8_lossy(body));
        }
    }

    #[test]
    fn autodiscover_request_size_bound() {
        // Padding after the request: the limit is on the body, not on where
        // the address sits in it.
        let pad = |len: usize| {
            let mut body = OUTLOOK_REQUEST.as_bytes().to_vec();
            body.resize(len, b' ');
            body
        };
        let at_limit = pad(64 * 1024);
        assert_eq!(autodiscover_request_address(&at_limit).as_deref(), Some("ann@example.com"));
        let over = pad(64 * 1024 + 1);
        assert_eq!(autodiscover_request_address(&over), None);
        assert_eq!(autodiscover_request_schema(&over), None);
    }

    const PLIST_PY: &str = r#"
import json, plistlib, sys
print(json.dumps(plistlib.loads(sys.stdin.buffer.read())))
"#;

    fn is_uuid(value: &Value) -> bool {
        let Some(text) = value.as_str() else { return false };
        let groups: Vec<&str> = text.split('-').collect();
        groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12])
            && groups.iter().all(|g| g.chars().all(|c| c.is_ascii_digit() || ('A'..='F').contains(&c)))
            && groups[2].starts_with('5')
            && groups[3].starts_with(['8', '9', 'A', 'B'])
    }

    #[test]
    fn mobileconfig_profile_structure() {
        let name = "Ann <&\"> O'Neil";
        let document = mobileconfig(&full(), "ann@example.com", name);
        assert!(document.contains(
            "<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">"
        ));
        let profile = python(PLIST_PY, &document);
        assert_eq!(profile["PayloadType"], "Configuration");
        assert_eq!(profile["PayloadVersion"], 1);
        assert_eq!(profile["PayloadRemovalDisallowed"], false);
        assert!(is_uuid(&profile["PayloadUUID"]), "{}", profile["PayloadUUID"]);
        let identifier = profile["PayloadIdentifier"].as_str().expect("identifier");
        assert!(identifier.starts_with("com.example.mail.mailroom."), "{identifier}");

        let content = profile["PayloadContent"].as_array().expect("PayloadContent");
        let types: Vec<&Value> = content.iter().map(|p| &p["PayloadType"]).collect();
        assert_eq!(types, [&json!("com.apple.mail.managed"), &json!("com.apple.caldav.account")]);

        let mail = &content[0];
        let expected_mail = json!({
            "EmailAccountDescription": "ann@example.com",
            "EmailAccountName": name,
            "EmailAccountType": "EmailTypeIMAP",
            "EmailAddress": "ann@example.com",
            "IncomingMailServerAuthentication": "EmailAuthPassword",
            "IncomingMailServerHostName": "mail.example.com",
            "IncomingMailServerPortNumber": 993,
            "IncomingMailServerUseSSL": true,
            "IncomingMailServerUsername": "ann@example.com",
            "OutgoingMailServerAuthentication": "EmailAuthPassword",
            "OutgoingMailServerHostName": "mail.example.com",
            "OutgoingMailServerPortNumber": 465,
            "OutgoingMailServerUseSSL": true,
            "OutgoingMailServerUsername": "ann@example.com",
            "OutgoingPasswordSameAsIncomingPassword": true,
            "PayloadVersion": 1,
        });
        for (key, value) in expected_mail.as_object().expect("object") {
            assert_eq!(&mail[key], value, "mail payload {key}");
        }
        assert_eq!(mail["PayloadIdentifier"], format!("{identifier}.mail"));

        let caldav = &content[1];
        let expected_caldav = json!({
            "CalDAVHostName": "mail.example.com",
            "CalDAVPort": 443,
            "CalDAVUseSSL": true,
            "CalDAVUsername": "ann@example.com",
            "CalDAVPrincipalURL": "/dav/principals/ann@example.com/",
            "CalDAVAccountDescription": "Calendar (ann@example.com)",
            "PayloadVersion": 1,
        });
        for (key, value) in expected_caldav.as_object().expect("object") {
            assert_eq!(&caldav[key], value, "caldav payload {key}");
        }
        assert_eq!(caldav["PayloadIdentifier"], format!("{identifier}.caldav"));

        let uuids = [&profile["PayloadUUID"], &mail["PayloadUUID"], &caldav["PayloadUUID"]];
        assert!(uuids.iter().all(|u| is_uuid(u)), "{uuids:?}");
        assert!(uuids[0] != uuids[1] && uuids[1] != uuids[2] && uuids[0] != uuids[2]);

        for payload in [&profile, mail, caldav] {
            let keys = payload.as_object().expect("payload").keys();
            let secrets: Vec<&String> = keys
                .filter(|key| key.ends_with("Password") && *key != "OutgoingPasswordSameAsIncomingPassword")
                .collect();
            assert!(secrets.is_empty(), "no password in the profile: {secrets:?}");
        }
    }

    #[test]
    fn mobileconfig_is_stable_per_host_and_address() {
        let first = python(PLIST_PY, &mobileconfig(&full(), "ann@example.com", "Ann"));
        let ids = |profile: &Value| {
            let content = profile["PayloadContent"].as_array().expect("content").clone();
            let mut ids = vec![profile["PayloadIdentifier"].clone(), profile["PayloadUUID"].clone()];
            for payload in content {
                ids.extend([payload["PayloadIdentifier"].clone(), payload["PayloadUUID"].clone()]);
            }
            ids
        };
        assert_eq!(ids(&first), ids(&python(PLIST_PY, &mobileconfig(&full(), "ann@example.com", "Ann"))));
        let capitalised = python(PLIST_PY, &mobileconfig(&full(), "Ann@Example.com", "Ann"));
        assert_eq!(ids(&first), ids(&capitalised), "same mailbox however written, same profile");
        let renamed = python(PLIST_PY, &mobileconfig(&full(), "ann@example.com", "Ann B."));
        assert_eq!(ids(&first), ids(&renamed), "a new name replaces the old profile");
        let other = python(PLIST_PY, &mobileconfig(&full(), "bob@example.com", "Bob"));
        assert_ne!(first["PayloadUUID"], other["PayloadUUID"]);
        assert_ne!(first["PayloadIdentifier"], other["PayloadIdentifier"]);
        let other_host = ClientSettings { hostname: "mx.example.org".to_string(), ..full() };
        let other_host = python(PLIST_PY, &mobileconfig(&other_host, "ann@example.com", "Ann"));
        assert_ne!(first["PayloadUUID"], other_host["PayloadUUID"]);
    }

    #[test]
    fn mobileconfig_with_listeners_off() {
        let profile = python(PLIST_PY, &mobileconfig(&implicit_only(), "ann@example.com", ""));
        let content = profile["PayloadContent"].as_array().expect("PayloadContent");
        assert_eq!(content.len(), 1, "no web listener, no calendar payload");
        assert_eq!(content[0]["PayloadType"], "com.apple.mail.managed");
        assert_eq!(content[0]["IncomingMailServerPortNumber"], 993);
        assert_eq!(content[0]["OutgoingMailServerPortNumber"], 465);
        assert_eq!(content[0]["EmailAccountName"], "ann@example.com");

        let starttls_and_http = ClientSettings {
            hostname: "mail.example.com".to_string(),
            imap: Some(143),
            submission: Some(587),
            http: Some(8080),
            ..ClientSettings::default()
        };
        let profile = python(PLIST_PY, &mobileconfig(&starttls_and_http, "a+b c@example.com", "A"));
        let content = profile["PayloadContent"].as_array().expect("PayloadContent");
        assert_eq!(content[0]["IncomingMailServerPortNumber"], 143);
        assert_eq!(content[0]["IncomingMailServerUseSSL"], true);
        assert_eq!(content[0]["OutgoingMailServerPortNumber"], 587);
        assert_eq!(content[1]["CalDAVPort"], 8080);
        assert_eq!(content[1]["CalDAVUseSSL"], false);
        assert_eq!(content[1]["CalDAVPrincipalURL"], "/dav/principals/a+b%20c@example.com/");

        let calendar_only = ClientSettings {
            hostname: "mail.example.com".to_string(),
            https: Some(443),
            ..Default::default()
        };
        let profile = python(PLIST_PY, &mobileconfig(&calendar_only, "ann@example.com", "Ann"));
        let types: Vec<&Value> = profile["PayloadContent"]
            .as_array()
            .expect("content")
            .iter()
            .map(|p| &p["PayloadType"])
            .collect();
        assert_eq!(
            types,
            [&json!("com.apple.caldav.account")],
            "no mail payload without both mail listeners"
        );
    }

    /// The records as (owner, type, data) with the TTL and class checked.
    fn records(lines: &[String]) -> Vec<(String, String, String)> {
        lines
            .iter()
            .filter(|line| !line.starts_with(';'))
            .map(|line| {
                let fields: Vec<&str> = line.splitn(5, ' ').collect();
                assert_eq!(fields.len(), 5, "{line}");
                assert_eq!((fields[1], fields[2]), ("3600", "IN"), "{line}");
                (fields[0].to_string(), fields[3].to_string(), fields[4].to_string())
            })
            .collect()
    }

    fn record(owner: &str, kind: &str, data: &str) -> (String, String, String) {
        (owner.to_string(), kind.to_string(), data.to_string())
    }

    #[test]
    fn dns_records_for_every_listener() {
        let lines = dns_records(&full(), "example.com");
        assert!(lines.iter().any(|line| line.starts_with(';')), "comments explain the groups");
        assert_eq!(
            records(&lines),
            vec![
                record("_imaps._tcp.example.com.", "SRV", "0 1 993 mail.example.com."),
                record("_imap._tcp.example.com.", "SRV", "10 1 143 mail.example.com."),
                record("_submissions._tcp.example.com.", "SRV", "0 1 465 mail.example.com."),
                record("_submission._tcp.example.com.", "SRV", "10 1 587 mail.example.com."),
                record("_caldavs._tcp.example.com.", "SRV", "0 1 443 mail.example.com."),
                record("_caldavs._tcp.example.com.", "TXT", "\"path=/dav/\""),
                record("_caldav._tcp.example.com.", "SRV", "10 1 8080 mail.example.com."),
                record("_caldav._tcp.example.com.", "TXT", "\"path=/dav/\""),
                record("autoconfig.example.com.", "CNAME", "mail.example.com."),
                record("autodiscover.example.com.", "CNAME", "mail.example.com."),
            ]
        );
    }

    #[test]
    fn dns_records_mark_services_that_are_off() {
        let settings = ClientSettings { hostname: "mail.example.com.".to_string(), ..implicit_only() };
        assert_eq!(
            records(&dns_records(&settings, "example.com.")),
            vec![
                record("_imaps._tcp.example.com.", "SRV", "0 1 993 mail.example.com."),
                record("_imap._tcp.example.com.", "SRV", "0 0 0 ."),
                record("_submissions._tcp.example.com.", "SRV", "0 1 465 mail.example.com."),
                record("_submission._tcp.example.com.", "SRV", "0 0 0 ."),
                record("_caldavs._tcp.example.com.", "SRV", "0 0 0 ."),
                record("_caldav._tcp.example.com.", "SRV", "0 0 0 ."),
                record("autoconfig.example.com.", "CNAME", "mail.example.com."),
                record("autodiscover.example.com.", "CNAME", "mail.example.com."),
            ]
        );
    }

    #[test]
    fn escape_covers_markup_and_drops_what_xml_cannot_carry() {
        assert_eq!(escape("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&apos;");
        assert_eq!(escape("tab\tline\nnul\u{0}bell\u{7}\u{ffff}é"), "tab\tline\nnulbellé");
        assert_eq!(unescape(&escape("<&\"'>é")).as_deref(), Some("<&\"'>é"));
    }

    #[test]
    fn stable_uuid_has_version_and_variant() {
        for name in ["", "a", "mail.example.com\0ann@example.com"] {
            let uuid = stable_uuid(name);
            assert!(is_uuid(&json!(uuid)), "{uuid}");
            assert_eq!(uuid, stable_uuid(name));
        }
        assert_ne!(stable_uuid("a"), stable_uuid("b"));
    }
}
