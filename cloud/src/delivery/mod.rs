//! Home delivery from the cloud's side: where the stores are, and orders placed in the app.
//!
//! | module | holds |
//! | --- | --- |
//! | [`directory`] | the stores' announced positions and delivery radii; geodesic distance on WGS 84 |
//! | [`order`] | a delivery order, its lines, statuses and progress; the [`Deliveries`] handle (types only) |
//! | [`orders`] | [`Deliveries`]: placing (and paying) app orders within a store's radius |
//! | `rows` | the `delivery_orders` table's rows: insert once by id, read back |
//! | [`answers`] | the stores' answers (accepted, refused and refunded) and the time-out for none |
//! | [`progress`] | the rider's progress as the store reports it: picked up, delivered, rider, ETA |
//! | [`address`] | the delivery address a shopper keeps in the app |
//! | [`payloads`] | the MQTT payloads between the cloud and the edges about delivery (pure) |
//! | [`relay`] | forwards placed orders to their store's edge until it answers; applies the answers |
//!
//! The store's edge stays the one that accepts and dispatches: the cloud checks the radius
//! first (so the app answers at once), the edge checks it again and promises the 30 minutes.

/// `SELECT <every order column> FROM delivery_orders <tail>` as one literal.
macro_rules! select_orders {
    ($tail:literal) => {
        concat!(
            "SELECT order_id, store_id, wallet_id, source, status, lines, purchase_order_id, ",
            "dropoff_lat, dropoff_lon, address, distance_m, radius_m, amount_fen, payment_id, ",
            "placed_at, promised_by, refusal, rider_id, eta, picked_up_at, delivered_at ",
            "FROM delivery_orders ",
            $tail
        )
    };
}

pub mod address;
pub mod answers;
pub mod directory;
pub mod order;
pub mod orders;
pub mod payloads;
pub mod progress;
pub mod relay;
mod rows;

pub use directory::{Directory, StoreProfile};
pub use order::{Deliveries, DeliveryOrder, PlaceInput};
