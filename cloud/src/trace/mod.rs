//! Traceability: every store's EPCIS events, stored once each, and the journey of a lot.
//!
//! | module | holds |
//! | --- | --- |
//! | [`link`] | GS1 Digital Link URIs (and EPC URNs) to (GTIN, lot), and back (pure) |
//! | [`journey`] | a lot's journey from the farm, assembled from its events and its inputs' (pure) |
//! | [`store`] | [`TraceStore`]: events idempotent by `eventID`, lots linked to their input lots |
//! | [`consumer`] | the MQTT consumer of `omo/v1/stores/+/trace` (persistent session, QoS 1, acked after commit) |
//! | [`page`] | the HTML pages a shopper reads on a phone |
//! | [`text`] | the journey as plain text, what `omo trace URL` prints |
//!
//! The resolver's routes ([`crate::resolver`]) serve the pages and the events.

pub mod consumer;
pub mod journey;
pub mod link;
pub mod page;
pub mod store;
pub mod text;

pub use journey::{Journey, Step};
pub use link::LotKey;
pub use store::{TraceError, TraceStore};
