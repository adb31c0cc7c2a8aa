//! AUTHENTICATE (RFC 9051 §6.2.2) with PLAIN (RFC 4616) and SCRAM-SHA-256
//! (RFC 5802, RFC 7677), the initial response on the command line (SASL-IR,
//! RFC 4959) or after a `+`.
//!
//! SCRAM takes two round trips: the server's first message after the
//! client's, then the server's final message (its own proof) as one more
//! continuation, which the client answers with an empty line before the
//! tagged OK. The exchange itself — the rules, the throttle, the proof —
//! is the directory's (`Directory::sign_in_scram`).

use imap_codec::AuthenticateDataCodec;
use imap_codec::decode::Decoder;
use imap_codec::imap_types::auth::{AuthMechanism, AuthenticateData};
use mailroom_types::base64;

use crate::conn::Incoming;
use crate::respond::{Status, status};
use crate::session::{Flow, Session};

/// Why a SASL exchange stopped before the mechanism decided.
enum Stopped {
    /// The connection is to be closed (gone, timed out, out of memory).
    Close,
    /// The client gets a BAD with this code and text.
    Bad(Option<&'static str>, &'static str),
}

impl Session {
    pub(crate) async fn authenticate(
        &mut self,
        tag: &str,
        mechanism: AuthMechanism<'static>,
        initial: Option<Vec<u8>>,
    ) -> Flow {
        let scram = match mechanism {
            AuthMechanism::Plain => false,
            AuthMechanism::ScramSha256 => true,
            _ => {
                self.fail(status(
                    Some(tag),
                    Status::No,
                    None,
                    "Unsupported mechanism: use PLAIN or SCRAM-SHA-256",
                ));
                return Flow::Continue;
            }
        };
        if !self.auth_allowed() {
            self.refuse_plaintext(tag);
            return Flow::Continue;
        }
        let response = match initial {
            Some(response) => response,
            None => match self.sasl_step(b"").await {
                Ok(response) => response,
                Err(stopped) => return self.stopped(tag, stopped),
            },
        };
        if scram {
            return self.authenticate_scram(tag, &response).await;
        }
        let fields: Vec<&[u8]> = response.split(|&b| b == 0).collect();
        let [authzid, authcid, password] = fields.as_slice() else {
            self.fail(status(Some(tag), Status::Bad, None, "PLAIN needs authzid NUL authcid NUL password"));
            return Flow::Continue;
        };
        if !authzid.is_empty() && authzid != authcid {
            // Acting as someone else is Send As / Full Access, not sign-in.
            self.fail(status(Some(tag), Status::No, Some("AUTHORIZATIONFAILED"), "Sign in as yourself"));
            return Flow::Continue;
        }
        let (Ok(login), Ok(password)) = (std::str::from_utf8(authcid), std::str::from_utf8(password)) else {
            self.fail(status(Some(tag), Status::No, Some("AUTHENTICATIONFAILED"), "Authentication failed"));
            return Flow::Continue;
        };
        self.sign_in(tag, login, password, "AUTHENTICATE").await;
        Flow::Continue
    }

    async fn authenticate_scram(&mut self, tag: &str, client_first: &[u8]) -> Flow {
        let server = self.server.clone();
        let source = self.peer.ip();
        let mut stopped = None;
        let (session, stopped_at) = (&mut *self, &mut stopped);
        let step = move |server_first: String| async move {
            match session.sasl_step(server_first.as_bytes()).await {
                Ok(client_final) => Some(client_final),
                Err(why) => {
                    *stopped_at = Some(why);
                    None
                }
            }
        };
        let outcome =
            server.mail.directory().sign_in_scram(source, client_first, tokio::time::sleep, step).await;
        if let Some(why) = stopped {
            return self.stopped(tag, why);
        }
        match outcome {
            Ok((signed, server_final)) => match self.sasl_step(server_final.as_bytes()).await {
                // The client accepted the server's proof (an empty answer).
                Ok(answer) if answer.is_empty() => self.complete_sign_in(tag, signed, "AUTHENTICATE"),
                Ok(_) => {
                    self.fail(status(Some(tag), Status::Bad, None, "SCRAM's last answer must be empty"));
                }
                Err(why) => return self.stopped(tag, why),
            },
            Err(err) => self.refuse_sign_in(tag, err),
        }
        Flow::Continue
    }

    /// Sends `challenge` as a continuation (base64; empty for none) and
    /// reads the client's answer, decoded.
    async fn sasl_step(&mut self, challenge: &[u8]) -> Result<Vec<u8>, Stopped> {
        self.conn.send(format!("+ {}\r\n", base64::encode(challenge)).as_bytes());
        let limit = self.server.config.login_timeout;
        let bytes = match tokio::time::timeout(limit, self.conn.next_message()).await {
            Err(_elapsed) => return Err(Stopped::Close),
            Ok(Ok(Incoming::Message(bytes))) => bytes,
            Ok(Ok(Incoming::TooBig(_))) => {
                return Err(Stopped::Bad(Some("TOOBIG"), "Authentication data too long"));
            }
            Ok(Ok(
                Incoming::Closed | Incoming::Overflow | Incoming::NoMemory(_) | Incoming::NoMemoryMidStream,
            ))
            | Ok(Err(_)) => return Err(Stopped::Close),
        };
        match AuthenticateDataCodec::new().decode(&bytes) {
            Ok(([], AuthenticateData::Continue(data))) => Ok(data.declassify().to_vec()),
            // An empty line is an empty answer (RFC 9051 §6.2.2).
            _ if bytes == b"\r\n" => Ok(Vec::new()),
            // RFC 9051 §6.2.2: a cancelled exchange gets BAD.
            Ok(([], AuthenticateData::Cancel)) => Err(Stopped::Bad(None, "Authentication cancelled")),
            _ => Err(Stopped::Bad(None, "Authentication data must be one line of base64")),
        }
    }

    fn stopped(&mut self, tag: &str, why: Stopped) -> Flow {
        match why {
            Stopped::Close => Flow::Close,
            Stopped::Bad(code, text) => {
                self.fail(status(Some(tag), Status::Bad, code, text));
                Flow::Continue
            }
        }
    }
}
