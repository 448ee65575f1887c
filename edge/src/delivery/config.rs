//! `[delivery]` in the edge config: how the dispatcher works. Every field has a default.

use serde::{Deserialize, Serialize};

use super::dispatch::DispatchRules;

/// The dispatcher's settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DeliveryConfig {
    /// Riders' average speed, door to door, in metres per second (4 m/s is 14.4 km/h).
    pub rider_speed_mps: f64,
    /// Orders one rider carries at once.
    pub rider_capacity: usize,
    /// An offer not accepted within this many seconds goes to another rider.
    pub accept_timeout_secs: u64,
    /// Orders are batched on one rider only if their bearings from the store differ by at most this.
    pub batch_angle_deg: f64,
    /// Operators are warned when an order's estimated delivery is this close to its promise.
    pub warn_margin_secs: u64,
    /// A rider not heard from for this long gets no new orders.
    pub rider_stale_secs: u64,
    /// How often the dispatcher looks at open orders, in milliseconds.
    pub tick_ms: u64,
}

impl Default for DeliveryConfig {
    fn default() -> Self {
        DeliveryConfig {
            rider_speed_mps: 4.0,
            rider_capacity: 3,
            accept_timeout_secs: 30,
            batch_angle_deg: 30.0,
            warn_margin_secs: 300,
            rider_stale_secs: 120,
            tick_ms: 500,
        }
    }
}

impl DeliveryConfig {
    /// The dispatcher's rules.
    pub fn rules(&self) -> DispatchRules {
        let secs = |s: u64| chrono::Duration::seconds(i64::try_from(s).unwrap_or(i64::MAX / 1000));
        DispatchRules {
            speed_mps: self.rider_speed_mps.max(0.1),
            capacity: self.rider_capacity.max(1),
            accept_timeout: secs(self.accept_timeout_secs),
            batch_angle_deg: self.batch_angle_deg,
            warn_margin: secs(self.warn_margin_secs),
            rider_stale: secs(self.rider_stale_secs),
        }
    }
}
