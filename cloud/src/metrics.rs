//! Telemetry: each event logs and counts in one place; `/metrics` renders Prometheus text.
//!
//! Payment codes and wallet secrets are never logged.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// The cloud's counters.
#[derive(Debug, Default)]
pub struct Metrics {
    payments: Mutex<BTreeMap<(String, String), u64>>,
    replays: AtomicU64,
    refunds: AtomicU64,
    wallets_enrolled: AtomicU64,
    catalog_changes: AtomicU64,
    trace_stored: AtomicU64,
    trace_repeated: AtomicU64,
    sessions_adopted: AtomicU64,
    adopted_messages: AtomicU64,
}

impl Metrics {
    /// A payment reached a result (first time only; replays are counted apart).
    pub fn payment_decided(
        &self,
        store_id: &str,
        order_id: &str,
        payment_id: &str,
        status: &str,
        reason: &str,
        amount_fen: i64,
    ) {
        tracing::info!(
            store_id,
            order_id,
            payment_id,
            status,
            reason,
            amount_fen,
            "payment decided"
        );
        let key = (status.to_ascii_lowercase(), reason.to_ascii_lowercase());
        let mut map = self.payments.lock().unwrap_or_else(|e| e.into_inner());
        *map.entry(key).or_default() += 1;
    }

    /// An Authorize repeated an order already decided; nothing was charged.
    pub fn authorize_replayed(&self, store_id: &str, order_id: &str, payment_id: &str) {
        tracing::debug!(
            store_id,
            order_id,
            payment_id,
            "authorize replayed; first result returned"
        );
        self.replays.fetch_add(1, Ordering::Relaxed);
    }

    /// A message waiting in a dead member's session was handed to this process's consumer.
    pub fn adopted_message(&self) {
        self.adopted_messages.fetch_add(1, Ordering::Relaxed);
    }

    /// This process drained the broker session of `member`, a dead process of its share group,
    /// having handed `handed` waiting messages to its own `role` consumer.
    pub fn session_adopted(&self, role: &str, member: &str, handed: u64) {
        tracing::warn!(
            role,
            member,
            handed,
            "adopted a dead member's session: drained and out of the group"
        );
        self.sessions_adopted.fetch_add(1, Ordering::Relaxed);
    }

    /// A refund (or a cancel of a succeeded payment) moved money back.
    pub fn refunded(&self, payment_id: &str, refund_id: &str, amount_fen: i64) {
        tracing::info!(payment_id, refund_id, amount_fen, "refunded");
        self.refunds.fetch_add(1, Ordering::Relaxed);
    }

    /// A wallet was enrolled.
    pub fn wallet_enrolled(&self, wallet_id: &str) {
        tracing::info!(wallet_id, "wallet enrolled");
        self.wallets_enrolled.fetch_add(1, Ordering::Relaxed);
    }

    /// Catalog products changed.
    pub fn catalog_changed(&self, changed: u64, latest_version: i64) {
        tracing::info!(changed, latest_version, "catalog updated");
        self.catalog_changes.fetch_add(changed, Ordering::Relaxed);
    }

    /// The trace consumer handled an event: stored it, or dropped it as one stored already.
    pub fn trace_event(&self, stored: bool) {
        let counter = if stored {
            &self.trace_stored
        } else {
            &self.trace_repeated
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Prometheus text exposition of every counter.
    pub fn render(&self) -> String {
        let mut out = String::new();
        out.push_str(
            "# HELP omo_cloud_payments_total Payments decided, by result and decline reason.\n",
        );
        out.push_str("# TYPE omo_cloud_payments_total counter\n");
        let map = self.payments.lock().unwrap_or_else(|e| e.into_inner());
        for status in ["succeeded", "pending", "declined"] {
            if !map.keys().any(|(s, _)| s == status) {
                let _ = writeln!(
                    out,
                    "omo_cloud_payments_total{{result=\"{status}\",reason=\"\"}} 0"
                );
            }
        }
        for ((status, reason), n) in map.iter() {
            let _ = writeln!(
                out,
                "omo_cloud_payments_total{{result=\"{status}\",reason=\"{reason}\"}} {n}"
            );
        }
        drop(map);
        for (name, help, value) in [
            (
                "omo_cloud_authorize_replays_total",
                "Authorize calls answered with an earlier result.",
                &self.replays,
            ),
            (
                "omo_cloud_refunds_total",
                "Refunds and cancels that moved money back.",
                &self.refunds,
            ),
            (
                "omo_cloud_wallets_enrolled_total",
                "Wallets enrolled.",
                &self.wallets_enrolled,
            ),
            (
                "omo_cloud_catalog_changes_total",
                "Catalog products changed.",
                &self.catalog_changes,
            ),
            (
                "omo_cloud_trace_events_stored_total",
                "Trace events this process stored (a shared subscription splits them).",
                &self.trace_stored,
            ),
            (
                "omo_cloud_trace_events_repeated_total",
                "Trace events this process dropped as stored already.",
                &self.trace_repeated,
            ),
            (
                "omo_cloud_mqtt_sessions_adopted_total",
                "Sessions of dead share-group members this process drained.",
                &self.sessions_adopted,
            ),
            (
                "omo_cloud_mqtt_adopted_messages_total",
                "Messages this process took from dead members' sessions.",
                &self.adopted_messages,
            ),
        ] {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}",
                value.load(Ordering::Relaxed)
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_by_result() {
        let m = Metrics::default();
        m.payment_decided("S1", "o1", "p1", "SUCCEEDED", "", 100);
        m.payment_decided("S1", "o2", "p2", "DECLINED", "INSUFFICIENT_FUNDS", 100);
        let text = m.render();
        assert!(
            text.contains("omo_cloud_payments_total{result=\"succeeded\",reason=\"\"} 1"),
            "{text}"
        );
        assert!(
            text.contains(
                "omo_cloud_payments_total{result=\"declined\",reason=\"insufficient_funds\"} 1"
            ),
            "{text}"
        );
        assert!(
            text.contains("omo_cloud_payments_total{result=\"pending\",reason=\"\"} 0"),
            "{text}"
        );
    }
}
