//! The login rate limit: after [`MAX_FAILURES`] failed logins within [`WINDOW`] from one client
//! IP, or for one operator name, further logins from that IP or for that name are refused
//! (HTTP 429 with `Retry-After`) until [`LOCKOUT`] has passed since the last failure, without
//! checking the password. A successful login clears its IP's and name's counts.
//!
//! In memory, like the sessions; at most [`MAX_TRACKED`] keys are kept (the oldest go first),
//! so a flood of names cannot grow it without bound.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failures allowed within [`WINDOW`] before a key is locked.
pub const MAX_FAILURES: u32 = 5;
/// Failures older than this are forgotten.
pub const WINDOW: Duration = Duration::from_secs(15 * 60);
/// How long a locked key stays locked after its last failure.
pub const LOCKOUT: Duration = Duration::from_secs(60);
/// The most keys tracked at once.
pub const MAX_TRACKED: usize = 10_000;

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    first: Instant,
    last: Instant,
}

/// Failed logins by key (`ip:…` and `name:…`).
#[derive(Default)]
pub struct LoginLimiter {
    failures: Mutex<HashMap<String, Failures>>,
}

/// The keys a login from `client` for `name` is counted under.
pub fn keys(client: Option<IpAddr>, name: &str) -> Vec<String> {
    let mut keys = vec![format!("name:{name}")];
    if let Some(ip) = client {
        keys.push(format!("ip:{ip}"));
    }
    keys
}

impl LoginLimiter {
    /// How long until one of `keys` may try again, if one is locked.
    pub fn locked(&self, keys: &[String]) -> Option<Duration> {
        let failures = self.failures.lock().ok()?;
        let now = Instant::now();
        keys.iter()
            .filter_map(|k| failures.get(k))
            .filter(|f| f.count >= MAX_FAILURES && now.duration_since(f.first) < WINDOW)
            .filter_map(|f| LOCKOUT.checked_sub(now.duration_since(f.last)))
            .filter(|wait| !wait.is_zero())
            .max()
    }

    /// Counts a failure for each of `keys`.
    pub fn failed(&self, keys: &[String]) {
        let Ok(mut failures) = self.failures.lock() else {
            return;
        };
        let now = Instant::now();
        failures.retain(|_, f| now.duration_since(f.last) < WINDOW);
        while failures.len() + keys.len() > MAX_TRACKED {
            let Some(oldest) = failures
                .iter()
                .min_by_key(|(_, f)| f.last)
                .map(|(k, _)| k.clone())
            else {
                break;
            };
            failures.remove(&oldest);
        }
        for key in keys {
            let entry = failures.entry(key.clone()).or_insert(Failures {
                count: 0,
                first: now,
                last: now,
            });
            if now.duration_since(entry.first) >= WINDOW {
                *entry = Failures {
                    count: 0,
                    first: now,
                    last: now,
                };
            }
            entry.count = entry.count.saturating_add(1);
            entry.last = now;
        }
    }

    /// Clears `keys` after a successful login.
    pub fn succeeded(&self, keys: &[String]) {
        if let Ok(mut failures) = self.failures.lock() {
            for key in keys {
                failures.remove(key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_locks_after_the_limit_and_clears_on_success() {
        let limiter = LoginLimiter::default();
        let keys = keys(Some("192.0.2.1".parse().unwrap()), "li");
        for _ in 0..MAX_FAILURES - 1 {
            limiter.failed(&keys);
            assert!(limiter.locked(&keys).is_none());
        }
        limiter.failed(&keys);
        let wait = limiter.locked(&keys).unwrap();
        assert!(wait <= LOCKOUT && wait > LOCKOUT - Duration::from_secs(5));
        assert!(limiter.locked(&["name:other".to_string()]).is_none());
        limiter.succeeded(&keys);
        assert!(limiter.locked(&keys).is_none());
    }

    #[test]
    fn the_table_stays_bounded() {
        let limiter = LoginLimiter::default();
        for n in 0..MAX_TRACKED + 50 {
            limiter.failed(&[format!("name:n{n}")]);
        }
        assert!(limiter.failures.lock().unwrap().len() <= MAX_TRACKED);
    }
}
