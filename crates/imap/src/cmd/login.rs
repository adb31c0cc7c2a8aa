//! LOGIN (RFC 9051 §6.2.3) and the sign-in both it and AUTHENTICATE end in.
//!
//! `core` decides (SPEC §1): an unknown login, a wrong password, a blocked
//! account and a shared mailbox's own account all get the same
//! `NO [AUTHENTICATIONFAILED]`.

use mailroom_core::auth::AuthError;
use mailroom_core::directory::SignIn;
use mailroom_types::Secret;

use crate::respond::{Status, status};
use crate::session::{Session, SignedIn, State};

impl Session {
    pub(crate) async fn login(&mut self, tag: &str, username: &[u8], password: &[u8]) {
        if !self.auth_allowed() {
            self.refuse_plaintext(tag);
            return;
        }
        let (Ok(login), Ok(password)) = (std::str::from_utf8(username), std::str::from_utf8(password)) else {
            self.fail(status(Some(tag), Status::No, Some("AUTHENTICATIONFAILED"), "Authentication failed"));
            return;
        };
        self.sign_in(tag, login, password, "LOGIN").await;
    }

    pub(crate) fn refuse_plaintext(&mut self, tag: &str) {
        // RFC 9051 §6.2.3 / RFC 5530 PRIVACYREQUIRED.
        let response = status(
            Some(tag),
            Status::No,
            Some("PRIVACYREQUIRED"),
            "Sign in over TLS: use STARTTLS first, or the implicit-TLS port",
        );
        self.fail(response);
    }

    /// A sign-in the directory accepted (any mechanism): the session is
    /// signed in, and the client is told its capabilities anew.
    pub(crate) fn complete_sign_in(&mut self, tag: &str, signed: SignIn, command: &str) {
        let Some(mailbox) = signed.recipient.mailbox_id() else {
            self.fail(status(Some(tag), Status::No, Some("AUTHENTICATIONFAILED"), "Authentication failed"));
            return;
        };
        let login = signed.recipient.primary_address.to_string();
        tracing::info!(session = self.id, login = %login, command, "imap sign-in");
        self.conn.signed_in();
        self.state = State::Authenticated {
            user: SignedIn { principal: signed.recipient.id, mailbox, login },
            selected: None,
        };
        let caps = format!("CAPABILITY {}", self.capabilities());
        self.conn.send(&status(Some(tag), Status::Ok, Some(&caps), &format!("{command} completed")));
    }

    /// The answer to a sign-in the directory refused or couldn't decide.
    pub(crate) fn refuse_sign_in(&mut self, tag: &str, err: AuthError) {
        match err {
            AuthError::InvalidCredentials => {
                let text = AuthError::InvalidCredentials.to_string();
                self.fail(status(Some(tag), Status::No, Some("AUTHENTICATIONFAILED"), &text));
            }
            AuthError::Core(err) => {
                tracing::error!(session = self.id, error = %err, "sign-in failed in the store");
                self.fail(status(
                    Some(tag),
                    Status::No,
                    Some("UNAVAILABLE"),
                    "Temporary problem, try again later",
                ));
            }
        }
    }

    pub(crate) async fn sign_in(&mut self, tag: &str, login: &str, password: &str, command: &str) {
        let secret = Secret::new(password.to_string());
        // Throttled per address and per account (core queues the attempt; we wait).
        let outcome =
            self.server.mail.directory().sign_in(self.peer.ip(), login, &secret, tokio::time::sleep).await;
        match outcome {
            Ok(signed) => self.complete_sign_in(tag, signed, command),
            Err(err) => self.refuse_sign_in(tag, err),
        }
    }
}
