//! `[[exit]]`: a store exit as configured, and the checks on its pass lifetime and lanes.

use omo_devices::scanner::ScannerConfig;
use serde::Deserialize;

/// One exit of the store, as configured (`[[exit]]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExitConfig {
    /// The exit's id, unique in the store.
    pub id: String,
    /// The scanner that reads exit passes.
    pub scanner: ScannerConfig,
    /// The exit gate.
    #[serde(default)]
    pub gate: super::GateConfig,
    /// A camera that reads the exit pass from the lane screen or the shopper's phone.
    #[serde(default)]
    pub camera: Option<omo_devices::camera::CameraConfig>,
    /// How long after payment a pass opens the gate, in seconds (10 to 3600; default 120).
    #[serde(default = "default_pass_ttl_secs")]
    pub pass_ttl_secs: i64,
    /// The lanes whose passes this exit admits (their shoppers leave through it); empty: every
    /// lane of the store.
    #[serde(default)]
    pub lanes: Vec<String>,
}

fn default_pass_ttl_secs() -> i64 {
    120
}

/// Checks the exits' pass lifetimes and lanes (called by the config's validation).
pub(super) fn validate(exits: &[ExitConfig], lanes: &[super::LaneConfig]) -> Result<(), String> {
    for exit in exits {
        if !(10..=3600).contains(&exit.pass_ttl_secs) {
            return Err(format!(
                "key `exit.pass_ttl_secs`: {} for exit {:?} must be 10 to 3600 seconds",
                exit.pass_ttl_secs, exit.id
            ));
        }
        if let Some(unknown) = exit
            .lanes
            .iter()
            .find(|l| !lanes.iter().any(|c| &c.id == *l))
        {
            return Err(format!(
                "key `exit.lanes`: exit {:?} names lane {unknown:?}, which is not configured",
                exit.id
            ));
        }
    }
    Ok(())
}
