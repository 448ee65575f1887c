//! Device health: what the edge shows on its dashboard and publishes, retained, on
//! `omo/v1/stores/{store}/devices/{device}/state`. Drivers keep a [`HealthTracker`] and emit a
//! [`DeviceHealth`] snapshot whenever the status changes.
//!
//! A device is marked down after `fail_threshold` consecutive failures (a timeout, a garbage reply);
//! a single success brings it back. Every connect and disconnect is recorded with its time.

use std::collections::VecDeque;

use chrono::{DateTime, Utc};
use serde::Serialize;

/// What kind of device this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceKind {
    Scanner,
    Scale,
    Gate,
    Camera,
}

/// Whether a device can be used (UnifiedPOS: online / offline / malfunction).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceStatus {
    /// Connected and answering.
    Online,
    /// Not connected (port missing, cable pulled).
    Offline,
    /// Connected but not working (no answer, garbage, hardware error).
    Fault,
}

/// One connect or disconnect, with its time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConnectionEvent {
    pub at: DateTime<Utc>,
    /// `true` for a connect, `false` for a disconnect.
    pub connected: bool,
    pub reason: Option<String>,
}

/// A snapshot of one device's health.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeviceHealth {
    /// The device's name (its port path, or the name the config gives it).
    pub device: String,
    pub kind: DeviceKind,
    pub status: DeviceStatus,
    /// Why the device is offline or faulty.
    pub reason: Option<String>,
    /// When the device last answered.
    pub last_seen: Option<DateTime<Utc>>,
    /// When `status` last changed.
    pub since: DateTime<Utc>,
    /// Errors since start (timeouts, garbage, IO errors).
    pub errors: u64,
    /// Failures since the last success.
    pub consecutive_failures: u32,
    /// Successful connections since start.
    pub connects: u64,
    /// Disconnections since start.
    pub disconnects: u64,
    /// The most recent connects and disconnects, oldest first (at most 16).
    pub history: Vec<ConnectionEvent>,
}

const HISTORY: usize = 16;

/// Keeps one device's health; pure state, the driver supplies the clock.
#[derive(Debug, Clone)]
pub struct HealthTracker {
    health: DeviceHealth,
    history: VecDeque<ConnectionEvent>,
    fail_threshold: u32,
}

impl HealthTracker {
    /// A device not yet connected.
    pub fn new(
        device: impl Into<String>,
        kind: DeviceKind,
        fail_threshold: u32,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            health: DeviceHealth {
                device: device.into(),
                kind,
                status: DeviceStatus::Offline,
                reason: Some("not connected yet".into()),
                last_seen: None,
                since: now,
                errors: 0,
                consecutive_failures: 0,
                connects: 0,
                disconnects: 0,
                history: Vec::new(),
            },
            history: VecDeque::new(),
            fail_threshold: fail_threshold.max(1),
        }
    }

    /// The current snapshot.
    pub fn snapshot(&self) -> DeviceHealth {
        let mut h = self.health.clone();
        h.history = self.history.iter().cloned().collect();
        h
    }

    /// The current status.
    pub fn status(&self) -> DeviceStatus {
        self.health.status
    }

    fn set(&mut self, status: DeviceStatus, reason: Option<String>, now: DateTime<Utc>) -> bool {
        let changed = self.health.status != status || self.health.reason != reason;
        if self.health.status != status {
            self.health.since = now;
        }
        self.health.status = status;
        self.health.reason = reason;
        changed
    }

    fn record(&mut self, connected: bool, reason: Option<String>, now: DateTime<Utc>) {
        if self.history.len() == HISTORY {
            self.history.pop_front();
        }
        self.history.push_back(ConnectionEvent {
            at: now,
            connected,
            reason,
        });
    }

    /// The port opened. Returns true when the snapshot changed.
    pub fn connected(&mut self, now: DateTime<Utc>) -> bool {
        self.health.connects += 1;
        self.health.consecutive_failures = 0;
        self.record(true, None, now);
        self.set(DeviceStatus::Online, None, now);
        true
    }

    /// The port closed or failed to open. Returns true when the snapshot changed.
    pub fn disconnected(&mut self, reason: impl Into<String>, now: DateTime<Utc>) -> bool {
        let reason = reason.into();
        let was_connected = self.health.status != DeviceStatus::Offline;
        if was_connected {
            self.health.disconnects += 1;
            self.health.errors += 1;
            self.record(false, Some(reason.clone()), now);
        }
        self.set(DeviceStatus::Offline, Some(reason), now)
    }

    /// The device answered. Returns true when the snapshot changed.
    pub fn success(&mut self, now: DateTime<Utc>) -> bool {
        self.health.last_seen = Some(now);
        self.health.consecutive_failures = 0;
        if self.health.status == DeviceStatus::Fault {
            return self.set(DeviceStatus::Online, None, now);
        }
        false
    }

    /// The device failed once (timeout, garbage). After `fail_threshold` in a row it is marked
    /// `Fault`. Returns true when the snapshot changed.
    pub fn failure(&mut self, reason: impl Into<String>, now: DateTime<Utc>) -> bool {
        self.health.errors += 1;
        self.health.consecutive_failures = self.health.consecutive_failures.saturating_add(1);
        if self.health.status == DeviceStatus::Online
            && self.health.consecutive_failures >= self.fail_threshold
        {
            return self.set(DeviceStatus::Fault, Some(reason.into()), now);
        }
        false
    }

    /// The device cannot work at all (a broken decoder, a build without its driver): marked
    /// `Fault` at once, whatever the threshold. Returns true when the snapshot changed.
    pub fn fault(&mut self, reason: impl Into<String>, now: DateTime<Utc>) -> bool {
        self.health.errors += 1;
        self.set(DeviceStatus::Fault, Some(reason.into()), now)
    }

    /// Counts an error that does not change the status (a garbage scanner frame).
    pub fn count_error(&mut self) {
        self.health.errors += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn down_after_threshold_and_back_after_success() {
        let now = Utc::now();
        let mut t = HealthTracker::new("/dev/ttyUSB0", DeviceKind::Scale, 3, now);
        assert_eq!(t.status(), DeviceStatus::Offline);
        assert!(t.connected(now));
        assert!(!t.failure("timeout", now));
        assert!(!t.failure("timeout", now));
        assert!(t.failure("timeout", now));
        assert_eq!(t.status(), DeviceStatus::Fault);
        assert!(t.success(now));
        assert_eq!(t.status(), DeviceStatus::Online);
        assert_eq!(t.snapshot().errors, 3);
    }

    #[test]
    fn disconnects_are_recorded_with_time() {
        let now = Utc::now();
        let mut t = HealthTracker::new("scanner", DeviceKind::Scanner, 1, now);
        t.connected(now);
        t.disconnected("EIO", now);
        t.disconnected("EIO again", now);
        t.connected(now);
        let s = t.snapshot();
        assert_eq!((s.connects, s.disconnects), (2, 1));
        assert_eq!(s.history.len(), 3);
        assert!(!s.history[1].connected);
        let json = serde_json::to_value(&s).unwrap();
        assert_eq!(json["status"], "online");
    }
}
