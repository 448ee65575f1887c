//! The `omo` command line, as CONTRACT.md fixes it (and a few documented extensions). Every
//! command's arguments live here, in [`sim`], [`store`], [`tools`] and [`trace`]; the command
//! modules import them, and this module imports none of them.

mod sim;
mod store;
mod tools;
mod trace;

use clap::{Parser, Subcommand};

pub use sim::SimArgs;
pub use store::{BrokerArgs, CloudArgs, EdgeAction, EdgeArgs, GateWatchdogArgs, LimitArgs, UpArgs};
pub use tools::{
    BarcodeArgs, CatalogAction, CatalogArgs, LaneAction, LaneArgs, RiderArgs, ScanArgs,
    ShopperAction, ShopperArgs, WeighArgs,
};
pub use trace::{ImportArgs, LabelArgs, TraceArgs, TraceCommand, TransformArgs};

/// Omo: unmanned-checkout supermarkets, from scanner to gate.
#[derive(Debug, Parser)]
#[command(name = "omo", version, about)]
pub struct Cli {
    /// More logging (-v debug, -vv trace); RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a whole store on this machine: broker, cloud, edge, simulated devices and shoppers.
    Up(UpArgs),
    /// Run the cloud alone.
    Cloud(CloudArgs),
    /// Run one store's edge alone (or validate its config, or print a default one).
    Edge(EdgeArgs),
    /// Run the embedded MQTT broker alone.
    Broker(BrokerArgs),
    /// Manage the cloud's product catalog.
    Catalog(CatalogArgs),
    /// Parse one scan and print it as JSON.
    Barcode(BarcodeArgs),
    /// Read a serial barcode scanner and print each scan as one JSON line.
    Scan(ScanArgs),
    /// Read one stable weight from a serial scale and print it as JSON.
    Weigh(WeighArgs),
    /// What the shopper's phone app does: enroll a wallet, show its payment code.
    Shopper(ShopperArgs),
    /// Be the shopper at a manual lane of `omo up --manual-lanes N`: scan, weigh, bag, pass.
    Lane(LaneArgs),
    /// A rider's client: receive dispatch orders, accept, report progress.
    Rider(RiderArgs),
    /// Look up a product's origin from its QR code (GS1 Digital Link), or record a lot's life at the edge.
    Trace(TraceArgs),
    /// Make the QR code (PNG or SVG) of a lot's GS1 Digital Link.
    Label(LabelArgs),
    /// Run a seeded, deterministic simulation of a store and its cloud under faults; exits 1
    /// if an invariant breaks (docs/SIMULATION.md).
    Sim(SimArgs),
    /// Internal: the relay watchdog `omo edge` starts for each gate (docs/GATE-SAFETY.md).
    #[command(hide = true)]
    GateWatchdog(GateWatchdogArgs),
}
