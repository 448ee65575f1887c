//! `omo gate-watchdog`: the relay watchdog process `omo edge` starts for each gate
//! ([`omo_devices::gate::watchdog`]). It owns the relay output, takes `pulse <ms>` / `hold on` /
//! `hold off` on standard input, and drives the safe level when its input ends (the edge died)
//! or on SIGTERM/SIGINT. Not meant to be run by hand.

use std::io::Write;
use std::path::Path;

use omo_devices::gate::watchdog::{self, FilePin, GpioPin, RelayPin, WatchdogSpec};
use tokio::io::BufReader;

use crate::cli::GateWatchdogArgs;
use crate::usage::UsageError;

/// How `omo edge` starts a watchdog for a simulated relay in `dir`.
pub fn sim_spec(dir: &Path) -> anyhow::Result<WatchdogSpec> {
    Ok(WatchdogSpec {
        program: std::env::current_exe()?,
        args: vec!["gate-watchdog".into(), "--pin-dir".into(), dir.into()],
    })
}

/// How `omo edge` starts a watchdog for a GPIO relay.
pub fn gpio_spec(pin: u8, active_high: bool) -> anyhow::Result<WatchdogSpec> {
    let mut args = vec![
        "gate-watchdog".into(),
        "--gpio".into(),
        pin.to_string().into(),
    ];
    if !active_high {
        args.push("--active-low".into());
    }
    Ok(WatchdogSpec {
        program: std::env::current_exe()?,
        args,
    })
}

pub async fn run(args: GateWatchdogArgs) -> anyhow::Result<()> {
    let mut pin: Box<dyn RelayPin> = match (&args.pin_dir, args.gpio) {
        (Some(dir), None) => Box::new(FilePin::new(dir)?),
        (None, Some(bcm)) => Box::new(GpioPin::new(bcm, !args.active_low)?),
        _ => {
            return Err(
                UsageError("omo gate-watchdog needs --pin-dir DIR or --gpio PIN".into()).into(),
            );
        }
    };
    let stop = async {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(_) => return std::future::pending().await,
            };
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
    };
    let ready = || {
        let mut out = std::io::stdout();
        let _ = writeln!(out, "ready");
        let _ = out.flush();
    };
    watchdog::run(
        BufReader::new(tokio::io::stdin()),
        pin.as_mut(),
        ready,
        stop,
    )
    .await?;
    // The pin is at its safe level. Exit now: the runtime would otherwise wait for the blocked
    // read of standard input (after a signal) before returning.
    std::process::exit(0)
}
