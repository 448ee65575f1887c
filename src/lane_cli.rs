//! `omo lane scan|weigh|bag|pass|status LANE`: a person at a manual lane of a running `omo up`
//! (see [`crate::up::manual`]). Each prints the lane's reply as one JSON line; a refused action
//! (an unknown lane, a load beyond the scale, the gate still closed) exits 1.

use crate::cli::{LaneAction, LaneArgs};
use crate::up::manual::{Action, Request};

/// Runs one `omo lane` command.
pub async fn run(args: LaneArgs) -> anyhow::Result<()> {
    let (lane, action) = match args.action {
        LaneAction::Scan { lane, code } => (lane, Action::Scan { code }),
        LaneAction::Weigh { lane, grams } => (lane, Action::Weigh { grams }),
        LaneAction::Bag { lane } => (lane, Action::Bag),
        LaneAction::Pass { lane } => (lane, Action::Pass),
        LaneAction::Status { lane } => (lane, Action::Status),
    };
    let reply = crate::up::manual_socket::call(&args.data, &Request { lane, action }).await?;
    println!("{}", serde_json::to_string(&reply)?);
    if reply.ok {
        Ok(())
    } else {
        Err(anyhow::anyhow!("lane {}: {}", reply.lane, reply.message))
    }
}
