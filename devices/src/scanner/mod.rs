//! Serial barcode scanners: a pure framing codec ([`ScanCodec`]), the config ([`ScannerConfig`]) and
//! a driver task ([`spawn_scanner`]) that reconnects with backoff when the port disappears.

mod codec;
mod config;
mod driver;

pub use codec::{DEFAULT_MAX_FRAME, FrameError, Framing, ScanCodec};
pub use config::ScannerConfig;
pub use driver::{
    ScanFrame, ScannerError, ScannerEvent, ScannerReader, open_scanner, spawn_scanner,
};
