//! The SMTP client side (RFC 5321 §3, §4): one connection, one message,
//! each recipient's answer kept apart so one refusal doesn't fail the rest.
//! STARTTLS (RFC 3207) is used whenever the peer offers it — opportunistic,
//! as between MTAs: the certificate isn't checked (there is no name to
//! check it against that the sender could trust without DANE/MTA-STS), and
//! a failed handshake falls back to a plain connection.

use std::sync::Arc;
use std::time::Duration;

use mailroom_types::EmailAddress;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio_rustls::rustls;

use crate::conn::Io;

/// How one recipient fared.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RecipientOutcome {
    Accepted,
    /// A 4xx: try again later.
    Temporary(String),
    /// A 5xx: give up and tell the sender.
    Permanent(String),
}

/// What went wrong for the whole message (connection, MAIL, DATA).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    pub permanent: bool,
    pub text: String,
}

impl Failure {
    fn temporary(text: impl Into<String>) -> Self {
        Failure { permanent: false, text: text.into() }
    }

    /// The server couldn't be reached at all: another MX host may be tried.
    pub fn unreachable(&self) -> bool {
        !self.permanent
            && (self.text.starts_with("could not connect") || self.text.starts_with("timed out connecting"))
    }
}

/// The longest reply line and the most lines of one reply accepted.
const MAX_REPLY_LINE: usize = 4096;
const MAX_REPLY_LINES: usize = 100;
/// RFC 5321 §4.5.3.2.6: the reply to the final dot may take 10 minutes;
/// giving up sooner risks a duplicate (the server may have taken it).
const DATA_END_WAIT: Duration = Duration::from_secs(600);
/// However slow the server, one delivery ends within this.
const DEADLINE: Duration = Duration::from_secs(30 * 60);

/// One message to one server.
pub struct Delivery<'a> {
    /// Host and port to connect to (and the name a verified certificate
    /// must carry).
    pub server: &'a str,
    /// The host's addresses, when the server's resolver found them; empty:
    /// `server` is resolved by the system.
    pub addresses: &'a [std::net::SocketAddr],
    /// Our name in EHLO.
    pub helo: &'a str,
    pub from: Option<&'a EmailAddress>,
    pub recipients: &'a [EmailAddress],
    pub message: &'a [u8],
    pub timeout: Duration,
    /// The smarthost's account, if it wants one (AUTH PLAIN, RFC 4954).
    pub auth: Option<(&'a str, &'a str)>,
    /// TLS that must be used and verified (credentials never travel without
    /// it; an MTA-STS policy in force asks for it); `None`: opportunistic.
    pub required_tls: Option<Arc<rustls::ClientConfig>>,
}

impl std::fmt::Debug for Delivery<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The smarthost password never reaches a log.
        f.debug_struct("Delivery")
            .field("server", &self.server)
            .field("from", &self.from)
            .field("recipients", &self.recipients)
            .field("bytes", &self.message.len())
            .field("auth_user", &self.auth.map(|(user, _)| user))
            .field("required_tls", &self.required_tls.is_some())
            .finish()
    }
}

/// A reply: its code and its text lines joined.
#[derive(Debug)]
struct Reply {
    code: u16,
    text: String,
}

impl Reply {
    fn line(&self) -> String {
        format!("{} {}", self.code, self.text)
    }
}

struct Session {
    io: BufReader<Box<dyn Io>>,
    timeout: Duration,
}

impl Session {
    /// One reply line, at most [`MAX_REPLY_LINE`] bytes: a server can't make
    /// the sender buffer without end.
    async fn line(&mut self, wait: Duration) -> Result<String, Failure> {
        let mut line = Vec::new();
        loop {
            let buffered = match tokio::time::timeout(wait, self.io.fill_buf()).await {
                Err(_) => return Err(Failure::temporary("timed out waiting for the server")),
                Ok(Err(err)) => return Err(Failure::temporary(format!("connection failed: {err}"))),
                Ok(Ok([])) => return Err(Failure::temporary("the server closed the connection")),
                Ok(Ok(buffered)) => buffered,
            };
            let (taken, done) = match buffered.iter().position(|&b| b == b'\n') {
                Some(at) => (at + 1, true),
                None => (buffered.len(), false),
            };
            line.extend_from_slice(&buffered[..taken]);
            self.io.consume(taken);
            if line.len() > MAX_REPLY_LINE {
                return Err(Failure::temporary("the server's reply is too long"));
            }
            if done {
                return Ok(String::from_utf8_lossy(&line).trim_end().to_string());
            }
        }
    }

    async fn reply(&mut self) -> Result<Reply, Failure> {
        self.reply_within(self.timeout).await
    }

    async fn reply_within(&mut self, wait: Duration) -> Result<Reply, Failure> {
        let mut text = Vec::new();
        loop {
            let line = self.line(wait).await?;
            let code = line.get(..3).and_then(|c| c.parse::<u16>().ok()).filter(|c| (200..600).contains(c));
            let Some(code) = code else {
                return Err(Failure::temporary(format!("malformed reply from the server: {line:?}")));
            };
            text.push(line.get(4..).unwrap_or_default().to_string());
            if line.as_bytes().get(3) != Some(&b'-') {
                return Ok(Reply { code, text: text.join(" ") });
            }
            if text.len() >= MAX_REPLY_LINES {
                return Err(Failure::temporary("the server's reply has too many lines"));
            }
        }
    }

    async fn send(&mut self, bytes: &[u8]) -> Result<(), Failure> {
        match tokio::time::timeout(self.timeout, self.io.get_mut().write_all(bytes)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(err)) => Err(Failure::temporary(format!("connection failed: {err}"))),
            Err(_) => Err(Failure::temporary("timed out sending to the server")),
        }
    }

    async fn command(&mut self, line: &str) -> Result<Reply, Failure> {
        self.send(format!("{line}\r\n").as_bytes()).await?;
        self.reply().await
    }
}

/// A reply that must be 2xx (or `expect`), else the message's failure.
fn require(reply: Reply, expect: u16, during: &str) -> Result<Reply, Failure> {
    if reply.code / 100 == expect / 100 {
        return Ok(reply);
    }
    Err(Failure { permanent: reply.code >= 500, text: format!("{during}: {}", reply.line()) })
}

/// Sends one message; each recipient's outcome in order, or the failure of
/// the whole attempt.
pub async fn deliver(delivery: &Delivery<'_>) -> Result<Vec<RecipientOutcome>, Failure> {
    let both = async {
        match attempt(delivery, true).await {
            Err(TlsFailed) => {
                attempt(delivery, false).await.unwrap_or_else(|TlsFailed| Err(unreachable_tls()))
            }
            Ok(result) => result,
        }
    };
    tokio::time::timeout(DEADLINE, both)
        .await
        .unwrap_or_else(|_| Err(Failure::temporary("the delivery took too long (30 minutes)")))
}

/// The TLS handshake failed: try again without STARTTLS.
struct TlsFailed;

fn unreachable_tls() -> Failure {
    Failure::temporary("TLS failed on a connection that didn't use it")
}

async fn attempt(
    d: &Delivery<'_>,
    use_tls: bool,
) -> Result<Result<Vec<RecipientOutcome>, Failure>, TlsFailed> {
    let connecting = async {
        if d.addresses.is_empty() {
            TcpStream::connect(d.server).await
        } else {
            TcpStream::connect(d.addresses).await
        }
    };
    let stream = match tokio::time::timeout(d.timeout, connecting).await {
        Ok(Ok(stream)) => stream,
        Ok(Err(err)) => {
            return Ok(Err(Failure::temporary(format!("could not connect to {}: {err}", d.server))));
        }
        Err(_) => return Ok(Err(Failure::temporary(format!("timed out connecting to {}", d.server)))),
    };
    let mut session = Session { io: BufReader::new(Box::new(stream) as Box<dyn Io>), timeout: d.timeout };
    let greeting = match session.reply().await {
        Ok(reply) => reply,
        Err(failure) => return Ok(Err(failure)),
    };
    if greeting.code != 220 {
        return Ok(Err(Failure {
            permanent: greeting.code >= 500,
            text: format!("greeting: {}", greeting.line()),
        }));
    }
    let mut ehlo = match session.command(&format!("EHLO {}", d.helo)).await {
        Ok(reply) => reply,
        Err(failure) => return Ok(Err(failure)),
    };
    if ehlo.code != 250 {
        ehlo = match session.command(&format!("HELO {}", d.helo)).await.and_then(|r| require(r, 250, "HELO"))
        {
            Ok(reply) => reply,
            Err(failure) => return Ok(Err(failure)),
        };
    }
    let offers = |reply: &Reply, word: &str| reply.text.split(' ').any(|w| w.eq_ignore_ascii_case(word));
    if d.required_tls.is_some() && !offers(&ehlo, "STARTTLS") {
        return Ok(Err(Failure::temporary(format!(
            "{} doesn't offer STARTTLS, which is required",
            d.server
        ))));
    }
    if (use_tls || d.required_tls.is_some()) && offers(&ehlo, "STARTTLS") {
        // With required TLS nothing falls back to plaintext: a failure is the delivery's.
        let required = d.required_tls.is_some();
        let tls_failed = |what: &str| {
            if required {
                Ok(Err(Failure::temporary(format!("TLS with {} failed: {what}", d.server))))
            } else {
                Err(TlsFailed)
            }
        };
        match session.command("STARTTLS").await {
            Ok(reply) if reply.code == 220 => {}
            _ => return tls_failed("STARTTLS refused"),
        }
        let plain = session.io.into_inner();
        let host = d.server.rsplit_once(':').map_or(d.server, |(h, _)| h).trim_matches(['[', ']']);
        let name = rustls::pki_types::ServerName::try_from(host.to_string())
            // "localhost" is a valid DNS name: this can't fail.
            .unwrap_or_else(|_| rustls::pki_types::ServerName::try_from("localhost").expect("a valid name"));
        let config = d.required_tls.clone().unwrap_or_else(opportunistic_tls);
        let connector = tokio_rustls::TlsConnector::from(config);
        let tls = match tokio::time::timeout(d.timeout, connector.connect(name, plain)).await {
            Ok(Ok(tls)) => tls,
            Ok(Err(err)) => return tls_failed(&err.to_string()),
            Err(_) => return tls_failed("timed out"),
        };
        session = Session { io: BufReader::new(Box::new(tls) as Box<dyn Io>), timeout: d.timeout };
        ehlo = match session.command(&format!("EHLO {}", d.helo)).await.and_then(|r| require(r, 250, "EHLO"))
        {
            Ok(reply) => reply,
            Err(failure) => return Ok(Err(failure)),
        };
    }
    if let Some((user, password)) = d.auth {
        if !offers(&ehlo, "AUTH") || !ehlo.text.to_ascii_uppercase().contains("PLAIN") {
            return Ok(Err(Failure::temporary(format!("{} doesn't offer AUTH PLAIN", d.server))));
        }
        let token = mailroom_mime::encode_base64(format!("\0{user}\0{password}").as_bytes());
        match session.command(&format!("AUTH PLAIN {token}")).await {
            Ok(reply) if reply.code == 235 => {}
            // Kept queued while the administrator fixes the account.
            Ok(reply) => {
                return Ok(Err(Failure::temporary(format!(
                    "the smarthost refused the credentials: {}",
                    reply.line()
                ))));
            }
            Err(failure) => return Ok(Err(failure)),
        }
    }
    let eight_bit = !d.message.is_ascii();
    if eight_bit && !offers(&ehlo, "8BITMIME") {
        // RFC 6152 §3: 8-bit data only to a server that takes it; the
        // message isn't rewritten into 7-bit here, so it bounces.
        let _ = session.command("QUIT").await;
        return Ok(Err(Failure {
            permanent: true,
            text: format!(
                "554 5.6.3 {} doesn't accept 8-bit data (no 8BITMIME) and the message has some",
                d.server
            ),
        }));
    }
    let mut mail = format!("MAIL FROM:<{}>", d.from.map(|a| a.to_string()).unwrap_or_default());
    if eight_bit {
        mail.push_str(" BODY=8BITMIME");
    }
    if d.from.is_some_and(|a| !a.to_string().is_ascii())
        || d.recipients.iter().any(|r| !r.to_string().is_ascii())
    {
        if !offers(&ehlo, "SMTPUTF8") {
            return Ok(Err(Failure {
                permanent: true,
                text: "the receiving server doesn't accept internationalized addresses (no SMTPUTF8)".into(),
            }));
        }
        mail.push_str(" SMTPUTF8");
    }
    if let Err(failure) = session.command(&mail).await.and_then(|r| require(r, 250, "MAIL FROM")) {
        return Ok(Err(failure));
    }
    let mut outcomes = Vec::with_capacity(d.recipients.len());
    for rcpt in d.recipients {
        let reply = match session.command(&format!("RCPT TO:<{rcpt}>")).await {
            Ok(reply) => reply,
            Err(failure) => return Ok(Err(failure)),
        };
        outcomes.push(match reply.code / 100 {
            2 => RecipientOutcome::Accepted,
            4 => RecipientOutcome::Temporary(reply.line()),
            _ => RecipientOutcome::Permanent(reply.line()),
        });
    }
    if !outcomes.contains(&RecipientOutcome::Accepted) {
        let _ = session.command("QUIT").await;
        return Ok(Ok(outcomes));
    }
    if let Err(failure) = session.command("DATA").await.and_then(|r| require(r, 354, "DATA")) {
        return Ok(Err(failure));
    }
    if let Err(failure) = session.send(&dot_stuffed(d.message)).await {
        return Ok(Err(failure));
    }
    // The end of data: its answer is every accepted recipient's (RFC 5321 §4.1.1.4).
    match session.reply_within(DATA_END_WAIT.max(d.timeout)).await {
        Ok(reply) if reply.code / 100 == 2 => {}
        Ok(reply) => {
            let outcome = if reply.code >= 500 {
                RecipientOutcome::Permanent(reply.line())
            } else {
                RecipientOutcome::Temporary(reply.line())
            };
            for o in outcomes.iter_mut().filter(|o| **o == RecipientOutcome::Accepted) {
                *o = outcome.clone();
            }
        }
        Err(failure) => return Ok(Err(failure)),
    }
    let _ = session.command("QUIT").await;
    Ok(Ok(outcomes))
}

/// The message as DATA sends it: lines starting with `.` doubled (RFC 5321
/// §4.5.2), a final CRLF, then the lone dot.
fn dot_stuffed(message: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(message.len() + 64);
    let mut line_start = true;
    for &b in message {
        if line_start && b == b'.' {
            out.push(b'.');
        }
        out.push(b);
        // After a bare CR too: some receivers take it for a line end, and
        // an unstuffed dot there could end the data early (SMTP smuggling).
        line_start = b == b'\n' || b == b'\r';
    }
    if !out.ends_with(b"\r\n") {
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b".\r\n");
    out
}

/// TLS that checks the server's certificate: against the public roots
/// (webpki-roots) and, if given, the PEM certificates in `extra` (a private
/// CA, or the smarthost's own certificate).
pub fn verified_tls(extra: &[u8]) -> Result<Arc<rustls::ClientConfig>, String> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    let mut reader = extra;
    for cert in rustls_pemfile::certs(&mut reader) {
        let cert = cert.map_err(|e| format!("a certificate couldn't be read: {e}"))?;
        roots.add(cert).map_err(|e| format!("a certificate isn't usable as a root: {e}"))?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// TLS for STARTTLS between MTAs: encryption against passive listeners,
/// without certificate checks (see the module notes).
fn opportunistic_tls() -> Arc<rustls::ClientConfig> {
    static CONFIG: std::sync::OnceLock<Arc<rustls::ClientConfig>> = std::sync::OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            let config = rustls::ClientConfig::builder_with_provider(provider.clone())
                .with_safe_default_protocol_versions()
                .map(|builder| {
                    builder
                        .dangerous()
                        .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider)))
                        .with_no_client_auth()
                });
            // The ring provider supports the default versions; if that ever
            // changed, a config that can't verify anything is still safe.
            Arc::new(config.unwrap_or_else(|_| {
                rustls::ClientConfig::builder()
                    .with_root_certificates(rustls::RootCertStore::empty())
                    .with_no_client_auth()
            }))
        })
        .clone()
}

/// Accepts any certificate, checking only that the handshake signatures are
/// valid for the key presented.
#[derive(Debug)]
struct AnyCertificate(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &rustls::pki_types::CertificateDer<'_>,
        _intermediates: &[rustls::pki_types::CertificateDer<'_>],
        _server_name: &rustls::pki_types::ServerName<'_>,
        _ocsp_response: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::dot_stuffed;

    #[test]
    fn dots_are_doubled_and_the_end_marked() {
        assert_eq!(dot_stuffed(b"a\r\n.b\r\n..c\r\n"), b"a\r\n..b\r\n...c\r\n.\r\n");
        assert_eq!(dot_stuffed(b".start"), b"..start\r\n.\r\n");
        assert_eq!(dot_stuffed(b"a\r.b\r\n"), b"a\r..b\r\n.\r\n", "after a bare CR too");
    }
}
