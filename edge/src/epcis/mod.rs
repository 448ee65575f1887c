//! GS1 EPCIS 2.0 events (JSON-LD) for the life of a lot in the store, and their CBV 2.0 event
//! hash IDs. Pure functions: the caller stores the results in the outbox.
//!
//! | module | events |
//! | --- | --- |
//! | [`receiving`] | `ObjectEvent` ADD, `receiving`: a supplier's lot arrives, with its origin as ILMD and its cold chain as sensor reports |
//! | [`transformation`] | `TransformationEvent`, `commissioning`: input lots become output lots (a fish cut into portions, produce packed and labelled) |
//! | [`sale`] | `ObjectEvent` OBSERVE, `retail_selling`: a paid basket |
//! | [`hash`] | the CBV 2.0 event hash (`ni:///sha-256;…?ver=CBV2.0`) that becomes each event's `eventID` |
//! | [`document`] | reading a supplier's `EPCISDocument` into standalone events |
//!
//! Products and lots are GS1 Digital Link URIs (`https://id.gs1.org/01/{gtin}/10/{lot}`); places
//! are `urn:omo:store:{store}[:…]`; Omo's own ILMD fields live in the [`OMO_NS`] namespace
//! (prefix `omo:`), beside the CBV master data attributes (`cbvmda:`).

pub mod digital_link;
pub mod document;
pub mod hash;
pub mod receiving;
pub mod sale;
pub mod transformation;

use serde_json::{Value, json};

pub use hash::{HashError, event_hash};
pub use receiving::{Origin, Reading, Receipt, receiving_event};
pub use sale::sale_event;
pub use transformation::{LotQuantity, Transformation, transformation_event};

/// The EPCIS 2.0 JSON-LD context. It is an identifier: nothing fetches it at run time.
pub const EPCIS_CONTEXT: &str = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld";

/// The namespace of Omo's own ILMD fields (`omo:farm`, `omo:certificate`, ...).
pub const OMO_NS: &str = "https://omo.example/epcis/";

/// The CBV master data namespace (`cbvmda:countryOfOrigin`, `cbvmda:harvestStartDate`, ...).
pub const CBVMDA_NS: &str = "urn:epcglobal:cbv:mda:";

/// The `@context` of events that carry ILMD: GS1's, and the two prefixes Omo uses.
pub fn context_with_prefixes() -> Value {
    json!([EPCIS_CONTEXT, { "omo": OMO_NS, "cbvmda": CBVMDA_NS }])
}

/// Where a lane is, as EPCIS read point and business location identifiers.
#[derive(Debug, Clone)]
pub struct Place {
    pub store_id: String,
    pub lane_id: String,
}

impl Place {
    fn read_point(&self) -> String {
        format!("urn:omo:store:{}:lane:{}", self.store_id, self.lane_id)
    }
    fn biz_location(&self) -> String {
        store_location(&self.store_id)
    }
}

/// A store as an EPCIS business location.
pub fn store_location(store_id: &str) -> String {
    format!("urn:omo:store:{}", percent_encode(store_id))
}

/// The GS1 Digital Link URI of a product class, with its lot when known.
pub fn digital_link(gtin: &str, lot: Option<&str>) -> String {
    match lot {
        Some(lot) => format!("https://id.gs1.org/01/{gtin}/10/{}", percent_encode(lot)),
        None => format!("https://id.gs1.org/01/{gtin}"),
    }
}

/// Sets `eventID` to the event's CBV 2.0 hash ID (replacing any), and returns the event.
///
/// The same content always gets the same id, so an event recorded twice (a supplier file
/// imported again) is one event to every consumer.
pub fn with_event_hash(mut event: Value) -> Value {
    match hash::event_hash(&event) {
        Ok(id) => event["eventID"] = Value::String(id),
        // Only events this crate did not build can fail (a bad timestamp): keep them unique.
        Err(error) => {
            tracing::warn!(%error, "cannot hash an EPCIS event; giving it a random id");
            event["eventID"] = Value::String(format!("urn:uuid:{}", uuid::Uuid::new_v4()));
        }
    }
    event
}

/// RFC 3339 in UTC with milliseconds, as EPCIS and Omo's wire format expect.
pub use omo_contract::time::wire as rfc3339;

/// Percent-encodes what a Digital Link path segment (or URN part) may not carry raw.
pub use omo_contract::percent::encode as percent_encode;
