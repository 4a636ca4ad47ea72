//! Fixed-window rate limits keyed by client (failed logins by address and email, widget calls by
//! address and visitor). On one node, in memory; with several, counted in Redis so a client
//! spreading its requests over the nodes gets no more. Never touches the database.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::clock::{Clock, Millis};
use crate::cluster::Cluster;

#[derive(Clone)]
pub struct RateLimiter {
    /// Names the limit's counters in Redis.
    name: &'static str,
    /// Requests allowed per window, per key. 0 disables the limit.
    limit: u32,
    window_ms: Millis,
    clock: Arc<dyn Clock>,
    /// key -> (window start, count). The lock is held only for a map lookup, never across await.
    windows: Arc<Mutex<HashMap<String, (Millis, u32)>>>,
    /// With several nodes: counters every node shares, in fixed windows of the clock. When
    /// Redis does not answer, this node's own counts decide.
    shared: Option<Arc<Cluster>>,
}

impl RateLimiter {
    pub fn new(limit: u32, window_ms: Millis, clock: Arc<dyn Clock>) -> Self {
        Self { name: "local", limit, window_ms, clock, windows: Arc::default(), shared: None }
    }

    /// The same limit counted across the cluster, under `name`.
    pub fn shared(mut self, name: &'static str, cluster: Option<Arc<Cluster>>) -> Self {
        self.name = name;
        self.shared = cluster;
        self
    }

    /// Now, and the number of the shared fixed window it falls in.
    fn window(&self) -> (Millis, i64) {
        let now = self.clock.now_ms();
        (now, now.div_euclid(self.window_ms))
    }

    /// Seconds until `window` ends (at least one).
    fn retry_after(&self, now: Millis, window: i64) -> u64 {
        let left = (window + 1) * self.window_ms - now;
        ((left + 999) / 1000).max(1) as u64
    }

    /// How long a shared counter lives: its window and the next.
    fn ttl(&self) -> Duration {
        Duration::from_millis(2 * self.window_ms.max(1) as u64)
    }

    /// Counts one request; `Err(seconds until the window ends)` when over the limit.
    pub async fn check(&self, key: &str) -> Result<(), u64> {
        self.allow(key).await?;
        self.record(key).await;
        Ok(())
    }

    /// Whether `key` is still under its limit, without counting anything.
    pub async fn allow(&self, key: &str) -> Result<(), u64> {
        if self.limit == 0 {
            return Ok(());
        }
        if let Some(cluster) = &self.shared {
            let (now, window) = self.window();
            match cluster.peek(self.name, key, window).await {
                Ok(n) if n >= u64::from(self.limit) => return Err(self.retry_after(now, window)),
                Ok(_) => return Ok(()),
                Err(e) => tracing::warn!(error = %e, limit = self.name, "shared rate limit unavailable; counting on this node"),
            }
        }
        self.allow_here(key)
    }

    fn allow_here(&self, key: &str) -> Result<(), u64> {
        let now = self.clock.now_ms();
        let map = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        match map.get(key) {
            Some((start, count)) if now - start < self.window_ms && *count >= self.limit => {
                let left = self.window_ms - (now - start);
                Err(((left + 999) / 1000) as u64)
            }
            _ => Ok(()),
        }
    }

    /// Counts one event against `key` (e.g. a failed login): on this node always, and in the
    /// cluster's counters when there are several nodes.
    pub async fn record(&self, key: &str) {
        if self.limit == 0 {
            return;
        }
        self.record_here(key);
        if let Some(cluster) = &self.shared {
            let (_, window) = self.window();
            if let Err(e) = cluster.count(self.name, key, window, self.ttl()).await {
                tracing::warn!(error = %e, limit = self.name, "shared rate limit unavailable; counted on this node");
            }
        }
    }

    /// Counts one request if `key` is still under its limit, in one step (so concurrent
    /// requests cannot all pass a check before any is counted); a refused request counts nothing.
    pub async fn take(&self, key: &str) -> Result<(), u64> {
        if self.limit == 0 {
            return Ok(());
        }
        if let Some(cluster) = &self.shared {
            let (now, window) = self.window();
            match cluster.count(self.name, key, window, self.ttl()).await {
                Ok(n) if n > u64::from(self.limit) => {
                    let _ = cluster.uncount(self.name, key, window).await;
                    return Err(self.retry_after(now, window));
                }
                Ok(_) => {
                    // Kept here too, for when Redis is away.
                    self.record_here(key);
                    return Ok(());
                }
                Err(e) => tracing::warn!(error = %e, limit = self.name, "shared rate limit unavailable; counting on this node"),
            }
        }
        self.take_here(key)
    }

    /// Gives back what [`Self::take`] counted (another budget refused the request).
    pub async fn give_back(&self, key: &str) {
        if self.limit == 0 {
            return;
        }
        {
            let mut map = self.windows.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(entry) = map.get_mut(key) {
                entry.1 = entry.1.saturating_sub(1);
            }
        }
        if let Some(cluster) = &self.shared {
            let (_, window) = self.window();
            let _ = cluster.uncount(self.name, key, window).await;
        }
    }

    fn take_here(&self, key: &str) -> Result<(), u64> {
        self.count_here(key, true)
    }

    fn record_here(&self, key: &str) {
        let _ = self.count_here(key, false);
    }

    /// Counts one against `key` in this node's windows; with `enforce`, only while under the
    /// limit (`Err(seconds until the window ends)` otherwise).
    fn count_here(&self, key: &str, enforce: bool) -> Result<(), u64> {
        let now = self.clock.now_ms();
        let mut map = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() > 50_000 {
            map.retain(|_, (start, _)| now - *start < self.window_ms);
        }
        let entry = map.entry(key.to_string()).or_insert((now, 0));
        if now - entry.0 >= self.window_ms {
            *entry = (now, 0);
        }
        if enforce && entry.1 >= self.limit {
            let left = self.window_ms - (now - entry.0);
            return Err(((left + 999) / 1000) as u64);
        }
        entry.1 += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    #[tokio::test]
    async fn a_key_is_limited_per_window_and_others_are_not() {
        let clock = ManualClock::new(0);
        let rl = RateLimiter::new(2, 60_000, Arc::new(clock.clone()));
        assert!(rl.check("a").await.is_ok() && rl.check("a").await.is_ok());
        assert_eq!(rl.check("a").await, Err(60));
        assert!(rl.check("b").await.is_ok());
        clock.advance_ms(30_000);
        assert_eq!(rl.check("a").await, Err(30));
        clock.advance_ms(30_000);
        assert!(rl.check("a").await.is_ok());
    }

    #[tokio::test]
    async fn take_counts_only_what_it_lets_through_and_gives_back() {
        let clock = ManualClock::new(0);
        let rl = RateLimiter::new(2, 60_000, Arc::new(clock.clone()));
        assert!(rl.take("k").await.is_ok() && rl.take("k").await.is_ok());
        assert_eq!(rl.take("k").await, Err(60));
        assert_eq!(rl.take("k").await, Err(60), "a refusal counts nothing, and refuses again");
        rl.give_back("k").await;
        assert!(rl.take("k").await.is_ok(), "given back");
        clock.advance_ms(60_000);
        assert!(rl.take("k").await.is_ok(), "a new window");
    }

    #[tokio::test]
    async fn allow_peeks_and_record_counts() {
        let rl = RateLimiter::new(1, 60_000, Arc::new(ManualClock::new(0)));
        assert!(rl.allow("k").await.is_ok() && rl.allow("k").await.is_ok());
        rl.record("k").await;
        assert!(rl.allow("k").await.is_err());
    }
}
