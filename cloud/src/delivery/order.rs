//! A delivery order as the cloud knows it, its lines, its statuses and the rider's progress,
//! and the [`Deliveries`] handle whose methods the sibling modules add (placing in
//! [`super::orders`], answers, progress, the address). Types only: every other delivery module
//! builds on this one, and it on none of them.

use serde::{Deserialize, Serialize};

use crate::context::Context;

/// Order statuses as stored and shown to the app.
pub mod status {
    /// Beyond the store's radius: refused, nothing stored.
    pub const OUT_OF_RANGE: &str = "OUT_OF_RANGE";
    /// Accepted (and for an app order paid) by the cloud, on its way to the store.
    pub const PLACED: &str = "PLACED";
    /// The store's edge took it and dispatches a rider.
    pub const ACCEPTED: &str = "ACCEPTED";
    /// The store could not take it (an app order is refunded).
    pub const REFUSED: &str = "REFUSED";
    /// Its rider left the store with it.
    pub const PICKED_UP: &str = "PICKED_UP";
    /// Its rider handed it over.
    pub const DELIVERED: &str = "DELIVERED";
}

/// Most lines one app order may have, and most units per line.
pub const MAX_LINES: usize = 100;
/// See [`MAX_LINES`].
pub const MAX_QUANTITY: u32 = 99;

/// What the app asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct PlaceInput {
    pub wallet_id: String,
    pub store_id: String,
    pub order_id: String,
    /// gtin and quantity of each line (app orders).
    pub lines: Vec<(String, u32)>,
    /// A lane purchase to deliver instead.
    pub purchase_order_id: String,
    pub lat: f64,
    pub lon: f64,
    pub address: String,
}

/// A delivery order as the cloud knows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeliveryOrder {
    pub order_id: String,
    pub store_id: String,
    /// Empty for an order placed at the store.
    pub wallet_id: String,
    /// `app`, `lane` (a lane purchase delivered home) or `store` (placed at the store's edge).
    pub source: String,
    /// One of [`status`].
    pub status: String,
    pub lines: Vec<Line>,
    pub purchase_order_id: String,
    pub lat: f64,
    pub lon: f64,
    pub address: String,
    pub distance_m: u32,
    pub radius_m: u32,
    pub amount_fen: i64,
    pub payment_id: String,
    pub placed_at: String,
    pub promised_by: String,
    pub refusal: String,
    /// The rider's progress, as the store's edge reports it (see [`super::progress`]).
    #[serde(default)]
    pub progress: Progress,
}

/// The delivery orders of the cloud; cheap to clone.
#[derive(Clone)]
pub struct Deliveries {
    pub(super) ctx: Context,
    /// Wakes the relay when an order is placed.
    pub(super) placed: std::sync::Arc<tokio::sync::Notify>,
}

/// The payment an app order is paid by: `delivery-{order_id}`, in the store's name.
pub fn payment_order_id(order_id: &str) -> String {
    format!("delivery-{order_id}")
}

/// Whether an order id has the shape the edge accepts (1-64 letters, digits, `-`, `_`, `.`).
pub fn valid_order_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// One line of a delivery order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Line {
    pub gtin: String,
    #[serde(default)]
    pub name: String,
    pub quantity: u32,
    #[serde(default)]
    pub unit_price_fen: i64,
    #[serde(default)]
    pub amount_fen: i64,
}

/// Who has an order and where it stands on the road (empty strings until known).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    pub rider_id: String,
    /// When the store's dispatcher expects it at the door, RFC 3339 UTC.
    pub eta: String,
    pub picked_up_at: String,
    pub delivered_at: String,
}
