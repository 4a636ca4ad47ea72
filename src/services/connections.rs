//! How many sockets may be open: per visitor, per agent, per address, and in all. One token or
//! one address cannot take every file descriptor the process has, so `/healthz`, logins and
//! everyone else's sockets keep working. Counts are this node's; a guard held by the session
//! gives its places back when the socket ends.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The limits (0: no limit).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub per_visitor: usize,
    pub per_agent: usize,
    pub per_address: usize,
    /// Every socket of this node; keep it below the process's file-descriptor limit with room
    /// for HTTP, the database and the outboxes.
    pub total: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self { per_visitor: 5, per_agent: 20, per_address: 500, total: 16_000 }
    }
}

/// Time and count limits for HTTP connections (0 or `None`: no limit).
#[derive(Debug, Clone, Copy)]
pub struct HttpLimits {
    /// How long a client may take to send a request's headers, counted from when the
    /// connection is ready for one: this also closes idle keep-alive connections.
    pub header_timeout: Duration,
    /// How long a client may take to send a request's body.
    pub body_timeout: Duration,
    /// Plain HTTP connections open at once on this node.
    pub max_connections: usize,
    /// Plain HTTP connections open at once from one address (trusted proxies are exempt).
    pub connections_per_address: usize,
}

impl Default for HttpLimits {
    fn default() -> Self {
        Self { header_timeout: Duration::from_secs(15), body_timeout: Duration::from_secs(30), max_connections: 2_000, connections_per_address: 100 }
    }
}

/// Why a socket was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// This visitor, agent or address holds as many sockets as it may.
    TooMany,
    /// The node holds as many sockets as it may.
    Full,
}

#[derive(Debug, Default)]
struct Counts {
    total: usize,
    by_key: HashMap<String, usize>,
}

/// The counts, shared by every socket of the node. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Connections {
    limits: Limits,
    counts: Arc<Mutex<Counts>>,
}

/// Holds a socket's places until dropped.
#[derive(Debug)]
pub struct Opened {
    keys: Vec<String>,
    counts: Arc<Mutex<Counts>>,
}

impl Connections {
    pub fn new(limits: Limits) -> Self {
        // Shown from the start, not only once a socket opened.
        metrics::gauge!("baton_sockets_open").set(0.0);
        Self { limits, counts: Arc::default() }
    }

    /// Takes a place for a visitor's socket from `address`.
    pub fn visitor(&self, visitor: &str, address: &str) -> Result<Opened, Refused> {
        self.open(&[(format!("visitor:{visitor}"), self.limits.per_visitor), (format!("address:{address}"), self.limits.per_address)])
    }

    /// Takes a place for an agent's socket from `address`.
    pub fn agent(&self, agent: &str, address: &str) -> Result<Opened, Refused> {
        self.open(&[(format!("agent:{agent}"), self.limits.per_agent), (format!("address:{address}"), self.limits.per_address)])
    }

    fn open(&self, keys: &[(String, usize)]) -> Result<Opened, Refused> {
        // Never held across an await: a few map operations.
        let mut c = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        if self.limits.total != 0 && c.total >= self.limits.total {
            return Err(Refused::Full);
        }
        if keys.iter().any(|(k, max)| *max != 0 && c.by_key.get(k).copied().unwrap_or(0) >= *max) {
            return Err(Refused::TooMany);
        }
        c.total += 1;
        metrics::gauge!("baton_sockets_open").set(c.total as f64);
        for (k, _) in keys {
            *c.by_key.entry(k.clone()).or_default() += 1;
        }
        Ok(Opened { keys: keys.iter().map(|(k, _)| k.clone()).collect(), counts: self.counts.clone() })
    }
}

impl Drop for Opened {
    fn drop(&mut self) {
        let mut c = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        c.total = c.total.saturating_sub(1);
        metrics::gauge!("baton_sockets_open").set(c.total as f64);
        for k in &self.keys {
            if let Some(n) = c.by_key.get_mut(k) {
                *n -= 1;
                if *n == 0 {
                    c.by_key.remove(k);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_are_taken_per_key_and_in_all_and_given_back() {
        let c = Connections::new(Limits { per_visitor: 2, per_agent: 1, per_address: 3, total: 4 });
        let a = c.visitor("v1", "1.1.1.1").unwrap();
        let _b = c.visitor("v1", "1.1.1.1").unwrap();
        assert_eq!(c.visitor("v1", "2.2.2.2").unwrap_err(), Refused::TooMany, "per visitor");
        let _d = c.visitor("v2", "1.1.1.1").unwrap();
        assert_eq!(c.visitor("v3", "1.1.1.1").unwrap_err(), Refused::TooMany, "per address");
        let _e = c.agent("u1", "3.3.3.3").unwrap();
        assert_eq!(c.agent("u2", "4.4.4.4").unwrap_err(), Refused::Full, "in all");
        drop(a);
        assert!(c.agent("u2", "4.4.4.4").is_ok(), "a closed socket gives its places back");
        assert!(c.counts.lock().unwrap().by_key.values().all(|n| *n > 0), "no empty counters linger");
    }
}
