//! The timer loops, apart so that slow I/O never delays presence: one runs the presence timers
//! (heartbeat expiry, auto-away, orphaned chats), one drains the push and email outboxes (an
//! SMTP server may take its whole timeout), and one delivers outgoing webhooks and runs the
//! retention period (a hanging receiver never holds back notifications). Both read time from the application's clock, so
//! tests move time by hand and call [`sweep`] themselves. On shutdown each finishes the item at
//! hand and ends.

use std::time::Duration;

use tokio::task::JoinHandle;

use super::AppState;

/// One pass of every timer.
pub async fn sweep(state: &AppState) {
    Loop::Presence.pass(state).await;
    Loop::Outboxes.pass(state).await;
    Loop::Operators.pass(state).await;
}

#[derive(Clone, Copy, Debug)]
enum Loop {
    Presence,
    Outboxes,
    Operators,
}

impl Loop {
    async fn pass(self, state: &AppState) {
        match self {
            Self::Presence => {
                super::presence::sweep(state).await;
                super::chats::wake_due(state).await;
            }
            Self::Outboxes => {
                super::notify::deliver_due(state).await;
                super::attachments::sweep(state).await;
            }
            Self::Operators => {
                super::privacy::expire(state).await;
                super::webhooks::deliver_due(state).await;
            }
        }
    }
}

/// Starts the loops; they end once the application is stopping.
pub fn spawn(state: AppState, every: Duration) -> Vec<JoinHandle<()>> {
    [Loop::Presence, Loop::Outboxes, Loop::Operators].into_iter().map(|which| tokio::spawn(run(state.clone(), every, which))).collect()
}

async fn run(state: AppState, every: Duration, which: Loop) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            biased;
            _ = state.shutdown.stopped() => break,
            _ = tick.tick() => which.pass(&state).await,
        }
    }
    tracing::debug!(timers = ?which, "timer loop stopped");
}
