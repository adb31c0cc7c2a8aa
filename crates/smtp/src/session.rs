//! One SMTP session: its state, the command loop, and how errors end it.

use std::net::SocketAddr;
use std::sync::Arc;

use std::collections::BTreeSet;

use mailroom_types::{EmailAddress, MailboxId};
use smtp_proto::{Error as ParseError, Request};

use crate::Inbound;
use crate::body::BodyBuilder;
use crate::conn::{Conn, Io, Line};
use crate::reply::Reply;
use mailroom_core::budget::Reservation;

/// What the loop does after a command.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Flow {
    Continue,
    Close,
}

/// The mail transaction between MAIL and the end of data.
#[derive(Debug)]
pub(crate) struct Transaction {
    /// `None` is the null reverse-path `<>` (bounces).
    pub from: Option<EmailAddress>,
    pub smtputf8: bool,
    /// Recipients accepted so far, each once.
    pub rcpts: Vec<EmailAddress>,
    /// RCPT commands tried, accepted or not (for 503 vs 554 at DATA).
    pub rcpt_attempts: usize,
    /// Mailboxes the accepted recipients expand to.
    pub mailboxes: BTreeSet<MailboxId>,
    /// Recipients in other domains (submission): for the outbound queue.
    pub remote: Vec<EmailAddress>,
    /// A BDAT transfer in progress, with its share of the memory budget.
    pub chunks: Option<(BodyBuilder, Reservation)>,
}

/// Who signed in with AUTH (submission).
#[derive(Clone, Debug)]
pub(crate) struct SignedIn {
    pub principal: mailroom_types::PrincipalId,
    pub login: String,
}

pub(crate) struct Session {
    pub server: Arc<Inbound>,
    pub conn: Conn,
    pub peer: SocketAddr,
    pub id: String,
    /// The client's EHLO/HELO name; `None` until it greets.
    pub helo: Option<String>,
    pub esmtp: bool,
    pub tx: Option<Transaction>,
    /// Signed in with AUTH (submission only).
    pub user: Option<SignedIn>,
    errors: u32,
    /// Messages accepted so far, for their ids.
    messages: u32,
}

impl Session {
    pub fn new(server: Arc<Inbound>, io: Box<dyn Io>, peer: SocketAddr, id: String, tls: bool) -> Self {
        let io_timeout = server.config.idle_timeout;
        Session {
            server,
            conn: Conn::new(io, tls, io_timeout),
            peer,
            id,
            helo: None,
            esmtp: false,
            tx: None,
            user: None,
            errors: 0,
            messages: 0,
        }
    }

    /// Whether this is the submission service (else the inbound MX).
    pub fn submission(&self) -> bool {
        self.server.config.role == crate::Role::Submission
    }

    pub fn hostname(&self) -> &str {
        &self.server.config.hostname
    }

    pub async fn run(mut self) {
        tracing::debug!(session = %self.id, peer = %self.peer, "smtp session start");
        let greeting = Reply::plain(220, format!("{} ESMTP Mailroom ready", self.hostname()));
        self.conn.reply(&greeting);
        let mut shutdown = self.server.shutdown.clone();
        let limit = self.server.config.max_command_length;
        let idle = self.server.config.idle_timeout;
        loop {
            let read = tokio::select! {
                biased;
                _ = stopped(&mut shutdown) => {
                    let reply = Reply::shutting_down(self.hostname());
                    self.conn.reply(&reply);
                    break;
                }
                read = tokio::time::timeout(idle, self.conn.read_line(limit)) => read,
            };
            let line = match read {
                Err(_elapsed) => {
                    let reply = Reply::idle_timeout(self.hostname());
                    self.conn.reply(&reply);
                    break;
                }
                Ok(Err(err)) => {
                    tracing::debug!(session = %self.id, error = %err, "smtp read failed");
                    break;
                }
                Ok(Ok(Line::Closed)) => break,
                Ok(Ok(Line::TooLong { .. })) => {
                    self.fail(Reply::line_too_long(limit));
                    if self.too_many_errors() {
                        break;
                    }
                    continue;
                }
                Ok(Ok(Line::Complete(line))) => line.to_vec(),
            };
            if self.command(&line).await == Flow::Close || self.too_many_errors() {
                break;
            }
        }
        self.conn.close().await;
        tracing::debug!(session = %self.id, "smtp session end");
    }

    /// The id of the next message: the session's id and a sequence number.
    pub fn next_message_id(&mut self) -> String {
        self.messages += 1;
        format!("{}.{}", self.id, self.messages)
    }

    fn too_many_errors(&mut self) -> bool {
        if self.errors >= self.server.config.max_errors {
            self.conn.reply(&Reply::too_many_errors());
            return true;
        }
        false
    }

    /// Sends a refusal and counts it against the connection.
    pub fn fail(&mut self, reply: Reply) {
        self.errors += 1;
        self.conn.reply(&reply);
    }

    pub fn reply(&mut self, reply: Reply) {
        if !reply.is_positive() {
            self.errors += 1;
        }
        self.conn.reply(&reply);
    }

    async fn command(&mut self, line: &[u8]) -> Flow {
        let request = match Request::parse(&mut line.iter()) {
            Ok(request) => request.into_owned(),
            Err(err) => {
                self.fail(parse_error_reply(&err));
                return Flow::Continue;
            }
        };
        match request {
            Request::Ehlo { host } => self.ehlo(host, true),
            Request::Helo { host } => self.ehlo(host, false),
            Request::Mail { from } => self.mail(from),
            Request::Rcpt { to } => self.rcpt(to, line).await,
            Request::Data => return self.data().await,
            Request::Bdat { chunk_size, is_last } => return self.bdat(chunk_size, is_last).await,
            Request::StartTls => return self.starttls().await,
            Request::Rset => {
                self.tx = None;
                self.reply(Reply::ok());
            }
            Request::Noop { .. } => self.reply(Reply::ok()),
            Request::Quit => {
                let bye = Reply::bye(self.hostname());
                self.conn.reply(&bye);
                return Flow::Close;
            }
            Request::Vrfy { .. } => self.reply(Reply::cannot_vrfy()),
            Request::Help { .. } => self.reply(Reply::help()),
            Request::Auth { mechanism, initial_response } if self.submission() => {
                self.auth(mechanism, initial_response).await
            }
            Request::Auth { .. } => self.fail(Reply::auth_not_here()),
            Request::Expn { .. } => self.fail(Reply::not_implemented("EXPN")),
            Request::Lhlo { .. } => self.fail(Reply::unknown_command()),
            Request::Etrn { .. } | Request::Atrn { .. } | Request::Burl { .. } => {
                let name = request.name();
                self.fail(Reply::not_implemented(name))
            }
        }
        Flow::Continue
    }
}

/// Resolves once shutdown is signalled (or its sender is gone).
async fn stopped(shutdown: &mut tokio::sync::watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stop| *stop).await;
}

fn parse_error_reply(err: &ParseError) -> Reply {
    match err {
        ParseError::UnknownCommand => Reply::unknown_command(),
        ParseError::InvalidSenderAddress => Reply::bad_sender_syntax(),
        ParseError::InvalidRecipientAddress => Reply::bad_recipient_syntax(),
        ParseError::SyntaxError { syntax } => Reply::syntax(&format!("use {syntax}")),
        ParseError::InvalidParameter { param } => Reply::syntax(&format!("invalid parameter {param}")),
        ParseError::UnsupportedParameter { param } => Reply::unsupported_parameter(param),
        ParseError::ResponseTooLong => Reply::line_too_long(smtp_proto::request::receiver::MAX_LINE_LENGTH),
        ParseError::NeedsMoreData { .. } | ParseError::InvalidResponse { .. } => Reply::unknown_command(),
    }
}
