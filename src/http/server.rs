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

/// Serves `app` on `listener` until `stop` completes, then lets requests in flight finish.
pub async fn serve(
    listener: TcpListener,
    app: axum::Router,
    limits: Limits,
    trusted: TrustedProxies,
    stop: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = app.layer(tower_http::timeout::RequestBodyTimeoutLayer::new(limits.body_timeout));
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
        let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
            req.extensions_mut().insert(ConnectInfo(peer));
            let app = app.clone();
            async move { Ok::<_, Infallible>(app.oneshot(req).await.unwrap_or_else(|e| match e {})) }
        });
        let mut http = hyper::server::conn::http1::Builder::new();
        http.timer(TokioTimer::new()).keep_alive(true);
        if !limits.header_timeout.is_zero() {
            http.header_read_timeout(limits.header_timeout);
        }
        let connection = http.serve_connection(TokioIo::new(stream), service).with_upgrades();
        let (alive, mut stop_rx) = (alive.clone(), stop_rx.clone());
        tokio::spawn(async move {
            tokio::pin!(connection);
            let ended = tokio::select! {
                ended = connection.as_mut() => ended,
                () = async { drop(stop_rx.wait_for(|s| *s).await) } => {
                    // Finish the request in flight, then close.
                    connection.as_mut().graceful_shutdown();
                    connection.await
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
    let _ = all_done.recv().await;
    Ok(())
}
