//! Serial scales: the Toledo 8217 and MT-SICS protocols as pure codecs ([`toledo8217`],
//! [`mtsics`]), one [`ScaleCodec`] bridging either to a serial port, the config ([`ScaleConfig`]), a
//! polling driver ([`spawn_scale`]) and a one-shot [`read_stable`] for `omo weigh`.
//!
//! Motion, over capacity and under zero are [`WeightReading`] states, not errors; a lane acts only
//! on [`WeightReading::Stable`].

mod codec;
mod config;
mod driver;
pub mod mtsics;
mod reading;
pub mod toledo8217;

pub use codec::{ScaleCodec, ScaleFrame, ScaleReply};
pub use config::{ScaleConfig, ScaleProtocol};
pub use driver::{
    ScaleEvent, ScaleHandle, read_stable, send_command, spawn_scale, spawn_scale_with_handle,
};
pub use reading::{ReplyError, ScaleError, ScaleUnit, WeightReading};

/// What the host can ask a scale to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScaleCommand {
    /// Send the weight when stable (8217 `W`, MT-SICS `S`).
    Weigh,
    /// Send the weight now, stable or not (8217 `W`, MT-SICS `SI`).
    WeighImmediate,
    /// Zero the scale (`Z`).
    Zero,
    /// Tare the load on the scale (`T`).
    Tare,
    /// Clear the tare (8217 `C`).
    ClearTare,
    /// Reset (MT-SICS `@`).
    Reset,
}
