//! AUTH (RFC 4954) on the submission port: PLAIN (RFC 4616) and LOGIN,
//! checked by `core` — a shared mailbox's account or a blocked one fails
//! exactly like a wrong password (SPEC §1). Passwords cross the network
//! only inside TLS, except from loopback or when the configuration allows.

use mailroom_types::Secret;
use smtp_proto::{AUTH_LOGIN, AUTH_PLAIN};

use crate::conn::Line;
use crate::reply::Reply;
use crate::session::{Session, SignedIn};

/// Longest AUTH continuation line (base64 of a PLAIN response with a
/// 256-character password and long names, with room to spare).
const MAX_RESPONSE_LINE: usize = 4096;

impl Session {
    /// Whether credentials may be sent on this connection.
    pub(crate) fn auth_allowed(&self) -> bool {
        self.conn.is_tls() || self.peer.ip().is_loopback() || self.server.config.allow_plaintext_auth
    }

    pub(crate) async fn auth(&mut self, mechanism: u64, initial: String) {
        if self.user.is_some() {
            self.fail(Reply::bad_sequence("Already authenticated"));
            return;
        }
        if self.tx.is_some() {
            self.fail(Reply::bad_sequence("AUTH not allowed during a mail transaction"));
            return;
        }
        if self.helo.is_none() {
            self.fail(Reply::bad_sequence("Send EHLO first"));
            return;
        }
        if !self.auth_allowed() {
            self.fail(Reply::auth_needs_tls());
            return;
        }
        let credentials = match mechanism {
            AUTH_PLAIN => {
                let response = match self.response(initial, "").await {
                    Ok(response) => response,
                    Err(reply) => return self.fail(reply),
                };
                // authzid NUL authcid NUL password; acting as someone else
                // (an authzid that isn't the login) isn't offered.
                let mut parts = response.split(|&b| b == 0);
                match (parts.next(), parts.next(), parts.next(), parts.next()) {
                    (Some(authz), Some(login), Some(password), None)
                        if authz.is_empty() || authz.eq_ignore_ascii_case(login) =>
                    {
                        Some((login.to_vec(), password.to_vec()))
                    }
                    _ => None,
                }
            }
            AUTH_LOGIN => {
                // The prompts are "Username:" and "Password:", base64.
                let login = match self.response(initial, "VXNlcm5hbWU6").await {
                    Ok(login) => login,
                    Err(reply) => return self.fail(reply),
                };
                match self.response(String::new(), "UGFzc3dvcmQ6").await {
                    Ok(password) => Some((login, password)),
                    Err(reply) => return self.fail(reply),
                }
            }
            _ => return self.fail(Reply::auth_mechanism_unknown()),
        };
        let Some((login, password)) = credentials else { return self.fail(Reply::auth_failed()) };
        let (Ok(login), Ok(password)) = (String::from_utf8(login), String::from_utf8(password)) else {
            return self.fail(Reply::auth_failed());
        };
        let password = Secret::new(password);
        // Throttled per address and per account (core queues the attempt; we wait).
        let outcome =
            self.server.mail.directory().sign_in(self.peer.ip(), &login, &password, tokio::time::sleep).await;
        match outcome {
            Ok(signed_in) => {
                tracing::info!(session = %self.id, login = %login, "smtp signed in");
                self.user = Some(SignedIn { principal: signed_in.recipient.id, login });
                self.reply(Reply::auth_ok());
            }
            Err(mailroom_core::auth::AuthError::InvalidCredentials) => self.fail(Reply::auth_failed()),
            Err(mailroom_core::auth::AuthError::Core(err)) => {
                tracing::error!(session = %self.id, error = %err, "sign-in check failed");
                self.fail(Reply::local_error());
            }
        }
    }

    /// The client's answer to one challenge, decoded: the initial response
    /// if it came with the command, else what follows a `334 prompt`.
    async fn response(&mut self, initial: String, prompt: &str) -> Result<Vec<u8>, Reply> {
        let text = if initial.is_empty() {
            self.conn.reply(&Reply::plain(334, prompt));
            let wait = self.server.config.idle_timeout;
            match tokio::time::timeout(wait, self.conn.read_line(MAX_RESPONSE_LINE)).await {
                Ok(Ok(Line::Complete(line))) => String::from_utf8_lossy(line).trim_end().to_string(),
                Ok(Ok(Line::TooLong { .. })) => return Err(Reply::line_too_long(MAX_RESPONSE_LINE)),
                Ok(Ok(Line::Closed)) | Ok(Err(_)) | Err(_) => return Err(Reply::auth_cancelled()),
            }
        } else {
            initial
        };
        if text == "*" {
            return Err(Reply::auth_cancelled());
        }
        // RFC 4954 §4: "=" is an empty initial response.
        if text == "=" {
            return Ok(Vec::new());
        }
        mailroom_mime::decode_base64_strict(&text).ok_or_else(Reply::auth_bad_encoding)
    }
}
