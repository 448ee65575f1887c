//! An open order as the dispatcher holds it: its status (waiting, offered, accepted, picked up,
//! delivered, cancelled), the riders who let it lapse, and whether its promise was warned about.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::delivery::order::DeliveryOrder;

/// Where an order is in its life.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum OrderStatus {
    /// No rider yet.
    Waiting,
    /// Offered to a rider at `at`; not yet accepted.
    Offered {
        rider: String,
        at: DateTime<Utc>,
    },
    Accepted {
        rider: String,
    },
    PickedUp {
        rider: String,
    },
    Delivered {
        rider: String,
    },
    /// Cancelled by the cloud (refused and refunded before the store accepted it); it is never
    /// offered again, and its rider (if any) was told.
    Cancelled,
}

impl OrderStatus {
    pub fn rider(&self) -> Option<&str> {
        match self {
            OrderStatus::Waiting | OrderStatus::Cancelled => None,
            OrderStatus::Offered { rider, .. }
            | OrderStatus::Accepted { rider }
            | OrderStatus::PickedUp { rider }
            | OrderStatus::Delivered { rider } => Some(rider),
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            OrderStatus::Waiting => "waiting",
            OrderStatus::Offered { .. } => "offered",
            OrderStatus::Accepted { .. } => "accepted",
            OrderStatus::PickedUp { .. } => "picked_up",
            OrderStatus::Delivered { .. } => "delivered",
            OrderStatus::Cancelled => "cancelled",
        }
    }
}

/// An open order and what the dispatcher knows of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpenOrder {
    pub order: DeliveryOrder,
    pub status: OrderStatus,
    /// Riders who let an offer of this order lapse.
    #[serde(default)]
    pub lapsed: Vec<String>,
    #[serde(default)]
    pub warned: bool,
}
