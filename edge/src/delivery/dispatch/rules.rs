//! The dispatcher's settings (from the edge config's `[delivery]`) and their defaults.

use chrono::Duration;

/// The dispatcher's settings (from the edge config's `[delivery]`).
#[derive(Debug, Clone)]
pub struct DispatchRules {
    pub speed_mps: f64,
    pub capacity: usize,
    pub accept_timeout: Duration,
    pub batch_angle_deg: f64,
    pub warn_margin: Duration,
    pub rider_stale: Duration,
}

impl Default for DispatchRules {
    fn default() -> Self {
        DispatchRules {
            speed_mps: 4.0,
            capacity: 3,
            accept_timeout: Duration::seconds(30),
            batch_angle_deg: 30.0,
            warn_margin: Duration::minutes(5),
            rider_stale: Duration::minutes(2),
        }
    }
}
