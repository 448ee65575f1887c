//! The broker's bounds: how many connections, sessions, subscriptions and retained messages it
//! keeps, how large a packet may be, and how much it holds for each client, so that no client
//! (a slow subscriber, a flood of client ids, a huge packet) can grow its memory without limit.
//!
//! Each bound is an `omo broker` flag (`--max-connections`, ...) with the default below; a value
//! outside its range is refused at start by name (exit 64). What the broker can hold is then
//! bounded by about
//! `max_queued_bytes_total + max_retained_bytes + max_connections x (max_outgoing_bytes + max_packet_bytes)`.

/// Bounds on what the broker accepts and holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// TCP connections at once (including those that have not sent CONNECT yet); beyond it a
    /// new connection is answered CONNACK 3 "server unavailable" and closed.
    pub max_connections: usize,
    /// Sessions (connected clients and persistent sessions waiting offline); beyond it a new
    /// client id is answered CONNACK 3.
    pub max_sessions: usize,
    /// Subscriptions per session; beyond it SUBACK answers 0x80 for the new filter.
    pub max_subscriptions: usize,
    /// Largest packet (its remaining length, bytes) read or sent; a larger one ends the
    /// connection (MQTT 3.1.1 has no CONNACK code for it).
    pub max_packet_bytes: usize,
    /// QoS 1 messages sent to a client and not yet acknowledged (per session).
    pub max_inflight: usize,
    /// QoS 1 messages held for a session beyond its in-flight window (offline, or a slow
    /// reader); newer ones are dropped beyond it, as mosquitto's `max_queued_messages`.
    pub max_queued: usize,
    /// Bytes of QoS 1 messages (in flight and queued) held for one session.
    pub max_queued_bytes: usize,
    /// Bytes of QoS 1 messages held for all sessions together.
    pub max_queued_bytes_total: usize,
    /// Bytes waiting to be written to one connection's socket. QoS 0 messages are dropped once
    /// half of it is used; a client whose acknowledgements and other replies do not fit in the
    /// rest (it does not read its socket) is disconnected.
    pub max_outgoing_bytes: usize,
    /// Retained messages (topics); a new retained topic beyond it is not kept (the message is
    /// still delivered).
    pub max_retained: usize,
    /// Bytes of all retained messages (topics and payloads).
    pub max_retained_bytes: usize,
}

const KIB: usize = 1024;
const MIB: usize = 1024 * KIB;
const GIB: usize = 1024 * MIB;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: 256,
            max_sessions: 4096,
            max_subscriptions: 1000,
            max_packet_bytes: MIB,
            max_inflight: 100,
            max_queued: 10_000,
            max_queued_bytes: 16 * MIB,
            max_queued_bytes_total: 256 * MIB,
            max_outgoing_bytes: 4 * MIB,
            max_retained: 10_000,
            max_retained_bytes: 64 * MIB,
        }
    }
}

/// A bound outside its range, named as its flag.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("--{name} {value}: {reason}")]
pub struct LimitError {
    pub name: &'static str,
    pub value: usize,
    pub reason: String,
}

impl Limits {
    /// Each bound with its flag name and allowed range.
    fn ranges(&self) -> [(&'static str, usize, usize, usize); 11] {
        [
            ("max-connections", self.max_connections, 1, 100_000),
            ("max-sessions", self.max_sessions, 1, 1_000_000),
            ("max-subscriptions", self.max_subscriptions, 1, 100_000),
            // 268_435_455: the largest remaining length MQTT can encode.
            ("max-packet-bytes", self.max_packet_bytes, KIB, 268_435_455),
            ("max-inflight", self.max_inflight, 1, 65_535),
            ("max-queued", self.max_queued, 0, 10_000_000),
            ("max-queued-bytes", self.max_queued_bytes, 0, 64 * GIB),
            (
                "max-queued-bytes-total",
                self.max_queued_bytes_total,
                0,
                64 * GIB,
            ),
            (
                "max-outgoing-bytes",
                self.max_outgoing_bytes,
                2 * KIB,
                4 * GIB,
            ),
            ("max-retained", self.max_retained, 0, 10_000_000),
            ("max-retained-bytes", self.max_retained_bytes, 0, 64 * GIB),
        ]
    }

    /// Refuses a bound outside its range, or bounds that cannot work together. Pure.
    pub fn validate(&self) -> Result<(), LimitError> {
        for (name, value, min, max) in self.ranges() {
            if !(min..=max).contains(&value) {
                return Err(LimitError {
                    name,
                    value,
                    reason: format!("must be between {min} and {max}"),
                });
            }
        }
        if self.max_outgoing_bytes < 2 * self.max_packet_bytes {
            return Err(LimitError {
                name: "max-outgoing-bytes",
                value: self.max_outgoing_bytes,
                reason: format!(
                    "must be at least twice --max-packet-bytes ({}), or a large message could never be sent",
                    self.max_packet_bytes
                ),
            });
        }
        if self.max_queued_bytes > self.max_queued_bytes_total {
            return Err(LimitError {
                name: "max-queued-bytes",
                value: self.max_queued_bytes,
                reason: format!(
                    "must not exceed --max-queued-bytes-total ({})",
                    self.max_queued_bytes_total
                ),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_valid() {
        assert_eq!(Limits::default().validate(), Ok(()));
    }

    #[test]
    fn bounds_that_cannot_work_together_are_refused_by_name() {
        let d = Limits::default();
        let small_outbox = Limits {
            max_outgoing_bytes: 4096,
            ..d
        };
        assert!(
            small_outbox
                .validate()
                .unwrap_err()
                .to_string()
                .starts_with("--max-outgoing-bytes 4096: must be at least twice")
        );
        let no_inflight = Limits {
            max_inflight: 0,
            ..d
        };
        assert!(
            no_inflight
                .validate()
                .unwrap_err()
                .to_string()
                .starts_with("--max-inflight 0")
        );
    }
}
