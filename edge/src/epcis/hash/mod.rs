//! The CBV 2.0 "EPCIS event hash ID": a fingerprint of an event's content that does not depend
//! on how it was written (JSON or XML, field order, list order, time zone, URN or Digital Link).
//!
//! The algorithm, as the GS1 Core Business Vocabulary 2.0 (section "EPCIS Event Hash ID") and its
//! reference implementation describe it (github.com/RalphTro/epcis-event-hash-generator,
//! README "Algorithm" rules 1-24 and "Canonical property order"):
//!
//! 1. Build a *pre-hash string*: `eventType=...`, then the event's fields in the canonical property
//!    order (`eventTime`, `eventTimeZoneOffset`, `epcList`, `parentID`, `inputEPCList`,
//!    `childEPCs`, `quantityList`, `childQuantityList`, `inputQuantityList`, `outputEPCList`,
//!    `outputQuantityList`, `action`, `transformationID`, `bizStep`, `disposition`,
//!    `persistentDisposition`, `readPoint`, `bizLocation`, `bizTransactionList`, `sourceList`,
//!    `destinationList`, `sensorElementList`, `ilmd`, then user extensions), each value as
//!    `key=value`, parents as their bare key, no separators. Absent or empty fields add nothing.
//! 2. Normalise values: timestamps to UTC with milliseconds and `Z`; numbers without trailing
//!    zeros; bare CBV words (`receiving`) to their Web URIs (`https://ref.gs1.org/cbv/BizStep-receiving`),
//!    CBV URNs likewise; CURIEs (`gs1:`, `cbv:`, and prefixes the event's `@context` defines)
//!    expanded; EPC URNs (`urn:epc:id:sgtin:...`) to canonical GS1 Digital Link URIs; Digital Link
//!    URIs constrained to `https://id.gs1.org`, without query string.
//! 3. Sort the members of each list (and the parts of a list member) by their UTF-8 bytes; a
//!    type attribute (`bizTransaction` type, source/destination type) follows its value.
//! 4. ILMD and extension elements are written `{namespace}localName=value`, sorted.
//! 5. SHA-256 over the UTF-8 pre-hash string, as `ni:///sha-256;<lowercase hex>?ver=CBV2.0`
//!    (RFC 6920 named information).
//!
//! Tested against the reference implementation's published vector `epcisDocWithSingleEvent`
//! (pre-hash string and `ni:///sha-256;3e0f2437…0182?ver=CBV2.0`).
//!
//! What this module leaves out (documented, not needed by Omo's own events): `certificationInfo`
//! and `errorDeclaration` are not hashed (the reference implementation drops the former too), EPC
//! URNs other than sgtin, sscc, sgln, lgtin, pgln and giai stay as they are, and numeric-looking
//! strings are kept as strings (only JSON numbers are normalised).

mod fields;
mod order;
mod prefixes;
mod values;

use serde_json::Value;
use sha2::{Digest, Sha256};

pub use super::digital_link::{constrain_digital_link, epc_urn_to_digital_link};
use fields::{field, generic};
use order::{IGNORED, ORDER};
use prefixes::Prefixes;

/// The CBV version this module implements, as it appears in the hash URI.
pub const CBV_VERSION: &str = "CBV2.0";

/// Why an event cannot be hashed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum HashError {
    #[error("an EPCIS event must be a JSON object")]
    NotAnObject,
    #[error("the event has no `type`")]
    NoType,
    #[error("`{field}` is not an RFC 3339 timestamp: {value}")]
    Time { field: String, value: String },
}

/// The event hash ID of `event` (EPCIS 2.0 JSON-LD): `ni:///sha-256;<hex>?ver=CBV2.0`.
pub fn event_hash(event: &Value) -> Result<String, HashError> {
    Ok(hash_prehash(&prehash(event)?))
}

/// The `ni:` URI of a pre-hash string.
pub fn hash_prehash(prehash: &str) -> String {
    let digest = Sha256::digest(prehash.as_bytes());
    format!(
        "ni:///sha-256;{}?ver={CBV_VERSION}",
        data_encoding::HEXLOWER.encode(&digest)
    )
}

/// The canonical pre-hash string of `event`.
pub fn prehash(event: &Value) -> Result<String, HashError> {
    let event = event.as_object().ok_or(HashError::NotAnObject)?;
    let prefixes = Prefixes::from_context(event.get("@context"));
    let kind = event
        .get("type")
        .and_then(Value::as_str)
        .ok_or(HashError::NoType)?;
    let mut out = format!("eventType={kind}");
    for &(key, shape) in ORDER {
        let Some(value) = event.get(key) else {
            continue;
        };
        out.push_str(&field(key, shape, value, &prefixes)?);
    }
    let mut extensions = Vec::new();
    for (key, value) in event {
        if IGNORED.contains(&key.as_str()) || ORDER.iter().any(|(k, _)| k == key) {
            continue;
        }
        extensions.extend(generic(key, value, &prefixes));
    }
    extensions.sort();
    out.push_str(&extensions.concat());
    Ok(out)
}

#[cfg(test)]
mod tests;
