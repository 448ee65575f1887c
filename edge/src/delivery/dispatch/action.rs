//! What the dispatcher wants done: offers, lapses, warnings, deliveries and cancellations, for
//! the service to commit with their messages.

use chrono::{DateTime, Utc};

/// What the dispatcher wants done.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Send the order to the rider (`omo/v1/riders/{rider}/dispatch`).
    Offer {
        order_id: String,
        rider: String,
        eta: DateTime<Utc>,
    },
    /// The rider did not accept in time; the order is waiting again.
    Lapsed { order_id: String, rider: String },
    /// The promise is at risk.
    Warn {
        order_id: String,
        promised_by: DateTime<Utc>,
        eta: Option<DateTime<Utc>>,
    },
    /// The order reached its door.
    Delivered { order_id: String, rider: String },
    /// The order was cancelled; tell `rider` (the one it was offered to or with), if any.
    Cancelled {
        order_id: String,
        rider: Option<String>,
        reason: String,
    },
}
