//! The one timer loop: presence (heartbeat expiry, auto-away, orphaned chats) and the push and
//! email outboxes. It reads time from the application's clock, so tests move time by hand and
//! call [`sweep`] themselves.

use std::time::Duration;

use tokio::task::JoinHandle;

use crate::services::AppState;

/// One pass of every timer.
pub async fn sweep(state: &AppState) {
    crate::services::presence::sweep(state).await;
    crate::services::notify::deliver_due(state).await;
}

pub fn spawn(state: AppState, every: Duration) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            sweep(&state).await;
        }
    })
}
