//! Tests against real devices, skipped by default. Run with
//! `OMO_TEST_SCANNER_PORT=/dev/ttyACM0 OMO_TEST_SCALE_PORT=/dev/ttyUSB0 OMO_TEST_SCALE_PROTOCOL=toledo8217
//! cargo test -p omo-devices --test real_hardware -- --ignored --nocapture`.

use std::time::Duration;

use omo_devices::scale::{ScaleConfig, ScaleProtocol, read_stable};
use omo_devices::scanner::{ScannerConfig, open_scanner};

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

#[tokio::test]
#[ignore = "needs a scanner on OMO_TEST_SCANNER_PORT; scan one code within 30 s"]
async fn a_real_scanner_delivers_one_scan() {
    let Some(port) = env("OMO_TEST_SCANNER_PORT") else {
        eprintln!("OMO_TEST_SCANNER_PORT not set; skipping");
        return;
    };
    let mut reader = open_scanner(&ScannerConfig::new(port)).expect("open scanner");
    let frame = tokio::time::timeout(Duration::from_secs(30), reader.next_frame())
        .await
        .expect("a scan within 30 s")
        .expect("port works");
    eprintln!("scanned: {frame:?}");
}

#[tokio::test]
#[ignore = "needs a scale on OMO_TEST_SCALE_PORT with a stable load"]
async fn a_real_scale_gives_a_stable_weight() {
    let Some(port) = env("OMO_TEST_SCALE_PORT") else {
        eprintln!("OMO_TEST_SCALE_PORT not set; skipping");
        return;
    };
    let protocol: ScaleProtocol = env("OMO_TEST_SCALE_PROTOCOL")
        .unwrap_or_else(|| "toledo8217".into())
        .parse()
        .expect("protocol");
    let grams = read_stable(&ScaleConfig::new(port, protocol), Duration::from_secs(10))
        .await
        .expect("stable weight");
    eprintln!("weight: {grams} g");
}
