//! Browser sessions of the web app and the admin center: a random token in
//! a cookie (`HttpOnly`, `SameSite=Strict`, `Secure` over HTTPS), each
//! session with its own CSRF token that every form carries back. The
//! sessions themselves are `core`'s, kept in the store so every node knows
//! them (`mailroom_core::directory::web_sessions`).
//!
//! A session remembers what the account looked like when it signed in (its
//! password hash and roles). Every request compares: a password reset, a
//! role change, a block or a conversion ends every session of that account
//! at its next request — nothing waits for an expiry.

pub use mailroom_core::directory::web_sessions::WebSession as Session;

/// The session cookie.
pub const COOKIE: &str = "mailroom_session";
/// The sign-in form's own CSRF cookie (double submit): before signing in
/// there is no session to hold a token.
pub const SIGN_IN_COOKIE: &str = "mailroom_signin";
/// 256 random bits, hex.
pub fn random_token() -> String {
    mailroom_core::auth::random_bytes(32).iter().map(|b| format!("{b:02x}")).collect()
}

/// A cookie's value from a `Cookie` header.
pub fn cookie<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header.split(';').map(str::trim).find_map(|pair| {
        let (n, v) = pair.split_once('=')?;
        (n.trim() == name).then_some(v.trim())
    })
}

/// A `Set-Cookie` value; `max_age` 0 deletes the cookie.
pub fn set_cookie(name: &str, value: &str, secure: bool, max_age: Option<u64>) -> String {
    let mut cookie = format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict");
    if secure {
        cookie.push_str("; Secure");
    }
    if let Some(age) = max_age {
        cookie.push_str(&format!("; Max-Age={age}"));
    }
    cookie
}

/// Compares two secrets in time independent of where they differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_and_secrets() {
        assert_eq!(cookie("a=1; mailroom_session=abc ; b=2", COOKIE), Some("abc"));
        assert_eq!(cookie("xmailroom_session=abc", COOKIE), None);
        assert!(set_cookie(COOKIE, "v", true, None).contains("; Secure"));
        assert!(!set_cookie(COOKIE, "v", false, Some(0)).contains("Secure"));
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "ab"));
    }
}
