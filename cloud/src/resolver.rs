//! The GS1 Digital Link resolver (`GET /01/{gtin}`, `/01/{gtin}/10/{lot}`): a slot for now.
//!
//! It will answer with a product's origin and journey (an HTML page, or the EPCIS events as
//! JSON for `Accept: application/json`) once the trace store exists. Until then it adds no
//! routes, so those paths answer 404.

use axum::Router;

use crate::context::Context;

/// The resolver's routes (none yet).
pub fn routes() -> Router<Context> {
    Router::new()
}
