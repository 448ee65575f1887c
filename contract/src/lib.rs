//! `omo-contract`: the rules of Omo's wire contract (`../shared/CONTRACT.md`) that more than one
//! crate applies, written once, as pure functions with no IO. Devices, edge and cloud depend on
//! it; it depends on nothing of Omo's.
//!
//! | module | holds |
//! | --- | --- |
//! | [`gs1`] | the GS1 mod-10 check digit, GTINs in their 14-digit form, the AI 10/21 character set |
//! | [`percent`] | percent-encoding of Digital Link path segments and URN parts |
//! | [`html`] | text made safe for HTML content and attribute values |
//! | [`origin`] | a lot's origin as EPCIS ILMD records it, read leniently from any supplier |
//! | [`topics`] | the MQTT topics: builders, subscription filters, and which topic a received one is |
//! | [`paycode`] | a payment code's shape: `28`, the wallet number, the one-time password |
//! | [`time`] | times on the wire (RFC 3339, UTC, milliseconds) and as the cloud stores them |

pub mod gs1;
pub mod html;
pub mod origin;
pub mod paycode;
pub mod percent;
pub mod time;
pub mod topics;
