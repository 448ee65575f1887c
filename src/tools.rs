//! The small commands: `omo catalog import`, `omo barcode`, `omo scan`, `omo weigh`, `omo shopper`.
//! Each prints JSON on stdout (one document, or one line per event) and errors on stderr.
//!
//! | module | holds |
//! | --- | --- |
//! | [`catalog_import`] | `omo catalog import` and the catalog uploads of `omo up` |
//! | [`shopper`] | `omo shopper ...`: the app's commands over [`omo_app_client`] |
//!
//! `omo barcode`, `omo scan` and `omo weigh` are here.

use std::time::Duration;

use anyhow::Context as _;
use serde_json::json;

use crate::cli::{BarcodeArgs, ScanArgs, WeighArgs};
use crate::usage::UsageError;

pub mod catalog_import;
pub mod shopper;

pub use crate::app_wallets::{AppWallet, current_code, enroll, save_wallet};
pub use catalog_import::{catalog, upsert_catalog, upsert_offers};
pub use shopper::shopper;

/// `omo barcode DATA`.
pub fn barcode(args: BarcodeArgs) -> anyhow::Result<()> {
    let data = args.data.replace("<GS>", "\u{1d}");
    if let Some(own) = crate::own_codes::parse(&data) {
        println!("{}", serde_json::to_string_pretty(&own?)?);
        return Ok(());
    }
    let formats = omo_devices::barcode::VariableMeasureFormats::default();
    match omo_devices::barcode::parse(&data, &formats) {
        Ok(parsed) => {
            println!("{}", serde_json::to_string_pretty(&parsed)?);
            Ok(())
        }
        Err(error) => {
            println!(
                "{}",
                json!({ "error": error.to_string(), "data": args.data })
            );
            Err(UsageError(format!("not a valid code: {error}")).into())
        }
    }
}

/// `omo scan --port PATH`: one JSON line per scan until Ctrl-C.
pub async fn scan(args: ScanArgs) -> anyhow::Result<()> {
    let mut config = omo_devices::scanner::ScannerConfig::new(args.port);
    config.baud = args.baud;
    let formats = omo_devices::barcode::VariableMeasureFormats::default();
    let mut reader = omo_devices::scanner::open_scanner(&config)?;
    loop {
        let frame = tokio::select! {
            _ = tokio::signal::ctrl_c() => return Ok(()),
            frame = reader.next_frame() => frame?,
        };
        let line = match frame {
            Ok(frame) => match omo_devices::barcode::parse(&frame.raw, &formats) {
                Ok(parsed) => json!({ "raw": frame.raw, "at": frame.at, "parsed": parsed }),
                Err(error) => {
                    json!({ "raw": frame.raw, "at": frame.at, "error": error.to_string() })
                }
            },
            Err(error) => json!({ "error": error.to_string() }),
        };
        println!("{line}");
    }
}

/// `omo weigh --port PATH --protocol P`.
pub async fn weigh(args: WeighArgs) -> anyhow::Result<()> {
    let protocol: omo_devices::scale::ScaleProtocol = serde_json::from_value(json!(args.protocol))
        .map_err(|_| {
            UsageError(format!(
                "--protocol {:?}: expected toledo8217 or mt-sics",
                args.protocol
            ))
        })?;
    let mut config = omo_devices::scale::ScaleConfig::new(args.port.clone(), protocol);
    config.baud = args.baud;
    let grams = omo_devices::scale::read_stable(&config, Duration::from_secs(args.timeout_secs))
        .await
        .with_context(|| format!("no stable weight from {}", args.port))?;
    println!(
        "{}",
        json!({ "port": args.port, "protocol": args.protocol, "stable": true, "grams": grams })
    );
    Ok(())
}
