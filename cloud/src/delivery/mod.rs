//! Home delivery from the cloud's side: where the stores are, and orders placed in the app.
//!
//! | module | holds |
//! | --- | --- |
//! | [`directory`] | the stores' announced positions and delivery radii; geodesic distance on WGS 84 |
//! | [`orders`] | [`Deliveries`]: placing (and paying) app orders within a store's radius, the stores' answers |
//! | [`payloads`] | the MQTT payloads between the cloud and the edges about delivery (pure) |
//! | [`relay`] | forwards placed orders to their store's edge until it answers; applies the answers |
//!
//! The store's edge stays the one that accepts and dispatches: the cloud checks the radius
//! first (so the app answers at once), the edge checks it again and promises the 30 minutes.

pub mod directory;
pub mod orders;
pub mod payloads;
pub mod relay;

pub use directory::{Directory, StoreProfile};
pub use orders::{Deliveries, DeliveryOrder, PlaceInput};
