//! The board: what the edge shows operators, in memory. Lanes publish their view here after each
//! committed step, devices their health; the HTTP API reads it, and live clients subscribe to
//! changes. Counters for `/metrics` live here too, so each telemetry event is counted in one place.

use std::collections::BTreeMap;
use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};

use omo_devices::health::DeviceHealth;
use serde::Serialize;
use tokio::sync::broadcast;

use crate::lane::Lane;

/// A lane as operators and the lane screen see it.
#[derive(Debug, Clone, Serialize)]
pub struct LaneView {
    pub store_id: String,
    #[serde(flatten)]
    pub lane: Lane,
    pub total_fen: i64,
    pub item_count: u32,
}

impl LaneView {
    pub fn new(store_id: &str, lane: &Lane) -> LaneView {
        let basket = lane.session.as_ref().map(|s| &s.basket);
        LaneView {
            store_id: store_id.to_string(),
            lane: lane.clone(),
            total_fen: basket.map_or(0, |b| b.total_fen()),
            item_count: basket.map_or(0, |b| b.item_count()),
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
    pub alerts: AtomicU64,
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

/// The edge's live state.
pub struct Board {
    lanes: RwLock<BTreeMap<String, LaneView>>,
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
            devices: RwLock::default(),
            updates: broadcast::channel(1024).0,
            counters: Counters::default(),
            scan_latency: LatencyHistogram::default(),
        }
    }
}

impl Board {
    /// Shows a lane's committed state.
    pub fn set_lane(&self, view: LaneView) {
        if let Ok(mut lanes) = self.lanes.write() {
            lanes.insert(view.lane.id.clone(), view.clone());
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

    /// Live changes, for server-sent events.
    pub fn subscribe(&self) -> broadcast::Receiver<Update> {
        self.updates.subscribe()
    }
}
