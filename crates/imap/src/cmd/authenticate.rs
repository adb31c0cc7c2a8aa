//! AUTHENTICATE PLAIN (RFC 9051 §6.2.2, RFC 4616), with the initial
//! response on the command line (SASL-IR, RFC 4959) or after a `+`.

use imap_codec::AuthenticateDataCodec;
use imap_codec::decode::Decoder;
use imap_codec::imap_types::auth::{AuthMechanism, AuthenticateData};

use crate::conn::Incoming;
use crate::respond::{Status, status};
use crate::session::{Flow, Session};

impl Session {
    pub(crate) async fn authenticate(
        &mut self,
        tag: &str,
        mechanism: AuthMechanism<'static>,
        initial: Option<Vec<u8>>,
    ) -> Flow {
        if mechanism != AuthMechanism::Plain {
            self.fail(status(Some(tag), Status::No, None, "Unsupported mechanism: use PLAIN"));
            return Flow::Continue;
        }
        if !self.auth_allowed() {
            self.refuse_plaintext(tag);
            return Flow::Continue;
        }
        let response = match initial {
            Some(response) => response,
            None => {
                self.conn.send(b"+ \r\n");
                let limit = self.server.config.login_timeout;
                let bytes = match tokio::time::timeout(limit, self.conn.next_message()).await {
                    Err(_elapsed) => return Flow::Close,
                    Ok(Ok(Incoming::Message(bytes))) => bytes,
                    Ok(Ok(Incoming::TooBig(_))) => {
                        self.fail(status(
                            Some(tag),
                            Status::Bad,
                            Some("TOOBIG"),
                            "Authentication data too long",
                        ));
                        return Flow::Continue;
                    }
                    Ok(Ok(
                        Incoming::Closed
                        | Incoming::Overflow
                        | Incoming::NoMemory(_)
                        | Incoming::NoMemoryMidStream,
                    ))
                    | Ok(Err(_)) => return Flow::Close,
                };
                match AuthenticateDataCodec::new().decode(&bytes) {
                    Ok(([], AuthenticateData::Continue(data))) => data.declassify().to_vec(),
                    Ok(([], AuthenticateData::Cancel)) => {
                        // RFC 9051 §6.2.2: a cancelled exchange gets BAD.
                        self.fail(status(Some(tag), Status::Bad, None, "Authentication cancelled"));
                        return Flow::Continue;
                    }
                    _ => {
                        self.fail(status(
                            Some(tag),
                            Status::Bad,
                            None,
                            "Authentication data must be one line of base64",
                        ));
                        return Flow::Continue;
                    }
                }
            }
        };
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
}
