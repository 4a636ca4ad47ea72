//! The accept loop: HTTP/1.1 connections with time limits, and a cap on how many plain HTTP
//! connections may be open, in all and per address, so idle or slow clients cannot hold every
//! file descriptor the process has. Upgraded sockets leave this count when they upgrade: they
//! have their own limits (`services::connections`).

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tower::ServiceExt;

use crate::services::clients::{TrustedProxies, address_key};
use crate::services::connections::HttpLimits as Limits;

#[derive(Default)]
struct Open {
    total: usize,
    by_address: HashMap<String, usize>,
}

/// A connection's place in the count, given back when it closes or upgrades.
struct Place {
    open: Arc<Mutex<Open>>,
    address: Option<String>,
}

impl Drop for Place {
    fn drop(&mut self) {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        open.total -= 1;
        if let Some(a) = &self.address
            && let Some(n) = open.by_address.get_mut(a)
        {
            *n -= 1;
            if *n == 0 {
                open.by_address.remove(a);
            }
        }
    }
}

fn take_place(open: &Arc<Mutex<Open>>, limits: &Limits, address: Option<String>) -> Option<Place> {
    let mut o = open.lock().unwrap_or_else(|p| p.into_inner());
    if limits.max_connections != 0 && o.total >= limits.max_connections {
        return None;
    }
    if let Some(a) = &address {
        let n = o.by_address.entry(a.clone()).or_insert(0);
        if limits.connections_per_address != 0 && *n >= limits.connections_per_address {
            return None;
        }
        *n += 1;
    }
    o.total += 1;
    Some(Place { open: open.clone(), address })
}

/// Whether an accept error means the process is out of descriptors (or the kernel of memory):
/// waiting a little lets connections close; spinning would only burn the CPU.
fn is_exhaustion(e: &std::io::Error) -> bool {
    matches!(e.raw_os_error(), Some(23 /* ENFILE */ | 24 /* EMFILE */ | 105 /* ENOBUFS */ | 12 /* ENOMEM */))
}

/// How long a plain HTTP connection may stay open in all: then it finishes the request at hand
/// and closes (a browser just opens another). Upgraded sockets are not bound by it.
const MAX_LIFETIME: Duration = Duration::from_secs(600);
/// How long a connection asked to close (at its lifetime's end, or at shutdown) may take to
/// finish the request at hand, a slow reader included, before it is dropped.
const CLOSE_GRACE: Duration = Duration::from_secs(30);

/// A request body with a deadline for the whole of it, not per piece: a client trickling a
/// byte now and then cannot hold the request open. Past it, reading fails with [`BodyTimedOut`].
struct DeadlineBody {
    inner: Incoming,
    deadline: std::pin::Pin<Box<tokio::time::Sleep>>,
}

/// The error a body read fails with when the client took too long to send it.
#[derive(Debug)]
pub struct BodyTimedOut;

impl std::fmt::Display for BodyTimedOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the request body did not arrive in time")
    }
}

impl std::error::Error for BodyTimedOut {}

impl http_body::Body for DeadlineBody {
    type Data = axum::body::Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        use std::task::Poll;
        let this = &mut *self;
        match std::pin::Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(frame) => Poll::Ready(frame.map(|f| f.map_err(Into::into))),
            Poll::Pending if this.deadline.as_mut().poll(cx).is_ready() => Poll::Ready(Some(Err(Box::new(BodyTimedOut)))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// Serves `app` on `listener` until `stop` completes, then lets requests in flight finish
/// (within [`CLOSE_GRACE`]).
pub async fn serve(
    listener: TcpListener,
    app: axum::Router,
    limits: Limits,
    trusted: TrustedProxies,
    stop: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // Each connection holds a sender: when every one is dropped, the last connection is done.
    let (alive, mut all_done) = tokio::sync::mpsc::channel::<()>(1);
    let (stopping, stop_rx) = tokio::sync::watch::channel(false);
    let open = Arc::new(Mutex::new(Open::default()));
    let mut refused_since_log = 0u64;
    tokio::pin!(stop);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    if is_exhaustion(&e) {
                        tracing::error!(error = %e, "cannot accept connections: out of file descriptors; waiting for some to close");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    } else {
                        tracing::warn!(error = %e, "a connection failed while being accepted");
                    }
                    continue;
                }
            },
            () = &mut stop => break,
        };
        let address = (!trusted.trusts(peer.ip())).then(|| address_key(peer.ip()));
        let Some(place) = take_place(&open, &limits, address) else {
            // Closed at once: a refused client learns nothing by waiting, and the descriptor is
            // free for someone else. Logged in batches so a flood cannot flood the log too.
            refused_since_log += 1;
            if refused_since_log == 1 || refused_since_log.is_power_of_two() {
                tracing::warn!(peer = %peer.ip(), refused = refused_since_log, "HTTP connection refused: too many open connections");
            }
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let body_timeout = limits.body_timeout;
        let service = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
            // A file (up to 25 MiB) may take a phone on mobile data minutes; every other body
            // has the usual deadline.
            let upload = req.method() == hyper::Method::POST && req.uri().path().ends_with("/attachments");
            let deadline = Box::pin(tokio::time::sleep(if upload { body_timeout * 10 } else { body_timeout }));
            let mut req = req.map(|inner| axum::body::Body::new(DeadlineBody { inner, deadline }));
            req.extensions_mut().insert(ConnectInfo(peer));
            let app = app.clone();
            async move { Ok::<_, Infallible>(app.oneshot(req).await.unwrap_or_else(|e| match e {})) }
        });
        let mut http = hyper::server::conn::http1::Builder::new();
        http.timer(TokioTimer::new()).keep_alive(true);
        // hyper's default is 30 s: zero turns it off, as the flag says.
        http.header_read_timeout((!limits.header_timeout.is_zero()).then_some(limits.header_timeout));
        let connection = http.serve_connection(TokioIo::new(stream), service).with_upgrades();
        let (alive, mut stop_rx) = (alive.clone(), stop_rx.clone());
        tokio::spawn(async move {
            tokio::pin!(connection);
            let ended = tokio::select! {
                ended = connection.as_mut() => Some(ended),
                () = async { drop(stop_rx.wait_for(|s| *s).await) } => None,
                () = tokio::time::sleep(MAX_LIFETIME) => None,
            };
            // Stopping, or open long enough: finish the request at hand and close; a client
            // that never reads its answer is dropped after the grace.
            let ended = match ended {
                Some(ended) => ended,
                None => {
                    connection.as_mut().graceful_shutdown();
                    tokio::time::timeout(CLOSE_GRACE, connection.as_mut()).await.unwrap_or(Ok(()))
                }
            };
            if let Err(e) = ended {
                tracing::debug!(peer = %peer.ip(), error = %e, "HTTP connection ended with an error");
            }
            drop((place, alive));
        });
    }
    drop(listener);
    let _ = stopping.send(true);
    drop(alive);
    if tokio::time::timeout(CLOSE_GRACE + Duration::from_secs(5), all_done.recv()).await.is_err() {
        tracing::warn!("some HTTP connections did not close in time");
    }
    Ok(())
}
