//! A basket dropped without a sale (an attendant's cancel, a manager's reset, a lane put back in
//! service, every line voided): what [`super::recovery`] hands the runner to record in
//! `abandoned_baskets`, idempotent by session id.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::basket::Basket;

/// Why a basket was dropped without a sale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AbandonReason {
    /// An attendant cancelled it (`cancel_basket`).
    Cancelled,
    /// A manager reset the lane (`reset_lane`).
    LaneReset,
    /// The lane went out of service with it and was put back in service.
    ReturnedToService,
    /// Every line was voided (or the only item was refused): nothing is left to pay for.
    Emptied,
}

/// A basket dropped without a sale, as recorded in `abandoned_baskets`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AbandonedBasket {
    pub session_id: String,
    pub lane_id: String,
    pub reason: AbandonReason,
    pub basket: Basket,
    pub total_fen: i64,
    pub started_at: DateTime<Utc>,
    pub abandoned_at: DateTime<Utc>,
    /// The last payment attempt's order id, if one was made (it was declined or cancelled).
    pub last_order_id: Option<String>,
    /// The bagging scale's last stable weight when the basket was dropped, in grams.
    #[serde(default)]
    pub scale_g: Option<i64>,
}
