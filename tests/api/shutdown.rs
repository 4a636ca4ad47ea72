//! Stopping (SIGTERM, Ctrl-C): every socket is told "going away" (1001) so clients reconnect,
//! and the outbox finishes the delivery at hand before the process ends.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{Notify, mpsc};

use crate::backend_tests;
use crate::helpers::*;
use crate::notifications::{device, subscribe_at};

/// A push service that takes each push and answers only once the test opens the gate.
async fn gated_push_service() -> (String, mpsc::UnboundedReceiver<()>, Arc<Notify>, Arc<Mutex<usize>>) {
    let (arrived, arrivals) = mpsc::unbounded_channel();
    let gate = Arc::new(Notify::new());
    let count = Arc::new(Mutex::new(0usize));
    let (g, c) = (gate.clone(), count.clone());
    let router = axum::Router::new().route(
        "/push/{device}",
        axum::routing::post(move || {
            let (arrived, g, c) = (arrived.clone(), g.clone(), c.clone());
            async move {
                *c.lock().unwrap() += 1;
                let _ = arrived.send(());
                g.notified().await;
                axum::http::StatusCode::CREATED
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/push/laptop", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    (url, arrivals, gate, count)
}

async fn stopping_closes_every_socket_as_going_away_and_finishes_the_push_at_hand(app: TestApp) {
    let backend = app.backend;
    drop(app);
    // The timer loops run on their own here, as in production.
    let mut app = TestApp::spawn_with(backend, |s| s.sweep_every = Some(Duration::from_millis(10))).await;
    let (endpoint, mut arrivals, gate, count) = gated_push_service().await;
    let owner = app.setup().await;
    let alice = app.add_agent(&owner, "Alice", "chat_agent").await;
    let laptop = device();
    subscribe_at(&app, &alice, &endpoint, &laptop).await;
    let mut inbox = Ws::agent(&app, &owner).await;
    let bot = app.shop_bot(&owner).await;
    let (visitor, _chat) = app.pending_chat(&bot).await;
    let mut widget = Ws::visitor(&app, &visitor).await;
    widget.flush().await;

    // Alice's inbox is closed: the escalation goes to her laptop, and the push service holds it.
    arrivals.recv().await.expect("the push reached the push service");
    let server = app.stop();
    assert_eq!(inbox.close_code().await, Some(1001), "the inbox is told the server is going away");
    assert_eq!(widget.close_code().await, Some(1001), "so is the widget");
    assert!(!server.is_finished(), "the push at hand is still being delivered");
    gate.notify_one();
    server.await.expect("the server task").expect("the server stopped cleanly");

    // The delivery was recorded before the process ended, and was made once.
    app.restart().await;
    let subs = alice.get(&app, "/api/me/push-subscriptions").await;
    assert!(subs.body[0]["last_success_at"].is_string(), "{}", subs.body);
    assert_eq!(*count.lock().unwrap(), 1);
    let r = owner.get(&app, "/healthz").await;
    assert_eq!(r.status, 200);
}

backend_tests!(stopping_closes_every_socket_as_going_away_and_finishes_the_push_at_hand);
