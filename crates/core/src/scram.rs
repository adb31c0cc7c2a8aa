//! SCRAM-SHA-256 (RFC 5802, RFC 7677): a sign-in in which the password never
//! crosses the wire and the server proves it knows the account too.
//!
//! What is stored per account is a verifier (RFC 5803's form,
//! `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`), derived
//! from the password whenever the password is set, and, for accounts whose
//! password was set before SCRAM existed here, at their next sign-in with
//! the password. It is kept beside the argon2id hash, and the store drops it
//! whenever that hash changes, so it can never outlive a password.
//!
//! The verifier costs an attacker who steals the database PBKDF2 at
//! [`ITERATIONS`] per guess, which is less than argon2id; that is SCRAM's
//! price everywhere (docs/security.md).
//!
//! This module is sans-I/O: [`ClientFirst::parse`] reads the client's first
//! message, [`ClientFirst::challenge`] answers it, [`Challenge::finish`]
//! checks the proof in the client's final message and returns the server's
//! final one. Channel binding (`-PLUS`) isn't offered; a client that asks
//! for it (`p=`) is refused.

use std::fmt;

use mailroom_types::Secret;
use mailroom_types::base64;
use sha2::{Digest, Sha256};

use crate::auth::{hmac_sha256 as hmac, same_bytes as same};

/// The mechanism's name in AUTHENTICATE and in capabilities.
pub const MECHANISM: &str = "SCRAM-SHA-256";

/// PBKDF2 iterations of new verifiers: RFC 7677 §4's minimum, as Dovecot,
/// Cyrus and PostgreSQL use. A client computes this once per password.
pub const ITERATIONS: u32 = 4096;

/// The most octets a SCRAM message may have: names, nonces and a proof fit
/// well within it.
pub const MAX_MESSAGE: usize = 2048;

/// Why an exchange failed. Every kind ends the sign-in with the same
/// answer to the client; the kind is for the log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScramError {
    /// The message doesn't follow RFC 5802 §7.
    Malformed,
    /// The client asked for channel binding (`p=`), which isn't offered.
    ChannelBinding,
    /// An authorization identity other than the login: acting as someone
    /// else is Send As / Full Access, not sign-in.
    OtherIdentity,
    /// The final message doesn't continue this exchange (nonce or GS2
    /// header changed).
    Mismatch,
    /// The proof is wrong: a wrong password, or an account without a
    /// verifier.
    Proof,
}

impl ScramError {
    pub fn as_str(self) -> &'static str {
        match self {
            ScramError::Malformed => "malformed SCRAM message",
            ScramError::ChannelBinding => "channel binding asked for",
            ScramError::OtherIdentity => "authorization identity is not the login",
            ScramError::Mismatch => "final message does not continue the exchange",
            ScramError::Proof => "wrong proof",
        }
    }
}

type Key = [u8; 32];

/// PBKDF2-HMAC-SHA-256 (RFC 8018 §5.2) of one block, SCRAM's `Hi()`.
fn hi(password: &[u8], salt: &[u8], iterations: u32) -> Key {
    let mut u = hmac(password, &[salt, &1u32.to_be_bytes()]);
    let mut out = u;
    for _ in 1..iterations {
        u = hmac(password, &[&u]);
        for (o, b) in out.iter_mut().zip(u) {
            *o ^= b;
        }
    }
    out
}

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    bytes.copy_from_slice(&crate::auth::random_bytes(N));
    bytes
}

/// A random key (the directory's key for decoy salts until the server
/// gives it one).
pub fn random_key() -> [u8; 32] {
    random_bytes()
}

/// A key for one purpose (`label`) from a secret: HMAC-SHA-256.
pub fn derive_key(secret: &[u8], label: &[u8]) -> [u8; 32] {
    hmac(secret, &[label])
}

/// What the server keeps to check a SCRAM-SHA-256 proof (RFC 5802 §3).
#[derive(Clone, PartialEq, Eq)]
pub struct ScramVerifier {
    salt: Vec<u8>,
    iterations: u32,
    stored_key: Key,
    server_key: Key,
}

impl fmt::Debug for ScramVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ScramVerifier(<redacted>)")
    }
}

impl ScramVerifier {
    /// A new verifier for `password`, with a fresh random salt.
    ///
    /// The password is used as its UTF-8 octets. RFC 5802 asks for SASLprep
    /// (RFC 4013) first; for the passwords people type — ASCII, and
    /// composed Unicode — that is the identity, and a client that maps
    /// differently fails to sign in with SCRAM and can use PLAIN.
    pub fn new(password: &Secret<String>) -> ScramVerifier {
        Self::derive(password.expose().as_bytes(), random_bytes::<16>().to_vec(), ITERATIONS)
    }

    fn derive(password: &[u8], salt: Vec<u8>, iterations: u32) -> ScramVerifier {
        let salted = hi(password, &salt, iterations);
        let client_key = hmac(&salted, &[b"Client Key"]);
        ScramVerifier {
            salt,
            iterations,
            stored_key: Sha256::digest(client_key).into(),
            server_key: hmac(&salted, &[b"Server Key"]),
        }
    }

    /// A stand-in for a login that has no verifier (unknown, blocked, shared,
    /// or not yet derived): its salt is stable for the login under `key`, so
    /// asking twice can't tell it from a real one, and no proof matches it.
    pub fn decoy(login: &str, key: &[u8]) -> ScramVerifier {
        let salt = hmac(key, &[b"scram decoy salt", login.to_lowercase().as_bytes()]);
        ScramVerifier {
            salt: salt[..16].to_vec(),
            iterations: ITERATIONS,
            stored_key: random_bytes(),
            server_key: random_bytes(),
        }
    }

    /// This verifier's salt and iterations with `other`'s keys: what a
    /// refused account presents, its salt unchanged and no proof matching.
    pub fn with_keys_of(&self, other: &ScramVerifier) -> ScramVerifier {
        ScramVerifier { stored_key: other.stored_key, server_key: other.server_key, ..self.clone() }
    }

    /// The stored form (RFC 5803 §3, without the leading scheme tag's braces).
    pub fn encode(&self) -> String {
        format!(
            "{MECHANISM}${}:{}${}:{}",
            self.iterations,
            base64::encode(&self.salt),
            base64::encode(&self.stored_key),
            base64::encode(&self.server_key)
        )
    }

    /// Reads [`Self::encode`]'s form; `None` for anything else.
    pub fn parse(text: &str) -> Option<ScramVerifier> {
        let rest = text.strip_prefix(MECHANISM)?.strip_prefix('$')?;
        let (params, keys) = rest.split_once('$')?;
        let (iterations, salt) = params.split_once(':')?;
        let (stored, server) = keys.split_once(':')?;
        let key = |text: &str| -> Option<Key> { base64::decode_strict(text)?.try_into().ok() };
        let iterations: u32 = iterations.parse().ok()?;
        (iterations >= 1).then_some(())?;
        Some(ScramVerifier {
            salt: base64::decode_strict(salt)?,
            iterations,
            stored_key: key(stored)?,
            server_key: key(server)?,
        })
    }
}

/// The client's first message, read (RFC 5802 §7 `client-first-message`).
#[derive(Debug)]
pub struct ClientFirst {
    /// The login (`n=`), unescaped.
    pub login: String,
    gs2_header: String,
    bare: String,
    client_nonce: String,
}

/// `saslname` unescaped: `=2C` is `,` and `=3D` is `=`; any other `=` is an error.
fn sasl_name(text: &str) -> Result<String, ScramError> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('=') {
        out.push_str(&rest[..at]);
        match rest.get(at..at + 3) {
            Some("=2C") => out.push(','),
            Some("=3D") => out.push('='),
            _ => return Err(ScramError::Malformed),
        }
        rest = &rest[at + 3..];
    }
    out.push_str(rest);
    if out.is_empty() {
        return Err(ScramError::Malformed);
    }
    Ok(out)
}

/// A nonce: printable ASCII other than `,` (RFC 5802 §7 `printable`).
fn is_nonce(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| (0x21..=0x7e).contains(&b) && b != b',')
}

impl ClientFirst {
    pub fn parse(message: &[u8]) -> Result<ClientFirst, ScramError> {
        if message.len() > MAX_MESSAGE {
            return Err(ScramError::Malformed);
        }
        let text = std::str::from_utf8(message).map_err(|_| ScramError::Malformed)?;
        // gs2-header = gs2-cbind-flag "," [ authzid ] ","
        let (flag, rest) = text.split_once(',').ok_or(ScramError::Malformed)?;
        match flag {
            "n" | "y" => {}
            _ if flag.starts_with("p=") => return Err(ScramError::ChannelBinding),
            _ => return Err(ScramError::Malformed),
        }
        let (authzid_field, bare) = rest.split_once(',').ok_or(ScramError::Malformed)?;
        let authzid = match authzid_field {
            "" => None,
            _ => Some(sasl_name(authzid_field.strip_prefix("a=").ok_or(ScramError::Malformed)?)?),
        };
        // client-first-message-bare = [reserved-mext ","] username "," nonce ["," extensions]
        let mut fields = bare.split(',');
        let login =
            sasl_name(fields.next().and_then(|f| f.strip_prefix("n=")).ok_or(ScramError::Malformed)?)?;
        let client_nonce = fields.next().and_then(|f| f.strip_prefix("r=")).ok_or(ScramError::Malformed)?;
        if !is_nonce(client_nonce) {
            return Err(ScramError::Malformed);
        }
        if authzid.is_some_and(|a| !a.eq_ignore_ascii_case(&login)) {
            return Err(ScramError::OtherIdentity);
        }
        Ok(ClientFirst {
            gs2_header: format!("{flag},{authzid_field},"),
            client_nonce: client_nonce.to_string(),
            bare: bare.to_string(),
            login,
        })
    }

    /// The server's first message for `verifier`, and what the final step
    /// needs to check the client's answer.
    pub fn challenge(self, verifier: ScramVerifier) -> (String, Challenge) {
        let nonce = format!("{}{}", self.client_nonce, base64::encode(&random_bytes::<18>()));
        let server_first =
            format!("r={nonce},s={},i={}", base64::encode(&verifier.salt), verifier.iterations);
        let challenge = Challenge {
            auth_prefix: format!("{},{server_first}", self.bare),
            gs2_header: self.gs2_header,
            nonce,
            verifier,
        };
        (server_first, challenge)
    }
}

/// An exchange waiting for the client's final message.
#[derive(Debug)]
pub struct Challenge {
    /// `client-first-message-bare "," server-first-message`: the start of
    /// the AuthMessage both sides sign.
    auth_prefix: String,
    gs2_header: String,
    nonce: String,
    verifier: ScramVerifier,
}

impl Challenge {
    /// Checks the client's final message; on success, the server's final
    /// message (`v=` its signature), which the client checks in turn.
    pub fn finish(self, message: &[u8]) -> Result<String, ScramError> {
        if message.len() > MAX_MESSAGE {
            return Err(ScramError::Malformed);
        }
        let text = std::str::from_utf8(message).map_err(|_| ScramError::Malformed)?;
        // client-final-message = channel-binding "," nonce ["," extensions] "," proof
        let (without_proof, proof) = text.rsplit_once(",p=").ok_or(ScramError::Malformed)?;
        let mut fields = without_proof.split(',');
        let binding = fields.next().and_then(|f| f.strip_prefix("c=")).ok_or(ScramError::Malformed)?;
        let nonce = fields.next().and_then(|f| f.strip_prefix("r=")).ok_or(ScramError::Malformed)?;
        let binding = base64::decode_strict(binding).ok_or(ScramError::Malformed)?;
        let proof: Key =
            base64::decode_strict(proof).and_then(|p| p.try_into().ok()).ok_or(ScramError::Malformed)?;
        if binding != self.gs2_header.as_bytes() || nonce != self.nonce {
            return Err(ScramError::Mismatch);
        }
        let auth_message = format!("{},{without_proof}", self.auth_prefix);
        let signature = hmac(&self.verifier.stored_key, &[auth_message.as_bytes()]);
        let mut client_key = proof;
        for (k, s) in client_key.iter_mut().zip(signature) {
            *k ^= s;
        }
        if !same(&Sha256::digest(client_key), &self.verifier.stored_key) {
            return Err(ScramError::Proof);
        }
        let server_signature = hmac(&self.verifier.server_key, &[auth_message.as_bytes()]);
        Ok(format!("v={}", base64::encode(&server_signature)))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn hmac_and_pbkdf2_match_published_vectors() {
        // RFC 4231 test case 2.
        let mac = hmac(b"Jefe", &[b"what do ya want ", b"for nothing?"]);
        assert_eq!(
            mac.iter().map(|b| format!("{b:02x}")).collect::<String>(),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        // RFC 7914 §11, PBKDF2-HMAC-SHA256 ("passwd", "salt", 1), first 32 octets.
        let key = hi(b"passwd", b"salt", 1);
        assert_eq!(
            key.iter().map(|b| format!("{b:02x}")).collect::<String>(),
            "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc"
        );
    }

    /// RFC 7677 §3's example exchange, with its fixed nonces.
    #[test]
    fn the_rfc_7677_exchange() {
        let verifier = ScramVerifier::derive(
            b"pencil",
            base64::decode_strict("W22ZaJ0SNY7soEsUEjb6gQ==").unwrap(),
            4096,
        );
        let first = ClientFirst::parse(b"n,,n=user,r=rOprNGfwEbeRWgbNEkqO").unwrap();
        assert_eq!(first.login, "user");
        let server_first =
            "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
        let challenge = Challenge {
            auth_prefix: format!("{},{server_first}", first.bare),
            gs2_header: first.gs2_header,
            nonce: "rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0".into(),
            verifier: verifier.clone(),
        };
        let last = b"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
        assert_eq!(challenge.finish(last).unwrap(), "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");
        // The stored form reads back as the same verifier.
        assert_eq!(ScramVerifier::parse(&verifier.encode()), Some(verifier));
    }

    fn exchange(
        password: &[u8],
        verifier: ScramVerifier,
        tamper: impl Fn(String) -> String,
    ) -> Result<String, ScramError> {
        let first = ClientFirst::parse(b"n,,n=alice@contoso.com,r=abcdefghijkl").unwrap();
        let (server_first, challenge) = first.challenge(verifier);
        let fields: Vec<&str> = server_first.split(',').collect();
        let nonce = fields[0].strip_prefix("r=").unwrap();
        let salt = base64::decode_strict(fields[1].strip_prefix("s=").unwrap()).unwrap();
        let iterations: u32 = fields[2].strip_prefix("i=").unwrap().parse().unwrap();
        // The client's side, from RFC 5802 §3.
        let salted = hi(password, &salt, iterations);
        let client_key = hmac(&salted, &[b"Client Key"]);
        let stored_key: Key = Sha256::digest(client_key).into();
        let without_proof = format!("c=biws,r={nonce}");
        let auth = format!("n=alice@contoso.com,r=abcdefghijkl,{server_first},{without_proof}");
        let signature = hmac(&stored_key, &[auth.as_bytes()]);
        let proof: Vec<u8> = client_key.iter().zip(signature).map(|(k, s)| k ^ s).collect();
        challenge.finish(tamper(format!("{without_proof},p={}", base64::encode(&proof))).as_bytes())
    }

    #[test]
    fn right_and_wrong_passwords_and_tampering() {
        let verifier = ScramVerifier::new(&Secret::new("correct horse".into()));
        assert!(exchange(b"correct horse", verifier.clone(), |m| m).unwrap().starts_with("v="));
        assert_eq!(exchange(b"wrong horse", verifier.clone(), |m| m), Err(ScramError::Proof));
        assert_eq!(
            exchange(b"correct horse", verifier.clone(), |m| m.replacen("r=abc", "r=abd", 1)),
            Err(ScramError::Mismatch)
        );
        assert_eq!(
            exchange(b"correct horse", verifier.clone(), |m| m.replacen("c=biws", "c=eSws", 1)),
            Err(ScramError::Mismatch)
        );
        assert_eq!(
            exchange(b"correct horse", verifier.clone(), |m| m.replace(",p=", ",q=")),
            Err(ScramError::Malformed)
        );
        // A decoy answers like an account and matches no password.
        let decoy = ScramVerifier::decoy("alice@contoso.com", b"key");
        assert_eq!(decoy.salt, ScramVerifier::decoy("ALICE@contoso.com", b"key").salt);
        assert_eq!(exchange(b"correct horse", decoy, |m| m), Err(ScramError::Proof));
    }

    #[test]
    fn first_messages_are_read_strictly() {
        let ok = ClientFirst::parse(b"y,a=bob=2Cx,n=bob=2Cx,r=nonce,ext=1").unwrap();
        assert_eq!((ok.login.as_str(), ok.gs2_header.as_str()), ("bob,x", "y,a=bob=2Cx,"));
        assert_eq!(ClientFirst::parse(b"p=tls-exporter,,n=a,r=x").unwrap_err(), ScramError::ChannelBinding);
        assert_eq!(ClientFirst::parse(b"n,a=mallory,n=alice,r=x").unwrap_err(), ScramError::OtherIdentity);
        for bad in [
            &b"n,,n=a=2,r=x"[..],
            b"n,,r=x",
            b"n,,n=a,r=",
            b"n,,n=a,r=a b",
            b"x,,n=a,r=x",
            b"n,,n=,r=x",
            b"",
            &[0xff; 8],
        ] {
            assert_eq!(ClientFirst::parse(bad).unwrap_err(), ScramError::Malformed, "{bad:?}");
        }
        assert_eq!(ClientFirst::parse(&[b'a'; MAX_MESSAGE + 1]).unwrap_err(), ScramError::Malformed);
        for bad in [
            "SCRAM-SHA-256$0:AA==$AA==:AA==",
            "SCRAM-SHA-1$4096:AA==$AA==:AA==",
            "SCRAM-SHA-256$4096:AA==$AA==",
            "",
        ] {
            assert_eq!(ScramVerifier::parse(bad), None);
        }
    }
}
