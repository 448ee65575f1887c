//! `omo lane scan|weigh|bag|pass|status LANE`: a person at a manual lane of a running `omo up`
//! (see [`crate::manual`]). Each prints the lane's reply as one JSON line; a refused action
//! (an unknown lane, a load beyond the scale, the gate still closed) exits 1.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use crate::manual::{Action, Request};

#[derive(Debug, Args)]
pub struct LaneArgs {
    #[command(subcommand)]
    pub action: LaneAction,
    /// The data folder of the running `omo up` (its socket is `{data}/manual-lanes.sock`).
    #[arg(long, global = true, default_value = "./omo-data")]
    pub data: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum LaneAction {
    /// Scan a code on the lane's scanner: a product, a weight label, a coupon or a payment
    /// code (`omo shopper code WALLET`).
    Scan { lane: String, code: String },
    /// Set the load on the lane's bagging scale, in grams.
    Weigh { lane: String, grams: i64 },
    /// Put what was scanned and not yet bagged on the bagging scale.
    Bag { lane: String },
    /// Walk through the lane's open gate, taking the bags.
    Pass { lane: String },
    /// Show the lane's devices (scale load, what is not yet bagged, the gate).
    Status { lane: String },
}

/// Runs one `omo lane` command.
pub async fn run(args: LaneArgs) -> anyhow::Result<()> {
    let (lane, action) = match args.action {
        LaneAction::Scan { lane, code } => (lane, Action::Scan { code }),
        LaneAction::Weigh { lane, grams } => (lane, Action::Weigh { grams }),
        LaneAction::Bag { lane } => (lane, Action::Bag),
        LaneAction::Pass { lane } => (lane, Action::Pass),
        LaneAction::Status { lane } => (lane, Action::Status),
    };
    let reply = crate::manual_socket::call(&args.data, &Request { lane, action }).await?;
    println!("{}", serde_json::to_string(&reply)?);
    if reply.ok {
        Ok(())
    } else {
        Err(anyhow::anyhow!("lane {}: {}", reply.lane, reply.message))
    }
}
