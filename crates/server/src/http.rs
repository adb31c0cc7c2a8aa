//! The HTTP listeners (plain and TLS): HTTP/1.1 by hyper, answered by the
//! web service (admin center, admin API, client self-configuration,
//! metrics: [`Web::handles`] says which paths) or else the CalDAV service.
//! Shutdown finishes the request in progress and closes the connection.
//!
//! A connection slot is the scarce thing, so nobody may hold one for long
//! without doing the work a real client does:
//! - the head of a request must arrive within [`HEADER_TIMEOUT`] (hyper; it
//!   also ends a kept-alive connection that sends nothing more);
//! - the body is read only after the head signed in (`Dav::admit`,
//!   `Web::admit`), and only
//!   up to its method's limit — a larger declared `Content-Length` is
//!   refused before a byte of it is read;
//! - signing in gets [`ADMIT_DEADLINE`]; the body must then keep up
//!   [`MIN_BODY_RATE`] after [`BODY_GRACE`], else `408` (answering isn't
//!   cut short: a write may have been stored);
//! - the octets of a body are held on the server-wide memory budget that
//!   SMTP and IMAP draw on too (a share per client address); a body the
//!   budget can't cover now gets `503` with `Retry-After`;
//! - a client that stops reading the answer loses the connection after
//!   [`WRITE_STALL`] (see [`Stalling`]), closing included;
//! - a connection that hasn't signed in serves one request: every answer
//!   given from the head alone (`401`, OPTIONS, a refusal) closes it, so a
//!   stranger can't keep a slot by asking for OPTIONS now and then.
//!
//! Every refusal that leaves a body unread closes the connection too: what
//! follows on it can't be told apart from that body.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use mailroom_core::budget::{MemoryBudget, Reservation};
use mailroom_dav::{Admission, Dav, Head, Request};
use mailroom_http::Web;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::watch;
use tokio::time::{Instant, Sleep};

/// How long a client may take to send a request's head (and how long a
/// kept-alive connection may sit idle).
const HEADER_TIMEOUT: Duration = Duration::from_secs(30);
/// Time for the first body octets, before the rate counts.
const BODY_GRACE: Duration = Duration::from_secs(10);
/// The slowest a body may arrive after the grace: 16 KiB/s, so a CalDAV
/// body (1 MiB) may take 74 s and no more; a form with attachments, its
/// limit over this rate.
const MIN_BODY_RATE: u64 = 16 * 1024;
/// Signing in, which may wait its turn for up to a minute.
const ADMIT_DEADLINE: Duration = Duration::from_secs(100);
/// How much of the memory budget a body holds per octet received while it
/// arrives: the octets and the buffer's growth (it doubles). Once read, the
/// buffer is cut to size; what the web app builds from it, it covers itself.
const BUDGET_PER_OCTET: (usize, usize) = (2, 1);
/// When a client refused for want of memory should try again.
const BUSY_RETRY_AFTER: &str = "30";
/// How long a write may wait for a client that doesn't read.
const WRITE_STALL: Duration = Duration::from_secs(30);

type Answer = hyper::Response<Full<Bytes>>;

/// The services behind the HTTP listeners. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Services {
    pub dav: Dav,
    pub web: Web,
    /// The memory budget SMTP and IMAP draw on: request bodies do too.
    pub budget: MemoryBudget,
}

/// A request whose head passed, and which service answers it.
enum Admitted {
    Dav(mailroom_dav::Admitted),
    Web(mailroom_http::Admitted),
}

impl Admitted {
    fn body_limit(&self) -> usize {
        match self {
            Admitted::Dav(a) => a.body_limit(),
            Admitted::Web(a) => a.body_limit(),
        }
    }

    /// The answer to a body larger than the limit, found while reading it.
    fn too_large(&self, method: &hyper::Method) -> Answer {
        let limit = self.body_limit();
        closing(match self {
            Admitted::Dav(_) => mailroom_dav::body_too_large(method, limit).map(Full::new),
            Admitted::Web(admitted) => admitted.too_large().map(Full::new),
        })
    }
}

/// Serves one connection until the client closes it or shutdown.
pub async fn serve<S>(
    services: Services,
    stream: S,
    peer: SocketAddr,
    secure: bool,
    mut shutdown: watch::Receiver<bool>,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = service_fn(move |request: hyper::Request<Incoming>| {
        let services = services.clone();
        async move { Ok::<_, Infallible>(answer(&services, request, peer, secure).await) }
    });
    let connection = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT)
        .serve_connection(TokioIo::new(Stalling::new(stream, WRITE_STALL)), service);
    tokio::pin!(connection);
    tokio::select! {
        result = connection.as_mut() => {
            if let Err(err) = result {
                tracing::debug!(%peer, error = %err, "http connection ended");
            }
        }
        () = stopped(&mut shutdown) => {
            connection.as_mut().graceful_shutdown();
            let _ = connection.await;
        }
    }
}

async fn answer(
    services: &Services,
    request: hyper::Request<Incoming>,
    peer: SocketAddr,
    secure: bool,
) -> Answer {
    let (parts, body) = request.into_parts();
    let web = Web::handles(&parts.method, parts.uri.path());
    let query = parts.uri.query().map(str::to_string);
    let head = Head {
        method: parts.method,
        path: parts.uri.path().to_string(),
        headers: parts.headers,
        peer,
        secure,
    };
    // Nothing is stored before the body is read, so the deadlines may cut
    // signing in and reading short. The reservation is held until the
    // answer is made: the body is in memory until then.
    let mut reservation = Reservation::new(&services.budget, peer.ip());
    let ready = async {
        let admitted = tokio::time::timeout(ADMIT_DEADLINE, async {
            Ok(if web {
                match services.web.admit(&web_head(&head, query.clone())).await {
                    mailroom_http::Admission::ReadBody(admitted) => Admitted::Web(admitted),
                    mailroom_http::Admission::Respond(response) => {
                        return Err(closing(response.map(Full::new)));
                    }
                }
            } else {
                match services.dav.admit(&head).await {
                    Admission::ReadBody(admitted) => Admitted::Dav(admitted),
                    // Answered from the head: not signed in, or refused. The
                    // connection serves no more, and any body is never read.
                    Admission::Respond(response) => return Err(closing(response.map(Full::new))),
                }
            })
        })
        .await
        .map_err(|_| {
            tracing::info!(%peer, method = %head.method, "http request over its deadline");
            refusal(hyper::StatusCode::REQUEST_TIMEOUT, "The request took too long to arrive.")
        })??;
        match read_body(body, admitted.body_limit(), BODY_GRACE, MIN_BODY_RATE, &mut reservation).await {
            Ok(body) => Ok((admitted, body)),
            Err(problem) => {
                tracing::info!(%peer, method = %head.method, path = head.path, ?problem, "http request body refused");
                Err(problem.answer(&head.method, &admitted))
            }
        }
    };
    let (admitted, body) = match ready.await {
        Ok(ready) => ready,
        Err(answer) => return answer,
    };
    match admitted {
        Admitted::Web(admitted) => {
            let closes = admitted.closes();
            // The share goes with the request: the web app covers what it
            // builds from the body on it too.
            let memory =
                Some(std::mem::replace(&mut reservation, Reservation::new(&services.budget, peer.ip())));
            let request = mailroom_http::Request { head: web_head(&head, query), body, memory };
            let answer = services.web.respond(admitted, request).await.map(Full::new);
            if closes { closing(answer) } else { answer }
        }
        Admitted::Dav(admitted) => {
            let request = Request {
                method: head.method,
                path: head.path,
                headers: head.headers,
                body,
                peer: head.peer,
                secure: head.secure,
            };
            services.dav.respond(admitted, request).await.map(Full::new)
        }
    }
}

/// The web service's view of a head (it also reads the query).
fn web_head(head: &Head, query: Option<String>) -> mailroom_http::Head {
    mailroom_http::Head {
        method: head.method.clone(),
        path: head.path.clone(),
        query,
        headers: head.headers.clone(),
        peer: head.peer,
        secure: head.secure,
    }
}

/// Why a body wasn't read whole.
#[derive(Debug, PartialEq, Eq)]
enum BodyProblem {
    TooLarge,
    TooSlow,
    Broken,
    /// The memory budget (or this client's half of it) is spent for now.
    Busy,
}

impl BodyProblem {
    /// The answer, which closes the connection (the body wasn't read
    /// whole). Too large is worded by the service, as for a
    /// `Content-Length` refused before reading (`max-resource-size` on a
    /// CalDAV PUT).
    fn answer(&self, method: &hyper::Method, admitted: &Admitted) -> Answer {
        match self {
            BodyProblem::TooLarge => admitted.too_large(method),
            BodyProblem::TooSlow => refusal(
                hyper::StatusCode::REQUEST_TIMEOUT,
                &format!(
                    "The request body arrived too slowly (it must keep up {} KiB/s).",
                    MIN_BODY_RATE / 1024
                ),
            ),
            BodyProblem::Broken => {
                refusal(hyper::StatusCode::BAD_REQUEST, "The request body couldn't be read.")
            }
            BodyProblem::Busy => busy(),
        }
    }
}

/// Reads a body of at most `limit` octets that keeps up `rate` octets a
/// second after `grace`: by any moment, the time allowed is the grace plus
/// what the octets received so far earn, so a trickle runs out of time
/// while an honest upload never does. The octets are covered by
/// `reservation` as they arrive ([`BUDGET_PER_OCTET`]).
async fn read_body<B>(
    mut body: B,
    limit: usize,
    grace: Duration,
    rate: u64,
    reservation: &mut Reservation,
) -> Result<Bytes, BodyProblem>
where
    B: hyper::body::Body<Data = Bytes> + Unpin,
{
    let start = Instant::now();
    let mut received: Vec<u8> = Vec::new();
    loop {
        let earned = Duration::from_millis((received.len() as u64).saturating_mul(1000) / rate.max(1));
        let frame = match tokio::time::timeout_at(start + grace + earned, body.frame()).await {
            Err(_) => return Err(BodyProblem::TooSlow),
            Ok(None) => {
                received.shrink_to_fit();
                return Ok(Bytes::from(received));
            }
            Ok(Some(Err(_))) => return Err(BodyProblem::Broken),
            Ok(Some(Ok(frame))) => frame,
        };
        if let Ok(data) = frame.into_data() {
            let total = received.len().saturating_add(data.len());
            if total > limit {
                return Err(BodyProblem::TooLarge);
            }
            let (times, over) = BUDGET_PER_OCTET;
            if !reservation.cover(total.saturating_mul(times) / over) {
                return Err(BodyProblem::Busy);
            }
            received.extend_from_slice(&data);
        }
    }
}

/// `503` with `Retry-After`: the memory budget is spent for now.
fn busy() -> Answer {
    let mut answer = refusal(
        hyper::StatusCode::SERVICE_UNAVAILABLE,
        "The server is receiving a lot of data right now; try again in a moment.",
    );
    answer
        .headers_mut()
        .insert(hyper::header::RETRY_AFTER, hyper::header::HeaderValue::from_static(BUSY_RETRY_AFTER));
    answer
}

/// A short text answer that closes the connection.
fn refusal(status: hyper::StatusCode, text: &str) -> Answer {
    let mut response = hyper::Response::new(Full::new(Bytes::from(format!("{text}\n"))));
    *response.status_mut() = status;
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    closing(response)
}

fn closing(mut response: Answer) -> Answer {
    response
        .headers_mut()
        .insert(hyper::header::CONNECTION, hyper::header::HeaderValue::from_static("close"));
    response
}

/// A stream whose writes fail once one has waited `limit` for the client
/// to read: hyper has no write timeout of its own, and a client that never
/// reads an answer would hold its connection (and the answer's memory)
/// forever.
#[derive(Debug)]
pub struct Stalling<S> {
    inner: S,
    limit: Duration,
    /// Armed while a write is pending.
    stall: Option<Pin<Box<Sleep>>>,
}

impl<S> Stalling<S> {
    pub fn new(inner: S, limit: Duration) -> Self {
        Stalling { inner, limit, stall: None }
    }

    /// Passes a write's outcome on; a write still pending after the
    /// limit fails instead.
    fn guard<T>(
        &mut self,
        cx: &mut Context<'_>,
        polled: Poll<std::io::Result<T>>,
    ) -> Poll<std::io::Result<T>> {
        if polled.is_ready() {
            self.stall = None;
            return polled;
        }
        let limit = self.limit;
        let stall = self.stall.get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
        ready!(stall.as_mut().poll(cx));
        Poll::Ready(Err(std::io::Error::new(std::io::ErrorKind::TimedOut, "the client stopped reading")))
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Stalling<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

/// Writes, flushes and the close (TLS writes `close_notify`) all wait on
/// the client reading.
impl<S: AsyncWrite + Unpin> AsyncWrite for Stalling<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.guard(cx, polled)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let polled = Pin::new(&mut self.inner).poll_flush(cx);
        self.guard(cx, polled)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let polled = Pin::new(&mut self.inner).poll_shutdown(cx);
        self.guard(cx, polled)
    }
}

/// Resolves once shutdown is signalled (or the signal's sender is gone).
async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    // `wait_for` returns a guard that isn't Send; only the fact matters.
    let _ = shutdown.wait_for(|stop| *stop).await.map(|_| ());
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use hyper::body::Frame;
    use tokio::io::AsyncWriteExt;

    /// A body whose chunks arrive one every `every`.
    struct Trickle(tokio::sync::mpsc::Receiver<Bytes>);

    impl hyper::body::Body for Trickle {
        type Data = Bytes;
        type Error = Infallible;
        fn poll_frame(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
            self.0.poll_recv(cx).map(|chunk| chunk.map(|c| Ok(Frame::data(c))))
        }
    }

    fn trickle(chunks: Vec<&'static [u8]>, every: Duration) -> Trickle {
        let (tx, rx) = tokio::sync::mpsc::channel(1);
        tokio::spawn(async move {
            for chunk in chunks {
                tokio::time::sleep(every).await;
                if tx.send(Bytes::from_static(chunk)).await.is_err() {
                    return;
                }
            }
        });
        Trickle(rx)
    }

    fn share(bytes: usize) -> Reservation {
        Reservation::new(&MemoryBudget::new(bytes), "127.0.0.1".parse().unwrap())
    }

    #[tokio::test]
    async fn bodies_are_bounded_in_size_and_time() {
        let mut room = share(1 << 20);
        let fast = trickle(vec![b"abc", b"def"], Duration::from_millis(1));
        assert_eq!(
            read_body(fast, 10, Duration::from_millis(500), 1, &mut room).await,
            Ok(Bytes::from_static(b"abcdef"))
        );
        let big = trickle(vec![b"abcdef", b"ghijkl"], Duration::from_millis(1));
        assert_eq!(
            read_body(big, 10, Duration::from_secs(5), 1024, &mut room).await,
            Err(BodyProblem::TooLarge)
        );
        // A byte now and then: out of time once the grace is spent.
        let started = std::time::Instant::now();
        let slow = trickle(vec![b"a"; 100], Duration::from_millis(40));
        assert_eq!(
            read_body(slow, 1000, Duration::from_millis(200), 1000, &mut room).await,
            Err(BodyProblem::TooSlow)
        );
        assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
    }

    #[tokio::test]
    async fn bodies_are_held_on_the_memory_budget() {
        // 256 KiB in all, so one client address may hold 128 KiB: a body
        // of 64 KiB is held twice over as it arrives: more than that half.
        let budget = MemoryBudget::new(256 * 1024);
        let chunk: &'static [u8] = Box::leak(vec![b'x'; 16 * 1024].into_boxed_slice());
        let mut first = Reservation::new(&budget, "127.0.0.1".parse().unwrap());
        let body = trickle(vec![chunk; 4], Duration::from_millis(1));
        assert_eq!(
            read_body(body, 1 << 20, Duration::from_secs(5), 1024, &mut first).await,
            Err(BodyProblem::Busy)
        );
        drop(first);
        assert_eq!(budget.available(), budget.total(), "a refused body gives its share back");
        let mut second = Reservation::new(&budget, "127.0.0.1".parse().unwrap());
        let body = trickle(vec![chunk; 2], Duration::from_millis(1));
        let read = read_body(body, 1 << 20, Duration::from_secs(5), 1024, &mut second).await;
        assert_eq!(read.map(|b| b.len()), Ok(32 * 1024));
        assert!(budget.available() < budget.total(), "held while the answer is made");
        let answer = busy();
        assert_eq!(answer.status(), hyper::StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(answer.headers()[hyper::header::RETRY_AFTER], BUSY_RETRY_AFTER);
    }

    #[tokio::test]
    async fn a_client_that_stops_reading_loses_the_connection() {
        let (client, server) = tokio::io::duplex(1024);
        let mut writer = Stalling::new(server, Duration::from_millis(200));
        let started = std::time::Instant::now();
        let mut wrote = 0usize;
        let err = loop {
            match writer.write(&[0u8; 512]).await {
                Ok(n) => wrote += n,
                Err(err) => break err,
            }
        };
        assert_eq!(err.kind(), std::io::ErrorKind::TimedOut);
        assert_eq!(wrote, 1024, "the pipe filled, then the wait ran out");
        assert!(started.elapsed() >= Duration::from_millis(200));
        drop(client);
    }
}
