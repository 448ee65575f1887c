//! Cameras that read QR codes: how the exit gate reads the payment code on a shopper's phone.
//! A camera reports exactly what a serial scanner reports ([`ScannerEvent`]), so the edge treats
//! its scans like any other.
//!
//! | file | what it holds |
//! | --- | --- |
//! | `config.rs` | [`CameraConfig`]: the source, the repeat window, frame rate, end-of-file behaviour |
//! | `source.rs` | [`CameraSource`]: a V4L2 device, a video file or a stream URL (pure) |
//! | `dedup.rs` | [`Dedup`]: one scan per code per window, however many frames show it (pure) |
//! | `decoder.rs` | `QrDecoder`: OpenCV's WeChat QR reader over one frame (feature `camera`) |
//! | `driver.rs` | [`spawn_camera`]: reads frames on a blocking thread, reopens with backoff |
//!
//! Without the cargo feature `camera` the pure parts remain, and [`spawn_camera`] reports the
//! camera as `fault` ("built without camera support") and ends, so a config naming a camera is
//! a visible problem on the dashboard rather than a build error in the edge.
//!
//! [`ScannerEvent`]: crate::scanner::ScannerEvent

mod config;
#[cfg(feature = "camera")]
mod decoder;
mod dedup;
mod driver;
mod source;

pub use config::{AtEnd, CameraConfig};
#[cfg(feature = "camera")]
pub use decoder::QrDecoder;
pub use dedup::Dedup;
pub use driver::spawn_camera;
pub use source::CameraSource;

/// Camera failures, as reported in device health.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CameraError {
    /// The source could not be opened (missing file, no such device, stream unreachable).
    #[error("cannot open {what}: {reason}")]
    Open { what: String, reason: String },
    /// The QR reader could not be created or failed on a frame.
    #[error("QR decoder failed: {0}")]
    Decoder(String),
    /// This build has no OpenCV.
    #[error("this build has no camera support (cargo feature `camera` of omo-devices)")]
    NotBuilt,
}
