//! `/metrics` in the Prometheus text format (version 0.0.4): what the
//! server counts (connections per protocol, deliveries) through
//! [`MetricsSource`], and what this service measures itself — the queue
//! size, how long the store took to answer for it, failed sign-ins, web
//! requests.
//!
//! Metrics say who is connected and how much mail flows, so they are for
//! the machine itself (a loopback scraper) or a holder of an API token.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use http::{StatusCode, header};

use crate::{Head, Response, Web, answer};

/// What the server adds to `/metrics`: lines of the text format, each
/// family with its `# HELP` and `# TYPE`.
pub trait MetricsSource: Send + Sync + std::fmt::Debug {
    fn render(&self, out: &mut String);
}

/// Nothing from the server (tests of this crate, tools).
#[derive(Debug, Default)]
pub struct NoMetrics;

impl MetricsSource for NoMetrics {
    fn render(&self, _out: &mut String) {}
}

/// Requests this service answered and the time they took.
#[derive(Debug, Default)]
pub(crate) struct WebStats {
    requests: AtomicU64,
    micros: AtomicU64,
}

impl WebStats {
    pub(crate) fn observe(&self, elapsed: Duration) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        self.micros.fetch_add(elapsed.as_micros() as u64, Ordering::Relaxed);
    }
}

pub(crate) async fn scrape(web: &Web, head: &Head) -> Response {
    if !crate::is_loopback(head) && !crate::api::bearer_is_valid(web, head).await {
        let mut response = answer(
            StatusCode::UNAUTHORIZED,
            "text/plain; charset=utf-8",
            "Metrics are for this machine or an API token (Authorization: Bearer).\n",
        );
        response.headers_mut().insert(header::WWW_AUTHENTICATE, http::HeaderValue::from_static("Bearer"));
        return response;
    }
    let mut out = String::new();
    web.metrics.render(&mut out);
    let started = Instant::now();
    let queue = web.mail().queue(None).await;
    let store_seconds = started.elapsed().as_secs_f64();
    match queue {
        Ok(entries) => family(
            &mut out,
            "mailroom_queue_size",
            "gauge",
            "Messages waiting in the outbound queue.",
            entries.len(),
        ),
        Err(err) => tracing::warn!(error = %err, "metrics: the queue couldn't be read"),
    }
    let _ = writeln!(
        out,
        "# HELP mailroom_store_latency_seconds How long the store took to list the outbound queue for this scrape."
    );
    let _ = writeln!(out, "# TYPE mailroom_store_latency_seconds gauge");
    let _ = writeln!(out, "mailroom_store_latency_seconds {store_seconds:.6}");
    family(
        &mut out,
        "mailroom_sign_in_failures_total",
        "counter",
        "Failed sign-ins since start, every protocol's.",
        web.mail().directory().sign_in_failures(),
    );
    match web.mail().directory().web_session_count().await {
        Ok(count) => family(
            &mut out,
            "mailroom_web_sessions",
            "gauge",
            "Signed-in browser sessions (web app and admin center), every node's.",
            count,
        ),
        Err(err) => tracing::warn!(error = %err, "metrics: the sessions couldn't be counted"),
    }
    family(
        &mut out,
        "mailroom_web_requests_total",
        "counter",
        "Requests answered by the admin center, API and self-configuration.",
        web.stats.requests.load(Ordering::Relaxed),
    );
    let seconds = web.stats.micros.load(Ordering::Relaxed) as f64 / 1e6;
    let _ = writeln!(out, "# HELP mailroom_web_request_seconds_total Time spent answering those requests.");
    let _ = writeln!(out, "# TYPE mailroom_web_request_seconds_total counter");
    let _ = writeln!(out, "mailroom_web_request_seconds_total {seconds:.6}");
    answer(StatusCode::OK, "text/plain; version=0.0.4; charset=utf-8", out)
}

/// One family with one unlabelled sample.
pub fn family(out: &mut String, name: &str, kind: &str, help: &str, value: impl std::fmt::Display) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
    let _ = writeln!(out, "{name} {value}");
}
