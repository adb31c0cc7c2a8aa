//! The HTTP listeners (plain and TLS): HTTP/1.1 by hyper, each request's
//! body read up to a limit, then answered by the CalDAV service. Shutdown
//! finishes the request in progress and closes the connection.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use mailroom_dav::{Dav, MAX_REQUEST_BODY, Request};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::watch;

/// How long a client may take to send a request's header.
const HEADER_TIMEOUT: Duration = Duration::from_secs(30);

/// Serves one connection until the client closes it or shutdown.
pub async fn serve<S>(
    dav: Dav,
    stream: S,
    peer: SocketAddr,
    secure: bool,
    mut shutdown: watch::Receiver<bool>,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = service_fn(move |request: hyper::Request<Incoming>| {
        let dav = dav.clone();
        async move { Ok::<_, Infallible>(answer(&dav, request, peer, secure).await) }
    });
    let connection = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT)
        .serve_connection(TokioIo::new(stream), service);
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
    dav: &Dav,
    request: hyper::Request<Incoming>,
    peer: SocketAddr,
    secure: bool,
) -> hyper::Response<Full<Bytes>> {
    let (parts, body) = request.into_parts();
    let body = match Limited::new(body, MAX_REQUEST_BODY).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(err) => {
            let too_large = err.downcast_ref::<http_body_util::LengthLimitError>().is_some();
            let (status, text) = if too_large {
                (
                    hyper::StatusCode::PAYLOAD_TOO_LARGE,
                    format!("The request body is larger than {MAX_REQUEST_BODY} bytes.\n"),
                )
            } else {
                (hyper::StatusCode::BAD_REQUEST, "The request body couldn't be read.\n".to_string())
            };
            let mut response = hyper::Response::new(Full::new(Bytes::from(text)));
            *response.status_mut() = status;
            return response;
        }
    };
    let request = Request {
        method: parts.method,
        path: parts.uri.path().to_string(),
        headers: parts.headers,
        body,
        peer,
        secure,
    };
    dav.handle(request).await.map(Full::new)
}

/// Resolves once shutdown is signalled (or the signal's sender is gone).
async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    // `wait_for` returns a guard that isn't Send; only the fact matters.
    let _ = shutdown.wait_for(|stop| *stop).await.map(|_| ());
}
