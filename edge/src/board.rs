//! The board: what the edge shows operators, in memory. Lanes publish their view here after each
//! committed step, devices their health; the HTTP API reads it, and live clients subscribe to
//! changes. Counters for `/metrics` live here too, so each telemetry event is counted in one place.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, RwLock};

use omo_devices::health::DeviceHealth;
use serde::Serialize;
use tokio::sync::broadcast;

use crate::lane::{InterventionKind, Lane};

/// A lane as operators and the lane screen see it: public (the API, the live event stream and
/// the retained MQTT lane state all serialize it), so the paid basket's exit pass and the paying
/// wallet's id are taken out of the lane. The pass is kept beside it, never serialized, for the
/// lane's authenticated screen ([`crate::web::screen`]).
#[derive(Debug, Clone, Serialize)]
pub struct LaneView {
    pub store_id: String,
    #[serde(flatten)]
    pub lane: Lane,
    pub total_fen: i64,
    pub item_count: u32,
    /// The paid basket's exit pass: only for the lane's screen.
    #[serde(skip)]
    pub exit_pass: Option<String>,
}

impl LaneView {
    pub fn new(store_id: &str, lane: &Lane) -> LaneView {
        let basket = lane.session.as_ref().map(|s| &s.basket);
        let (total_fen, item_count) = (
            basket.map_or(0, |b| b.total_fen()),
            basket.map_or(0, |b| b.item_count()),
        );
        let mut lane = lane.clone();
        let payment = lane.session.as_mut().and_then(|s| s.payment.as_mut());
        let exit_pass = payment.and_then(|p| {
            p.wallet_id = None;
            p.exit_pass.take()
        });
        LaneView {
            store_id: store_id.to_string(),
            lane,
            total_fen,
            item_count,
            exit_pass,
        }
    }
}

/// A change for live clients.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Update {
    Lane(Box<LaneView>),
    Device(DeviceHealth),
}

/// Counters exported at `/metrics`.
#[derive(Debug, Default)]
pub struct Counters {
    pub scans: AtomicU64,
    pub bad_scans: AtomicU64,
    pub payments_succeeded: AtomicU64,
    pub payments_declined: AtomicU64,
    pub payments_cancelled: AtomicU64,
    pub checkouts: AtomicU64,
    pub device_errors: AtomicU64,
    pub exit_refusals: AtomicU64,
}

impl Counters {
    pub fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// Upper bounds (seconds) of the scan-to-state latency histogram's buckets.
pub const LATENCY_BUCKETS: [f64; 10] =
    [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0];

/// A Prometheus histogram of how long a scan takes from its last byte to the lane's committed
/// state.
#[derive(Debug, Default)]
pub struct LatencyHistogram {
    buckets: [AtomicU64; LATENCY_BUCKETS.len()],
    count: AtomicU64,
    sum_micros: AtomicU64,
}

impl LatencyHistogram {
    pub fn observe(&self, seconds: f64) {
        for (bound, bucket) in LATENCY_BUCKETS.iter().zip(&self.buckets) {
            if seconds <= *bound {
                bucket.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_micros
            .fetch_add((seconds * 1e6) as u64, Ordering::Relaxed);
    }

    /// The histogram in Prometheus text format under `name`.
    pub fn render(&self, name: &str, help: &str) -> String {
        let mut out = format!("# HELP {name} {help}\n# TYPE {name} histogram\n");
        for (bound, bucket) in LATENCY_BUCKETS.iter().zip(&self.buckets) {
            out.push_str(&format!(
                "{name}_bucket{{le=\"{bound}\"}} {}\n",
                bucket.load(Ordering::Relaxed)
            ));
        }
        let count = self.count.load(Ordering::Relaxed);
        out.push_str(&format!("{name}_bucket{{le=\"+Inf\"}} {count}\n"));
        out.push_str(&format!(
            "{name}_sum {}\n",
            self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6
        ));
        out.push_str(&format!("{name}_count {count}\n"));
        out
    }
}

/// Every alert reason, so each has a series from the start.
const ALERT_REASONS: [InterventionKind; 10] = [
    InterventionKind::AgeRestricted,
    InterventionKind::UnexpectedItem,
    InterventionKind::ItemNotBagged,
    InterventionKind::WeightMismatch,
    InterventionKind::ItemRemoved,
    InterventionKind::Tailgating,
    InterventionKind::ForcedPassage,
    InterventionKind::GateFault,
    InterventionKind::PriceNotBelieved,
    InterventionKind::BaggingAreaNotEmpty,
];

/// An alert reason as metrics and JSON spell it (`unexpected_item`).
pub fn reason_label(kind: InterventionKind) -> String {
    serde_json::to_value(kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_else(|| format!("{kind:?}"))
}

/// The edge's live state.
pub struct Board {
    lanes: RwLock<BTreeMap<String, LaneView>>,
    /// Alerts raised since start, by reason.
    alerts: Mutex<BTreeMap<String, u64>>,
    devices: RwLock<BTreeMap<String, DeviceHealth>>,
    updates: broadcast::Sender<Update>,
    pub counters: Counters,
    /// From a scan's last byte to the lane's committed state.
    pub scan_latency: LatencyHistogram,
}

impl Default for Board {
    fn default() -> Self {
        Board {
            lanes: RwLock::default(),
            alerts: Mutex::new(
                ALERT_REASONS
                    .iter()
                    .map(|kind| (reason_label(*kind), 0))
                    .collect(),
            ),
            devices: RwLock::default(),
            updates: broadcast::channel(1024).0,
            counters: Counters::default(),
            scan_latency: LatencyHistogram::default(),
        }
    }
}

impl Board {
    /// Shows a lane's committed state. Interventions that were not open in the lane's previous
    /// view are counted as alerts by reason (a lane's first view, restored after a restart,
    /// counts none).
    pub fn set_lane(&self, view: LaneView) {
        let previous = match self.lanes.write() {
            Ok(mut lanes) => lanes.insert(view.lane.id.clone(), view.clone()),
            Err(_) => None,
        };
        if let Some(previous) = previous {
            for intervention in &view.lane.interventions {
                if !previous
                    .lane
                    .interventions
                    .iter()
                    .any(|i| i.id == intervention.id)
                {
                    self.count_alert(intervention.kind);
                }
            }
        }
        let _ = self.updates.send(Update::Lane(Box::new(view)));
    }

    /// Shows a device's health.
    pub fn set_device(&self, health: DeviceHealth) {
        if let Ok(mut devices) = self.devices.write() {
            devices.insert(health.device.clone(), health.clone());
        }
        let _ = self.updates.send(Update::Device(health));
    }

    pub fn lanes(&self) -> Vec<LaneView> {
        self.lanes
            .read()
            .map(|l| l.values().cloned().collect())
            .unwrap_or_default()
    }

    pub fn lane(&self, id: &str) -> Option<LaneView> {
        self.lanes.read().ok().and_then(|l| l.get(id).cloned())
    }

    pub fn devices(&self) -> Vec<DeviceHealth> {
        self.devices
            .read()
            .map(|d| d.values().cloned().collect())
            .unwrap_or_default()
    }

    /// Counts an alert raised outside a lane (a store exit's gate); lanes' alerts are counted
    /// from their views in [`Board::set_lane`].
    pub fn count_alert(&self, kind: InterventionKind) {
        if let Ok(mut alerts) = self.alerts.lock() {
            *alerts.entry(reason_label(kind)).or_default() += 1;
        }
    }

    /// Alerts raised since start, by reason.
    pub fn alerts_by_reason(&self) -> BTreeMap<String, u64> {
        self.alerts.lock().map(|a| a.clone()).unwrap_or_default()
    }

    /// Live changes, for server-sent events.
    pub fn subscribe(&self) -> broadcast::Receiver<Update> {
        self.updates.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lane::Intervention;
    use chrono::Utc;

    fn view(lane: &Lane) -> LaneView {
        LaneView::new("SH-T", lane)
    }

    #[test]
    fn the_public_view_carries_no_exit_pass_nor_wallet() {
        use crate::lane::{AttemptStatus, LaneState, PaymentAttempt, Session};
        let mut lane = Lane::new("1", Utc::now());
        lane.state = LaneState::Paid;
        lane.session = Some(Session {
            id: "s-1".into(),
            started_at: Utc::now(),
            basket: Default::default(),
            attempts: 1,
            payment: Some(PaymentAttempt {
                order_id: "s-1-1".into(),
                amount_fen: 100,
                status: AttemptStatus::Succeeded,
                payment_id: Some("p".into()),
                wallet_id: Some("W1234567".into()),
                started_at: Utc::now(),
                exit_pass: Some("OMOX2:K0:SH-T:1:S-1-1:1:SIG".into()),
            }),
            bagging: Default::default(),
            member: true,
            coupons: Vec::new(),
        });
        let view = view(&lane);
        assert_eq!(
            view.exit_pass.as_deref(),
            Some("OMOX2:K0:SH-T:1:S-1-1:1:SIG")
        );
        let json = serde_json::to_string(&view).unwrap();
        assert!(!json.contains("OMOX"), "{json}");
        assert!(!json.contains("W1234567"), "{json}");
        assert!(json.contains("s-1-1"), "{json}");
    }

    #[test]
    fn new_interventions_count_as_alerts_by_reason_once() {
        let board = Board::default();
        let mut lane = Lane::new("1", Utc::now());
        lane.interventions.push(Intervention {
            id: 1,
            kind: InterventionKind::GateFault,
            detail: "restored from before a restart".into(),
            line: None,
            raised_at: Utc::now(),
            repeats: 0,
        });
        board.set_lane(view(&lane));
        lane.interventions.push(Intervention {
            id: 2,
            kind: InterventionKind::UnexpectedItem,
            detail: "800 g with no scan".into(),
            line: None,
            raised_at: Utc::now(),
            repeats: 0,
        });
        board.set_lane(view(&lane));
        board.set_lane(view(&lane));
        let alerts = board.alerts_by_reason();
        assert_eq!(alerts["unexpected_item"], 1);
        assert_eq!(alerts["gate_fault"], 0);
        assert_eq!(alerts.len(), ALERT_REASONS.len());
    }
}
