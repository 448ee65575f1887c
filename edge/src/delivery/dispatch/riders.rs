//! Riders as the dispatcher knows them, and what they report on `omo/v1/riders/{rider}/events`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::delivery::geo::Position;

/// A rider as last reported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rider {
    pub id: String,
    pub position: Position,
    pub last_seen: DateTime<Utc>,
}

/// What a rider reports on `omo/v1/riders/{rider}/events`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "event")]
pub enum RiderReport {
    Location { lat: f64, lon: f64 },
    Accepted { order_id: String },
    PickedUp { order_id: String },
    Delivered { order_id: String },
}

/// One event from a rider, with its unique id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RiderEvent {
    pub id: String,
    pub rider_id: String,
    #[serde(flatten)]
    pub report: RiderReport,
}
