//! Fixed-window rate limits keyed by client (failed logins by address and email, widget calls by
//! address and visitor). In memory and per node: good enough to blunt brute force and floods, and it never
//! touches the database.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::clock::{Clock, Millis};

#[derive(Clone)]
pub struct RateLimiter {
    /// Requests allowed per window, per key. 0 disables the limit.
    limit: u32,
    window_ms: Millis,
    clock: Arc<dyn Clock>,
    /// key -> (window start, count). The lock is held only for a map lookup, never across await.
    windows: Arc<Mutex<HashMap<String, (Millis, u32)>>>,
}

impl RateLimiter {
    pub fn new(limit: u32, window_ms: Millis, clock: Arc<dyn Clock>) -> Self {
        Self { limit, window_ms, clock, windows: Arc::default() }
    }

    /// Counts one request; `Err(seconds until the window ends)` when over the limit.
    pub fn check(&self, key: &str) -> Result<(), u64> {
        self.allow(key)?;
        self.record(key);
        Ok(())
    }

    /// Whether `key` is still under its limit, without counting anything.
    pub fn allow(&self, key: &str) -> Result<(), u64> {
        if self.limit == 0 {
            return Ok(());
        }
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

    /// Counts one event against `key` (e.g. a failed login).
    pub fn record(&self, key: &str) {
        if self.limit == 0 {
            return;
        }
        let now = self.clock.now_ms();
        let mut map = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() > 50_000 {
            map.retain(|_, (start, _)| now - *start < self.window_ms);
        }
        let entry = map.entry(key.to_string()).or_insert((now, 0));
        if now - entry.0 >= self.window_ms {
            *entry = (now, 0);
        }
        entry.1 += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    #[test]
    fn a_key_is_limited_per_window_and_others_are_not() {
        let clock = ManualClock::new(0);
        let rl = RateLimiter::new(2, 60_000, Arc::new(clock.clone()));
        assert!(rl.check("a").is_ok() && rl.check("a").is_ok());
        assert_eq!(rl.check("a"), Err(60));
        assert!(rl.check("b").is_ok());
        clock.advance_ms(30_000);
        assert_eq!(rl.check("a"), Err(30));
        clock.advance_ms(30_000);
        assert!(rl.check("a").is_ok());
    }

    #[test]
    fn allow_peeks_and_record_counts() {
        let rl = RateLimiter::new(1, 60_000, Arc::new(ManualClock::new(0)));
        assert!(rl.allow("k").is_ok() && rl.allow("k").is_ok());
        rl.record("k");
        assert!(rl.allow("k").is_err());
    }
}
