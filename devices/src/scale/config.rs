//! A scale's config, as it appears per lane in the edge's TOML.

use serde::{Deserialize, Serialize};

use super::ScaleUnit;
use crate::serial::LineSettings;

/// The wire protocol a scale speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum ScaleProtocol {
    /// Mettler Toledo 8217 (checkout scanner-scales), 7E1.
    #[default]
    #[serde(rename = "toledo8217")]
    Toledo8217,
    /// Mettler Toledo MT-SICS level 0/1, 8N1.
    #[serde(rename = "mt-sics")]
    MtSics,
}

impl ScaleProtocol {
    /// The config name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Toledo8217 => "toledo8217",
            Self::MtSics => "mt-sics",
        }
    }

    /// The protocol's usual line settings.
    pub fn default_line(self) -> LineSettings {
        match self {
            Self::Toledo8217 => LineSettings::E71,
            Self::MtSics => LineSettings::N81,
        }
    }
}

impl std::str::FromStr for ScaleProtocol {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "toledo8217" | "8217" => Ok(Self::Toledo8217),
            "mt-sics" | "mtsics" | "sics" => Ok(Self::MtSics),
            other => Err(format!(
                "unknown scale protocol {other:?}: expected toledo8217 or mt-sics"
            )),
        }
    }
}

/// How to reach and poll one serial scale.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScaleConfig {
    /// The serial device, e.g. `/dev/ttyUSB0` or a pseudo-terminal.
    pub port: String,
    /// Baud rate (default 9600).
    #[serde(default = "default_baud")]
    pub baud: u32,
    /// `"toledo8217"` (default) or `"mt-sics"`.
    #[serde(default)]
    pub protocol: ScaleProtocol,
    /// Data bits, parity, stop bits (default: 7E1 for toledo8217, 8N1 for mt-sics).
    #[serde(default)]
    pub line: Option<LineSettings>,
    /// The unit a Toledo 8217 reports in (default kg); MT-SICS replies name their own.
    #[serde(default)]
    pub unit: ScaleUnit,
    /// Interval between weight requests, in ms (default 200).
    #[serde(default = "default_poll_ms")]
    pub poll_ms: u64,
    /// How long to wait for an answer, in ms (default 1000).
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    /// Consecutive failures before the scale is reported as faulty (default 3).
    #[serde(default = "default_fail_threshold")]
    pub fail_threshold: u32,
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
fn default_poll_ms() -> u64 {
    200
}
fn default_timeout_ms() -> u64 {
    1000
}
fn default_fail_threshold() -> u32 {
    3
}
fn default_reconnect_ms() -> u64 {
    500
}
fn default_reconnect_max_ms() -> u64 {
    10_000
}

impl ScaleConfig {
    /// Defaults for everything but the port and protocol.
    pub fn new(port: impl Into<String>, protocol: ScaleProtocol) -> Self {
        Self {
            port: port.into(),
            baud: default_baud(),
            protocol,
            line: None,
            unit: ScaleUnit::Kg,
            poll_ms: default_poll_ms(),
            timeout_ms: default_timeout_ms(),
            fail_threshold: default_fail_threshold(),
            reconnect_ms: default_reconnect_ms(),
            reconnect_max_ms: default_reconnect_max_ms(),
            name: None,
        }
    }

    /// The line settings in effect.
    pub fn line_settings(&self) -> LineSettings {
        self.line.unwrap_or_else(|| self.protocol.default_line())
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
    fn defaults_and_protocol_names() {
        let c: ScaleConfig = serde_json::from_str(r#"{"port":"/dev/ttyUSB0"}"#).unwrap();
        assert_eq!(
            c,
            ScaleConfig::new("/dev/ttyUSB0", ScaleProtocol::Toledo8217)
        );
        assert_eq!(c.line_settings(), LineSettings::E71);
        let c: ScaleConfig =
            serde_json::from_str(r#"{"port":"/dev/x","protocol":"mt-sics"}"#).unwrap();
        assert_eq!(c.protocol, ScaleProtocol::MtSics);
        assert_eq!(c.line_settings(), LineSettings::N81);
        assert!(
            serde_json::from_str::<ScaleConfig>(r#"{"port":"/dev/x","protocol":"toledo"}"#)
                .is_err()
        );
        assert!(serde_json::from_str::<ScaleConfig>(r#"{"port":"/dev/x","polll_ms":5}"#).is_err());
        assert_eq!(
            "mt-sics".parse::<ScaleProtocol>(),
            Ok(ScaleProtocol::MtSics)
        );
    }
}
