//! Omo device drivers: the store hardware a checkout lane talks to, and a simulator for each.
//! No business logic lives here; the edge decides what a scan or a weight means for a basket.
//!
//! | module | what it holds |
//! | --- | --- |
//! | [`barcode`] | pure parser: AIM identifiers, EAN/UPC, variable-measure, payment codes, GS1, Digital Link |
//! | [`camera`] | cameras reading QR codes (OpenCV, feature `camera`): config, repeat filter, driver |
//! | [`scanner`] | serial barcode scanners: framing codec, config, reconnecting driver |
//! | [`scale`] | serial scales: Toledo 8217 and MT-SICS codecs, config, polling driver |
//! | [`gate`] | exit gates: the [`gate::Gate`] trait, timing rules, a simulated gate, a GPIO (rppal) gate, the relay watchdog process |
//! | [`health`] | device health as reported to the edge and MQTT (online / offline / fault) |
//! | [`sim`] | scanner and scale simulators speaking the real bytes on pseudo-terminals |
//! | [`serial`] | serial line settings and opening ports with tokio-serial |

pub mod barcode;
pub mod camera;
pub mod gate;
pub mod health;
pub mod scale;
pub mod scanner;
pub mod serial;
pub mod sim;
