//! One IMAP session: the state (RFC 9051 §3), the command loop, and how it
//! ends (LOGOUT, autologout, shutdown, too many errors).

use std::net::SocketAddr;
use std::sync::Arc;

use imap_codec::CommandCodec;
use imap_codec::decode::Decoder;
use imap_codec::imap_types::IntoStatic;
use imap_codec::imap_types::command::{Command, CommandBody};
use mailroom_types::{MailboxId, PrincipalId};

use crate::Imap;
use crate::conn::{Conn, Incoming, Io};
use crate::respond::{Status, status, untagged};

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Flow {
    Continue,
    Close,
}

/// Who signed in. The mailbox commands (next in issue 4) read it; until
/// they land only the sign-in itself does.
#[derive(Clone, Debug)]
#[allow(dead_code)]
pub(crate) struct SignedIn {
    pub principal: PrincipalId,
    pub mailbox: MailboxId,
    pub login: String,
}

#[derive(Debug)]
#[allow(dead_code)]
pub(crate) enum State {
    NotAuthenticated,
    Authenticated(SignedIn),
}

pub(crate) struct Session {
    pub server: Arc<Imap>,
    pub conn: Conn,
    pub peer: SocketAddr,
    pub id: u64,
    pub state: State,
    errors: u32,
}

impl Session {
    pub fn new(server: Arc<Imap>, io: Box<dyn Io>, peer: SocketAddr, implicit_tls: bool, id: u64) -> Self {
        let config = &server.config;
        let conn = Conn::new(io, implicit_tls, config.max_command_size, config.login_timeout);
        Session { server, conn, peer, id, state: State::NotAuthenticated, errors: 0 }
    }

    pub async fn run(mut self) {
        tracing::debug!(session = self.id, peer = %self.peer, "imap session start");
        let greeting =
            format!("OK [CAPABILITY {}] {} IMAP ready", self.capabilities(), self.server.config.hostname);
        self.conn.send(&untagged(&greeting));
        let mut shutdown = self.server.shutdown.clone();
        loop {
            let limit = match self.state {
                State::NotAuthenticated => self.server.config.login_timeout,
                State::Authenticated(_) => self.server.config.idle_timeout,
            };
            let read = tokio::select! {
                biased;
                _ = stopped(&mut shutdown) => {
                    self.conn.send(&untagged("BYE Server shutting down"));
                    break;
                }
                read = tokio::time::timeout(limit, self.conn.next_message()) => read,
            };
            let bytes = match read {
                Err(_elapsed) => {
                    // RFC 9051 §5.4: autologout after inactivity.
                    self.conn.send(&untagged("BYE Autologout; idle for too long"));
                    break;
                }
                Ok(Err(err)) => {
                    tracing::debug!(session = self.id, error = %err, "imap read failed");
                    break;
                }
                Ok(Ok(Incoming::Closed)) => break,
                Ok(Ok(Incoming::TooBig(tag))) => {
                    let limit = self.server.config.max_command_size;
                    let text = format!("Command too long (at most {limit} octets)");
                    self.fail(status(tag.as_deref(), Status::Bad, Some("TOOBIG"), &text));
                    if self.too_many_errors() {
                        break;
                    }
                    continue;
                }
                Ok(Ok(Incoming::Message(bytes))) => bytes,
            };
            let flow = match CommandCodec::new().decode(&bytes) {
                Ok(([], command)) => self.command(command.into_static()).await,
                _ => {
                    let tag = tag_of(&bytes);
                    self.fail(status(
                        tag.as_deref(),
                        Status::Bad,
                        None,
                        "Syntax error: the command could not be parsed",
                    ));
                    Flow::Continue
                }
            };
            if flow == Flow::Close || self.too_many_errors() {
                break;
            }
        }
        self.conn.close().await;
        tracing::debug!(session = self.id, "imap session end");
    }

    /// A NO or BAD that counts against the connection.
    pub fn fail(&mut self, response: Vec<u8>) {
        self.errors += 1;
        self.conn.send(&response);
    }

    fn too_many_errors(&mut self) -> bool {
        if self.errors >= self.server.config.max_errors {
            self.conn.send(&untagged("BYE Too many errors, closing connection"));
            return true;
        }
        false
    }

    /// Whether credentials may be sent on this connection: over TLS, from
    /// loopback, or when the configuration allows plaintext.
    pub fn auth_allowed(&self) -> bool {
        self.conn.is_tls() || self.peer.ip().is_loopback() || self.server.config.allow_plaintext_auth
    }

    /// What this server offers in the current state (RFC 9051 §7.2.2).
    pub fn capabilities(&self) -> String {
        let mut caps = vec!["IMAP4rev1", "IMAP4rev2", "LITERAL+", "ID", "NAMESPACE"];
        if matches!(self.state, State::NotAuthenticated) {
            if self.server.tls.is_some() && !self.conn.is_tls() {
                caps.push("STARTTLS");
            }
            if self.auth_allowed() {
                caps.extend(["AUTH=PLAIN", "SASL-IR"]);
            } else {
                caps.push("LOGINDISABLED");
            }
        }
        caps.join(" ")
    }

    async fn command(&mut self, command: Command<'static>) -> Flow {
        let tag = command.tag.inner().to_string();
        let authenticated = matches!(self.state, State::Authenticated(_));
        match command.body {
            CommandBody::Capability => self.capability(&tag),
            CommandBody::Noop => self.conn.send(&status(Some(&tag), Status::Ok, None, "NOOP completed")),
            CommandBody::Logout => return self.logout(&tag),
            CommandBody::Id { .. } => self.id(&tag),
            CommandBody::StartTLS => return self.starttls(&tag).await,
            CommandBody::Login { username, password } if !authenticated => {
                self.login(&tag, username.as_ref(), password.declassify().as_ref()).await
            }
            CommandBody::Authenticate { mechanism, initial_response } if !authenticated => {
                let initial = initial_response.map(|r| r.declassify().to_vec());
                return self.authenticate(&tag, mechanism, initial).await;
            }
            CommandBody::Login { .. } | CommandBody::Authenticate { .. } => {
                self.fail(status(Some(&tag), Status::Bad, None, "Already signed in"));
            }
            CommandBody::Namespace if authenticated => self.namespace(&tag),
            body => {
                let name = body.name();
                if authenticated {
                    self.fail(status(Some(&tag), Status::Bad, None, &format!("{name} is not supported yet")));
                } else {
                    self.fail(status(
                        Some(&tag),
                        Status::Bad,
                        None,
                        &format!("Sign in first: {name} needs LOGIN or AUTHENTICATE"),
                    ));
                }
            }
        }
        Flow::Continue
    }
}

/// The tag of an unparsable command, if it has a well-formed one.
fn tag_of(bytes: &[u8]) -> Option<String> {
    let end = bytes.iter().position(|&b| b == b' ' || b == b'\r' || b == b'\n')?;
    let tag = &bytes[..end];
    let valid = !tag.is_empty()
        && tag.iter().all(|&b| {
            b.is_ascii_graphic()
                && !matches!(b, b'(' | b')' | b'{' | b'%' | b'*' | b'"' | b'\\' | b'+' | b']')
        });
    valid.then(|| String::from_utf8_lossy(tag).into_owned())
}

async fn stopped(shutdown: &mut tokio::sync::watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stop| *stop).await;
}

#[cfg(test)]
mod tests {
    use super::tag_of;

    #[test]
    fn tags_of_unparsable_commands() {
        assert_eq!(tag_of(b"a1 FROB\r\n").as_deref(), Some("a1"));
        assert_eq!(tag_of(b"* FROB\r\n"), None);
        assert_eq!(tag_of(b"\r\n"), None);
    }
}
