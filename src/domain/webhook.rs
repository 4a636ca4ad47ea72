//! Outgoing webhooks, the pure part: which events a team can subscribe to, how a delivery is
//! signed, when a failed one is tried again, and when a webhook that keeps failing is turned
//! off.

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// What a webhook can be told about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
pub enum Event {
    #[serde(rename = "conversation.escalated")]
    Escalated,
    #[serde(rename = "conversation.claimed")]
    Claimed,
    #[serde(rename = "conversation.transferred")]
    Transferred,
    #[serde(rename = "conversation.resolved")]
    Resolved,
    #[serde(rename = "conversation.reopened")]
    Reopened,
    #[serde(rename = "message.created")]
    MessageCreated,
    #[serde(rename = "csat.given")]
    CsatGiven,
}

impl Event {
    pub const ALL: [Event; 7] =
        [Event::Escalated, Event::Claimed, Event::Transferred, Event::Resolved, Event::Reopened, Event::MessageCreated, Event::CsatGiven];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Escalated => "conversation.escalated",
            Self::Claimed => "conversation.claimed",
            Self::Transferred => "conversation.transferred",
            Self::Resolved => "conversation.resolved",
            Self::Reopened => "conversation.reopened",
            Self::MessageCreated => "message.created",
            Self::CsatGiven => "csat.given",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.as_str() == s)
    }

    /// The event a lifecycle change is announced as (a requeue has none).
    pub fn of(kind: crate::domain::chat::SystemKind) -> Option<Self> {
        use crate::domain::chat::SystemKind as K;
        match kind {
            K::Escalated => Some(Self::Escalated),
            K::Claimed | K::Accepted => Some(Self::Claimed),
            K::Transferred => Some(Self::Transferred),
            K::Resolved => Some(Self::Resolved),
            K::Reopened => Some(Self::Reopened),
            _ => None,
        }
    }
}

/// A webhook's chosen events: at least one, each once, in the order of [`Event::ALL`].
pub fn events(names: &[String]) -> Result<Vec<Event>, String> {
    let mut out = Vec::new();
    for n in names {
        let e = Event::parse(n).ok_or_else(|| format!("{n:?} is not an event (one of {})", Event::ALL.map(Event::as_str).join(", ")))?;
        if !out.contains(&e) {
            out.push(e);
        }
    }
    if out.is_empty() {
        return Err("choose at least one event".into());
    }
    out.sort_by_key(|e| Event::ALL.iter().position(|x| x == e));
    Ok(out)
}

/// The `Baton-Signature` header: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`. The
/// time is signed with the body, so a receiver that refuses old times (five minutes, say) and
/// remembers event ids cannot be fed a recorded delivery again.
pub fn signature(secret: &str, unix_seconds: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(unix_seconds.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    let hex: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
    format!("t={unix_seconds},v1={hex}")
}

/// Waits before each retry: 10 s, 30 s, 2 min, 10 min, 30 min, 1 h, 2 h, 4 h, 8 h (about 16 h
/// in all); `None` after the last: the delivery has failed.
pub fn retry_after_ms(failed_attempts: i64) -> Option<i64> {
    const WAITS: [i64; 9] = [10, 30, 120, 600, 1800, 3600, 7200, 14_400, 28_800];
    usize::try_from(failed_attempts - 1).ok().and_then(|i| WAITS.get(i)).map(|s| s * 1000)
}

/// A webhook is turned off when every attempt for a day has failed (and there were at least
/// ten): a receiver that is gone for good, not one that was down for an hour.
pub const DISABLE_AFTER_MS: i64 = 24 * 3600 * 1000;
pub const DISABLE_AFTER_FAILURES: i64 = 10;

pub fn should_disable(failing_since: i64, consecutive_failures: i64, now: i64) -> bool {
    consecutive_failures >= DISABLE_AFTER_FAILURES && now - failing_since >= DISABLE_AFTER_MS
}

/// Whether `url` may be a webhook's address: http(s) with a host, at most 2000 characters, no
/// user or password in it. (Where it points is checked at every delivery.)
pub fn check_url(raw: &str) -> Result<(), String> {
    if raw.len() > 2000 {
        return Err("must be at most 2000 characters".into());
    }
    let url = url::Url::parse(raw).map_err(|_| "must be an http or https URL".to_string())?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Err("must be an http or https URL".into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not carry a user name or password (use the signing secret)".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_read_back_and_are_checked() {
        for e in Event::ALL {
            assert_eq!(Event::parse(e.as_str()), Some(e));
            assert_eq!(serde_json::to_value(e).unwrap(), serde_json::json!(e.as_str()));
        }
        let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(events(&names(&["csat.given", "message.created", "csat.given"])).unwrap(), vec![Event::MessageCreated, Event::CsatGiven]);
        assert!(events(&names(&[])).is_err());
        assert!(events(&names(&["conversation.exploded"])).unwrap_err().contains("conversation.exploded"));
    }

    #[test]
    fn the_signature_covers_time_and_body() {
        // Known answer: HMAC-SHA256("whsec_test", "1700000000.{}").
        let s = signature("whsec_test", 1_700_000_000, b"{}");
        assert!(s.starts_with("t=1700000000,v1="), "{s}");
        assert_eq!(s.len(), "t=1700000000,v1=".len() + 64);
        assert_ne!(s, signature("whsec_test", 1_700_000_001, b"{}"), "the time is signed");
        assert_ne!(s, signature("whsec_test", 1_700_000_000, b"{ }"), "the body is signed");
        assert_ne!(s, signature("whsec_other", 1_700_000_000, b"{}"), "the secret is the key");
        assert_eq!(s, signature("whsec_test", 1_700_000_000, b"{}"));
    }

    #[test]
    fn retries_back_off_then_stop() {
        let waits: Vec<i64> = (1..=10).filter_map(retry_after_ms).collect();
        assert_eq!(waits.len(), 9);
        assert!(waits.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(retry_after_ms(1), Some(10_000));
        assert_eq!(retry_after_ms(10), None);
        assert_eq!(retry_after_ms(0), None);
    }

    #[test]
    fn a_webhook_is_turned_off_only_after_a_day_of_failures() {
        let day = DISABLE_AFTER_MS;
        assert!(!should_disable(0, 50, day - 1), "not yet a day");
        assert!(!should_disable(0, 9, 2 * day), "too few attempts");
        assert!(should_disable(0, 10, day));
    }

    #[test]
    fn urls_are_http_with_a_host_and_no_credentials() {
        assert!(check_url("https://hooks.example.com/baton?x=1").is_ok());
        assert!(check_url("http://10.0.0.5:8080/in").is_ok(), "where it points is checked when sending");
        for bad in ["ftp://x.test/", "https://", "javascript:alert(1)", "https://user:pw@x.test/", "not a url"] {
            assert!(check_url(bad).is_err(), "{bad}");
        }
        assert!(check_url(&format!("https://x.test/{}", "a".repeat(2000))).is_err());
    }
}
