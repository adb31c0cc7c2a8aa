//! The optional spam and virus check: each inbound message is passed to
//! rspamd over its HTTP protocol (`POST /checkv2`, the message as the body,
//! the envelope in request headers) before the `250`, and rspamd's action
//! becomes a [`FilterVerdict`] for `core` to decide on:
//!
//! | rspamd action                    | verdict                         |
//! |----------------------------------|---------------------------------|
//! | `reject`                         | refuse (`550 5.7.1`)            |
//! | `add header`, `rewrite subject`  | deliver to Junk Email           |
//! | `greylist`, `soft reject`        | try again later (`451 4.7.1`)   |
//! | `no action`                      | deliver                         |
//!
//! When rspamd can't be asked (down, slow, an answer that isn't one), the
//! message is delivered as if it were clean and the fact logged: a filter
//! never loses mail. Reads are bounded (the answer may be at most
//! [`MAX_ANSWER`]) and the whole exchange has a deadline.

use std::time::Duration;

use mailroom_core::mail::FilterVerdict;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The most of rspamd's answer read (its JSON lists every symbol).
pub const MAX_ANSWER: usize = 1024 * 1024;

/// Where rspamd listens and how long it may take.
#[derive(Clone, Debug)]
pub struct FilterConfig {
    /// `host:port` of rspamd's normal worker (11333 by default).
    pub address: String,
    pub timeout: Duration,
}

impl FilterConfig {
    /// From `http://host:port` (a path, if any, is ignored: the check is
    /// always `/checkv2`).
    pub fn from_url(url: &str, timeout: Duration) -> Option<FilterConfig> {
        let rest = url.trim().strip_prefix("http://")?;
        let address = rest.split('/').next().filter(|a| !a.is_empty())?;
        // A port, unless the address is a bare name or IPv4 address, or an
        // IPv6 address in brackets without one.
        let has_port = match address.strip_prefix('[') {
            Some(v6) => v6.contains("]:"),
            None => address.contains(':'),
        };
        let address = if has_port { address.to_string() } else { format!("{address}:11333") };
        Some(FilterConfig { address, timeout })
    }
}

/// The envelope rspamd is told about.
#[derive(Debug)]
pub struct Envelope<'a> {
    pub ip: std::net::IpAddr,
    pub helo: &'a str,
    /// Empty for the null sender.
    pub from: &'a str,
    pub rcpts: &'a [String],
    pub queue_id: &'a str,
}

/// What rspamd said, with the score for the log.
#[derive(Debug)]
pub struct Checked {
    pub verdict: FilterVerdict,
    /// `score/required` as rspamd gave them, when it answered.
    pub score: Option<(f64, f64)>,
}

/// Asks rspamd about `message`; never fails (see the module overview).
pub async fn check(config: &FilterConfig, envelope: &Envelope<'_>, message: &[u8]) -> Checked {
    match tokio::time::timeout(config.timeout, ask(config, envelope, message)).await {
        Ok(Ok(checked)) => checked,
        Ok(Err(err)) => {
            tracing::warn!(filter = %config.address, queue_id = envelope.queue_id, error = %err, "the spam filter couldn't be asked; the message is accepted unfiltered");
            Checked { verdict: FilterVerdict::Clean, score: None }
        }
        Err(_elapsed) => {
            tracing::warn!(filter = %config.address, queue_id = envelope.queue_id, "the spam filter didn't answer in time; the message is accepted unfiltered");
            Checked { verdict: FilterVerdict::Clean, score: None }
        }
    }
}

async fn ask(config: &FilterConfig, envelope: &Envelope<'_>, message: &[u8]) -> Result<Checked, String> {
    let mut stream = TcpStream::connect(&config.address).await.map_err(|e| e.to_string())?;
    let mut request = format!(
        "POST /checkv2 HTTP/1.0\r\nIP: {}\r\nHelo: {}\r\nFrom: {}\r\nQueue-Id: {}\r\nContent-Length: {}\r\n",
        envelope.ip,
        header_safe(envelope.helo),
        header_safe(envelope.from),
        header_safe(envelope.queue_id),
        message.len()
    );
    for rcpt in envelope.rcpts {
        request.push_str(&format!("Rcpt: {}\r\n", header_safe(rcpt)));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).await.map_err(|e| e.to_string())?;
    stream.write_all(message).await.map_err(|e| e.to_string())?;
    stream.flush().await.map_err(|e| e.to_string())?;
    let mut answer = Vec::new();
    let read = (&mut stream).take(MAX_ANSWER as u64 + 1).read_to_end(&mut answer).await;
    read.map_err(|e| e.to_string())?;
    if answer.len() > MAX_ANSWER {
        return Err(format!("its answer is longer than {MAX_ANSWER} octets"));
    }
    interpret(&answer)
}

/// Envelope values come from the client: no line breaks into our request.
fn header_safe(value: &str) -> String {
    value.chars().filter(|c| !c.is_control()).collect()
}

/// rspamd's HTTP answer as a verdict.
fn interpret(answer: &[u8]) -> Result<Checked, String> {
    let answer = crate::http_answer::parse(answer)?;
    if answer.status != 200 {
        return Err(format!("it answered {}", answer.status));
    }
    let body: serde_json::Value =
        serde_json::from_slice(&answer.body).map_err(|e| format!("its answer isn't JSON: {e}"))?;
    let action = body.get("action").and_then(|a| a.as_str()).ok_or("its answer names no action")?;
    let score = body.get("score").and_then(|s| s.as_f64());
    let required = body.get("required_score").and_then(|s| s.as_f64());
    let said =
        body.get("messages").and_then(|m| m.get("smtp_message")).and_then(|m| m.as_str()).map(header_safe);
    let scored = match (score, required) {
        (Some(s), Some(r)) => format!(" (score {s:.1} of {r:.1})"),
        _ => String::new(),
    };
    let verdict = match action {
        "reject" => FilterVerdict::Reject {
            reason: said.unwrap_or_else(|| format!("the message was refused as spam{scored}")),
        },
        "add header" | "rewrite subject" => FilterVerdict::Junk { reason: format!("spam{scored}") },
        "greylist" | "soft reject" => {
            FilterVerdict::Defer { reason: said.unwrap_or_else(|| "try again later".into()) }
        }
        "no action" => FilterVerdict::Clean,
        other => return Err(format!("its action {other:?} is unknown")),
    };
    Ok(Checked { verdict, score: score.zip(required) })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(json: &str) -> Vec<u8> {
        format!("HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n{json}").into_bytes()
    }

    #[test]
    fn actions_become_verdicts() {
        let gtube = interpret(&answer(
            r#"{"action":"reject","score":1000.0,"required_score":15.0,"messages":{"smtp_message":"Gtube pattern"}}"#,
        ))
        .expect("an answer");
        assert_eq!(gtube.verdict, FilterVerdict::Reject { reason: "Gtube pattern".into() });
        assert_eq!(gtube.score, Some((1000.0, 15.0)));
        let junk = interpret(&answer(r#"{"action":"add header","score":7.5,"required_score":15.0}"#))
            .expect("answer");
        assert_eq!(junk.verdict, FilterVerdict::Junk { reason: "spam (score 7.5 of 15.0)".into() });
        let later = interpret(&answer(r#"{"action":"soft reject"}"#)).expect("answer");
        assert!(matches!(later.verdict, FilterVerdict::Defer { .. }));
        let clean = interpret(&answer(r#"{"action":"no action","score":0.1,"required_score":15.0}"#))
            .expect("answer");
        assert_eq!(clean.verdict, FilterVerdict::Clean);
    }

    #[test]
    fn answers_that_are_not_ones() {
        assert!(interpret(b"HTTP/1.0 500 Internal Server Error\r\n\r\n{}").is_err());
        assert!(interpret(&answer("not json")).is_err());
        assert!(interpret(&answer(r#"{"action":"explode"}"#)).is_err());
        assert!(interpret(b"HTTP/1.0 200 OK\r\n").is_err());
    }

    #[test]
    fn urls() {
        let c = FilterConfig::from_url("http://127.0.0.1:11333/", Duration::from_secs(1)).expect("url");
        assert_eq!(c.address, "127.0.0.1:11333");
        assert_eq!(
            FilterConfig::from_url("http://rspamd", Duration::from_secs(1)).expect("url").address,
            "rspamd:11333"
        );
        assert!(FilterConfig::from_url("https://x", Duration::from_secs(1)).is_none());
        let v6 = FilterConfig::from_url("http://[::1]", Duration::from_secs(1)).expect("url");
        assert_eq!(v6.address, "[::1]:11333");
        assert_eq!(
            FilterConfig::from_url("http://[::1]:8", Duration::from_secs(1)).expect("url").address,
            "[::1]:8"
        );
    }
}
