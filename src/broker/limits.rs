//! The broker's bounds: how many connections, sessions, subscriptions and retained messages it
//! keeps, how large a packet may be, and how much it holds for each client, so that no client
//! (a slow subscriber, a flood of client ids, a huge packet) can grow its memory without limit.
//!
//! Each bound is an `omo broker` flag (`--max-connections`, ...) with the default below; a value
//! outside its range is refused at start by name (exit 64). What the broker can hold is then
//! bounded by about
//! `max_queued_bytes_total + max_retained_bytes + max_connections x (max_outgoing_bytes + max_packet_bytes)`.

use clap::Args;

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

/// The `omo broker` flags that override [`Limits::default`].
#[derive(Debug, Clone, Default, Args)]
pub struct LimitArgs {
    /// TCP connections at once [default: 256].
    #[arg(long, value_name = "N")]
    pub max_connections: Option<usize>,
    /// Sessions, connected or persistent and offline [default: 4096].
    #[arg(long, value_name = "N")]
    pub max_sessions: Option<usize>,
    /// Subscriptions per session [default: 1000].
    #[arg(long, value_name = "N")]
    pub max_subscriptions: Option<usize>,
    /// Largest packet read or sent, bytes [default: 1048576].
    #[arg(long, value_name = "BYTES")]
    pub max_packet_bytes: Option<usize>,
    /// Unacknowledged QoS 1 messages per client [default: 100].
    #[arg(long, value_name = "N")]
    pub max_inflight: Option<usize>,
    /// QoS 1 messages queued per session [default: 10000].
    #[arg(long, value_name = "N")]
    pub max_queued: Option<usize>,
    /// Bytes of QoS 1 messages held per session [default: 16 MiB].
    #[arg(long, value_name = "BYTES")]
    pub max_queued_bytes: Option<usize>,
    /// Bytes of QoS 1 messages held for all sessions [default: 256 MiB].
    #[arg(long, value_name = "BYTES")]
    pub max_queued_bytes_total: Option<usize>,
    /// Bytes waiting to be written to one client's socket [default: 4 MiB].
    #[arg(long, value_name = "BYTES")]
    pub max_outgoing_bytes: Option<usize>,
    /// Retained messages [default: 10000].
    #[arg(long, value_name = "N")]
    pub max_retained: Option<usize>,
    /// Bytes of all retained messages [default: 64 MiB].
    #[arg(long, value_name = "BYTES")]
    pub max_retained_bytes: Option<usize>,
}

impl LimitArgs {
    /// The defaults with these flags applied, validated.
    pub fn limits(&self) -> Result<Limits, LimitError> {
        let d = Limits::default();
        let limits = Limits {
            max_connections: self.max_connections.unwrap_or(d.max_connections),
            max_sessions: self.max_sessions.unwrap_or(d.max_sessions),
            max_subscriptions: self.max_subscriptions.unwrap_or(d.max_subscriptions),
            max_packet_bytes: self.max_packet_bytes.unwrap_or(d.max_packet_bytes),
            max_inflight: self.max_inflight.unwrap_or(d.max_inflight),
            max_queued: self.max_queued.unwrap_or(d.max_queued),
            max_queued_bytes: self.max_queued_bytes.unwrap_or(d.max_queued_bytes),
            max_queued_bytes_total: self
                .max_queued_bytes_total
                .unwrap_or(d.max_queued_bytes_total),
            max_outgoing_bytes: self.max_outgoing_bytes.unwrap_or(d.max_outgoing_bytes),
            max_retained: self.max_retained.unwrap_or(d.max_retained),
            max_retained_bytes: self.max_retained_bytes.unwrap_or(d.max_retained_bytes),
        };
        limits.validate()?;
        Ok(limits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_valid() {
        assert_eq!(Limits::default().validate(), Ok(()));
        assert_eq!(LimitArgs::default().limits(), Ok(Limits::default()));
    }

    #[test]
    fn absurd_values_are_refused_by_name() {
        let cases = [
            (
                LimitArgs {
                    max_inflight: Some(0),
                    ..LimitArgs::default()
                },
                "--max-inflight 0",
            ),
            (
                LimitArgs {
                    max_packet_bytes: Some(1 << 30),
                    ..LimitArgs::default()
                },
                "--max-packet-bytes",
            ),
            (
                LimitArgs {
                    max_connections: Some(usize::MAX),
                    ..LimitArgs::default()
                },
                "--max-connections",
            ),
            (
                LimitArgs {
                    max_outgoing_bytes: Some(4096),
                    ..LimitArgs::default()
                },
                "--max-outgoing-bytes 4096: must be at least twice",
            ),
            (
                LimitArgs {
                    max_queued_bytes: Some(GIB),
                    ..LimitArgs::default()
                },
                "--max-queued-bytes 1073741824: must not exceed",
            ),
        ];
        for (args, expected) in cases {
            let error = args.limits().unwrap_err().to_string();
            assert!(error.starts_with(expected), "{error}");
        }
    }
}
