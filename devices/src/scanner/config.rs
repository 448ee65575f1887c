//! A scanner's config, as it appears per lane in the edge's TOML.

use serde::{Deserialize, Serialize};

use super::{DEFAULT_MAX_FRAME, Framing};
use crate::serial::LineSettings;

/// How to reach and frame one serial scanner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScannerConfig {
    /// The serial device, e.g. `/dev/ttyACM0` or a pseudo-terminal `/dev/pts/3`.
    pub port: String,
    /// Baud rate (default 9600).
    #[serde(default = "default_baud")]
    pub baud: u32,
    /// Data bits, parity, stop bits (default 8N1).
    #[serde(default)]
    pub line: LineSettings,
    /// How scans end on the wire (default: CR, LF or CRLF).
    #[serde(default)]
    pub framing: Framing,
    /// A prefix the scanner is programmed to send before each scan, stripped when present.
    #[serde(default)]
    pub prefix: Option<String>,
    /// Longest frame accepted, in bytes (default 4096); longer ones are dropped as garbage.
    #[serde(default = "default_max_frame")]
    pub max_frame: usize,
    /// First delay before reopening a lost port, in ms (default 500); doubles up to `reconnect_max_ms`.
    #[serde(default = "default_reconnect_ms")]
    pub reconnect_ms: u64,
    /// Longest delay between reopen attempts, in ms (default 10000).
    #[serde(default = "default_reconnect_max_ms")]
    pub reconnect_max_ms: u64,
    /// The name reported in device health (default: the port path).
    #[serde(default)]
    pub name: Option<String>,
}

fn default_baud() -> u32 {
    9600
}
fn default_max_frame() -> usize {
    DEFAULT_MAX_FRAME
}
fn default_reconnect_ms() -> u64 {
    500
}
fn default_reconnect_max_ms() -> u64 {
    10_000
}

impl ScannerConfig {
    /// Defaults for everything but the port.
    pub fn new(port: impl Into<String>) -> Self {
        Self {
            port: port.into(),
            baud: default_baud(),
            line: LineSettings::N81,
            framing: Framing::Any,
            prefix: None,
            max_frame: default_max_frame(),
            reconnect_ms: default_reconnect_ms(),
            reconnect_max_ms: default_reconnect_max_ms(),
            name: None,
        }
    }

    /// The device name used in health reports.
    pub fn device_name(&self) -> String {
        self.name.clone().unwrap_or_else(|| self.port.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_fill_in_and_unknown_keys_are_rejected() {
        let c: ScannerConfig = serde_json::from_str(r#"{"port":"/dev/ttyACM0"}"#).unwrap();
        assert_eq!(c, ScannerConfig::new("/dev/ttyACM0"));
        assert_eq!(c.baud, 9600);
        let err = serde_json::from_str::<ScannerConfig>(r#"{"port":"/dev/x","baudrate":9600}"#)
            .unwrap_err();
        assert!(err.to_string().contains("baudrate"));
        let c: ScannerConfig =
            serde_json::from_str(r##"{"port":"/dev/x","framing":{"suffix":"#"},"prefix":"S"}"##)
                .unwrap();
        assert_eq!(c.framing, Framing::Suffix("#".into()));
    }
}
