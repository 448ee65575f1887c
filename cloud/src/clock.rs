//! Time as the cloud sees it: a [`Clock`] handed in, so tests can set the time TOTP codes use.
//!
//! Timestamps on the wire and in the database are UTC RFC 3339 with microseconds and a `Z`
//! suffix, so that text order is time order in both SQLite and PostgreSQL.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};

/// A source of the current time.
pub trait Clock: Send + Sync + 'static {
    /// The current time in UTC.
    fn now(&self) -> DateTime<Utc>;
}

/// The system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that stands still until told to move (for tests and simulations).
#[derive(Debug, Clone)]
pub struct ManualClock {
    now: Arc<Mutex<DateTime<Utc>>>,
}

impl ManualClock {
    /// A clock showing `start`.
    pub fn new(start: DateTime<Utc>) -> Self {
        Self {
            now: Arc::new(Mutex::new(start)),
        }
    }

    /// A clock showing the given Unix time (seconds).
    pub fn at_unix(secs: i64) -> Self {
        Self::new(DateTime::from_timestamp(secs, 0).unwrap_or_default())
    }

    /// Set the time.
    pub fn set(&self, to: DateTime<Utc>) {
        *self.now.lock().unwrap_or_else(|e| e.into_inner()) = to;
    }

    /// Move the time forward (or back, with a negative duration).
    pub fn advance(&self, by: Duration) {
        let mut now = self.now.lock().unwrap_or_else(|e| e.into_inner());
        *now += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.now.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A time as stored and sent: RFC 3339, UTC, microseconds, `Z`.
pub use omo_contract::time::stored as to_rfc3339;

/// Seconds since the Unix epoch, never negative (times before 1970 count as 0).
pub fn unix_secs(t: DateTime<Utc>) -> u64 {
    u64::try_from(t.timestamp()).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_order_is_time_order() {
        let a = DateTime::from_timestamp(1_700_000_000, 5_000).unwrap();
        let b = a + Duration::milliseconds(1);
        assert!(to_rfc3339(a) < to_rfc3339(b));
        assert_eq!(to_rfc3339(a), "2023-11-14T22:13:20.000005Z");
    }

    #[test]
    fn manual_clock_moves_only_when_told() {
        let clock = ManualClock::at_unix(59);
        assert_eq!(unix_secs(clock.now()), 59);
        clock.advance(Duration::seconds(30));
        assert_eq!(unix_secs(clock.now()), 89);
    }
}
