//! `omo`: the one binary of an Omo store, a thin CLI over the crates.
//!
//! | module | commands |
//! | --- | --- |
//! | [`cli`] | the command line itself (clap) |
//! | [`up`] | `omo up`: a whole store on this machine (its guard, ports, demo shoppers and manual lanes inside) |
//! | [`app_wallets`] | the app's wallet file as the CLI keeps it; the cloud's refusals worded for a person |
//! | [`broker`] | `omo broker` and its bound flags, over the `omo-broker` crate (also used by `omo up`) |
//! | [`data_lock`] | one running process per data folder (`omo.lock`) |
//! | [`services`] | `omo cloud`, `omo edge` |
//! | [`tools`] | `omo catalog`, `omo barcode`, `omo scan`, `omo weigh`, `omo shopper` |
//! | [`funding`] | `omo shopper fund`, `omo shopper funding`: the funding authority's commands |
//! | [`lane_cli`] | `omo lane scan\|weigh\|bag\|pass\|status`: a person at a manual lane |
//! | [`shopper_app`] | `omo shopper confirm\|reject\|delivery` |
//! | [`sim_cli`] | `omo sim`: the seeded simulation of a store (`omo-sim`) |
//! | [`rider`] | `omo rider`: a delivery rider's client |
//! | [`trace_cli`] | `omo trace`, `omo label`: product origins and their QR codes |
//! | [`own_codes`] | `omo barcode`'s reading of exit passes and app coupons |
//! | [`usage`] | the error a user fixes (exit status 64) |
//! | [`gate_watchdog`] | `omo gate-watchdog` (hidden): the relay watchdog `omo edge` starts |
//!
//! Exit status: 0 on success, 64 for a bad config or bad arguments, 1 for any other failure.

mod app_wallets;
mod broker;
mod cli;
mod data_lock;
mod funding;
mod gate_watchdog;
mod lane_cli;
mod own_codes;
mod rider;
mod services;
mod shopper_app;
mod sim_cli;
mod tools;
mod trace_cli;
mod up;
mod usage;

use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;

use crate::cli::{Cli, Command};
use crate::usage::UsageError;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => return usage_exit(&error),
    };
    init_logging(cli.verbose, &cli.command);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("omo: cannot start the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("omo: {error:#}");
            if error.downcast_ref::<UsageError>().is_some() {
                ExitCode::from(64)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

/// What a command line clap refuses exits with: 0 for `--help` and `--version` (printed to
/// stdout), 64 (EX_USAGE) for every usage error, never clap's own 2.
fn usage_exit(error: &clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    let _ = error.print();
    match error.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => ExitCode::SUCCESS,
        _ => ExitCode::from(64),
    }
}

async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Up(args) => up::run(args).await,
        Command::Cloud(args) => services::cloud(args).await,
        Command::Edge(args) => services::edge(args).await,
        Command::Broker(args) => broker::run_cli(args).await,
        Command::Catalog(args) => tools::catalog(args).await,
        Command::Barcode(args) => tools::barcode(args),
        Command::Scan(args) => tools::scan(args).await,
        Command::Weigh(args) => tools::weigh(args).await,
        Command::Shopper(args) => tools::shopper(args).await,
        Command::Lane(args) => lane_cli::run(args).await,
        Command::Rider(args) => rider::run(args).await,
        Command::Trace(args) => trace_cli::trace(args).await,
        Command::Label(args) => trace_cli::label(args).await,
        Command::Sim(args) => sim_cli::run(args).await,
        Command::GateWatchdog(args) => gate_watchdog::run(args).await,
    }
}

/// Logs go to stderr, coloured only on a terminal; `RUST_LOG` wins over `-v`. Commands whose stdout is data log only warnings.
fn init_logging(verbose: u8, command: &Command) {
    let quiet = matches!(
        command,
        Command::Barcode(_)
            | Command::Scan(_)
            | Command::Weigh(_)
            | Command::Shopper(_)
            | Command::Lane(_)
            | Command::Catalog(_)
            | Command::Trace(_)
            | Command::Label(_)
            | Command::GateWatchdog(_)
    );
    let default = match (verbose, quiet) {
        // The simulation's cloud would log every one of its payments.
        (0, _) if matches!(command, Command::Sim(_)) => "error",
        (0, true) => "warn",
        (0, false) => "info,sqlx=warn",
        (1, _) => "debug,sqlx=warn,h2=info,hyper=info,tower=info",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(colour_logs())
        .with_target(false)
        .compact()
        .init();
}

/// Colours only when both stdout and stderr are terminals and `NO_COLOR` is unset: logs piped
/// to a file, journald or `2>&1 | tee` are plain text.
fn colour_logs() -> bool {
    use std::io::IsTerminal;
    std::io::stdout().is_terminal()
        && std::io::stderr().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}
